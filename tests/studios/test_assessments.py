"""Studio star assessments (星级评定): the arithmetic, ``/studios/{id}/assessments`` and ``/studios/{id}/delisting``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient, Response
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.audit.models import AuditEvent
from app.clock import local_today
from app.config import Settings, StarRatingPolicy
from app.studios.models import AssessmentKind, Studio, StudioAssessment, StudioStatus
from app.studios.rating import rate, stars_for
from app.studios.schemas import AssessmentCreate
from tests.conftest import app_on_session
from tests.factories import make_enterprise, make_studio, make_user
from tests.problems import CJK, Auth, assert_problem, count

DEFAULT = StarRatingPolicy()
# the expert review alone decides, with lower bars: a policy nobody would mistake for the default
EXPERT_ONLY = StarRatingPolicy(
    expert_review_weight=1,
    site_visit_weight=0,
    demonstration_weight=0,
    one_star=50,
    two_stars=70,
    three_stars=80,
)


def url(studio: Studio | int, what: str = "assessments") -> str:
    studio_id = studio if isinstance(studio, int) else studio.id
    return f"/api/v1/studios/{studio_id}/{what}"


def scores(
    expert_review: Any = "80",
    site_visit: Any = "80",
    demonstration: Any = "80",
    assessed_on: date | str = date(2023, 6, 30),
    **extra: Any,
) -> dict[str, Any]:
    """The body of ``POST /studios/{id}/assessments``."""
    body: dict[str, Any] = {
        "expert_review_score": expert_review,
        "site_visit_score": site_visit,
        "demonstration_score": demonstration,
        "assessed_on": assessed_on if isinstance(assessed_on, str) else assessed_on.isoformat(),
    }
    body.update(extra)
    return body


async def assess(client: AsyncClient, auth: Auth, admin: User, studio: Studio, **body: Any) -> dict[str, Any]:
    response = await client.post(url(studio), headers=auth(admin), json=scores(**body))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def history(session: AsyncSession, studio: Studio) -> list[StudioAssessment]:
    rows = await session.scalars(
        select(StudioAssessment).where(StudioAssessment.studio_id == studio.id).order_by(StudioAssessment.id)
    )
    return list(rows.all())


async def audit_actions(session: AsyncSession, entity_type: str, entity_id: int) -> list[AuditEvent]:
    rows = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.id)
    )
    return list(rows.all())


@pytest.fixture
async def expert_only_client(settings: Settings, session: AsyncSession) -> AsyncIterator[AsyncClient]:
    """A client for an app configured with the ``EXPERT_ONLY`` policy, sharing the test's session."""
    app = app_on_session(settings.model_copy(update={"star_rating": EXPERT_ONLY}), session)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


# --- the arithmetic ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "stars"),
    [
        ("0", 0),
        ("59.99", 0),
        ("60", 1),
        ("74.99", 1),
        ("75", 2),
        ("89.99", 2),
        ("90", 3),
        ("100", 3),
    ],
)
def test_thresholds_are_inclusive_lower_bounds(score: str, stars: int) -> None:
    rating = rate(Decimal(score), Decimal(score), Decimal(score), DEFAULT)

    assert rating.total == Decimal(score).quantize(Decimal("0.01"))
    assert rating.stars == stars


def test_default_weights_are_40_30_30() -> None:
    rating = rate(Decimal("80"), Decimal("70"), Decimal("60"), DEFAULT)

    assert rating.total == Decimal("71.00")  # 32 + 21 + 18
    assert rating.stars == 1


def test_weights_come_from_the_policy() -> None:
    expert_review, site_visit, demonstration = Decimal("95"), Decimal("10"), Decimal("10")

    assert rate(expert_review, site_visit, demonstration, EXPERT_ONLY).total == Decimal("95.00")
    assert rate(expert_review, site_visit, demonstration, EXPERT_ONLY).stars == 3
    assert rate(expert_review, site_visit, demonstration, DEFAULT).total == Decimal("44.00")
    assert rate(expert_review, site_visit, demonstration, DEFAULT).stars == 0


