"""The evaluation kinds (绩效评价): 自评表, 自评报告, 绩效评价报告, 部门整体支出绩效评价报告, 事前绩效评估报告
and 结果应用. Each prepare step adds the computed figures (rules.scoring, rules.frameworks) so that
no total is ever typed; the renderers only lay them out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from forms import evaluation as ev
from forms import self_evaluation as se
from generators import evaluation as layouts
from generators.tables.render import table_renderer, table_renderers
from kinds import Kind, register
from rules import plausibility
from rules.frameworks import score_framework
from rules.result_application import apply_rows
from rules.rounding import percent, ratio
from rules.scoring import execution_rate, score_self_evaluation

# --------------------------------------------------------------------------- 自评表

def prepare_self_evaluation(data: dict, settings: Mapping[str, Any]) -> dict:
    """Numbers of quantitative rows as Decimal, and the computed scores under `scoring`."""
    data = se.scoring_input(data)
    data["scoring"] = score_self_evaluation(data, settings)
    data["flagged"] = layouts.flagged_rows(data, data["scoring"])
    return data


def _project_workbook(data, settings):
    return layouts.self_evaluation_workbook(data, settings)


def _department_workbook(data, settings):
    return layouts.self_evaluation_workbook(data, settings, department=True)


register(Kind(
    id="self_evaluation",
    name="项目支出绩效自评表",
    group="绩效评价",
    schema=se.SelfEvaluationSchema,
    renderers=table_renderers(_project_workbook),
    description="财预〔2020〕10号附件1格式；预算执行率10分、产出50分、效益30分、满意度10分，得分和等级自动计算，"
                "未完全达成的指标须说明偏差原因和改进措施。",
    prepare=prepare_self_evaluation,
    computed=("scoring", "flagged"),
    warnings=lambda d, s, c: plausibility.self_evaluation(d, s),
    filename=lambda d: f"{d['project_name']}{d['year']}年度项目支出绩效自评表",
))

register(Kind(
    id="department_self_evaluation",
    name="部门整体支出绩效自评表",
    group="绩效评价",
    schema=se.DepartmentSelfEvaluationSchema,
    renderers=table_renderers(_department_workbook),
    description="部门（单位）整体支出的年度资金、主要任务、年度总体目标和绩效指标，按同一评分规则自动计算得分和等级。",
    prepare=prepare_self_evaluation,
    computed=("scoring", "flagged"),
    warnings=lambda d, s, c: plausibility.self_evaluation(d, s),
    filename=lambda d: f"{d['unit']}{d['year']}年度部门整体支出绩效自评表",
))


# --------------------------------------------------------------------------- reports

def _report_renderer(fmt: str, build):
    def render(data: dict, settings: Mapping[str, Any]) -> bytes:
        doc = build(data, settings)
        if fmt == "docx":
            from generators.gongwen.docx import render_docx

            return render_docx(doc)
        from generators.gongwen.pdf import render_pdf

        return render_pdf(doc)

    render.__name__ = f"render_{getattr(build, '__name__', 'report')}_{fmt}"
    return render


def _reports(build) -> dict:
    return {fmt: _report_renderer(fmt, build) for fmt in ("docx", "pdf")}


def prepare_self_evaluation_report(data: dict, settings: Mapping[str, Any]) -> dict:
    return {**data, "form": prepare_self_evaluation(data["form"], settings)}


def _framework_result(schema_class, data: dict, settings: Mapping[str, Any]) -> dict:
    framework = schema_class(settings=settings).load_framework_for(data)
    return score_framework(framework, data["scores"], settings)


def prepare_evaluation_report(data: dict, settings: Mapping[str, Any]) -> dict:
    schema = ev.DepartmentEvaluationReportSchema if "unit" in data else ev.EvaluationReportSchema
    budget = data["budget"]
    return {**data, "framework_result": _framework_result(schema, data, settings),
            "execution_rate": execution_rate(budget["executed"], budget["adjusted_budget"])}


def prepare_ex_ante(data: dict, settings: Mapping[str, Any]) -> dict:
    out = {**data, "framework_result": _framework_result(ev.ExAnteAssessmentSchema, data, settings), "cut_rate": None}
    if data.get("recommended_amount") is not None and data["requested_amount"]:
        out["cut_rate"] = percent(ratio(data["requested_amount"] - data["recommended_amount"], data["requested_amount"]))
    return out


def prepare_result_application(data: dict, settings: Mapping[str, Any]) -> dict:
    return {**data, "application": apply_rows(data["rows"], settings)}


register(Kind(
    id="self_evaluation_report",
    name="项目支出绩效自评报告",
    group="绩效评价",
    schema=ev.SelfEvaluationReportSchema,
    renderers=_reports(lambda d, s: layouts.self_evaluation_report_document(d, s)),
    templates=("gongwen.html", "gongwen.css"),
    description="自评表的得分、等级和各项数据自动写入报告，附得分汇总表、指标完成情况表和一级指标得分图；"
                "单位随文报送用普通版式，填写“official”则按公文（报告）版式上报。",
    prepare=prepare_self_evaluation_report,
    computed=("form.scoring", "form.flagged"),
    warnings=lambda d, s, c: [replace(w, path=f"form.{w.path}") for w in plausibility.self_evaluation(d["form"], s)],
    filename=lambda d: d["title"].replace("\n", ""),
))

register(Kind(
    id="evaluation_report",
    name="项目支出绩效评价报告",
    group="绩效评价",
    schema=ev.EvaluationReportSchema,
    renderers=_reports(lambda d, s: layouts.evaluation_report_document(d, s)),
    templates=("gongwen.html", "gongwen.css"),
    description="按财预〔2020〕10号附件3提纲，采用决策、过程、产出、效益指标体系框架（数据文件，可替换）评分，"
                "得分、等级、评分表和得分图自动生成。",
    prepare=prepare_evaluation_report,
    computed=("framework_result", "execution_rate"),
    warnings=lambda d, s, c: plausibility.evaluation_budget(d, s),
    filename=lambda d: d["title"].replace("\n", ""),
))

register(Kind(
    id="department_evaluation_report",
    name="部门整体支出绩效评价报告",
    group="绩效评价",
    schema=ev.DepartmentEvaluationReportSchema,
    renderers=_reports(lambda d, s: layouts.evaluation_report_document(d, s, department=True)),
    templates=("gongwen.html", "gongwen.css"),
    description="采用财预〔2013〕53号投入、过程、产出、效果框架或地方框架（如 department_sichuan）评分的部门整体支出绩效评价报告。",
    prepare=prepare_evaluation_report,
    computed=("framework_result", "execution_rate"),
    warnings=lambda d, s, c: plausibility.evaluation_budget(d, s),
    filename=lambda d: d["title"].replace("\n", ""),
))


def _ex_ante_workbook(data, settings):
    return layouts.framework_workbook(data, "事前绩效评估评分表")


register(Kind(
    id="ex_ante_assessment",
    name="事前绩效评估报告",
    group="绩效评价",
    schema=ev.ExAnteAssessmentSchema,
    renderers={**_reports(lambda d, s: layouts.ex_ante_report_document(d, s)),
               "xlsx": table_renderer("xlsx", _ex_ante_workbook)},
    templates=("gongwen.html", "gongwen.css"),
    description="立项必要性、投入经济性、绩效目标合理性、实施方案可行性、筹资合规性五个维度评分，"
                "按设置的分数线自动得出“予以支持／调整完善后予以支持／不予支持”；xlsx为评分表。",
    prepare=prepare_ex_ante,
    computed=("framework_result", "cut_rate"),
    filename=lambda d: d["title"].replace("\n", ""),
))

register(Kind(
    id="result_application",
    name="绩效评价结果应用表",
    group="绩效评价",
    schema=ev.ResultApplicationSchema,
    renderers=table_renderers(lambda d, s: layouts.result_application_workbook(d)),
    description="逐项目列示评价得分、等级、主要问题和下年预算调整（调减、取消、优先保障、维持），自动合计。",
    prepare=prepare_result_application,
    computed=("application",),
    filename=lambda d: f"{d['year']}年度绩效评价结果应用表",
))
