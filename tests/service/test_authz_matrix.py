"""The authorisation matrix: every route of the app × {unit A's clerk, unit B's clerk, unit A's
department reviewer, the finance bureau, an administrator, anonymous} → the expected status.

The routes are read from app.url_map, so a new route without an entry in MATRIX fails
`test_every_route_is_in_the_matrix` — add its row when you add the route (batch downloads and
zips included). Each cell builds its own objects (a fresh submission, token, template …), so a
cell that changes something cannot change the answer of another.

Columns: A = clerk of unit A (owner of the documents under test), B = clerk of unit B,
D = reviewer of unit A's department, F = finance bureau, M = administrator, N = anonymous.
Anonymous page requests are redirected to the sign-in page (302); API requests answer 401.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from tests.conftest import PASSWORD, load_sample, login

COLUMNS = ("clerk_a", "clerk_b", "reviewer", "bureau", "admin", None)


class Ctx:
    """Builds the objects a cell's URL needs, fresh for each cell."""

    def __init__(self, app, world):
        self.app, self.world = app, world

    def _db(self):
        return self.app.extensions["jxdoc.db"]

    def submission(self, status: str = "submitted", unit: str = "a", kind: str = "request") -> str:
        from storage.models import Submission, public_id

        unit_id = self.world.unit_a if unit == "a" else self.world.unit_b
        owner = self.world.users["clerk_a" if unit == "a" else "clerk_b"]
        with self._db().write() as session:
            sub = Submission(kind=kind, public_id=public_id(), title="矩阵测试", unit_id=unit_id, status=status,
                             created_by_id=owner)
            sub.data = load_sample(kind)
            session.add(sub)
        return sub.public_id

    def token_of(self, who: str) -> int:
        from service.sessions import create_api_token
        from storage.models import ApiToken

        with self.app.app_context(), self._db().write() as session:
            create_api_token(session, self.world.user(who), "矩阵")
            session.flush()
            return max(t.id for t in session.query(ApiToken).all())

    def fresh_name(self) -> str:
        import secrets

        return "nobody_" + secrets.token_hex(4)

    def invitation(self) -> str:
        import secrets

        from service.invitations import new_invitation
        from storage.models import User

        with self.app.app_context(), self._db().write() as session:
            user = User(username="new_" + secrets.token_hex(4), role="unit_clerk", unit_id=self.world.unit_a,
                        active=True)
            session.add(user)
            session.flush()
            return new_invitation(session, user, None)

    def batch(self) -> str:
        """A finished batch (no units): its page, progress and zip."""
        import secrets

        from storage.batches import Batch
        from storage.models import utcnow

        with self._db().write() as session:
            # The parameters every monitoring batch is started with: a lost manifest is written again
            # from them when the zip is asked for.
            batch = Batch(key=secrets.token_hex(32), kind="monitoring", fmt="xlsx", title="矩阵批次", status="done",
                          total=0, finished_at=utcnow(),
                          params_json='{"year": 2024, "period": "1-6月", "area": "", "settings_override": null}')
            session.add(batch)
        return batch.public_id

    def document_job(self) -> str:
        """A document job of unit A's clerk that failed: its status and its (refused) download."""
        import secrets

        from storage.batches import Batch, BatchItem
        from storage.models import utcnow

        with self._db().write() as session:
            batch = Batch(key=secrets.token_hex(32), kind="request", fmt="docx", title="矩阵文档", status="done",
                          total=1, finished_at=utcnow(), owner_id=self.world.users["clerk_a"])
            session.add(batch)
            session.flush()
            session.add(BatchItem(batch_id=batch.id, key="document", seq=0, unit_code="document", unit_name="矩阵文档",
                                  output_name="矩阵文档.docx", status="failed"))
        return batch.public_id

    def template(self, kind: str = "request") -> str:
        from docx import Document

        from storage.models import DocTemplate

        doc = Document()
        doc.add_paragraph("{{ title }}")
        buf = io.BytesIO()
        doc.save(buf)
        with self._db().write() as session:
            tpl = DocTemplate(kind=kind, name="矩阵模板", content=buf.getvalue(), variables_json='["title"]')
            session.add(tpl)
        return tpl.public_id


@dataclass
class Row:
    url: Callable[[Ctx], str] | str
    expect: tuple  # one status per COLUMNS entry
    json: Callable[[Ctx], object] | object | None = None
    data: Callable[[Ctx], dict] | dict | None = None
    files: bool = False
    extra: dict = field(default_factory=dict)


