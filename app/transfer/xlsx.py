"""XLSX with openpyxl: import templates, reading an uploaded sheet cell by cell, writing exports.

No database and no HTTP here: the service decides what the rows mean. Reading and writing are CPU work,
so the service runs them in a worker thread.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import PurePath
from typing import IO, Any
from xml.parsers import expat

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation

from app.clock import CHINA_TZ
from app.config import ImportLimits
from app.errors import DomainError
from app.labels import label
from app.transfer.errors import (
    FileNotXlsx,
    FileUnreadable,
    HeadersInvalid,
    ImportLimitExceeded,
    SheetEmpty,
    TooManyRows,
)

# one import writes at most this many records; more belong in several files
MAX_DATA_ROWS = 5000
# rows scanned, blank ones included (a sheet can declare a million formatted but empty rows)
MAX_SHEET_ROWS = 50_000
MAX_COLUMNS = 100
NOTES_SHEET_TITLE = "填写说明"

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # .xls, and password-protected .xlsx
_ACCEPTED_SUFFIXES = frozenset({".xlsx", ".xlsm"})
_LIST_SEPARATORS = re.compile(r"[、,，;；\n\r]+")
_REQUIRED_MARKS = re.compile(r"[*＊]|[(（]必填[)）]")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
_CHINESE_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_CHINESE_DIGITS |= {"八": 8, "九": 9}
_COHORT = re.compile(r"第?\s*([0-9]+|[零〇一二两三四五六七八九十百]+)\s*批?次?")

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_REQUIRED_FILL = PatternFill("solid", fgColor="C00000")
_OPTIONAL_FILL = PatternFill("solid", fgColor="1F4E78")
_EXAMPLE_FONT = Font(italic=True, color="808080")
_TITLE_FONT = Font(bold=True, size=14)


class ValueKind(StrEnum):
    """How a column's cells are read."""

    TEXT = "text"
    CODE = "code"  # text that must not pass through a number (credit codes: 18 characters)
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    LIST = "list"  # several terms in one cell: 机械工程、数控技术
    CHOICE = "choice"  # an enum, written with its Chinese label
    COHORT = "cohort"  # 13, 第13批 or 第十三批


_FORMAT_HELP = {
    ValueKind.TEXT: "文本",
    ValueKind.CODE: "18 位文本；请把该列设为“文本”格式，否则 Excel 会把数字截断",
    ValueKind.INTEGER: "整数",
    ValueKind.DECIMAL: "数字，最多两位小数",
    ValueKind.DATE: "日期，如 2020-07-01（也可写 2020/7/1 或 2020年7月1日）",
    ValueKind.LIST: "可填多项，用顿号“、”、逗号、分号或换行分隔",
    ValueKind.CHOICE: "从下拉列表中选择",
    ValueKind.COHORT: "数字或“第十三批”这样的写法",
}


@dataclass(frozen=True, slots=True)
class ImportColumn:
    """One column of an import template.

    Args:
        field: the schema field the column fills.
        header: the Chinese column name in row 1.
        kind: how cells are read.
        required: the column must be present and filled.
        help: what to write, in Chinese (shown in the notes sheet and as the header's comment).
        choices: the allowed enum values of a ``CHOICE`` column.
        width: the column width in the template.
    """

    field: str
    header: str
    kind: ValueKind = ValueKind.TEXT
    required: bool = False
    help: str = ""
    choices: tuple[StrEnum, ...] = ()
    width: int = 16

    def format_help(self) -> str:
        """The allowed format or values, in Chinese."""
        if self.kind is ValueKind.CHOICE:
            return "可选值：" + "、".join(label(c) for c in self.choices)
        return _FORMAT_HELP[self.kind]


@dataclass(frozen=True, slots=True)
class ImportLayout:
    """The sheet an import reads: its title, its columns, the example row and notes for the notes sheet."""

    sheet_title: str
    columns: tuple[ImportColumn, ...]
    example: Mapping[str, Any]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CellProblem:
    """A cell that cannot be read as its column asks."""

    field: str
    message: str


