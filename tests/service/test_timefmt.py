"""Pages show times in the bureau's zone (Beijing time by default); the database keeps UTC."""

from __future__ import annotations

import datetime as dt

import pytest

from service.timefmt import CHINA_STANDARD_TIME, local_time, zone


@pytest.mark.parametrize(("stored", "name", "seconds", "shown"), [
    (dt.datetime(2024, 7, 1, 1, 30), "Asia/Shanghai", False, "2024-07-01 09:30"),
    (dt.datetime(2024, 6, 30, 20, 5, 9), "Asia/Shanghai", True, "2024-07-01 04:05:09"),  # the next day there
    (dt.datetime(2024, 7, 1, 1, 30, tzinfo=dt.UTC), "UTC", False, "2024-07-01 01:30"),
    (None, "Asia/Shanghai", False, "—"),
])
def test_local_time(stored, name, seconds, shown):
    assert local_time(stored, name, seconds) == shown


def test_unknown_zone_is_a_chinese_error_and_shanghai_never_fails(monkeypatch):
    with pytest.raises(RuntimeError, match="JXDOC_TIMEZONE"):
        zone("Mars/Olympus")
    from service import timefmt

    def missing(name):
        raise timefmt.ZoneInfoNotFoundError(name)

    timefmt.zone.cache_clear()
    monkeypatch.setattr(timefmt, "ZoneInfo", missing)
    try:
        assert zone("Asia/Shanghai") is CHINA_STANDARD_TIME  # no tzdata on the machine
    finally:
        timefmt.zone.cache_clear()


def test_submission_page_shows_beijing_time(app, world, client):
    from storage.models import Submission, public_id
    from tests.conftest import load_sample

    with app.extensions["jxdoc.db"].write() as session:
        sub = Submission(kind="request", public_id=public_id(), title="时间测试", unit_id=world.unit_a,
                         status="draft", created_by_id=world.users["clerk_a"])
        sub.data = load_sample("request")
        session.add(sub)
    with app.extensions["jxdoc.db"].write() as session:
        row = session.query(Submission).filter_by(public_id=sub.public_id).one()
        row.updated_at = dt.datetime(2024, 7, 9, 16, 45)  # UTC: 7月10日 00:45 in Beijing
    html = client.get(f"/submissions/{sub.public_id}").get_data(as_text=True)
    assert "更新于 2024-07-10 00:45" in html


def test_today_is_the_bureau_date():
    """At 01:00 on 7月10日 in Beijing (17:00 UTC on 7月9日) the 1-6月 return is due today, not tomorrow."""
    from service.timefmt import local_today

    now = dt.datetime(2024, 7, 9, 17, 0, tzinfo=dt.UTC)
    assert local_today("Asia/Shanghai", now) == dt.date(2024, 7, 10)
    assert local_today("UTC", now) == dt.date(2024, 7, 9)
