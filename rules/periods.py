"""The monitoring period (监控期间) as a parameter: "1-6月", "1-7月", "1-8月", "1-9月" …

Bureaus monitor over different spans (central: 1-7月; many counties: 1-6月 and 1-9月), so no
caption or due date may hard-code a month. Everything a form prints about the period comes from
`Period`, and the due dates come from the `[periods]` table of rules/defaults/monitoring.toml.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rules.settings_files import SettingsError

# After NFKC (full-width digits and "－" become ASCII) the separators people type are
# "-", "—", "–", "~", "～", "至", "到", with optional "月" after the first month.
_LABEL = re.compile(r"^(\d{1,2})\s*月?\s*(?:-|—|–|―|~|～|至|到)+\s*(\d{1,2})\s*月$")


class PeriodError(ValueError):
    """A period label that cannot be used; `message` is Chinese and ready for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, order=True)
class Period:
    """Months `start_month`..`end_month` of one budget year, both included."""

    start_month: int
    end_month: int

    def __post_init__(self):
        for month in (self.start_month, self.end_month):
            if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
                raise PeriodError(f"监控期间的月份应在1至12之间，收到“{month}”。")
        if self.start_month > self.end_month:
            raise PeriodError(
                f"监控期间的起始月份（{self.start_month}月）不能晚于截止月份（{self.end_month}月）。"
            )

    @property
    def label(self) -> str:
        return f"{self.start_month}-{self.end_month}月"

    def __str__(self) -> str:
        return self.label

    # Column captions of the 执行监控表 (official-forms C.2: "1-X月执行数" …).
    def caption(self, what: str) -> str:
        return f"{self.label}{what}"

    @property
    def executed_caption(self) -> str:
        return self.caption("执行数")

    @property
    def rate_caption(self) -> str:
        return self.caption("执行率")

    @property
    def progress_caption(self) -> str:
        return self.caption("执行情况")


def parse_period(value: Period | str) -> Period:
    """'1-6月', '1—6月', '1至6月', '1月-6月', '１－６月' → Period(1, 6).

    Anything else raises PeriodError with a Chinese message.
    """
    if isinstance(value, Period):
        return value
    if not isinstance(value, str):
        raise PeriodError("监控期间应为文字，如“1-6月”。")
    text = unicodedata.normalize("NFKC", value).strip()
    match = _LABEL.match(text)
    if not match:
        raise PeriodError(f"监控期间“{value}”格式不对，应写作“1-6月”这样的形式。")
    return Period(int(match.group(1)), int(match.group(2)))


def normalise_label(value: Period | str) -> str:
    """The canonical label: '1至6月' → '1-6月'."""
    return parse_period(value).label


def as_of_text(year: int, period: Period | str) -> str:
    """'截至2024年6月' — the opening of every monitoring sentence."""
    return f"截至{int(year)}年{parse_period(period).end_month}月"


def _settings_section(settings: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if settings is None:
        from rules.settings_files import defaults

        settings = defaults()
    return settings.get("monitoring", {}).get("periods", {})


def period_settings_problems(periods: Mapping[str, Any]) -> list[str]:
    """Chinese messages for a bad `[monitoring.periods]` table (used by the settings validator)."""
    problems: list[str] = []
    day = periods.get("default_due_day", 10)
    if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 28:
        # 28 keeps the default rule valid in every month, February included.
        problems.append("periods.default_due_day：应为1至28之间的整数。")
    due = periods.get("due", {})
    if not isinstance(due, Mapping):
        return problems + ["periods.due：应为“期间 = {month, day}”的表。"]
    for label, when in due.items():
        try:
            parse_period(label)
        except PeriodError as exc:
            problems.append(f"periods.due.{label}：{exc.message}")
            continue
        if not isinstance(when, Mapping):
            problems.append(f"periods.due.{label}：应写作 {{ month = 7, day = 10 }}。")
            continue
        month, mday = when.get("month"), when.get("day")
        if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
            problems.append(f"periods.due.{label}.month：应为1至12之间的整数。")
            continue
        # A leap year bounds the day, so 2月29日 is accepted and clamped in other years.
        if (
            isinstance(mday, bool)
            or not isinstance(mday, int)
            or not 1 <= mday <= calendar.monthrange(2024, month)[1]
        ):
            problems.append(f"periods.due.{label}.day：{month}月没有第{mday}日。")
    return problems


def due_date(
    year: int, period: Period | str, settings: Mapping[str, Any] | None = None
) -> _dt.date:
    """When the monitoring return for `period` of budget `year` is due.

    A date configured for the label wins (defaults: 1-6月 → 7月10日, 1-7月 → 8月31日,
    1-9月 → 10月20日); otherwise `default_due_day` of the month after the period ends. A due month
    not after the period's end month falls in the next year (1-12月 → 次年1月10日).
    """
    period = parse_period(period)
    section = _settings_section(settings)
    problems = period_settings_problems(section)
    if problems:
        raise SettingsError({"monitoring": problems})
    configured = {normalise_label(k): v for k, v in section.get("due", {}).items()}
    if period.label in configured:
        month, day = configured[period.label]["month"], configured[period.label]["day"]
    else:
        month, day = period.end_month % 12 + 1, section.get("default_due_day", 10)
    due_year = int(year) + (1 if month <= period.end_month else 0)
    day = min(day, calendar.monthrange(due_year, month)[1])
    return _dt.date(due_year, month, day)