def test_thresholds_come_from_the_policy() -> None:
    assert stars_for(Decimal("49.99"), EXPERT_ONLY) == 0
    assert stars_for(Decimal("50.00"), EXPERT_ONLY) == 1
    assert stars_for(Decimal("70.00"), EXPERT_ONLY) == 2
    assert stars_for(Decimal("80.00"), EXPERT_ONLY) == 3
    assert stars_for(Decimal("80.00"), DEFAULT) == 2


def test_total_is_rounded_half_up_to_two_decimals() -> None:
    halves = StarRatingPolicy(expert_review_weight=0.5, site_visit_weight=0.5, demonstration_weight=0)

    # 59.985 → 59.99 (half up; banker's rounding would give 59.98)
    assert rate(Decimal("59.97"), Decimal("60"), Decimal("0"), halves).total == Decimal("59.99")


def test_stars_follow_the_rounded_total() -> None:
    halves = StarRatingPolicy(expert_review_weight=0.5, site_visit_weight=0.5, demonstration_weight=0)

    rating = rate(Decimal("59.99"), Decimal("60"), Decimal("0"), halves)  # 59.995

    assert rating.total == Decimal("60.00")
    assert rating.stars == 1


def test_weights_summing_to_one_within_tolerance_never_exceed_100() -> None:
    thirds = StarRatingPolicy(
        expert_review_weight=0.3333333, site_visit_weight=0.3333333, demonstration_weight=0.3333334
    )

    assert rate(Decimal("100"), Decimal("100"), Decimal("100"), thirds).total == Decimal("100.00")


@pytest.mark.parametrize("bad", ["-0.01", "100.01"])
def test_scores_outside_0_to_100_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        rate(Decimal(bad), Decimal("80"), Decimal("80"), DEFAULT)


# --- POST /studios/{id}/assessments ---------------------------------------------------------------


async def test_first_assessment_is_initial_and_sets_the_studio_rating(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)

    body = await assess(
        client,
        auth,
        admin,
        studio,
        expert_review="92.5",
        site_visit="88",
        demonstration="90",
        note="现场演示流畅",
    )

    assessment = body["assessment"]
    assert assessment["kind"] == "initial"
    assert assessment["kind_label"] == "首次评定"
    assert Decimal(str(assessment["total_score"])) == Decimal("90.40")  # 37 + 26.4 + 27
    assert assessment["stars"] == 3
    assert assessment["assessed_on"] == "2023-06-30"
    assert assessment["note"] == "现场演示流畅"
    assert assessment["assessed_by_user_id"] == admin.id
    assert assessment["weights"] == DEFAULT.model_dump()
    assert body["studio"]["star_rating"] == 3
    assert Decimal(str(body["studio"]["star_score"])) == Decimal("90.40")
    assert body["studio"]["star_assessed_on"] == "2023-06-30"
    assert body["studio"]["status"] == "active"
    [row] = await history(session, studio)
    assert (row.expert_review_score, row.total_score, row.stars) == (Decimal("92.50"), Decimal("90.40"), 3)


@pytest.mark.parametrize(("score", "stars"), [("59.99", 0), ("60", 1), ("75", 2), ("90", 3)])
async def test_threshold_edges_through_the_api(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, score: str, stars: int
) -> None:
    studio = await make_studio(session)

    body = await assess(
        client, auth, admin, studio, expert_review=score, site_visit=score, demonstration=score
    )

    assert body["assessment"]["stars"] == stars
    assert body["studio"]["star_rating"] == stars


