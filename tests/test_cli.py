"""The quick start's path on the embedded database: migrate, load the demo twice, serve, stop gracefully."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings


@pytest.fixture
def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'var' / 'studio-match.db'}"
    monkeypatch.setenv("STUDIO_MATCH_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "migrate", "demo", "reindex", "remind", "worker", "eval", "audit"):
        assert command in result.output


def test_migrate_demo_serve_on_the_embedded_database(sqlite_url: str) -> None:
    runner = CliRunner()
    migrated = runner.invoke(cli, ["migrate"])
    assert migrated.exit_code == 0, migrated.output
    loaded = runner.invoke(cli, ["demo"])
    assert loaded.exit_code == 0, loaded.output
    assert "已加载演示数据" in loaded.output
    again = runner.invoke(cli, ["demo"])
    assert again.exit_code == 0 and "未重复加载" in again.output
    reindexed = runner.invoke(cli, ["reindex"])
    assert reindexed.exit_code == 0 and "匹配索引已重建" in reindexed.output, reindexed.output
    assert re.search(r"状态 b\d+\+c\d+", reindexed.output), reindexed.output
    reminded = runner.invoke(cli, ["remind"])
    # the demo's history has agreements whose monthly consultation is overdue
    assert reminded.exit_code == 0 and re.search(r"会商逾期的协议：[1-9]\d* 份", reminded.output), (
        reminded.output
    )

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        env={**os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not become ready"
            assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
            time.sleep(0.2)
        experts = httpx.get(f"{base}/api/v1/experts", timeout=5).json()
        assert experts["total"] >= 40
        assert all("\u4e00" <= e["name"][0] <= "\u9fff" for e in experts["items"])
        assert httpx.get(f"{base}/docs", timeout=5).status_code == 200
        login = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": "enterprise", "password": "demo-2026-public"}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        me = login.json()["user"]
        orders = httpx.get(
            f"{base}/api/v1/orders",
            params={"enterprise_id": me["enterprise_id"], "status": "published"},
            headers=headers,
            timeout=5,
        ).json()["items"]
        assert orders, "the demo enterprise has published orders"
        proposals = httpx.post(
            f"{base}/api/v1/orders/{orders[0]['id']}/proposals", headers=headers, timeout=30
        )
        assert proposals.status_code == 201, proposals.text
        assert proposals.json() and proposals.json()[0]["reasons"]["sentence"]
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
    # uvicorn finishes the shutdown, then re-raises SIGTERM so a supervisor sees why it stopped
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert "app.stopped" in output  # the lifespan closed the database cleanly
    assert "matcher.loaded" in output  # the server loaded the version `reindex` stored
    assert "matcher.built" not in output  # and did not fit one of its own
    # what lives as long as the worker is out of the collector's full passes
    assert re.search(r"app.heap_frozen objects=[1-9]\d{4,}", output), output
