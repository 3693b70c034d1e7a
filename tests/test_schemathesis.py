"""schemathesis against the app's own OpenAPI schema: every operation, logged in, never a 5xx, and
every error an RFC 9457 problem+json.

Cases come from schemathesis (valid and invalid by the schema) and go in-process to the app on the
test's event loop, as an administrator or as enterprise A's user (drawn per example), against the
records of ``tests/authz_world.py``; every request is rolled back, so the examples never depend on
each other. The number of examples per operation is bounded and the run derandomized, so CI sees the
same cases every time; ``STUDIO_MATCH_SCHEMATHESIS_EXAMPLES`` raises it for a deeper local run.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.generation.case import Case
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.main import create_app
from tests.authz_rules import ADMIN, EMPTY_YEAR, ENT_A, OPEN_YEAR, World
from tests.authz_world import RolledBackApp, rolled_back_app

EXAMPLES = int(os.environ.get("STUDIO_MATCH_SCHEMATHESIS_EXAMPLES", "10"))
PROBLEM_MEMBERS = {"type", "title", "status", "detail", "code"}

# the schema is the app's own; the settings only decide what the app could connect to, never used here
SCHEMA = schemathesis.openapi.from_dict(
    create_app(
        Settings(database_url="sqlite+aiosqlite:///:memory:", public_url="http://testserver")
    ).openapi()
)
OPERATIONS = {operation.label: operation for operation in (r.ok() for r in SCHEMA.get_all_operations())}
CASES = {
    label: operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)
    for label, operation in OPERATIONS.items()
}

FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


@pytest.fixture(scope="module")
async def api(settings: Settings, engine: AsyncEngine) -> AsyncIterator[RolledBackApp]:
    """Enterprise A's records and the logins, built once for the module."""
    async with rolled_back_app(settings, engine) as app:
        yield app


def httpx_kwargs(case: Case, token: str) -> dict[str, Any]:
    """The request schemathesis would send (it speaks ``requests``), as ``httpx.request`` arguments."""
    kwargs = case.as_transport_kwargs(
        base_url="http://testserver", headers={"Authorization": f"Bearer {token}"}
    )
    cookies = kwargs.pop("cookies", None) or {}
    if cookies:  # httpx takes cookies on the client, not per request
        kwargs["headers"]["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    if kwargs.get("files"):  # a generated part may be a number: send it as its text, as requests would
        kwargs["files"] = [(name, (filename, _part(value))) for name, (filename, value) in kwargs["files"]]
    else:
        kwargs.pop("files", None)
    if kwargs.get("data") is None:
        kwargs.pop("data", None)
    elif isinstance(kwargs["data"], bytes | str) and "files" not in kwargs:
        kwargs["content"] = kwargs.pop("data")  # a body already encoded (an empty multipart, say)
    return kwargs


def record_ids(world: World) -> dict[str, list[Any]]:
    """Path parameters and body fields that name records, and the records of ``world`` they may name."""
    return {
        "enterprise_id": [world.enterprise_a, world.enterprise_b],
        "studio_id": [world.studio_a],
        "expert_id": [world.expert_x, world.expert_y, world.expert_z],
        "achievement_id": [world.achievement_x],
        "order_id": [
            world.order_draft,
            world.order_published,
            world.order_withdrawn,
            world.order_with_taking,
        ],
        "taking_id": [world.taking_x],
        "notification_id": [world.notification_a],
        "agreement_id": [
            world.agreement_draft,
            world.agreement_pending,
            world.agreement_active,
            world.agreement_amending,
        ],
        "number": [1],
        "proposal_id": [world.proposal_z],
        "review_id": [world.review_y],
        "year": [OPEN_YEAR, EMPTY_YEAR],
    }


def on_records(case: Case, world: World, data: st.DataObject) -> None:
    """Point the case's path parameters (and id fields of a JSON object body) at records of ``world``."""
    ids = record_ids(world)
    for name in list(case.path_parameters or {}):
        if name in ids:
            case.path_parameters[name] = data.draw(st.sampled_from(ids[name]), label=name)
    if isinstance(case.body, dict):
        for name in list(case.body):
            if name in ids and name != "year" and isinstance(case.body[name], int):
                case.body[name] = data.draw(st.sampled_from(ids[name]), label=f"body {name}")


def _part(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def assert_problem_shape(case: Case, response: Any) -> None:
    """An error answer is problem+json with the RFC 9457 members and our ``code``."""
    media_type = response.headers.get("content-type", "")
    where = f"{case.method} {case.formatted_path} → {response.status_code}"
    assert media_type.startswith("application/problem+json"), f"{where}: {media_type}\n{response.text[:500]}"
    body = response.json()
    missing = PROBLEM_MEMBERS - body.keys()
    assert not missing, f"{where}: the problem lacks {sorted(missing)}: {body}"
    assert body["status"] == response.status_code, f"{where}: status member {body['status']}"


@pytest.mark.parametrize("label", sorted(CASES))
@FUZZ
@given(data=st.data())
async def test_no_operation_answers_5xx_and_every_error_is_a_problem(
    api: RolledBackApp, label: str, data: st.DataObject
) -> None:
    case = data.draw(CASES[label], label="case")
    actor = data.draw(st.sampled_from([ADMIN, ENT_A]), label="actor")
    if data.draw(st.booleans(), label="on the records of the world"):
        # generated ids rarely name a record: half the examples aim at real ones, in every state
        on_records(case, api.world, data)
    response = await api.request(**httpx_kwargs(case, api.tokens[actor]))
    where = (
        f"{case.method} {response.request.url} as {actor} → {response.status_code} (body: {case.body!r:.300})"
    )
    assert response.status_code < 500, f"{where}\n{response.text[:1000]}"
    if response.status_code >= 400:
        assert_problem_shape(case, response)