ALL_OK = (200, 200, 200, 200, 200)
PAGE = (*ALL_OK, 302)
API = (*ALL_OK, 401)
ADMIN_PAGE = (403, 403, 403, 403, 200, 302)
OWN_PAGE = (200, 404, 200, 200, 200, 302)  # unit A's document, as a page
OWN_API = (200, 404, 200, 200, 200, 401)
BUREAU_PAGE = (403, 403, 403, 200, 200, 302)
BUREAU_API = (403, 403, 403, 200, 200, 401)


def _sub(status="submitted", unit="a", kind="request"):
    return lambda c: c.submission(status, unit, kind)


MATRIX: dict[str, Row] = {
    # ---- public
    "GET static": Row("/static/app.css", (200,) * 6),
    "GET api.openapi": Row("/api/openapi.json", (200,) * 6),
    "GET account.login": Row("/login", (302, 302, 302, 302, 302, 200)),
    # (a different unknown name per cell: five failures for one name would lock it, see test_auth)
    "POST account.login": Row("/login", (401,) * 6, data=lambda c: {"username": c.fresh_name(), "password": "wrong!"}),
    "GET account.accept_invitation": Row(lambda c: f"/invite/{c.invitation()}", (200,) * 6),
    "POST account.accept_invitation": Row(lambda c: f"/invite/{c.invitation()}", (422,) * 6,
                                          data={"password": "short", "password2": "other"}),
    # ---- one's own account
    "GET web.index": Row("/", PAGE),
    "GET account.account": Row("/account", PAGE),
    "POST account.account": Row("/account", (422, 422, 422, 422, 422, 302),
                                data={"old_password": "wrong", "password": "x", "password2": "y"}),
    "POST account.create_token": Row("/account/tokens", (201, 201, 201, 201, 201, 302), data={"name": "t"}),
    "POST account.revoke_token": Row(lambda c: f"/account/tokens/{c.token_of('clerk_a')}/revoke",
                                     (302, 404, 404, 404, 404, 302)),
    "POST account.logout": Row("/logout", (302,) * 6),
    # ---- kinds, forms, samples (no stored data)
    "GET web.form": Row("/forms/request", PAGE),
    "POST web.form": Row("/forms/request", PAGE, data={"title": "x", "action": "nonsense"}, extra={"expect_400": True}),
    "GET web.sample_document": Row("/samples/request.docx", PAGE),
    "POST web.delete_draft": Row(lambda c: f"/forms/request/drafts/{c.submission('draft')}/delete",
                                 (302, 404, 404, 404, 409, 302)),
    "GET api.list_kinds": Row("/api/v1/kinds", API),
    "GET api.show_kind": Row("/api/v1/kinds/request", API),
    "GET api.kind_sample": Row("/api/v1/kinds/request/sample", API),
    "POST api.render_document": Row("/api/v1/documents/request?format=docx", API, json=lambda c: load_sample("request")),
    "POST api.document_job": Row("/api/v1/documents/request/jobs?format=docx", (422, 422, 422, 422, 422, 401), json={}),
    "GET api.show_document_job": Row(lambda c: f"/api/v1/document-jobs/{c.document_job()}",
                                     (200, 404, 404, 404, 404, 401)),
    "GET api.document_job_download": Row(lambda c: f"/api/v1/document-jobs/{c.document_job()}/download",
                                         (409, 404, 404, 404, 404, 401)),
    "POST api.validate_document": Row("/api/v1/documents/request/validate", API, json=lambda c: load_sample("request")),
    # ---- statistics over every unit: the bureau's
    "POST drafts.summary": Row("/api/v1/drafts/summary", (403, 403, 403, 422, 422, 401), json={}),
    # ---- indicator library and blank forms (no unit data)
    "GET library.search_indicators": Row("/api/v1/library/indicators?q=%E5%AD%A6%E7%94%9F", API),
    "GET library.library_categories": Row("/api/v1/library/categories", API),
    "GET library.blank_form_api": Row("/api/v1/forms/target_declaration/blank.xlsx", API),
    "POST library.import_form_api": Row("/api/v1/forms/target_declaration/import", (422, 422, 422, 422, 422, 401),
                                        data={}, files=True),
    "GET library.blank_form_web": Row("/forms/target_declaration/blank.xlsx", PAGE),
    "POST library.import_form_web": Row("/forms/target_declaration/import", (422, 422, 422, 422, 422, 302),
                                        data={}, files=True),
    "GET library.declaration_reviews": Row(lambda c: f"/api/v1/submissions/{c.submission()}/reviews", OWN_API),
    # ---- stored submissions: API
    "GET api.list_submissions": Row("/api/v1/submissions", API),
    "POST api.create_submission": Row("/api/v1/submissions", (201, 201, 201, 201, 403, 401),
                                      json={"kind": "request", "data": {"title": "草稿"}}),
    "GET api.show_submission": Row(lambda c: f"/api/v1/submissions/{c.submission()}", OWN_API),
    "PUT api.update_submission": Row(lambda c: f"/api/v1/submissions/{c.submission('draft')}",
                                     (200, 404, 404, 404, 403, 401), json={"data": {"title": "改"}, "version": 1}),
    "GET api.submission_document": Row(lambda c: f"/api/v1/submissions/{c.submission()}/document?format=docx", OWN_API),
    "GET api.submission_history": Row(lambda c: f"/api/v1/submissions/{c.submission()}/history", OWN_API),
    "POST api.review_submission": Row(lambda c: f"/api/v1/submissions/{c.submission()}/review",
                                      (403, 404, 200, 200, 403, 401), json={"action": "approve"}),
    # ---- stored submissions: pages and downloads
    "GET submissions.index": Row("/submissions", PAGE),
    "GET submissions.show": Row(lambda c: f"/submissions/{c.submission()}", OWN_PAGE),
    "GET submissions.download": Row(lambda c: f"/submissions/{c.submission()}/download.docx", OWN_PAGE),
    "GET submissions.preview": Row(lambda c: f"/submissions/{c.submission()}/preview.pdf", OWN_PAGE),
    "GET submissions.download_with_template": Row(
        lambda c: f"/submissions/{c.submission()}/template/{c.template()}.docx", OWN_PAGE),
    "POST submissions.review": Row(lambda c: f"/submissions/{c.submission()}/review",
                                   (403, 404, 302, 302, 403, 302), data={"action": "approve"}),
    # ---- signing (no seal registered here: the signers get the page's 422) and public verification
    "POST submissions.sign": Row(lambda c: f"/submissions/{c.submission()}/signed.pdf", (403, 404, 403, 422, 422, 302),
                                 data={}),
    "POST api.sign_submission": Row(lambda c: f"/api/v1/submissions/{c.submission()}/signed",
                                    (403, 404, 403, 422, 422, 401), json={}),
    "GET verify.page": Row("/verify", (200,) * 6),
    "POST verify.page": Row("/verify", (422,) * 6, data={}, files=True),
    "POST api.verify_document": Row("/api/v1/verify", (422,) * 6, data={}, files=True),
    # ---- batches: many units' data, the bureau's (zips included)
    "GET batches.index": Row("/batches", BUREAU_PAGE),
    "GET dashboard.index": Row("/statistics", BUREAU_PAGE),
    "GET dashboard.units_download": Row("/statistics/units.csv", BUREAU_PAGE),
    "POST dashboard.draft_summary": Row("/statistics/draft-summary", (403, 403, 403, 422, 422, 302), data={}),
    "POST batches.upload": Row("/batches", (403, 403, 403, 422, 422, 302), data={}, files=True),
    "GET batches.show": Row(lambda c: f"/batches/{c.batch()}", BUREAU_PAGE),
    "GET batches.download": Row(lambda c: f"/batches/{c.batch()}/download", BUREAU_PAGE),
    "POST batches.api_create": Row("/api/v1/batches", (403, 403, 403, 422, 422, 401), data={}, files=True),
    "GET batches.api_show": Row(lambda c: f"/api/v1/batches/{c.batch()}", BUREAU_API),
    "GET batches.api_items": Row(lambda c: f"/api/v1/batches/{c.batch()}/items", BUREAU_API),
    "GET batches.api_download": Row(lambda c: f"/api/v1/batches/{c.batch()}/download", BUREAU_API),
    "POST batches.retry": Row(lambda c: f"/batches/{c.batch()}/retry", (403, 403, 403, 303, 303, 302), data={}),
    "POST batches.api_retry": Row(lambda c: f"/api/v1/batches/{c.batch()}/retry", (403, 403, 403, 409, 409, 401)),
    # ---- administration
    "GET admin.index": Row("/admin/", ADMIN_PAGE),
    "GET admin.users": Row("/admin/users", ADMIN_PAGE),
    "POST admin.users": Row("/admin/users", (403, 403, 403, 403, 422, 302), data={"username": "x"}),
    "POST admin.update_user": Row(lambda c: f"/admin/users/{c.world.users['clerk_b']}", (403, 403, 403, 403, 302, 302),
                                  data={"action": "invite"}),
    "GET admin.units": Row("/admin/units", ADMIN_PAGE),
    "POST admin.units": Row("/admin/units", (403, 403, 403, 403, 422, 302), data={"what": "unit", "code": "?"}),
    "GET admin.audit_log": Row("/admin/audit", ADMIN_PAGE),
    "GET admin.settings_index": Row("/admin/settings", ADMIN_PAGE),
    "GET admin.settings_page": Row("/admin/settings/letterhead", ADMIN_PAGE),
    "POST admin.settings_page": Row("/admin/settings/letterhead", (403, 403, 403, 403, 422, 302),
                                    data={"letterhead.issuer_code": "青财〔2024〕"}),
    "GET admin.templates": Row("/admin/templates", ADMIN_PAGE),
    "POST admin.templates": Row("/admin/templates", (403, 403, 403, 403, 422, 302), data={"kind": "request"},
                                files=True),
    "POST admin.delete_template": Row(lambda c: f"/admin/templates/{c.template()}/delete",
                                      (403, 403, 403, 403, 302, 302)),
    "GET admin.seals": Row("/admin/seals", ADMIN_PAGE),
    "POST admin.seals": Row("/admin/seals", (403, 403, 403, 403, 422, 302), data={"organ": ""}, files=True),
    "POST admin.remove_seal": Row("/admin/seals/remove", (403, 403, 403, 403, 404, 302), data={"organ": "无此机关"}),
}