async def test_the_apps_configured_policy_is_used_and_stored(
    expert_only_client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)

    response = await expert_only_client.post(url(studio), headers=auth(admin), json=scores("85", "10", "10"))

    assert response.status_code == 201, response.text
    assessment = response.json()["assessment"]
    assert Decimal(str(assessment["total_score"])) == Decimal("85.00")
    assert assessment["stars"] == 3  # 44.50 and no star under the default policy
    assert assessment["weights"] == EXPERT_ONLY.model_dump()
    [row] = await history(session, studio)
    assert row.weights["expert_review_weight"] == 1
    assert row.weights["three_stars"] == 80


async def test_a_later_policy_change_does_not_rewrite_history(
    client: AsyncClient,
    expert_only_client: AsyncClient,
    session: AsyncSession,
    auth: Auth,
    admin: User,
) -> None:
    studio = await make_studio(session)
    await assess(client, auth, admin, studio, expert_review="85", site_visit="10", demonstration="10")

    response = await expert_only_client.get(url(studio), headers=auth(admin))

    assert response.status_code == 200, response.text
    [entry] = response.json()
    assert entry["stars"] == 0
    assert Decimal(str(entry["total_score"])) == Decimal("40.00")  # 34 + 3 + 3
    assert entry["weights"] == DEFAULT.model_dump()


async def test_history_is_kept_newest_first_and_the_studio_follows_the_latest(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)
    await assess(
        client,
        auth,
        admin,
        studio,
        assessed_on=date(2020, 6, 30),
        expert_review="70",
        site_visit="70",
        demonstration="70",
    )
    await assess(
        client,
        auth,
        admin,
        studio,
        assessed_on=date(2022, 6, 30),
        expert_review="100",
        site_visit="95",
        demonstration="95",
    )
    last = await assess(
        client,
        auth,
        admin,
        studio,
        assessed_on=date(2024, 6, 30),
        expert_review="76",
        site_visit="76",
        demonstration="76",
    )

    response = await client.get(url(studio), headers=auth(admin))

    assert response.status_code == 200, response.text
    entries = response.json()
    assert [e["assessed_on"] for e in entries] == ["2024-06-30", "2022-06-30", "2020-06-30"]
    assert [e["kind"] for e in entries] == ["downgrade", "reassessment", "initial"]
    assert [e["stars"] for e in entries] == [2, 3, 1]
    assert entries[0]["id"] == last["assessment"]["id"]
    await session.refresh(studio)
    assert (studio.star_rating, studio.star_score, studio.star_assessed_on) == (
        2,
        Decimal("76.00"),
        date(2024, 6, 30),
    )


async def test_two_assessments_on_one_day_list_the_later_recorded_first(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)
    first = await assess(client, auth, admin, studio, note="初评")
    second = await assess(client, auth, admin, studio, note="复核")

    response = await client.get(url(studio), headers=auth(admin))

    assert [e["id"] for e in response.json()] == [second["assessment"]["id"], first["assessment"]["id"]]
    assert second["assessment"]["kind"] == "reassessment"


async def test_fewer_stars_than_the_current_rating_is_a_downgrade(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)
    await assess(
        client,
        auth,
        admin,
        studio,
        assessed_on=date(2021, 6, 30),
        expert_review="95",
        site_visit="95",
        demonstration="95",
    )

    body = await assess(
        client,
        auth,
        admin,
        studio,
        assessed_on=date(2024, 6, 30),
        expert_review="61",
        site_visit="61",
        demonstration="61",
    )

    assert body["assessment"]["kind"] == "downgrade"
    assert body["assessment"]["kind_label"] == "降级"
    assert body["studio"]["star_rating"] == 1
    rows = await history(session, studio)
    assert [r.kind for r in rows] == [AssessmentKind.INITIAL, AssessmentKind.DOWNGRADE]


async def test_keeping_the_same_stars_is_a_reassessment_not_a_downgrade(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)
    await assess(
        client,
        auth,
        admin,
        studio,
        assessed_on=date(2021, 6, 30),
        expert_review="89",
        site_visit="89",
        demonstration="89",
    )

    body = await assess(
        client,
        auth,
        admin,
        studio,
        assessed_on=date(2024, 6, 30),
        expert_review="75",
        site_visit="75",
        demonstration="75",
    )

    assert body["assessment"]["kind"] == "reassessment"
    assert body["studio"]["star_rating"] == 2


