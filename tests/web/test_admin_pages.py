"""The administrators' pages over HTTP (no browser): XLSX imports with their row report, the project catalogue
and yearly review through its forms, star assessments, and who may use them."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from typing import Any

from httpx import ASGITransport, AsyncClient, Response
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.agreements.models import AgreementStatus
from app.clock import local_today
from app.config import Settings
from app.enterprises.models import Enterprise
from app.orders.models import OrderStatus
from app.projects.models import ProjectFunding, ProjectReview, ReviewRound
from app.studios.models import StudioAssessment, StudioStatus
from app.transfer.schemas import ENTERPRISE_LAYOUT
from tests.conftest import app_on_session
from tests.factories import make_agreement, make_expert, make_order, make_studio, make_user, valid_credit_code
from tests.problems import Auth, count
from tests.web.test_pages import logged_in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YEAR = 2026


def enterprise_sheet(rows: list[list[Any]]) -> bytes:
    """An XLSX of the enterprise import: the template's Chinese headers in row 1, ``rows`` below."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "企业名单"
    sheet.append([column.header for column in ENTERPRISE_LAYOUT.columns])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def enterprise_row(name: str | None, code: str) -> list[Any]:
    return [name, code, "江苏省", "扬州市", "邗江区", "杭集镇", "装备制造"]


async def upload(client: AsyncClient, kind: str, content: bytes, token: str | None) -> Response:
    data = {"csrf_token": token} if token is not None else {}
    return await client.post(
        f"/admin/transfer/imports/{kind}", data=data, files={"file": ("企业名单.xlsx", content, XLSX)}
    )


def cell_texts(page: Response) -> list[str]:
    """The text of every table cell of a page, whitespace-trimmed."""
    return [
        re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", page.text, re.S)
    ]


# --- imports and exports -----------------------------------------------------------------------------


async def test_the_transfer_page_links_templates_and_exports(
    client: AsyncClient, session: AsyncSession, admin: User
) -> None:
    await logged_in(client, admin)
    page = await client.get("/admin/transfer")
    assert page.status_code == 200, page.text
    for kind in ("experts", "studios", "enterprises"):
        assert f'href="/api/v1/admin/imports/{kind}/template"' in page.text
        assert f'action="/admin/transfer/imports/{kind}" enctype="multipart/form-data"' in page.text
    for kind in ("orders", "agreements", "consultations", "trainings", "outcomes"):
        assert f'href="/api/v1/admin/exports/{kind}.xlsx"' in page.text
    assert "科技镇长团名单" in page.text
    # the links work with the page's session cookie
    template = await client.get("/api/v1/admin/imports/experts/template")
    assert template.status_code == 200 and template.headers["content-type"] == XLSX


async def test_a_bad_sheet_shows_the_row_report_in_chinese_and_writes_nothing(
    client: AsyncClient, session: AsyncSession, admin: User
) -> None:
    token = await logged_in(client, admin)
    good, bad = valid_credit_code(), valid_credit_code()
    bad = bad[:-1] + ("0" if bad[-1] != "0" else "1")  # a wrong check character
    before = await count(session, Enterprise)
    content = enterprise_sheet(
        [
            enterprise_row("扬州正确精密机械有限公司", good),
            enterprise_row("扬州错误代码有限公司", bad),
            enterprise_row(None, valid_credit_code()),
        ]
    )

    page = await upload(client, "enterprises", content, token)

    assert page.status_code == 422, page.text
    assert "text/html" in page.headers["content-type"]
    assert re.search(r"<th[^>]*>行</th><th[^>]*>列</th><th[^>]*>单元格</th><th[^>]*>问题</th>", page.text)
    assert "整份文件都未导入" in page.text
    cells = cell_texts(page)
    # row 3: the credit code in column B; row 4: the missing name in column A
    assert cells[cells.index("B3") - 2 : cells.index("B3") + 1] == ["第 3 行", "统一社会信用代码", "B3"]
    assert "校验" in cells[cells.index("B3") + 1], cells
    assert cells[cells.index("A4") - 2 : cells.index("A4") + 2] == [
        "第 4 行",
        "企业名称",
        "A4",
        "必填项，不能为空",
    ]
    assert "Traceback" not in page.text
    assert await count(session, Enterprise) == before  # not even the good row
    assert (await session.scalars(select(Enterprise).where(Enterprise.credit_code == good))).first() is None