def _routes(app) -> set[str]:
    keys = set()
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            keys.add(f"{method} {rule.endpoint}")
    return keys


def test_every_route_is_in_the_matrix(app):
    routes = _routes(app)
    missing = sorted(routes - set(MATRIX))
    assert not missing, f"routes without a row in tests/service/test_authz_matrix.py MATRIX: {missing}"
    stale = sorted(set(MATRIX) - routes)
    assert not stale, f"MATRIX rows for routes that no longer exist: {stale}"


@pytest.mark.parametrize("key", sorted(MATRIX))
def test_matrix(app, world, key):
    method, endpoint = key.split(" ", 1)
    row = MATRIX[key]
    ctx = Ctx(app, world)
    got, want = {}, {}
    for who, expected in zip(COLUMNS, row.expect, strict=True):
        client = login(app, world, who) if who else app.test_client()
        url = row.url(ctx) if callable(row.url) else row.url
        kwargs = {}
        if row.json is not None:
            kwargs["json"] = row.json(ctx) if callable(row.json) else row.json
        if row.data is not None:
            kwargs["data"] = dict(row.data(ctx) if callable(row.data) else row.data)
            if row.files:
                kwargs["content_type"] = "multipart/form-data"
        resp = client.open(url, method=method, **kwargs)
        status = resp.status_code
        if row.extra.get("expect_400") and status == 400:
            status = 200  # reached the view, which refused the unknown action: access was granted
        got[who or "anonymous"], want[who or "anonymous"] = status, expected
        if expected == 302 and who is None:
            assert "/login" in resp.headers["Location"], (key, resp.headers["Location"])
        if expected == 404 and url.startswith("/api/"):
            assert resp.get_json()["code"] == 404  # the one error envelope, not a leak of details
        resp.close()  # static files are streamed from an open file
    assert got == want, key


