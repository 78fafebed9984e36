"""Issue 9.2: characters XML 1.0 cannot carry — C0 controls, U+FFFE/U+FFFF, lone surrogates — in
JSON, form posts and xlsx cells are refused with 422/400 naming the field, and nothing is stored.

(docxtpl's recovering parser would silently drop the rest of a body after one such character;
here they never reach a renderer or the database.)
"""

from __future__ import annotations

import io
import json
import zipfile

import openpyxl
import pytest
from werkzeug.datastructures import MultiDict

from kinds import pipeline
from tests.conftest import load_sample

MESSAGE = "含有不能写入文档的字符（U+{code}，控制字符或无效字符），请删除后重新输入。"
# As JSON escapes, so that lone surrogates survive the trip (json.dumps would refuse nothing,
# but a Python str with a lone surrogate cannot be encoded for the test client).
ILLEGAL = {"0000": "\\u0000", "0001": "\\u0001", "000B": "\\u000b", "001F": "\\u001f", "FFFE": "\\ufffe",
           "FFFF": "\\uffff", "D800": "\\ud800", "DFFF": "\\udfff"}


def _stored(app) -> int:
    from storage.models import Submission

    with app.extensions["jxdoc.db"].read() as session:
        return session.query(Submission).count()


def _with_escape(document: dict, field: str, escape: str) -> str:
    """`document` as JSON with `escape` spliced into the string value of `field`."""
    raw = json.dumps(document, ensure_ascii=True)
    marker = f'"{field}": "'
    assert marker in raw
    return raw.replace(marker, marker + "前" + escape, 1)


@pytest.mark.parametrize("code", sorted(ILLEGAL))
def test_json_documents_name_the_field(client, app, code):
    raw = _with_escape(load_sample("request"), "title", ILLEGAL[code])
    resp = client.post("/api/v1/documents/request?format=docx", data=raw, content_type="application/json")
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == {"title": [MESSAGE.format(code=code)]}
    assert _stored(app) == 0


@pytest.mark.parametrize("action", ["save", "submit"])
@pytest.mark.parametrize("code", ["0001", "FFFF", "D800"])
def test_json_submissions_store_nothing(client, app, action, code):
    """Even a draft, which is kept as typed, is refused: it could never be rendered."""
    envelope = {"kind": "notice", "action": action, "data": load_sample("notice")}
    raw = _with_escape(envelope, "title", ILLEGAL[code])
    resp = client.post("/api/v1/submissions", data=raw, content_type="application/json")
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == {"title": [MESSAGE.format(code=code)]}
    assert _stored(app) == 0


def test_an_update_with_an_illegal_character_keeps_the_stored_draft(client, app):
    created = client.post("/api/v1/submissions", json={"kind": "notice", "action": "save",
                                                       "data": load_sample("notice")})
    assert created.status_code == 201, created.get_json()
    public_id = created.get_json()["id"]
    raw = _with_escape({"action": "save", "version": 1, "data": load_sample("notice")}, "title", ILLEGAL["000B"])
    resp = client.put(f"/api/v1/submissions/{public_id}", data=raw, content_type="application/json")
    assert resp.status_code == 422 and resp.get_json()["errors"] == {"title": [MESSAGE.format(code="000B")]}
    again = client.get(f"/api/v1/submissions/{public_id}").get_json()
    assert again["data"]["title"] == load_sample("notice")["title"]


def _form_pairs(payload: dict) -> list[tuple[str, str]]:
    from tests.service.test_web import _form_pairs

    return _form_pairs(payload)


@pytest.mark.parametrize("action", ["save", "submit", "docx"])
@pytest.mark.parametrize("char", ["\x01", "\x0b", "\x1f", "\ufffe", "\uffff"])
def test_form_posts_show_the_error_beside_the_field(client, app, action, char):
    payload = load_sample("request")
    payload["title"] = "关于" + char + "的请示"
    resp = client.post("/forms/request", data=MultiDict(_form_pairs(payload) + [("action", action)]))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    code = f"{ord(char):04X}"
    block = html[html.index('<label for="f-title">'):]
    block = block[:block.index("</div>")]
    assert MESSAGE.format(code=code) in block
    assert _stored(app) == 0


def _xlsx_with(text_marker: str, escape: str) -> bytes:
    """The target declaration sample as its own xlsx, with `escape` (an OOXML `_xHHHH_` escape,
    how a spreadsheet stores a control character) in the project-name cell."""
    payload = load_sample("target_declaration", "health_training_2025")
    content = pipeline.produce("target_declaration", payload, "xlsx").content
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book.active
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == payload["project_name"])
    cell.value = text_marker
    buf = io.BytesIO()
    book.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if text_marker.encode() in data:
                data = data.replace(text_marker.encode(), ("项目" + escape).encode())
            dst.writestr(info, data)
    return out.getvalue()


@pytest.mark.parametrize(("escape", "code"), [("_x0001_", "0001"), ("_x001F_", "001F"), ("_xFFFE_", "FFFE")])
def test_xlsx_cells_name_sheet_row_and_column(client, app, escape, code):
    data = _xlsx_with("PROJECTNAMEMARK", escape)
    resp = client.post("/api/v1/forms/target_declaration/import", data=data, content_type="application/octet-stream")
    assert resp.status_code in (400, 422)
    body = resp.get_json()
    messages = [m for ms in body["errors"].values() for m in ms]
    assert any("工作表“项目支出绩效目标申报表”" in m and f"U+{code}" in m for m in messages), body
    # the web import stores a draft only when the file can be read: this one cannot
    resp = client.post("/forms/target_declaration/import",
                       data={"file": (io.BytesIO(data), "申报表.xlsx")}, content_type="multipart/form-data")
    assert resp.status_code in (400, 422)
    assert _stored(app) == 0


@pytest.mark.parametrize(("stored", "typed"), [
    ("项目_x0001_", "项目\x01"), ("_x005F_x0041_", "_x0041_"), ("a_x000D__x000A_b", "a\r\nb"),
    ("_x4E2D_文", "中文"), ("no escape_x12_", "no escape_x12_"), ("", ""),
])
def test_excel_string_escapes_decode_as_excel_does(stored, typed):
    from generators.tables.reader import unescape_xstring

    assert unescape_xstring(stored) == typed
