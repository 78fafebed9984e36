"""The indicator library API, the blank declaration forms and their import over HTTP, and the
review → declaration status link."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

import kinds
from forms.base import FieldErrors
from kinds import pipeline
from rules.library import COMMON_CATEGORIES
from storage.models import Submission, dumps, public_id, utcnow
from tests.conftest import load_sample, login

SEARCH = "/api/v1/library/indicators"


# ------------------------------------------------------------------------------ search


def test_search_returns_entries_with_every_field_the_form_fills(client):
    body = client.get(SEARCH, query_string={"q": "培训人次"}).get_json()
    assert body["query"] == "培训人次" and 1 <= body["count"] == len(body["results"]) <= 20
    first = body["results"][0]
    assert "培训" in first["name"]
    assert {"name", "level1", "level2", "operator", "target_value", "measure_unit", "value_text", "explanation",
            "category", "sector"} <= set(first)
    assert first["operator"] in ("≥", "≤", "=", "定性")


@pytest.mark.parametrize(("params", "check"), [
    ({"q": "满意度", "level1": "满意度"}, lambda e: e["level1"] == "满意度指标"),
    ({"q": "", "category": "培训会议类"}, lambda e: e["category"] == "培训会议类"),
    ({"q": "验收", "category": "基础建设"}, lambda e: e["category"] == "基础建设类"),
    ({"q": "合格率", "level1": "产出指标", "category": "设备购置类"},
     lambda e: e["level1"] == "产出指标" and e["category"] == "设备购置类"),
])
def test_search_filters(client, params, check):
    results = client.get(SEARCH, query_string=params).get_json()["results"]
    assert results and all(check(e) for e in results)


@pytest.mark.parametrize(("project_type", "first"), [
    ("培训会议类", lambda e: e["category"] == "培训会议类"),
    ("培训会议", lambda e: e["category"] == "培训会议类"),
    ("教育", lambda e: e["sector"] == "教育"),
])
def test_search_ranks_the_projects_category_first(client, project_type, first):
    """The autocomplete sends the form's 项目类型: that category's (or sector's) entries come first,
    the others still follow."""
    plain = client.get(SEARCH, query_string={"q": "满意度", "limit": "50"}).get_json()["results"]
    ranked = client.get(SEARCH, query_string={"q": "满意度", "limit": "50", "project_type": project_type}).get_json()["results"]
    assert not first(plain[0])  # a category the plain ranking does not put first
    mine = [e for e in ranked if first(e)]
    assert mine and ranked[:len(mine)] == mine
    assert sorted(map(json.dumps, ranked)) == sorted(map(json.dumps, plain))  # the same entries, reordered
    listed = client.get(SEARCH, query_string={"q": "", "project_type": project_type, "limit": "3"}).get_json()["results"]
    assert listed and all(first(e) for e in listed)


def test_declaration_form_offers_the_library_categories_as_project_types(client):
    page = client.get("/forms/target_declaration").get_data(as_text=True)
    assert 'list="suggest-project_type"' in page
    datalist = page.split('<datalist id="suggest-project_type">', 1)[1].split("</datalist>", 1)[0]
    assert all(f'<option value="{c}">' in datalist for c in COMMON_CATEGORIES) and '<option value="教育">' in datalist


def test_search_limit_and_no_match(client):
    assert client.get(SEARCH, query_string={"q": "率", "limit": "3"}).get_json()["count"] == 3
    assert client.get(SEARCH, query_string={"q": "火星探测器着陆"}).get_json() == {
        "query": "火星探测器着陆", "count": 0, "results": []}


def test_search_places_cost_indicators_in_the_requested_tree(client):
    params = {"q": "成本", "level1": "成本指标", "limit": "50"}
    old = client.get(SEARCH, query_string=params).get_json()["results"]
    assert any(e["level1"] == "产出指标" and e["level2"] == "成本指标" for e in old)
    new = client.get(SEARCH, query_string={**params, "tree": "101"}).get_json()["results"]
    assert new and all(e["level1"] == "成本指标" for e in new)
    assert {e["level2"] for e in new} <= {"经济成本指标", "社会成本指标", "生态环境成本指标"}


@pytest.mark.parametrize(("params", "field", "message"), [
    ({"limit": "0"}, "limit", "limit 应为1至100之间的整数。"),
    ({"limit": "101"}, "limit", "limit 应为1至100之间的整数。"),
    ({"limit": "ten"}, "limit", "limit 应为1至100之间的整数。"),
    ({"q": "指" * 101}, "q", "检索词不能超过100个字。"),
    ({"tree": "99"}, "tree", "不认识的指标体系“99”：请填写 2020（财预〔2020〕10号）或 2021（财预〔2021〕101号）。"),
])
def test_search_refuses_bad_parameters(client, params, field, message):
    resp = client.get(SEARCH, query_string=params)
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == {field: [message]}


def test_categories_list_the_eleven_common_ones_and_both_trees(client):
    body = client.get("/api/v1/library/categories").get_json()
    assert set(COMMON_CATEGORIES) <= set(body["categories"])
    assert body["sectors"]
    assert body["trees"]["2021"]["levels"]["成本指标"] == ["经济成本指标", "社会成本指标", "生态环境成本指标"]


# ------------------------------------------------------------------------------ blank forms and import


@pytest.mark.parametrize("kind_id", ["target_declaration", "department_target_declaration"])
def test_blank_form_download(client, kind_id):
    resp = client.get(f"/api/v1/forms/{kind_id}/blank.xlsx")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    assert "attachment" in resp.headers["Content-Disposition"] and "%E7%A9%BA%E7%99%BD%E8%A1%A8" in resp.headers["Content-Disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(resp.data)).active
    assert ws["A1"].value == kinds.get(kind_id).name


def test_blank_form_only_for_declarations(client):
    resp = client.get("/api/v1/forms/target_review/blank.xlsx")
    assert resp.status_code == 404 and resp.get_json()["message"] == "“绩效目标审核意见表”没有空白表。"
    assert client.get("/api/v1/forms/no_such_kind/blank.xlsx").status_code == 404


def _xlsx(kind_id: str, payload: dict) -> bytes:
    return pipeline.produce(kind_id, payload, "xlsx").content


def test_import_returns_the_stored_form_of_the_data(client):
    payload = load_sample("target_declaration", "health_training_2025")
    resp = client.post("/api/v1/forms/target_declaration/import",
                       data={"file": (io.BytesIO(_xlsx("target_declaration", payload)), "申报表.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200
    body = resp.get_json()
    data = pipeline.validate("target_declaration", payload)
    expected = json.loads(dumps(kinds.get("target_declaration").schema_instance().dump(data)))
    assert body == {"kind": "target_declaration", "data": expected}
    assert body["data"]["annual_funds"] == {"total": "62.50", "fiscal_appropriation": "56.50", "other_funds": "6.00"}


def test_import_of_a_raw_body(client):
    payload = load_sample("department_target_declaration")
    resp = client.post("/api/v1/forms/department_target_declaration/import",
                       data=_xlsx("department_target_declaration", payload),
                       content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert resp.status_code == 200 and resp.get_json()["data"]["department"] == "青溪县农业农村局"


def test_import_reports_rule_errors_at_their_cells(client):
    good = pipeline.validate("target_declaration", load_sample("target_declaration", "health_training_2025"))
    content = pipeline.render("target_declaration", good, "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(content))
    book.active["E12"].value = 9  # 年度其他资金
    out = io.BytesIO()
    book.save(out)
    resp = client.post("/api/v1/forms/target_declaration/import", data=out.getvalue(),
                       content_type="application/octet-stream")
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == {"annual_funds.total": [
        "工作表“项目支出绩效目标申报表”第10行E列（年度资金总额）：年度资金总额（62.50万元）不等于财政拨款（56.50万元）"
        "与其他资金（9.00万元）之和（65.50万元）：请核对后重新填写。"]}


def test_import_refuses_what_is_not_a_workbook(client):
    resp = client.post("/api/v1/forms/target_declaration/import", data=b"not a workbook",
                       content_type="application/octet-stream")
    assert resp.status_code == 400
    assert resp.get_json()["errors"] == {"file": [
        "文件不是有效的 Excel（.xlsx）文件。请用 Excel 或 WPS 打开后另存为 .xlsx 再导入。"]}
    resp = client.post("/api/v1/forms/target_declaration/import", data=b"", content_type="application/octet-stream")
    assert resp.status_code == 422 and resp.get_json()["errors"] == {"file": ["请上传填好的xlsx文件。"]}


# ------------------------------------------------------------------------------ review link


def _store(session, kind_id: str, data: dict, status: str) -> Submission:
    sub = Submission(kind=kind_id, public_id=public_id(), status=status, title=kind_id,
                     created_at=utcnow(), updated_at=utcnow())
    sub.data = data
    session.add(sub)
    session.flush()
    return sub


def _review(declaration_id: str, outcome: str) -> dict:
    review = load_sample("target_review")
    review.update(declaration_id=declaration_id, outcome=outcome)
    data = pipeline.validate("target_review", review)
    return json.loads(dumps(kinds.get("target_review").schema_instance().dump(data)))


@pytest.mark.parametrize(("outcome", "status"), [
    ("approved", "approved"), ("conditionally_approved", "returned"), ("returned", "returned")])
def test_a_submitted_review_moves_its_declaration(app, outcome, status):
    from service.database import get_db
    from service.workflow import link_review

    with app.test_request_context():
        db = get_db()
        with db.write() as session:
            parent = _store(session, "target_declaration", load_sample("target_declaration"), "submitted")
            review = _store(session, "target_review", _review(parent.public_id, outcome), "submitted")
            link_review(session, kinds.get("target_review"), review, "submitted")
        with db.read() as session:
            parent = session.get(Submission, parent.id)
            assert parent.status == status
            assert session.get(Submission, review.id).parent_id == parent.id


def test_a_review_is_refused_for_a_missing_or_unsubmitted_declaration(app):
    from service.database import get_db
    from service.workflow import link_review

    kind = kinds.get("target_review")
    with app.test_request_context():
        db = get_db()
        with pytest.raises(FieldErrors) as exc, db.write() as session:
            review = _store(session, "target_review", _review("no-such-id", "approved"), "submitted")
            link_review(session, kind, review, "submitted")
        assert exc.value.errors == {"declaration_id": ["找不到编号为“no-such-id”的绩效目标申报表：请核对申报表编号。"]}
        with pytest.raises(FieldErrors) as exc, db.write() as session:
            parent = _store(session, "target_declaration", load_sample("target_declaration"), "draft")
            review = _store(session, "target_review", _review(parent.public_id, "approved"), "submitted")
            link_review(session, kind, review, "submitted")
        assert exc.value.errors == {"declaration_id": ["该申报表当前状态为“草稿”，只能审核已提交的申报表。"]}
        with pytest.raises(FieldErrors) as exc, db.write() as session:
            parent = _store(session, "department_target_declaration", load_sample("department_target_declaration"),
                            "submitted")
            review = _store(session, "target_review", _review(parent.public_id, "approved"), "submitted")
            link_review(session, kind, review, "submitted")
        assert exc.value.errors == {"declaration_kind": [
            "该编号对应的是部门（单位）整体支出绩效目标申报表，请将被审核的申报表改为“部门（单位）整体支出绩效目标申报表”。"]}
        with db.read() as session:  # each refusal rolled its transaction back
            assert session.query(Submission).count() == 0


def test_a_draft_review_moves_nothing(app):
    from service.database import get_db
    from service.workflow import link_review

    with app.test_request_context():
        db = get_db()
        with db.write() as session:
            parent = _store(session, "target_declaration", load_sample("target_declaration"), "submitted")
            review = _store(session, "target_review", _review(parent.public_id, "returned"), "draft")
            link_review(session, kinds.get("target_review"), review, "draft")
        with db.read() as session:
            assert session.get(Submission, parent.id).status == "submitted"


def test_reviews_of_a_declaration_are_listed(app, client, world):
    from service.database import get_db

    with app.app_context():
        with get_db().write() as session:
            parent = _store(session, "target_declaration", load_sample("target_declaration"), "returned")
            parent.unit_id = world.unit_a
            review = _store(session, "target_review", _review(parent.public_id, "returned"), "submitted")
            review.parent_id = parent.id
    assert login(app, world, "clerk_b").get(f"/api/v1/submissions/{parent.public_id}/reviews").status_code == 404
    body = client.get(f"/api/v1/submissions/{parent.public_id}/reviews").get_json()
    assert body["status"] == "returned" and body["status_label"] == "退回修改"
    assert [r["id"] for r in body["reviews"]] == [review.public_id]
    assert body["reviews"][0]["data"]["outcome"] == "returned" and body["reviews"][0]["data"]["total_score"] == "85.00"
    assert client.get("/api/v1/submissions/nothing/reviews").status_code == 404


def test_review_stored_through_the_api_moves_the_declaration(app, client, world):
    """The whole cycle over HTTP: the clerk submits, the department's reviewer files a review
    naming the declaration, the declaration comes back returned with the opinion in its history."""
    resp = client.post("/api/v1/submissions", json={"kind": "target_declaration", "action": "submit",
                                                    "data": load_sample("target_declaration")})
    assert resp.status_code == 201 and resp.get_json()["status"] == "submitted"
    declaration = resp.get_json()["id"]
    review = load_sample("target_review")
    review["declaration_id"] = declaration
    # The clerk cannot review her own unit's declaration.
    resp = client.post("/api/v1/submissions", json={"kind": "target_review", "action": "submit", "data": review})
    assert resp.status_code == 422 and list(resp.get_json()["errors"]) == ["declaration_id"]
    reviewer = login(app, world, "reviewer")
    resp = reviewer.post("/api/v1/submissions", json={"kind": "target_review", "action": "submit", "data": review})
    assert resp.status_code == 201, resp.get_json()
    assert client.get(f"/api/v1/submissions/{declaration}").get_json()["status"] == "returned"
    listed = client.get(f"/api/v1/submissions/{declaration}/reviews").get_json()
    assert [r["data"]["outcome"] for r in listed["reviews"]] == ["conditionally_approved"]
    # A second review of a declaration that is no longer waiting is refused, and stores nothing.
    resp = reviewer.post("/api/v1/submissions", json={"kind": "target_review", "action": "submit", "data": review})
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == {"declaration_id": ["该申报表当前状态为“退回修改”，只能审核已提交的申报表。"]}
    assert len(client.get(f"/api/v1/submissions/{declaration}/reviews").get_json()["reviews"]) == 1


def test_web_import_stores_a_draft_and_opens_it(client):
    payload = load_sample("department_target_declaration")
    resp = client.post("/forms/department_target_declaration/import",
                       data={"file": (io.BytesIO(_xlsx("department_target_declaration", payload)), "表.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302 and "draft=" in resp.headers["Location"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "青溪县农业农村局" in page and "高标准农田建设" in page


def test_form_page_offers_blank_form_import_and_autocomplete(client):
    html = client.get("/forms/target_declaration").get_data(as_text=True)
    assert 'href="/forms/target_declaration/blank.xlsx"' in html
    assert 'action="/forms/target_declaration/import"' in html and 'enctype="multipart/form-data"' in html
    assert 'name="indicators.annual.__index__.name"' in html
    assert 'data-autocomplete="indicator"' in html
    assert 'src="/static/library.js"' in html and 'data-endpoint="/api/v1/library/indicators"' in html
    assert 'data-autocomplete="indicator"' not in client.get("/forms/request").get_data(as_text=True)


def test_web_import_errors_shown_on_the_form_and_kept_in_the_draft(client):
    """Issue 17: a workbook with a wrong figure comes back on the form, the problem named by
    sheet, row, column and field; the data read is saved in the draft being edited."""
    good = pipeline.validate("target_declaration", load_sample("target_declaration", "health_training_2025"))
    book = openpyxl.load_workbook(io.BytesIO(pipeline.render("target_declaration", good, "xlsx")))
    book.active["E12"].value = 9
    out = io.BytesIO()
    book.save(out)
    draft = client.post("/api/v1/submissions", json={"kind": "target_declaration", "data": {"project_name": "旧"}}).get_json()
    resp = client.post("/forms/target_declaration/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(out.getvalue()), "表.xlsx"), "draft": draft["id"]})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "导入的文件中有1处问题" in html
    assert "工作表“项目支出绩效目标申报表”第10行E列（年度资金总额）" in html
    assert f'name="draft" value="{draft["id"]}"' in html
    stored = client.get(f"/api/v1/submissions/{draft['id']}").get_json()
    assert stored["data"]["project_name"] == good["project_name"]  # imported into the same draft
    assert len(client.get("/api/v1/submissions").get_json()) == 1  # no second draft

    resp = client.post("/forms/target_declaration/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(b"not a workbook"), "表.xlsx"), "draft": draft["id"]})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "文件不是有效的 Excel（.xlsx）文件" in html and "<h1>项目支出绩效目标申报表</h1>" in html
    assert "file：" not in html


def test_a_draft_is_deleted_by_its_author(client, app, world):
    from tests.conftest import login

    draft = client.post("/api/v1/submissions", json={"kind": "request", "data": {"title": "草稿一"}}).get_json()
    page = client.get(f"/forms/request?draft={draft['id']}").get_data(as_text=True)
    assert "删除草稿" in page
    other = login(app, world, "clerk_b")
    assert other.post(f"/forms/request/drafts/{draft['id']}/delete").status_code == 404
    resp = client.post(f"/forms/request/drafts/{draft['id']}/delete")
    assert resp.status_code == 302
    assert client.get(f"/api/v1/submissions/{draft['id']}").status_code == 404
    assert all(s["id"] != draft["id"] for s in client.get("/api/v1/submissions").get_json())
    submitted = client.post("/api/v1/submissions", json={"kind": "request", "data": load_sample("request"),
                                                         "action": "submit"}).get_json()
    assert client.post(f"/forms/request/drafts/{submitted['id']}/delete").status_code == 409


def test_returned_form_shows_the_reviewers_comment_with_its_line_breaks(client, app, world):
    from tests.conftest import login

    sub = client.post("/api/v1/submissions", json={"kind": "request", "data": load_sample("request"),
                                                   "action": "submit"}).get_json()
    bureau = login(app, world, "bureau")
    comment = "一、标题请改为请示。\n二、补充附件。"
    assert bureau.post(f"/api/v1/submissions/{sub['id']}/review",
                       json={"action": "return", "comment": comment}).status_code == 200
    html = client.get(f"/forms/request?draft={sub['id']}").get_data(as_text=True)
    assert "审核意见（退回修改）" in html and comment in html  # white-space: pre-wrap keeps the break
