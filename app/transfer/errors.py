"""Errors raised by the XLSX import and export."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.errors import DomainError

# the problem+json ``errors`` list stays readable: beyond this many, the detail says how many were left out
MAX_LISTED_PROBLEMS = 200


def _size(n_bytes: int) -> str:
    if n_bytes >= 1024 * 1024:
        return f"{n_bytes / (1024 * 1024):.3g} MB"
    if n_bytes >= 1024:
        return f"{n_bytes / 1024:.3g} KB"
    return f"{n_bytes} 字节"


class UploadTooLarge(DomainError):
    """The upload is larger than ``Settings.max_upload_bytes``; it was refused before being read in full."""

    code, status, title = "upload_too_large", 413, "上传文件过大"

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"上传的文件超过了 {_size(limit_bytes)} 的上限，请把数据拆分成几个文件分批导入。")


# what each import limit (``Settings.imports``) is called in a refusal, and how its value reads
_LIMITS = {
    "max_unpacked_bytes": ("解压后的总大小", _size),
    "max_part_bytes": ("单个工作表或共享字符串表解压后的大小", _size),
    "max_shared_strings": ("不重复的文字（共享字符串）个数", lambda n: f"{n} 个"),
    "max_cells": ("单元格总数（含带格式的空单元格）", lambda n: f"{n} 个"),
    "max_string_chars": ("单个单元格的文字长度", lambda n: f"{n} 个字符"),
}


class ImportLimitExceeded(DomainError):
    """The workbook holds more than an import limit allows (``Settings.imports``); found before parsing."""

    code, status, title = "import_limit_exceeded", 413, "导入文件内容超过上限"

    def __init__(self, limit: str, value: int) -> None:
        name, shown = _LIMITS[limit]
        super().__init__(
            f"文件的{name}超过了 {shown(value)} 的上限（设置项 imports.{limit}），未作处理。"
            "请删除多余的工作表、空白但带格式的行列和过长的文字，或把数据拆分成几个文件分批导入。",
            extensions={"limit": f"imports.{limit}", "limit_value": value},
        )


class ImportBusy(DomainError):
    """Another import is running in this process: one at a time, so a worker is never tied up by several."""

    code, status, title = "import_busy", 429, "另一个导入正在进行"
    retry_after = 10

    def __init__(self) -> None:
        super().__init__(
            f"服务器正在处理另一个导入文件，请约 {self.retry_after} 秒后重新上传。",
            headers={"Retry-After": str(self.retry_after)},
        )


class UploadMissing(DomainError):
    """The request carries no file in the ``file`` field of a multipart form."""

    code, status, title = "import_file_missing", 422, "未收到上传文件"

    def __init__(self) -> None:
        super().__init__(
            "请以 multipart/form-data 方式上传一个 .xlsx 文件，文件字段名为 file。",
            errors=[{"field": "file", "message": "请选择要上传的文件"}],
        )


class UploadMalformed(DomainError):
    """The multipart body cannot be parsed."""

    code, status, title = "import_upload_malformed", 400, "上传内容格式有误"

    def __init__(self) -> None:
        super().__init__(
            "上传内容不是合法的 multipart/form-data 表单，请通过页面或标准的文件上传方式重新上传。"
        )


class FileNotXlsx(DomainError):
    """The file is not an XLSX workbook (an old .xls, a CSV, a Word file…)."""

    code, status, title = "import_file_not_xlsx", 415, "文件不是 XLSX 格式"


class FileUnreadable(DomainError):
    """The file looks like an XLSX workbook but cannot be read (damaged, encrypted, oversized when unpacked)."""

    code, status, title = "import_file_unreadable", 422, "文件无法读取"


class SheetEmpty(DomainError):
    """The sheet has no header row, or no data row below it."""

    code, status, title = "import_sheet_empty", 422, "表格中没有数据"


class TooManyRows(DomainError):
    """The sheet has more rows than one import accepts."""

    code, status, title = "import_too_many_rows", 422, "数据行数超过上限"


class HeadersInvalid(DomainError):
    """The header row does not match the template: required columns missing, unknown or repeated columns."""

    code, status, title = "import_headers_invalid", 422, "表头与模板不一致"

    def __init__(self, sheet_title: str, problems: Sequence[Mapping[str, str]]) -> None:
        summary = "；".join(p["message"] for p in problems[:5])
        super().__init__(
            f"表头与“{sheet_title}”模板不一致（{summary}）。请下载最新模板，按模板第 1 行的列名填写，不要改动表头。",
            errors=problems,
        )


class RowsInvalid(DomainError):
    """One or more rows break the schema or a business rule; nothing was imported."""

    code, status, title = "import_rows_invalid", 422, "导入数据有误"

    def __init__(self, problems: Sequence[Mapping[str, str]]) -> None:
        total = len(problems)
        listed = problems[:MAX_LISTED_PROBLEMS]
        examples = "；".join(
            f"第 {p['row']} 行{'“' + p['column'] + '”' if p['column'] else ''}：{p['message']}"
            for p in listed[:3]
        )
        more = f"（errors 中列出了前 {MAX_LISTED_PROBLEMS} 处）" if total > MAX_LISTED_PROBLEMS else ""
        super().__init__(
            f"文件中有 {total} 处错误，整份文件都未导入，请改正后重新上传{more}。例如：{examples}。",
            errors=listed,
        )
