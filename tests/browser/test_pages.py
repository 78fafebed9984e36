"""Issue 17 acceptance: every page the roles reach, at 1280 px and at 375 px (a phone).

* At 375 px no page is wider than the screen (document.documentElement.scrollWidth <=
  innerWidth), and no button's label wraps onto a second line.
* axe-core (npm, package-lock.json at the repository root; the set-up script runs npm ci) is
  injected into each page: no serious or critical violation.
* Every page is screenshotted at both widths into one directory (JXDOC_SCREENSHOTS, or the
  test's tmp_path) to be looked at.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import kinds
from tests.conftest import load_sample

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 375)


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run the set-up script (npm ci installs axe-core from package-lock.json)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def shots(tmp_path) -> Path:
    where = Path(os.environ.get("JXDOC_SCREENSHOTS") or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    return where


def axe_violations(page, source: str) -> list[dict]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(source + "\n;true")  # through DevTools: the pages' CSP rightly forbids inline scripts
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
    }""")
    return result


def wrapped_buttons(page) -> list[str]:
    """Buttons (and button-like links) whose label takes more than one line."""
    return page.evaluate("""() => [...document.querySelectorAll('button, a.button, input[type=submit]')]
        .filter(b => b.offsetParent !== null)
        .filter(b => {
            const style = getComputedStyle(b), line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.4;
            const inner = b.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
            return inner > line * 1.6;
        }).map(b => b.textContent.trim())""")


def check_page(page, path: str, name: str, axe_source: str, shots: Path, problems: list[str]) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        response = page.goto(path)
        assert response.status < 400 or response.status == 422, (path, response.status)
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
        if width == 375:
            sizes = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            if sizes[0] > sizes[1]:
                wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                    .slice(0, 5).map(e => e.tagName + '.' + e.className)""")
                problems.append(f"{path} @375: scrollWidth {sizes[0]} > {sizes[1]} ({wide})")
            wrapped = wrapped_buttons(page)
            if wrapped:
                problems.append(f"{path} @375: buttons wrap: {wrapped}")
        violations = axe_violations(page, axe_source)
        if violations:
            problems.append(f"{path} @{width}: axe {json.dumps(violations, ensure_ascii=False)}")


def _stored(page, kind_id: str, action: str = "submit") -> str:
    """A document stored through the API with the page's own session and CSRF token."""
    page.goto("/")
    token = page.get_attribute('meta[name="csrf-token"]', "content")
    response = page.context.request.post("/api/v1/submissions", headers={"X-CSRFToken": token},
                                         data={"kind": kind_id, "data": load_sample(kind_id), "action": action})
    assert response.status == 201, response.text()
    return response.json()["id"]


def _api(page, method: str, path: str, data: dict) -> dict:
    page.goto("/")
    token = page.get_attribute('meta[name="csrf-token"]', "content")
    response = page.context.request.fetch(path, method=method, headers={"X-CSRFToken": token}, data=data)
    assert response.status < 300, response.text()
    return response.json()


def _resubmitted(clerk, bureau) -> str:
    """A declaration returned by the bureau, changed in two fields and submitted again: its page
    lists the changes (退回后修改的内容)."""
    data = load_sample("target_declaration")
    pid = _api(clerk, "POST", "/api/v1/submissions", {"kind": "target_declaration", "data": data, "action": "submit"})["id"]
    version = _api(bureau, "POST", f"/api/v1/submissions/{pid}/review", {"action": "return", "comment": "请核对。"})["version"]
    data["project_lead"] = "王晓红"
    data["indicators"]["midterm"][0]["name"] = "每公里安保工程综合造价（含设计、监理等全部费用）"
    _api(clerk, "PUT", f"/api/v1/submissions/{pid}", {"data": data, "action": "submit", "version": version})
    return pid


def test_every_page_fits_a_phone_and_passes_axe(actor, live_server, axe_source, shots):
    problems: list[str] = []
    anonymous = actor("clerk_b")
    anonymous.context.clear_cookies()
    check_page(anonymous, "/login", "login", axe_source, shots, problems)

    clerk = actor("clerk_a")
    submitted = _stored(clerk, "target_declaration")
    draft = _stored(clerk, "monitoring", "save")
    pages = [("/", "clerk-home"), ("/submissions", "clerk-documents"), (f"/submissions/{submitted}", "clerk-submission"),
             ("/account", "clerk-account"), (f"/forms/monitoring?draft={draft}", "clerk-draft")]
    pages += [(f"/forms/{k.id}?sample=1", f"form-{k.id}") for k in kinds.all_kinds()]
    for path, name in pages:
        check_page(clerk, path, name, axe_source, shots, problems)

    # A refused form: the error summary and the fields in red, on a phone too.
    clerk.set_viewport_size({"width": 375, "height": 800})
    clerk.goto("/forms/target_declaration?sample=1")
    clerk.locator("#f-project_name").fill("")
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="提交", exact=True).click()
    summary = clerk.locator("#error-summary")
    assert summary.is_visible() and clerk.evaluate("() => document.activeElement.id") == "error-summary"
    assert "项目名称：不能为空。" in summary.inner_text()
    clerk.screenshot(path=str(shots / "form-errors-375.png"), full_page=False)
    if not clerk.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"):
        problems.append("refused form @375: wider than the screen")
    violations = axe_violations(clerk, axe_source)
    if violations:
        problems.append(f"refused form @375: axe {json.dumps(violations, ensure_ascii=False)}")

    bureau = actor("bureau")
    resubmitted = _resubmitted(clerk, bureau)
    for path, name in [("/", "bureau-home"), ("/submissions", "bureau-queue"), (f"/submissions/{submitted}", "bureau-review"),
                       (f"/submissions/{resubmitted}", "bureau-resubmitted"),
                       ("/statistics", "bureau-statistics"), ("/batches", "bureau-batches")]:
        check_page(bureau, path, name, axe_source, shots, problems)

    admin = actor("admin")
    for path in ("/admin/", "/admin/users", "/admin/units", "/admin/audit", "/admin/settings", "/admin/templates"):
        check_page(admin, path, "admin-" + (re.sub(r"\W+", "-", path.strip("/")) or "home"), axe_source, shots, problems)

    assert not problems, "\n".join(problems)
    for page in (clerk, bureau, admin):
        page.js_errors = [e for e in page.js_errors if "status of 422" not in e["text"]]
        assert page.js_errors == [], page.js_errors


