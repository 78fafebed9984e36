"""The 绩效运行监控 kinds: 项目支出 and 部门整体支出绩效目标执行监控表 (per unit in batches), and the
summary across units with its paragraph for a report.

Each prepare step adds the figures rules.monitoring computes (执行率 per fund line, 绩效目标整体
完成率, 偏差值, totals per scope) under `computed`, so no rate is ever typed; the layouts in
generators/monitoring.py only place them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from marshmallow import ValidationError

from forms import monitoring as forms
from generators import monitoring as layouts
from generators.grid import StreamedRows
from generators.tables.render import table_renderers
from kinds import Kind, register
from rules import plausibility
from rules.formatting import percent_text
from rules.monitoring import (
    GroupSummary,
    Summariser,
    Summary,
    check_rows,
    deviation,
    fund_execution,
    summarise,
    summary_text,
    target_completion_rate,
)
from rules.rounding import percent, quantize


def prepare_monitoring(data: dict, settings: Mapping[str, Any]) -> dict:
    """执行率 of every fund line, 绩效目标整体完成率 of the indicators and their 偏差值."""
    execution = fund_execution(data["funds"], settings)
    completion = target_completion_rate(data["indicators"], settings)
    total_rate = execution["annual_total"].execution_rate
    data["computed"] = {
        "execution": {name: line.execution_rate for name, line in execution.items()},
        "execution_rate": total_rate,
        "target_completion_rate": completion,
        "target_completion_rate_text": percent_text(percent(completion)),
        "deviation": deviation(completion, total_rate),
    }
    return data


def summary_rows(data: Mapping[str, Any]) -> list[dict]:
    """The rows rules.monitoring.summarise reads, from a validated summary form."""
    return [forms.summary_rule_row(r) for r in data["rows"]]


def _display(group) -> dict:
    """A group of the summary for the table: money rounded once to 2 places, rates left as ratios
    (the table renderers round a percent cell once), 偏差值 and the mean score as rounded by
    rules.monitoring."""
    return {
        "key": group.key,
        "label": group.label,
        "units": group.units,
        "projects": group.projects,
        "budget": quantize(group.budget, 2),
        "executed": quantize(group.executed, 2),
        "execution_rate": group.execution_rate,
        "target_completion_rate": group.target_completion_rate,
        "deviation": group.deviation,
        "average_score": None if group.average_score is None else quantize(group.average_score),
    }


def _summary_computed(by_scope: Summary, by_unit: Iterable[dict], data: Mapping[str, Any],
                      settings: Mapping[str, Any]) -> dict:
    return {
        "by_scope": [_display(g) for g in by_scope.groups],
        "total": _display(by_scope.overall),
        "by_unit": by_unit,
        "text": summary_text(by_scope, data["year"], data["period"], settings),
        "notes": list(data.get("notes") or []),
    }


def prepare_summary(data: dict, settings: Mapping[str, Any]) -> dict:
    rows = summary_rows(data)
    by_unit = summarise(rows, "unit", settings)
    data["computed"] = _summary_computed(summarise(rows, "scope", settings),
                                         [_display(g) for g in by_unit.groups], data, settings)
    return data


def stream_summary(head: Mapping[str, Any], units: Callable[[], Iterable[list[dict]]],
                   settings: Mapping[str, Any]) -> dict:
    """The monitoring_summary of a batch, prepared as prepare_summary does but without holding
    its rows: `units()` yields the summary rows of one unit at a time (all of a unit's rows
    together) and is called twice — once for the totals per scope, and again, while the xlsx is
    written, for the 分单位情况 rows. Each unit's rows pass the summary's row schema and checks; a
    unit whose rows do not is left out and counted in computed["excluded"]."""
    data = forms.MonitoringSummarySchema(settings=settings, only=("year", "period", "area")).load(dict(head))
    row_schema = forms.MonitoringSummaryRowSchema(many=True)

    def checked(rows: list[dict]) -> list[dict] | None:
        try:
            rule_rows = [forms.summary_rule_row(r) for r in row_schema.load(rows)]
        except ValidationError:
            return None
        return None if check_rows(rule_rows, "scope") else rule_rows

    def by_unit(rule_rows: list[dict]) -> list[GroupSummary]:
        summariser = Summariser("unit", settings)
        for row in rule_rows:
            summariser.add(row)
        return summariser.summary().groups

    by_scope = Summariser("scope", settings)
    count = excluded = 0
    for rows in units():
        if not rows:
            continue  # a unit with nothing to summarise
        rule_rows = checked(rows)
        if rule_rows is None:
            excluded += 1
            continue
        for row in rule_rows:
            by_scope.add(row)
        count += len(by_unit(rule_rows))

    def unit_rows() -> Iterator[dict]:
        for rows in units():
            rule_rows = checked(rows) if rows else None
            if rule_rows is not None:
                yield from map(_display, by_unit(rule_rows))

    data["computed"] = _summary_computed(by_scope.summary(), StreamedRows(count, unit_rows), data, settings)
    data["computed"]["excluded"] = excluded
    data["computed"]["included"] = count
    return data


def summary_paragraph(data: Mapping[str, Any]) -> str:
    """The paragraph of a prepared summary, ready to paste into a report."""
    return data["computed"]["text"]


def _project(data, settings):
    return layouts.project_workbook(data, settings)


def _department(data, settings):
    return layouts.department_workbook(data, settings)


def _summary(data, settings):
    return layouts.summary_workbook(data, settings)


register(Kind(
    id="monitoring",
    name="项目支出绩效目标执行监控表",
    group="运行监控",
    schema=forms.MonitoringSchema,
    renderers=table_renderers(_project),
    description="财预〔2019〕136号；监控期间（1-6月、1-9月等）为参数，执行率、绩效目标整体完成率和偏差值自动计算；"
                "完成目标可能性不是“确定能”的指标须选择偏差原因并填写纠偏措施。可按单位批量生成。",
    prepare=prepare_monitoring,
    computed=("computed",),
    warnings=lambda d, s, c: plausibility.monitoring(d, s, c.get("previous")),
    filename=lambda d: f"{d['project_name']}{d['year']}年{d['period']}项目支出绩效目标执行监控表",
))

register(Kind(
    id="department_monitoring",
    name="部门整体支出绩效目标执行监控表",
    group="运行监控",
    schema=forms.DepartmentMonitoringSchema,
    renderers=table_renderers(_department),
    description="部门（单位）整体的年度主要任务、年度资金执行和绩效指标完成情况；监控期间为参数。可按单位批量生成。",
    prepare=prepare_monitoring,
    computed=("computed",),
    warnings=lambda d, s, c: plausibility.monitoring(d, s, c.get("previous")),
    filename=lambda d: f"{d['unit']['name']}{d['year']}年{d['period']}部门整体支出绩效目标执行监控表",
))

register(Kind(
    id="monitoring_summary",
    name="绩效运行监控情况汇总表",
    group="运行监控",
    schema=forms.MonitoringSummarySchema,
    renderers=table_renderers(_summary),
    description="按监控范围（部门预算项目、专项资金等）汇总单位数、项目数、预算资金总额、执行总额、执行率、完成率、"
                "偏差值和自评平均得分，并生成可直接用于报告的文字说明。",
    prepare=prepare_summary,
    computed=("computed",),
    warnings=lambda d, s, c: plausibility.summary_rows(d["rows"], s),
    filename=layouts.summary_title,
    extra={"text": summary_paragraph},
))
