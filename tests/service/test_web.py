"""The HTML pages: index, forms with Chinese labels, errors beside fields, CSRF, drafts."""

from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

import kinds
from tests.conftest import load_sample, login


@pytest.fixture
def csrf_client(app, world):
    app.config["WTF_CSRF_ENABLED"] = True
    return login(app, world, "clerk_a")


def _token(client, url):
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _form_pairs(payload: dict, prefix: str = "") -> list[tuple[str, str]]:
    pairs = []
    for key, value in payload.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            pairs += _form_pairs(value, name + ".")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    pairs += _form_pairs(item, f"{name}.{i}.")
                else:
                    pairs.append((f"{name}.{i}", str(item)))
        elif isinstance(value, bool):
            pairs += [(name, "false")] + ([(name, "true")] if value else [])
        else:
            pairs.append((name, str(value)))
    return pairs


def test_index_lists_kinds_by_group(client):
    html = client.get("/").get_data(as_text=True)
    for kind in kinds.all_kinds():
        assert f'href="/forms/{kind.id}"' in html and kind.name in html
    assert "<h2>公文</h2>" in html


def test_form_has_chinese_labels_and_repeatable_groups(client):
    html = client.get("/forms/request").get_data(as_text=True)
    for label in ("发文机关", "发文字号", "签发人", "主送机关", "标题", "正文", "附件", "成文日期", "附注", "抄送机关", "印发机关"):
        assert label in html, label
    assert 'class="add-item" data-name="addressees"' in html
    assert 'name="attachments.__index__.name"' in html  # the row template for “添加附件”
    assert 'name="csrf_token"' in html


def test_post_with_errors_shows_them_beside_fields(client):
    payload = load_sample("request")
    payload["doc_number"] = "青财绩〔2024〕第3号"
    payload["date"] = "2024年07月01日"
    resp = client.post("/forms/request", data=MultiDict(_form_pairs(payload) + [("action", "docx")]))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    block = re.search(r'<div class="field text has-error">\s*<label for="f-doc_number">.*?</div>', html, re.S).group(0)
    assert "发文字号的序号前不加“第”：例如“青财绩〔2024〕3号”。" in block
    block = re.search(r'<div class="field date has-error">\s*<label for="f-date">.*?</div>', html, re.S).group(0)
    assert "日期不要补零：请写成“2024年7月1日”。" in block
    assert 'value="青财绩〔2024〕第3号"' in html  # what the clerk typed is kept


def test_post_valid_form_downloads_docx(client):
    payload = load_sample("request")
    resp = client.post("/forms/request", data=MultiDict(_form_pairs(payload) + [("action", "docx")]))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.data[:2] == b"PK"
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]


def test_form_offers_and_downloads_ofd(client):
    """The 下载 OFD button of a kind that renders a PDF gives the OFD package of the form's data."""
    import ofdkit

    html = client.get("/forms/request").get_data(as_text=True)
    assert re.search(r'<button type="submit" name="action" value="ofd"[^>]*>下载 OFD</button>', html)
    payload = load_sample("request")
    resp = client.post("/forms/request", data=MultiDict(_form_pairs(payload) + [("action", "ofd")]))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/ofd" and "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    with ofdkit.open(resp.data) as document:
        assert document.info.custom_data["发文字号"] == payload["doc_number"]
        assert payload["doc_number"] in document.pages[0].text()


def test_form_without_csrf_token_is_refused(csrf_client):
    resp = csrf_client.post("/forms/request", data={"title": "x", "action": "save"})
    assert resp.status_code == 400
    assert "CSRF" in resp.get_data(as_text=True)


def test_save_draft_and_reopen(csrf_client):
    token = _token(csrf_client, "/forms/notice")
    resp = csrf_client.post("/forms/notice", data={"csrf_token": token, "title": "关于半成品的通知", "action": "save"})
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert "draft=" in location and "saved=save" in location
    html = csrf_client.get(location).get_data(as_text=True)
    assert "草稿已保存。" in html and '<textarea id="f-title" name="title" rows="3">关于半成品的通知' in html


def test_unknown_kind_page_is_404_in_chinese(client):
    resp = client.get("/forms/nonsense")
    assert resp.status_code == 404
    assert "没有“nonsense”这种文档" in resp.get_data(as_text=True)


