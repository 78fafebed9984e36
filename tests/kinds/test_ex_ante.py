"""事前绩效评估报告: five dimensions scored on the framework data file, the conclusion from
configurable thresholds, the funds recommended, docx/PDF/xlsx from the sample."""

from __future__ import annotations

import copy
import io
import json
import subprocess
import zipfile

import openpyxl
import pytest

import kinds
from forms.base import FieldErrors
from kinds import pipeline
from rules.settings import SettingsError, load_settings

DIMENSIONS = ["立项必要性", "投入经济性", "绩效目标合理性", "实施方案可行性", "筹资合规性"]


def sample() -> dict:
    return json.loads(kinds.get("ex_ante_assessment").samples()[0].read_text(encoding="utf-8"))


def test_sample_scores_and_conclusion():
    data = pipeline.validate("ex_ante_assessment", sample())
    result = data["framework_result"]
    assert [d["name"] for d in result["dimensions"]] == DIMENSIONS
    assert [str(d["score"]) for d in result["dimensions"]] == ["17.50", "13.50", "15.50", "15.50", "17.00"]
    assert str(result["total"]) == "79.00"
    assert (result["conclusion"], result["conclusion_label"]) == ("conditional", "调整完善后予以支持")
    assert str(data["cut_rate"]) == "12.07"  # (2680 − 2356.50) ÷ 2680


@pytest.mark.parametrize(("scores", "settings", "expected"), [
    ({}, None, "调整完善后予以支持"),                                   # 79 with the default 80/60 lines
    ({}, {"scoring": {"ex_ante": {"support": {"min": 75}}}}, "予以支持"),  # a bureau that supports from 75
    ({"1.1": "10", "2.1": "9"}, None, "予以支持"),                       # 82.5
    ({k: "5.5" for k in ("1.1", "1.2", "2.1", "2.2", "3.1", "3.2", "4.1", "4.2", "5.1", "5.2")}, None, "不予支持"),
    ({k: "6" for k in ("1.1", "1.2", "2.1", "2.2", "3.1", "3.2", "4.1", "4.2", "5.1", "5.2")}, None,
     "调整完善后予以支持"),                                              # exactly 60
    # by grade: a 良 project (82.5) is 调整完善后予以支持, an 优 one supported
    ({"1.1": "10", "2.1": "9"}, {"scoring": {"ex_ante_rule": "grade"}}, "调整完善后予以支持"),
    ({k: "9" for k in ("1.1", "1.2", "2.1", "2.2", "3.1", "3.2", "4.1", "4.2", "5.1", "5.2")},
     {"scoring": {"ex_ante_rule": "grade"}}, "予以支持"),               # 90, 优
])
def test_conclusion_thresholds_are_configurable(scores, settings, expected):
    payload = sample()
    payload["scores"].update(scores)
    data = pipeline.validate("ex_ante_assessment", payload, load_settings(settings) if settings else None)
    assert data["framework_result"]["conclusion_label"] == expected


def test_policy_variant_relabels_the_dimensions():
    payload = sample()
    payload["variant"] = "policy"
    payload["analysis"] = {name: "……" for name in ["政策设立必要性", "政策保障充分性", "政策目标合理性", "政策实施可持续性",
                                                 "政策资金合规性"]}
    data = pipeline.validate("ex_ante_assessment", payload)
    assert data["framework_result"]["title"] == "政策事前绩效评估指标体系"
    with pytest.raises(FieldErrors) as exc:
        pipeline.validate("ex_ante_assessment", {**payload, "analysis": sample()["analysis"]})
    assert exc.value.errors["analysis.政策设立必要性"] == ["请填写“政策设立必要性”的分析。"]


def test_docx_report():
    content = pipeline.produce("ex_ante_assessment", sample(), "docx").content
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        xml = zf.read("word/document.xml").decode()
        assert zf.read("word/media/image1.png")[:4] == b"\x89PNG"
    for text in ("一、评估对象基本情况", "（四）资金构成", "二、评估工作开展情况", "三、综合评估情况与评估结论",
                 *(f"（{n}）{d}" for n, d in zip("一二三四五", DIMENSIONS, strict=True)), "（六）总体结论",
                 "综合评估得分79.00分，等级为“中”，评估结论为“调整完善后予以支持”", "核减323.50万元，核减率12.07%",
                 "四、相关建议", "五、其他需要说明的问题", "事前绩效评估指标体系评分表", "管材单价高于近期同类工程中标价。"):
        assert text in xml, text


def test_pdf_report():
    content = pipeline.produce("ex_ante_assessment", sample(), "pdf").content
    text = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()
    text = text.replace("\n", "").replace(" ", "")
    assert "等级为“中”，评估结论为“调整完善后予以支持”" in text and "（六）总体结论" in text and "各评估维度分值与得分" in text


def test_xlsx_scoring_sheet():
    ws = openpyxl.load_workbook(io.BytesIO(pipeline.produce("ex_ante_assessment", sample(), "xlsx").content)).active
    assert ws["A1"].value == "事前绩效评估评分表"
    assert [ws.cell(row=3, column=c).value for c in range(1, 6)] == ["一级指标", "二级指标", "分值", "得分", "评分说明"]
    assert ws["A4"].value == "立项必要性" and ws["B4"].value == "明确相关性" and ws["D4"].value == 9
    assert "A4:A5" in {str(m) for m in ws.merged_cells.ranges}
    total = next(r for r in ws.iter_rows() if r[0].value == "合计")
    assert total[2].value == 100 and total[3].value == 79
    notes = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "综合得分" in c.value]
    assert notes == ["综合得分：79.00分　　等级：中　　评估结论：调整完善后予以支持"]


@pytest.mark.parametrize("override, message", [
    ({"ex_ante_rule": "vote"}, "ex_ante_rule只能是“score”（按得分）或“grade”（按等级），实际为“vote”"),
    ({"ex_ante_by_grade": {"good": "maybe"}}, "ex_ante_by_grade.good只能是support、conditional、reject之一，实际为“maybe”"),
])
def test_ex_ante_rule_settings_are_checked(override, message):
    with pytest.raises(SettingsError) as exc:
        load_settings({"scoring": override})
    assert message in exc.value.messages["scoring"]


def test_scores_are_never_typed_as_totals():
    payload = copy.deepcopy(sample())
    payload["total"] = 95
    with pytest.raises(FieldErrors) as exc:
        pipeline.validate("ex_ante_assessment", payload)
    assert exc.value.errors == {"total": ["不认识的字段。"]}

