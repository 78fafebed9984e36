"""The evaluation reports render from their samples to docx and PDF with the outline's headings,
the scoring tables, figures taken from the data, the user's narrative and the chart image."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader

import kinds
from forms.base import FieldErrors
from kinds import pipeline

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
REPORTS = ("self_evaluation_report", "evaluation_report", "department_evaluation_report")

# What each report must say: outline headings, computed figures (from the form data), narrative.
EXPECTED = {
    "self_evaluation_report": [
        "一、项目基本情况", "（一）项目概况", "（二）项目绩效目标", "二、绩效自评工作开展情况", "三、综合评价结论",
        "四、绩效目标实现情况分析", "（一）项目资金情况分析", "（二）项目绩效指标完成情况分析", "1.产出指标完成情况",
        "五、存在的问题及原因分析", "六、下一步改进措施", "七、其他需要说明的问题",
        "绩效自评得分95.62分，评价等级为“优”", "预算执行率得分9.28分（分值10分）", "产出指标得分48.84分（分值50分）",
        "全年执行数853.60万元，预算执行率92.78%", "单位管网造价：年度指标值≤14.5万元/公里，实际完成值15.2万元/公里，得分9.54分",
        "表1　自评得分汇总表", "表2　绩效指标完成情况表", "图1　各一级指标分值与得分",
        "委托乡镇随机发放问卷500份",                                     # the user's narrative
    ],
    "evaluation_report": [
        "一、基本情况", "二、绩效评价工作开展情况", "（一）评价目的、对象和范围", "三、综合评价情况及评价结论",
        "四、绩效评价指标分析", "（一）项目决策情况", "（二）项目过程情况", "（三）项目产出情况", "（四）项目效益情况",
        "五、主要经验及做法、存在的问题及原因分析", "六、有关建议", "七、其他需要说明的问题",
        "绩效评价得分89.80分，评价等级为“良”", "决策得分17.50分（分值20分）", "预算执行率97.10%",
        "该部分分值30分，得分26.00分，得分率86.67%", "表1　项目支出绩效评价指标体系框架及评分", "未开展事前绩效评估，扣0.5分。",
        "图1　各一级指标分值与得分", "学生营养状况监测显示",
    ],
    "department_evaluation_report": [
        "（一）部门概况", "（二）部门整体绩效目标", "（一）投入情况", "（二）过程情况", "（三）产出情况", "（四）效果情况",
        "绩效评价得分90.90分，评价等级为“优”", "部门整体支出绩效评价共性指标体系框架", "预算执行率96.54%",
        "图1　各一级指标分值与得分", "建立农机具共享调剂机制",
    ],
}


def _sample(kind):
    return json.loads(kinds.get(kind).samples()[0].read_text(encoding="utf-8"))


def _docx_text(content: bytes) -> tuple[str, dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    root = etree.fromstring(parts["word/document.xml"])
    paragraphs = ["".join(t.text or "" for t in p.iter(f"{W}t")) for p in root.iter(f"{W}p")]
    return "\n".join(paragraphs), parts


def _pdf_text(content: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()
    return out.replace("\n", "").replace(" ", "")


@pytest.mark.parametrize("kind", REPORTS)
def test_docx_has_outline_figures_narrative_and_chart(kind):
    out = pipeline.produce(kind, _sample(kind), "docx")
    text, parts = _docx_text(out.content)
    for fragment in EXPECTED[kind]:
        assert fragment in text, fragment
    assert parts["word/media/image1.png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert b"rIdImage1" in parts["word/_rels/document.xml.rels"]
    assert out.filename == _sample(kind)["title"].replace("\n", "") + ".docx"


@pytest.mark.parametrize("kind", REPORTS)
def test_pdf_has_outline_figures_narrative_and_chart(kind):
    content = pipeline.produce(kind, _sample(kind), "pdf").content
    text = _pdf_text(content)
    for fragment in EXPECTED[kind]:
        # A caption's number and name are separate text runs to pdftotext: check the name.
        fragment = fragment.split("　")[-1].replace(" ", "")
        assert fragment in text.replace("　", ""), fragment
    images = {i.name for page in PdfReader(io.BytesIO(content)).pages for i in page.images}
    assert len(images) == 1


def test_report_sent_upward_uses_the_red_header_and_plain_reports_do_not():
    official = _docx_text(pipeline.produce("evaluation_report", _sample("evaluation_report"), "docx").content)[0]
    plain = _docx_text(pipeline.produce("self_evaluation_report", _sample("self_evaluation_report"), "docx").content)[0]
    assert "青溪县财政局文件" in official and "青财绩〔2024〕15号" in official and "青溪县人民政府：" in official
    assert "抄送：青溪县教育局。" in official
    assert plain.split("\n")[:2] == ["青溪县农村饮水安全巩固提升工程", "2023年度绩效自评报告"]  # title first


def test_report_figures_follow_the_form_not_retyped_text():
    payload = _sample("self_evaluation_report")
    payload["form"]["budget"]["annual_total"]["executed"] = "874.60"
    payload["form"]["budget"]["fiscal_appropriation"]["executed"] = "821.00"
    text = _docx_text(pipeline.produce("self_evaluation_report", payload, "docx").content)[0]
    # 874.60 ÷ 920 = 95.07 % → 9.51 points; total 95.62 − 9.28 + 9.51 = 95.85
    assert "预算执行率95.07%，得分9.51分" in text and "绩效自评得分95.85分" in text


def test_framework_file_is_replaceable(tmp_path):
    from rules.settings import load_settings

    source = (Path(kinds.__file__).parents[1] / "rules" / "frameworks" / "department_sichuan.toml").read_text("utf-8")
    (tmp_path / "department_2013.toml").write_text(source, encoding="utf-8")   # a bureau shadows the default
    settings = load_settings({"scoring": {"frameworks": {"directory": str(tmp_path)}}})
    payload = _sample("department_evaluation_report")
    payload["framework"] = ""
    with pytest.raises(FieldErrors) as exc:
        pipeline.validate("department_evaluation_report", payload, settings)
    assert exc.value.errors["analysis.部门决策"] == ["请填写“部门决策”的分析。"]
    assert exc.value.errors["scores.1.1.3"] == ["“合理性”（1.1.3）未评分"]
