"""The 统计 page as the bureau sees it when stored documents no longer validate (listed, left
out) and while a year is still being validated (the progress page), at 1280 px and 375 px."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.browser.test_pages import WIDTHS, axe_source, axe_violations, shots  # noqa: F401 - fixtures
from tests.conftest import load_sample

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]


def _submit(page, kind_id: str, **changes) -> None:
    page.goto("/")
    token = page.get_attribute('meta[name="csrf-token"]', "content")
    data = {**load_sample(kind_id), "year": 2024, **changes}
    response = page.context.request.post("/api/v1/submissions", headers={"X-CSRFToken": token},
                                         data={"kind": kind_id, "data": data, "action": "submit"})
    assert response.status == 201, response.text()


def _fits_and_passes(page, axe_source: str, name: str, shots) -> list[str]:  # noqa: F811
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.reload()
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
        if width == 375 and not page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"):
            problems.append(f"{name} @375: wider than the screen")
        violations = axe_violations(page, axe_source)
        if violations:
            problems.append(f"{name} @{width}: axe {json.dumps(violations, ensure_ascii=False)}")
    return problems


def test_refused_documents_are_listed_and_the_progress_page_reloads(actor, live_server, axe_source, shots):  # noqa: F811
    from storage import records
    from storage.models import DocumentFacts, SavedSettings

    app = live_server.app
    clerk_a, clerk_b = actor("clerk_a"), actor("clerk_b")
    _submit(clerk_a, "target_declaration")
    _submit(clerk_a, "monitoring", period="1-6月")
    _submit(clerk_b, "target_declaration", project_name="青溪县人民医院设备更新项目")
    db = app.extensions["jxdoc.db"]
    with db.write() as session:
        session.add(SavedSettings(section="declaration", updated_at=dt.datetime(2030, 1, 1),
                                  values_json='{"indicators": {"min_quantified_ratio": "0.95"}}'))
    bureau = actor("bureau")
    try:
        response = bureau.goto("/statistics?year=2024")
        assert response.status == 200
        listed = bureau.locator("section[data-refused-count]")
        assert listed.get_attribute("data-refused-count") == "2"
        text = listed.inner_text()
        assert "未计入统计的文档" in text and "青溪县人民医院" in text and "低于95%" in text
        assert bureau.locator('[data-figure="coverage.declared"]').inner_text() == "0"
        problems = _fits_and_passes(bureau, axe_source, "bureau-statistics-refused", shots)

        # The link leads to the document, whose page says what to fix (and previews nothing:
        # the preview of a document that does not validate answers 422).
        with bureau.expect_navigation():
            listed.locator("a").first.click()
        assert "/submissions/" in bureau.url and "低于95%" in bureau.inner_text("main")

        with db.write() as session:  # nothing validated yet, in the database or in memory
            session.query(DocumentFacts).delete()
        records.FACTS_CACHE.clear()
        app.config["STATISTICS_BUDGET_S"] = 0
        records._MISS_BATCH, batch = 1, records._MISS_BATCH
        try:
            response = bureau.goto("/statistics?year=2024")
            assert response.status == 503 and response.headers["retry-after"] == "5"
            assert "统计数据正在准备" in bureau.inner_text("main")
            problems += _fits_and_passes(bureau, axe_source, "bureau-statistics-preparing", shots)
            # It reloads itself (the Refresh header) and goes on until the figures are there.
            bureau.wait_for_selector('[data-figure="coverage.declared"]', timeout=60_000)
        finally:
            records._MISS_BATCH = batch
            app.config["STATISTICS_BUDGET_S"] = 50
        assert not problems, "\n".join(problems)
    finally:
        with db.write() as session:
            session.query(SavedSettings).delete()
    expected = [e for e in bureau.js_errors if "status of 503" in e["text"]
                or ("status of 422" in e["text"] and e["url"].endswith("/preview.pdf"))]
    bureau.js_errors = [e for e in bureau.js_errors if e not in expected]
    assert bureau.js_errors == [], bureau.js_errors


def test_the_unit_list_pages_and_filters_without_script(browser, actor, live_server, axe_source, shots):  # noqa: F811
    """120 units more: the page lists 50 at a time; the filter form and the page links work with
    JavaScript off (a GET form and plain links), and the page fits 375 px and passes axe."""
    from storage.models import Submission, Unit
    from tests.browser.conftest import TIMEOUT_MS, sign_in

    app, world = live_server.app, live_server.world
    with app.extensions["jxdoc.db"].write() as session:
        session.add_all(Unit(code=f"C{n:03d}", name=f"青溪县第{n}卫生院", department_id=world.department_ids[1])
                        for n in range(120))
        unassigned = Submission(kind="target_declaration", status="submitted", title="未归属单位的申报表",
                                created_by_id=world.users["bureau"])
        unassigned.data = {**load_sample("target_declaration"), "year": 2024}
        session.add(unassigned)
    bureau = actor("bureau")
    response = bureau.goto("/statistics?year=2024")
    assert response.status == 200
    assert "未归属单位的申报表" in bureau.inner_text("section[data-unassigned-count='1']")
    assert bureau.locator(".table-scroll[aria-label='各单位填报情况'] tbody tr").count() == 50
    problems = _fits_and_passes(bureau, axe_source, "bureau-statistics-units", shots)
    assert not problems, "\n".join(problems)
    assert bureau.js_errors == [], bureau.js_errors

    context = browser.new_context(base_url=live_server.url, locale="zh-CN", java_script_enabled=False,
                                  viewport={"width": 375, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        sign_in(page, "bureau")
        page.goto("/statistics?year=2024")
        rows = page.locator(".table-scroll[aria-label='各单位填报情况'] tbody tr")
        assert rows.count() == 50 and "第 1/3 页" in page.inner_text(".pager")
        with page.expect_navigation():
            page.get_by_role("link", name="下一页").click()
        assert "第 2/3 页" in page.inner_text(".pager") and rows.count() == 50
        page.select_option("#filter-department", "县卫生健康局")
        page.select_option("#filter-status", "late")
        page.fill("#filter-q", "第11")
        with page.expect_navigation():
            page.get_by_role("button", name="筛选").click()
        codes = [rows.nth(i).get_attribute("data-unit") for i in range(rows.count())]
        assert codes == ["C011", *[f"C{n}" for n in range(110, 120)]], codes
        assert "符合条件的共 11 个（全部 " in page.inner_text("main")
        page.screenshot(path=str(shots / "bureau-statistics-units-filtered-375.png"), full_page=True)
        with page.expect_download() as download:
            page.get_by_role("link", name="下载全部单位填报情况（CSV）").click()
        assert download.value.suggested_filename == "2024年度各单位填报情况.csv"
        assert len(download.value.path().read_text(encoding="utf-8-sig").splitlines()) >= 1 + 122
    finally:
        context.close()
