"""Summary drafts: a `report` whose statistics come from the data and a `request` submitting it.

The figures are checked in the rendered documents (docx text), from plain data and from
submissions stored in the database.
"""

from __future__ import annotations

import copy
import io
import json
import re
from decimal import Decimal as D

import pytest
from docx import Document

from forms.base import FieldErrors
from kinds import pipeline
from rules.settings import defaults
from service.drafts import summary_drafts
from tests.conftest import load_sample
from tests.rules.test_statistics import dataset

INPUTS = {
    "year": 2024, "region": "青溪县", "issuer": "青溪县财政局", "addressee": "县人民政府", "signers": ["周建华"],
    "report_doc_number": "青财绩〔2025〕3号", "request_doc_number": "青财绩〔2025〕4号", "date": "2025年3月10日",
    "contact": "林晓雯", "phone": "0797-5550176", "monitoring_period": "1-9月",
    "practices": "（一）健全制度。出台项目支出绩效评价实施细则和运行监控办法。\n（二）强化培训。全年举办业务培训3期。",
    "problems": "（一）部分单位指标设置偏粗。\n（二）基层专业力量不足。",
    "next_steps": "（一）扩大部门整体支出绩效评价范围。\n（二）加强评价结果与预算安排挂钩。",
}
TITLE = "青溪县2024年度全面实施预算绩效管理工作总结报告"


def docx_text(content: bytes) -> str:
    """All paragraph text of a docx with whitespace removed (the engine splits runs freely)."""
    return re.sub(r"\s", "", "".join(p.text for p in Document(io.BytesIO(content)).paragraphs))


def drafts_from_plain_data() -> dict:
    return summary_drafts({**INPUTS, "units": dataset()}, defaults())


# Every statistic of tests/rules/test_statistics.dataset(), as the report must state it.
EXPECTED_REPORT_FIGURES = [
    "纳入统计的预算单位4家，其中有绩效管理数据的2家，涉及项目5个",
    "2家预算单位编报了部门整体绩效目标，共设置二级指标5个、三级指标7个，其中定量三级指标6个，总体量化率85.71%，"
    "各单位量化率的平均值为83.33%",
    "1家单位的2个项目编报了项目支出绩效目标，共设置二级指标7个、三级指标7个，其中定量三级指标5个，总体量化率71.43%，"
    "各项目量化率的平均值为65.00%，最低为50.00%",
    "财政部门对2个项目的绩效目标进行了审核，平均得分69.28分",
    "截至2024年9月，纳入绩效运行监控的部门预算项目覆盖1家单位、2个项目，预算资金总额2,000.00万元，已执行1,400.00万元，"
    "执行率70.00%，绩效目标整体完成率86.00%，偏差值16.00个百分点，绩效自评平均得分90.25分",
    "2家单位对5个项目开展了绩效自评，平均得分82.10分；评价等级为“优”的2个、“良”的2个、“中”的0个、“差”的1个，"
    "分别占40.00%、40.00%、0.00%、20.00%",
    "应公开绩效自评结果的3家单位中，已向社会公开2家，公开率66.67%；另有1家单位不纳入公开范围，其中因“涉密”不公开的1家",
]


def test_report_states_every_figure_in_the_docx():
    drafts = drafts_from_plain_data()
    text = docx_text(pipeline.produce("report", drafts["report"], "docx").content)
    for figure in EXPECTED_REPORT_FIGURES:
        assert figure in text, figure
    # the user's narrative sections follow the statistics, under their own headings
    for heading in ("二、主要做法与成效", "三、存在的问题", "四、下一步工作", "（二）强化培训。全年举办业务培训3期。"):
        assert heading in text
    assert drafts["report"]["title"] == TITLE


def test_request_submits_the_report_as_its_attachment():
    drafts = drafts_from_plain_data()
    request = pipeline.validate("request", drafts["request"])
    assert request["title"] == f"青溪县财政局关于上报《{TITLE}》的请示"
    assert request["addressees"] == ["县人民政府"]
    assert request["attachments"] == [{"name": TITLE, "title": "", "body": drafts["report"]["body"]}]
    assert request["body"].splitlines()[-1] == "妥否，请批示。"
    text = docx_text(pipeline.produce("request", drafts["request"], "docx").content)
    assert ("报告显示，全年纳入统计的预算单位4家、项目5个，项目绩效目标设置三级指标7个，总体量化率71.43%，"
            "监控项目预算执行率70.00%，绩效目标整体完成率86.00%，项目绩效自评平均得分82.10分。") in text
    assert f"附件：{TITLE}" in text
    assert "（联系人：林晓雯，联系电话：0797-5550176）" in text
    for figure in EXPECTED_REPORT_FIGURES:  # the attachment carries the whole report
        assert figure in text, figure


def test_both_drafts_render_as_pdf():
    drafts = drafts_from_plain_data()
    for kind in ("report", "request"):
        assert pipeline.produce(kind, drafts[kind], "pdf").content.startswith(b"%PDF")