async def test_a_good_sheet_shows_the_counts(client: AsyncClient, session: AsyncSession, admin: User) -> None:
    token = await logged_in(client, admin)
    before = await count(session, Enterprise)
    content = enterprise_sheet(
        [
            enterprise_row("扬州导入一号精密机械有限公司", valid_credit_code()),
            enterprise_row("扬州导入二号船舶配件有限公司", valid_credit_code()),
        ]
    )

    done = await upload(client, "enterprises", content, token)

    assert done.status_code == 303, done.text
    page = await client.get(done.headers["location"])
    assert page.status_code == 200
    assert "导入成功" in page.text
    assert re.search(r"“企业名单”导入成功：新建 <strong>2</strong> 条记录", page.text), page.text
    assert await count(session, Enterprise) == before + 2


async def test_a_file_that_is_not_xlsx_is_explained_on_the_page(
    client: AsyncClient, session: AsyncSession, admin: User
) -> None:
    token = await logged_in(client, admin)
    page = await client.post(
        "/admin/transfer/imports/experts",
        data={"csrf_token": token},
        files={"file": ("名单.csv", "姓名,职称\n李明,教授\n".encode(), "text/csv")},
    )
    assert page.status_code == 415, page.text
    assert "文件不是 XLSX 格式" in page.text and 'role="alert"' in page.text


async def test_no_file_and_a_file_over_the_cap_are_explained_on_the_page(
    settings: Settings, session: AsyncSession, admin: User
) -> None:
    app = app_on_session(settings.model_copy(update={"max_upload_bytes": 4096}), session)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as client:
        token = await logged_in(client, admin)
        # what a browser sends when no file was chosen: an empty part without a name
        none = await client.post(
            "/admin/transfer/imports/experts",
            data={"csrf_token": token},
            files={"file": ("", b"", "application/octet-stream")},
        )
        assert none.status_code == 422, none.text
        assert "未收到上传文件" in none.text and "请选择要上传的文件" in none.text
        big = await upload(client, "enterprises", b"PK\x03\x04" + b"0" * 200_000, token)
        assert big.status_code == 413, big.text
        assert "上传文件过大" in big.text and "4 KB" in big.text


async def test_an_upload_without_the_csrf_field_is_refused_and_writes_nothing(
    client: AsyncClient, session: AsyncSession, admin: User
) -> None:
    await logged_in(client, admin)
    before = await count(session, Enterprise)
    content = enterprise_sheet([enterprise_row("扬州无令牌机械有限公司", valid_credit_code())])

    page = await upload(client, "enterprises", content, token=None)

    assert page.status_code == 403
    assert "页面已过期" in page.text
    assert await count(session, Enterprise) == before
    wrong = await upload(client, "enterprises", content, token="not-the-token")
    assert wrong.status_code == 403 and await count(session, Enterprise) == before


# --- the project catalogue and the yearly review -----------------------------------------------------


async def uncatalogued_project(session: AsyncSession) -> tuple[int, int]:
    """The id of an agreement being carried out (not in the catalogue yet) and its expert's id.

    Ids only: a refused form rolls the shared session back, which would expire the objects.
    """
    studio = await make_studio(session)
    expert = await make_expert(session)
    await make_user(session, UserRole.EXPERT, expert=expert)
    order = await make_order(session, studio, status=OrderStatus.TAKEN, title="数控机床主轴振动诊断")
    agreement = await make_agreement(session, order, expert, status=AgreementStatus.IN_PROGRESS)
    await session.commit()
    return agreement.id, expert.id


