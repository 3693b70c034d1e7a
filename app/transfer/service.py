"""Use cases of the administrators' XLSX transfer: templates, all-or-nothing imports, exports.

An import reads the whole sheet, checks every row against the schema and the file's own rules
(duplicate codes, unknown enterprises), then writes the rows through the domains' own services
(``register_expert``, ``register_studio``, ``register_enterprise``), so the rules those services apply
(credit-code check digit, codes already registered, star-rating consistency, term order, permissions,
audit trail) apply to imported rows exactly as to the API. The writes run in a savepoint of the
request's transaction; each service's ``commit()`` only releases a savepoint of its own. Any bad row
rolls the outer savepoint back, so a file is imported completely or not at all, and the error report
lists every bad row, not just the first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.security import Actor
from app.agreements.models import Agreement
from app.config import ImportLimits
from app.enterprises import service as enterprise_service
from app.enterprises import uscc
from app.enterprises.schemas import EnterpriseCreate
from app.errors import DomainError, Forbidden, validation_problems
from app.experts import service as expert_service
from app.experts.schemas import ExpertCreate
from app.labels import label
from app.orders.models import Order
from app.studios import service as studio_service
from app.studios.schemas import StudioCreate
from app.transfer import xlsx
from app.transfer.errors import ImportBusy, RowsInvalid
from app.transfer.repository import TransferRepository
from app.transfer.schemas import (
    EXPORT_LAYOUTS,
    IMPORT_LAYOUTS,
    TEMPLATE_FILENAMES,
    ExportKind,
    ImportKind,
    ImportResult,
)

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Upload:
    """An uploaded file, already read (its size is bounded by ``Settings.max_upload_bytes``)."""

    filename: str | None
    content: bytes


@dataclass(frozen=True, slots=True)
class XlsxFile:
    """A workbook to download: its Chinese file name, an ASCII fallback name and its bytes."""

    filename: str
    ascii_filename: str
    content: bytes


def require_admin(actor: Actor) -> None:
    """Imports, exports and templates are for administrators (市总工会 / 人才办) only.

    Raises:
        Forbidden: the caller is not an administrator.
    """
    if not actor.is_admin:
        raise Forbidden("只有管理员可以批量导入或导出数据。")


def import_template(actor: Actor, kind: ImportKind) -> XlsxFile:
    """The XLSX template of an import: Chinese headers, an example row and a sheet of notes.

    Raises:
        Forbidden: the caller is not an administrator.
    """
    require_admin(actor)
    content = xlsx.build_template(IMPORT_LAYOUTS[kind])
    return XlsxFile(TEMPLATE_FILENAMES[kind], f"{kind.value}-template.xlsx", content)


class ImportGate:
    """One import at a time in this process: parsing a workbook and writing thousands of rows is heavy,
    and several at once would tie up the worker (its threads, its memory, its database connections).

    A second import waits up to ``wait_seconds`` for the running one, then is refused with 429
    ``import_busy`` and ``Retry-After``. Every worker process has its own gate.

    Args:
        wait_seconds: how long a second import waits before it is refused.
    """

    def __init__(self, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold the gate for one import.

        Raises:
            ImportBusy: another import still held it after ``wait_seconds``.
        """
        if not self._lock.locked():
            await self._lock.acquire()  # free: taken at once, without suspending
        else:
            try:
                await asyncio.wait_for(self._lock.acquire(), timeout=self.wait_seconds)
            except TimeoutError:
                raise ImportBusy() from None
        try:
            yield
        finally:
            self._lock.release()


async def import_sheet(
    session: AsyncSession,
    actor: Actor,
    kind: ImportKind,
    upload: Upload,
    *,
    limits: ImportLimits | None = None,
    gate: ImportGate | None = None,
) -> ImportResult:
    """Import every row of an uploaded sheet, or none; one import at a time through ``gate``.

    Args:
        session: the request session; the import commits it once, at the end.
        actor: an administrator.
        kind: what the sheet holds.
        upload: the uploaded file.
        limits: what the workbook may hold (checked before it is parsed); the defaults when omitted.
        gate: the process's import gate (none: no queueing, as in scripts and tests of the rows).

    Raises:
        Forbidden: the caller is not an administrator.
        ImportBusy: another import is running in this process.
        ImportLimitExceeded: the workbook holds more than a limit allows.
        FileNotXlsx / FileUnreadable / HeadersInvalid / SheetEmpty / TooManyRows: the file as a whole.
        RowsInvalid: rows that break the schema or a rule, each with row number, column and reason.
    """
    require_admin(actor)
    if gate is None:
        return await _import(session, actor, kind, upload, limits or ImportLimits())
    async with gate.turn():
        return await _import(session, actor, kind, upload, limits or ImportLimits())


