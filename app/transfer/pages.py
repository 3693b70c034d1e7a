"""The administrators' transfer page (导入导出): import templates, XLSX uploads with their row report, and the
exports. Uploads go through the same service as ``POST /api/v1/admin/imports/{kind}`` under the same size cap."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.db import SessionDep
from app.errors import DomainError
from app.transfer import service as transfer_service
from app.transfer.router import import_gate, import_limits, read_bounded_upload
from app.transfer.schemas import EXPORT_LAYOUTS, IMPORT_LAYOUTS, TEMPLATE_FILENAMES, ExportKind, ImportKind
from app.transfer.service import Upload
from app.transfer.xlsx import MAX_DATA_ROWS
from app.web.csrf import CsrfFailed, check_csrf
from app.web.deps import AdminPage
from app.web.templating import render

router = APIRouter(include_in_schema=False)

# what each import is called on the page, and what to do first
IMPORT_HINTS = {
    ImportKind.ENTERPRISES: "先导入企业：工作室通过企业的统一社会信用代码关联企业。",
    ImportKind.STUDIOS: "企业须已在平台登记（可先导入企业名单）。",
    ImportKind.EXPERTS: "每行一位科技镇长团成员；同名专家不会合并，请勿重复导入同一份名单。",
}


def _context(**extra: Any) -> dict[str, Any]:
    imports = [
        {
            "kind": kind,
            "title": IMPORT_LAYOUTS[kind].sheet_title,
            "template": TEMPLATE_FILENAMES[kind],
            "hint": IMPORT_HINTS[kind],
        }
        for kind in (ImportKind.ENTERPRISES, ImportKind.STUDIOS, ImportKind.EXPERTS)
    ]
    exports = [{"kind": kind, "title": EXPORT_LAYOUTS[kind].sheet_title} for kind in ExportKind]
    return {
        "imports": imports,
        "exports": exports,
        "failed_kind": None,
        "problem": None,
        "rows": [],
        "notes": [],
    } | extra


@router.get("/admin/transfer")
async def transfer_page(
    request: Request,
    actor: AdminPage,
    kind: ImportKind | None = None,
    created: Annotated[int | None, Query(ge=0, le=MAX_DATA_ROWS)] = None,
    skipped: bool = False,
) -> Response:
    """Templates, upload forms and exports; after an import, how many records it created."""
    result = None
    if kind is not None and created is not None:
        result = {"title": IMPORT_LAYOUTS[kind].sheet_title, "created": created, "skipped": skipped}
    return render(request, "transfer/index.html", _context(result=result))


@router.post("/admin/transfer/imports/{kind}")
async def upload_sheet(request: Request, kind: ImportKind, session: SessionDep, actor: AdminPage) -> Response:
    """Import an uploaded sheet (all rows or none); a refused file shows its row report on the page."""
    try:
        upload = await read_page_upload(request)
        result = await transfer_service.import_sheet(
            session, actor, kind, upload, limits=import_limits(request), gate=import_gate(request)
        )
    except CsrfFailed:
        raise
    except DomainError as problem:
        await session.rollback()
        rows = [p for p in problem.errors or [] if "row" in p]
        # a problem about the form itself (no file chosen) says so in words for people, not for the API
        notes = [p["message"] for p in problem.errors or [] if "row" not in p and p.get("message")]
        context = _context(failed_kind=kind, problem=problem, rows=rows, notes=notes)
        return render(request, "transfer/index.html", context, status_code=problem.status)
    skipped = "&skipped=true" if result.example_row_skipped else ""
    return RedirectResponse(
        f"/admin/transfer?flash=imported&kind={kind.value}&created={result.created}{skipped}", status_code=303
    )


async def read_page_upload(request: Request) -> Upload:
    """The ``file`` part of an upload form, within the API's bounds, after checking the form's CSRF field.

    Raises:
        CsrfFailed: the form carries no valid CSRF token.
        UploadTooLarge / UploadMalformed / UploadMissing: as the API.
    """
    return await read_bounded_upload(request, check_form=check_csrf, empty_part_is_missing=True)