async def test_catalogue_review_ranking_funding_and_close_through_the_forms(
    client: AsyncClient, session: AsyncSession, admin: User, auth: Auth
) -> None:
    agreement_id, own_expert_id = await uncatalogued_project(session)
    reviewer = await make_user(session, UserRole.EXPERT, expert=await make_expert(session, name="王评审"))
    await session.commit()
    reviewer_id, as_reviewer = reviewer.expert_id, auth(reviewer)
    token = await logged_in(client, admin)

    # the catalogue
    done = await client.post(
        "/admin/projects/catalogue", data={"csrf_token": token, "agreement_id": agreement_id}
    )
    assert done.status_code == 303, done.text
    page = await client.get(done.headers["location"])
    assert "已列入共建项目目录" in page.text and f'href="/agreements/{agreement_id}">查看协议' in page.text
    again = await client.post(
        "/admin/projects/catalogue", data={"csrf_token": token, "agreement_id": agreement_id}
    )
    assert again.status_code == 409 and "该协议已列入共建项目目录" in again.text
    typo = await client.post("/admin/projects/catalogue", data={"csrf_token": token, "agreement_id": "abc"})
    assert typo.status_code == 422
    assert 'id="catalogue-agreement_id-error">必须是整数' in typo.text

    # the round
    opened = await client.post("/admin/projects/rounds", data={"csrf_token": token, "year": YEAR})
    assert (
        opened.status_code == 303
        and opened.headers["location"] == f"/admin/projects/rounds/{YEAR}?flash=round_opened"
    )
    round_page = await client.get(opened.headers["location"])
    assert "年度评审已开启" in round_page.text
    assert re.search(rf'<option value="{reviewer_id}"\s*>王评审', round_page.text)
    twice = await client.post("/admin/projects/rounds", data={"csrf_token": token, "year": YEAR})
    assert twice.status_code == 409 and f"{YEAR} 年度的评审已经开启过" in twice.text

    # reviewers: the project's own expert must stand aside
    reviewers = f"/admin/projects/rounds/{YEAR}/reviewers"
    conflict = await client.post(
        reviewers, data={"csrf_token": token, "agreement_id": agreement_id, "expert_id": own_expert_id}
    )
    assert conflict.status_code == 409
    assert "该专家承担了该项目，或与项目所属企业有合作协议，按回避原则不能评审此项目" in conflict.text
    assert await count(session, ProjectReview) == 0
    assigned = await client.post(
        reviewers, data={"csrf_token": token, "agreement_id": agreement_id, "expert_id": reviewer_id}
    )
    assert assigned.status_code == 303, assigned.text
    after_assignment = (await client.get(assigned.headers["location"])).text
    assert "已安排评审专家" in after_assignment
    # the round's page lists who reviews what, before any score is in
    assert re.search(
        r"<td data-label=\"评审专家\">王评审</td>\s*<td data-label=\"状态\"><span class=\"status\">待评审",
        after_assignment,
    )

    # the reviewer scores through the API (the expert's own pages are not the administrators')
    reviews = await client.get("/api/v1/me/reviews", headers=as_reviewer)
    review_id = reviews.json()[0]["id"]
    scores = {"progress_score": 90, "technical_score": 80, "difficulty_score": 70, "benefit_score": 88}
    scored = await client.put(f"/api/v1/reviews/{review_id}", json=scores, headers=as_reviewer)
    assert scored.status_code == 200, scored.text

    # the ranking; closing before a decision is refused
    close = f"/admin/projects/rounds/{YEAR}/close"
    early = await client.post(close, data={"csrf_token": token})
    assert early.status_code == 409 and f"以下项目还没有资助决定：协议 #{agreement_id}" in early.text
    ranking = await client.get(f"/admin/projects/rounds/{YEAR}")
    assert re.search(rf'第 1 名</td>\s*<td[^>]*><a href="/agreements/{agreement_id}">', ranking.text)
    assert "82.00" in ranking.text

    # the funding decision: an amount is needed to fund
    funding = f"/admin/projects/rounds/{YEAR}/funding"
    form = {"csrf_token": token, "agreement_id": agreement_id, "decision": "funded", "note": "精度提升明显"}
    missing = await client.post(funding, data={**form, "amount": ""})
    assert missing.status_code == 422
    assert f'id="funding-{agreement_id}-amount-error">予以资助时必须填写' in missing.text
    decided = await client.post(funding, data={**form, "amount": "200000"})
    assert decided.status_code == 303, decided.text
    page = await client.get(decided.headers["location"])
    assert "资助决定已保存" in page.text and "予以资助" in page.text and "20 万元" in page.text
    saved = (await session.scalars(select(ProjectFunding))).one()
    assert (saved.agreement_id, saved.amount, saved.rank) == (agreement_id, 200000, 1)

    # closing makes it final: the forms go away
    closed = await client.post(close, data={"csrf_token": token})
    assert closed.status_code == 303, closed.text
    final = await client.get(closed.headers["location"])
    assert "年度评审已结束" in final.text and "已结束" in final.text
    assert f'action="/admin/projects/rounds/{YEAR}/funding"' not in final.text
    late = await client.post(funding, data={**form, "amount": "100"})
    assert late.status_code == 409 and f"{YEAR} 年度的评审已经结束" in late.text