def test_foreign_id_answers_like_a_missing_one(app, world):
    """Unit B's clerk cannot tell unit A's document from one that does not exist."""
    ctx = Ctx(app, world)
    pid = ctx.submission()
    b = login(app, world, "clerk_b")
    foreign = b.get(f"/api/v1/submissions/{pid}")
    missing = b.get("/api/v1/submissions/doesnotexist0000000000")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.get_json() == missing.get_json()
    # The pages are the same but for the CSRF token, which is signed with the time in seconds.
    assert _without_csrf_token(b.get(f"/submissions/{pid}").get_data()) == \
        _without_csrf_token(b.get("/submissions/doesnotexist0000000000").get_data())


def _without_csrf_token(page: bytes) -> bytes:
    stripped, n = re.subn(rb'(name="csrf-token" content=")[^"]*"', rb'\1"', page)
    assert n == 1
    return stripped


def test_path_traversal_in_download_urls_is_404(app, world):
    a = login(app, world, "clerk_a")
    for url in ("/submissions/..%2F..%2Fetc%2Fpasswd/download.docx", "/submissions/../../etc/passwd/download.docx",
                "/api/v1/submissions/..%2Fx/document", "/samples/..%2F..%2Fetc%2Fpasswd.docx"):
        assert a.get(url).status_code == 404, url


