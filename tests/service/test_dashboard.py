"""The bureau's 统计 page: its figures are rules.statistics on the same stored data, coverage
lists every unit (未提交 included), late monitoring is named, and 起草总结报告 makes two drafts."""

from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from rules.rounding import percent
from rules.settings import defaults
from rules.statistics import compute
from storage.records import load_units
from tests.conftest import load_sample, login
from tests.kinds.test_drafts import INPUTS

YEAR = 2024


def _submit(client, kind_id: str, **changes) -> None:
    payload = {**load_sample(kind_id), "year": YEAR, **changes}
    response = client.post("/api/v1/submissions", json={"kind": kind_id, "data": payload, "action": "submit"})
    assert response.status_code == 201, response.get_json()


@pytest.fixture
def stored(app, world):
    clerk_a, clerk_b = login(app, world, "clerk_a"), login(app, world, "clerk_b")
    _submit(clerk_a, "target_declaration")
    _submit(clerk_a, "monitoring", period="1-6月")
    _submit(clerk_a, "self_evaluation")
    _submit(clerk_b, "target_declaration", project_name="青溪县人民医院设备更新项目")
    _submit(clerk_b, "self_evaluation", project_name="青溪县人民医院设备更新项目")
    return app


def _cells(html: str, row_attr: str, value: str) -> dict[str, str]:
    row = re.search(rf'<tr[^>]*{row_attr}="{re.escape(value)}"[^>]*>(.*?)</tr>', html, re.S).group(1)
    return dict(re.findall(r'data-figure="([^"]+)">([^<]*)<', row))


def _shown(value) -> str:
    return "—" if value is None else f"{value}%"


