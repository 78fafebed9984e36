"""rules.amounts: an accepted amount string denotes exactly the number a person reads in it."""

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from marshmallow import ValidationError

from forms.base import BaseSchema, flatten_errors
from forms.fields import Money
from rules.amounts import AmountError, parse_amount
from rules.rounding import to_decimal

LABEL = "全年执行数（万元）"


class S(BaseSchema):
    amount = Money(metadata={"label": LABEL})


def human_reading(text: str) -> Decimal | None:
    """How a person reads an amount, written without regular expressions: digits, at most one
    point, commas only between groups of exactly three digits left of the point; else None."""
    text = text.strip()
    negative = text.startswith("-")
    body = text[1:] if negative else text
    whole, point, fraction = body.partition(".")
    if point and (not fraction or not fraction.isdigit() or not fraction.isascii()):
        return None
    groups = whole.split(",")
    if not all(g.isascii() and g.isdigit() for g in groups):
        return None
    if len(groups) > 1 and (not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:])):
        return None
    value = Decimal("".join(groups) + ("." + fraction if point else ""))
    return -value if negative else value


AMOUNT_CHARS = st.text(alphabet="0123456789,.-万元 ", max_size=14)


@given(AMOUNT_CHARS)
@example("1280,50")
@example("12,80.50")
@example("888523,34")
@example("1,280.50")
@example("1,,280")
@example(",280")
@example("280,")
def test_accepted_means_what_a_person_reads(text):
    expected = human_reading(text)
    try:
        value = parse_amount(text)
    except AmountError:
        assert expected is None or not text.strip(), text
    else:
        assert value == expected, text


@given(st.decimals(min_value=0, max_value=Decimal("9999999999999.99"), places=2, allow_nan=False))
def test_grouped_and_plain_forms_read_the_same(value):
    assert parse_amount(f"{value:,}") == value == parse_amount(f"{value}")
    assert to_decimal(f"{value:,}") == value
    assert S().load({"amount": f"{value:,}"})["amount"] == value


@given(st.integers(min_value=1, max_value=99_999_999), st.integers(min_value=0, max_value=99))
def test_every_decimal_comma_refused_with_the_field_named(whole, cents):
    text = f"{whole},{cents:02d}" if cents >= 10 or whole % 2 else f"{whole},{cents}"
    with pytest.raises(ValidationError) as exc:
        S().load({"amount": text})
    (message,) = flatten_errors(exc.value.messages)["amount"]
    assert message.startswith(f"“{LABEL}”读到“{text}”") and "不能用逗号" in message


@given(st.integers(min_value=1, max_value=999_999_999), st.integers(min_value=1, max_value=8))
def test_every_misplaced_comma_refused_with_the_field_named(number, at):
    digits = str(number)
    at = at % len(digits) or 1
    if (len(digits) - at) % 3 == 0 and len(digits[:at]) <= 3:
        return  # a correct thousands separator
    text = f"{digits[:at]},{digits[at:]}"
    if len(digits) - at <= 2:
        return  # reads as a decimal comma, covered above
    with pytest.raises(ValidationError) as exc:
        S().load({"amount": text})
    (message,) = flatten_errors(exc.value.messages)["amount"]
    assert message.startswith(f"“{LABEL}”读到“{text}”") and "每三位数字一组" in message


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
       st.sampled_from(["万元", "元", "万", "亿元", " 元", "RMB"]))
def test_every_unit_suffix_refused_with_the_field_named(value, unit):
    text = f"{value}{unit}"
    with pytest.raises(ValidationError) as exc:
        S().load({"amount": text})
    (message,) = flatten_errors(exc.value.messages)["amount"]
    assert message.startswith(f"“{LABEL}”读到“") and "不要带单位" in message


def test_to_decimal_refuses_a_misplaced_comma():
    with pytest.raises(ValueError):
        to_decimal("1280,50")
    assert to_decimal("12,805,000") == Decimal(12805000)
