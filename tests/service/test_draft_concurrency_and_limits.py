"""Issue 16, findings 11 and 12: drafts.

11. two sessions saving the same draft lost one's changes silently: a save now names the version
    it started from, and a stale one is refused with 409 naming both versions (nothing is lost:
    the page keeps what was typed);
12. drafts were unbounded (seven 5 MB drafts filled the data directory) and list responses carried
    every document's full data: a size cap per document, a quota per user, lists without `data`.
"""

from __future__ import annotations

import re

from tests.conftest import load_sample, login


def _create(client, data=None, kind="notice"):
    resp = client.post("/api/v1/submissions", json={"kind": kind, "action": "save", "data": data or {"title": "初稿"}})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _stored(app, public_id):
    from storage.models import Submission

    with app.extensions["jxdoc.db"].read() as session:
        sub = session.query(Submission).filter_by(public_id=public_id).one()
        return sub.data, sub.version


# ----------------------------------------------------------------------------- 11: concurrency


def test_a_stale_save_is_refused_naming_both_versions(app, world):
    first, second = login(app, world, "clerk_a"), login(app, world, "clerk_a")
    sub = _create(first)
    assert sub["version"] == 1
    seen_by_second = second.get(f"/api/v1/submissions/{sub['id']}").get_json()["version"]
    resp = first.put(f"/api/v1/submissions/{sub['id']}", json={"data": {"title": "甲改"}, "version": 1})
    assert resp.status_code == 200 and resp.get_json()["version"] == 2
    resp = second.put(f"/api/v1/submissions/{sub['id']}", json={"data": {"title": "乙改"}, "version": seen_by_second})
    assert resp.status_code == 409
    body = resp.get_json()
    assert "第1版" in body["message"] and "第2版" in body["message"]
    assert body["errors"]["version"] == [body["message"]]
    assert _stored(app, sub["id"]) == ({"title": "甲改"}, 2)
    # with the current version the second editor saves
    resp = second.put(f"/api/v1/submissions/{sub['id']}", json={"data": {"title": "乙改"}, "version": 2})
    assert resp.status_code == 200 and _stored(app, sub["id"]) == ({"title": "乙改"}, 3)


def test_a_save_without_a_version_is_refused(client, app):
    sub = _create(client)
    resp = client.put(f"/api/v1/submissions/{sub['id']}", json={"data": {"title": "改"}})
    assert resp.status_code == 422 and "version" in resp.get_json()["errors"]
    assert _stored(app, sub["id"]) == ({"title": "初稿"}, 1)


def test_the_form_page_keeps_what_was_typed_on_a_conflict(app, world):
    first, second = login(app, world, "clerk_a"), login(app, world, "clerk_a")
    sub = _create(first, load_sample("notice"))
    page = second.get(f"/forms/notice?draft={sub['id']}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert version == "1"
    assert first.put(f"/api/v1/submissions/{sub['id']}", json={"data": load_sample("notice"),
                                                               "version": 1}).status_code == 200
    form = {"draft": sub["id"], "version": version, "action": "save", "title": "关于第二人修改的通知"}
    resp = second.post("/forms/notice", data=form)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "第1版" in html and "第2版" in html and "关于第二人修改的通知" in html
    assert _stored(app, sub["id"])[1] == 2


def test_a_returned_document_saved_by_two_sessions(app, world):
    # the reviewer's return is a change too: a save from before it is stale
    clerk, reviewer = login(app, world, "clerk_a"), login(app, world, "reviewer")
    sub = _create(clerk, load_sample("request"), kind="request")
    resp = clerk.put(f"/api/v1/submissions/{sub['id']}", json={"data": load_sample("request"), "action": "submit",
                                                               "version": 1})
    assert resp.status_code == 200
    reviewed = reviewer.post(f"/api/v1/submissions/{sub['id']}/review", json={"action": "return", "comment": "改"})
    assert reviewed.status_code == 200
    current = clerk.get(f"/api/v1/submissions/{sub['id']}").get_json()["version"]
    assert current == 3
    resp = clerk.put(f"/api/v1/submissions/{sub['id']}", json={"data": load_sample("request"), "version": 2})
    assert resp.status_code == 409


# ----------------------------------------------------------------------------- 12: caps and lists


def test_a_document_over_the_size_cap_is_refused(app, world):
    app.config["SUBMISSION_MAX_KB"] = 64
    client = login(app, world, "clerk_a")
    resp = client.post("/api/v1/submissions", json={"kind": "notice", "action": "save",
                                                    "data": {"title": "大", "body": "字" * 40_000}})
    assert resp.status_code == 413
    assert "64KB" in resp.get_json()["message"]
    from storage.models import Submission

    with app.extensions["jxdoc.db"].read() as session:
        assert session.query(Submission).count() == 0


def test_a_users_drafts_have_a_quota(app, world):
    app.config["SUBMISSION_MAX_KB"] = 100
    app.config["DRAFT_QUOTA_KB"] = 150
    client = login(app, world, "clerk_a")
    body = {"title": "稿", "body": "字" * 15_000}  # about 45 KB as stored
    ids = [_create(client, body)["id"] for _ in range(3)]
    resp = client.post("/api/v1/submissions", json={"kind": "notice", "action": "save", "data": body})
    assert resp.status_code == 413
    message = resp.get_json()["message"]
    assert "150KB" in message and "草稿" in message
    # growing one of them past the quota is refused too; shrinking is always allowed
    resp = client.put(f"/api/v1/submissions/{ids[0]}", json={"data": {**body, "body": "字" * 30_000}, "version": 1})
    assert resp.status_code == 413
    resp = client.put(f"/api/v1/submissions/{ids[0]}", json={"data": {"title": "短"}, "version": 1})
    assert resp.status_code == 200
    assert client.post("/api/v1/submissions", json={"kind": "notice", "action": "save", "data": body}).status_code == 201
    # another user's quota is her own
    assert _create(login(app, world, "clerk_b"), body)


def test_lists_carry_no_data(client):
    _create(client, {"title": "列表", "body": "正文" * 1000})
    rows = client.get("/api/v1/submissions").get_json()
    assert len(rows) == 1 and "data" not in rows[0]
    assert {"id", "kind", "title", "status", "version", "size", "updated_at"} <= set(rows[0])
    one = client.get(f"/api/v1/submissions/{rows[0]['id']}").get_json()
    assert one["data"]["title"] == "列表"
