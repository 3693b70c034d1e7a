"""Parameter types and responses shared by the routers."""

from __future__ import annotations

from typing import Annotated, Protocol
from urllib.parse import quote

from fastapi import Path, Query, Response

from app.schemas import MAX_INT, NO_NUL_PATTERN

IdPath = Annotated[int, Path(ge=1, le=MAX_INT, description="记录编号")]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_INT)]
TextQuery = Annotated[str | None, Query(min_length=1, max_length=100, pattern=NO_NUL_PATTERN)]


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DownloadFile(Protocol):
    """A generated file: its bytes, its (Chinese) name and an ASCII fallback name."""

    @property
    def content(self) -> bytes: ...

    @property
    def filename(self) -> str: ...

    @property
    def ascii_filename(self) -> str: ...


def xlsx_download(file: DownloadFile) -> Response:
    """An XLSX workbook as an attachment (RFC 6266 / 5987: an ASCII name for old clients, the Chinese
    one in UTF-8 for the rest), never cached."""
    disposition = f"attachment; filename=\"{file.ascii_filename}\"; filename*=UTF-8''{quote(file.filename)}"
    return Response(
        file.content,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )
