"""The JSON API: kinds, documents, the error envelope, the OpenAPI document, submissions."""

from __future__ import annotations

import io
import json
import zipfile
from urllib.parse import unquote

import pytest

import kinds
from tests.conftest import load_sample

OFFICIAL = ["request", "report", "opinion", "notice", "letter"]


def test_kinds_lists_every_registered_kind(client):
    body = client.get("/api/v1/kinds").get_json()
    ids = [k["id"] for k in body]
    assert ids == [k.id for k in kinds.all_kinds()]
    request = next(k for k in body if k["id"] == "request")
    assert request == {"id": "request", "name": "请示", "group": "公文", "formats": ["docx", "pdf", "ofd"],
                       "description": kinds.get("request").description}


def test_unknown_kind_is_404_listing_known(client):
    resp = client.post("/api/v1/documents/nonsense", json={})
    body = resp.get_json()
    assert resp.status_code == 404
    assert set(body) == {"code", "status", "message", "errors", "error_count", "warnings"}
    assert "request" in body["message"] and "没有“nonsense”这种文档" in body["message"]


def test_unknown_format_is_400(client):
    resp = client.post("/api/v1/documents/request?format=odt", json=load_sample("request"))
    assert resp.status_code == 400
    assert resp.get_json()["errors"]["format"] == ["“请示”不能生成 odt 格式，可用的格式：docx、pdf、ofd"]


@pytest.mark.parametrize("kind_id", OFFICIAL)
def test_render_docx_with_chinese_file_name(client, kind_id):
    payload = load_sample(kind_id)
    resp = client.post(f"/api/v1/documents/{kind_id}?format=docx", json=payload)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == kinds.MIME_TYPES["docx"]
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    title = payload["title"].replace("\n", "")
    assert unquote(encoded) == f"{title}.docx"
    with zipfile.ZipFile(io.BytesIO(resp.data)) as zf:
        xml = zf.read("word/document.xml").decode("utf-8")
    assert payload["title"].replace("\n", "")[:8] in xml.replace("</w:t>", "").replace("<w:t>", "") or \
        payload["title"].splitlines()[0][:6] in xml


def test_render_ofd_with_chinese_file_name(client):
    import ofdkit

    payload = load_sample("notice")
    resp = client.post("/api/v1/documents/notice?format=ofd", json=payload)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "application/ofd"
    title = payload["title"].replace("\n", "")
    assert unquote(resp.headers["Content-Disposition"].split("filename*=UTF-8''", 1)[1]) == f"{title}.ofd"
    with ofdkit.open(resp.data) as document:
        assert document.info.title == title and document.info.author == payload["issuer"]
        assert payload["doc_number"] in document.pages[0].text()


def test_422_envelope_names_fields(client):
    payload = load_sample("request")
    payload["doc_number"] = "青财绩[2024]3号"
    payload["addressees"] = ["县委", "县政府"]
    resp = client.post("/api/v1/documents/request?format=docx", json=payload)
    body = resp.get_json()
    assert resp.status_code == 422
    assert body["code"] == 422 and body["status"] == "Unprocessable Entity"
    assert body["message"] == "提交的内容有误，请按提示修改。"
    assert body["errors"]["doc_number"] == ["年份要用六角括号〔〕，不能用[]、（）或【】：例如“青财绩〔2024〕3号”。"]


def test_lone_surrogate_in_json_is_422_naming_the_field(client):
    payload = load_sample("request")
    raw = json.dumps(payload, ensure_ascii=True).replace('"body": "', '"body": "\\ud800', 1)
    resp = client.post("/api/v1/documents/request", data=raw, content_type="application/json")
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == {"body": ["含有不能写入文档的字符（U+D800，控制字符或无效字符），请删除后重新输入。"]}