async def test_an_unknown_round_is_a_chinese_404(
    client: AsyncClient, session: AsyncSession, admin: User
) -> None:
    await logged_in(client, admin)
    page = await client.get("/admin/projects/rounds/2099")
    assert page.status_code == 404 and "没有 2099 年度的评审" in page.text


# --- star assessments --------------------------------------------------------------------------------


async def test_a_star_assessment_through_the_form(
    client: AsyncClient, session: AsyncSession, admin: User
) -> None:
    studio = await make_studio(session, name="王建国数控工匠创新工作室")
    await session.commit()
    token = await logged_in(client, admin)
    listing = await client.get("/admin/studios?q=王建国数控")
    assert listing.status_code == 200 and f'href="/admin/studios/{studio.id}"' in listing.text
    today = local_today().isoformat()

    done = await client.post(
        f"/admin/studios/{studio.id}/assessments",
        data={
            "csrf_token": token,
            "expert_review_score": "95",
            "site_visit_score": "90",
            "demonstration_score": "88",
            "assessed_on": today,
            "note": "现场演示砂轮修整",
        },
    )

    assert done.status_code == 303, done.text
    page = await client.get(done.headers["location"])
    assert "星级评定已记录" in page.text
    assert "首次评定" in page.text and "91.40" in page.text and "3 星" in page.text
    await session.refresh(studio)
    assert (studio.star_rating, str(studio.star_score)) == (3, "91.40")

    delisted = await client.post(
        f"/admin/studios/{studio.id}/delisting", data={"csrf_token": token, "reason": "连续两年未开展活动"}
    )
    assert delisted.status_code == 303, delisted.text
    page = await client.get(delisted.headers["location"])
    assert "工作室已摘牌" in page.text and "连续两年未开展活动" in page.text
    await session.refresh(studio)
    assert studio.status is StudioStatus.DELISTED and studio.star_rating == 0


async def test_a_bad_score_shows_a_chinese_error_next_to_the_field(
    client: AsyncClient, session: AsyncSession, admin: User
) -> None:
    studio = await make_studio(session)
    await session.commit()
    token = await logged_in(client, admin)

    page = await client.post(
        f"/admin/studios/{studio.id}/assessments",
        data={
            "csrf_token": token,
            "expert_review_score": "120",
            "site_visit_score": "九十",
            "demonstration_score": "88",
            "assessed_on": local_today().isoformat(),
        },
    )

    assert page.status_code == 422
    assert 'id="expert_review_score-error">不能大于 100</p>' in page.text
    assert 'id="site_visit_score-error">必须是数字</p>' in page.text
    assert 'id="expert_review_score" name="expert_review_score" type="number" value="120"' in page.text
    assert await count(session, StudioAssessment) == 0
    blank = await client.post(
        f"/admin/studios/{studio.id}/delisting", data={"csrf_token": token, "reason": " "}
    )
    assert blank.status_code == 422 and 'id="reason-error">' in blank.text
    await session.refresh(studio)
    assert studio.status is StudioStatus.ACTIVE


# --- who may use the pages ---------------------------------------------------------------------------


