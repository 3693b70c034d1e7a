"""Workbooks built to tie up a worker (one huge shared string, hundreds of thousands of shared strings or
cells, a DTD) are refused before openpyxl parses them, fast, with a 413 naming the limit; one import runs
at a time per process, a second one gets 429 with ``Retry-After``; normal imports still work."""

from __future__ import annotations

import asyncio
import io
import time
import zipfile
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from xml.sax.saxutils import escape

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.config import ImportLimits, Settings
from app.enterprises.models import Enterprise
from app.transfer import xlsx
from app.transfer.errors import ImportLimitExceeded
from app.transfer.schemas import IMPORT_LAYOUTS, ImportKind
from app.transfer.service import ImportGate
from tests.conftest import app_on_session
from tests.factories import valid_credit_code
from tests.problems import Auth, assert_problem, count
from tests.transfer.workbooks import ENTERPRISE_HEADERS, enterprise_row, sheet_bytes, upload

LAYOUT = IMPORT_LAYOUTS[ImportKind.ENTERPRISES]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SHARED_STRINGS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
# no limit at all: what parsing the file costs when nothing refuses it (the baseline of each test)
UNLIMITED = ImportLimits(
    max_unpacked_bytes=2**40,
    max_part_bytes=2**40,
    max_shared_strings=2**40,
    max_cells=2**40,
    max_string_chars=2**40,
)


def shared_string_workbook(
    rows: Sequence[Sequence[str]], extra_strings: Iterable[bytes] = (), *, doctype: bytes = b""
) -> bytes:
    """A real XLSX whose text cells point into ``xl/sharedStrings.xml``, as Excel writes them (openpyxl
    writes inline strings), with ``extra_strings`` (raw ``<si>`` elements) appended to the table."""
    base = zipfile.ZipFile(io.BytesIO(sheet_bytes(ENTERPRISE_HEADERS)))
    strings = [cell for row in rows for cell in row]
    cells, index = [], 0
    for r, row in enumerate(rows, start=1):
        row_cells = []
        for c in range(len(row)):
            row_cells.append(f'<c r="{chr(65 + c)}{r}" t="s"><v>{index}</v></c>')
            index += 1
        cells.append(f'<row r="{r}">{"".join(row_cells)}</row>')
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData>{"".join(cells)}</sheetData></worksheet>'.encode()
    table = b"".join(
        [
            doctype,
            f'<sst xmlns="{MAIN}">'.encode(),
            *(f"<si><t>{escape(s)}</t></si>".encode() for s in strings),
            *extra_strings,
            b"</sst>",
        ]
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in base.infolist():
            data = base.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = sheet
            elif info.filename == "[Content_Types].xml":
                override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SHARED_STRINGS_TYPE}"/>'
                data = data.replace(b"</Types>", override.encode() + b"</Types>")
            elif info.filename == "xl/_rels/workbook.xml.rels":
                rel = f'<Relationship Type="{SHARED_STRINGS_REL}" Target="sharedStrings.xml" Id="rId99"/>'
                data = data.replace(b"</Relationships>", rel.encode() + b"</Relationships>")
            out.writestr(info.filename, data)
        out.writestr("xl/sharedStrings.xml", table)
    return buffer.getvalue()


def timed(read: Callable[[], object]) -> tuple[float, object]:
    """How long ``read`` took, and what it returned or raised."""
    started = time.perf_counter()
    try:
        outcome: object = read()
    except Exception as exc:
        outcome = exc
    return time.perf_counter() - started, outcome


def a_row(name: str) -> list[str]:
    return [str(v) for v in enterprise_row(name, valid_credit_code())]


def test_a_shared_string_workbook_reads_like_any_other() -> None:
    content = shared_string_workbook([ENTERPRISE_HEADERS, a_row("扬州共享字符串有限公司")])
    sheet = xlsx.read_sheet("企业.xlsx", content, LAYOUT, ImportLimits())
    assert [row.values["name"] for row in sheet.rows] == ["扬州共享字符串有限公司"]


def test_one_huge_shared_string_is_refused_before_it_is_parsed() -> None:
    # 12 MB of text in one cell, against a part limit of 4 MB (the default is 16 MB: same shape, smaller file)
    content = shared_string_workbook([ENTERPRISE_HEADERS, a_row("扬州" + "厂" * 4_000_000)])
    limits = ImportLimits(max_part_bytes=4 * 1024 * 1024)
    assert len(content) < 200_000  # a small upload

    parse_seconds, parsed = timed(lambda: xlsx.read_sheet("企业.xlsx", content, LAYOUT, UNLIMITED))
    refuse_seconds, refused = timed(lambda: xlsx.read_sheet("企业.xlsx", content, LAYOUT, limits))

    assert isinstance(parsed, xlsx.ParsedSheet)  # without limits, openpyxl reads all of it
    assert isinstance(refused, ImportLimitExceeded), refused
    assert refused.extensions == {"limit": "imports.max_part_bytes", "limit_value": 4 * 1024 * 1024}
    assert refuse_seconds < parse_seconds / 10, (refuse_seconds, parse_seconds)


def test_one_long_string_under_the_part_limit_is_refused_by_its_length() -> None:
    content = shared_string_workbook([ENTERPRISE_HEADERS, a_row("扬州" + "厂" * 20_000)])
    with pytest.raises(ImportLimitExceeded) as refused:
        xlsx.read_sheet("企业.xlsx", content, LAYOUT, ImportLimits())
    assert refused.value.extensions == {"limit": "imports.max_string_chars", "limit_value": 10_000}


