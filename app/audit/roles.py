"""The PostgreSQL privileges of the role the app connects as: everything it needs, nothing that rewrites the trail.

The owner of the tables (the role that runs ``studio-match migrate``) can ``TRUNCATE`` them, drop or
disable their triggers and alter them; no hash chain stops someone who holds those rights from
rewriting history and recomputing it. So the app connects as another role: full DML on the tables it
works with, only ``SELECT`` and ``INSERT`` on the append-only ones, no ownership (which is what
``ALTER TABLE … DISABLE TRIGGER`` and ``DROP TRIGGER`` need) and no ``TRUNCATE`` or ``TRIGGER`` privilege.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# inserted by the app, never changed by it
APPEND_ONLY_TABLES = ("audit_events", "audit_anchors")
# read by the readiness probe, written only by migrations
READ_ONLY_TABLES = ("alembic_version",)

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def valid_role_name(role: str) -> bool:
    """Whether ``role`` is a plain lower-case PostgreSQL identifier (the only kind we print SQL for)."""
    return _ROLE_NAME.fullmatch(role) is not None


def grant_statements(role: str, *, database: str, schema: str, tables: Iterable[str]) -> list[str]:
    """Return the SQL that gives ``role`` the app's privileges, from a clean slate (safe to re-run).

    Run it as the owner after every migration: the default privileges cover tables created later by
    the owner, but a new append-only table needs its ``UPDATE``/``DELETE`` taken back here.

    Args:
        role: the app's login role (it must exist; it must not own the tables).
        database: the database's name.
        schema: the schema holding the tables.
        tables: every table of the schema.

    Returns:
        One statement per item, without the trailing semicolon.

    Raises:
        ValueError: ``role`` is not a plain identifier.
    """
    if not valid_role_name(role):
        raise ValueError(f"not a plain role name: {role!r}")
    who, where = _quote(role), _quote(schema)
    names = sorted(set(tables))
    writable = [t for t in names if t not in APPEND_ONLY_TABLES and t not in READ_ONLY_TABLES]
    statements = [
        f"GRANT CONNECT, TEMPORARY ON DATABASE {_quote(database)} TO {who}",
        f"GRANT USAGE ON SCHEMA {where} TO {who}",
        # from a clean slate: a privilege granted by hand earlier (TRUNCATE, TRIGGER, UPDATE on the trail) goes
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {who}",
    ]
    if writable:
        listed = ", ".join(f"{where}.{_quote(t)}" for t in writable)
        statements.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {listed} TO {who}")
    for group, privileges in ((APPEND_ONLY_TABLES, "SELECT, INSERT"), (READ_ONLY_TABLES, "SELECT")):
        present = [t for t in group if t in names]
        if present:
            listed = ", ".join(f"{where}.{_quote(t)}" for t in present)
            statements.append(f"GRANT {privileges} ON TABLE {listed} TO {who}")
    statements += [
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {where} TO {who}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {where} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {who}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {where} GRANT USAGE, SELECT ON SEQUENCES TO {who}",
    ]
    return statements