@dataclass(slots=True)
class SheetRow:
    """One non-empty data row: its number as Excel shows it, the values read and the cells that failed."""

    number: int
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[CellProblem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ParsedSheet:
    """The rows of an uploaded sheet, with where each field's column is in the file."""

    rows: list[SheetRow]
    letters: dict[str, str]
    example_skipped: bool


class _CellError(ValueError):
    """A cell's value does not fit its column; the message is Chinese and shown to the user."""


# --- reading an upload -------------------------------------------------------------------------------


def read_sheet(
    filename: str | None, content: bytes, layout: ImportLayout, limits: ImportLimits | None = None
) -> ParsedSheet:
    """Read an uploaded workbook against ``layout``, within ``limits``.

    The limits are checked before openpyxl parses anything: the sizes on the zip's directory (which
    also bound what unpacking can produce: a part that unpacks to more than it declares fails its
    CRC), then a streaming count of the XML (shared strings, cells, the longest text) that stops at
    the first limit passed and never holds more than a chunk of it. openpyxl then reads the sheet in
    its read-only (streaming) mode.

    The first row is the header, matched to the template's columns by name (order does not matter,
    optional columns may be left out). A row identical to the template's example row is skipped.

    Raises:
        FileNotXlsx: the name or the content is not an XLSX workbook.
        FileUnreadable: the workbook is damaged, encrypted or declares a DTD.
        ImportLimitExceeded: the workbook holds more than a limit allows.
        HeadersInvalid: required columns are missing, or columns are unknown or repeated.
        SheetEmpty: no header row, or no data row.
        TooManyRows: more than ``MAX_DATA_ROWS`` rows of data.
    """
    _check_container(filename, content, limits or ImportLimits())
    try:
        with warnings.catch_warnings():
            # openpyxl warns about features it drops (extensions, default styles); they do not matter here
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (
        Exception
    ) as exc:  # openpyxl raises KeyError, ValueError, TypeError, XML errors … for damaged files
        raise FileUnreadable(
            "文件已损坏或不是有效的 Excel 工作簿，请用 Excel 打开确认后另存为 .xlsx 再上传。"
        ) from exc
    try:
        return _read_rows(_data_sheet(workbook.worksheets, layout), layout)
    finally:
        workbook.close()


def _check_container(filename: str | None, content: bytes, limits: ImportLimits) -> None:
    suffix = PurePath(filename).suffix.lower() if filename else ""
    if content.startswith(_OLE_MAGIC) or suffix == ".xls":
        raise FileNotXlsx(
            "这是旧版 Excel（.xls）文件或设置了打开密码的文件。请在 Excel 中取消密码，"
            "并通过“另存为”保存为“Excel 工作簿（*.xlsx）”后再上传。"
        )
    if suffix == ".csv":
        raise FileNotXlsx("不支持 CSV 文件，请下载导入模板，在模板中填写后以 .xlsx 格式上传。")
    if suffix and suffix not in _ACCEPTED_SUFFIXES:
        raise FileNotXlsx(f"只能上传 Excel 工作簿（.xlsx），收到的文件扩展名为“{suffix}”。")
    if not content:
        raise FileNotXlsx("上传的文件是空的，请选择填写好的 .xlsx 文件。")
    if not content.startswith(_ZIP_MAGIC):
        raise FileNotXlsx("文件内容不是 Excel 工作簿（.xlsx），请下载导入模板，在模板中填写后上传。")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if "xl/workbook.xml" not in set(archive.namelist()):
                raise FileNotXlsx("文件是压缩包或其他 Office 文档（如 Word），不是 Excel 工作簿（.xlsx）。")
            _check_limits(archive, limits)
    except (zipfile.BadZipFile, ValueError, OSError, expat.ExpatError) as exc:
        raise FileUnreadable("文件已损坏，无法打开。请用 Excel 打开确认后另存为 .xlsx 再上传。") from exc


def _check_limits(archive: zipfile.ZipFile, limits: ImportLimits) -> None:
    """Refuse a workbook over a limit, from the zip's directory first, then by one streaming pass."""
    parts = archive.infolist()
    # declared sizes bind: zipfile stops at the declared size and checks the CRC there
    if sum(info.file_size for info in parts) > limits.max_unpacked_bytes:
        raise ImportLimitExceeded("max_unpacked_bytes", limits.max_unpacked_bytes)
    # every XML part, whatever its name: the workbook's relationships, not the name, say which part
    # openpyxl reads as the shared strings or a sheet
    xml_parts = [info for info in parts if info.filename.endswith((".xml", ".rels"))]
    if any(info.file_size > limits.max_part_bytes for info in xml_parts):
        raise ImportLimitExceeded("max_part_bytes", limits.max_part_bytes)
    counter = _XmlCounter(limits)
    for info in xml_parts:
        with archive.open(info) as stream:
            counter.scan(stream)


class _XmlCounter:
    """Counts shared strings (``<si>``), cells (``<c>``) and the length of each one's text while expat
    streams a part in chunks, and stops at the first limit passed. A DTD is refused outright: no
    workbook needs one, and it is how entity expansion and external entities get in."""

    _CHUNK = 64 * 1024

    def __init__(self, limits: ImportLimits) -> None:
        self.limits = limits
        self.strings = 0
        self.cells = 0
        self.chars = 0

    def scan(self, stream: IO[bytes]) -> None:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartElementHandler = self._start
        parser.CharacterDataHandler = self._text
        parser.StartDoctypeDeclHandler = self._doctype
        while chunk := stream.read(self._CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)

    def _start(self, name: str, attributes: object) -> None:
        local = name.rpartition(" ")[2]
        if local == "si":
            self.strings += 1
            self.chars = 0
            if self.strings > self.limits.max_shared_strings:
                raise ImportLimitExceeded("max_shared_strings", self.limits.max_shared_strings)
        elif local == "c":
            self.cells += 1
            self.chars = 0
            if self.cells > self.limits.max_cells:
                raise ImportLimitExceeded("max_cells", self.limits.max_cells)

    def _text(self, data: str) -> None:
        # the text of one shared string (all its runs) or one cell, delivered in pieces
        self.chars += len(data)
        if self.chars > self.limits.max_string_chars:
            raise ImportLimitExceeded("max_string_chars", self.limits.max_string_chars)

    def _doctype(self, *args: object) -> None:
        raise FileUnreadable("文件中含有不允许的 XML 文档类型声明（DTD），请用 Excel 另存为 .xlsx 后再上传。")


def _data_sheet(worksheets: Sequence[Any], layout: ImportLayout) -> ReadOnlyWorksheet:
    sheets = [ws for ws in worksheets if isinstance(ws, ReadOnlyWorksheet)]
    for sheet in sheets:
        if sheet.title == layout.sheet_title:
            return sheet
    if not sheets:
        raise SheetEmpty("工作簿中没有工作表，请使用导入模板填写。")
    # the template's data sheet comes first; a renamed copy is still read
    return sheets[0]


def _read_rows(sheet: ReadOnlyWorksheet, layout: ImportLayout) -> ParsedSheet:
    # the declared dimensions may be wrong (files written by other tools): read what is really there
    sheet.reset_dimensions()
    try:
        rows = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
        header = next(rows, None)
        positions = _match_header(header or (), layout)
        columns = {c.field: c for c in layout.columns}
        parsed: list[SheetRow] = []
        example_skipped = False
        for number, cells in enumerate(rows, start=2):
            if number > MAX_SHEET_ROWS:
                raise TooManyRows(
                    f"工作表超过 {MAX_SHEET_ROWS} 行（含空白但带格式的行），请删除多余的行后重新上传。"
                )
            raw = {f: cells[i] if i < len(cells) else None for f, i in positions.items()}
            if all(_text(v) is None for v in raw.values()):
                continue
            if not example_skipped and _is_example(raw, layout):
                example_skipped = True
                continue
            if len(parsed) == MAX_DATA_ROWS:
                raise TooManyRows(f"一次最多导入 {MAX_DATA_ROWS} 行数据，请把文件拆分后分批导入。")
            parsed.append(_read_row(number, raw, columns))
    except DomainError:
        raise
    except Exception as exc:  # damaged sheet XML surfaces only while iterating
        raise FileUnreadable(
            "工作表内容已损坏，无法读取。请用 Excel 打开确认后另存为 .xlsx 再上传。"
        ) from exc
    if not parsed:
        detail = "表格中只有示例行，没有要导入的数据。" if example_skipped else "表格中只有表头，没有数据行。"
        raise SheetEmpty(detail + "请从第 2 行起每行填写一条记录。")
    letters = {f: get_column_letter(i + 1) for f, i in positions.items()}
    return ParsedSheet(rows=parsed, letters=letters, example_skipped=example_skipped)


def header_key(value: Any) -> str:
    """A header cell as compared with the template: trimmed, without a required mark (``*``, ``（必填）``)."""
    text = _text(value) or ""
    return "".join(_REQUIRED_MARKS.sub("", unicodedata.normalize("NFKC", text)).split())


def _match_header(header: Sequence[Any], layout: ImportLayout) -> dict[str, int]:
    if all(_text(v) is None for v in header):
        raise SheetEmpty("表格是空的：第 1 行应为表头，请使用导入模板填写。")
    by_header = {header_key(c.header): c for c in layout.columns}
    positions: dict[str, int] = {}
    problems: list[dict[str, str]] = []
    for index, value in enumerate(header):
        key = header_key(value)
        if not key:
            continue
        cell = f"{get_column_letter(index + 1)}1"
        column = by_header.get(key)
        if column is None:
            problems.append(_header_problem(cell, str(_text(value)), f"未知的列“{_text(value)}”（{cell}）"))
        elif column.field in positions:
            problems.append(_header_problem(cell, column.header, f"列“{column.header}”重复出现（{cell}）"))
        else:
            positions[column.field] = index
    for column in layout.columns:
        if column.required and column.field not in positions:
            problems.append(_header_problem("", column.header, f"缺少必填列“{column.header}”"))
    if problems:
        raise HeadersInvalid(layout.sheet_title, problems)
    return positions


def _header_problem(cell: str, column: str, message: str) -> dict[str, str]:
    return {"row": "1", "column": column, "cell": cell, "field": "header", "message": message}


def _is_example(raw: Mapping[str, Any], layout: ImportLayout) -> bool:
    return all(_text(raw.get(f)) == _text(layout.example.get(f)) for f in raw) and any(
        _text(raw.get(f)) is not None for f in layout.example
    )


def _read_row(number: int, raw: Mapping[str, Any], columns: Mapping[str, ImportColumn]) -> SheetRow:
    row = SheetRow(number)
    for name, value in raw.items():
        try:
            converted = convert_cell(columns[name], value)
        except _CellError as exc:
            row.problems.append(CellProblem(name, str(exc)))
            continue
        if converted is not None:
            row.values[name] = converted
    return row


def convert_cell(column: ImportColumn, value: Any) -> Any:
    """Read one cell as ``column`` asks; ``None`` for a blank cell.

    Raises:
        _CellError: the value does not fit (the message is Chinese).
    """
    if _text(value) is None:
        return None
    match column.kind:
        case ValueKind.TEXT:
            return _text(value)
        case ValueKind.CODE:
            if isinstance(value, int | float) and not isinstance(value, bool):
                raise _CellError("该列被 Excel 存成了数字，位数可能已丢失；请把该列设为“文本”格式后重新填写")
            return _text(value)
        case ValueKind.INTEGER:
            return _integer(value)
        case ValueKind.DECIMAL:
            return _decimal(value)
        case ValueKind.DATE:
            return _date(value)
        case ValueKind.LIST:
            return [t.strip() for t in _LIST_SEPARATORS.split(_text(value) or "") if t.strip()]
        case ValueKind.CHOICE:
            return _choice(column.choices, value)
        case ValueKind.COHORT:
            return _cohort(value)


def _text(value: Any) -> str | None:
    """A cell as text: ``None`` for blank, integral numbers without ``.0``, dates as ``YYYY-MM-DD``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            pass
        else:
            if number.is_finite() and number == number.to_integral_value():
                return int(number)
    raise _CellError("必须是整数")


def _decimal(value: Any) -> Decimal:
    if isinstance(value, int | float) and not isinstance(value, bool):
        # 15 significant digits, as Excel shows them: 88.1 rather than 88.09999999999999
        return Decimal(format(value, ".15g"))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            pass
        else:
            if number.is_finite():
                return number
    raise _CellError("必须是数字")


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        number = int(value)
        if 19000101 <= number <= 21001231:  # 20200701 typed as a number
            value = str(number)
        elif 1 <= number < 2958466:  # a date cell formatted as a number: Excel's day count
            serial = from_excel(number)
            return serial.date() if isinstance(serial, datetime) else date(1900, 1, 1)
    if isinstance(value, str):
        text = value.strip()
        for pattern in _DATE_FORMATS:
            try:
                return datetime.strptime(text, pattern).date()
            except ValueError:
                continue
    raise _CellError("日期格式不正确，应为 YYYY-MM-DD，例如 2020-07-01")


def _choice(choices: Sequence[StrEnum], value: Any) -> StrEnum:
    text = _text(value) or ""
    for choice in choices:
        if text in (label(choice), choice.value):
            return choice
    raise _CellError("取值无效，可选值：" + "、".join(label(c) for c in choices))


def _cohort(value: Any) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _integer(value)
    match = _COHORT.fullmatch(_text(value) or "")
    number = None
    if match:
        digits = match.group(1)
        number = int(digits) if digits.isdigit() else _chinese_number(digits)
    if number is None:
        raise _CellError("批次应为数字，如 13 或“第十三批”")
    return number


def _chinese_number(text: str) -> int | None:
    """十三 → 13, 二十 → 20, 一百 → 100; ``None`` for anything else."""
    total = 0
    rest = text
    for unit, size in (("百", 100), ("十", 10)):
        if unit in rest:
            head, _, rest = rest.partition(unit)
            if head and head not in _CHINESE_DIGITS:
                return None
            total += (_CHINESE_DIGITS[head] if head else 1) * size
            rest = rest.lstrip("零〇")
    if rest:
        if len(rest) != 1 or rest not in _CHINESE_DIGITS:
            return None
        total += _CHINESE_DIGITS[rest]
    return total


# --- writing the template ----------------------------------------------------------------------------


def build_template(layout: ImportLayout) -> bytes:
    """The import template: the data sheet (header, example row) and a notes sheet explaining each column."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = layout.sheet_title
    last_row = MAX_DATA_ROWS + 1
    for index, column in enumerate(layout.columns, start=1):
        letter = get_column_letter(index)
        header = sheet.cell(row=1, column=index, value=column.header)
        header.font = _HEADER_FONT
        header.fill = _REQUIRED_FILL if column.required else _OPTIONAL_FILL
        header.alignment = Alignment(horizontal="center", vertical="center")
        header.comment = Comment(_column_help(column), "studio-match", width=320, height=140)
        example = sheet.cell(row=2, column=index, value=layout.example.get(column.field))
        example.font = _EXAMPLE_FONT
        dimension = sheet.column_dimensions[letter]
        dimension.width = column.width
        if column.kind is ValueKind.DATE:
            example.number_format = dimension.number_format = "yyyy-mm-dd"
        elif column.kind in (ValueKind.TEXT, ValueKind.CODE, ValueKind.LIST, ValueKind.CHOICE):
            # typed codes and phone numbers stay text instead of turning into numbers
            example.number_format = dimension.number_format = "@"
        if column.kind is ValueKind.CHOICE:
            options = ",".join(label(c) for c in column.choices)
            validation = DataValidation(
                type="list",
                formula1=f'"{options}"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="取值无效",
                error="请从下拉列表中选择：" + "、".join(label(c) for c in column.choices),
            )
            validation.add(f"{letter}2:{letter}{last_row}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    _write_notes(workbook.create_sheet(NOTES_SHEET_TITLE), layout)
    return _save(workbook)


def _column_help(column: ImportColumn) -> str:
    need = "必填" if column.required else "选填"
    return f"{need}。{column.help}{'' if column.help.endswith('。') or not column.help else '。'}{column.format_help()}"


def _write_notes(sheet: Any, layout: ImportLayout) -> None:
    sheet.append([f"“{layout.sheet_title}”导入说明"])
    sheet["A1"].font = _TITLE_FONT
    general = (
        f"数据填写在“{layout.sheet_title}”工作表中：第 1 行是表头，请勿修改列名；从第 2 行起每行一条记录。",
        "第 2 行是灰色的示例行，内容未改动时导入会自动跳过，也可以直接删除或覆盖。",
        "红色表头为必填列，蓝色表头为选填列；选填列可以留空，也可以整列删除。",
        f"每个文件最多 {MAX_DATA_ROWS} 行数据。",
        "导入时逐行检查：只要有一行有误，整份文件都不会导入，系统会列出出错的行号、列名和原因，改正后重新上传即可。",
        *layout.notes,
    )
    for line in general:
        sheet.append([line])
    sheet.append([])
    header_row = sheet.max_row + 1
    sheet.append(["列名", "是否必填", "填写说明", "格式或可选值", "示例"])
    for cell in sheet[header_row]:
        cell.font = _HEADER_FONT
        cell.fill = _OPTIONAL_FILL
    for column in layout.columns:
        example = layout.example.get(column.field)
        sheet.append(
            [
                column.header,
                "必填" if column.required else "选填",
                column.help,
                column.format_help(),
                _text(example) or "",
            ]
        )
    for letter, width in zip("ABCDE", (22, 10, 60, 48, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=header_row + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


# --- writing an export -------------------------------------------------------------------------------


class CellFormat(StrEnum):
    """How an export column's values are written."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"


@dataclass(frozen=True, slots=True)
class ExportColumn:
    """One column of an export: its Chinese header and how its values are written."""

    header: str
    format: CellFormat = CellFormat.TEXT


_NUMBER_FORMATS = {CellFormat.DATE: "yyyy-mm-dd", CellFormat.DATETIME: "yyyy-mm-dd hh:mm"}
_MIN_WIDTH, _MAX_WIDTH = 6, 60
_FIXED_WIDTHS = {CellFormat.DATE: 12, CellFormat.DATETIME: 17}


def build_export(sheet_title: str, columns: Sequence[ExportColumn], rows: Iterable[Sequence[Any]]) -> bytes:
    """An export workbook: bold frozen header with a filter, real Excel dates, widths fitted to the content.

    Timestamps are written in China time (UTC+8) without a zone, as Excel has none. Text is written as
    text, never as a formula, so a title like ``=HYPERLINK(…)`` stays inert.
    """
    values = [[_excel_value(v) for v in row] for row in rows]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    for index, column in enumerate(columns):
        letter = get_column_letter(index + 1)
        width = _FIXED_WIDTHS.get(column.format) or max(
            [_display_width(column.header)] + [_display_width(row[index]) for row in values[:2000]]
        )
        sheet.column_dimensions[letter].width = min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH)
    sheet.freeze_panes = "A2"
    last = get_column_letter(max(len(columns), 1))
    sheet.auto_filter.ref = f"A1:{last}{len(values) + 1}"
    sheet.append([_header_cell(sheet, column.header) for column in columns])
    for row in values:
        sheet.append([_data_cell(sheet, column, value) for column, value in zip(columns, row, strict=True)])
    return _save(workbook)


def _header_cell(sheet: Any, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = _HEADER_FONT
    cell.fill = _OPTIONAL_FILL
    return cell


def _data_cell(sheet: Any, column: ExportColumn, value: Any) -> Any:
    if value is None:
        return None
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would store "=…" as a formula
    elif column.format in _NUMBER_FORMATS:
        cell.number_format = _NUMBER_FORMATS[column.format]
    return cell


def _excel_value(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(CHINA_TZ).replace(tzinfo=None)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _display_width(value: Any) -> int:
    """Width in Excel character units: CJK characters count twice; the longest line counts."""
    text = _text(value) or ""
    return max(
        (
            sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
            for line in text.splitlines()
        ),
        default=0,
    )


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
