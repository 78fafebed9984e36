"""Decimal arithmetic and the one rounding rule used everywhere.

Money is in 万元 with 2 places unless a form says 元. Rates are ratios (0.7317) kept at full
precision until displayed; a percentage shows 2 places (73.17). Rounding happens once, at the
end, always ROUND_HALF_UP as Chinese finance practice (四舍五入) expects.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from rules.amounts import AMOUNT_TEXT

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")
# The largest magnitude an amount or a score may have: far above any budget (10万亿), exact in
# storage, and well inside what quantize can hold (28 significant digits).
AMOUNT_LIMIT = Decimal(10) ** 13


def to_decimal(value) -> Decimal:
    """Convert int/str/Decimal to Decimal; floats are refused so no binary error creeps in."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise TypeError("bool is not a number")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        # A comma only as a thousands separator in groups of three (rules.amounts): "1280,50"
        # is not 128050.
        if "," in text and not AMOUNT_TEXT.match(text):
            raise ValueError(f"misplaced comma in a number: {value!r}")
        try:
            result = Decimal(text.replace(",", ""))
        except InvalidOperation as exc:
            raise ValueError(f"not a number: {value!r}") from exc
    else:
        raise TypeError(f"unsupported number type {type(value).__name__}; use Decimal or str")
    if not result.is_finite():
        raise ValueError("NaN and infinity are not numbers here")
    return result


def quantize(value: Decimal, places: int = 2) -> Decimal:
    """Round half up to `places` decimals."""
    exp = Decimal(1).scaleb(-places)
    with localcontext() as ctx:
        ctx.prec = 60
        return to_decimal(value).quantize(exp, rounding=ROUND_HALF_UP)


def money(value) -> Decimal:
    """Money rounded to 2 places (分 when in 元, 0.01 万元 when in 万元)."""
    return quantize(value, 2)


def ratio(numerator, denominator) -> Decimal | None:
    """numerator ÷ denominator at full precision; None when the denominator is zero."""
    num, den = to_decimal(numerator), to_decimal(denominator)
    if den == ZERO:
        return None
    with localcontext() as ctx:
        ctx.prec = 40
        return num / den


def percent(rate: Decimal | None, places: int = 2) -> Decimal | None:
    """A ratio shown as a percentage number: 0.731685 → 73.17."""
    if rate is None:
        return None
    return quantize(to_decimal(rate) * HUNDRED, places)


def total(values: Iterable) -> Decimal:
    """Exact sum of Decimals (no rounding)."""
    result = ZERO
    for v in values:
        result += to_decimal(v)
    return result
