"""Settings pages: the 红头 and the rules, stored in the database, validated by
rules.settings.load_settings with Chinese errors beside the fields, applied everywhere."""

from __future__ import annotations

import html as _html
import re

from tests.conftest import login


def _fields(page_html: str) -> dict[str, str]:
    """The values a browser would post from a settings page."""
    out = {}
    for name, value in re.findall(r'<input type="text" id="[^"]+" name="([^"]+)" value="([^"]*)"', page_html):
        out[name] = _html.unescape(value)
    for name, value in re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', page_html, re.S):
        out[name] = _html.unescape(value)
    for name in re.findall(r'<input type="checkbox" id="[^"]+" name="([^"]+)" value="true" checked>', page_html):
        out[name] = "true"
    return out


def _block(page_html: str, field_id: str) -> str:
    return re.search(rf'<label for="{field_id}">.*?</div>', page_html, re.S).group(0)


def test_letterhead_saved_validated_and_applied(app, world):
    admin = login(app, world, "admin")
    page = admin.get("/admin/settings/letterhead").get_data(as_text=True)
    for label in ("发文机关名称", "机关代字", "红色（红头、分隔线，十六进制RGB）", "标题字体（小标宋）"):
        assert label in page
    form = _fields(page)
    assert form["layout.colors.red"] == "FF0000"
    form.update({"letterhead.issuer": "青溪县财政局", "letterhead.issuer_code": "青财〔2024〕",
                 "layout.colors.red": "红色"})
    resp = admin.post("/admin/settings/letterhead", data={**form, "action": "save"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "设置有误，未保存。" in page
    assert "机关代字只写代字本身" in _block(page, "s-letterhead_issuer_code")
    assert "颜色应写成6位十六进制RGB" in _block(page, "s-layout_colors_red")
    assert 'value="青溪县财政局"' in page  # what was typed is kept
    form.update({"letterhead.issuer_code": "青财绩", "layout.colors.red": "E60012"})
    assert admin.post("/admin/settings/letterhead", data={**form, "action": "save"}).status_code == 302
    with app.app_context():
        from service.settings_store import current_settings

        settings = current_settings()
        assert settings["letterhead"]["issuer"] == "青溪县财政局"
        assert settings["layout"]["colors"]["red"] == "E60012"
    # a new 请示 starts with the bureau's name
    assert 'value="青溪县财政局"' in login(app, world, "clerk_a").get("/forms/request").get_data(as_text=True)
    # another worker (another app on the same database) sees it from its next request
    from service import create_app

    other = create_app({k: app.config[k] for k in ("DATABASE_URL", "DATA_DIR", "SECRET_KEY", "TESTING")})
    with other.app_context():
        from service.settings_store import current_settings

        assert current_settings()["layout"]["colors"]["red"] == "E60012"
    other.extensions["jxdoc.db"].dispose()
    assert admin.post("/admin/settings/letterhead", data={"action": "reset"}).status_code == 302
    with app.test_request_context():
        from service.settings_store import current_settings

        assert current_settings()["layout"]["colors"]["red"] == "FF0000"


def test_rule_weights_errors_beside_the_field(app, world):
    admin = login(app, world, "admin")
    form = _fields(admin.get("/admin/settings/scoring").get_data(as_text=True))
    form["scoring.weights.output"] = "60"
    form["scoring.execution.explain_below_percent"] = "abc"
    resp = admin.post("/admin/settings/scoring", data={**form, "action": "save"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "应为数字。" in _block(page, "s-scoring_execution_explain_below_percent")
    form["scoring.execution.explain_below_percent"] = "90"
    resp = admin.post("/admin/settings/scoring", data={**form, "action": "save"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    block = _block(page, "s-scoring_weights_execution")
    assert "weights：" in block and "100" in block
    form["scoring.weights.output"] = "40"
    form["scoring.weights.benefit"] = "40"
    assert admin.post("/admin/settings/scoring", data={**form, "action": "save"}).status_code == 302
    with app.test_request_context():
        from service.settings_store import current_settings

        assert current_settings()["scoring"]["weights"]["benefit"] == 40


def test_every_settings_page_round_trips_unchanged(app, world):
    """Posting a page back as shown keeps every setting exactly as it was."""
    from service.settings_store import PAGES

    admin = login(app, world, "admin")
    with app.test_request_context():
        from rules.settings import thaw
        from service.settings_store import current_settings

        before = thaw(current_settings())
    for page in PAGES:
        form = _fields(admin.get(f"/admin/settings/{page}").get_data(as_text=True))
        resp = admin.post(f"/admin/settings/{page}", data={**form, "action": "save"})
        assert resp.status_code == 302, (page, re.findall(r'class="field-error"[^>]*>([^<]+)', resp.get_data(as_text=True)))
    with app.test_request_context():
        from service.settings_store import current_settings

        assert thaw(current_settings()) == before


def test_settings_changes_are_audited(app, world):
    admin = login(app, world, "admin")
    form = _fields(admin.get("/admin/settings/official").get_data(as_text=True))
    admin.post("/admin/settings/official", data={**form, "action": "save"})
    assert "保存设置" in admin.get("/admin/audit").get_data(as_text=True)


def test_page_number_indent_character_chosen_on_the_layout_page(app, world):
    """What “空一字” counts (7.5 leaves it open) is a layout setting: a wrong value is refused beside
    its field, “number” (四号) is saved and moves the number in the PDF to 14 pt from the edge."""
    admin = login(app, world, "admin")
    page = admin.get("/admin/settings/layout").get_data(as_text=True)
    assert "页码缩进的“字”" in page
    form = _fields(page)
    assert form["layout.page_number.indent_char"] == "body"
    resp = admin.post("/admin/settings/layout", data={**form, "layout.page_number.indent_char": "三号", "action": "save"})
    assert resp.status_code == 422
    assert "body（正文的三号字" in _block(resp.get_data(as_text=True), "s-layout_page_number_indent_char")
    form["layout.page_number.indent_char"] = "number"
    assert admin.post("/admin/settings/layout", data={**form, "action": "save"}).status_code == 302
    with app.test_request_context():
        from generators.gongwen.geometry import page_number_indent
        from service.settings_store import current_settings

        assert page_number_indent(current_settings()["layout"]).pt == 14