async def test_first_assessment_below_a_hand_set_rating_is_a_downgrade(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(
        session, star_rating=3, star_score=Decimal("91.00"), star_assessed_on=date(2019, 6, 30)
    )

    body = await assess(client, auth, admin, studio, expert_review="80", site_visit="80", demonstration="80")

    assert body["assessment"]["kind"] == "downgrade"
    assert body["studio"]["star_rating"] == 2


async def test_an_active_studio_falling_below_one_star_stays_listed_with_no_star(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)
    await assess(client, auth, admin, studio, assessed_on=date(2021, 6, 30))

    body = await assess(
        client,
        auth,
        admin,
        studio,
        assessed_on=date(2024, 6, 30),
        expert_review="50",
        site_visit="50",
        demonstration="50",
    )

    assert body["assessment"]["kind"] == "downgrade"
    assert body["studio"]["star_rating"] == 0
    assert body["studio"]["status"] == "active"


async def test_assessment_dated_today_is_accepted(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)

    body = await assess(client, auth, admin, studio, assessed_on=local_today())

    assert body["studio"]["star_assessed_on"] == local_today().isoformat()


async def test_assessment_dated_in_the_future_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)

    response = await client.post(
        url(studio), headers=auth(admin), json=scores(assessed_on=local_today() + timedelta(days=1))
    )

    assert_problem(response, 422, "studio_assessment_date_future", field="assessed_on")
    assert await history(session, studio) == []
    await session.refresh(studio)
    assert studio.star_rating == 0


async def test_assessment_dated_before_the_latest_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)
    await assess(
        client,
        auth,
        admin,
        studio,
        assessed_on=date(2024, 6, 30),
        expert_review="95",
        site_visit="95",
        demonstration="95",
    )

    response = await client.post(url(studio), headers=auth(admin), json=scores(assessed_on="2023-06-30"))

    body = assert_problem(response, 422, "studio_assessment_out_of_order", field="assessed_on")
    assert "2024-06-30" in body["detail"]
    assert len(await history(session, studio)) == 1
    await session.refresh(studio)
    assert studio.star_rating == 3


def _bad(field: str, value: Any) -> dict[str, Any]:
    body = scores()
    body[field] = value
    return body


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (_bad("expert_review_score", "100.01"), "expert_review_score", "不能大于 100"),
        (_bad("site_visit_score", -1), "site_visit_score", "不能小于 0"),
        (_bad("demonstration_score", "85.123"), "demonstration_score", "最多保留两位小数"),
        (_bad("expert_review_score", "八十五"), "expert_review_score", "必须是数字"),
        (_bad("expert_review_score", None), "expert_review_score", "必须是 0 到 100 之间的数字"),
        (_bad("site_visit_score", True), "site_visit_score", "必须是 0 到 100 之间的数字"),
        (_bad("site_visit_score", "NaN"), "site_visit_score", "必须是 0 到 100 之间的数字"),
        (_bad("demonstration_score", "Infinity"), "demonstration_score", "必须是 0 到 100 之间的数字"),
        (_bad("demonstration_score", [90]), "demonstration_score", "必须是 0 到 100 之间的数字"),
        (
            {k: v for k, v in scores().items() if k != "site_visit_score"},
            "site_visit_score",
            "必填项，不能为空",
        ),
        (_bad("assessed_on", "2023-13-01"), "assessed_on", None),
        (_bad("assessed_on", None), "assessed_on", None),
        (_bad("note", "x" * 4001), "note", "长度不能超过 4000 个字符"),
        (scores(stars=3), "stars", "不允许的字段"),
        (scores(kind="initial"), "kind", "不允许的字段"),
    ],
)
async def test_bad_input_is_a_422_with_chinese_field_messages(
    client: AsyncClient,
    session: AsyncSession,
    auth: Auth,
    admin: User,
    body: dict[str, Any],
    field: str,
    message: str | None,
) -> None:
    studio = await make_studio(session)

    response = await client.post(url(studio), headers=auth(admin), json=body)

    problem = assert_problem(response, 422, "request_invalid", field=field)
    [entry] = [e for e in problem["errors"] if e["field"] == field]
    assert CJK.search(entry["message"]), entry
    if message is not None:
        assert entry["message"] == message
    assert await history(session, studio) == []


