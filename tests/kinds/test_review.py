"""绩效目标审核 (target_review): the computed total and grade, the docx a reviewer files, labels
accepted for choices, and the settings that drive the criteria and the outcome."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal

import pytest
from lxml import etree

import kinds
from forms.base import FieldErrors
from forms.settings import load_settings
from kinds import pipeline
from rules.settings import SettingsError
from storage.models import dumps
from tests.conftest import load_sample

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def test_total_grade_and_status_are_computed():
    data = pipeline.validate("target_review", load_sample("target_review"))
    assert data["total_score"] == Decimal("85.00")
    assert (data["grade"], data["grade_label"]) == ("good", "良")
    assert data["outcome"] == "conditionally_approved" and data["declaration_status"] == "returned"


def test_chinese_labels_are_accepted_for_choices():
    payload = load_sample("target_review")
    payload.update(reviewer_type="第三方专家", outcome="退回修改", declaration_kind="部门（单位）整体支出绩效目标申报表")
    data = pipeline.validate("target_review", payload)
    assert (data["reviewer_type"], data["outcome"], data["declaration_kind"]) == (
        "third_party", "returned", "department_target_declaration")


def test_docx_is_the_review_table_with_the_outcome_ticked():
    out = pipeline.produce("target_review", load_sample("target_review"), "docx")
    assert out.filename == "青溪县2025年基层卫生人员能力提升培训项目绩效目标审核意见表.docx"
    with zipfile.ZipFile(io.BytesIO(out.content)) as zf:
        root = etree.fromstring(zf.read("word/document.xml"))
    table = root.find(f".//{W}tbl")
    rows = ["".join(t.text or "" for t in tr.iter(f"{W}t")) for tr in table.iter(f"{W}tr")]
    text = "".join(rows)
    assert "项目支出绩效目标审核意见表" in "".join(t.text or "" for t in root.iter(f"{W}t"))
    assert any(r.startswith("完整性") and "20.0018.00" in r for r in rows)
    assert any(r.startswith("合计") and "100.0085.00审核等级：良" in r for r in rows)
    assert "□通过　　■修改后通过　　□退回修改" in text
    assert "1.将“基层医务人员业务能力”改为可衡量的指标" in text
    assert 4 in [int(g.get(f"{W}val")) for g in table.iter(f"{W}gridSpan")]  # 综合意见 across four columns


def test_xlsx_keeps_the_total_locked():
    import openpyxl

    content = pipeline.produce("target_review", load_sample("target_review"), "xlsx").content
    ws = openpyxl.load_workbook(io.BytesIO(content)).active
    total = next(row for row in ws.iter_rows() if row[0].value == "合计")
    assert total[3].value == 85 and total[3].protection.locked


def test_approval_needs_the_pass_score_which_is_a_setting():
    payload = load_sample("target_review")
    payload.update(outcome="approved")
    payload["criteria"]["feasibility"]["score"] = "5"
    with pytest.raises(FieldErrors) as exc:
        pipeline.validate("target_review", payload)
    assert exc.value.errors == {"outcome": ["审核得分73.00分，低于通过所需的80分：请选择“修改后通过”或“退回修改”。"]}
    settings = load_settings({"target_review": {"rules": {"approve_min_score": "70"}}})
    assert pipeline.validate("target_review", payload, settings)["declaration_status"] == "approved"


def test_conditional_approval_may_approve_by_setting():
    settings = load_settings({"target_review": {"outcomes": {"conditionally_approved": "approved"}}})
    assert pipeline.validate("target_review", load_sample("target_review"), settings)["declaration_status"] == "approved"


@pytest.mark.parametrize(("override", "message"), [
    ({"outcomes": {"returned": "draft"}}, "outcomes.returned：应为 \"approved\"（已审核）或 \"returned\"（退回修改）。"),
    ({"rules": {"approve_min_score": "120"}}, "rules.approve_min_score：应为0至100之间的数（加引号）。"),
])
def test_bad_review_settings_are_refused(override, message):
    with pytest.raises(SettingsError) as exc:
        load_settings({"target_review": override})
    assert exc.value.messages == {"target_review": [message]}


def test_criteria_points_must_add_up_to_100():
    from rules.settings import default_values

    criteria = default_values()["target_review"]["criteria"]
    criteria[0]["points"] = "25"
    with pytest.raises(SettingsError) as exc:
        load_settings({"target_review": {"criteria": criteria}})
    assert exc.value.messages == {"target_review": ["criteria.points：四项分值应为正数，合计100分（小数请加引号）。"]}


def test_a_stored_review_validates_again_with_its_total():
    data = pipeline.validate("target_review", load_sample("target_review"))
    stored = json.loads(dumps(kinds.get("target_review").schema_instance().dump(data)))
    assert stored["total_score"] == "85.00"  # statistics read it from the stored data
    assert pipeline.validate("target_review", stored) == data
