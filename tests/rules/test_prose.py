"""rules.prose through the schemas: headings typed with half-width brackets are set as headings,
“1、” normalised or refused per settings, placeholders refused in submitted documents."""

import io
import re

import pytest
from docx import Document

from forms.base import FieldErrors
from kinds import pipeline
from rules.prose import normalise_headings, placeholders
from rules.settings import SettingsError, load_settings
from tests.conftest import load_sample


@pytest.mark.parametrize("typed, written", [
    ("(三)加强监督", "（三）加强监督"),
    ("(一）健全制度", "（一）健全制度"),
    ("（二)强化培训", "（二）强化培训"),
    ("( 四 )落实责任", "（四）落实责任"),
    ("(2)培训人次", "（2）培训人次"),
    ("1、编报情况", "1.编报情况"),
    ("12、审核情况", "12.审核情况"),
    ("截至(三)季度末", "截至(三)季度末"),  # not at the start of a line: not a heading
    ("一、主要工作", "一、主要工作"),
])
def test_normalise_headings(typed, written):
    assert normalise_headings(f"正文第一段。\n{typed}") == f"正文第一段。\n{written}"


def test_report_sets_half_width_headings_as_headings():
    payload = load_sample("report")
    payload["body"] = "现将有关情况报告如下。\n(一)健全制度体系。印发实施细则3项。\n1、编报情况。全部编报。"
    data = pipeline.validate("report", payload)
    assert data["body"].splitlines()[1:] == ["（一）健全制度体系。印发实施细则3项。", "1.编报情况。全部编报。"]
    document = Document(io.BytesIO(pipeline.produce("report", payload, "docx").content))
    heading = next(p for p in document.paragraphs if "健全制度体系" in p.text)
    faces = {r.element.rPr.rFonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")
             for r in heading.runs if "健全制度体系" in r.text and r.element.rPr is not None and r.element.rPr.rFonts is not None}
    assert faces and all("楷体" in f for f in faces), faces  # the level-2 heading face, not 仿宋 body text


def test_number_comma_refused_when_the_settings_say_so():
    settings = load_settings({"prose": {"headings": {"number_comma": "refuse"}}})
    payload = load_sample("report")
    payload["body"] = "现将有关情况报告如下。\n1、编报情况。"
    with pytest.raises(FieldErrors) as exc:
        pipeline.validate("report", payload, settings)
    assert exc.value.errors == {"body": ["三级标题应写成“1.”（阿拉伯数字加下脚点），不写“1、”（GB/T 9704-2012 7.3.3）。"]}
    with pytest.raises(SettingsError):
        load_settings({"prose": {"headings": {"number_comma": "maybe"}}})
    with pytest.raises(SettingsError):
        load_settings({"prose": {"placeholders": {"patterns": ["(unclosed"]}}})


@pytest.mark.parametrize("text, found", [
    ("全年新增X个项目", ["全年新增X个项目"]),
    ("安排资金X万元。", ["安排资金X万元。"]),
    ("××单位：", ["××单位："]),
    ("执行率达到ＸＸ％", ["执行率达到ＸＸ％"]),
    ("培训3期，共420人次", []),
    ("X射线检查设备", []),
])
def test_placeholders(text, found):
    assert placeholders(text) == found


def test_placeholders_refused_in_a_report_with_the_field_named():
    payload = load_sample("report")
    payload["body"] = payload["body"] + "\n下一步，计划新增X个项目，安排资金X万元。"
    with pytest.raises(FieldErrors) as exc:
        pipeline.validate("report", payload)
    (message,) = exc.value.errors["body"]
    assert message.startswith("还有未填写的占位内容：“") and "新增X个项目" in message and "X万元" in message
    form = load_sample("self_evaluation")
    form["budget"]["deviation_reason"] = "××原因"
    with pytest.raises(FieldErrors) as exc:
        pipeline.validate("self_evaluation", form)
    assert list(exc.value.errors) == ["budget.deviation_reason"]
    assert re.search("××原因", exc.value.errors["budget.deviation_reason"][0])
