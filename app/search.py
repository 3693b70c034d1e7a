"""Search tokens: the matcher's own tokenizer and normalisation, stored on every searchable row.

Orders, experts and achievements carry a ``search_tokens`` list, written whenever the row is saved
(a mapper event on each model calls ``*_tokens`` below): the jieba words and character bigrams of the
row's text as ``matching.Tokenizer`` reads it (OpenCC traditional → simplified, NFKC, case folded), and
one ``f:`` / ``k:`` token per field, discipline or achievement keyword for the exact filters. A search
then asks for rows holding every token of the query: on PostgreSQL ``search_tokens @> :tokens`` on a
``text[]`` column with a GIN index, on the embedded SQLite a scan of the JSON text (it is small).

Why bigrams: jieba cuts a text by the context, so the query 机床 is not a word of 数控机床主轴 (which
jieba cuts as 数控机床 / 主轴). Every run of Chinese content characters also yields its bigrams (the
matcher's ``#`` features), so a Chinese query of two characters or more is found wherever its
characters appear in a row in the row's text, as ``ILIKE '%…%'`` did, and 數控機床 finds 数控机床.
A one-character Chinese query only finds the rows where jieba left that character as a word.

Rows written before these columns existed have ``NULL`` tokens until ``studio-match backfill-search``
fills them (``studio-match migrate`` runs it after upgrading); ``--all`` recomputes every row after a
change of the tokenizer or its dictionary.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Text,
    and_,
    bindparam,
    event,
    false,
    inspect,
    select,
    type_coerce,
    update,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from matching import Tokenizer, normalise
from matching.tokenizer import BIGRAM_PREFIX

log = logging.getLogger(__name__)

# a text[] with a GIN index on PostgreSQL; JSON text on SQLite (portable: no bare ARRAY in the models)
TokenList = JSON().with_variant(postgresql.ARRAY(Text), "postgresql")


# an exact filter value (a field of an order, a discipline of an expert, an achievement keyword):
# the prefix keeps it apart from the words of the text
TERM_PREFIX = "f:"
KEYWORD_PREFIX = "k:"
ALLIANCE_PREFIX = "a:"
# a query's tokens beyond these add little and make the array longer than any index needs
MAX_QUERY_TOKENS = 32

_TOKENIZER = Tokenizer()  # the matcher's defaults: words and the bigrams of every content run
_CJK = re.compile(r"[\u4e00-\u9fff]+")


def text_tokens(texts: Iterable[str | None]) -> set[str]:
    """The words and bigrams of ``texts``, as the matcher tokenizes them (normalised first)."""
    tokens: set[str] = set()
    for text in texts:
        if text:
            tokens.update(_TOKENIZER(text))
    return tokens


def term_token(term: str, prefix: str = TERM_PREFIX) -> str:
    """The token of an exact filter value: ``f:`` plus the normalised term (機械工程 → ``f:机械工程``)."""
    return prefix + normalise(term)


def document_tokens(
    texts: Iterable[str | None], terms: Iterable[str] = (), prefix: str = TERM_PREFIX
) -> list[str]:
    """Every token a row is found by: its text's words and bigrams, and one token per exact term."""
    tokens = text_tokens(texts)
    tokens.update(term_token(t, prefix) for t in terms if t and t.strip())
    return sorted(tokens)


def query_tokens(query: str) -> list[str]:
    """The tokens a row must hold to match ``query`` (all of them).

    Chinese words are asked for by their bigrams, which every row holds wherever those characters
    stand together, whatever word jieba cut them into; Latin words, numbers and mixed terms (plc,
    3d打印, 1.5t) are asked for as words. An empty list means the query has no content word (only
    stopwords or punctuation): it matches nothing.
    """
    features = _TOKENIZER.features(normalise(query))
    bigrams = {f for f in features if f.startswith(BIGRAM_PREFIX)}
    covered = {c for b in bigrams for c in b[len(BIGRAM_PREFIX) :]}
    words: set[str] = set()
    for feature in features:
        if feature.startswith(BIGRAM_PREFIX):
            continue
        if _CJK.fullmatch(feature) and _said_by_bigrams(feature, bigrams, covered):
            continue
        words.add(feature)
    return sorted(bigrams | words)[:MAX_QUERY_TOKENS]


def _said_by_bigrams(word: str, bigrams: set[str], covered: set[str]) -> bool:
    if len(word) == 1:
        return word in covered
    return all(BIGRAM_PREFIX + word[i : i + 2] in bigrams for i in range(len(word) - 1))


def changed(target: Any, columns: Iterable[str]) -> bool:
    """True if any of ``columns`` of a record being flushed changed (its tokens must be recomputed)."""
    state = inspect(target)
    return any(state.attrs[column].history.has_changes() for column in columns)


