"""Parameter types shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from app.schemas import MAX_INT, NO_NUL_PATTERN

IdPath = Annotated[int, Path(ge=1, le=MAX_INT, description="记录编号")]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_INT)]
TextQuery = Annotated[str | None, Query(min_length=1, max_length=100, pattern=NO_NUL_PATTERN)]
