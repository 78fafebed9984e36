"""Chinese formatting of dates, money and numbers — the one place for each display rule."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal

from rules.rounding import quantize, to_decimal

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ["", "拾", "佰", "仟"]
_BIG_UNITS = ["", "万", "亿", "万亿"]


def chinese_date(value: _dt.date) -> str:
    """成文日期 per GB/T 9704-2012 7.3.5.4: Arabic numerals, full year, no zero padding."""
    return chinese_ymd(value.year, value.month, value.day)


def chinese_ymd(year: int, month: int, day: int) -> str:
    """The same format for a date given by its parts, which may not be a real day (a clerk's
    typing echoed back)."""
    return f"{year}年{month}月{day}日"


def money_text(value, places: int = 2) -> str:
    """Money with thousands separators: Decimal('42948.3') → '42,948.30'."""
    return f"{quantize(value, places):,.{places}f}"


def percent_text(value: Decimal | None, places: int = 2) -> str:
    """A percentage number (already ×100) → '73.17%'; None → '—'."""
    if value is None:
        return "—"
    return f"{quantize(value, places):.{places}f}%"


def _four_digits(n: int) -> str:
    out, zero = "", False
    for i, d in enumerate(f"{n:04d}"):
        d = int(d)
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + _SMALL_UNITS[3 - i]
    return out


def rmb_uppercase(value) -> str:
    """大写金额 of an amount in 元: Decimal('1234.56') → '壹仟贰佰叁拾肆元伍角陆分'."""
    amount = quantize(to_decimal(value), 2)
    if amount < 0:
        return "负" + rmb_uppercase(-amount)
    fen_total = int(amount * 100)
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    if yuan == 0:
        integer = ""
    else:
        groups = []
        n = yuan
        while n:
            n, g = divmod(n, 10000)
            groups.append(g)
        integer, pending_zero = "", False
        for idx in range(len(groups) - 1, -1, -1):
            g = groups[idx]
            if g == 0:
                pending_zero = bool(integer)
                continue
            if integer and (pending_zero or g < 1000):
                integer += "零"
            integer += _four_digits(g) + _BIG_UNITS[idx]
            pending_zero = False
        integer += "元"
    if jiao == 0 and fen == 0:
        return (integer or "零元") + "整"
    tail = ""
    if jiao:
        tail += _DIGITS[jiao] + "角"
    elif integer:
        tail += "零"
    if fen:
        tail += _DIGITS[fen] + "分"
    return integer + tail