def test_indicator_autocomplete_is_an_aria_combobox(actor, axe_source):
    """The 指标库 suggestions follow the WAI-ARIA combobox pattern: the input says it is a
    combobox and whether its list is open, which list it controls and which option the arrows
    highlight; Enter fills the row; axe finds nothing serious with the list open."""
    clerk = actor("clerk_a")
    clerk.goto("/forms/target_declaration")
    annual = clerk.locator('fieldset[data-path="indicators.annual"]')
    annual.locator(":scope > button.add-row").click()
    name = annual.locator('input[data-autocomplete="indicator"]').last
    assert name.get_attribute("role") == "combobox" and name.get_attribute("aria-expanded") == "false"
    name.press_sequentially("培训班")
    listbox = clerk.locator("ul.suggestions[role=listbox]")
    listbox.wait_for()
    assert name.get_attribute("aria-expanded") == "true"
    assert name.get_attribute("aria-controls") == listbox.get_attribute("id")
    assert "条指标库建议" in clerk.locator("[role=status]").inner_text()
    name.press("ArrowDown")
    first = listbox.locator("[role=option]").first
    assert name.get_attribute("aria-activedescendant") == first.get_attribute("id")
    assert first.get_attribute("aria-selected") == "true"
    violations = axe_violations(clerk, axe_source)
    assert not violations, violations
    picked = first.locator("strong").inner_text()
    name.press("Enter")
    assert name.input_value() == picked
    assert name.get_attribute("aria-expanded") == "false" and name.get_attribute("aria-activedescendant") is None
    assert clerk.js_errors == [], clerk.js_errors


def test_phone_action_bar_is_one_row_and_its_downloads_open_above_it(actor, shots):
    """On a phone the form's sticky bar keeps to one row (the formats fold into a 下载 menu that
    opens above the bar, inside the screen); on a wide screen every format is a button in the bar.
    The 审核 card's buttons stay under its comment box, not over it."""
    clerk = actor("clerk_a")
    clerk.set_viewport_size({"width": 375, "height": 800})
    clerk.goto("/forms/target_declaration?sample=1")
    bar = clerk.locator(".buttons.sticky")
    box = bar.bounding_box()
    button = clerk.get_by_role("button", name="保存草稿", exact=True).bounding_box()
    assert box["height"] < button["height"] * 2, (box, button)  # one row, with its padding
    download = clerk.get_by_role("button", name="下载 DOCX", exact=True)
    assert not download.is_visible()
    clerk.locator("details.downloads > summary").click()
    assert download.is_visible()
    clerk.screenshot(path=str(shots / "form-downloads-375.png"))
    menu = clerk.locator(".download-menu").bounding_box()
    assert menu["y"] >= 0 and menu["y"] + menu["height"] <= bar.bounding_box()["y"] + 1, (menu, box)
    assert menu["x"] >= 0 and menu["x"] + menu["width"] <= 375
    with clerk.expect_download() as info:
        download.click()
    assert info.value.suggested_filename.endswith(".docx")

    clerk.set_viewport_size({"width": 1280, "height": 800})
    clerk.goto("/forms/target_declaration?sample=1")
    assert not clerk.locator("details.downloads > summary").is_visible()
    for fmt in kinds.get("target_declaration").formats:
        assert clerk.get_by_role("button", name=f"下载 {fmt.upper()}", exact=True).is_visible(), fmt

    submitted = _stored(clerk, "target_declaration")
    bureau = actor("bureau")
    for width in WIDTHS:
        bureau.set_viewport_size({"width": width, "height": 800})
        bureau.goto(f"/submissions/{submitted}")
        # The comment box at the foot of the screen: a sticky bar would sit on top of it there.
        bureau.evaluate("() => document.getElementById('comment').scrollIntoView({block: 'end'})")
        bureau.screenshot(path=str(shots / f"review-card-{width}.png"))
        comment = bureau.locator("#comment").bounding_box()
        approve = bureau.get_by_role("button", name="审核通过", exact=True).bounding_box()
        assert approve["y"] >= comment["y"] + comment["height"], (width, comment, approve)
