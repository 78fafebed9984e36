"""项目支出绩效自评表 and 部门整体支出绩效自评表 through the whole pipeline: validate → prepare (rules.scoring)
→ the grid → the xlsx cells; the official captions and merges cell by cell; invalid samples give
exactly their errors."""

from __future__ import annotations

import copy
import io
import json
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

import kinds
from forms.base import FieldErrors
from kinds import pipeline
from rules.settings import load_settings

KINDS = ("self_evaluation", "department_self_evaluation")


def _load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def sample(kind="self_evaluation") -> dict:
    return _load(kinds.get(kind).samples()[0])


def _xlsx(kind: str, payload: dict, settings=None):
    content = pipeline.produce(kind, payload, "xlsx", settings).content
    return openpyxl.load_workbook(io.BytesIO(content)).active


# --------------------------------------------------------------------------- the sample, cell by cell

def test_sample_scores_reach_the_xlsx_cells():
    data = pipeline.validate("self_evaluation", sample())
    scoring = data["scoring"]
    assert [str(r["score"]) for r in scoring["indicators"]] == [
        "15.00", "9.30", "10.00", "5.00", "9.54", "10.00", "9.00", "3.50", "5.00", "10.00"]
    assert str(scoring["execution"]["percent"]) == "92.78" and str(scoring["execution"]["score"]) == "9.28"
    assert str(scoring["total"]) == "95.62" and scoring["grade_label"] == "优"
    assert [f["path"] for f in data["flagged"]] == ["indicators.1", "indicators.4", "indicators.6", "indicators.7"]

    ws = _xlsx("self_evaluation", sample())
    assert ws["I6"].value == pytest.approx(9.28)          # 预算执行率 得分
    assert ws["H6"].value == pytest.approx(0.9278)        # 执行率, shown as 92.78%
    assert "0.00%" in ws["H6"].number_format
    assert [ws[f"H{r}"].value for r in range(14, 24)] == pytest.approx(
        [15, 9.3, 10, 5, 9.54, 10, 9, 3.5, 5, 10])
    assert ws["H24"].value == pytest.approx(95.62)
    assert ws["I24"].value == "自评等级：优"


def test_official_captions_cell_by_cell():
    ws = _xlsx("self_evaluation", sample())
    expected = {
        "A1": "项目支出绩效自评表", "A2": "（2023年度）",
        "A3": "项目名称", "B3": "青溪县农村饮水安全巩固提升工程",
        "A4": "主管部门", "B4": "青溪县水利局", "E4": "实施单位", "F4": "青溪县农村供水管理站",
        "A5": "项目资金\n（万元）", "D5": "年初预算数", "E5": "全年预算数", "F5": "全年执行数", "G5": "分值",
        "H5": "执行率", "I5": "得分",
        "B6": "年度资金总额", "B7": "其中：当年财政拨款", "B8": "　　　上年结转资金", "B9": "　　　其他资金",
        "G7": "—", "I7": "—", "G8": "—", "I8": "—", "G9": "—", "H9": "—", "I9": "—",
        "A10": "年度总体目标", "B10": "预期目标", "F10": "实际完成情况",
        "A13": "绩效指标", "B13": "一级指标", "C13": "二级指标", "D13": "三级指标", "E13": "年度指标值",
        "F13": "实际完成值", "G13": "分值", "H13": "得分", "I13": "偏差原因分析及改进措施",
        "B14": "产出指标", "C14": "数量指标", "D14": "新建改造供水管网", "E14": "≥45公里", "F14": "48公里",
        "C16": "质量指标", "E16": "≥95%", "F16": "97.2%", "C17": "时效指标", "C18": "成本指标",
        "E18": "≤14.5万元/公里", "B19": "效益指标", "C19": "社会效益指标", "E20": "明显提升",
        "C21": "可持续影响指标", "C22": "生态效益指标", "B23": "满意度指标", "C23": "服务对象满意度指标",
        "A24": "总分", "A25": "评价结论", "A26": "存在问题", "A27": "改进措施",
    }
    for ref, value in expected.items():
        assert ws[ref].value == value, ref
    assert ws["G6"].value == 10 and ws["G24"].value == 100
    assert ws["I15"].value.startswith("偏差原因：两个行政村整村搬迁")
    merges = {str(r) for r in ws.merged_cells.ranges}
    assert merges == {
        "A1:I1", "A2:I2", "B3:I3", "B4:D4", "F4:I4",
        "A5:A9", "B5:C5", "B6:C6", "B7:C7", "B8:C8", "B9:C9",           # 项目资金 block
        "A10:A12", "B10:E10", "F10:I10", "B11:E11", "F11:I11", "B12:E12", "F12:I12",  # 年度总体目标
        # 绩效指标 in its caption row (the print title), the column below it one empty area,
        # as the docx and PDF cut it
        "A14:A23", "B14:B18", "C14:C15", "B19:B22", "C19:C20",          # merges by level
        "A24:F24", "B25:I25", "B26:I26", "B27:I27",                     # 总分 and conclusion rows
        "A28:I28", "A29:I29",                                            # notes under the table
    }