def keep_search_tokens(
    model: type[Any], columns: Sequence[str], tokens_of: Callable[[Any], list[str]]
) -> None:
    """Write ``model``'s ``search_tokens`` on every insert, and on every update that changes ``columns``."""

    def on_insert(mapper: Any, connection: Any, record: Any) -> None:
        record.search_tokens = tokens_of(record)

    def on_update(mapper: Any, connection: Any, record: Any) -> None:
        if changed(record, columns):
            record.search_tokens = tokens_of(record)

    event.listen(model, "before_insert", on_insert)
    event.listen(model, "before_update", on_update)


def has_tokens(
    column: InstrumentedAttribute[Any], tokens: Sequence[str], dialect_name: str
) -> ColumnElement[bool]:
    """Rows whose ``search_tokens`` hold every one of ``tokens`` (none: no row).

    PostgreSQL: ``search_tokens @> ARRAY[...]``, answered by the GIN index. SQLite: one ``LIKE`` on
    the JSON text per token (the embedded database scans; it holds a single site's data).
    """
    if not tokens:
        return false()
    if dialect_name == "postgresql":
        return type_coerce(column, postgresql.ARRAY(Text)).contains(
            bindparam(None, list(tokens), type_=postgresql.ARRAY(Text))
        )
    from app.repository import json_list_contains  # not at import: the models import this module

    return and_(*(json_list_contains(column, token) for token in tokens))


# ------------------------------------------------------------------------------------------- backfill

# each model's table, its tokens from a row, and the columns that row needs
Source = tuple[Any, Callable[[Any], list[str]], Sequence[str]]


def _sources() -> list[Source]:
    from app.achievements.models import ACHIEVEMENT_TEXT_COLUMNS, Achievement, achievement_tokens
    from app.enterprises.models import ENTERPRISE_TEXT_COLUMNS, Enterprise, enterprise_tokens
    from app.experts.models import EXPERT_TEXT_COLUMNS, Expert, expert_tokens
    from app.orders.models import ORDER_TEXT_COLUMNS, Order, order_tokens
    from app.studios.models import STUDIO_TEXT_COLUMNS, Studio, studio_tokens

    return [
        (Order.__table__, order_tokens, ORDER_TEXT_COLUMNS),
        (Expert.__table__, expert_tokens, EXPERT_TEXT_COLUMNS),
        (Achievement.__table__, achievement_tokens, ACHIEVEMENT_TEXT_COLUMNS),
        (Studio.__table__, studio_tokens, STUDIO_TEXT_COLUMNS),
        (Enterprise.__table__, enterprise_tokens, ENTERPRISE_TEXT_COLUMNS),
    ]


async def backfill_search_tokens(
    session: AsyncSession,
    *,
    everything: bool = False,
    batch_size: int = 500,
    on_batch: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Fill ``search_tokens`` of the rows that have none (``everything``: of every row), in batches.

    Each batch commits, so a long backfill can be interrupted and resumed. ``updated_at`` and the
    row versions stay as they are: the tokens are derived data, not an edit.

    Args:
        session: a session of its own (this commits).
        everything: recompute every row (after a change of the tokenizer or its dictionary).
        batch_size: rows per statement and commit.
        on_batch: called with the table name and the number of rows of each batch (a progress bar).

    Returns:
        Rows filled per table.
    """
    filled: dict[str, int] = {}
    for table, tokens_of, columns in _sources():
        filled[table.name] = 0
        last_id = 0
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(search_tokens=bindparam("tokens"), updated_at=table.c.updated_at)
        )
        while True:
            query = select(table.c.id, *(table.c[c] for c in columns)).where(table.c.id > last_id)
            if not everything:
                query = query.where(table.c.search_tokens.is_(None))
            rows = (await session.execute(query.order_by(table.c.id).limit(batch_size))).all()
            if not rows:
                break
            await session.execute(statement, [{"row_id": row.id, "tokens": tokens_of(row)} for row in rows])
            await session.commit()
            last_id = rows[-1].id
            filled[table.name] += len(rows)
            if on_batch is not None:
                on_batch(table.name, len(rows))
        if filled[table.name] and session.get_bind().dialect.name == "postgresql":
            # the planner's statistics on the tokens decide between walking the sort's index with a
            # token filter (a common word: ~1 ms) and fetching every match to sort it (5-60 ms); after
            # a mass fill they describe a column of NULLs until autovacuum comes round
            await session.execute(sql_text(f'ANALYZE "{table.name}"'))
            await session.commit()
        log.info("search.backfilled table=%s rows=%s", table.name, filled[table.name])
    return filled
