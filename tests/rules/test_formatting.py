import datetime as dt
from decimal import Decimal

import pytest

from rules.formatting import chinese_date, money_text, percent_text, rmb_uppercase
from rules.rounding import money, percent, quantize, ratio, to_decimal


@pytest.mark.parametrize("amount, expected", [
    ("0", "零元整"),
    ("0.05", "伍分"),
    ("0.5", "伍角"),
    ("1", "壹元整"),
    ("10", "壹拾元整"),
    ("101", "壹佰零壹元整"),
    ("1001.01", "壹仟零壹元零壹分"),
    ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
    ("10000", "壹万元整"),
    ("100010", "壹拾万零壹拾元整"),
    ("1000000", "壹佰万元整"),
    ("7835793", "柒佰捌拾叁万伍仟柒佰玖拾叁元整"),
    ("100000000", "壹亿元整"),
    ("100000001", "壹亿零壹元整"),
    ("429483200", "肆亿贰仟玖佰肆拾捌万叁仟贰佰元整"),
    ("-3.2", "负叁元贰角"),
])
def test_rmb_uppercase(amount, expected):
    assert rmb_uppercase(Decimal(amount)) == expected


def test_chinese_date_has_no_padding():
    assert chinese_date(dt.date(2024, 7, 1)) == "2024年7月1日"


@pytest.mark.parametrize("value, expected", [("42948.32", "42,948.32"), ("0.005", "0.01"), ("1234567.891", "1,234,567.89")])
def test_money_text(value, expected):
    assert money_text(Decimal(value)) == expected


def test_rates_round_once_half_up():
    rate = ratio(Decimal("31423.98"), Decimal("42948.32"))
    assert percent(rate) == Decimal("73.17")
    assert percent_text(percent(rate)) == "73.17%"
    assert percent_text(None) == "—"
    assert ratio(1, 0) is None
    assert quantize(Decimal("2.675")) == Decimal("2.68")
    assert money("0.125") == Decimal("0.13")


@pytest.mark.parametrize("bad", [1.5, float("nan"), "NaN", "inf", None])
def test_to_decimal_refuses_floats_and_non_numbers(bad):
    with pytest.raises((TypeError, ValueError)):
        to_decimal(bad)
