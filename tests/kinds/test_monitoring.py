"""The monitoring kinds: samples, the acceptance figures, captions carrying the period, and the
totals of the summary for random data."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from forms.base import FieldErrors
from generators.monitoring import department_workbook, project_workbook, summary_workbook
from generators.tables.xlsx import render_xlsx
from kinds import pipeline
from rules.rounding import ratio
from rules.settings import defaults
from tests.conftest import load_sample

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
KINDS = ("monitoring", "department_monitoring", "monitoring_summary")


def _cases(sub: str):
    return [pytest.param(kind, path, id=f"{kind}/{path.stem}")
            for kind in KINDS for path in sorted((SAMPLES / kind / sub).glob("*.json"))]


@pytest.mark.parametrize(("kind", "path"), _cases("."))
def test_valid_sample(kind, path):
    data = pipeline.validate(kind, json.loads(path.read_text(encoding="utf-8")))
    assert data["computed"]


# --------------------------------------------------------------------------- the project form

def test_rates_of_the_project_form():
    data = pipeline.validate("monitoring", load_sample("monitoring"))
    computed = data["computed"]
    # 702.35 ÷ 1260.00 and 640.15 ÷ 1100.00, unrounded until displayed
    assert computed["execution"]["annual_total"] == ratio(Decimal("702.35"), Decimal("1260.00"))
    assert round(computed["execution"]["fiscal_appropriation"] * 100, 2) == Decimal("58.20")
    assert computed["target_completion_rate_text"] == "71.92%"
    assert computed["deviation"] == Decimal("16.18")
    # canonical identifiers after cleaning
    row = data["indicators"][1]
    assert row["completion_likelihood"] == "possible" and row["deviation_causes"] == ["facilities"]
    assert data["indicators"][2]["operator"] == "≥" and data["indicators"][2]["measure_unit"] == "%"


@pytest.mark.parametrize("likelihood", ["有可能", "完全不可能", "不可能", "2", "3"])
def test_cause_and_measure_required_unless_certain(likelihood):
    payload = load_sample("monitoring")
    payload["indicators"][0].update(completion_likelihood=likelihood, deviation_causes=[], improvement="")
    with pytest.raises(FieldErrors) as exc:
        pipeline.validate("monitoring", payload)
    assert set(exc.value.errors) == {"indicators.0.deviation_causes", "indicators.0.improvement"}
    assert all("时，请" in m for ms in exc.value.errors.values() for m in ms)


def test_certain_needs_no_cause():
    payload = load_sample("monitoring")
    payload["indicators"][1].update(completion_likelihood="确定能", deviation_causes=[], improvement="",
                                    deviation_reason="")
    pipeline.validate("monitoring", payload)


def _texts(xlsx: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(xlsx))
    return [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


@pytest.mark.parametrize("period", ["1-6月", "1-7月", "1-9月"])
@pytest.mark.parametrize("kind", ["monitoring", "department_monitoring"])
def test_xlsx_captions_carry_the_period(kind, period):
    # The clerks' own text may name months; only captions are under test.
    payload = json.loads(json.dumps(load_sample(kind), ensure_ascii=False).replace("1-6月", "上半年")
                         .replace("1-9月", "前三季度"))
    payload["period"] = period
    texts = _texts(pipeline.produce(kind, payload, "xlsx").content)
    for caption in ("执行数", "执行率", "执行情况"):
        assert f"{period}{caption}" in texts, caption
    assert any(f"监控期间：{period}" in t for t in texts)
    others = {"1-6月", "1-7月", "1-9月"} - {period}
    assert not [t for t in texts for o in others if o in t], "another period leaked into a caption"


def test_project_sheet_layout_ticks_causes_and_likelihood():
    data = pipeline.validate("monitoring", load_sample("monitoring"))
    sheet = project_workbook(data).sheets[0]
    grid = sheet.matrix()
    header = next(r for r, row in enumerate(grid) if row[7] is not None and row[7].value == "偏差原因分析")
    captions = [c.value for c in grid[header + 1] if c is not None]
    assert captions == ["经费保障", "制度保障", "人员保障", "硬件条件保障", "其他", "确定能", "有可能", "完全不可能"]
    water_plant = next(row for row in grid if row[3] is not None and row[3].value == "新建联村水厂")
    assert [c.value for c in water_plant[7:15]] == ["", "", "", "√", "", "", "√", ""]
    assert "纠偏措施：增加一个施工班组" in water_plant[15].value
    # 产出指标 spans its four rows, 数量指标 its two
    merges = sheet.merges()
    first = grid.index(water_plant) - 1
    assert (first, 1, first + 3, 1) in merges and (first, 2, first + 1, 2) in merges


def test_department_sheet_lists_tasks():
    data = pipeline.validate("department_monitoring", load_sample("department_monitoring"))
    texts = [c.value for _, _, c in department_workbook(data).sheets[0].placed()]
    assert "年度主要任务" in texts and "1-9月完成情况" in texts and "高标准农田建设" in texts


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
@pytest.mark.parametrize("kind", KINDS)
def test_docx_and_pdf_outputs(kind, fmt):
    pytest.importorskip(f"generators.tables.{fmt}", reason="the table renderers are another issue's work")
    out = pipeline.produce(kind, load_sample(kind), fmt)
    assert out.content[:4] in (b"PK\x03\x04", b"%PDF")
    assert out.filename.endswith(f".{fmt}") and "月" in out.filename


# --------------------------------------------------------------------------- the summary

def test_acceptance_figures_in_text():
    data = pipeline.validate("monitoring_summary", load_sample("monitoring_summary"))
    text = data["computed"]["text"]
    assert text.startswith("截至2024年9月，纳入绩效运行监控的部门预算项目覆盖4家单位、6个项目，")
    assert ("预算资金总额42,948.32万元，已执行31,423.98万元，执行率73.17%，绩效目标整体完成率82.76%，"
            "偏差值9.59个百分点") in text
    first = data["computed"]["by_scope"][0]
    assert first["budget"] == Decimal("42948.32") and first["executed"] == Decimal("31423.98")
    assert first["deviation"] == Decimal("9.59")


def test_acceptance_figures_in_xlsx_cells():
    out = pipeline.produce("monitoring_summary", load_sample("monitoring_summary"), "xlsx")
    book = load_workbook(io.BytesIO(out.content))
    ws = book["汇总表"]
    rows = {r[0].value: r for r in ws.iter_rows() if r[0].value}
    assert "1-9月" in ws["A1"].value and "截至2024年9月" in ws["A2"].value
    header = [c.value for c in rows["监控范围"]]
    assert header[4] == "1-9月执行总额" and header[5] == "1-9月执行率"
    row = rows["部门预算项目"]
    assert [row[1].value, row[2].value] == [4, 6]
    assert Decimal(str(row[3].value)) == Decimal("42948.32") and row[3].number_format == "#,##0.00"
    assert Decimal(str(row[4].value)) == Decimal("31423.98")
    assert Decimal(str(row[5].value)) == Decimal("0.7317") and row[5].number_format == "0.00%"
    assert Decimal(str(row[6].value)) == Decimal("0.8276") and row[6].number_format == "0.00%"
    assert Decimal(str(row[7].value)) == Decimal("9.59")
    assert Decimal(str(row[8].value)) == Decimal("90.39")
    assert "执行率73.17%" in rows["文字说明"][1].value
    assert rows["合计"][2].value == 9
    # the 分单位 sheet prints on its own page: it states its date and money unit under its title
    assert book["分单位情况"]["A2"].value == book["汇总表"]["A2"].value == "（截至2024年9月　金额单位：万元）"
    assert [c.value for c in next(book["分单位情况"].iter_rows(min_row=4, max_row=4))][0] == "101001 青溪县教育局"


def test_summary_text_is_the_kind_extra():
    from kinds import get

    kind = get("monitoring_summary")
    data = pipeline.validate(kind, load_sample("monitoring_summary"))
    assert kind.extra["text"](data) == data["computed"]["text"]


def test_percent_written_completion_rate_equals_ratio():
    payload = load_sample("monitoring_summary")
    ratio = copy.deepcopy(payload)
    for row in ratio["rows"]:
        if row["completion_rate"] == "82.76%":
            row["completion_rate"] = "0.8276"
    assert pipeline.validate("monitoring_summary", payload)["computed"]["text"] == \
        pipeline.validate("monitoring_summary", ratio)["computed"]["text"]


cents = st.integers(min_value=0, max_value=10**9).map(lambda n: Decimal(n) / 100)
rows_strategy = st.lists(
    st.tuples(st.sampled_from(["U1", "U2", "U3", "U4"]), st.sampled_from(["部门预算项目", "专项资金"]),
              cents, st.integers(0, 100), st.integers(0, 10000)),
    min_size=1, max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(rows_strategy)
def test_summary_totals_for_random_rows(raw):
    rows = []
    for i, (unit, scope, budget, share, completion) in enumerate(raw):
        executed = (budget * share / 100).quantize(Decimal("0.01"))
        rows.append({"unit": {"code": unit, "name": f"单位{unit}"}, "project": f"项目{i}", "scope": scope,
                     "budget": str(budget), "executed": str(executed),
                     "completion_rate": str(Decimal(completion) / 10000)})
    data = pipeline.validate("monitoring_summary", {"year": 2024, "period": "1-9月", "rows": rows})
    computed = data["computed"]
    total_budget = sum((Decimal(r["budget"]) for r in rows), Decimal(0))
    total_executed = sum((Decimal(r["executed"]) for r in rows), Decimal(0))
    overall = computed["total"]
    assert overall["budget"] == total_budget and overall["executed"] == total_executed
    assert overall["projects"] == len(rows)
    assert sum(g["budget"] for g in computed["by_scope"]) == total_budget
    assert sum(g["executed"] for g in computed["by_scope"]) == total_executed
    assert sum(g["budget"] for g in computed["by_unit"]) == total_budget
    assert sum(g["projects"] for g in computed["by_scope"]) == len(rows)
    if total_budget:
        rate = ratio(total_executed, total_budget)
        assert overall["execution_rate"] == rate
        # 偏差值 is rounded once, from the unrounded rates
        expected = ((overall["target_completion_rate"] - rate) * 100).quantize(Decimal("0.01"), "ROUND_HALF_UP")
        assert overall["deviation"] == expected
        assert f"执行率{(rate * 100).quantize(Decimal('0.01'), 'ROUND_HALF_UP')}%" in computed["text"]
    else:
        assert overall["execution_rate"] is None and overall["deviation"] is None
    sheet = summary_workbook(data).sheets[0]
    assert sheet.merges()  # lays out without overflowing its columns


# --------------------------------------------------------------------------- the streamed summary

def _by_unit(rows: list[dict]) -> list[list[dict]]:
    """The rows of each unit together, units in order of first appearance (as a batch gives them)."""
    units: dict[str, list[dict]] = {}
    for row in rows:
        units.setdefault(row["unit"]["code"], []).append(row)
    return list(units.values())


def _streamed(payload: dict, calls: list[int] | None = None) -> dict:
    from kinds.monitoring import stream_summary

    units = _by_unit(payload["rows"])

    def produce():
        if calls is not None:
            calls.append(1)
        return iter(copy.deepcopy(units))

    head = {k: payload[k] for k in ("year", "period", "area") if k in payload}
    return stream_summary(head, produce, defaults())


def _sheet_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n != "docProps/core.xml"}


def test_streamed_summary_equals_the_summary_of_all_rows():
    payload = load_sample("monitoring_summary")
    whole = pipeline.validate("monitoring_summary", copy.deepcopy(payload))
    calls: list[int] = []
    streamed = _streamed(payload, calls)
    assert calls == [1]  # the totals per scope: one pass
    for key in ("by_scope", "total", "text", "notes"):
        assert streamed["computed"][key] == whole["computed"][key]
    assert len(streamed["computed"]["by_unit"]) == len(whole["computed"]["by_unit"]) == 4
    assert streamed["computed"]["excluded"] == 0 and streamed["computed"]["included"] == 4
    # the 分单位情况 rows are made again while the xlsx is written: same package, byte for byte
    xlsx = render_xlsx(summary_workbook(streamed))
    assert calls == [1, 1]
    assert _sheet_parts(xlsx) == _sheet_parts(render_xlsx(summary_workbook(whole)))
    ws = load_workbook(io.BytesIO(xlsx))["分单位情况"]
    assert ws["A4"].value == "101001 青溪县教育局" and ws.max_row == 3 + 4


def test_streamed_summary_leaves_out_a_unit_whose_rows_are_wrong():
    payload = load_sample("monitoring_summary")
    units = _by_unit(payload["rows"])
    bad_code = units[1][0]["unit"]["code"]
    for row in payload["rows"]:
        if row["unit"]["code"] == bad_code:
            row["budget"] = "-5"
            break
    streamed = _streamed(payload)
    computed = streamed["computed"]
    assert computed["excluded"] == 1 and computed["included"] == 3 and len(computed["by_unit"]) == 3
    good = {**payload, "rows": [r for r in payload["rows"] if r["unit"]["code"] != bad_code]}
    assert computed["total"] == pipeline.validate("monitoring_summary", good)["computed"]["total"]
    assert bad_code not in {row["key"] for row in computed["by_unit"]}


@settings(max_examples=40, deadline=None)
@given(rows_strategy)
def test_streamed_summary_equals_the_whole_for_random_rows(raw):
    rows = [{"unit": {"code": unit, "name": f"单位{unit}"}, "project": f"项目{i}", "scope": scope,
             "budget": str(budget), "executed": str((budget * share / 100).quantize(Decimal("0.01"))),
             "completion_rate": str(Decimal(completion) / 10000)}
            for i, (unit, scope, budget, share, completion) in enumerate(raw)]
    payload = {"year": 2024, "period": "1-9月", "rows": rows}
    streamed = _streamed(payload)["computed"]
    # the batch gives each unit's rows together: the whole summary of the rows in that order
    ordered = {**payload, "rows": [r for unit in _by_unit(rows) for r in unit]}
    whole = pipeline.validate("monitoring_summary", ordered)["computed"]
    assert streamed["total"] == whole["total"] and streamed["text"] == whole["text"]
    assert streamed["by_scope"] == whole["by_scope"]
    assert list(streamed["by_unit"]) == whole["by_unit"]


def test_streamed_summary_passes_over_a_unit_without_rows():
    from kinds.monitoring import stream_summary

    payload = load_sample("monitoring_summary")
    units = [[], *_by_unit(payload["rows"]), []]
    computed = stream_summary({"year": payload["year"], "period": payload["period"]},
                              lambda: iter(copy.deepcopy(units)), defaults())["computed"]
    assert computed["excluded"] == 0 and computed["included"] == len(list(computed["by_unit"])) == 4
