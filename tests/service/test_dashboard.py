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
