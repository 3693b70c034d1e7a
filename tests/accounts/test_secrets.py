"""Finding 11 of issue 11: no serving with the public development key outside development mode, and the
session cookie is ``Secure`` whenever the public URL is https."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

import app.main as app_main
from app.accounts.models import UserRole
from app.accounts.security import SESSION_COOKIE
from app.cli import cli
from app.config import DEV_SECRET_KEY, InsecureSettings, Settings, get_settings
from app.main import create_app_from_env
from tests.conftest import app_on_session
from tests.factories import PASSWORD, make_user

CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


@pytest.fixture
def production_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("STUDIO_MATCH_PUBLIC_URL", "https://match.example.cn")
    monkeypatch.delenv("STUDIO_MATCH_SECRET_KEY", raising=False)
    monkeypatch.delenv("STUDIO_MATCH_ENVIRONMENT", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_serve_refuses_the_development_key_in_production(production_env: None) -> None:
    result = CliRunner().invoke(cli, ["serve", "--port", "18401"])

    assert result.exit_code == 2
    assert "Refusing to start" in result.output and "STUDIO_MATCH_SECRET_KEY" in result.output
    assert not CJK.search(result.output), result.output


def test_the_app_factory_refuses_too_and_logs_why(
    production_env: None, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_main, "configure_logging", lambda *args: None)  # keep pytest's log capture
    with caplog.at_level(logging.CRITICAL, logger="app.main"), pytest.raises(InsecureSettings):
        create_app_from_env()

    assert any("app.refused_to_start" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("values", "fit"),
    [
        ({"public_url": "https://match.example.cn"}, False),
        ({"public_url": "http://10.0.0.5:8000"}, False),
        ({"public_url": "https://match.example.cn", "environment": "development"}, True),
        ({"public_url": "http://127.0.0.1:8000"}, True),
        ({"public_url": "http://localhost:8000"}, True),
        ({"public_url": "http://127.0.0.1:8000", "environment": "production"}, False),
        ({"public_url": "https://match.example.cn", "secret_key": "x" * 48}, True),
    ],
)
def test_which_settings_may_serve(values: dict[str, str], fit: bool) -> None:
    settings = Settings(**values)  # type: ignore[arg-type]

    if fit:
        settings.check_fit_to_serve()
    else:
        with pytest.raises(InsecureSettings):
            settings.check_fit_to_serve()
    assert (settings.secret_key.get_secret_value() == DEV_SECRET_KEY) or fit


def test_an_https_public_url_makes_cookies_secure() -> None:
    assert Settings(public_url="https://match.example.cn").cookie_secure is True
    assert Settings(public_url="https://match.example.cn", cookie_secure=False).cookie_secure is True
    assert Settings(public_url="http://127.0.0.1:8000").cookie_secure is False


async def test_the_session_cookie_is_secure_http_only_and_lax_on_an_https_site(
    settings: Settings, session: AsyncSession
) -> None:
    https = settings.model_copy(update={"public_url": "https://match.example.cn", "cookie_secure": True})
    user = await make_user(session, UserRole.ENTERPRISE)
    app = app_on_session(https, session)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="https://match.example.cn") as client:
        response = await client.post(
            "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
        )

    assert response.status_code == 200, response.text
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= attributes