async def test_a_body_that_is_not_json_is_a_400_not_a_500(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)

    response = await client.post(
        url(studio),
        headers={**auth(admin), "Content-Type": "application/json"},
        content=b'{"expert_review_score": 80,',
    )

    assert_problem(response, 400, "malformed_json")


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=30),
    st.sampled_from(
        ["", " ", "\x00", "1e999999", "1E+2", "-0", "59.995", "2020-02-30", "9999-12-31", "０８５"]
    ),
)
_values = st.one_of(
    _scalars, st.lists(_scalars, max_size=3), st.dictionaries(st.text(max_size=3), _scalars, max_size=2)
)
_keys = st.one_of(st.sampled_from(sorted(AssessmentCreate.model_fields)), st.text(max_size=8))


@fuzz_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(_keys, _values, max_size=3))
async def test_random_assessment_bodies_never_cause_a_server_error(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, changes: dict[str, Any]
) -> None:
    studio = await make_studio(session)

    response = await client.post(url(studio), headers=auth(admin), json={**scores(), **changes})

    assert response.status_code in {201, 422}, (changes, response.text)
    if response.status_code == 422:
        assert_problem(response, 422, response.json()["code"])


async def test_scores_are_normalised_to_two_decimals(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)

    await assess(client, auth, admin, studio, expert_review="1E+2", site_visit=85.1, demonstration="-0")

    [row] = await history(session, studio)
    assert (row.expert_review_score, row.site_visit_score, row.demonstration_score) == (
        Decimal("100.00"),
        Decimal("85.10"),
        Decimal("0.00"),
    )


async def test_assessing_an_unknown_studio_is_not_found(client: AsyncClient, auth: Auth, admin: User) -> None:
    response = await client.post(url(2_000_000_000), headers=auth(admin), json=scores())

    assert_problem(response, 404, "studio_not_found")


async def test_history_of_an_unknown_studio_is_not_found(
    client: AsyncClient, auth: Auth, admin: User
) -> None:
    response = await client.get(url(2_000_000_000), headers=auth(admin))

    assert_problem(response, 404, "studio_not_found")


# --- permissions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [UserRole.ENTERPRISE, UserRole.EXPERT])
async def test_only_administrators_assess(
    client: AsyncClient, session: AsyncSession, auth: Auth, role: UserRole
) -> None:
    enterprise = await make_enterprise(session)
    studio = await make_studio(session, enterprise)
    # the enterprise user belongs to the studio's own enterprise: owning a studio is not enough
    user = await make_user(session, role, enterprise=enterprise if role is UserRole.ENTERPRISE else None)

    response = await client.post(url(studio), headers=auth(user), json=scores())

    assert_problem(response, 403, "forbidden")
    assert await history(session, studio) == []


@pytest.mark.parametrize("role", [UserRole.ENTERPRISE, UserRole.EXPERT])
async def test_only_administrators_read_the_history(
    client: AsyncClient, session: AsyncSession, auth: Auth, role: UserRole
) -> None:
    studio = await make_studio(session)
    user = await make_user(session, role)

    response = await client.get(url(studio), headers=auth(user))

    assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize("role", [UserRole.ENTERPRISE, UserRole.EXPERT])
