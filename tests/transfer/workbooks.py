"""Building real XLSX files for the transfer tests, and uploading them."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from httpx import AsyncClient, Response
from openpyxl import Workbook, load_workbook
from openpyxl.workbook.workbook import Workbook as WorkbookType

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORTS = "/api/v1/admin/imports"
EXPORTS = "/api/v1/admin/exports"

ENTERPRISE_HEADERS = ["企业名称", "统一社会信用代码", "省份", "城市", "区县", "乡镇/街道", "所属行业"]
EXPERT_HEADERS = [
    "姓名",
    "职称",
    "派出单位",
    "院系/研究所",
    "学科方向",
    "批次",
    "选派年份",
    "挂职区县",
    "挂职乡镇",
    "挂职职务",
    "挂职开始日期",
    "挂职结束日期",
    "可承接协议数",
    "电话",
    "电子邮箱",
    "个人简介",
]
STUDIO_HEADERS = [
    "所属企业统一社会信用代码",
    "工作室名称",
    "类型",
    "领衔人",
    "领衔人荣誉",
    "领域",
    "成员人数",
    "星级",
    "星级评定日期",
    "评定得分",
    "创新联盟",
    "分联盟",
    "成立年份",
    "描述",
]


def sheet_bytes(
    headers: Sequence[Any], rows: Sequence[Sequence[Any]] = (), *, title: str = "Sheet1"
) -> bytes:
    """A one-sheet workbook with ``headers`` in row 1 and ``rows`` below."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    if headers:
        sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    return to_bytes(workbook)


def to_bytes(workbook: WorkbookType) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def open_xlsx(content: bytes) -> WorkbookType:
    return load_workbook(io.BytesIO(content))


def enterprise_row(name: str, code: str, district: str = "邗江区") -> list[Any]:
    return [name, code, "江苏省", "扬州市", district, "杭集镇", "装备制造"]


async def upload(
    client: AsyncClient,
    headers: dict[str, str],
    kind: str,
    content: bytes,
    filename: str = "导入.xlsx",
    media_type: str = XLSX,
) -> Response:
    return await client.post(
        f"{IMPORTS}/{kind}", headers=headers, files={"file": (filename, content, media_type)}
    )
