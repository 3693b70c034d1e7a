"""Parameter types and responses shared by the routers."""

from __future__ import annotations

from typing import Annotated, Any, Protocol
from urllib.parse import quote

from fastapi import Form, Path, Query, Response
from pydantic import BeforeValidator

from app.schemas import MAX_INT, Text

IdPath = Annotated[int, Path(ge=1, le=MAX_INT, description="记录编号")]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_INT)]
IdForm = Annotated[int, Form(ge=1, le=MAX_INT)]
# a search box: stripped, at most 100 characters, under the character rule of app.schemas
TextQuery = Annotated[Annotated[str, Text(100)] | None, Query()]


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


BlankIsNone = BeforeValidator(_blank_is_none)
"""On pages, a GET form's empty box (or its select's 全部) arrives as ``""``: it means "any", not a bad value."""

# the pages' search boxes: the API's rule, with an empty box meaning "any"
PageTextQuery = Annotated[str, Text(100, min_length=0), Query()]
PageTermQuery = Annotated[str, Text(50, min_length=0), Query()]


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