async def test_non_admins_get_the_chinese_403_page(client: AsyncClient, session: AsyncSession) -> None:
    studio = await make_studio(session)
    await session.commit()
    for role in (UserRole.EXPERT, UserRole.ENTERPRISE):
        client.cookies.clear()
        token = await logged_in(client, await make_user(session, role))
        for path in (
            "/admin/transfer",
            "/admin/projects",
            f"/admin/projects/rounds/{YEAR}",
            "/admin/studios",
            f"/admin/studios/{studio.id}",
        ):
            page = await client.get(path)
            assert page.status_code == 403, (role, path)
            assert "您的账号角色不能访问此页面" in page.text and "text/html" in page.headers["content-type"]
        posted = await client.post(
            f"/admin/studios/{studio.id}/assessments",
            data={
                "csrf_token": token,
                "expert_review_score": "95",
                "site_visit_score": "90",
                "demonstration_score": "88",
                "assessed_on": local_today().isoformat(),
            },
        )
        assert posted.status_code == 403
        uploaded = await upload(
            client,
            "enterprises",
            enterprise_sheet([enterprise_row("扬州越权有限公司", valid_credit_code())]),
            token,
        )
        assert uploaded.status_code == 403 and "您的账号角色不能访问此页面" in uploaded.text
    assert await count(session, StudioAssessment) == 0


async def test_forms_without_the_csrf_token_are_refused(
    client: AsyncClient, session: AsyncSession, admin: User
) -> None:
    studio = await make_studio(session)
    await session.commit()
    await logged_in(client, admin)
    attempts = [
        ("/admin/projects/rounds", {"year": YEAR}),
        ("/admin/projects/catalogue", {"agreement_id": 1}),
        (f"/admin/projects/rounds/{YEAR}/close", {}),
        (
            f"/admin/studios/{studio.id}/assessments",
            {
                "expert_review_score": "95",
                "site_visit_score": "90",
                "demonstration_score": "88",
                "assessed_on": local_today().isoformat(),
            },
        ),
        (f"/admin/studios/{studio.id}/delisting", {"reason": "未开展活动"}),
    ]
    for path, data in attempts:
        page = await client.post(path, data=data)
        assert page.status_code == 403, path
        assert "页面已过期" in page.text
    assert await count(session, StudioAssessment) == 0
    assert await count(session, ReviewRound) == 0


async def test_the_dashboard_breakdowns_name_their_grouping_in_full(
    client: AsyncClient, session: AsyncSession, admin: User
) -> None:
    await logged_in(client, admin)

    page = await client.get("/admin")

    assert page.status_code == 200
    for grouping in ("区县", "专家批次", "工作室星级", "创新联盟"):
        first_header = re.search(
            rf'aria-label="按{grouping}">\s*<thead><tr><th scope="col">([^<]+)</th>', page.text
        )
        assert first_header and first_header.group(1) == grouping, grouping


async def test_a_rating_on_the_studios_record_is_its_first_assessment(
    client: AsyncClient, session: AsyncSession, admin: User
) -> None:
    studio = await make_studio(
        session, star_rating=2, star_score=Decimal("84.50"), star_assessed_on=date(2023, 11, 20)
    )
    await session.commit()
    token = await logged_in(client, admin)

    page = await client.get(f"/admin/studios/{studio.id}")

    assert "还没有评定记录" not in page.text
    assert "原有评级" in page.text and "84.50" in page.text and "2023-11-20" in page.text
    scores = {"expert_review_score": "80", "site_visit_score": "80", "demonstration_score": "80"}
    too_early = await client.post(
        f"/admin/studios/{studio.id}/assessments",
        data={"csrf_token": token, **scores, "assessed_on": "2023-10-01"},
    )
    assert too_early.status_code == 422, too_early.text
    assert "评定日期早于上次评定" in too_early.text or "2023-11-20" in too_early.text
    done = await client.post(
        f"/admin/studios/{studio.id}/assessments",
        data={"csrf_token": token, **scores, "assessed_on": local_today().isoformat()},
    )
    assert done.status_code == 303, done.text
    assessment = await session.scalar(select(StudioAssessment).where(StudioAssessment.studio_id == studio.id))
    assert assessment is not None and assessment.kind.value == "reassessment"  # 复评, not 首次评定
