"""指标性质 (the operator of an indicator): the one reader every form uses.

A clerk writes the operator of a 三级指标 in many ways: “≥”, “>=”, “＞＝”, “≧”, “大于等于”, “不低于”…
All of them mean one of four: ≥ (higher is better), ≤ (lower is better), = (exactly), or 定性
(qualitative). Strict “>”/“<” read as “≥”/“≤”: neither the national scoring formula nor any
surveyed system treats the boundary value differently. The 自评表, the 监控表 and the 申报表 all
read operators here, so a spelling one of them accepts, all accept.
"""

from __future__ import annotations

import re
from typing import Any

QUALITATIVE = "定性"
OPERATORS = ("≥", "≤", "=", QUALITATIVE)
QUANTITATIVE_OPERATORS = ("≥", "≤", "=")

# Full-width digits and signs people type with a Chinese IME; applied before reading numbers only,
# so a unit such as "m²" or text such as "（良）" is never rewritten.
WIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                       "％": "%", "＞": ">", "＜": "<", "＝": "=", "．": ".", "　": " ",
                       "≧": "≥", "≦": "≤"})
PREFIXES = (  # longest first, so ">=" wins over ">"
    (">=", "≥"), ("<=", "≤"), ("==", "="), ("≥", "≥"), ("≤", "≤"), ("=", "="), (">", "≥"),
    ("<", "≤"), ("大于等于", "≥"), ("不低于", "≥"), ("不少于", "≥"), ("至少", "≥"),
    ("小于等于", "≤"), ("不高于", "≤"), ("不超过", "≤"), ("不多于", "≤"), ("至多", "≤"),
    ("等于", "="),
)


def split_operator(text: str) -> tuple[str | None, str]:
    """(operator, the rest) when `text` (widths normalised) starts with an operator, else (None, text)."""
    for prefix, operator in PREFIXES:
        if text.startswith(prefix):
            return operator, text[len(prefix):].strip()
    return None, text


def normalise_operator(value: Any) -> str | None:
    """'≥' from '≥', '>=', '＞＝', '>', '≧', '不低于' …; '=' from '=' or '=='; '定性' from '定性';
    None when unknown or blank."""
    text = "" if value is None or isinstance(value, bool) else re.sub(r"\s+", "", str(value)).translate(WIDTH)
    if not text:
        return None
    if text in OPERATORS:
        return text
    operator, rest = split_operator(text)  # whitespace is gone, so "> =" arrives as ">="
    if not rest and operator is not None:
        return operator
    return None
