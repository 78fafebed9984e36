import datetime as dt

import pytest

from rules.periods import Period, PeriodError, as_of_text, due_date, normalise_label, parse_period
from rules.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("1-6月", 1, 6),
        ("1-7月", 1, 7),
        ("1-8月", 1, 8),
        ("1-9月", 1, 9),
        ("1—6月", 1, 6),
        ("1–6月", 1, 6),
        ("1至6月", 1, 6),
        ("1月-6月", 1, 6),
        ("1月至9月", 1, 9),
        ("１－６月", 1, 6),
        (" 1 - 9 月 ", 1, 9),
        ("1-12月", 1, 12),
        ("3-3月", 3, 3),
    ],
)
def test_parse_period(text, start, end):
    period = parse_period(text)
    assert (period.start_month, period.end_month) == (start, end)
    assert period.label == f"{start}-{end}月"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("6-1月", "监控期间的起始月份（6月）不能晚于截止月份（1月）。"),
        ("0-6月", "监控期间的月份应在1至12之间，收到“0”。"),
        ("1-13月", "监控期间的月份应在1至12之间，收到“13”。"),
        ("1-6", "监控期间“1-6”格式不对，应写作“1-6月”这样的形式。"),
        ("上半年", "监控期间“上半年”格式不对，应写作“1-6月”这样的形式。"),
        (6, "监控期间应为文字，如“1-6月”。"),
    ],
)
def test_parse_period_refuses(text, message):
    with pytest.raises(PeriodError) as info:
        parse_period(text)
    assert info.value.message == message


def test_captions_and_normalisation():
    period = parse_period("1至6月")
    assert normalise_label("1—6月") == "1-6月"
    assert period.executed_caption == "1-6月执行数"
    assert period.rate_caption == "1-6月执行率"
    assert period.progress_caption == "1-6月执行情况"
    assert str(period) == "1-6月"
    assert parse_period(period) is period
    assert as_of_text(2024, "1-6月") == "截至2024年6月"
    assert as_of_text(2020, Period(1, 9)) == "截至2020年9月"


@pytest.mark.parametrize(
    ("label", "due"),
    [
        ("1-6月", dt.date(2024, 7, 10)),
        ("1至6月", dt.date(2024, 7, 10)),
        ("1-7月", dt.date(2024, 8, 31)),
        ("1-9月", dt.date(2024, 10, 20)),
        ("1-8月", dt.date(2024, 9, 10)),  # default rule: 10th of the next month
        ("1-3月", dt.date(2024, 4, 10)),
        ("1-12月", dt.date(2025, 1, 10)),  # rolls into the next year
    ],
)
def test_due_dates_default(label, due):
    assert due_date(2024, label) == due


def test_due_dates_from_settings():
    settings = load_settings(
        {
            "monitoring": {
                "periods": {
                    "default_due_day": 15,
                    "due": {"1-8月": {"month": 9, "day": 5}, "1-11月": {"month": 2, "day": 29}},
                }
            }
        }
    )
    assert due_date(2024, "1-8月", settings) == dt.date(2024, 9, 5)
    assert due_date(2024, "1-10月", settings) == dt.date(2024, 11, 15)
    assert due_date(2024, "1-6月", settings) == dt.date(2024, 7, 10)  # defaults still merged in
    # A due month before the period end is next year; 2月29日 is clamped in a common year.
    assert due_date(2024, "1-11月", settings) == dt.date(2025, 2, 28)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"default_due_day": 31}, "periods.default_due_day：应为1至28之间的整数。"),
        (
            {"due": {"上半年": {"month": 7, "day": 10}}},
            "periods.due.上半年：监控期间“上半年”格式不对，应写作“1-6月”这样的形式。",
        ),
        (
            {"due": {"1-6月": {"month": 13, "day": 10}}},
            "periods.due.1-6月.month：应为1至12之间的整数。",
        ),
        ({"due": {"1-6月": {"month": 6, "day": 31}}}, "periods.due.1-6月.day：6月没有第31日。"),
    ],
)
def test_period_settings_refused(override, message):
    import rules.monitoring  # noqa: F401  registers the "monitoring" validator

    with pytest.raises(SettingsError) as info:
        load_settings({"monitoring": {"periods": override}})
    assert message in info.value.messages["monitoring"]
