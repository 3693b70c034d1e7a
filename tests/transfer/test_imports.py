"""``/api/v1/admin/imports``: templates, all-or-nothing imports through the services, row-level reports."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.enterprises.models import Enterprise
from app.experts.models import Expert
from app.studios.models import Studio, StudioKind
from tests.factories import make_enterprise, valid_credit_code
from tests.problems import Auth, assert_problem, count
from tests.transfer.workbooks import (
    ENTERPRISE_HEADERS,
    EXPERT_HEADERS,
    IMPORTS,
    STUDIO_HEADERS,
    XLSX,
    enterprise_row,
    open_xlsx,
    sheet_bytes,
    to_bytes,
    upload,
)


def with_wrong_check_character(code: str) -> str:
    return code[:-1] + ("0" if code[-1] != "0" else "1")


async def template(client: AsyncClient, headers: dict[str, str], kind: str) -> bytes:
    response = await client.get(f"{IMPORTS}/{kind}/template", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    return response.content


def expert_row(name: str | None, **overrides: Any) -> list[Any]:
    values: dict[str, Any] = {
        "姓名": name,
        "职称": "研究员",
        "派出单位": "江苏大学",
        "院系/研究所": "流体机械工程技术研究中心",
        "学科方向": "流体机械、泵站节能",
        "批次": "第十四批",
        "选派年份": 2021,
        "挂职区县": "江都区",
        "挂职乡镇": "仙女镇",
        "挂职职务": "科技副总",
        "挂职开始日期": date(2021, 7, 1),
        "挂职结束日期": date(2023, 6, 30),
        "可承接协议数": 2,
        "电话": "0511-88780001",
        "电子邮箱": "wangqiang@example.edu.cn",
        "个人简介": "研究大型泵站节能改造。",
    }
    values.update(overrides)
    return [values[h] for h in EXPERT_HEADERS]


# --- templates and round trips -----------------------------------------------------------------------


async def test_expert_template_round_trip_imports_the_filled_rows_and_skips_the_example(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    response = await client.get(f"{IMPORTS}/experts/template", headers=auth(admin))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('科技镇长团名单导入模板.xlsx')}" in disposition
    workbook = open_xlsx(response.content)
    assert workbook.sheetnames == ["科技镇长团名单", "填写说明"]
    sheet = workbook["科技镇长团名单"]
    assert [c.value for c in sheet[1]] == EXPERT_HEADERS
    assert sheet.freeze_panes == "A2"
    assert sheet["A2"].value == "李明（示例）"
    notes = "\n".join(str(v) for row in workbook["填写说明"].iter_rows(values_only=True) for v in row if v)
    for header in EXPERT_HEADERS:
        assert header in notes
    assert "必填" in notes and "第十三批" in notes

    sheet.append(expert_row("王强"))
    sheet.append(
        expert_row("陈静", 批次=13, 学科方向="海洋生物;水质监测", 挂职开始日期="2020/7/1", 电话=13912345678)
    )
    before = await count(session, Expert)

    imported = await upload(client, auth(admin), "experts", to_bytes(workbook), "科技镇长团名单.xlsx")

    assert imported.status_code == 201, imported.text
    body = imported.json()
    assert body["kind"] == "experts"
    assert body["created"] == 2
    assert body["example_row_skipped"] is True
    assert await count(session, Expert) == before + 2
    wang, chen = [await session.get(Expert, i) for i in body["ids"]]
    assert wang is not None and chen is not None
    assert (wang.name, wang.title, wang.university) == ("王强", "研究员", "江苏大学")
    assert wang.disciplines == ["流体机械", "泵站节能"]
    assert (wang.cohort_number, wang.cohort_year) == (14, 2021)
    assert (wang.term_start, wang.term_end) == (date(2021, 7, 1), date(2023, 6, 30))
    assert chen.cohort_number == 13
    assert chen.disciplines == ["海洋生物", "水质监测"]
    assert chen.term_start == date(2020, 7, 1)
    assert chen.phone == "13912345678"
    assert await session.scalar(select(func.count()).where(Expert.name == "李明（示例）")) == 0
    audited = await session.scalar(
        select(func.count()).where(
            AuditEvent.action == "expert.created",
            AuditEvent.actor_user_id == admin.id,
            AuditEvent.entity_id.in_(body["ids"]),
        )
    )
    assert audited == 2


async def test_enterprise_then_studio_templates_round_trip(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    workbook = open_xlsx(await template(client, auth(admin), "enterprises"))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == ENTERPRISE_HEADERS
    code = valid_credit_code(division="321012")
    other = valid_credit_code(division="321012")
    # the example row is overwritten, as people do; a code may be pasted with spaces and lower case
    for column, value in enumerate(enterprise_row("扬州江都泵业有限公司", code, "江都区"), start=1):
        sheet.cell(row=2, column=column, value=value)
    sheet.append(enterprise_row("扬州仙女镇阀门有限公司", f" {other[:6]} {other[6:].lower()} ", "江都区"))

    response = await upload(client, auth(admin), "enterprises", to_bytes(workbook))

    assert response.status_code == 201, response.text
    assert response.json()["created"] == 2
    assert response.json()["example_row_skipped"] is False
    stored = (
        await session.scalars(select(Enterprise).where(Enterprise.credit_code.in_([code, other])))
    ).all()
    assert {e.name for e in stored} == {"扬州江都泵业有限公司", "扬州仙女镇阀门有限公司"}
    pump = next(e for e in stored if e.credit_code == code)

    registered = await make_enterprise(session)
    workbook = open_xlsx(await template(client, auth(admin), "studios"))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == STUDIO_HEADERS
    assert sheet["C2"].value == "工匠人才创新工作室"
    sheet.delete_rows(2)  # the example may be deleted instead
    sheet.append(
        [code, "张伟劳模创新工作室", "劳模创新工作室", "张伟", "全国劳动模范、江苏大工匠", "泵站节能",
         15, 2, date(2024, 5, 20), 86.5, "扬州市创新联盟", "装备制造分联盟", 2015, "大型泵站节能改造"]
    )  # fmt: skip
    sheet.append([registered.credit_code, "刘芳职工创新工作室", "worker", "刘芳"])

    response = await upload(client, auth(admin), "studios", to_bytes(workbook))

    assert response.status_code == 201, response.text
    first, second = [await session.get(Studio, i) for i in response.json()["ids"]]
    assert first is not None and second is not None
    assert first.enterprise_id == pump.id
    assert first.kind is StudioKind.MODEL_WORKER
    assert first.leader_honours == ["全国劳动模范", "江苏大工匠"]
    assert (first.star_rating, first.star_assessed_on, first.star_score) == (
        2,
        date(2024, 5, 20),
        Decimal("86.5"),
    )
    assert first.founded_year == 2015
    assert second.enterprise_id == registered.id
    assert second.kind is StudioKind.WORKER
    assert (second.members_count, second.star_rating, second.description) == (0, 0, "")


async def test_columns_may_come_in_any_order_marked_required_and_optional_ones_left_out(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    code = valid_credit_code()
    content = sheet_bytes(
        ["统一社会信用代码", "企业名称*", "区县", "城市", "省份（必填）"],
        [[code, "扬州广陵液压件有限公司", "广陵区", "扬州市", "江苏省"]],
    )

    response = await upload(client, auth(admin), "enterprises", content)

    assert response.status_code == 201, response.text
    stored = await session.scalar(select(Enterprise).where(Enterprise.credit_code == code))
    assert stored is not None
    assert (stored.name, stored.district, stored.town) == ("扬州广陵液压件有限公司", "广陵区", None)


# --- all or nothing ----------------------------------------------------------------------------------


async def test_500_rows_with_one_bad_check_character_write_nothing_and_name_the_cell(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    rows = [
        enterprise_row(f"扬州批量导入测试企业{i}", valid_credit_code(division="321023")) for i in range(500)
    ]
    # row 400 of the data is row 401 in Excel: 399 rows before it have gone through the service already
    rows[399][1] = with_wrong_check_character(rows[399][1])
    enterprises, events = await count(session, Enterprise), await count(session, AuditEvent)

    response = await upload(client, auth(admin), "enterprises", sheet_bytes(ENTERPRISE_HEADERS, rows))

    body = assert_problem(response, 422, "import_rows_invalid", field="credit_code")
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert (error["row"], error["column"], error["cell"]) == ("401", "统一社会信用代码", "B401")
    assert "校验位错误" in error["message"]
    assert "第 401 行" in body["detail"] and "未导入" in body["detail"]
    assert await count(session, Enterprise) == enterprises
    assert await count(session, AuditEvent) == events


async def test_every_bad_row_is_reported_with_its_column(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    rows = [
        expert_row("赵一"),
        expert_row(None),  # row 3: required name missing
        expert_row("钱二", 电子邮箱="not-an-email", 可承接协议数="很多"),  # row 4: two bad cells
        expert_row(
            "孙三", 挂职开始日期=date(2023, 7, 1), 挂职结束日期=date(2021, 6, 30)
        ),  # row 5: service rule
        expert_row("李四", 挂职开始日期="2021-02-30", 批次="第X批"),  # row 6: no such date, unreadable cohort
        expert_row("周五"),
    ]
    before = await count(session, Expert)

    response = await upload(client, auth(admin), "experts", sheet_bytes(EXPERT_HEADERS, rows))

    body = assert_problem(response, 422, "import_rows_invalid")
    reported = [(e["row"], e["column"], e["cell"]) for e in body["errors"]]
    assert reported == [
        ("3", "姓名", "A3"),
        ("4", "可承接协议数", "M4"),
        ("4", "电子邮箱", "O4"),
        ("5", "挂职结束日期", "L5"),
        ("6", "批次", "F6"),
        ("6", "挂职开始日期", "K6"),
    ]
    messages = {(e["row"], e["column"]): e["message"] for e in body["errors"]}
    assert messages[("3", "姓名")] == "必填项，不能为空"
    assert messages[("4", "可承接协议数")] == "必须是整数"
    assert messages[("4", "电子邮箱")].startswith("电子邮箱格式不正确")
    assert "开始日期" in messages[("5", "挂职结束日期")]
    assert "日期格式不正确" in messages[("6", "挂职开始日期")]
    assert await count(session, Expert) == before


async def test_duplicate_credit_codes_inside_the_file_are_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    code = valid_credit_code()
    rows = [
        enterprise_row("扬州甲机械有限公司", code),
        enterprise_row("扬州乙机械有限公司", valid_credit_code()),
        enterprise_row("扬州丙机械有限公司", code.lower()),  # the same code once normalised
    ]
    before = await count(session, Enterprise)

    response = await upload(client, auth(admin), "enterprises", sheet_bytes(ENTERPRISE_HEADERS, rows))

    body = assert_problem(response, 422, "import_rows_invalid", field="credit_code")
    assert [(e["row"], e["column"]) for e in body["errors"]] == [("4", "统一社会信用代码")]
    assert "与第 2 行" in body["errors"][0]["message"] and "重复" in body["errors"][0]["message"]
    assert await count(session, Enterprise) == before


async def test_a_credit_code_registered_already_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    existing = await make_enterprise(session)
    rows = [
        enterprise_row("扬州新登记机械有限公司", valid_credit_code()),
        enterprise_row("扬州重复登记机械有限公司", existing.credit_code),
    ]
    before = await count(session, Enterprise)

    response = await upload(client, auth(admin), "enterprises", sheet_bytes(ENTERPRISE_HEADERS, rows))

    body = assert_problem(response, 422, "import_rows_invalid")
    assert [(e["row"], e["column"], e["message"]) for e in body["errors"]] == [
        ("3", "统一社会信用代码", "已被其他企业登记")
    ]
    assert await count(session, Enterprise) == before


async def test_studio_rows_need_a_registered_enterprise_and_consistent_stars(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    enterprise = await make_enterprise(session)
    unknown = valid_credit_code(division="110105")
    stars_alone = [enterprise.credit_code, "己工作室", "工匠人才创新工作室", "己", None, None, 5, 2]
    rows = [
        [enterprise.credit_code, "甲工作室", "劳模创新工作室", "甲"],
        [unknown, "乙工作室", "劳模创新工作室", "乙"],  # row 3: well-formed code nobody registered
        [with_wrong_check_character(unknown), "丙工作室", "劳模创新工作室", "丙"],  # row 4
        [None, "丁工作室", "劳模创新工作室", "丁"],  # row 5
        [enterprise.credit_code, "戊工作室", "不存在的类型", "戊"],  # row 6
        stars_alone,  # row 7: two stars without an assessment date or score
        [91321003000000001, "庚工作室", "职工创新工作室", "庚"],  # row 8: the code typed as a number
    ]
    before = await count(session, Studio)

    response = await upload(client, auth(admin), "studios", sheet_bytes(STUDIO_HEADERS, rows))

    body = assert_problem(response, 422, "import_rows_invalid")
    errors = {e["row"]: e for e in body["errors"]}
    assert sorted(errors, key=int) == ["3", "4", "5", "6", "7", "8"]
    assert errors["3"]["column"] == "所属企业统一社会信用代码"
    assert unknown in errors["3"]["message"] and "请先登记" in errors["3"]["message"]
    assert errors["4"]["column"] == "所属企业统一社会信用代码" and "校验位" in errors["4"]["message"]
    assert errors["5"]["message"] == "必填项，不能为空"
    assert errors["6"]["column"] == "类型"
    assert errors["6"]["message"] == "取值无效，可选值：劳模创新工作室、工匠人才创新工作室、职工创新工作室"
    assert "评定日期" in errors["7"]["message"]  # register_studio's own rule, reached through the service
    assert errors["8"]["column"] == "所属企业统一社会信用代码" and "文本" in errors["8"]["message"]
    assert await count(session, Studio) == before


# --- the file as a whole -----------------------------------------------------------------------------


async def test_a_sheet_with_another_templates_headers_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studios = await template(client, auth(admin), "studios")

    response = await upload(client, auth(admin), "experts", studios)

    body = assert_problem(response, 422, "import_headers_invalid", field="header")
    messages = [e["message"] for e in body["errors"]]
    assert "缺少必填列“姓名”" in messages
    assert any("未知的列“工作室名称”" in m for m in messages)
    assert "科技镇长团名单" in body["detail"]


async def test_a_repeated_column_is_refused(client: AsyncClient, auth: Auth, admin: User) -> None:
    content = sheet_bytes([*ENTERPRISE_HEADERS, "省份"], [enterprise_row("扬州某公司", valid_credit_code())])

    response = await upload(client, auth(admin), "enterprises", content)

    body = assert_problem(response, 422, "import_headers_invalid")
    assert [(e["cell"], e["column"]) for e in body["errors"]] == [("H1", "省份")]
    assert "重复" in body["errors"][0]["message"]


async def test_files_that_are_not_xlsx_are_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    valid = sheet_bytes(ENTERPRISE_HEADERS, [enterprise_row("扬州某公司", valid_credit_code())])
    buffer = io.BytesIO()  # a zip without a workbook part, as a .docx is
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    docx_like = buffer.getvalue()
    cases = [
        ("企业.csv", "企业名称,统一社会信用代码\n".encode(), "import_file_not_xlsx", 415, "CSV"),
        ("企业.xls", bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 512, "import_file_not_xlsx", 415, ".xls"),
        ("企业.xlsx", "这不是表格".encode(), "import_file_not_xlsx", 415, "不是 Excel"),
        ("企业.xlsx", docx_like, "import_file_not_xlsx", 415, "不是 Excel"),
        ("企业.xlsx", b"", "import_file_not_xlsx", 415, "空的"),
        ("企业.pdf", valid, "import_file_not_xlsx", 415, ".pdf"),
        ("企业.xlsx", valid[: len(valid) // 2], "import_file_unreadable", 422, "损坏"),
        ("企业.xlsx", b"PK\x03\x04" + b"\x00" * 200, "import_file_unreadable", 422, "损坏"),
    ]
    before = await count(session, Enterprise)

    for filename, content, code, status, hint in cases:
        response = await upload(client, auth(admin), "enterprises", content, filename)
        body = assert_problem(response, status, code)
        assert hint in body["detail"], (filename, body)
    assert await count(session, Enterprise) == before


async def test_empty_sheets_are_refused(client: AsyncClient, auth: Auth, admin: User) -> None:
    untouched = await template(client, auth(admin), "enterprises")
    cases = [
        (sheet_bytes([]), "表格是空的"),
        (sheet_bytes(ENTERPRISE_HEADERS, [[None] * 7, ["  "] * 7]), "只有表头"),
        (untouched, "只有示例行"),
    ]
    for content, hint in cases:
        response = await upload(client, auth(admin), "enterprises", content)
        body = assert_problem(response, 422, "import_sheet_empty")
        assert hint in body["detail"]


async def test_an_upload_without_a_file_is_refused(client: AsyncClient, auth: Auth, admin: User) -> None:
    url = f"{IMPORTS}/enterprises"

    as_json = await client.post(url, headers=auth(admin), json={"file": "企业.xlsx"})
    wrong_field = await client.post(url, headers=auth(admin), files={"upload": ("企业.xlsx", b"x", XLSX)})
    plain_field = await client.post(url, headers=auth(admin), data={"file": "企业.xlsx"}, files={"x": b"1"})
    no_boundary = await client.post(
        url, headers={**auth(admin), "Content-Type": "multipart/form-data"}, content=b"--abc\r\n\r\nxx"
    )

    assert_problem(as_json, 422, "import_file_missing", field="file")
    assert_problem(wrong_field, 422, "import_file_missing")
    assert_problem(plain_field, 422, "import_file_missing")
    assert_problem(no_boundary, 400, "import_upload_malformed")


async def test_an_unknown_kind_is_refused(client: AsyncClient, auth: Auth, admin: User) -> None:
    template_response = await client.get(f"{IMPORTS}/orders/template", headers=auth(admin))
    upload_response = await upload(client, auth(admin), "users", sheet_bytes(["a"], [["b"]]))

    assert_problem(template_response, 422, "request_invalid", field="kind")
    assert_problem(upload_response, 422, "request_invalid", field="kind")
