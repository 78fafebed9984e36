"""Issue 16, findings 8, 15 and 16: bodies built to make the answer (not the work) expensive, and
names built to mislead whoever saves a file.

8.  a body of thousands of illegal characters answered with every error: the envelope keeps the
    first 100 and says how many there were;
15. JSON nested thousands deep answered 500 (RecursionError): now a 400 in the JSON envelope;
16. bidi controls (U+202E) and Windows device names (AUX, COM1) in download and zip member names.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import load_sample

# ----------------------------------------------------------------------------- 8: capped errors


def test_thousands_of_errors_answer_the_first_hundred_and_a_count(client):
    data = {"items": ["坏\u0001"] * 20_000}
    resp = client.post("/api/v1/submissions", json={"kind": "notice", "action": "save", "data": data})
    assert resp.status_code == 422
    body = resp.get_json()
    assert len(body["errors"]) == 100
    assert body["error_count"] == 20_000
    assert list(body["errors"])[:2] == ["items.0", "items.1"]
    assert "20000" in body["message"] and "100" in body["message"]
    assert len(resp.data) < 32_000


def test_a_few_errors_come_whole_with_their_count(client):
    resp = client.post("/api/v1/submissions", json={"kind": "notice", "action": "save",
                                                     "data": {"title": "甲\u0001", "body": "乙\u0002"}})
    body = resp.get_json()
    assert resp.status_code == 422
    assert set(body["errors"]) == {"title", "body"} and body["error_count"] == 2
    assert body["message"] == "提交的内容有误，请按提示修改。"


def test_many_messages_under_one_field_are_capped_too():
    from service.errors import cap_errors

    errors, total = cap_errors({"a": ["x"] * 150, "b": ["y"] * 3})
    assert total == 153
    assert sum(len(v) for v in errors.values()) == 100 and errors["a"] == ["x"] * 100 and "b" not in errors


# ----------------------------------------------------------------------------- 15: nesting depth


def _nested(depth: int) -> str:
    return '{"kind": "notice", "action": "save", "data": {"x": ' + "[" * depth + "]" * depth + "}}"


@pytest.mark.parametrize("depth", [5_000, 200])
def test_deep_json_is_a_clear_400_not_a_crash(client, app, depth):
    resp = client.post("/api/v1/submissions", data=_nested(depth), content_type="application/json")
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["code"] == 400 and "嵌套" in body["message"] and "64" in body["message"]
    from storage.models import Submission

    with app.extensions["jxdoc.db"].read() as session:
        assert session.query(Submission).count() == 0


def test_deep_json_on_every_json_endpoint(client, bureau_client):
    for c, path in ((client, "/api/v1/documents/notice"), (client, "/api/v1/documents/notice/validate"),
                    (bureau_client, "/api/v1/drafts/summary")):
        resp = c.post(path, data=_nested(3_000), content_type="application/json")
        assert resp.status_code == 400, path
        assert "嵌套" in resp.get_json()["message"]


def test_ordinary_nesting_still_works(client):
    resp = client.post("/api/v1/submissions", data=_nested(40), content_type="application/json")
    assert resp.status_code == 201


# ----------------------------------------------------------------------------- 16: file names

RLO = "\u202e"


@pytest.mark.parametrize("raw,expected", [
    (f"报告{RLO}fdp.exe", "报告fdp.exe.docx"),
    ("AUX", "_AUX.docx"),
    ("com1", "_com1.docx"),
    ("LPT9.tar", "_LPT9.tar.docx"),
    ("NUL ", "_NUL.docx"),
    ("\u2066隔离\u2069\u200f名\u061c", "隔离名.docx"),
    ("AUXILIARY", "AUXILIARY.docx"),
])
def test_safe_filename_drops_bidi_and_guards_device_names(raw, expected):
    from kinds.pipeline import safe_filename

    assert safe_filename(raw, "docx") == expected


def test_download_header_carries_no_bidi_control(client):
    payload = load_sample("notice")
    payload["title"] = f"关于开展{RLO}exe.绩效自评的通知"
    resp = client.post("/api/v1/documents/notice?format=docx", json=payload)
    assert resp.status_code == 200
    header = resp.headers["Content-Disposition"]
    assert "%E2%80%AE" not in header and RLO not in header
    assert "%E5%85%B3%E4%BA%8E%E5%BC%80%E5%B1%95exe." in header  # 关于开展exe.


def test_disclosure_zip_member_names_are_sanitised():
    from generators.disclosure import file_stem

    assert file_stem({"unit": f"第一中学{RLO}fdp", "unit_code": ""}) == "第一中学fdp"
    assert file_stem({"unit": "CON", "unit_code": ""}) == "_CON"
    assert RLO not in file_stem({"unit": "甲", "unit_code": f"1{RLO}2"})


def test_batch_output_names_are_sanitised():
    from jobs.importer import unique_output_name

    taken: set[str] = set()
    assert unique_output_name(f"PRN{RLO}", taken) == "_PRN.xlsx"


def test_json_round_trip_helper():
    # The deep-body builder really is JSON (so the 400 above is about depth, not syntax).
    assert json.loads(_nested(10))["data"]["x"] == [[[[[[[[[[]]]]]]]]]]


def test_deep_json_in_an_uploaded_disclosure_file_is_an_error_line():
    from jobs.batchkinds.disclosure import load_json

    value, errors = load_json(("[" * 5_000 + "]" * 5_000).encode())
    assert value is None and errors == ["JSON内容嵌套过深：对象和数组最多嵌套64层。"]
