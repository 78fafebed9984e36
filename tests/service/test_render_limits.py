"""Issue #16, finding 9: one valid `notice` could make a request worker lay out thousands of PDF
pages, and nothing limited a user. Renders inside a request stop at the page limit (413, pointing
to the background route), long documents are rendered by the batch runner, and each user has a
number of concurrent renders and of PDF pages an hour."""

from __future__ import annotations

import datetime as _dt
import io
import json
import time

import pytest
from pypdf import PdfReader

from storage.models import RenderQuota, utcnow
from tests.conftest import ROOT, login

NOTICE = json.loads((ROOT / "samples" / "notice" / "monitoring_january_june.json").read_text(encoding="utf-8"))


def _long_notice(paragraphs: int) -> dict:
    body = "\n".join(f"（{n}）请各单位按要求报送第{n}项材料。" for n in range(1, paragraphs + 1))
    return {**NOTICE, "body": body}


@pytest.fixture
def bureau(app, world):
    app.config.update(RENDER_MAX_PAGES=12, JOB_PROCESSES=1, JOB_LEASE_SECONDS=30)
    return login(app, world, "bureau")


def test_a_long_notice_stops_at_the_page_limit(bureau):
    resp = bureau.post("/api/v1/documents/notice?format=pdf", json=_long_notice(400))
    assert resp.status_code == 413, resp.status_code
    body = resp.get_json()
    assert body["message"] == ("文档超过12页，不能在一次请求中生成。请精简内容，或改用后台生成："
                               "以同样的内容 POST /api/v1/documents/notice/jobs?format=pdf，完成后下载。")
    # a document within the limit is rendered as before
    ok = bureau.post("/api/v1/documents/notice?format=pdf", json=NOTICE)
    assert ok.status_code == 200 and ok.mimetype == "application/pdf"
    assert len(PdfReader(io.BytesIO(ok.data)).pages) <= 12


def test_a_stored_submission_is_limited_too(app, world, bureau):
    stored = bureau.post("/api/v1/submissions", json={"kind": "notice", "data": _long_notice(400), "action": "save"})
    assert stored.status_code in (200, 201), stored.get_json()
    sub_id = stored.get_json()["id"]
    resp = bureau.get(f"/api/v1/submissions/{sub_id}/document?format=pdf")
    assert resp.status_code == 413 and "文档超过12页" in resp.get_json()["message"]


def test_long_documents_go_to_the_batch_runner(bureau):
    resp = bureau.post("/api/v1/documents/notice/jobs?format=pdf", json=_long_notice(400))
    assert resp.status_code == 202, resp.get_json()
    job = resp.get_json()
    assert resp.headers["Location"].endswith(job["id"]) and job["kind"] == "notice" and job["format"] == "pdf"
    deadline = time.monotonic() + 120
    while job["status"] != "done":
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
        job = bureau.get(resp.headers["Location"]).get_json()
    assert job["summary_text"].startswith("已生成，共") and job["pages"] > 12
    pdf = bureau.get(job["download_url"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "filename*=UTF-8''" in pdf.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(pdf.data))
    pdf.close()
    assert len(reader.pages) == job["pages"]
    text = "".join(page.extract_text() for page in reader.pages)
    assert "第1项材料" in text and "第400项材料" in text and text.index("第1项材料") < text.index("第400项材料")
    # the same request again is the same job; invalid data is refused before any job is made
    again = bureau.post("/api/v1/documents/notice/jobs?format=pdf", json=_long_notice(400))
    assert again.get_json()["id"] == job["id"]
    bad = bureau.post("/api/v1/documents/notice/jobs?format=pdf", json={**NOTICE, "title": ""})
    assert bad.status_code == 422 and "title" in bad.get_json()["errors"]


def test_a_job_is_seen_only_by_its_owner(app, world, bureau):
    resp = bureau.post("/api/v1/documents/notice/jobs?format=docx", json=NOTICE)
    assert resp.status_code == 202
    other = login(app, world, "clerk_a")
    assert other.get(resp.headers["Location"]).status_code == 404
    assert other.get(f"{resp.headers['Location']}/download").status_code == 404


def test_renders_per_user_are_limited(app, world, bureau):
    app.config.update(RENDER_PAGES_PER_HOUR=5)
    first = bureau.post("/api/v1/documents/notice?format=pdf", json=NOTICE)
    pages = len(PdfReader(io.BytesIO(first.data)).pages)
    assert first.status_code == 200 and pages >= 2
    while pages < 5:
        assert bureau.post("/api/v1/documents/notice?format=pdf", json=NOTICE).status_code == 200
        pages += len(PdfReader(io.BytesIO(first.data)).pages)
    refused = bureau.post("/api/v1/documents/notice?format=pdf", json=NOTICE)
    assert refused.status_code == 429
    assert refused.get_json()["message"].startswith(f"您在1小时内已在线生成{pages}页文档，达到上限（5页）。请")
    # another user is not held up
    admin = login(app, world, "admin")
    assert admin.post("/api/v1/documents/notice?format=pdf", json=NOTICE).status_code == 200
    # two renders in flight (in other workers) hold the user's slots until they end or expire
    app.config.update(RENDER_PAGES_PER_HOUR=1000)
    db = app.extensions["jxdoc.db"]
    user_id = world.users["admin"]
    with db.write() as session:
        row = session.get(RenderQuota, user_id)
        row.in_flight, row.busy_until = 2, utcnow() + _dt.timedelta(seconds=60)
    busy = admin.post("/api/v1/documents/notice?format=docx", json=NOTICE)
    assert busy.status_code == 429 and busy.get_json()["message"] == "您已有2份文档正在生成，请等它们完成后再试。"
    with db.write() as session:
        session.get(RenderQuota, user_id).busy_until = utcnow() - _dt.timedelta(seconds=1)
    assert admin.post("/api/v1/documents/notice?format=docx", json=NOTICE).status_code == 200
