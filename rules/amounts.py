"""Reading an amount a person typed: the one rule for what an amount string may look like.

A comma is read only as a thousands separator in groups of three (“1,280.50”, “12,805,000”).
Anything else a comma might mean is refused, never guessed: “1280,50” (a decimal comma, as in
European notation), “12,80.50” (a misplaced group) or “888523,34”. A unit written after the number
(“1280.5万元”, “300元”) is refused too, because the field's unit is fixed by the form and a 元 amount
typed into a 万元 field is the error this module exists to catch. Full-width digits and
punctuation (“１，２８０．５０”) are read as their ASCII forms.

Every refusal says what was read, so the clerk sees the exact text the check looked at.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

# The whole of what an amount string may be: an optional minus, digits with or without
# thousands separators in groups of three, an optional decimal point followed by digits.
AMOUNT_TEXT = re.compile(r"^-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d{1,2}$")
_UNIT_SUFFIX = re.compile(r"(?:亿元|万元|千元|元|亿|万|千|RMB|CNY|¥)$", re.IGNORECASE)
_UNIT_PREFIX = re.compile(r"^(?:¥|￥|RMB|CNY)", re.IGNORECASE)


class AmountError(ValueError):
    """An amount string refused; `code` names the reason (a key of MESSAGES), `text` what was read."""

    def __init__(self, code: str, text: str):
        super().__init__(f"{code}: {text!r}")
        self.code, self.text = code, text


# {read} is the text as read (after full-width forms became ASCII); {label} the field's name.
MESSAGES = {
    "invalid": "“{label}”应填金额数字，例如1234.56；读到的是“{read}”。",
    "decimal_comma": "“{label}”读到“{read}”：小数点请用“.”，不能用逗号（例如写成“{suggest}”）。",
    "grouping": "“{label}”读到“{read}”：千分位逗号只能每三位数字一组（例如“1,280.50”），请核对金额。",
    "unit": "“{label}”读到“{read}”：只填数字，不要带单位，本栏的单位已是{unit}。",
}


def normalise_text(text: str) -> str:
    """Full-width forms as ASCII (NFKC: “１，２８０．５” → “1,280.5”), spaces around removed."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_amount(text: str) -> Decimal:
    """The number a person reads in `text`, or AmountError saying why it is not one."""
    read = normalise_text(text)
    if not read:
        raise AmountError("invalid", read)
    if _UNIT_SUFFIX.search(read) or _UNIT_PREFIX.search(read):
        raise AmountError("unit", read)
    if AMOUNT_TEXT.match(read):
        return Decimal(read.replace(",", ""))
    if _DECIMAL_COMMA.match(read):
        raise AmountError("decimal_comma", read)
    if "," in read and re.fullmatch(r"-?[\d,]+(?:\.\d+)?", read):
        raise AmountError("grouping", read)
    raise AmountError("invalid", read)


def message(error: AmountError, label: str, unit: str = "万元") -> str:
    """The Chinese message for a refused amount, naming the field."""
    suggest = error.text.replace(",", ".") if error.code == "decimal_comma" else ""
    return MESSAGES[error.code].format(label=label, read=error.text, unit=unit, suggest=suggest)