def test_dashboard_figures_equal_the_statistics_rules(stored, bureau_client):
    app = stored
    response = bureau_client.get(f"/statistics?year={YEAR}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    settings = defaults()
    with app.app_context():
        units = load_units(app.extensions["jxdoc.db"], YEAR, settings)
    expected = compute(units, settings)
    overall = expected.monitoring.overall
    assert _cells(html, "data-department", "合计") == {
        "quantified_ratio": _shown(percent(expected.indicators["project"].pooled_quantified_ratio)),
        "execution_rate": _shown(percent(overall.execution_rate)),
        "completion_rate": _shown(percent(overall.target_completion_rate)),
    }
    # Per department: the same rules over that department's units only.
    for department, code in (("县教育局", "A001"), ("县卫生健康局", "B001")):
        mine = compute([u for u in units if u["unit"]["code"] == code], settings)
        project = mine.indicators.get("project")
        cells = _cells(html, "data-department", department)
        assert cells["quantified_ratio"] == _shown(percent(project.pooled_quantified_ratio) if project else None)
        monitoring = mine.monitoring.overall if mine.monitoring else None
        assert cells["execution_rate"] == _shown(percent(monitoring.execution_rate) if monitoring else None)
    # Grades: counts and shares as rules.statistics shares them out.
    for grade in expected.as_dict()["self_evaluations"]["project"]["grades"]:
        assert f'data-grade="{grade["key"]}" data-count="{grade["count"]}" data-share="{grade["share"]}"' in html
    assert sum(g["count"] for g in expected.as_dict()["self_evaluations"]["project"]["grades"]) == 2
    # Coverage: both units declared, only A001 monitored; charts are inline SVG with titles.
    assert re.search(r'data-figure="coverage.declared">2<', html)
    assert re.search(r'data-figure="coverage.monitored">1<', html)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in html and "<title>各部门预算执行率</title>" in html
    b001 = re.search(r'<tr data-unit="B001">(.*?)</tr>', html, re.S).group(1)
    assert "未提交材料" in b001  # no disclosure material


def test_late_monitoring_is_named(stored, bureau_client):
    html = bureau_client.get(f"/statistics?year={YEAR}").get_data(as_text=True)
    b001 = re.search(r'<tr data-unit="B001">(.*?)</tr>', html, re.S).group(1)
    a001 = re.search(r'<tr data-unit="A001">(.*?)</tr>', html, re.S).group(1)
    assert "逾期：1-6月、1-7月、1-9月" in b001  # 2024 returns are all past due
    assert "逾期：1-7月、1-9月" in a001  # its 1-6月 return counts; the later ones are missing


def test_clerks_cannot_open_it(client):
    assert client.get("/statistics").status_code == 403


def test_bureau_menu_has_batches_and_statistics(bureau_client, client):
    html = bureau_client.get("/").get_data(as_text=True)
    assert ">批量生成</a>" in html and ">统计</a>" in html
    clerk = client.get("/").get_data(as_text=True)
    assert ">统计</a>" not in clerk and "/api/openapi.json" not in clerk  # no token, no API link


def test_draft_summary_report_from_stored_data(stored, bureau_client):
    form = MultiDict([
        ("year", str(YEAR)), ("region", "青溪县"), ("issuer", "青溪县财政局"), ("addressee", "县人民政府"),
        ("signers.0", "王明"), ("report_doc_number", "青财绩〔2025〕3号"), ("request_doc_number", "青财绩〔2025〕4号"),
        ("date", "2025年1月20日"), ("contact", "李文"), ("phone", "0000-6612345"),
        ("practices", "建立了事前评估、目标管理、运行监控、绩效评价和结果应用的全过程机制。"),
        ("problems", "部分单位绩效目标设置不够细化。"), ("next_steps", "扩大重点评价范围。"),
    ])
    response = bureau_client.post(f"/statistics/draft-summary?year={YEAR}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert "/forms/report?draft=" in response.headers["Location"]
    listing = bureau_client.get("/api/v1/submissions").get_json()
    items = listing if isinstance(listing, list) else listing.get("items", listing.get("submissions", []))
    kinds_ = sorted(s["kind"] for s in items if s["status"] == "draft")
    assert kinds_ == ["report", "request"]
    report = next(s for s in items if s["kind"] == "report")
    assert "2024" in report["title"]


def test_draft_summary_errors_shown_on_the_page(bureau_client):
    response = bureau_client.post(f"/statistics/draft-summary?year={YEAR}", data={"year": str(YEAR)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="error-summary"' in html and "发文机关" in html


def _uncached_figures(app, settings=None):
    """The statistics read the slow way: every stored document validated now, whole records."""
    from storage.records import ALL_KINDS, counted_submissions, disclosure_results, group_records

    settings = settings or defaults()
    db = app.extensions["jxdoc.db"]
    with app.app_context(), db.read() as session:
        units = group_records(counted_submissions(session, ALL_KINDS), YEAR, settings)
    assert not disclosure_results(db, YEAR)
    return compute(units, settings)


def _totals(html: str) -> dict[str, str]:
    return {**_cells(html, "data-department", "合计"),
            **dict(re.findall(r'data-figure="(coverage\.\w+)">(\d+)<', html))}


def resubmit_with_more_executed(clerk, public_id: str) -> None:
    """The clerk resubmits the returned 1-6月 monitoring form with 1,000.00 of 1,260.00 executed."""
    data = {**load_sample("monitoring"), "year": YEAR, "period": "1-6月"}
    data["funds"]["annual_total"]["executed"] = "1000.00"
    data["funds"]["fiscal_appropriation"]["executed"] = "900.00"
    data["funds"]["other_funds"]["executed"] = "100.00"
    version = clerk.get(f"/api/v1/submissions/{public_id}").get_json()["version"]
    resubmitted = clerk.put(f"/api/v1/submissions/{public_id}", json={"data": data, "action": "submit", "version": version})
    assert resubmitted.status_code == 200, resubmitted.get_json()


def test_figures_follow_a_document_returned_changed_and_resubmitted(stored, bureau_client, world):
    """The validated documents are kept between pages (storage.records.FACTS_CACHE, the
    document_facts table); a return, a change and a resubmission each raise the document's
    version, so the page reads it again."""
    app = stored
    clerk = login(app, world, "clerk_a")
    html = bureau_client.get(f"/statistics?year={YEAR}").get_data(as_text=True)
    before = _totals(html)
    assert before["coverage.monitored"] == "1" and before["execution_rate"] == "55.74%"  # 702.35 of 1,260.00
    (monitoring,) = [s for s in clerk.get("/api/v1/submissions").get_json() if s["kind"] == "monitoring"]

    returned = bureau_client.post(f"/api/v1/submissions/{monitoring['id']}/review",
                                  json={"action": "return", "comment": "请核对执行数。"})
    assert returned.status_code == 200, returned.get_json()
    html = bureau_client.get(f"/statistics?year={YEAR}").get_data(as_text=True)
    assert _totals(html)["coverage.monitored"] == "0" and _totals(html)["execution_rate"] == "—"

    resubmit_with_more_executed(clerk, monitoring["id"])
    html = bureau_client.get(f"/statistics?year={YEAR}").get_data(as_text=True)
    after = _totals(html)
    assert after["coverage.monitored"] == "1" and after["execution_rate"] == "79.37%"  # 1,000.00 of 1,260.00
    expected = _uncached_figures(app)
    assert after["execution_rate"] == _shown(percent(expected.monitoring.overall.execution_rate))
    assert after["quantified_ratio"] == _shown(percent(expected.indicators["project"].pooled_quantified_ratio))


def test_a_setting_that_refuses_stored_documents_leaves_them_out_and_lists_them(stored, bureau_client):
    """Stored documents are validated under the settings in force: raising the 量化率 floor above
    the declarations' 90 % refuses both; they leave the figures and are listed with the reason,
    and come back when the setting does."""
    import datetime as dt

    from rules.settings import load_settings
    from storage.models import SavedSettings

    app = stored
    db = app.extensions["jxdoc.db"]
    html = bureau_client.get(f"/statistics?year={YEAR}").get_data(as_text=True)
    assert _totals(html)["coverage.declared"] == "2" and "data-refused-count" not in html
    with db.write() as session:
        session.add(SavedSettings(section="declaration", updated_at=dt.datetime(2030, 1, 1),
                                  values_json='{"indicators": {"min_quantified_ratio": "0.95"}}'))
    html = bureau_client.get(f"/statistics?year={YEAR}").get_data(as_text=True)
    totals = _totals(html)
    assert totals["coverage.declared"] == "0" and totals["quantified_ratio"] == "—"
    assert totals["coverage.monitored"] == "1"  # the other documents still count
    assert 'data-refused-count="2"' in html
    listed = re.findall(r'<li data-refused="([^"]+)"><a href="/submissions/\1">[^<]+</a>（项目支出绩效目标申报表，([^）]+)）'
                        r'<ul>(.*?)</ul></li>', html)
    assert sorted(unit for _, unit, _ in listed) == ["青溪县人民医院", "青溪县第一中学"]
    assert all("定量指标占比为90.00%，低于95%" in problems for _, _, problems in listed), listed
    strict = load_settings({"declaration": {"indicators": {"min_quantified_ratio": "0.95"}}})
    assert _uncached_figures(app, strict).indicators.get("project") is None
    with db.write() as session:
        session.query(SavedSettings).delete()
    html = bureau_client.get(f"/statistics?year={YEAR}").get_data(as_text=True)
    assert _totals(html)["coverage.declared"] == "2" and "data-refused-count" not in html


def _forget_facts(app) -> None:
    """Nothing validated yet: no facts in the database or in memory."""
    from storage import records
    from storage.models import DocumentFacts

    with app.extensions["jxdoc.db"].write() as session:
        session.query(DocumentFacts).delete()
    records.FACTS_CACHE.clear()


def test_a_year_too_long_to_validate_in_one_request_is_read_over_several(stored, bureau_client, monkeypatch):
    """A request validates for STATISTICS_BUDGET_S at most (at least one batch): the page then
    says how far it got (503, Retry-After, Refresh) and the next request goes on from there —
    never a worker killed by gunicorn's timeout with its work lost. What a request validated is
    kept in the database: the next request may be another worker's (no cache in memory)."""
    from storage import records

    app = stored
    _forget_facts(app)  # as documents stored before the facts were, or under other settings
    monkeypatch.setattr(records, "_MISS_BATCH", 2)  # 5 documents: 3 batches
    app.config["STATISTICS_BUDGET_S"] = 0
    seen = []
    for _ in range(2):
        records.FACTS_CACHE.clear()
        response = bureau_client.get(f"/statistics?year={YEAR}")
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        assert response.headers["Refresh"] == f"5; url=/statistics?year={YEAR}"
        html = response.get_data(as_text=True)
        seen.append(re.search(r'data-preparing="(\d+)/(\d+)"', html).groups())
        assert "统计数据正在准备" in html
    assert seen == [("2", "5"), ("4", "5")]
    response = bureau_client.get(f"/statistics?year={YEAR}")
    assert response.status_code == 200
    assert _totals(response.get_data(as_text=True))["coverage.declared"] == "2"


def test_the_drafts_api_says_when_the_statistics_are_not_ready(stored, bureau_client, monkeypatch):
    from storage import records

    app = stored
    _forget_facts(app)
    monkeypatch.setattr(records, "_MISS_BATCH", 1)
    app.config["STATISTICS_BUDGET_S"] = 0
    response = bureau_client.post("/api/v1/drafts/summary", json={**INPUTS, "year": YEAR})
    assert response.status_code == 503, response.get_json()
    assert "统计数据正在准备：已核对1份，共5份" in response.get_json()["message"]


@pytest.fixture
def many_units(stored, world):
    """120 more units under 县卫生健康局 (C000…C119, one named as a formula), none filing."""
    from storage.models import Unit

    with stored.extensions["jxdoc.db"].write() as session:
        session.add_all(Unit(code=f"C{n:03d}", name="=1+2" if n == 7 else f"青溪县第{n}卫生院",
                             department_id=world.department_ids[1]) for n in range(120))
    return stored


def _listed(html: str) -> list[str]:
    return re.findall(r'<tr data-unit="([^"]+)">', html)


def test_the_unit_list_is_paged_and_filtered_the_totals_count_all(many_units, bureau_client):
    from service.dashboard import PAGE_SIZE

    html = bureau_client.get(f"/statistics?year={YEAR}").get_data(as_text=True)
    assert _listed(html) == ["A001", "B001", *[f"C{n:03d}" for n in range(PAGE_SIZE - 2)]]
    assert 'data-units-shown="1-50/122"' in html and "第 1/3 页" in html
    assert re.search(r'data-figure="coverage.declared">2</span>/122 ', html)  # over all units
    assert f'href="/statistics?year={YEAR}&amp;page=2#units-title">下一页' in html and "上一页" not in html
    html = bureau_client.get(f"/statistics?year={YEAR}&page=3").get_data(as_text=True)
    assert _listed(html) == [f"C{n:03d}" for n in range(98, 120)] and "下一页" not in html
    assert bureau_client.get(f"/statistics?year={YEAR}&page=99").get_data(as_text=True).count("第 3/3 页") == 1
    assert "第 1/3 页" in bureau_client.get(f"/statistics?year={YEAR}&page=x").get_data(as_text=True)

    # By department, by status, by name or code; the pages keep the filter.
    html = bureau_client.get(f"/statistics?year={YEAR}&department=县教育局").get_data(as_text=True)
    assert _listed(html) == ["A001"] and 'data-units-shown="1-1/1"' in html and "（全部 122 个单位）" in html
    html = bureau_client.get(f"/statistics?year={YEAR}&department=县卫生健康局&status=undeclared").get_data(as_text=True)
    assert _listed(html)[:2] == ["C000", "C001"] and 'data-units-shown="1-50/120"' in html
    assert "department=%E5%8E%BF%E5%8D%AB%E7%94%9F%E5%81%A5%E5%BA%B7%E5%B1%80" in html and "status=undeclared" in html
    html = bureau_client.get(f"/statistics?year={YEAR}&status=late&q=b00").get_data(as_text=True)
    assert _listed(html) == ["B001"]
    html = bureau_client.get(f"/statistics?year={YEAR}&q=第一中学").get_data(as_text=True)
    assert _listed(html) == ["A001"]
    html = bureau_client.get(f"/statistics?year={YEAR}&status=undisclosed&q=没有这个").get_data(as_text=True)
    assert _listed(html) == [] and "没有符合条件的单位。" in html
    html = bureau_client.get(f"/statistics?year={YEAR}&status=nonsense").get_data(as_text=True)
    assert 'data-units-shown="1-50/122"' in html  # an unknown status filters nothing


def test_the_csv_lists_every_unit(many_units, bureau_client):
    import csv
    import io

    response = bureau_client.get(f"/statistics/units.csv?year={YEAR}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''2024%E5%B9%B4%E5%BA%A6" in disposition
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][:3] == ["单位代码", "单位名称", "主管部门"] and len(rows) == 1 + 122
    by_code = {r[0]: r for r in rows[1:]}
    assert by_code["A001"] == ["A001", "青溪县第一中学", "县教育局", "1", "1", "6月", "1-7月、1-9月", "1", "未提交"]
    assert by_code["C007"][1] == "'=1+2"  # never a formula in Excel or WPS


def test_clerks_cannot_download_the_unit_list(client):
    assert client.get(f"/statistics/units.csv?year={YEAR}").status_code == 403


def test_a_document_stored_under_no_unit_is_listed_not_counted(stored, bureau_client, world):
    """Never counted for the unit its data names (青溪县第一中学 here): listed apart."""
    from storage.models import Submission

    app = stored
    before = _totals(bureau_client.get(f"/statistics?year={YEAR}").get_data(as_text=True))
    with app.extensions["jxdoc.db"].write() as session:
        sub = Submission(kind="target_declaration", status="submitted", title="无单位的申报表",
                         created_by_id=world.users["bureau"])
        sub.data = {**load_sample("target_declaration"), "year": YEAR}
        session.add(sub)
        session.flush()
        public_id = sub.public_id
    html = bureau_client.get(f"/statistics?year={YEAR}").get_data(as_text=True)
    assert _totals(html) == before and before["coverage.declared"] == "2"
    assert 'data-unassigned-count="1"' in html and "未归属单位的文档" in html
    item = re.search(rf'<li data-unassigned="{public_id}">(.*?)</li>', html, re.S).group(1)
    assert "无单位的申报表" in item and "文档中填写的单位：" in item
    expected = _uncached_figures(app)
    assert before["quantified_ratio"] == _shown(percent(expected.indicators["project"].pooled_quantified_ratio))
    assert expected.indicators["project"].declarations == 2
