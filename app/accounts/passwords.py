"""The password policy: at least 10 characters, not the username, and not easy to guess.

"Easy to guess" is zxcvbn's estimate (dwolfhub/zxcvbn-python, MIT): it knows 30,000 common passwords,
names and words, keyboard rows, dates, repeats, sequences and l33t spellings such as ``P@ssw0rd2024``,
which a plain list of common passwords misses. ``CONTEXT_WORDS`` (written for this project) adds the
words people here are likely to build passwords from, which zxcvbn's English lists do not hold.
"""

from __future__ import annotations

import unicodedata

from zxcvbn import zxcvbn

from app.accounts.security import username_key

MIN_LENGTH = 10
# zxcvbn scores 0–4; 3 is "safely unguessable: moderate protection from an offline slow-hash attack"
MIN_SCORE = 3
# zxcvbn refuses longer input; the first 72 characters decide (a weak start stays weak)
_ZXCVBN_MAX = 72
CONTEXT_WORDS = (
    "studio", "match", "studiomatch", "chancai", "yangzhou", "jiangsu", "zhonghua", "zhongguo",
    "china", "beijing", "shanghai", "woaini", "5201314", "1314520", "iloveyou", "laomo", "gongjiang",
    "gongzuoshi", "zhuanjia", "qiye", "admin", "demo", "mima", "qwe123", "aa123456", "qq123456",
)  # fmt: skip


def password_problem(password: str, *, username: str, display_name: str = "") -> str | None:
    """Return why ``password`` breaks the policy (a Chinese sentence), or ``None`` when it is acceptable.

    Args:
        password: the new password.
        username: the account's username (the password must not be it, in any case or width).
        display_name: the account's display name, also a word a guesser would try.
    """
    if len(password) < MIN_LENGTH:
        return f"密码至少需要 {MIN_LENGTH} 个字符。"
    if username and username_key(password) == username_key(username):
        return "密码不能与用户名相同。"
    hints = [username, display_name, *CONTEXT_WORDS]
    # judged in NFKC: full-width `ＬＩ．ＭＩＮＧ２０２４` is as guessable as `LI.MING2024`
    normalised = unicodedata.normalize("NFKC", password)
    result = zxcvbn(normalised[:_ZXCVBN_MAX], user_inputs=[h for h in hints if h])
    if int(result["score"]) < MIN_SCORE:
        return "密码太容易被猜到（常见密码、键盘顺序、日期、重复字符或与用户名相近），请换一个更长、更不规则的密码。"
    return None
