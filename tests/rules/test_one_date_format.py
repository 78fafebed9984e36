"""One Chinese date formatter: rules/formatting.py writes 2024年7月1日 (chinese_date, chinese_ymd);
no other module of the packages formats a date by hand, with an f-string, str.format or
strftime."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("rules", "forms", "generators", "kinds", "storage", "jobs", "service")
FORMATTER = Path("rules/formatting.py")
# {x.year}年{x.month}月{x.day}日 and the like, "{}年{}月{}日".format(...), strftime("%Y年%m月%d日")
HAND_WRITTEN = re.compile(r"\}年\{[^}]*\}月\{[^}]*\}日|%Y年|%-?m月|%-?d日")


def hand_written_dates(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), 1) if HAND_WRITTEN.search(line)]


def test_no_module_but_rules_formatting_writes_a_chinese_date():
    found = [f"{path.relative_to(ROOT)}:{n}"
             for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
             if path.relative_to(ROOT) != FORMATTER
             for n in hand_written_dates(path.read_text("utf-8"))]
    assert found == []


def test_the_check_sees_the_ways_of_writing_one():
    lines = ['f"{d.year}年{d.month}月{d.day}日"', 'f"填报日期：{date.year}年{date.month}月{date.day}日"',
             '"{}年{}月{}日".format(y, m, d)', 'd.strftime("%Y年%m月%d日")', 'f"{year}年度"', 'f"{y}年{period}"']
    assert hand_written_dates("\n".join(lines)) == [1, 2, 3, 4]


def test_the_formatter_writes_no_zero_padding():
    import datetime as dt

    from rules.formatting import chinese_date, chinese_ymd

    assert chinese_date(dt.date(2024, 7, 1)) == "2024年7月1日" == chinese_ymd(2024, 7, 1)