def test_invalid_json_and_wrong_type(client):
    resp = client.post("/api/v1/documents/request", data="{not json", content_type="application/json")
    assert resp.status_code == 400 and resp.get_json()["message"] == "请求内容不是有效的JSON，请检查格式。"
    resp = client.post("/api/v1/documents/request", data="a=1", content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 415
    resp = client.post("/api/v1/documents/request", json=[1, 2])
    assert resp.status_code == 422 and resp.get_json()["errors"] == {"_schema": ["提交的内容应为一个JSON对象（一组字段）。"]}


def test_oversized_body_is_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    resp = client.post("/api/v1/documents/request", data="x" * 4096, content_type="application/json")
    assert resp.status_code == 413
    assert resp.get_json()["message"] == "上传的内容过大，不能超过1KB。"
    app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024
    resp = client.post("/api/v1/documents/request", data="x" * (21 * 1024 * 1024), content_type="application/json")
    assert resp.status_code == 413 and resp.get_json()["message"] == "上传的内容过大，不能超过20MB。"


def test_validate_returns_normalised_data(client):
    payload = load_sample("request")
    payload["date"] = "2024-7-1"
    resp = client.post("/api/v1/documents/request/validate", json=payload)
    assert resp.status_code == 200
    data = resp.get_json()["data"]
    assert data["date"] == "2024-07-01"
    assert data["direction"] == "upward" and data["imprint"]["printed_on"]
    assert resp.get_json()["computed"] == {}


def test_validate_returns_the_computed_block(client):
    """The figures the README promises beside the data: scores and grade of a 自评表, the rates of
    a 监控表, the totals per scope of a 汇总表, the review's total and grade."""
    body = client.post("/api/v1/documents/self_evaluation/validate", json=load_sample("self_evaluation")).get_json()
    scoring = body["computed"]["scoring"]
    assert scoring["total"] == "95.62" and scoring["grade_label"] == "优"
    assert scoring["budget_rows"]["annual_total"]["execution_rate"].startswith("0.9278")
    assert "scoring" not in body["data"]
    body = client.post("/api/v1/documents/monitoring/validate", json=load_sample("monitoring")).get_json()
    assert body["computed"]["computed"]["execution_rate"].startswith("0.557420")
    body = client.post("/api/v1/documents/monitoring_summary/validate", json=load_sample("monitoring_summary")).get_json()
    assert body["computed"]["computed"]["by_scope"][0]["budget"] == "42948.32"
    body = client.post("/api/v1/documents/target_review/validate", json=load_sample("target_review")).get_json()
    assert body["computed"] == {"total_score": "85.00", "grade": "good", "grade_label": "良",
                                "declaration_status": "returned"}


def test_openapi_is_generated_from_schemas(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for kind in kinds.all_kinds():
        assert f"/api/v1/documents/{kind.id}" in spec["paths"]
    props = spec["components"]["schemas"]["RequestInput"]["properties"]
    assert {"doc_number", "title", "addressees", "body", "date", "signers", "imprint"} <= set(props)
    assert spec["components"]["schemas"]["ErrorEnvelope"]["required"] == ["code", "status", "message", "errors",
                                                                          "error_count", "warnings"]


def test_submission_draft_then_submit(client):
    draft = {"title": "关于未完稿的请示", "body": "写了一半"}
    resp = client.post("/api/v1/submissions", json={"kind": "request", "data": draft})
    assert resp.status_code == 201
    sub = resp.get_json()
    assert sub["status"] == "draft" and sub["data"] == draft and len(sub["id"]) >= 20
    got = client.get(f"/api/v1/submissions/{sub['id']}").get_json()
    assert got["data"] == draft
    full = load_sample("request")
    resp = client.put(f"/api/v1/submissions/{sub['id']}", json={"data": full, "action": "submit", "version": 1})
    assert resp.status_code == 200 and resp.get_json()["status"] == "submitted"
    resp = client.get(f"/api/v1/submissions/{sub['id']}/document?format=docx")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"


def test_submit_invalid_stores_nothing(client):
    bad = load_sample("request")
    bad["date"] = "2024年07月01日"
    resp = client.post("/api/v1/submissions", json={"kind": "request", "data": bad, "action": "submit"})
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == {"date": ["日期不要补零：请写成“2024年7月1日”。"]}
    assert client.get("/api/v1/submissions").get_json() == []


def test_draft_with_control_character_stores_nothing(client):
    resp = client.post("/api/v1/submissions", json={"kind": "request", "data": {"title": "a\u0000b"}})
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == {"title": ["含有不能写入文档的字符（U+0000，控制字符或无效字符），请删除后重新输入。"]}
    assert client.get("/api/v1/submissions").get_json() == []


def test_unknown_submission_is_404(client):
    assert client.get("/api/v1/submissions/does-not-exist").status_code == 404
    assert client.get("/api/v1/submissions/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_security_headers(client):
    resp = client.get("/api/v1/kinds")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["Referrer-Policy"] == "same-origin"
