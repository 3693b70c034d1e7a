"""API of the administrators' XLSX transfer: ``/api/v1/admin/imports`` and ``/api/v1/admin/exports``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive

from app.accounts.deps import ActorDep
from app.config import ImportLimits, Settings
from app.db import SessionDep
from app.routing import XLSX_MEDIA_TYPE, xlsx_download
from app.transfer import service as transfer_service
from app.transfer.errors import UploadMalformed, UploadMissing, UploadTooLarge
from app.transfer.schemas import ExportKind, ImportKind, ImportResult
from app.transfer.service import ImportGate, Upload

router = APIRouter(prefix="/admin", tags=["批量导入导出（管理员）"])

UPLOAD_FIELD = "file"
# what a multipart body may add around the file: boundaries, part headers, a long Chinese file name
MULTIPART_ALLOWANCE = 64 * 1024


async def read_upload(request: Request, actor: ActorDep) -> Upload:
    """Read the ``file`` part of a multipart upload, refusing more than ``Settings.max_upload_bytes``.

    Only an administrator's upload is read at all.
    """
    transfer_service.require_admin(actor)
    return await read_bounded_upload(request)


async def read_bounded_upload(
    request: Request,
    *,
    check_form: Callable[[Request], Awaitable[None]] | None = None,
    empty_part_is_missing: bool = False,
) -> Upload:
    """The ``file`` part of a multipart body, never more than ``Settings.max_upload_bytes``.

    A declared ``Content-Length`` over the limit is refused before any of the body is read; otherwise
    the body is counted as it streams in and reading stops as soon as it passes the limit, so neither
    memory nor the spool file ever holds more than the limit and the multipart envelope.

    Args:
        request: the upload request.
        check_form: run on the parsed form before the file is read (a page checks its CSRF field;
            the body is parsed once).
        empty_part_is_missing: a part with no name and no bytes counts as no file (what a browser
            sends when none was chosen).

    Raises:
        UploadTooLarge / UploadMalformed / UploadMissing.
    """
    settings: Settings = request.app.state.settings
    limit = settings.max_upload_bytes
    body_limit = limit + MULTIPART_ALLOWANCE
    declared = request.headers.get("content-length", "")
    # isascii too: str.isdigit() accepts "²" (a Latin-1 header byte), which int() refuses
    if declared.isascii() and declared.isdigit() and int(declared) > body_limit:
        raise UploadTooLarge(limit)
    bounded = Request(request.scope, receive=_bounded(request.receive, body_limit, limit))
    try:
        form = await bounded.form(max_files=1, max_fields=10, max_part_size=MULTIPART_ALLOWANCE)
    except StarletteHTTPException:  # Starlette's answer to a malformed multipart body
        raise UploadMalformed() from None
    try:
        if check_form is not None:
            await check_form(bounded)
        part = form.get(UPLOAD_FIELD)
        if not isinstance(part, UploadFile) or (
            empty_part_is_missing and not part.filename and not part.size
        ):
            raise UploadMissing()
        if part.size is not None and part.size > limit:
            raise UploadTooLarge(limit)
        content = await part.read(limit + 1)
        filename = part.filename
    finally:
        await form.close()
    if len(content) > limit:
        raise UploadTooLarge(limit)
    return Upload(filename=filename, content=content)


def _bounded(receive: Receive, body_limit: int, limit: int) -> Receive:
    received = 0

    async def bounded_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > body_limit:
                raise UploadTooLarge(limit)
        return message

    return bounded_receive


UploadDep = Annotated[Upload, Depends(read_upload)]

_XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "XLSX 工作簿",
        "content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}
_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [UPLOAD_FIELD],
                    "properties": {
                        UPLOAD_FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "按导入模板填写的 .xlsx 文件",
                        }
                    },
                }
            }
        },
    }
}


@router.get(
    "/imports/{kind}/template",
    response_class=Response,
    responses=_XLSX_RESPONSE,
    summary="下载导入模板（管理员）",
)
async def download_template(kind: ImportKind, actor: ActorDep) -> Response:
    """The XLSX template of an import: Chinese headers, an example row and a sheet explaining each column."""
    return xlsx_download(transfer_service.import_template(actor, kind))


@router.post(
    "/imports/{kind}",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportResult,
    summary="从 XLSX 批量导入（管理员）",
    openapi_extra=_UPLOAD_BODY,
)
async def import_sheet(
    request: Request, kind: ImportKind, session: SessionDep, actor: ActorDep, upload: UploadDep
) -> ImportResult:
    """Import experts (科技镇长团名单), studios or enterprises from a filled-in template: all rows or none."""
    return await transfer_service.import_sheet(
        session, actor, kind, upload, limits=import_limits(request), gate=import_gate(request)
    )


def import_limits(request: Request) -> ImportLimits:
    """The import limits of this app's settings."""
    settings: Settings = request.app.state.settings
    return settings.imports


def import_gate(request: Request) -> ImportGate:
    """The process's one import gate (made on first use: nothing awaits between the check and the set)."""
    gate: ImportGate | None = getattr(request.app.state, "import_gate", None)
    if gate is None:
        gate = request.app.state.import_gate = ImportGate(import_limits(request).busy_wait_seconds)
    return gate


@router.get(
    "/exports/{kind}.xlsx",
    response_class=Response,
    responses=_XLSX_RESPONSE,
    summary="导出 XLSX（管理员）",
)
async def export_sheet(kind: ExportKind, session: SessionDep, actor: ActorDep) -> Response:
    """Orders, agreements, consultations, trainings or outcomes as an XLSX workbook with Chinese headers."""
    return xlsx_download(await transfer_service.export_sheet(session, actor, kind))