def test_a_reopened_draft_submits_with_the_page_controls(csrf_client, app):
    """The page's own inputs (csrf_token, action, draft, version) are never read as fields of the
    document: a draft reopened from its page submits like a new form."""
    from storage.models import Submission

    token = _token(csrf_client, "/forms/request")
    pairs = _form_pairs(load_sample("request"))
    resp = csrf_client.post("/forms/request", data=MultiDict(pairs + [("csrf_token", token), ("action", "save")]))
    assert resp.status_code == 302
    draft = re.search(r"draft=([^&]+)", resp.headers["Location"]).group(1)
    page = csrf_client.get(f"/forms/request?draft={draft}").get_data(as_text=True)
    assert f'name="draft" value="{draft}"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    version = re.search(r'name="version" value="([^"]+)"', page).group(1)
    resp = csrf_client.post("/forms/request", data=MultiDict(
        pairs + [("csrf_token", token), ("draft", draft), ("version", version), ("action", "submit")]))
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]
    assert resp.headers["Location"].endswith(f"/submissions/{draft}")
    with app.extensions["jxdoc.db"].read() as session:
        (sub,) = session.query(Submission).all()
        assert (sub.public_id, sub.status) == (draft, "submitted")


def test_a_new_form_starts_with_the_clerks_unit_and_the_year(client):
    import datetime as _dt

    html = client.get("/forms/target_declaration").get_data(as_text=True)
    year = _dt.date.today().year
    assert f'name="year" value="{year + 1}"' in html  # next year's budget is declared
    assert 'name="department" value="县教育局"' in html  # the unit's 主管部门
    assert 'name="implementing_unit" value="青溪县第一中学"' in html
    html = client.get("/forms/monitoring").get_data(as_text=True)
    assert 'name="unit.code" value="A001"' in html and 'name="unit.name" value="青溪县第一中学"' in html
    assert f'name="year" value="{year}"' in html


def test_declaration_form_offers_the_blank_workbooks_lists(client):
    """The same drop-down lists as the blank xlsx: offered while typing (datalists) where the
    schema takes free text (一级/二级指标, 度量单位), selects where it takes only the list's values
    (项目属性, 指标性质)."""
    from generators.declaration import validation_lists
    from rules.settings import defaults

    html = client.get("/forms/target_declaration").get_data(as_text=True)
    lists = validation_lists("", defaults())
    for name in ("level1", "level2", "measure_unit"):
        assert f'<datalist id="suggest-{name}">' in html, name
        for item in lists[name][:3]:
            assert f'<option value="{item}"></option>' in html, (name, item)
    assert 'name="indicators.annual.__index__.level1" value="" list="suggest-level1"' in html
    for name in ("operator", "project_attribute"):
        assert f'<datalist id="suggest-{name}">' not in html and f'list="suggest-{name}"' not in html
    assert _options(html, "project_attribute") == [("", "（未选择）")] + [(v, v) for v in lists["project_attribute"]]
    assert _options(html, "indicators.annual.__index__.operator") == [("", "（未选择）")] + [(v, v) for v in lists["operator"]]


def _options(html: str, name: str) -> list[tuple[str, str]]:
    select = re.search(rf'<select id="[^"]*" name="{re.escape(name)}">(.*?)</select>', html, re.S)
    assert select, name
    from html import unescape

    return [(unescape(v), unescape(t)) for v, t in
            re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))]


def test_fixed_lists_keep_a_stored_value_and_refuse_others(client, app, world):
    """A stored value not in the list (an API's “>=”, a 项目属性 of older settings) stays the
    selected option; the schema refuses a 项目属性 outside the list, naming the field."""
    from storage.models import Submission, dumps

    data = load_sample("target_declaration")
    data["indicators"]["annual"][0]["operator"] = ">="
    clerk = login(app, world, "clerk_a")
    pid = clerk.post("/api/v1/submissions", json={"kind": "target_declaration", "data": data}).get_json()["id"]
    with app.extensions["jxdoc.db"].write() as session:  # as stored under a list that has changed since
        sub = session.query(Submission).filter_by(public_id=pid).one()
        sub.data_json = dumps({**sub.data, "project_attribute": "跨年项目"})
    html = clerk.get(f"/forms/target_declaration?draft={pid}").get_data(as_text=True)
    assert _options(html, "project_attribute")[-1] == ("跨年项目", "跨年项目")
    assert '<option value="跨年项目" selected>' in html
    assert _options(html, "indicators.annual.0.operator")[-1] == (">=", ">=")
    assert '<option value="&gt;=" selected>' in html
    resp = clerk.post("/api/v1/submissions", json={"kind": "target_declaration",
                                                   "data": {**data, "project_attribute": "跨年项目"}, "action": "submit"})
    assert resp.status_code == 422
    assert resp.get_json()["errors"]["project_attribute"] == [
        "项目属性应为新增项目、延续项目、经常性项目或一次性项目，不是“跨年项目”：请从列表中选择。"]


def test_an_unfinished_draft_lists_what_it_lacks_instead_of_a_preview(client):
    draft = client.post("/api/v1/submissions", json={"kind": "target_declaration",
                                                    "data": {"project_name": "未完成的项目"}}).get_json()
    html = client.get(f"/submissions/{draft['id']}").get_data(as_text=True)
    assert "尚未填写完整" in html and "<iframe" not in html
    assert "项目属性：" in html and "年度：" in html
    assert "midterm_funds.total" not in html and "annual_funds" not in html
