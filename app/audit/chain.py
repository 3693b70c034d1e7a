"""The hash chain of the audit trail: the canonical form of an event and the hash that links it.

Pure functions only (no database): the service appends with them, ``audit verify`` checks with them,
and the migration that chained the rows written before the chain existed keeps a frozen copy of
``canonical_bytes`` (a test checks that both agree).

Each event stores ``prev_hash`` (the ``row_hash`` of the event before it, or ``GENESIS`` for the
first) and ``row_hash``: SHA-256 over the sorted-key JSON of every other column, ``prev_hash``
included. Changing any stored value, deleting an event or moving one breaks a link that a walk from
the first event finds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

# the previous hash of the first event: there is nothing before it
GENESIS = "0" * 64
# the one column the hash cannot cover: it is the hash
HASH_COLUMN = "row_hash"


def canonical_value(value: Any) -> Any:
    """Return ``value`` in the form the hash covers; timestamps become UTC text with microseconds.

    A naive timestamp is UTC (SQLite hands them back naive, ``app.db.UtcDateTime``), so the same
    instant hashes alike on both databases.
    """
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def canonical_bytes(fields: Mapping[str, Any]) -> bytes:
    """Serialise an event's columns canonically: sorted keys, no spaces, UTF-8, ``None`` left out.

    Columns holding ``None`` are left out so that a nullable column added to the table later does not
    change the hash of the events written before it.

    Args:
        fields: column name → value, as stored (``row_hash`` is ignored).

    Returns:
        The bytes the row hash is taken over.
    """
    document = {
        name: canonical_value(value)
        for name, value in fields.items()
        if name != HASH_COLUMN and value is not None
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_hash(fields: Mapping[str, Any]) -> str:
    """Return the SHA-256 (hex) of an event's canonical form; ``fields`` includes ``prev_hash``."""
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()


def json_round_trip(value: Any) -> Any:
    """Return ``value`` as it reads back from a JSON column (tuples become lists, keys become text).

    The hash is taken over what the database will hand back, not over what the caller passed.
    """
    return None if value is None else json.loads(json.dumps(value, ensure_ascii=False))


class BreakKind(StrEnum):
    """What ``verify_chain`` found wrong at the first broken link."""

    CHANGED = "changed"  # an event's stored values no longer hash to its row_hash
    DELETED = "deleted"  # positions are missing between two events (or before the first)
    REORDERED = "reordered"  # an event sits at an id out of its position
    RELINKED = "relinked"  # an event's prev_hash is not the hash of the event before it
    TRUNCATED = "truncated"  # an anchor names a head that is gone or different