def test_a_request_phrase_in_the_narrative_is_refused_for_the_report():
    with pytest.raises(FieldErrors) as exc:
        summary_drafts({**INPUTS, "units": dataset(), "next_steps": "以上工作安排，请批示。"}, defaults())
    assert exc.value.errors == {
        "report.body": ["报告中不得夹带请示事项：请删去“请批示”，需要批示的事项请另行请示。"]}


def test_draft_inputs_are_validated():
    bad = {**INPUTS, "units": [], "request_doc_number": "青财绩[2025]4号"}
    del bad["practices"]
    with pytest.raises(FieldErrors) as exc:
        summary_drafts(bad, defaults())
    assert exc.value.errors == {
        "practices": ["必填。"],
        "request_doc_number": ["年份要用六角括号〔〕，不能用[]、（）或【】：例如“青财绩〔2025〕4号”。"],
    }


# ------------------------------------------------------------------------------ stored data


def _store(app, rows):
    from storage.models import Department, Submission, Unit

    with app.extensions["jxdoc.db"].write() as session:
        dept = Department(code="1", name="青溪县人民政府")
        session.add(dept)
        units = {code: Unit(code=code, name=name, department=dept)
                 for code, name in (("101", "青溪县水利局"), ("102", "青溪县农业农村局"))}
        session.add_all(units.values())
        session.flush()
        for kind, unit, status, data in rows:
            sub = Submission(kind=kind, unit_id=units[unit].id, status=status, title=kind)
            sub.data = data
            session.add(sub)


def _sample(kind: str, **changes) -> dict:
    return {**copy.deepcopy(load_sample(kind)), **changes}


def later_monitoring(executed: str = "1000.00", period: str = "1-9月") -> dict:
    """The monitoring sample (1-6月: 702.35 of 1,260.00 万元) at a later period."""
    later = _sample("monitoring", period=period)
    later["funds"]["annual_total"]["executed"] = executed
    later["funds"]["fiscal_appropriation"]["executed"] = str(D(executed) - D("100.00"))
    later["funds"]["other_funds"]["executed"] = "100.00"
    return later


def stored_rows():
    """Whole documents, as a clerk submits them (the loader validates each again)."""
    evaluation = load_sample("self_evaluation")  # scores 95.62 (优) under the default rules
    other = {**copy.deepcopy(evaluation), "project_name": "河道清淤整治"}
    return [
        ("department_target_declaration", "101", "submitted", _sample("department_target_declaration", year=2023)),
        ("target_declaration", "101", "approved", _sample("target_declaration", year=2023, project_name="农村危房改造")),
        ("target_declaration", "101", "submitted",
         _sample("target_declaration", year=2023, project_name="建筑工人技能培训")),
        ("target_declaration", "102", "submitted", _sample("target_declaration", year=2022, project_name="上年项目")),
        # Projects are counted by name here: the declarations name them without a code.
        ("monitoring", "101", "submitted", _sample("monitoring", year=2023, project_name="农村危房改造",
                                                   project_code="")),
        ("monitoring", "101", "submitted", {**later_monitoring("900.00"), "year": 2023,
                                            "project_name": "建筑工人技能培训", "project_code": ""}),
        ("self_evaluation", "101", "submitted", evaluation),
        ("self_evaluation", "102", "approved", other),
        ("self_evaluation", "102", "draft", {**other, "project_name": "未提交的草稿"}),
        ("department_self_evaluation", "102", "submitted", load_sample("department_self_evaluation")),
        ("target_review", "101", "submitted", _sample("target_review", year=2023, project_name="农村危房改造")),
    ]


def test_api_drafts_from_stored_submissions(app, client):
    _store(app, stored_rows())
    resp = client.post("/api/v1/drafts/summary", json={**INPUTS, "year": 2023})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert set(body) == {"report", "request", "statistics"}
    stats = body["statistics"]
    assert (stats["units"], stats["projects"]) == (2, 4)  # 2 declared + 2 evaluated; the draft and 2022 left out
    assert stats["self_evaluations"]["project"]["average_score"] == "95.62"
    text = docx_text(pipeline.produce("report", body["report"], "docx").content)
    for figure in (
        "纳入统计的预算单位2家，其中有绩效管理数据的2家，涉及项目4个",
        # the samples' indicators: 11 of 13 quantitative (84.62 %); twice 6 二级 and 10 三级, 9 quantitative
        "1家预算单位编报了部门整体绩效目标，共设置二级指标9个、三级指标13个，其中定量三级指标11个，总体量化率84.62%",
        "1家单位的2个项目编报了项目支出绩效目标，共设置二级指标12个、三级指标20个，其中定量三级指标18个，总体量化率90.00%",
        "财政部门对1个项目的绩效目标进行了审核，平均得分85.00分",  # the review sample's criteria add up to 85.00
        # 1-6月 702.35 and 1-9月 900.00 of 1,260.00 万元 each: 1,602.35 / 2,520.00 = 63.59 %
        "预算资金总额2,520.00万元，已执行1,602.35万元，执行率63.59%",
        "2家单位对2个项目开展了绩效自评，平均得分95.62分；评价等级为“优”的2个、“良”的0个、“中”的0个、“差”的0个，"
        "分别占100.00%、0.00%、0.00%、0.00%",
        "1家单位完成了部门整体支出绩效自评，平均得分98.77分",
    ):
        assert figure in text, figure
    request_text = docx_text(pipeline.produce("request", body["request"], "docx").content)
    assert "项目绩效自评平均得分95.62分" in request_text