async def test_only_administrators_delist(
    client: AsyncClient, session: AsyncSession, auth: Auth, role: UserRole
) -> None:
    studio = await make_studio(session)
    user = await make_user(session, role)

    response = await client.post(url(studio, "delisting"), headers=auth(user), json={"reason": "企业已注销"})

    assert_problem(response, 403, "forbidden")
    await session.refresh(studio)
    assert studio.status is StudioStatus.ACTIVE


async def test_non_administrators_cannot_probe_which_studios_exist(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)

    response = await client.post(url(2_000_000_000), headers=auth(user), json=scores())

    assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize(
    ("method", "what", "body"),
    [("post", "assessments", scores()), ("get", "assessments", None), ("post", "delisting", {"reason": "x"})],
)
async def test_assessment_endpoints_require_login(
    client: AsyncClient, session: AsyncSession, method: str, what: str, body: dict[str, Any] | None
) -> None:
    studio = await make_studio(session)

    response: Response = await client.request(method, url(studio, what), json=body)

    assert_problem(response, 401, "unauthenticated")


# --- POST /studios/{id}/delisting ----------------------------------------------------------------


async def test_delisting_records_the_reason_and_takes_the_stars(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)
    await assess(client, auth, admin, studio, expert_review="92", site_visit="92", demonstration="92")

    response = await client.post(
        url(studio, "delisting"),
        headers=auth(admin),
        json={"reason": "  复评未按期提交材料，经审议予以摘牌  "},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["assessment"]["kind"] == "delisting"
    assert body["assessment"]["kind_label"] == "摘牌"
    assert body["assessment"]["stars"] == 0
    assert body["assessment"]["note"] == "复评未按期提交材料，经审议予以摘牌"
    assert body["assessment"]["assessed_on"] == local_today().isoformat()
    assert body["studio"]["status"] == "delisted"
    assert body["studio"]["star_rating"] == 0
    history_response = await client.get(url(studio), headers=auth(admin))
    assert [e["kind"] for e in history_response.json()] == ["delisting", "initial"]
    await session.refresh(studio)
    assert studio.status is StudioStatus.DELISTED


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "必填项，不能为空"),
        ({"reason": ""}, "不能为空，请填写摘牌原因"),
        ({"reason": "  \n "}, "不能为空，请填写摘牌原因"),
    ],
)
async def test_delisting_without_a_reason_is_refused_in_chinese(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, body: dict[str, Any], message: str
) -> None:
    studio = await make_studio(session)

    response = await client.post(url(studio, "delisting"), headers=auth(admin), json=body)

    problem = assert_problem(response, 422, "request_invalid", field="reason")
    assert {"field": "reason", "message": message} in problem["errors"]
    await session.refresh(studio)
    assert studio.status is StudioStatus.ACTIVE
    assert await history(session, studio) == []


async def test_delisting_twice_is_a_conflict_and_records_nothing_more(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)
    first = await client.post(url(studio, "delisting"), headers=auth(admin), json={"reason": "企业已注销"})
    assert first.status_code == 201, first.text

    again = await client.post(url(studio, "delisting"), headers=auth(admin), json={"reason": "企业已注销"})

    assert_problem(again, 409, "studio_already_delisted")
    assert [r.kind for r in await history(session, studio)] == [AssessmentKind.DELISTING]


async def test_delisting_an_unknown_studio_is_not_found(client: AsyncClient, auth: Auth, admin: User) -> None:
    response = await client.post(
        url(2_000_000_000, "delisting"), headers=auth(admin), json={"reason": "重复登记"}
    )

    assert_problem(response, 404, "studio_not_found")


async def test_a_reassessment_worth_a_star_relists_a_delisted_studio(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)
    await assess(client, auth, admin, studio, assessed_on=date(2022, 6, 30))
    await client.post(url(studio, "delisting"), headers=auth(admin), json={"reason": "整改期间暂停"})

    body = await assess(
        client,
        auth,
        admin,
        studio,
        assessed_on=local_today(),
        expert_review="76",
        site_visit="76",
        demonstration="76",
    )

    assert body["assessment"]["kind"] == "reassessment"
    assert body["studio"]["status"] == "active"
    assert body["studio"]["star_rating"] == 2


