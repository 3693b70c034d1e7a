"""Building blocks shared by the domains' request schemas, and the one rule for characters in text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from annotated_types import GroupedMetadata
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

NO_NUL_PATTERN = r"^[^\x00]*$"

# Characters nobody sees, that change nothing a reader sees: pasted in from Word, web pages and
# chat apps along with the text. Stripped silently (refusing would make people hunt for a character
# they cannot see): zero-width space / non-joiner / joiner, word joiner, invisible math operators,
# soft hyphen, the Mongolian vowel separator, and the byte order mark (U+FEFF).
INVISIBLE_CHARACTERS = frozenset("\u00ad\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff")
_STRIP_INVISIBLE = {ord(c): None for c in INVISIBLE_CHARACTERS}

# Characters that change what a reader sees, or that cannot be stored: refused with a Chinese
# message naming the character and where it is.
#   bidi controls (U+202A–202E embeddings/overrides, U+2066–2069 isolates, U+200E/200F/061C marks):
#     they reorder the text around them ("Trojan Source"); a silent strip would store text that
#     reads differently from what the sender saw, so the sender must remove them;
#   C0 controls (NUL, ESC …), DEL and C1 controls: PostgreSQL cannot store NUL, and the others drive
#     terminals and break exports; line breaks and tabs are allowed only in multi-line text;
#   lone surrogates (from JSON escapes like "\ud800"): not characters at all, not encodable as UTF-8.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_LINE_BREAKS = "\t\n\r\u2028\u2029"
_SURROGATES = "\ud800-\udfff"
_REFUSED_SINGLE_LINE = re.compile(f"[{_BIDI}{_CONTROLS}{_LINE_BREAKS}{_SURROGATES}]")
_REFUSED_MULTI_LINE = re.compile(f"[{_BIDI}{_CONTROLS}{_SURROGATES}]")
_BIDI_CLASS = re.compile(f"[{_BIDI}]")


def _refusal(char: str, position: int) -> str:
    where = f"第 {position} 个字符 U+{ord(char):04X}"
    if _BIDI_CLASS.match(char):
        return f"不能包含改变文字方向的不可见字符（{where}），请删除后重试"
    if char in _LINE_BREAKS:
        return f"不能包含换行符或制表符（{where}），请写在一行内"
    if "\ud800" <= char <= "\udfff":
        return f"包含无法识别的字符（{where}），请删除后重试"
    return f"不能包含控制字符（{where}），请删除后重试"


def clean_text(value: Any, *, multiline: bool = False) -> Any:
    """Apply the character rule to one submitted text (anything else passes through untouched).

    The rule, for every text field of the API, the pages and the imports:

    * **stripped** (silently): zero-width characters (U+200B–200D, U+2060, U+2061–2064), the soft
      hyphen (U+00AD), U+180E and the byte order mark (U+FEFF). They are invisible and change nothing
      a reader sees; they arrive by copy and paste.
    * **normalised** in multi-line text: CR LF and a lone CR become LF (browsers send CR LF from a
      ``<textarea>``), U+2028/U+2029 become LF.
    * **refused** (a Chinese message naming the character and its position): NUL and the other C0
      controls (ESC …), DEL, the C1 controls U+0080–009F, lone surrogates, and the bidi controls
      (U+202A–202E, U+2066–2069, U+200E, U+200F, U+061C), which reorder what a reader sees and would
      be stored as a text that reads differently from what was typed. Line breaks and tabs are
      allowed in multi-line text only.

    Args:
        value: the submitted value (a non-string is left to the type's own check).
        multiline: whether line breaks and tabs are allowed.

    Returns:
        The cleaned text.

    Raises:
        ValueError: a refused character (pydantic reports it as the field's Chinese message).
    """
    if not isinstance(value, str):
        return value
    text = value.translate(_STRIP_INVISIBLE) if not INVISIBLE_CHARACTERS.isdisjoint(value) else value
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    refused = (_REFUSED_MULTI_LINE if multiline else _REFUSED_SINGLE_LINE).search(text)
    if refused is not None:
        # the position counts in what was sent, which is what the sender can look at
        char = refused.group()
        raise ValueError(_refusal(char, value.index(char) + 1))
    return text


def _clean_single_line(value: Any) -> Any:
    return clean_text(value)


def _clean_multi_line(value: Any) -> Any:
    return clean_text(value, multiline=True)


TEXT_RULES = frozenset({_clean_single_line, _clean_multi_line})
"""The validators that apply the character rule (a test checks that every text field has one)."""


@dataclass(frozen=True)
class _TextType(GroupedMetadata):
    """The metadata of a ``Text(...)`` field: the character rule first, then strip and length checks."""

    max_length: int
    min_length: int
    multiline: bool

    def __iter__(self) -> Iterator[object]:
        # the constraints go first: pydantic builds the str schema from them, and the validator
        # after them wraps that schema, so it runs before the strip and the length check
        yield StringConstraints(strip_whitespace=True, min_length=self.min_length, max_length=self.max_length)
        yield BeforeValidator(_clean_multi_line if self.multiline else _clean_single_line)


def Text(max_length: int, *, min_length: int = 1, multiline: bool = False) -> Any:  # noqa: N802 - reads like a type in annotations
    """A stripped string of bounded length under the character rule (``clean_text``), for
    ``Annotated[str, Text(200)]``; ``multiline=True`` for text typed in a ``<textarea>``.

    NUL and the other control characters are refused here: PostgreSQL cannot store NUL, and a 500 is
    never the answer.
    """
    return _TextType(max_length=max_length, min_length=min_length, multiline=multiline)


ShortText = Annotated[str, Text(50)]
Term = Annotated[str, Text(50)]
TermList = Annotated[list[Term], Field(max_length=20)]


class InputModel(BaseModel):
    """Base for request bodies: unknown fields are an error, so a typo is never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class PatchModel(InputModel):
    """Base for partial updates: only the fields sent are changed.

    Fields are declared optional so that they may be left out, but a field listed in
    ``not_nullable`` may not be sent as ``null`` (its column has no empty value).
    """

    not_nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _reject_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.not_nullable:
            raise ValueError("不能为空")
        return value

    def changes(self) -> dict[str, Any]:
        """Return the fields the caller sent, with their validated values."""
        return self.model_dump(exclude_unset=True)


# PostgreSQL integer columns hold 32 bits: a larger id or amount is a 422, not a database error
MAX_INT = 2_147_483_647
Id = Annotated[int, Field(ge=1, le=MAX_INT)]
