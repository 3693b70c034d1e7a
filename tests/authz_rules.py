"""Who may call which route: the one table the authorisation matrix (tests/test_authz_matrix.py) checks.

Every route of the application (``app.routes``: JSON API and pages, every method; static mounts
excepted) has an entry ``(METHOD, path template)`` in ``RULES``. An entry holds one or more cases; a
case names the records the request is about (path parameters, body) and the outcome each of the six
actors gets on them:

- ``ANON``: nobody logged in.
- ``ENT_A``: a user of enterprise A, which owns every record below (studio, orders, agreements).
- ``ENT_B``: a user of another enterprise.
- ``EXPERT_X``: the expert on A's agreements, who owns the achievement and holds A's invitation and
  taking. ``EXPERT_Y``: another expert (the assigned reviewer of A's catalogued project).
- ``ADMIN``: an administrator (市总工会).

Outcomes: ``OK`` (2xx; for pages also a redirect that is not to the login page), ``LOGIN`` (a page
sends the visitor to ``/login``), or a status, optionally with the problem's ``code``.

Adding a route? Add its rule here: the matrix fails for a route without one, and for a rule whose
route no longer exists. Path parameters not given in a case come from ``DEFAULT_PATH``; a string
value names a record of the ``World`` (``"order_draft"``), anything else is used as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from app.clock import local_today
from tests.factories import valid_credit_code

ANON, ENT_A, ENT_B, EXPERT_X, EXPERT_Y, ADMIN = "anon", "ent_a", "ent_b", "expert_x", "expert_y", "admin"
ACTORS = (ANON, ENT_A, ENT_B, EXPERT_X, EXPERT_Y, ADMIN)
LOGGED_IN = (ENT_A, ENT_B, EXPERT_X, EXPERT_Y, ADMIN)
EXPERTS = (EXPERT_X, EXPERT_Y)
ENTERPRISES = (ENT_A, ENT_B)
PARTIES = (ENT_A, EXPERT_X)  # the two sides of A's agreements


@dataclass(frozen=True)
class Outcome:
    """What an actor gets: a success, a redirect to the login page, or a status (and problem code)."""

    kind: str  # "ok", "login" or "status"
    status: int = 0
    code: str | None = None

    def __str__(self) -> str:
        if self.kind != "status":
            return self.kind.upper()
        return f"{self.status} {self.code}" if self.code else str(self.status)


OK = Outcome("ok")
LOGIN = Outcome("login")


def status(code: int, problem: str | None = None) -> Outcome:
    """An error status, and the problem ``code`` the API answers with when it matters."""
    return Outcome("status", code, problem)


UNAUTHENTICATED, FORBIDDEN, NOT_FOUND = status(401), status(403), status(404)


def expect(
    ok: tuple[str, ...] = (),
    *,
    others: Outcome = FORBIDDEN,
    anon: Outcome = UNAUTHENTICATED,
    **overrides: Outcome,
) -> dict[str, Outcome]:
    """Outcomes of the six actors: ``OK`` for ``ok``, ``anon`` for nobody, ``others`` for the rest."""
    table = {actor: (OK if actor in ok else others) for actor in ACTORS}
    table[ANON] = OK if ANON in ok else anon
    table.update(overrides)
    return table


def page(
    ok: tuple[str, ...] = (), *, others: Outcome = FORBIDDEN, **overrides: Outcome
) -> dict[str, Outcome]:
    """A page: like ``expect``, with anonymous visitors sent to the login page."""
    return expect(ok, others=others, anon=LOGIN, **overrides)


PUBLIC = expect(ACTORS)
ANY_USER = expect(LOGGED_IN)
ADMIN_ONLY = expect((ADMIN,))
ANY_USER_PAGE = page(LOGGED_IN)
ADMIN_PAGE = page((ADMIN,))


@dataclass(frozen=True)
class World:
    """The ids of the records every case works on (built once per module by the matrix)."""

    enterprise_a: int
    enterprise_b: int
    studio_a: int
    expert_x: int
    expert_y: int
    expert_z: int  # an expert without an account: proposed for A's order, assignable as a reviewer
    achievement_x: int
    order_draft: int
    order_published: int  # X is invited; Z is proposed
    order_withdrawn: int
    order_with_taking: int
    taking_x: int  # X's pending taking of order_with_taking
    proposal_z: int
    notification_a: int  # a notification to A's user
    agreement_draft: int  # complete terms, ready to submit
    agreement_pending: int  # waiting for both signatures
    agreement_active: int  # being carried out, catalogued, reviewed by Y in the open round
    agreement_amending: int  # being carried out, not catalogued, amendment no. 1 waiting for signatures
    review_y: int  # Y's submitted review of agreement_active in OPEN_YEAR
    username_a: str
    password_a: str
    user_a: int  # the account of A's user


OPEN_YEAR = 2030  # a review round with agreement_active ranked in it
EMPTY_YEAR = 2029  # an open round nothing was assigned to (it can close)
NEW_YEAR = 2031  # no round yet
PENDING_VERSION = 2  # agreement_pending was written twice: its terms, then their hash
PAST = (local_today() - timedelta(days=3)).isoformat()
FUTURE = (local_today() + timedelta(days=60)).isoformat()

DEFAULT_PATH: dict[str, Any] = {
    "enterprise_id": "enterprise_a",
    "studio_id": "studio_a",
    "expert_id": "expert_x",
    "achievement_id": "achievement_x",
    "order_id": "order_published",
    "taking_id": "taking_x",
    "notification_id": "notification_a",
    "agreement_id": "agreement_active",
    "number": 1,
    "proposal_id": "proposal_z",
    "review_id": "review_y",
    "user_id": "user_a",
    "year": OPEN_YEAR,
    "code": "order_not_found",
    "kind": "enterprises",
    "table": "kpis",
    "name": "htmx.min.js",
}

Body = Callable[[World], Any]


@dataclass(frozen=True)
class Case:
    """One request (its records and body) and the outcome each actor gets."""

    outcomes: Mapping[str, Outcome]
    path: Mapping[str, Any] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    json: Body | None = None
    form: Body | None = None  # page forms (the CSRF token is added)
    upload: Callable[[], bytes] | None = None  # a multipart ``file`` part
    note: str = ""


def case(outcomes: Mapping[str, Outcome], **kwargs: Any) -> tuple[Case, ...]:
    """A rule of one case."""
    return (Case(outcomes, **kwargs),)


# ---------------------------------------------------------------------------------------------- bodies


def _new_user(w: World) -> dict[str, Any]:
    return {"username": "matrix-new-user", "password": "Zq8-vLm-2pRt-Kw", "display_name": "新账号",
            "role": "enterprise", "enterprise_id": w.enterprise_a}  # fmt: skip


def _password_change(w: World) -> dict[str, Any]:
    return {"current_password": w.password_a, "new_password": "Zq8-vLm-2pRt-Kw-neu"}


def _new_enterprise(w: World) -> dict[str, Any]:
    return {"name": "扬州授权矩阵有限公司", "credit_code": valid_credit_code(990_001), "province": "江苏省",
            "city": "扬州市", "district": "邗江区"}  # fmt: skip


def _new_studio(w: World) -> dict[str, Any]:
    return {
        "enterprise_id": w.enterprise_a,
        "name": "矩阵测试工作室",
        "kind": "craftsman",
        "leader_name": "张三",
    }


def _new_expert(w: World) -> dict[str, Any]:
    return {"name": "王五", "title": "教授", "university": "扬州大学"}


def _new_achievement(w: World) -> dict[str, Any]:
    return {"expert_id": w.expert_x, "kind": "patent", "title": "一种焊接方法", "maturity": "lab"}


def _new_order(w: World) -> dict[str, Any]:
    return {"studio_id": w.studio_a, "title": "焊接变形控制", "description": "焊后变形大，希望专家指导。",
            "need_kind": "consulting"}  # fmt: skip


def _assessment(w: World) -> dict[str, Any]:
    return {"expert_review_score": 90, "site_visit_score": 88, "demonstration_score": 92,
            "assessed_on": local_today().isoformat()}  # fmt: skip


def _consultation(w: World) -> dict[str, Any]:
    return {"kind": "guidance", "held_on": PAST, "participants": "王建国、李明"}


def _training(w: World) -> dict[str, Any]:
    return {"kind": "apprenticeship", "held_on": PAST, "trainee_count": 12, "hours": 8}


def _outcome(w: World) -> dict[str, Any]:
    return {"kind": "innovation", "title": "主轴振纹消除工艺"}


def _scores(w: World) -> dict[str, Any]:
    return {"progress_score": 80, "technical_score": 85, "difficulty_score": 70, "benefit_score": 90}


def _enterprise_sheet() -> bytes:
    from tests.transfer.workbooks import ENTERPRISE_HEADERS, sheet_bytes

    row = [
        "扬州导入测试有限公司",
        valid_credit_code(990_002),
        "江苏省",
        "扬州市",
        "邗江区",
        "杭集镇",
        "装备制造",
    ]
    return sheet_bytes(ENTERPRISE_HEADERS, [row])


def _no_body(w: World) -> dict[str, Any]:
    return {}


# ---------------------------------------------------------------------------------------------- the table

_API = "/api/v1"
# an agreement's parties act on it; the administrator sees it but is not a party; strangers don't see it
_PARTY_WRITE = expect(PARTIES, others=NOT_FOUND, **{ADMIN: FORBIDDEN})
_PARTY_READ = expect((*PARTIES, ADMIN), others=NOT_FOUND)
# A's own records: its users and administrators may change them, anybody else is refused
_A_WRITE = expect((ENT_A, ADMIN))
# an order's page action by its enterprise (or an administrator)
_A_PAGE_WRITE = page((ENT_A, ADMIN))
_PARTY_PAGE_WRITE = page(PARTIES, others=NOT_FOUND, **{ADMIN: FORBIDDEN})
_PARTY_PAGE_READ = page((*PARTIES, ADMIN), others=NOT_FOUND)
# agreement_active's project is catalogued with Y as its reviewer: Y reads it (and nothing else of A's)
_REVIEWED_READ = expect((*PARTIES, ADMIN, EXPERT_Y), others=NOT_FOUND)
_REVIEWED_PAGE_READ = page((*PARTIES, ADMIN, EXPERT_Y), others=NOT_FOUND)


def _reviewed_read(outcomes: dict[str, Outcome], unreviewed: dict[str, Outcome]) -> tuple[Case, ...]:
    """The reviewed agreement (Y reads it) and a draft nobody reviews (Y is told it does not exist)."""
    return (Case(outcomes), Case(unreviewed, path={"agreement_id": "agreement_draft"}))


_EXPERT_ONLY = expect(EXPERTS)
# a draft of A: other enterprises and experts are told it does not exist
_HIDDEN_FROM_OTHERS = dict(others=NOT_FOUND)


def _version(n: int = 1) -> Body:
    return lambda w: {"version": n}


def _revision(w: World) -> dict[str, Any]:
    return {"version": PENDING_VERSION, "reason": "交付成果需补充测试报告"}


RULES: dict[tuple[str, str], tuple[Case, ...]] = {
    # ------------------------------------------------------------------ documentation, health, problems
    ("GET", "/openapi.json"): case(PUBLIC),
    ("GET", "/docs"): case(PUBLIC),
    ("GET", "/healthz"): case(PUBLIC),
    ("GET", "/readyz"): case(PUBLIC),
    ("GET", "/problems/{code}"): case(PUBLIC),
    ("GET", "/static/vendor/{name}"): case(PUBLIC),
    # ------------------------------------------------------------------ accounts
    ("POST", f"{_API}/auth/login"): case(
        PUBLIC, json=lambda w: {"username": w.username_a, "password": w.password_a}
    ),
    ("POST", f"{_API}/auth/logout"): case(PUBLIC),
    ("GET", f"{_API}/auth/me"): case(ANY_USER),
    ("POST", f"{_API}/users"): case(ADMIN_ONLY, json=_new_user),
    # everyone changes their own password (all six share one, so the body fits each); the
    # anonymous visitor has no account to change
    ("POST", f"{_API}/auth/password"): case(ANY_USER, json=_password_change),
    ("GET", f"{_API}/users"): case(ADMIN_ONLY),
    ("POST", f"{_API}/users/{{user_id}}/password-reset"): case(ADMIN_ONLY),
    ("POST", f"{_API}/users/{{user_id}}/disable"): case(ADMIN_ONLY),
    ("POST", f"{_API}/users/{{user_id}}/enable"): case(ADMIN_ONLY),
    ("GET", "/account/password"): case(ANY_USER_PAGE),
    ("POST", "/account/password"): case(ANY_USER_PAGE, form=_password_change),
    ("GET", "/admin/users"): case(ADMIN_PAGE),
    ("POST", "/admin/users"): case(ADMIN_PAGE, form=_new_user),
    ("POST", "/admin/users/{user_id}/password-reset"): case(ADMIN_PAGE),
    ("POST", "/admin/users/{user_id}/disable"): case(ADMIN_PAGE),
    ("POST", "/admin/users/{user_id}/enable"): case(ADMIN_PAGE),
    # ------------------------------------------------------------------ enterprises, studios
    ("POST", f"{_API}/enterprises"): case(ADMIN_ONLY, json=_new_enterprise),
    ("GET", f"{_API}/enterprises"): case(ANY_USER),
    ("GET", f"{_API}/enterprises/{{enterprise_id}}"): case(ANY_USER),
    ("PATCH", f"{_API}/enterprises/{{enterprise_id}}"): case(
        _A_WRITE, json=lambda w: {"industry": "数控装备"}
    ),
    ("POST", f"{_API}/studios"): case(_A_WRITE, json=_new_studio),
    ("GET", f"{_API}/studios"): case(ANY_USER),
    ("GET", f"{_API}/studios/{{studio_id}}"): case(ANY_USER),
    ("PATCH", f"{_API}/studios/{{studio_id}}"): case(_A_WRITE, json=lambda w: {"members_count": 15}),
    ("POST", f"{_API}/studios/{{studio_id}}/assessments"): case(ADMIN_ONLY, json=_assessment),
    ("GET", f"{_API}/studios/{{studio_id}}/assessments"): case(ADMIN_ONLY),
    ("POST", f"{_API}/studios/{{studio_id}}/delisting"): case(
        ADMIN_ONLY, json=lambda w: {"reason": "连续两年未开展活动"}
    ),
    # ------------------------------------------------------------------ experts, achievements
    ("POST", f"{_API}/experts"): case(ADMIN_ONLY, json=_new_expert),
    ("GET", f"{_API}/experts"): case(PUBLIC),
    ("GET", f"{_API}/experts/{{expert_id}}"): case(PUBLIC),
    ("PATCH", f"{_API}/experts/{{expert_id}}"): case(
        expect((EXPERT_X, ADMIN)), json=lambda w: {"bio": "数控机床振动诊断。"}
    ),
    ("POST", f"{_API}/achievements"): case(expect((EXPERT_X, ADMIN)), json=_new_achievement),
    ("GET", f"{_API}/achievements"): case(PUBLIC),
    ("GET", f"{_API}/achievements/{{achievement_id}}"): case(PUBLIC),
    ("PATCH", f"{_API}/achievements/{{achievement_id}}"): case(
        expect((EXPERT_X, ADMIN)), json=lambda w: {"year": 2022}
    ),
    ("GET", f"{_API}/experts/{{expert_id}}/recommended-orders"): case(expect((EXPERT_X, ADMIN))),
    # ------------------------------------------------------------------ orders
    ("POST", f"{_API}/orders"): case(_A_WRITE, json=_new_order),
    ("GET", f"{_API}/orders"): case(ANY_USER),
    ("GET", f"{_API}/orders/{{order_id}}"): (
        Case(ANY_USER),
        Case(expect((ENT_A, ADMIN), **_HIDDEN_FROM_OTHERS), path={"order_id": "order_draft"}),
        Case(expect((ENT_A, ADMIN), **_HIDDEN_FROM_OTHERS), path={"order_id": "order_withdrawn"}),
    ),
    ("PATCH", f"{_API}/orders/{{order_id}}"): (
        Case(_A_WRITE, json=lambda w: {"budget_max": 120_000}),
        Case(
            expect((ENT_A, ADMIN), **_HIDDEN_FROM_OTHERS),
            path={"order_id": "order_draft"},
            json=lambda w: {"budget_max": 120_000},
        ),
    ),
    ("POST", f"{_API}/orders/{{order_id}}/proposals"): case(_A_WRITE),
    ("GET", f"{_API}/orders/{{order_id}}/proposals"): case(_A_WRITE),
    ("POST", f"{_API}/orders/{{order_id}}/publish"): case(
        expect((ENT_A, ADMIN), **_HIDDEN_FROM_OTHERS), path={"order_id": "order_draft"}
    ),
    ("POST", f"{_API}/orders/{{order_id}}/withdraw"): (
        Case(_A_WRITE),
        Case(expect((ENT_A, ADMIN), **_HIDDEN_FROM_OTHERS), path={"order_id": "order_draft"}),
    ),
    ("POST", f"{_API}/orders/{{order_id}}/close"): case(_A_WRITE),
    # ------------------------------------------------------------------ taking and invitations
    ("POST", f"{_API}/orders/{{order_id}}/takings"): (
        Case(_EXPERT_ONLY, json=_no_body),
        # a draft or withdrawn order of another enterprise answers as a missing one (issue 11, finding 12)
        Case(
            expect(others=FORBIDDEN, **{x: status(404, "order_not_found") for x in EXPERTS}),
            path={"order_id": "order_draft"},
            json=_no_body,
        ),
        Case(
            expect(others=FORBIDDEN, **{x: status(404, "order_not_found") for x in EXPERTS}),
            path={"order_id": "order_withdrawn"},
            json=_no_body,
        ),
    ),
    ("GET", f"{_API}/orders/{{order_id}}/takings"): (
        Case(ANY_USER),
        Case(expect((ENT_A, ADMIN), **_HIDDEN_FROM_OTHERS), path={"order_id": "order_draft"}),
    ),
    ("POST", f"{_API}/orders/{{order_id}}/invitations"): case(
        _A_WRITE, json=lambda w: {"expert_id": w.expert_z}
    ),
    ("POST", f"{_API}/orders/{{order_id}}/invitations/accept"): case(
        expect((EXPERT_X,), **{EXPERT_Y: NOT_FOUND}), json=_no_body
    ),
    ("POST", f"{_API}/orders/{{order_id}}/invitations/decline"): (
        Case(expect((EXPERT_X,), **{EXPERT_Y: NOT_FOUND}), json=lambda w: {"reason": "时间冲突"}),
        Case(
            expect(others=FORBIDDEN, **{x: status(404, "order_not_found") for x in EXPERTS}),
            path={"order_id": "order_draft"},
            json=lambda w: {"reason": "时间冲突"},
        ),
    ),
    ("GET", f"{_API}/me/invitations"): case(_EXPERT_ONLY),
    ("GET", f"{_API}/me/takings"): case(_EXPERT_ONLY),
    ("POST", f"{_API}/takings/{{taking_id}}/confirm"): case(expect((ENT_A, ADMIN), others=NOT_FOUND)),
    ("POST", f"{_API}/takings/{{taking_id}}/release"): case(
        expect((ENT_A, EXPERT_X, ADMIN), others=NOT_FOUND), json=lambda w: {"reason": "另有安排"}
    ),
    # ------------------------------------------------------------------ notifications
    ("GET", f"{_API}/notifications"): case(ANY_USER),
    ("GET", f"{_API}/notifications/unread-count"): case(ANY_USER),
    ("POST", f"{_API}/notifications/{{notification_id}}/read"): case(expect((ENT_A,), others=NOT_FOUND)),
    ("POST", f"{_API}/notifications/read-all"): case(ANY_USER),
    # ------------------------------------------------------------------ agreements
    ("GET", f"{_API}/agreements"): case(ANY_USER),
    ("GET", f"{_API}/agreements/{{agreement_id}}"): _reviewed_read(_REVIEWED_READ, _PARTY_READ),
    ("PATCH", f"{_API}/agreements/{{agreement_id}}"): case(
        _PARTY_WRITE,
        path={"agreement_id": "agreement_draft"},
        json=lambda w: {"version": 1, "funding_source": "企业自筹"},
    ),
    ("POST", f"{_API}/agreements/{{agreement_id}}/submit"): case(
        _PARTY_WRITE, path={"agreement_id": "agreement_draft"}, json=_version()
    ),
    ("POST", f"{_API}/agreements/{{agreement_id}}/revise"): case(
        _PARTY_WRITE, path={"agreement_id": "agreement_pending"}, json=_revision
    ),
    ("POST", f"{_API}/agreements/{{agreement_id}}/sign"): case(
        _PARTY_WRITE, path={"agreement_id": "agreement_pending"}, json=_no_body
    ),
    ("GET", f"{_API}/agreements/{{agreement_id}}/amendments"): _reviewed_read(_REVIEWED_READ, _PARTY_READ),
    ("POST", f"{_API}/agreements/{{agreement_id}}/amendments"): case(
        _PARTY_WRITE, json=lambda w: {"changes": {"duration_months": 9}, "reason": "延长合作期限"}
    ),
    ("POST", f"{_API}/agreements/{{agreement_id}}/amendments/{{number}}/sign"): case(
        _PARTY_WRITE, path={"agreement_id": "agreement_amending"}
    ),
    ("POST", f"{_API}/agreements/{{agreement_id}}/amendments/{{number}}/withdraw"): case(
        _PARTY_WRITE, path={"agreement_id": "agreement_amending"}
    ),
    ("POST", f"{_API}/agreements/{{agreement_id}}/delivery"): case(
        _PARTY_WRITE, json=lambda w: {"rating": 5}
    ),
    ("POST", f"{_API}/agreements/{{agreement_id}}/termination"): case(
        expect((*PARTIES, ADMIN), others=NOT_FOUND), json=lambda w: {"reason": "企业转产"}
    ),
    ("GET", f"{_API}/agreements/{{agreement_id}}/consultations"): _reviewed_read(_REVIEWED_READ, _PARTY_READ),
    ("POST", f"{_API}/agreements/{{agreement_id}}/consultations"): case(_PARTY_WRITE, json=_consultation),
    ("GET", f"{_API}/agreements/{{agreement_id}}/trainings"): _reviewed_read(_REVIEWED_READ, _PARTY_READ),
    ("POST", f"{_API}/agreements/{{agreement_id}}/trainings"): case(_PARTY_WRITE, json=_training),
    ("GET", f"{_API}/agreements/{{agreement_id}}/outcomes"): _reviewed_read(_REVIEWED_READ, _PARTY_READ),
    ("POST", f"{_API}/agreements/{{agreement_id}}/outcomes"): case(_PARTY_WRITE, json=_outcome),
    # ------------------------------------------------------------------ project catalogue and review
    ("POST", f"{_API}/projects/{{agreement_id}}"): case(
        ADMIN_ONLY, path={"agreement_id": "agreement_amending"}
    ),
    ("GET", f"{_API}/projects"): case(ADMIN_ONLY),
    ("POST", f"{_API}/review-rounds"): case(ADMIN_ONLY, json=lambda w: {"year": NEW_YEAR}),
    ("GET", f"{_API}/review-rounds"): case(ADMIN_ONLY),
    ("POST", f"{_API}/review-rounds/{{year}}/reviewers"): case(
        ADMIN_ONLY, json=lambda w: {"agreement_id": w.agreement_active, "expert_id": w.expert_z}
    ),
    ("GET", f"{_API}/review-rounds/{{year}}/ranking"): case(ADMIN_ONLY),
    ("POST", f"{_API}/review-rounds/{{year}}/funding"): case(
        ADMIN_ONLY,
        json=lambda w: {
            "decisions": [{"agreement_id": w.agreement_active, "decision": "funded", "amount": 200_000}]
        },
    ),
    ("POST", f"{_API}/review-rounds/{{year}}/close"): case(ADMIN_ONLY, path={"year": EMPTY_YEAR}),
    ("GET", f"{_API}/me/reviews"): case(_EXPERT_ONLY),
    ("PUT", f"{_API}/reviews/{{review_id}}"): case(expect((EXPERT_Y,), others=NOT_FOUND), json=_scores),
    # ------------------------------------------------------------------ transfer, dashboard
    ("GET", f"{_API}/admin/imports/{{kind}}/template"): case(ADMIN_ONLY),
    ("POST", f"{_API}/admin/imports/{{kind}}"): case(ADMIN_ONLY, upload=_enterprise_sheet),
    ("GET", f"{_API}/admin/exports/{{kind}}.xlsx"): case(ADMIN_ONLY, path={"kind": "orders"}),
    ("GET", f"{_API}/dashboard"): case(ADMIN_ONLY),
    ("GET", f"{_API}/dashboard/snapshots"): case(ADMIN_ONLY),
    ("GET", f"{_API}/dashboard/export/{{table}}.xlsx"): case(ADMIN_ONLY),
    ("PUT", f"{_API}/proposals/{{proposal_id}}/relevance"): case(
        ADMIN_ONLY, json=lambda w: {"relevant": True}
    ),
    # ------------------------------------------------------------------ pages: accounts
    ("GET", "/"): case(PUBLIC),
    ("GET", "/login"): case(PUBLIC),
    ("POST", "/login"): case(PUBLIC, form=lambda w: {"username": w.username_a, "password": w.password_a}),
    ("POST", "/logout"): case(expect(others=LOGIN, anon=LOGIN), form=_no_body),
    # ------------------------------------------------------------------ pages: orders and the marketplace
    ("GET", "/orders/new"): case(page((ENT_A, ENT_B, ADMIN))),
    ("POST", "/orders/new"): case(
        # the form shows a refusal next to the studio field (422), as it does every domain error
        page((ENT_A, ADMIN), **{ENT_B: status(422)}),
        form=lambda w: {**_new_order(w), "action": "draft"},
    ),
    ("POST", "/orders/preview"): case(
        page((ENT_A, ENT_B, ADMIN)),
        form=lambda w: {"title": "船体焊接变形", "description": "分段焊接后变形超差"},
    ),
    ("GET", "/my/orders"): case(page((ENT_A, ENT_B, ADMIN))),
    ("GET", "/orders"): case(ANY_USER_PAGE),
    ("GET", "/orders/{order_id}"): (
        Case(ANY_USER_PAGE),
        Case(page((ENT_A, ADMIN), others=NOT_FOUND), path={"order_id": "order_draft"}),
    ),
    ("POST", "/orders/{order_id}/publish"): case(
        page((ENT_A, ADMIN), others=NOT_FOUND), path={"order_id": "order_draft"}, form=_no_body
    ),
    ("POST", "/orders/{order_id}/withdraw"): case(_A_PAGE_WRITE, form=_no_body),
    ("POST", "/orders/{order_id}/proposals"): case(_A_PAGE_WRITE, form=_no_body),
    # the edit form is A's: B's user and experts are refused, as for the order's other actions
    ("GET", "/orders/{order_id}/edit"): case(_A_PAGE_WRITE),
    ("POST", "/orders/{order_id}/edit"): case(
        _A_PAGE_WRITE, form=lambda w: {"title": "数控机床主轴振动诊断（修订）"}
    ),
    ("POST", "/orders/{order_id}/close"): case(_A_PAGE_WRITE, form=_no_body),
    ("POST", "/orders/{order_id}/take"): (
        Case(page(EXPERTS), form=_no_body),
        Case(
            page(others=NOT_FOUND, **{ENT_A: FORBIDDEN, ADMIN: FORBIDDEN}),
            path={"order_id": "order_draft"},
            form=_no_body,
        ),
    ),
    ("POST", "/orders/{order_id}/invite"): case(_A_PAGE_WRITE, form=lambda w: {"expert_id": w.expert_z}),
    ("POST", "/orders/{order_id}/accept"): case(page((EXPERT_X,), **{EXPERT_Y: NOT_FOUND}), form=_no_body),
    ("POST", "/orders/{order_id}/decline"): case(
        page((EXPERT_X,), **{EXPERT_Y: NOT_FOUND}), form=lambda w: {"reason": "时间冲突"}
    ),
    ("POST", "/takings/{taking_id}/confirm"): case(
        page((ENT_A, ADMIN), others=NOT_FOUND), form=lambda w: {"order_id": w.order_with_taking}
    ),
    ("POST", "/takings/{taking_id}/release"): case(
        page((ENT_A, EXPERT_X, ADMIN), others=NOT_FOUND),
        form=lambda w: {"order_id": w.order_with_taking, "reason": "另有安排"},
    ),
    # ------------------------------------------------------------------ pages: agreements
    ("GET", "/my/agreements"): case(ANY_USER_PAGE),
    ("GET", "/agreements/{agreement_id}"): _reviewed_read(_REVIEWED_PAGE_READ, _PARTY_PAGE_READ),
    ("POST", "/agreements/{agreement_id}/terms"): case(
        _PARTY_PAGE_WRITE,
        path={"agreement_id": "agreement_draft"},
        form=lambda w: {
            "version": 1,
            "goals": "消除振纹",
            "deliverables": "诊断报告",
            "consultation_cadence": "monthly",
        },
    ),
    ("POST", "/agreements/{agreement_id}/submit"): case(
        _PARTY_PAGE_WRITE, path={"agreement_id": "agreement_draft"}, form=_version()
    ),
    ("POST", "/agreements/{agreement_id}/revise"): case(
        _PARTY_PAGE_WRITE, path={"agreement_id": "agreement_pending"}, form=_revision
    ),
    ("POST", "/agreements/{agreement_id}/sign"): case(
        _PARTY_PAGE_WRITE, path={"agreement_id": "agreement_pending"}, form=_no_body
    ),
    ("POST", "/agreements/{agreement_id}/consultations"): case(_PARTY_PAGE_WRITE, form=_consultation),
    ("POST", "/agreements/{agreement_id}/trainings"): case(_PARTY_PAGE_WRITE, form=_training),
    ("POST", "/agreements/{agreement_id}/outcomes"): case(_PARTY_PAGE_WRITE, form=_outcome),
    ("POST", "/agreements/{agreement_id}/delivery"): case(_PARTY_PAGE_WRITE, form=lambda w: {"rating": 5}),
    ("POST", "/agreements/{agreement_id}/termination"): case(
        page((*PARTIES, ADMIN), others=NOT_FOUND), form=lambda w: {"reason": "企业转产"}
    ),
    # ------------------------------------------------------------------ pages: experts and reviews
    ("GET", "/my/recommended"): case(page(EXPERTS)),
    ("GET", "/experts"): case(PUBLIC),
    ("GET", "/experts/{expert_id}"): case(PUBLIC),
    ("GET", "/achievements"): case(PUBLIC),
    ("GET", "/my/profile"): case(page(EXPERTS)),
    ("POST", "/my/profile"): case(page(EXPERTS), form=lambda w: {"bio": "数控机床振动诊断。"}),
    # the form names X as the achievement's expert: Y may not publish for X
    ("POST", "/my/achievements"): case(page((EXPERT_X,)), form=_new_achievement),
    ("POST", "/my/achievements/{achievement_id}"): case(
        page((EXPERT_X,), **{EXPERT_Y: FORBIDDEN}), form=lambda w: {"title": "一种主轴振动诊断方法"}
    ),
    ("GET", "/my/reviews"): case(page(EXPERTS)),
    ("GET", "/reviews/{review_id}"): case(page(EXPERTS)),
    ("POST", "/my/reviews/{review_id}"): case(page((EXPERT_Y,), **{EXPERT_X: NOT_FOUND}), form=_scores),
    # ------------------------------------------------------------------ pages: administration
    ("GET", "/admin"): case(ADMIN_PAGE),
    ("GET", "/admin/quality"): case(ADMIN_PAGE),
    ("POST", "/admin/quality/{proposal_id}"): case(ADMIN_PAGE, form=lambda w: {"relevant": "yes"}),
    ("GET", "/inbox"): case(ANY_USER_PAGE),
    ("POST", "/inbox/read-all"): case(ANY_USER_PAGE, form=_no_body),
    ("GET", "/inbox/{notification_id}"): case(page((ENT_A,), others=NOT_FOUND)),
    ("GET", "/admin/projects"): case(ADMIN_PAGE),
    ("POST", "/admin/projects/catalogue"): case(
        ADMIN_PAGE, form=lambda w: {"agreement_id": w.agreement_amending}
    ),
    ("POST", "/admin/projects/rounds"): case(ADMIN_PAGE, form=lambda w: {"year": NEW_YEAR}),
    ("GET", "/admin/projects/rounds/{year}"): case(ADMIN_PAGE),
    ("POST", "/admin/projects/rounds/{year}/reviewers"): case(
        ADMIN_PAGE, form=lambda w: {"agreement_id": w.agreement_active, "expert_id": w.expert_z}
    ),
    ("POST", "/admin/projects/rounds/{year}/funding"): case(
        ADMIN_PAGE,
        form=lambda w: {"agreement_id": w.agreement_active, "decision": "funded", "amount": 200_000},
    ),
    ("POST", "/admin/projects/rounds/{year}/close"): case(
        ADMIN_PAGE, path={"year": EMPTY_YEAR}, form=_no_body
    ),
    ("GET", "/admin/studios"): case(ADMIN_PAGE),
    ("GET", "/admin/studios/{studio_id}"): case(ADMIN_PAGE),
    ("POST", "/admin/studios/{studio_id}/assessments"): case(ADMIN_PAGE, form=_assessment),
    ("POST", "/admin/studios/{studio_id}/delisting"): case(
        ADMIN_PAGE, form=lambda w: {"reason": "连续两年未开展活动"}
    ),
    ("GET", "/admin/transfer"): case(ADMIN_PAGE),
    ("POST", "/admin/transfer/imports/{kind}"): case(ADMIN_PAGE, upload=_enterprise_sheet),
}
