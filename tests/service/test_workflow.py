"""The review workflow 草稿 → 已提交 → 退回修改 / 已审核 with comments, history and the audit log;
the dashboard; previews."""

from __future__ import annotations

import datetime as _dt

import pytest

from tests.conftest import load_sample, login


def _events(app, public_id):
    from storage.models import AuditEvent, Submission

    with app.extensions["jxdoc.db"].read() as session:
        sub = session.query(Submission).filter_by(public_id=public_id).one()
        return [(e.username, e.action, e.from_status, e.to_status, e.comment)
                for e in session.query(AuditEvent).filter_by(submission_id=sub.id).order_by(AuditEvent.id)]


def test_full_cycle_through_the_api(app, world):
    clerk, bureau = login(app, world, "clerk_a"), login(app, world, "bureau")
    sub = clerk.post("/api/v1/submissions", json={"kind": "request", "data": {"title": "关于经费的请示"}}).get_json()
    pid = sub["id"]
    assert sub["status"] == "draft"
    # a draft is not in the reviewer's hands yet: not even visible to them
    resp = bureau.post(f"/api/v1/submissions/{pid}/review", json={"action": "approve"})
    assert resp.status_code == 404
    assert clerk.put(f"/api/v1/submissions/{pid}", json={"data": load_sample("request"), "action": "submit",
                                                          "version": 1}).status_code == 200
    # submitted: the clerk can no longer change it
    resp = clerk.put(f"/api/v1/submissions/{pid}", json={"data": {"title": "改"}})
    assert resp.status_code == 409 and "不能修改" in resp.get_json()["message"]
    # returning needs a comment
    resp = bureau.post(f"/api/v1/submissions/{pid}/review", json={"action": "return"})
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == {"comment": ["退回修改时请填写意见，告诉填报单位要改什么。"]}
    resp = bureau.post(f"/api/v1/submissions/{pid}/review", json={"action": "return", "comment": "请补充联系人电话。"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "returned"
    # the clerk saves (still 退回修改), then resubmits
    fixed = load_sample("request")
    # (versions: 1 created, 2 submitted, 3 returned by the reviewer)
    assert clerk.put(f"/api/v1/submissions/{pid}", json={"data": fixed, "version": 3}).get_json()["status"] == "returned"
    assert clerk.put(f"/api/v1/submissions/{pid}", json={"data": fixed, "action": "submit",
                                                          "version": 4}).get_json()["status"] == "submitted"
    assert bureau.post(f"/api/v1/submissions/{pid}/review", json={"action": "approve", "comment": "同意。"}).get_json()["status"] == "approved"
    resp = bureau.post(f"/api/v1/submissions/{pid}/review", json={"action": "return", "comment": "再改"})
    assert resp.status_code == 409
    assert bureau.get(f"/api/v1/submissions/{pid}/document?format=docx").data[:2] == b"PK"
    assert _events(app, pid) == [
        ("clerk_a", "save", "", "draft", ""),
        ("clerk_a", "submit", "draft", "submitted", ""),
        ("bureau", "return", "submitted", "returned", "请补充联系人电话。"),
        ("clerk_a", "save", "returned", "returned", ""),
        ("clerk_a", "submit", "returned", "submitted", ""),
        ("bureau", "approve", "submitted", "approved", "同意。"),
        ("bureau", "download", "approved", "approved", ""),
    ]
    history = clerk.get(f"/api/v1/submissions/{pid}/history").get_json()
    assert [e["action_label"] for e in history["events"]][:3] == ["保存草稿", "提交", "退回修改"]


def test_department_reviewer_reviews_only_its_units(app, world):
    from tests.service.test_authz_matrix import Ctx

    ctx = Ctx(app, world)
    reviewer = login(app, world, "reviewer")
    mine, other = ctx.submission(unit="a"), ctx.submission(unit="b")
    assert reviewer.post(f"/api/v1/submissions/{mine}/review", json={"action": "approve"}).status_code == 200
    assert reviewer.post(f"/api/v1/submissions/{other}/review", json={"action": "approve"}).status_code == 404


def test_pages_of_the_cycle(app, world):
    clerk, bureau = login(app, world, "clerk_a"), login(app, world, "bureau")
    from tests.service.test_authz_matrix import Ctx

    pid = Ctx(app, world).submission("submitted")
    queue = bureau.get("/submissions").get_data(as_text=True)
    assert "待审核" in queue and pid in queue
    page = bureau.get(f"/submissions/{pid}").get_data(as_text=True)
    assert "审核通过" in page and "退回修改" in page and "办理记录" in page
    assert f'<iframe class="pdf" src="/submissions/{pid}/preview.pdf"' in page
    resp = bureau.post(f"/submissions/{pid}/review", data={"action": "return", "comment": ""})
    assert resp.status_code == 422
    assert "退回修改时请填写意见，告诉填报单位要改什么。" in resp.get_data(as_text=True)
    resp = bureau.post(f"/submissions/{pid}/review", data={"action": "return", "comment": "标题少了“关于”。"})
    assert resp.status_code == 302
    page = clerk.get(f"/submissions/{pid}").get_data(as_text=True)
    assert "退回修改" in page and "审核意见：标题少了“关于”。" in page and ">修改</a>" in page
    # the reviewer's page has no review buttons once it is returned
    assert 'value="approve"' not in bureau.get(f"/submissions/{pid}").get_data(as_text=True)
    # the form of a submitted document opens its page instead (read-only)
    Ctx(app, world)
    resp = clerk.get(f"/forms/request?draft={pid}")
    assert resp.status_code == 200  # returned: editable again
    dashboard = clerk.get("/").get_data(as_text=True)
    assert "有 1 份文档被退回修改" in dashboard


def test_preview_is_inline_pdf_and_download_is_attachment(app, world):
    from tests.service.test_authz_matrix import Ctx

    pid = Ctx(app, world).submission("submitted")
    clerk = login(app, world, "clerk_a")
    resp = clerk.get(f"/submissions/{pid}/preview.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf" and resp.data[:5] == b"%PDF-"
    assert resp.headers["Content-Disposition"].startswith("inline;")
    resp = clerk.get(f"/submissions/{pid}/download.docx")
    assert resp.headers["Content-Disposition"].startswith("attachment;") and "filename*=UTF-8''" in resp.headers["Content-Disposition"]


def test_incomplete_draft_preview_says_what_is_missing(app, world):
    from tests.service.test_authz_matrix import Ctx

    ctx = Ctx(app, world)
    pid = ctx.submission("draft")
    from storage.models import Submission

    with app.extensions["jxdoc.db"].write() as session:
        session.query(Submission).filter_by(public_id=pid).one().data = {"title": "半成品"}
    resp = login(app, world, "clerk_a").get(f"/submissions/{pid}/preview.pdf")
    assert resp.status_code == 422 and "文档尚未填写完整" in resp.get_data(as_text=True)


def test_dashboard_shows_monitoring_due_dates(app, world):
    from service.web import due_items

    with app.app_context():
        from service.settings_store import current_settings

        items = due_items(current_settings(), today=_dt.date(2025, 7, 1))
    first = items[0]
    assert first["period"] == "1-6月" and first["due"] == _dt.date(2025, 7, 10) and first["days"] == 9
    html = login(app, world, "clerk_a").get("/").get_data(as_text=True)
    assert "待办期限" in html and "1-6月绩效运行监控表" in html and "7月10日" in html


@pytest.mark.parametrize("who", ["reviewer", "bureau"])
def test_reviewers_cannot_review_their_own_documents(app, world, who):
    client = login(app, world, who)
    pid = client.post("/api/v1/submissions", json={"kind": "request", "data": load_sample("request"),
                                                   "action": "submit"}).get_json()["id"]
    assert client.post(f"/api/v1/submissions/{pid}/review", json={"action": "approve"}).status_code == 403


def test_comments_by_anyone_in_scope(app, world):
    from tests.service.test_authz_matrix import Ctx

    pid = Ctx(app, world).submission("submitted")
    clerk = login(app, world, "clerk_a")
    assert clerk.post(f"/submissions/{pid}/review", data={"action": "comment", "comment": "联系人已更换。"}).status_code == 302
    assert "联系人已更换。" in clerk.get(f"/submissions/{pid}").get_data(as_text=True)
    assert login(app, world, "clerk_b").post(f"/submissions/{pid}/review",
                                             data={"action": "comment", "comment": "x"}).status_code == 404


def test_reviewer_sees_what_changed_since_the_return(app, world):
    """A return keeps the data as returned; the resubmitted document's page lists exactly the
    fields the clerk changed, by their Chinese labels (a nested row as 第N行), old → new."""
    import re
    from html import unescape

    clerk, bureau = login(app, world, "clerk_a"), login(app, world, "bureau")
    data = load_sample("target_declaration")
    sub = clerk.post("/api/v1/submissions", json={"kind": "target_declaration", "data": data,
                                                  "action": "submit"}).get_json()
    pid, version = sub["id"], sub["version"]
    assert "退回后修改的内容" not in bureau.get(f"/submissions/{pid}").get_data(as_text=True)
    resp = bureau.post(f"/api/v1/submissions/{pid}/review", json={"action": "return", "comment": "请核对。"})
    assert resp.status_code == 200
    version = resp.get_json()["version"]
    old_lead, old_name = data["project_lead"], data["indicators"]["midterm"][1]["name"]
    data["project_lead"] = "王晓红"
    data["indicators"]["midterm"][1]["name"] = "新建波形护栏长度"
    resp = clerk.put(f"/api/v1/submissions/{pid}", json={"data": data, "action": "submit", "version": version})
    assert resp.status_code == 200, resp.get_json()
    page = bureau.get(f"/submissions/{pid}").get_data(as_text=True)
    section = page.split('id="changes-title"', 1)[1].split("</section>", 1)[0]
    rows = [tuple(unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r))
            for r in re.findall(r"<tr><td.*?</tr>", section)]
    assert rows == [("项目负责人", old_lead, "王晓红"),
                    ("绩效指标 · 中期绩效指标 · 第2行 · 三级指标", old_name, "新建波形护栏长度")], rows
