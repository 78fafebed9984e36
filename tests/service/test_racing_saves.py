"""Two saves of one draft racing on a real PostgreSQL server: both read version 1 and pass the
version check before either writes. The database's version guard (version_id_col) lets exactly
one UPDATE through; the other gets the 409 naming the versions, and nothing of it is stored.

The interleaving is forced, not hoped for: both requests meet at a barrier placed after the
version check and before the write (service.workflow._check_size runs there)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from service import workflow
from storage.models import AuditEvent
from tests.conftest import World, login
from tests.servers import postgres_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def pg_app(tmp_path):
    from service import create_app
    from storage.migrate import upgrade

    with postgres_server() as url:
        upgrade(url)
        app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "DATABASE_URL": url, "SECRET_KEY": "test",
                          "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_FAST": True})
        yield app
        app.extensions["jxdoc.db"].dispose()


def test_two_simultaneous_saves_one_wins_the_other_gets_409(pg_app, monkeypatch):
    world = World(pg_app)
    first, second = login(pg_app, world, "clerk_a"), login(pg_app, world, "clerk_a")
    created = first.post("/api/v1/submissions", json={"kind": "notice", "data": {"title": "原稿"}, "action": "save"})
    assert created.status_code == 201, created.get_json()
    pid = created.get_json()["id"]

    barrier = threading.Barrier(2, timeout=30)
    passed_check = []
    real_check = workflow._check_size

    def meet_after_the_version_check(session, user, sub, size, status):
        if sub is not None:
            passed_check.append(sub.version)
            barrier.wait()  # both requests have read version 1 and passed the check
        return real_check(session, user, sub, size, status)

    monkeypatch.setattr(workflow, "_check_size", meet_after_the_version_check)
    responses: dict[str, object] = {}

    def save(title: str, client) -> None:
        responses[title] = client.put(f"/api/v1/submissions/{pid}", json={"data": {"title": title}, "version": 1})

    threads = [threading.Thread(target=save, args=(title, client)) for title, client in (("甲改", first), ("乙改", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert passed_check == [1, 1]  # the race really happened: neither was stopped by the read check

    codes = {title: r.status_code for title, r in responses.items()}
    assert sorted(codes.values()) == [200, 409], codes
    winner = next(t for t, c in codes.items() if c == 200)
    loser = next(t for t, c in codes.items() if c == 409)
    body = responses[loser].get_json()
    assert body["errors"]["version"] == [body["message"]] and "您打开的是第1版，现在已是第2版" in body["message"]
    assert responses[winner].get_json()["version"] == 2

    monkeypatch.setattr(workflow, "_check_size", real_check)
    stored = first.get(f"/api/v1/submissions/{pid}").get_json()
    assert stored["version"] == 2 and stored["data"]["title"] == winner  # the loser's text was not written
    with pg_app.extensions["jxdoc.db"].read() as session:  # the creation and the winner's save, not the loser's
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "save")) == 2