def test_department_sheet_captions():
    ws = _xlsx("department_self_evaluation", sample("department_self_evaluation"))
    assert ws["A1"].value == "部门整体支出绩效自评表" and ws["A2"].value == "（2023年度）"
    assert (ws["A3"].value, ws["C3"].value, ws["F3"].value) == ("部门（单位）名称", "青溪县农业农村局", "主管部门")
    assert ws["A4"].value == "年度资金\n（万元）" and ws["A8"].value == "年度主要任务"
    totals = [r for r in ws.iter_rows() if r[0].value == "总分"][0]
    assert totals[7].value == pytest.approx(98.77) and totals[8].value == "自评等级：优"


# --------------------------------------------------------------------------- scoring cases, end to end

def _with(mutate, settings=None):
    payload = copy.deepcopy(sample())
    mutate(payload)
    data = pipeline.validate("self_evaluation", payload, settings)
    return data["scoring"], _xlsx("self_evaluation", payload, settings)


def _row(ws, name):
    return next(r for r in ws.iter_rows(min_row=14, max_row=23) if r[3].value == name)


def _set(index, **values):
    def mutate(p):
        p["indicators"][index].update(values)
    return mutate


LINEAR = {"scoring": {"indicator": {"negative_rule": "linear"}}}

CASES = [
    # (id, mutation, settings, row name, expected row score, expected total)
    ("over_achievement_capped", _set(0, actual_value="90", deviation_reason="追加了一个村的管网。"), None, "新建改造供水管网", "15.00", "95.62"),
    ("shortfall_ratio", _set(0, actual_value="36", deviation_reason="征地延误。", improvement="提前征地。"), None,
     "新建改造供水管网", "12.00", "92.62"),
    ("negative_ratio_rule", _set(4, actual_value="17.4"), None, "单位管网造价", "8.33", "94.41"),
    ("negative_linear_rule", _set(4, actual_value="17.4"), LINEAR, "单位管网造价", "8.00", "94.08"),
    ("negative_linear_sample", lambda p: None, LINEAR, "单位管网造价", "9.52", "95.60"),
    ("negative_linear_zero_at_twice", _set(4, actual_value="29"), LINEAR, "单位管网造价", "0.00", "86.08"),
    ("zero_target_negative_met", _set(8, operator="≤", target_value="0", measure_unit="起", actual_value="0",
                                     name="水质安全事故"), None, "水质安全事故", "5.00", "95.62"),
    ("zero_target_negative_missed", _set(8, operator="≤", target_value="0", measure_unit="起", actual_value="1",
                                        name="水质安全事故", deviation_reason="一次管道爆裂污染。",
                                        improvement="加强巡检。"), None, "水质安全事故", "0.00", "90.62"),
    ("zero_target_positive", _set(8, target_value="0", actual_value="0"), None, "划定水源地保护区", "5.00", "95.62"),
    ("qualitative_band_partial", _set(6, band="partial", score="7.5"), None, "群众饮水安全保障水平", "7.50", "94.12"),
    ("qualitative_band_poor", _set(6, band="未达成年度指标且效果较差", score="5.99"), None, "群众饮水安全保障水平",
     "5.99", "92.61"),
    ("rounding_half_up", _set(1, actual_value="25935"), None, "受益农村人口", "9.98", "96.30"),
]


