"""``/api/v1/admin/exports/{kind}.xlsx``: Chinese headers and labels, real dates, frozen header, UTF-8 names."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import pytest
from httpx import AsyncClient
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.agreements.models import (
    Agreement,
    AgreementStatus,
    Consultation,
    ConsultationCadence,
    ConsultationKind,
    Outcome,
    OutcomeKind,
    Training,
    TrainingKind,
)
from app.orders.models import NeedKind, OrderStatus
from tests.factories import make_enterprise, make_expert, make_order, make_studio
from tests.problems import Auth, assert_problem
from tests.transfer.workbooks import EXPORTS, XLSX, open_xlsx

ORDER_HEADERS = [
    "编号",
    "标题",
    "需求类型",
    "状态",
    "所属工作室",
    "所属企业",
    "领域",
    "预算下限（元）",
    "预算上限（元）",
    "截止日期",
    "省份",
    "城市",
    "区县",
    "乡镇/街道",
    "名额",
    "发布时间",
    "创建时间",
    "更新时间",
    "描述",
]


async def export(client: AsyncClient, headers: dict[str, str], kind: str, filename: str) -> Worksheet:
    response = await client.get(f"{EXPORTS}/{kind}.xlsx", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="{kind}.xlsx"' in disposition
    assert f"filename*=UTF-8''{quote(filename)}" in disposition
    sheet = open_xlsx(response.content).worksheets[0]
    assert sheet.freeze_panes == "A2"
    return sheet


def records(sheet: Worksheet) -> list[dict[str, Any]]:
    headers = [c.value for c in sheet[1]]
    return [dict(zip(headers, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]


async def test_orders_export_has_chinese_headers_labels_and_real_dates(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    enterprise = await make_enterprise(session, name="扬州晨光数控机床有限公司")
    studio = await make_studio(session, enterprise, name="王建国工匠人才创新工作室")
    published = await make_order(session, studio, fields=["数控加工", "振动诊断"], deadline=date(2027, 3, 31))
    published.published_at = datetime(2026, 1, 5, 1, 30, tzinfo=UTC)
    draft = await make_order(
        session,
        studio,
        title='=HYPERLINK("http://example.com","点此")',
        status=OrderStatus.DRAFT,
        need_kind=NeedKind.TRAINING,
        budget_min=None,
        budget_max=None,
        deadline=None,
    )
    await session.flush()

    sheet = await export(client, auth(admin), "orders", "需求导出.xlsx")

    assert sheet.title == "需求"
    assert [c.value for c in sheet[1]] == ORDER_HEADERS
    rows = {row["编号"]: row for row in records(sheet)}
    assert set(rows) == {published.id, draft.id}
    first = rows[published.id]
    assert first["标题"] == "数控机床主轴振动诊断"
    assert (first["需求类型"], first["状态"]) == ("技术攻关", "已发布")
    assert (first["所属工作室"], first["所属企业"]) == (
        "王建国工匠人才创新工作室",
        "扬州晨光数控机床有限公司",
    )
    assert first["领域"] == "数控加工、振动诊断"
    assert (first["预算下限（元）"], first["预算上限（元）"]) == (50_000, 100_000)
    assert first["截止日期"] == datetime(2027, 3, 31)  # a real Excel date, not text
    assert first["发布时间"] == datetime(2026, 1, 5, 9, 30)  # China time
    assert isinstance(first["创建时间"], datetime)
    second = rows[draft.id]
    assert (second["需求类型"], second["状态"]) == ("人才培训", "草稿")
    assert second["截止日期"] is None and second["发布时间"] is None
    # a formula-looking title stays text
    title_cell = next(c for c in sheet["B"] if c.value == '=HYPERLINK("http://example.com","点此")')
    assert title_cell.data_type == "s"
    deadline_cells = [c for c in sheet["J"][1:] if c.value is not None]
    assert deadline_cells and all(c.is_date and c.number_format == "yyyy-mm-dd" for c in deadline_cells)
    assert (sheet.column_dimensions["E"].width or 0) >= 2 * len("王建国工匠人才创新工作室")


async def test_an_export_without_records_has_only_its_header(
    client: AsyncClient, auth: Auth, admin: User
) -> None:
    sheet = await export(client, auth(admin), "outcomes", "合作成果导出.xlsx")

    assert sheet.max_row == 1
    assert [c.value for c in sheet[1]][:7] == [
        "编号",
        "协议编号",
        "需求标题",
        "专家",
        "所属工作室",
        "所属企业",
        "类型",
    ]


async def make_agreement_with_work(session: AsyncSession) -> Agreement:
    enterprise = await make_enterprise(session, name="扬州海工装备有限公司")
    studio = await make_studio(session, enterprise, name="李华劳模创新工作室")
    order = await make_order(session, studio, title="船用钢板机器人焊接变形控制", status=OrderStatus.TAKEN)
    expert = await make_expert(session, name="周海燕")
    agreement = Agreement(
        order_id=order.id,
        expert_id=expert.id,
        studio_id=studio.id,
        enterprise_id=enterprise.id,
        status=AgreementStatus.IN_PROGRESS,
        goals="焊接变形降低 30%",
        deliverables="焊接工艺规程一份",
        duration_months=12,
        start_date=date(2026, 3, 1),
        end_date=date(2027, 2, 28),
        consultation_cadence=ConsultationCadence.MONTHLY,
        funding_amount=200_000,
        funding_source="市总工会创新项目资助",
        enterprise_signed_at=datetime(2026, 2, 27, 2, 0, tzinfo=UTC),
    )
    session.add(agreement)
    await session.flush()
    session.add_all(
        [
            Consultation(
                agreement_id=agreement.id,
                kind=ConsultationKind.DIAGNOSIS,
                held_on=date(2026, 4, 10),
                participants="周海燕、李华",
                minutes="分析焊接顺序对变形的影响",
            ),
            Training(
                agreement_id=agreement.id,
                kind=TrainingKind.APPRENTICESHIP,
                held_on=date(2026, 5, 8),
                trainee_count=12,
                hours=16.5,
                note="机器人焊接编程",
            ),
            Outcome(
                agreement_id=agreement.id,
                kind=OutcomeKind.INVENTION_PATENT,
                title="一种船用钢板焊接变形控制方法",
                value_yuan=130_000,
                patent_number="ZL202610000001.X",
                converted=True,
                achieved_on=date(2026, 9, 1),
            ),
        ]
    )
    await session.flush()
    return agreement


PARTIES = {
    "需求标题": "船用钢板机器人焊接变形控制",
    "专家": "周海燕",
    "所属工作室": "李华劳模创新工作室",
    "所属企业": "扬州海工装备有限公司",
}


@pytest.mark.parametrize(
    ("kind", "sheet_title", "filename", "expected"),
    [
        (
            "agreements",
            "合作协议",
            "合作协议导出.xlsx",
            {
                "状态": "已签署/执行中",
                "会商频次": "每月",
                "合作期限（月）": 12,
                "开始日期": datetime(2026, 3, 1),
                "资助金额（元）": 200_000,
                "企业签署时间": datetime(2026, 2, 27, 10, 0),
                "专家签署时间": None,
            },
        ),
        (
            "consultations",
            "会商记录",
            "会商记录导出.xlsx",
            {"类型": "咨询会诊", "会商日期": datetime(2026, 4, 10), "参加人员": "周海燕、李华"},
        ),
        (
            "trainings",
            "人才培养",
            "人才培养导出.xlsx",
            {"类型": "新型学徒制", "培训日期": datetime(2026, 5, 8), "培训人次": 12, "学时": 16.5},
        ),
        (
            "outcomes",
            "合作成果",
            "合作成果导出.xlsx",
            {
                "类型": "发明专利",
                "成果名称": "一种船用钢板焊接变形控制方法",
                "价值（元）": 130_000,
                "是否转化": "是",
                "取得日期": datetime(2026, 9, 1),
            },
        ),
    ],
)
async def test_agreement_exports_show_parties_and_chinese_labels(
    client: AsyncClient,
    session: AsyncSession,
    auth: Auth,
    admin: User,
    kind: str,
    sheet_title: str,
    filename: str,
    expected: dict[str, Any],
) -> None:
    agreement = await make_agreement_with_work(session)

    sheet = await export(client, auth(admin), kind, filename)

    assert sheet.title == sheet_title
    (row,) = records(sheet)
    assert row["协议编号"] == agreement.id
    for header, value in {**PARTIES, **expected}.items():
        assert row[header] == value, header


async def test_an_unknown_export_is_refused(client: AsyncClient, auth: Auth, admin: User) -> None:
    response = await client.get(f"{EXPORTS}/users.xlsx", headers=auth(admin))

    assert_problem(response, 422, "request_invalid", field="kind")