def test_lists_are_scoped(app, world):
    ctx = Ctx(app, world)
    mine, theirs = ctx.submission(unit="a"), ctx.submission(unit="b")
    ids = {who: {s["id"] for s in login(app, world, who).get("/api/v1/submissions").get_json()}
           for who in ("clerk_a", "clerk_b", "reviewer", "bureau", "admin")}
    assert ids["clerk_a"] == {mine} and ids["clerk_b"] == {theirs} and ids["reviewer"] == {mine}
    assert ids["bureau"] == ids["admin"] == {mine, theirs}
    html = login(app, world, "clerk_b").get("/submissions?status=").get_data(as_text=True)
    assert theirs in html and mine not in html


def test_unit_comes_from_the_session_not_the_body(app, world):
    b = login(app, world, "clerk_b")
    resp = b.post("/api/v1/submissions", json={"kind": "request", "unit_id": world.unit_a, "unit": "A001",
                                               "data": {"title": "冒充", "unit_id": world.unit_a}})
    assert resp.status_code == 201
    from storage.models import Submission

    with app.extensions["jxdoc.db"].read() as session:
        sub = session.query(Submission).filter_by(public_id=resp.get_json()["id"]).one()
        assert sub.unit_id == world.unit_b
    assert login(app, world, "clerk_a").get(f"/api/v1/submissions/{sub.public_id}").status_code == 404


def test_bearer_tokens(app, world):
    ctx = Ctx(app, world)
    pid = ctx.submission()
    a = login(app, world, "clerk_a")
    html = a.post("/account/tokens", data={"name": "脚本"}).get_data(as_text=True)
    token = re.search(r'<code class="token">([^<]+)</code>', html).group(1)
    script = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert script.get(f"/api/v1/submissions/{pid}", headers=headers).status_code == 200
    # a script is not a browser: no cookie, no CSRF token needed for writes
    app.config["WTF_CSRF_ENABLED"] = True
    assert script.post("/api/v1/submissions", json={"kind": "request", "data": {}}, headers=headers).status_code == 201
    app.config["WTF_CSRF_ENABLED"] = False
    # someone else's token does not reach unit A's document
    b_token_html = login(app, world, "clerk_b").post("/account/tokens", data={"name": "b"}).get_data(as_text=True)
    b_token = re.search(r'<code class="token">([^<]+)</code>', b_token_html).group(1)
    assert script.get(f"/api/v1/submissions/{pid}", headers={"Authorization": f"Bearer {b_token}"}).status_code == 404
    bad = script.get("/api/v1/kinds", headers={"Authorization": "Bearer jxd_nonsense"})
    assert bad.status_code == 401 and bad.headers["WWW-Authenticate"].startswith("Bearer")
    # revoked tokens stop working at once
    from storage.models import ApiToken

    with app.extensions["jxdoc.db"].read() as session:
        token_id = session.query(ApiToken).filter_by(name="脚本").one().id
    assert a.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    assert script.get("/api/v1/kinds", headers=headers).status_code == 401


def test_deactivated_user_is_signed_out(app, world):
    a = login(app, world, "clerk_a")
    assert a.get("/").status_code == 200
    admin = login(app, world, "admin")
    assert admin.post(f"/admin/users/{world.users['clerk_a']}", data={"action": "deactivate"}).status_code == 302
    assert a.get("/").status_code == 302
    resp = app.test_client().post("/login", data={"username": "clerk_a", "password": PASSWORD})
    assert resp.status_code == 401 and "已停用" in resp.get_data(as_text=True)