@pytest.mark.parametrize(("mutate", "settings", "name", "row_score", "total"),
                         [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_scoring_cases_through_the_pipeline(mutate, settings, name, row_score, total):
    scoring, ws = _with(mutate, load_settings(settings) if settings else None)
    row = next(r for r in scoring["indicators"] if r["name"] == name)
    assert str(row["score"]) == row_score
    assert str(scoring["total"]) == total
    assert _row(ws, name)[7].value == pytest.approx(float(row_score))
    assert ws["H24"].value == pytest.approx(float(total))


def test_not_applicable_rows_are_rescaled_to_100():
    scoring, ws = _with(_set(8, not_applicable=True, actual_value=None))
    # 95.62 − 5 = 90.62 of the 95 applicable points → 90.62 ÷ 95 × 100 = 95.39
    assert str(scoring["raw_total"]) == "90.62" and scoring["applicable_weight"] == D(95)
    assert str(scoring["total"]) == "95.39" and scoring["rescaled"]
    assert _row(ws, "划定水源地保护区")[7].value == "不适用"
    assert ws["H24"].value == pytest.approx(95.39)
    notes = [ws.cell(row=r, column=1).value or "" for r in range(28, ws.max_row + 1)]
    assert any("原始得分90.62分" in n and "适用分值95分" in n for n in notes)


def test_grade_follows_the_computed_total():
    scoring, ws = _with(_set(2, actual_value=None, deviation_reason="检测报告未出。", improvement="补测。"))
    assert str(scoring["total"]) == "85.62" and scoring["grade_label"] == "良"
    assert ws["I24"].value == "自评等级：良"


def test_flagged_rows_are_listed_under_the_table():
    ws = _xlsx("self_evaluation", sample())
    notes = [ws.cell(row=r, column=1).value or "" for r in range(28, ws.max_row + 1)]
    assert any(n.startswith("需说明偏差原因的指标：受益农村人口（未完全达成）") for n in notes)
    assert any("项目负责人：林清泉" in n and "填报日期：2024年2月28日" in n for n in notes)


def test_users_cannot_type_the_total():
    payload = sample()
    payload["total"] = "100"
    with pytest.raises(FieldErrors) as exc:
        pipeline.validate("self_evaluation", payload)
    assert exc.value.errors == {"total": ["不认识的字段。"]}


# --------------------------------------------------------------------------- samples

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", ["xlsx", "docx", "pdf"])
def test_renders_every_format(kind, fmt):
    assert fmt in kinds.get(kind).formats
    out = pipeline.produce(kind, sample(kind), fmt)
    assert out.filename.endswith(f"自评表.{fmt}")
    if fmt == "docx":
        import zipfile
        xml = zipfile.ZipFile(io.BytesIO(out.content)).read("word/document.xml").decode()
        for text in ("偏差原因分析及改进措施", "总分", "自评等级：优"):
            assert text in xml
    elif fmt == "pdf":
        import subprocess
        text = subprocess.run(["pdftotext", "-", "-"], input=out.content, capture_output=True, check=True).stdout.decode()
        assert "绩效自评表" in text and "总分" in text and "自评等级：优" in text


def test_over_achievement_needs_a_reason():
    payload = sample()
    payload["indicators"][0]["actual_value"] = "60"    # 133 % of the 45 km target
    with pytest.raises(FieldErrors) as exc:
        pipeline.validate("self_evaluation", payload)
    assert exc.value.errors == {"indicators.0.deviation_reason": [
        "实际完成值为年度指标值的133.33%，达到130%以上，须说明超额完成的原因"]}


def test_a_reason_stands_in_for_a_missing_actual_value():
    payload = sample()
    payload["indicators"][5].update(actual_value=None, deviation_reason="统计部门数据尚未发布。",
                                    improvement="数据发布后补报。")
    scoring = pipeline.validate("self_evaluation", payload)["scoring"]
    assert str(scoring["indicators"][5]["score"]) == "0.00" and str(scoring["total"]) == "85.62"
