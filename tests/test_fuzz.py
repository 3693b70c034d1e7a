"""Property test: whatever JSON a client sends to a write endpoint, the answer is never a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from httpx import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.achievements.schemas import AchievementCreate
from app.enterprises.schemas import EnterpriseCreate
from app.experts.schemas import ExpertCreate
from app.orders.schemas import OrderCreate
from app.studios.schemas import StudioCreate
from tests.factories import (
    make_achievement,
    make_enterprise,
    make_expert,
    make_order,
    make_studio,
    valid_credit_code,
)

SCHEMAS: dict[str, type[Any]] = {
    "enterprises": EnterpriseCreate,
    "studios": StudioCreate,
    "experts": ExpertCreate,
    "achievements": AchievementCreate,
    "orders": OrderCreate,
}
ACCEPTABLE = {200, 201, 400, 403, 404, 409, 422}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=300),
    # the character rule among them: refused (bidi, controls) or stripped (zero-width, BOM)
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "2020-02-30",
            "9999-12-31",
            "draft",
            "craftsman",
            "patent",
            "lab",
            "1",
            "-1",
            "扬州\u202e厂",
            "\u2066x\u2069",
            "\x1b[2J",
            "a\x85b",
            "\u200b",
            "\ufeff扬州",
            "²",
            "a\r\nb",
        ]
    ),
)
values = st.one_of(
    scalars, st.lists(scalars, max_size=25), st.dictionaries(st.text(max_size=5), scalars, max_size=3)
)


def bodies(schema: type[Any], max_size: int = 12) -> st.SearchStrategy[dict[str, Any]]:
    """Objects whose keys are mostly the schema's own field names, with values of any JSON type."""
    keys = st.one_of(st.sampled_from(sorted(schema.model_fields)), st.text(max_size=10))
    return st.dictionaries(keys, values, max_size=max_size)


FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


async def valid_body(session: AsyncSession, resource: str) -> dict[str, Any]:
    """A body the endpoint accepts, to be mutated a few fields at a time (reaching the service and the database)."""
    if resource == "enterprises":
        return {"name": "扬州测试有限公司", "credit_code": valid_credit_code(), "province": "江苏省",
                "city": "扬州市", "district": "邗江区"}  # fmt: skip
    if resource == "studios":
        enterprise = await make_enterprise(session)
        return {"enterprise_id": enterprise.id, "name": "测试工作室", "kind": "worker", "leader_name": "张三"}
    if resource == "experts":
        return {"name": "王五", "title": "教授", "university": "扬州大学"}
    if resource == "achievements":
        expert = await make_expert(session)
        return {"expert_id": expert.id, "kind": "patent", "title": "一种焊接方法", "maturity": "lab"}
    studio = await make_studio(session)
    return {
        "studio_id": studio.id,
        "title": "焊接变形",
        "description": "焊后变形大",
        "need_kind": "consulting",
    }


@pytest.mark.parametrize("resource", sorted(SCHEMAS))
@FUZZ
@given(data=st.data())
async def test_random_create_bodies_never_cause_a_server_error(
    client: AsyncClient,
    session: AsyncSession,
    admin: User,
    auth: Callable[[User], dict[str, str]],
    resource: str,
    data: st.DataObject,
) -> None:
    if data.draw(st.booleans(), label="start from a valid body"):
        body = {**await valid_body(session, resource), **data.draw(bodies(SCHEMAS[resource], max_size=3))}
    else:
        body = data.draw(bodies(SCHEMAS[resource]))
    response = await client.post(f"/api/v1/{resource}", json=body, headers=auth(admin))
    assert response.status_code in ACCEPTABLE, (body, response.text)


@pytest.mark.parametrize("resource", ["orders", "achievements"])
@FUZZ
@given(data=st.data())
async def test_random_update_bodies_never_cause_a_server_error(
    client: AsyncClient,
    session: AsyncSession,
    admin: User,
    auth: Callable[[User], dict[str, str]],
    resource: str,
    data: st.DataObject,
) -> None:
    record = await (make_order(session) if resource == "orders" else make_achievement(session))
    body = data.draw(bodies(SCHEMAS[resource], max_size=4))
    body.pop("version", None)
    response = await client.patch(f"/api/v1/{resource}/{record.id}", json=body, headers=auth(admin))
    assert response.status_code in ACCEPTABLE, (body, response.text)
