"""Text normalisation: one form for every spelling of the same term.

Traditional characters become simplified, full-width forms become half-width (NFKC), and Latin
letters are case-folded, so 鐳射/激光-style script variants, ``ＰＬＣ`` and ``plc`` all meet.

OpenCC runs ``hk2s`` (Hong Kong variants) and then ``tw2s`` (Taiwan variants). Measured on the
simplified orders of the evaluation set converted with ``s2tw`` and with ``s2hk``, this chain brings
every one back to the same text as its original, where plain ``t2s`` did so for 230 of 276
(``s2tw``). OpenCC's phrase conversion (``tw2sp``) is not used: it also rewrites mainland text
(程序 → 进程, since 程序 is Taiwan usage for a process), so normalising would not be idempotent
and a mainland order would be changed. A short table of our own maps the regional technical terms
that matter here (软体 → 软件, 记忆体 → 内存, 镭射 → 激光, 列印 → 打印 ...). It runs on simplified text,
so a traditional twin and its original still normalise to the same string.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import opencc

_converter_lock = threading.Lock()
_WHITESPACE = re.compile(r"\s+")


# regional technical terms (Taiwan, Hong Kong, Macao) → mainland terms, on simplified text
_VARIANTS = {
    "镭射": "激光",
    "雷射": "激光",
    "软体": "软件",
    "硬体": "硬件",
    "韧体": "固件",
    "记忆体": "内存",
    "硬碟": "硬盘",
    "网路": "网络",
    "伺服器": "服务器",
    "资料库": "数据库",
    "程式": "程序",
    "数位": "数字",
    "积体电路": "集成电路",
    "晶片": "芯片",
    "资讯安全": "信息安全",
    "资安": "信息安全",
    "列印": "打印",
    "行动通讯": "移动通信",
}
# control characters (NUL above all) would cut OpenCC's C string short and lose the rest of the text
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_VARIANT_PATTERN = re.compile("|".join(sorted(map(re.escape, _VARIANTS), key=len, reverse=True)))


@lru_cache(maxsize=1)
def _converters() -> tuple[opencc.OpenCC, opencc.OpenCC]:
    # one pair per process: their dictionaries are read-only after loading
    return opencc.OpenCC("hk2s"), opencc.OpenCC("tw2s")


@lru_cache(maxsize=16_384)
def normalise(text: str) -> str:
    """Return ``text`` in simplified script, half-width, case-folded, with runs of whitespace as one space.

    Args:
        text: any user text (order, achievement, query).

    Returns:
        The normalised text; ``""`` for blank input.

    Results are memoised (the function is pure): a query's fields are normalised once for its tokens
    and reused for its keyword scan.
    """
    return simplified(text).casefold()


@lru_cache(maxsize=4_096)
def simplified(text: str) -> str:
    """Return ``text`` in simplified script and half-width, with runs of whitespace as one space, its
    letters' case kept: the form a name is shown in once its spellings are merged (揚州市職工創新聯盟 and
    扬州市职工创新联盟 are both shown as the latter). ``normalise`` is this, case-folded.
    """
    if not text or text.isspace():
        return ""
    folded = _CONTROL.sub(" ", unicodedata.normalize("NFKC", text))
    hong_kong, taiwan = _converters()
    with _converter_lock:  # the C++ converter is not documented as thread-safe
        converted = taiwan.convert(hong_kong.convert(folded))
    converted = _VARIANT_PATTERN.sub(lambda m: _VARIANTS[m.group(0)], converted)
    return _WHITESPACE.sub(" ", converted).strip()