async def _import(
    session: AsyncSession, actor: Actor, kind: ImportKind, upload: Upload, limits: ImportLimits
) -> ImportResult:
    layout = IMPORT_LAYOUTS[kind]
    # CPU work off the event loop: the other requests of this worker keep being served meanwhile
    sheet = await asyncio.to_thread(xlsx.read_sheet, upload.filename, upload.content, layout, limits)
    report = _Report(sheet, {c.field: c.header for c in layout.columns})
    importer = _IMPORTERS[kind]
    rows = await importer.prepare(session, sheet, report)
    ids: list[int] = []
    async with session.begin_nested():
        connection = await session.connection()
        # the services commit; joined with create_savepoint, each commit releases a savepoint inside ours.
        # The session info (the matcher index hook) carries over, so imported experts reach the matcher.
        async with AsyncSession(
            bind=connection,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
            info=dict(session.info),
        ) as writer:
            for number, data in rows:
                try:
                    ids.append(await importer.write(writer, actor, data))
                except DomainError as exc:
                    await writer.rollback()
                    report.add_domain_error(number, exc)
                except (IntegrityError, DataError):
                    await writer.rollback()
                    report.add(number, "", "与数据库中已有的数据冲突，无法保存，请核对本行")
        if report.problems:
            log.info("transfer.import_rejected kind=%s problems=%s", kind.value, len(report.problems))
            raise RowsInvalid(report.sorted())  # leaving the block rolls back every row written
    await session.commit()
    log.info("transfer.imported kind=%s records=%s", kind.value, len(ids))
    return ImportResult(kind=kind, created=len(ids), ids=ids, example_row_skipped=sheet.example_skipped)


async def export_sheet(session: AsyncSession, actor: Actor, kind: ExportKind) -> XlsxFile:
    """Every record of ``kind`` as an XLSX workbook with Chinese headers and labels.

    Raises:
        Forbidden: the caller is not an administrator.
    """
    require_admin(actor)
    layout = EXPORT_LAYOUTS[kind]
    rows = await _EXPORT_ROWS[kind](TransferRepository(session))
    content = await asyncio.to_thread(xlsx.build_export, layout.sheet_title, layout.columns, rows)
    log.info("transfer.exported kind=%s rows=%s", kind.value, len(rows))
    return XlsxFile(layout.filename, f"{kind.value}.xlsx", content)


# --- the error report --------------------------------------------------------------------------------


# schema fields filled from another column: a studio's enterprise comes from its credit code
_RENAMED = {"enterprise_id": "enterprise_credit_code"}
# fields whose validator explains itself in English: the sheet says it in Chinese instead
_FIELD_MESSAGES = {"email": "电子邮箱格式不正确，应类似 liming@example.edu.cn"}


class _Report:
    """Problems found in an upload, each tied to a row, a column and a cell of the sheet."""

    def __init__(self, sheet: xlsx.ParsedSheet, headers: dict[str, str]) -> None:
        self.sheet = sheet
        self.headers = headers
        self.order = {name: i for i, name in enumerate(headers)}
        self.problems: list[dict[str, str]] = []

    def add(self, row: int, field: str, message: str) -> None:
        name = field.split(".")[0]
        name = _RENAMED.get(name, name)
        letter = self.sheet.letters.get(name)
        self.problems.append(
            {
                "row": str(row),
                "column": self.headers.get(name, ""),
                "cell": f"{letter}{row}" if letter else "",
                "field": name,
                "message": message,
            }
        )

    def add_validation_error(self, row: int, exc: ValidationError, *, skip: set[str]) -> None:
        for problem in validation_problems(exc.errors()):
            name = problem["field"].split(".")[0]
            if _RENAMED.get(name, name) not in skip:
                self.add(row, problem["field"], _FIELD_MESSAGES.get(name) or _chinese(problem["message"]))

    def add_domain_error(self, row: int, exc: DomainError) -> None:
        if exc.errors:
            for problem in exc.errors:
                self.add(row, problem.get("field", ""), problem.get("message") or exc.detail)
        else:
            self.add(row, "", exc.detail.rstrip("。"))

    def sorted(self) -> list[dict[str, str]]:
        return sorted(
            self.problems, key=lambda p: (int(p["row"]), self.order.get(p["field"], len(self.order)))
        )


