"""The unified social credit code (统一社会信用代码) of GB 32100-2015 and its check character."""

from __future__ import annotations

import unicodedata

# 31 characters: digits and capitals without I, O, Z, S, V (easily confused with 1, 0, 2, 5, U)
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18
_VALUES = {c: i for i, c in enumerate(CHARSET)}


def normalise(code: str) -> str:
    """Fold full-width characters, strip spaces and upper-case, as people paste codes in any form."""
    return "".join(unicodedata.normalize("NFKC", code).split()).upper()


def check_character(first17: str) -> str:
    """Compute the 18th (check) character for the first 17 characters of a code.

    Raises:
        ValueError: ``first17`` is not 17 characters of the code's character set.
    """
    if len(first17) != LENGTH - 1 or any(c not in _VALUES for c in first17):
        raise ValueError("first17 must be 17 characters of the GB 32100 character set")
    total = sum(_VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Return a Chinese description of what is wrong with a normalised code, or ``None`` if it is valid."""
    if len(code) != LENGTH:
        return f"应为 18 位，当前为 {len(code)} 位"
    bad = sorted({c for c in code if c not in _VALUES})
    if bad:
        return f"含有不允许的字符：{'、'.join(bad)}（不使用 I、O、Z、S、V）"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"校验位错误：第 18 位应为 {expected}，实际为 {code[17]}"
    return None