def test_a_flood_of_shared_strings_is_refused_early() -> None:
    # 40,000 distinct strings against a limit of 5,000 (the default is 100,000: same shape, faster test);
    # the count stops at the first string over the limit
    extra = (f"<si><t>{n}</t></si>".encode() for n in range(40_000))
    content = shared_string_workbook([ENTERPRISE_HEADERS, a_row("扬州多字符串有限公司")], extra)
    limits = ImportLimits(max_shared_strings=5_000)

    parse_seconds, parsed = timed(lambda: xlsx.read_sheet("企业.xlsx", content, LAYOUT, UNLIMITED))
    refuse_seconds, refused = timed(lambda: xlsx.read_sheet("企业.xlsx", content, LAYOUT, limits))

    assert isinstance(parsed, xlsx.ParsedSheet)
    assert isinstance(refused, ImportLimitExceeded), refused
    assert refused.extensions == {"limit": "imports.max_shared_strings", "limit_value": 5_000}
    assert refuse_seconds < parse_seconds / 5, (refuse_seconds, parse_seconds)


def test_too_many_cells_are_refused() -> None:
    content = shared_string_workbook([ENTERPRISE_HEADERS, *(a_row(f"扬州{n}有限公司") for n in range(30))])
    with pytest.raises(ImportLimitExceeded) as refused:
        xlsx.read_sheet("企业.xlsx", content, LAYOUT, ImportLimits(max_cells=100))
    assert refused.value.extensions == {"limit": "imports.max_cells", "limit_value": 100}


def test_a_document_type_declaration_is_refused() -> None:
    bomb = b'<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    content = shared_string_workbook([ENTERPRISE_HEADERS, a_row("扬州实体有限公司")], doctype=bomb)
    with pytest.raises(Exception) as refused:
        xlsx.read_sheet("企业.xlsx", content, LAYOUT, ImportLimits())
    assert getattr(refused.value, "code", None) == "import_file_unreadable"


@pytest.fixture
async def gated_client(
    settings: Settings, session: AsyncSession
) -> AsyncIterator[tuple[AsyncClient, ImportGate]]:
    """A client whose app lets a second import wait 0.2 s, and the app's gate."""
    limits = ImportLimits(max_part_bytes=1024 * 1024, busy_wait_seconds=0.2)
    app = app_on_session(settings.model_copy(update={"imports": limits}), session)
    app.state.import_gate = gate = ImportGate(limits.busy_wait_seconds)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield http, gate


async def test_the_refusal_is_a_413_problem_naming_the_limit(
    gated_client: tuple[AsyncClient, ImportGate], session: AsyncSession, auth: Auth, admin: User
) -> None:
    client, _ = gated_client
    content = shared_string_workbook([ENTERPRISE_HEADERS, a_row("扬州" + "厂" * 1_000_000)])
    before = await count(session, Enterprise)

    body = assert_problem(
        await upload(client, auth(admin), "enterprises", content), 413, "import_limit_exceeded"
    )

    assert body["limit"] == "imports.max_part_bytes" and "imports.max_part_bytes" in body["detail"]
    assert "1 MB" in body["detail"]
    assert await count(session, Enterprise) == before


async def test_a_second_import_while_one_runs_gets_429_with_retry_after(
    gated_client: tuple[AsyncClient, ImportGate], session: AsyncSession, auth: Auth, admin: User
) -> None:
    client, gate = gated_client
    content = sheet_bytes(ENTERPRISE_HEADERS, [enterprise_row("扬州排队导入有限公司", valid_credit_code())])
    before = await count(session, Enterprise)

    async with gate.turn():  # an import is running
        busy = await upload(client, auth(admin), "enterprises", content)

    assert_problem(busy, 429, "import_busy")
    assert busy.headers["retry-after"] == "10"
    assert await count(session, Enterprise) == before
    # once it is done, the same file goes through
    done = await upload(client, auth(admin), "enterprises", content)
    assert done.status_code == 201, done.text
    assert await count(session, Enterprise) == before + 1


async def test_a_second_import_waits_for_a_short_one(
    gated_client: tuple[AsyncClient, ImportGate], session: AsyncSession, auth: Auth, admin: User
) -> None:
    client, gate = gated_client
    content = sheet_bytes(ENTERPRISE_HEADERS, [enterprise_row("扬州稍候导入有限公司", valid_credit_code())])

    async def short_import() -> None:
        async with gate.turn():
            await asyncio.sleep(0.05)  # shorter than the 0.2 s a second import waits

    running = asyncio.create_task(short_import())
    await asyncio.sleep(0)  # let it take the gate
    response = await upload(client, auth(admin), "enterprises", content)
    await running

    assert response.status_code == 201, response.text


async def test_a_normal_shared_string_import_still_works(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    rows = [a_row(f"扬州正常导入{n}有限公司") for n in range(3)]
    before = await count(session, Enterprise)

    response = await upload(
        client, auth(admin), "enterprises", shared_string_workbook([ENTERPRISE_HEADERS, *rows])
    )

    assert response.status_code == 201, response.text
    assert await count(session, Enterprise) == before + 3