def _chinese(message: str) -> str:
    # pydantic's own words (an e-mail validator's reason, say) are English: say it plainly instead
    return message if any("\u4e00" <= c <= "\u9fff" for c in message) else "格式不正确"


def _validated(report: _Report, row: xlsx.SheetRow, schema: type[M], values: dict[str, Any]) -> M | None:
    # cells that could not be read are reported once, not again as "missing" by the schema
    unreadable = {p.field for p in row.problems}
    for problem in row.problems:
        report.add(row.number, problem.field, problem.message)
    try:
        data = schema.model_validate(values)
    except ValidationError as exc:
        report.add_validation_error(row.number, exc, skip=unreadable)
        return None
    return None if unreadable else data


# --- one importer per kind ---------------------------------------------------------------------------

Prepared = list[tuple[int, Any]]


@dataclass(frozen=True, slots=True)
class _Importer:
    """How one kind is checked as a whole file (``prepare``) and written row by row (``write``)."""

    prepare: Callable[[AsyncSession, xlsx.ParsedSheet, _Report], Awaitable[Prepared]]
    write: Callable[[AsyncSession, Actor, Any], Awaitable[int]]


async def _prepare_experts(session: AsyncSession, sheet: xlsx.ParsedSheet, report: _Report) -> Prepared:
    prepared: Prepared = []
    for row in sheet.rows:
        data = _validated(report, row, ExpertCreate, row.values)
        if data is not None:
            prepared.append((row.number, data))
    return prepared


async def _write_expert(session: AsyncSession, actor: Actor, data: ExpertCreate) -> int:
    return (await expert_service.register_expert(session, actor, data)).id


async def _prepare_enterprises(session: AsyncSession, sheet: xlsx.ParsedSheet, report: _Report) -> Prepared:
    prepared: Prepared = []
    first_row_of: dict[str, int] = {}
    for row in sheet.rows:
        data = _validated(report, row, EnterpriseCreate, row.values)
        raw_code = row.values.get("credit_code")
        if isinstance(raw_code, str):
            code = uscc.normalise(raw_code)
            if code in first_row_of:
                report.add(row.number, "credit_code", f"与第 {first_row_of[code]} 行的统一社会信用代码重复")
                continue
            first_row_of[code] = row.number
        if data is not None:
            prepared.append((row.number, data))
    # the check character and codes registered already are register_enterprise's own rules: it applies them
    return prepared


async def _write_enterprise(session: AsyncSession, actor: Actor, data: EnterpriseCreate) -> int:
    return (await enterprise_service.register_enterprise(session, actor, data)).id


async def _prepare_studios(session: AsyncSession, sheet: xlsx.ParsedSheet, report: _Report) -> Prepared:
    checked: list[tuple[int, str, StudioCreate]] = []
    for row in sheet.rows:
        values = {k: v for k, v in row.values.items() if k != "enterprise_credit_code"}
        data = _validated(report, row, StudioCreate, values)
        if any(p.field == "enterprise_credit_code" for p in row.problems):
            continue
        if "enterprise_credit_code" not in row.values:
            report.add(row.number, "enterprise_credit_code", "必填项，不能为空")
            continue
        code = uscc.normalise(row.values["enterprise_credit_code"])
        reason = uscc.problem(code)
        if reason:
            report.add(row.number, "enterprise_credit_code", f"统一社会信用代码无效：{reason}")
        elif data is not None:
            checked.append((row.number, code, data))
    known = await TransferRepository(session).enterprise_ids_by_credit_code({code for _, code, _ in checked})
    prepared: Prepared = []
    for number, code, data in checked:
        if code not in known:
            report.add(
                number,
                "enterprise_credit_code",
                f"平台上没有统一社会信用代码为“{code}”的企业，请先登记或导入该企业",
            )
            continue
        prepared.append((number, data.model_copy(update={"enterprise_id": known[code]})))
    return prepared


