"""Running Alembic from code: the ``migrate`` command, the test fixtures and the readiness probe share this."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

# migrations/ sits next to app/ in the checkout (the package is installed in editable mode)
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


# procrastinate's tables live in the same database but belong to the queue, not to our models:
# autogenerate and the schema check must neither drop nor report them
QUEUE_TABLE_PREFIX = "procrastinate_"


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic ``include_name`` hook: everything but the job queue's own tables."""
    return not (type_ == "table" and name is not None and name.startswith(QUEUE_TABLE_PREFIX))


def alembic_config(database_url: str) -> Config:
    """Return an Alembic config for ``database_url`` that needs no alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    # Alembic's config is ConfigParser-based: a literal % in a password must be doubled
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database up to ``revision``. Runs its own event loop: call it outside one."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    """Migrate the database down to ``revision``. Runs its own event loop: call it outside one."""
    command.downgrade(alembic_config(database_url), revision)


def include_object(dialect_name: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """Alembic's ``include_object`` for ``dialect_name``: leave out the indexes of another database.

    An index declared for one database only (``info={"dialect": "postgresql"}`` and ``ddl_if``, such
    as the GIN indexes of the search tokens) is neither created nor expected elsewhere.
    """

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "index" and not reflected:
            only = obj.info.get("dialect")
            return only is None or only == dialect_name
        return True

    return include


@lru_cache
def head_revision() -> str:
    """Return the newest revision of the migration chain (there is exactly one head)."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise RuntimeError("the migration chain has no head")
    return head
