"""Structured logs: one JSON object per line, carrying the request id."""

from __future__ import annotations

import json
import logging

from app.logging import JsonFormatter, request_id_var


def test_json_lines_carry_the_request_id_and_extra_fields() -> None:
    record = logging.LogRecord(
        "app.orders", logging.INFO, __file__, 1, "order.created order_id=%s", (7,), None
    )
    record.order_id = 7
    token = request_id_var.set("abc123")
    try:
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)
    payload = json.loads(line)
    assert payload["msg"] == "order.created order_id=7"
    assert payload["level"] == "INFO"
    assert payload["request_id"] == "abc123"
    assert payload["order_id"] == 7
    assert "\n" not in line


def test_exceptions_stay_inside_one_json_line() -> None:
    try:
        raise ValueError("数据库不可用")
    except ValueError:
        import sys

        record = logging.LogRecord("app", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "数据库不可用" in json.loads(line)["exc"]