async def _write_studio(session: AsyncSession, actor: Actor, data: StudioCreate) -> int:
    return (await studio_service.register_studio(session, actor, data)).id


_IMPORTERS: dict[ImportKind, _Importer] = {
    ImportKind.EXPERTS: _Importer(_prepare_experts, _write_expert),
    ImportKind.ENTERPRISES: _Importer(_prepare_enterprises, _write_enterprise),
    ImportKind.STUDIOS: _Importer(_prepare_studios, _write_studio),
}


# --- export rows -------------------------------------------------------------------------------------

Row = Sequence[Any]


def _terms(values: Sequence[str]) -> str:
    return "、".join(values)


async def _order_rows(repository: TransferRepository) -> list[Row]:
    return [_order_row(order, studio, enterprise) for order, studio, enterprise in await repository.orders()]


def _order_row(order: Order, studio: str, enterprise: str) -> Row:
    return (
        order.id,
        order.title,
        label(order.need_kind),
        label(order.status),
        studio,
        enterprise,
        _terms(order.fields),
        order.budget_min,
        order.budget_max,
        order.deadline,
        order.province,
        order.city,
        order.district,
        order.town,
        order.slots,
        order.published_at,
        order.created_at,
        order.updated_at,
        order.description,
    )


async def _agreement_rows(repository: TransferRepository) -> list[Row]:
    return [_agreement_row(a, *parties) for a, *parties in await repository.agreements()]


def _agreement_row(a: Agreement, order_title: str, expert: str, studio: str, enterprise: str) -> Row:
    return (
        a.id,
        a.order_id,
        order_title,
        expert,
        studio,
        enterprise,
        label(a.status),
        a.goals,
        a.deliverables,
        a.duration_months,
        a.start_date,
        a.end_date,
        label(a.consultation_cadence),
        a.funding_amount,
        a.funding_source,
        a.enterprise_signed_at,
        a.expert_signed_at,
        a.delivered_at,
        a.enterprise_rating,
        a.enterprise_comment,
        a.expert_rating,
        a.expert_comment,
        a.terminated_at,
        a.termination_reason,
        a.created_at,
        a.updated_at,
    )


async def _consultation_rows(repository: TransferRepository) -> list[Row]:
    rows: list[Row] = []
    for c, *parties in await repository.consultations():
        rows.append(
            (
                c.id,
                c.agreement_id,
                *parties,
                label(c.kind),
                c.held_on,
                c.participants,
                c.minutes,
                c.created_at,
            )
        )
    return rows


async def _training_rows(repository: TransferRepository) -> list[Row]:
    rows: list[Row] = []
    for t, *parties in await repository.trainings():
        rows.append(
            (
                t.id,
                t.agreement_id,
                *parties,
                label(t.kind),
                t.held_on,
                t.trainee_count,
                t.hours,
                t.note,
                t.created_at,
            )
        )
    return rows


async def _outcome_rows(repository: TransferRepository) -> list[Row]:
    rows: list[Row] = []
    for o, *parties in await repository.outcomes():
        rows.append(
            (
                o.id,
                o.agreement_id,
                *parties,
                label(o.kind),
                o.title,
                o.value_yuan,
                o.patent_number,
                "是" if o.converted else "否",
                o.achieved_on,
                o.created_at,
            )
        )
    return rows


_EXPORT_ROWS: dict[ExportKind, Callable[[TransferRepository], Awaitable[list[Row]]]] = {
    ExportKind.ORDERS: _order_rows,
    ExportKind.AGREEMENTS: _agreement_rows,
    ExportKind.CONSULTATIONS: _consultation_rows,
    ExportKind.TRAININGS: _training_rows,
    ExportKind.OUTCOMES: _outcome_rows,
}
