"""Only administrators import and export; uploads over ``max_upload_bytes`` are refused without being read."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.enterprises.models import Enterprise
from tests.factories import make_user, valid_credit_code
from tests.problems import Auth, assert_problem, count
from tests.transfer.conftest import SMALL_CAP
from tests.transfer.workbooks import (
    ENTERPRISE_HEADERS,
    EXPORTS,
    IMPORTS,
    XLSX,
    enterprise_row,
    sheet_bytes,
    upload,
)


@pytest.mark.parametrize("role", [UserRole.ENTERPRISE, UserRole.EXPERT])
async def test_only_administrators_may_use_templates_imports_and_exports(
    client: AsyncClient, session: AsyncSession, auth: Auth, role: UserRole
) -> None:
    user = await make_user(session, role)
    content = sheet_bytes(ENTERPRISE_HEADERS, [enterprise_row("扬州越权导入有限公司", valid_credit_code())])
    before = await count(session, Enterprise)

    answers = [
        await client.get(f"{IMPORTS}/enterprises/template", headers=auth(user)),
        await upload(client, auth(user), "enterprises", content),
        await client.get(f"{EXPORTS}/orders.xlsx", headers=auth(user)),
    ]

    for response in answers:
        assert_problem(response, 403, "forbidden")
    assert await count(session, Enterprise) == before


async def test_anonymous_callers_must_log_in(client: AsyncClient) -> None:
    answers = [
        await client.get(f"{IMPORTS}/experts/template"),
        await client.post(f"{IMPORTS}/experts", files={"file": ("a.xlsx", b"PK", XLSX)}),
        await client.get(f"{EXPORTS}/agreements.xlsx"),
    ]

    for response in answers:
        assert_problem(response, 401, "unauthenticated")


async def test_a_file_under_the_cap_is_imported(
    small_client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    content = sheet_bytes(ENTERPRISE_HEADERS, [enterprise_row("扬州小文件有限公司", valid_credit_code())])
    assert len(content) < SMALL_CAP

    response = await upload(small_client, auth(admin), "enterprises", content)

    assert response.status_code == 201, response.text


async def test_a_file_over_the_cap_is_refused_with_413(
    small_client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    # a real workbook made big by incompressible text: refused for its size, not for its content
    rows = [enterprise_row(os.urandom(60).hex(), valid_credit_code()) for _ in range(600)]
    content = sheet_bytes(ENTERPRISE_HEADERS, rows)
    assert len(content) > SMALL_CAP
    before = await count(session, Enterprise)

    response = await upload(small_client, auth(admin), "enterprises", content)

    body = assert_problem(response, 413, "upload_too_large")
    assert "64 KB" in body["detail"]
    assert await count(session, Enterprise) == before


async def test_a_file_just_over_the_cap_is_refused_even_inside_the_multipart_allowance(
    small_client: AsyncClient, auth: Auth, admin: User
) -> None:
    response = await upload(small_client, auth(admin), "enterprises", b"PK\x03\x04" + b"\0" * SMALL_CAP)

    assert_problem(response, 413, "upload_too_large")


async def test_a_streamed_body_is_cut_off_once_it_passes_the_cap(
    small_client: AsyncClient, auth: Auth, admin: User
) -> None:
    # no Content-Length: the body arrives in chunks, and reading must stop soon after the cap
    sent = 0
    chunk = b"\0" * 1024
    total_chunks = 20 * 1024  # 20 MB offered

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield (
            b"--b0undary\r\n"
            b'Content-Disposition: form-data; name="file"; filename="big.xlsx"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n"
        )
        for _ in range(total_chunks):
            sent += 1
            yield chunk
        yield b"\r\n--b0undary--\r\n"

    response = await small_client.post(
        f"{IMPORTS}/enterprises",
        headers={**auth(admin), "Content-Type": "multipart/form-data; boundary=b0undary"},
        content=body(),
    )

    assert_problem(response, 413, "upload_too_large")
    assert sent * len(chunk) < 4 * SMALL_CAP  # read up to the cap and its multipart allowance, no further


async def test_a_declared_length_over_the_cap_is_refused_before_the_body_is_read(
    small_client: AsyncClient, auth: Auth, admin: User
) -> None:
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        sent += 1
        yield b"\0" * 1024

    response = await small_client.post(
        f"{IMPORTS}/enterprises",
        headers={
            **auth(admin),
            "Content-Type": "multipart/form-data; boundary=b0undary",
            "Content-Length": str(100 * SMALL_CAP),
        },
        content=body(),
    )

    assert_problem(response, 413, "upload_too_large")
    assert sent == 0