async def test_a_reassessment_below_one_star_is_kept_but_does_not_relist(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)
    await client.post(url(studio, "delisting"), headers=auth(admin), json={"reason": "整改期间暂停"})

    body = await assess(
        client,
        auth,
        admin,
        studio,
        assessed_on=local_today(),
        expert_review="59.99",
        site_visit="59.99",
        demonstration="59.99",
    )

    assert body["assessment"]["kind"] == "initial"  # the de-listing was no scoring, nor a rating
    assert body["assessment"]["stars"] == 0
    assert body["studio"]["status"] == "delisted"
    assert [r.kind for r in await history(session, studio)] == [
        AssessmentKind.DELISTING,
        AssessmentKind.INITIAL,
    ]


async def test_an_assessment_cannot_be_dated_before_a_delisting(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)
    await client.post(url(studio, "delisting"), headers=auth(admin), json={"reason": "整改期间暂停"})

    response = await client.post(
        url(studio), headers=auth(admin), json=scores(assessed_on=local_today() - timedelta(days=1))
    )

    assert_problem(response, 422, "studio_assessment_out_of_order", field="assessed_on")


# --- audit trail ---------------------------------------------------------------------------------


async def test_an_assessment_writes_audit_events_for_the_row_and_the_studio(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)

    body = await assess(client, auth, admin, studio, expert_review="80", site_visit="80", demonstration="80")

    [created] = await audit_actions(session, "studio_assessments", body["assessment"]["id"])
    assert created.action == "studio_assessment.created"
    assert created.actor_user_id == admin.id
    assert created.before is None
    assert created.after is not None
    assert created.after["stars"] == 2
    assert created.after["kind"] == "initial"
    assert created.after["total_score"] == "80.00"
    [rated] = await audit_actions(session, "studios", studio.id)
    assert rated.action == "studio.star_rated"
    assert rated.actor_user_id == admin.id
    assert rated.before is not None and rated.after is not None
    star_fields = ("star_assessed_on", "star_rating", "star_score")
    assert {k: rated.before[k] for k in star_fields} == {
        "star_assessed_on": None,
        "star_rating": 0,
        "star_score": None,
    }
    assert {k: rated.after[k] for k in star_fields} == {
        "star_assessed_on": "2023-06-30",
        "star_rating": 2,
        "star_score": "80.00",
    }
    assert "status" not in rated.after  # assessing a listed studio does not touch its status


async def test_delisting_and_relisting_are_audited(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)
    before_events = await count(session, AuditEvent)

    delisted = await client.post(url(studio, "delisting"), headers=auth(admin), json={"reason": "企业已注销"})
    await assess(
        client,
        auth,
        admin,
        studio,
        assessed_on=local_today(),
        expert_review="90",
        site_visit="90",
        demonstration="90",
    )

    events = await audit_actions(session, "studios", studio.id)
    assert [e.action for e in events] == ["studio.delisted", "studio.relisted"]
    assert events[0].after is not None and events[0].after["status"] == "delisted"
    assert events[1].after is not None and events[1].after["status"] == "active"
    [delisting_row] = await audit_actions(session, "studio_assessments", delisted.json()["assessment"]["id"])
    assert delisting_row.after is not None and delisting_row.after["note"] == "企业已注销"
    assert await count(session, AuditEvent) == before_events + 4


async def test_a_refused_assessment_writes_no_audit_event(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)
    before_events = await count(session, AuditEvent)

    response = await client.post(
        url(studio), headers=auth(admin), json=scores(assessed_on=local_today() + timedelta(days=30))
    )

    assert response.status_code == 422
    assert await count(session, AuditEvent) == before_events
