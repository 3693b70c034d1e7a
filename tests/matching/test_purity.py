"""The matching library stays pure: no app, no database, no web framework, no environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import matching

PACKAGE = Path(matching.__file__).resolve().parent
ROOT = PACKAGE.parent
FORBIDDEN_MODULES = ("app", "sqlalchemy", "fastapi")
FORBIDDEN_TEXT = ("import app", "from app", "os.environ")

IMPORT_EVERYTHING = """
import importlib, json, pkgutil, sys
import matching
names = ["matching"] + [m.name for m in pkgutil.walk_packages(matching.__path__, "matching.")]
for name in names:
    importlib.import_module(name)
loaded = sorted(n for n in sys.modules if n.split(".")[0] in {forbidden!r})
print(json.dumps({{"imported": names, "forbidden": loaded}}))
"""


def test_importing_every_module_pulls_in_no_app_database_or_web_framework() -> None:
    code = IMPORT_EVERYTHING.format(forbidden=set(FORBIDDEN_MODULES))
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert {f"matching.{m}" for m in modules} <= set(report["imported"])
    assert report["forbidden"] == []


def test_no_source_file_imports_app_or_reads_the_environment() -> None:
    files = [p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert any(p.suffix == ".py" for p in files)
    offending = [
        (str(p.relative_to(ROOT)), needle)
        for p in files
        for needle in FORBIDDEN_TEXT
        if needle in p.read_text(encoding="utf-8", errors="replace")
    ]
    assert offending == []
