"""Times on the pages: stored in UTC (storage.models.utcnow), shown in the bureau's time zone.

Clerks read 更新于 19:30 as Beijing time; a UTC time on the page would be eight hours off. The zone
is the JXDOC_TIMEZONE setting (default Asia/Shanghai). Without the system's zone database the
fixed offset of China Standard Time (UTC+8, no daylight saving) stands in for Asia/Shanghai.
"""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CHINA_STANDARD_TIME = _dt.timezone(_dt.timedelta(hours=8), "CST")


@lru_cache(maxsize=8)
def zone(name: str) -> _dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name == "Asia/Shanghai":
            return CHINA_STANDARD_TIME
        raise RuntimeError(f"环境变量 JXDOC_TIMEZONE 的时区“{name}”无效，例如应写成 Asia/Shanghai。") from None


def local_time(value: _dt.datetime | None, name: str = "Asia/Shanghai", seconds: bool = False) -> str:
    """A stored time (naive UTC, or aware) as the pages show it: 2024-07-01 09:30."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    return value.astimezone(zone(name)).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def local_today(name: str = "Asia/Shanghai", now: _dt.datetime | None = None) -> _dt.date:
    """Today in the bureau's zone: between 0:00 and 8:00 Beijing time the UTC date is yesterday."""
    return (now or _dt.datetime.now(_dt.UTC)).astimezone(zone(name)).date()


def init_app(app) -> None:
    name = app.config["TIMEZONE"] = app.config.get("TIMEZONE") or "Asia/Shanghai"
    zone(name)  # a bad name fails at start, with its message, not on the first page

    @app.template_filter("localtime")
    def _localtime(value, seconds: bool = False) -> str:
        return local_time(value, name, seconds)
