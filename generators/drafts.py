"""Drafts of the yearly 总结报告 and the 请示 that submits it, with every figure taken from
rules.statistics.

`summary_drafts(stats, inputs, settings)` returns two plain payloads, a `report` and a `request`,
in the input form of those kinds (what a clerk would POST to /api/v1/documents/report): they can be
edited, validated and rendered like any other 公文. The statistics paragraphs are generated here;
the narrative sections (做法与成效, 存在的问题, 下一步工作) are the user's text, placed as given.

Figures are rounded once, for display, by rules.rounding/rules.formatting; monitoring sentences are
rules.monitoring.summary_text, so a figure reads the same in every document of the service.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rules.formatting import percent_text
from rules.monitoring import summary_text
from rules.rounding import percent, quantize
from rules.statistics import DEPARTMENT, PROJECT, ScoreStatistics, Statistics

_NUMERALS = "一二三四五六七八九十"


def _pct(rate: Decimal | None) -> str:
    return percent_text(percent(rate))


def _score(value: Decimal) -> str:
    return f"{quantize(value):.2f}分"


def default_report_title(inputs: Mapping[str, Any]) -> str:
    return f"{inputs['region']}{inputs['year']}年度全面实施预算绩效管理工作总结报告"


def report_title(inputs: Mapping[str, Any]) -> str:
    return inputs.get("report_title") or default_report_title(inputs)


# ------------------------------------------------------------------------------ sentences


def indicator_sentences(stats: Statistics) -> list[str]:
    """二级/三级/定量 counts with the pooled 量化率 and the mean of the units' (or projects') rates."""
    out = []
    dept = stats.indicators.get(DEPARTMENT)
    if dept:
        out.append(
            f"{dept.units}家预算单位编报了部门整体绩效目标，共设置二级指标{dept.level2}个、三级指标{dept.level3}个，"
            f"其中定量三级指标{dept.quantitative}个，总体量化率{_pct(dept.pooled_quantified_ratio)}，"
            f"各单位量化率的平均值为{_pct(dept.mean_unit_quantified_ratio)}。"
        )
    proj = stats.indicators.get(PROJECT)
    if proj:
        out.append(
            f"{proj.units}家单位的{proj.declarations}个项目编报了项目支出绩效目标，共设置二级指标{proj.level2}个、"
            f"三级指标{proj.level3}个，其中定量三级指标{proj.quantitative}个，总体量化率"
            f"{_pct(proj.pooled_quantified_ratio)}，各项目量化率的平均值为{_pct(proj.mean_project_quantified_ratio)}，"
            f"最低为{_pct(proj.min_project_quantified_ratio)}。"
        )
    return out


def grade_sentence(scores: ScoreStatistics) -> str:
    """“评为“优”的3个、“良”的4个……，分别占37.50%、50.00%……” — every configured grade, the
    shares adding up to 100.00%."""
    grades = scores.grades.grades
    counts = "、".join(f"“{g.label}”的{g.count}个" for g in grades)
    shares = "、".join(percent_text(g.share) for g in grades)
    return f"评价等级为{counts}，分别占{shares}"


def evaluation_sentences(stats: Statistics) -> list[str]:
    out = []
    proj = stats.self_evaluations.get(PROJECT)
    if proj:
        out.append(
            f"{proj.units}家单位对{proj.count}个项目开展了绩效自评，平均得分{_score(proj.average_score)}；"
            f"{grade_sentence(proj)}。"
        )
    dept = stats.self_evaluations.get(DEPARTMENT)
    if dept:
        out.append(
            f"{dept.count}家单位完成了部门整体支出绩效自评，平均得分{_score(dept.average_score)}；"
            f"{grade_sentence(dept)}。"
        )
    return out


def review_sentence(stats: Statistics) -> str | None:
    if not stats.reviews.count:
        return None
    return f"财政部门对{stats.reviews.count}个项目的绩效目标进行了审核，平均得分{_score(stats.reviews.average_score)}。"


def disclosure_sentence(stats: Statistics) -> str | None:
    """The 公开 sentence, only from disclosure data (the units' own flags or the stored disclosure
    batches' results); None when no unit has any, so a draft never states a 公开率 nobody supplied."""
    d = stats.disclosure
    if not d.units or (not d.required and not d.excluded):
        return None
    text = (f"应公开绩效自评结果的{d.required}家单位中，已向社会公开{d.published}家，"
            f"公开率{_pct(d.coverage)}")
    if d.excluded:
        reasons: dict[str, int] = {}
        for _unit, reason in d.excluded:
            reasons[reason or "其他原因"] = reasons.get(reason or "其他原因", 0) + 1
        why = "、".join(f"因“{r}”不公开的{n}家" for r, n in reasons.items())
        text += f"；另有{len(d.excluded)}家单位不纳入公开范围，其中{why}"
    if d.unknown:
        text += f"（另有{d.unknown}家单位没有公开情况的数据，未计入）"
    return text + "。"


def statistics_sections(stats: Statistics, inputs: Mapping[str, Any], settings: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """(level-2 heading, sentences) of the statistics part, only for the data present."""
    sections = []
    overview = (f"{inputs['year']}年度，纳入统计的预算单位{stats.units}家，其中有绩效管理数据的"
                f"{stats.units_covered}家，涉及项目{stats.projects}个。")
    sections.append(("总体情况", [overview]))
    if stats.indicators:
        sections.append(("绩效目标管理", indicator_sentences(stats)))
    if stats.reviews.count:
        sections.append(("绩效目标审核", [review_sentence(stats)]))
    if stats.monitoring is not None:
        sections.append(("绩效运行监控", [summary_text(stats.monitoring, inputs["year"], inputs.get("monitoring_period") or "1-12月", settings)]))
    if stats.self_evaluations:
        sections.append(("绩效自评", evaluation_sentences(stats)))
    disclosure = disclosure_sentence(stats)
    if disclosure:
        sections.append(("绩效信息公开", [disclosure]))
    return sections


# ------------------------------------------------------------------------------ payloads


def _numbered(level: int, index: int, text: str) -> str:
    numeral = _NUMERALS[index] if index < len(_NUMERALS) else str(index + 1)
    return f"{numeral}、{text}" if level == 1 else f"（{numeral}）{text}"


def report_body(stats: Statistics, inputs: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    """The report's body: an opening line, the generated statistics (part 一), then the user's three
    sections as given (parts 二 to 四). Each statistics paragraph leads with its （N） heading."""
    lines = [f"现将{inputs['region']}{inputs['year']}年度全面实施预算绩效管理工作情况报告如下。"]
    lines.append(_numbered(1, 0, "年度预算绩效管理工作基本情况"))
    for i, (heading, sentences) in enumerate(statistics_sections(stats, inputs, settings)):
        lines.append(_numbered(2, i, f"{heading}。") + "".join(sentences))
    for i, (heading, key) in enumerate((("主要做法与成效", "practices"), ("存在的问题", "problems"),
                                        ("下一步工作", "next_steps")), start=1):
        lines.append(_numbered(1, i, heading))
        lines.extend(line for line in str(inputs[key]).splitlines() if line.strip())
    return "\n".join(lines)


def _date_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, _dt.date) else str(value)


def key_figures(stats: Statistics) -> str:
    """One sentence of the request recalling the headline figures of the report."""
    parts = [f"全年纳入统计的预算单位{stats.units}家、项目{stats.projects}个"]
    for scope, label in ((PROJECT, "项目"), (DEPARTMENT, "部门整体")):
        counts = stats.indicators.get(scope)
        if counts:
            parts.append(f"{label}绩效目标设置三级指标{counts.level3}个，总体量化率{_pct(counts.pooled_quantified_ratio)}")
            break
    if stats.monitoring is not None:
        overall = stats.monitoring.overall
        parts.append(f"监控项目预算执行率{_pct(overall.execution_rate)}")
        if overall.target_completion_rate is not None:
            parts.append(f"绩效目标整体完成率{_pct(overall.target_completion_rate)}")
    scores = stats.self_evaluations.get(PROJECT)
    if scores:
        parts.append(f"项目绩效自评平均得分{_score(scores.average_score)}")
    return "报告显示，" + "，".join(parts) + "。"


def summary_drafts(stats: Statistics, inputs: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, dict]:
    """{"report": payload, "request": payload} in the input form of the `report` and `request` kinds.

    `inputs` is the validated output of forms.drafts.SummaryDraftSchema.
    """
    title = report_title(inputs)
    body = report_body(stats, inputs, settings)
    date = _date_text(inputs["date"])
    imprint = {"cc": list(inputs.get("cc") or []), "printed_by": inputs.get("printed_by") or ""}
    if imprint["printed_by"]:
        imprint["printed_on"] = date
    report = {
        "issuer": inputs["issuer"],
        "doc_number": inputs["report_doc_number"],
        "direction": "upward",
        "signers": list(inputs["signers"]),
        "title": title,
        "addressees": [inputs["addressee"]],
        "body": body,
        "signature": [inputs["issuer"]],
        "seal": True,
        "date": date,
        "imprint": dict(imprint),
    }
    basis = inputs.get("basis") or (
        f"根据年度预算绩效管理工作安排，{inputs['issuer']}对{inputs['region']}{inputs['year']}年度全面实施预算绩效管理"
        f"工作进行了全面总结，形成了《{title}》（见附件）。"
    )
    request_body = "\n".join([
        basis,
        key_figures(stats),
        f"现将《{title}》随文报上，请予审定。",
        "妥否，请批示。",
    ])
    request = {
        "issuer": inputs["issuer"],
        "doc_number": inputs["request_doc_number"],
        "direction": "upward",
        "signers": list(inputs["signers"]),
        "title": f"{inputs['issuer']}关于上报《{title}》的请示",
        "addressees": [inputs["addressee"]],
        "body": request_body,
        "attachments": [{"name": title, "body": body}],
        "signature": [inputs["issuer"]],
        "seal": True,
        "date": date,
        "annotation": f"联系人：{inputs['contact']}，联系电话：{inputs['phone']}",
        "imprint": dict(imprint),
    }
    return {"report": report, "request": request}