def test_api_refuses_bad_inputs_with_the_envelope(client):
    resp = client.post("/api/v1/drafts/summary", json={**INPUTS, "addressee": ""})
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == {"addressee": ["不能为空。"]}


def test_cli_writes_both_documents(runner, tmp_path):
    from service.cli import main

    source = tmp_path / "draft.json"
    source.write_text(json.dumps({**INPUTS, "units": dataset()}, ensure_ascii=False), encoding="utf-8")
    report, request, payloads = tmp_path / "report.docx", tmp_path / "request.docx", tmp_path / "drafts.json"
    result = runner.invoke(main, ["draft", "summary-report", "--year", "2024", "--input", str(source),
                                  "-o", str(report), "--request-output", str(request), "--json", str(payloads)])
    assert result.exit_code == 0, result.output
    assert EXPECTED_REPORT_FIGURES[1] in docx_text(report.read_bytes())
    assert "妥否，请批示。" in docx_text(request.read_bytes())
    saved = json.loads(payloads.read_text(encoding="utf-8"))
    assert pipeline.validate("request", saved["request"])["attachments"][0]["name"] == TITLE


def test_loader_keeps_the_latest_monitoring_period_and_scores_reviews():
    from storage.models import Submission, Unit
    from storage.records import group_records

    unit = Unit(code="118001", name="青溪县水务局")

    def sub(kind, data, status="submitted"):
        s = Submission(kind=kind, status=status, unit=unit)
        s.data = data
        return s

    monitoring = load_sample("monitoring")  # 1-6月: 702.35 of 1,260.00 万元 executed
    review = {**load_sample("target_review"), "year": monitoring["year"]}  # its criteria add up to 85.00
    later = later_monitoring("1000.00")
    units = group_records([sub("monitoring", later), sub("monitoring", monitoring), sub("target_review", review)],
                          monitoring["year"], defaults())
    # The later period's form, validated again (storage.records.stored_data: normalised amounts).
    assert [m["period"] for u in units for m in u["monitoring"]] == ["1-9月"]
    assert [m["funds"]["annual_total"]["executed"] for u in units for m in u["monitoring"]] == ["1000.00"]
    assert [D(r["score"]) for u in units for r in u["reviews"]] == [D("85.00")]
    assert units[0]["unit"] == {"code": "118001", "name": "青溪县水务局"}  # the unit they are stored under
    assert group_records([Submission(kind="monitoring", status="submitted", data_json=json.dumps(later))],
                         monitoring["year"], defaults()) == []  # stored under no unit: not counted
    from rules.statistics import compute

    row = compute(units).as_dict()["monitoring"][-1]
    assert (row["projects"], row["execution_rate"]) == (1, D("79.37"))  # 1,000.00 / 1,260.00


def test_stored_data_without_disclosure_states_no_public_figure(app, client):
    """Stored submissions say nothing of publication: the draft states no 公开 figure (it said
    “已向社会公开0家，公开率0.00%”)."""
    _store(app, stored_rows())
    body = client.post("/api/v1/drafts/summary", json={**INPUTS, "year": 2023}).get_json()
    assert body["statistics"]["disclosure"]["units"] == 0 and body["statistics"]["disclosure"]["unknown"] == 2
    text = docx_text(pipeline.produce("report", body["report"], "docx").content)
    assert "公开" not in text, text
    assert "公开" not in docx_text(pipeline.produce("request", body["request"], "docx").content)


def test_a_year_without_data_is_refused(app, client):
    _store(app, stored_rows())
    resp = client.post("/api/v1/drafts/summary", json={**INPUTS, "year": 2019})
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == {"year": [
        "该年度没有已提交的数据：2019年度没有已提交或已审核的绩效目标申报表、监控表、自评表或审核表，无法生成总结报告。"]}
    with pytest.raises(FieldErrors) as exc:
        summary_drafts({**INPUTS, "units": []}, defaults())
    assert exc.value.errors["year"][0].startswith("该年度没有已提交的数据")


def test_partial_disclosure_data_says_what_it_covers():
    units = dataset()
    del units[0]["disclosure"]
    drafts = summary_drafts({**INPUTS, "units": units}, defaults())
    text = docx_text(pipeline.produce("report", drafts["report"], "docx").content)
    assert ("应公开绩效自评结果的2家单位中，已向社会公开1家，公开率50.00%；另有1家单位不纳入公开范围，其中因“涉密”不公开的1家"
            "（另有1家单位没有公开情况的数据，未计入）") in text
