"""Layouts of the evaluation documents: the 自评表 grids and the report models.

Builders take validated, prepared data (the kind's prepare step has put the computed scores under
`data["scoring"]`) and return layout models — `generators.grid.Workbook` for tables,
`generators.gongwen.model.Document` for reports. Every figure comes from the data or from the
scoring result; nothing is re-computed or re-typed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from generators.grid import Cell, Column, Sheet, Workbook
from rules.indicators import number_text
from rules.scoring import QUALITATIVE, level1_label, section

DASH = "—"
BUDGET_LABELS = (
    ("annual_total", "年度资金总额"),
    ("fiscal_appropriation", "其中：当年财政拨款"),
    ("carryover", "　　　上年结转资金"),
    ("other_funds", "　　　其他资金"),
)
NINE_COLUMNS = [Column(9), Column(11), Column(13), Column(22), Column(13), Column(13), Column(8, "score"),
                Column(8, "score"), Column(30)]


# --------------------------------------------------------------------------- text helpers

def value_text(value: Any, unit: str = "") -> str:
    """A figure as written on the form: Decimal in plain notation followed by its unit."""
    if value is None or value == "":
        return DASH
    if isinstance(value, Decimal):
        return f"{number_text(value)}{unit}"
    return f"{value}{unit}" if unit and _looks_numeric(str(value)) else str(value)


def _looks_numeric(text: str) -> bool:
    try:
        Decimal(text.replace(",", ""))
    except ArithmeticError:
        return False
    return True


def target_text(row: Mapping[str, Any]) -> str:
    """年度指标值: “≥500人次”, “≤12月”, or the qualitative wording."""
    if row.get("operator") == QUALITATIVE:
        return str(row.get("target_value") or DASH)
    return f"{row.get('operator') or ''}{value_text(row.get('target_value'), row.get('measure_unit') or '')}"


def actual_text(row: Mapping[str, Any]) -> str:
    if row.get("operator") == QUALITATIVE:
        return str(row.get("actual_value") or DASH)
    return value_text(row.get("actual_value"), row.get("measure_unit") or "")


def explanation_text(row: Mapping[str, Any]) -> str:
    """偏差原因分析及改进措施 in one cell, each part labelled when both are given."""
    reason, measure = (row.get("deviation_reason") or "").strip(), (row.get("improvement") or "").strip()
    if reason and measure:
        return f"偏差原因：{reason}\n改进措施：{measure}"
    return reason or measure


def grouped_rows(data: Mapping[str, Any], settings=None) -> list[dict]:
    """Indicator rows with their scores, grouped for printing: level 1 in the configured order
    (产出, 效益, 满意度 …), level 2 in order of first appearance, rows in input order. Each row
    is the form's row merged with the scoring result of the same index."""
    scored = {r["index"]: r for r in data["scoring"]["indicators"]}
    order = [k for k in section(settings)["weights"] if k != "execution"]
    rows = []
    for index, src in enumerate(data.get("indicators") or []):
        rows.append({**src, **scored[index], "operator": scored[index]["operator"]})
    first_l2: dict[tuple, int] = {}
    for pos, row in enumerate(rows):
        first_l2.setdefault((row["level1_key"], row.get("level2") or ""), pos)

    def key(item: tuple[int, dict]):
        pos, row = item
        l1 = row["level1_key"]
        rank = order.index(l1) if l1 in order else len(order)
        return rank, first_l2[(l1, row.get("level2") or "")], pos

    return [row for _, row in sorted(enumerate(rows), key=key)]


def _runs(rows: list[dict], field) -> list[int]:
    """Lengths of runs of equal field(row) values, in order."""
    runs: list[int] = []
    last = object()
    for row in rows:
        value = field(row)
        if runs and value == last:
            runs[-1] += 1
        else:
            runs.append(1)
        last = value
    return runs


# --------------------------------------------------------------------------- 自评表

def self_evaluation_sheet(data: Mapping[str, Any], settings=None, *, department: bool = False) -> Sheet:
    """项目支出绩效自评表 (财预〔2020〕10号 附件1, layout B.2) or 部门整体支出绩效自评表, 9 columns:

    绩效指标 | 一级指标 | 二级指标 | 三级指标 | 年度指标值 | 实际完成值 | 分值 | 得分 | 偏差原因分析及改进措施

    The 项目资金 block uses the same columns (label, two caption columns, 年初预算数, 全年预算数,
    全年执行数, 分值, 执行率, 得分): only 年度资金总额 carries the 10-point 分值 and 得分; the 其中 rows
    show “—” there and their 执行率 for information.
    """
    scoring = data["scoring"]
    sec = section(settings)
    title = "部门整体支出绩效自评表" if department else "项目支出绩效自评表"
    sheet = Sheet(name=title, columns=list(NINE_COLUMNS), title_rows=2, landscape=True)
    sheet.add(Cell(title, "title", colspan=9))
    sheet.add(Cell(f"（{data['year']}年度）", "subtitle", colspan=9))

    if department:
        sheet.add(Cell("部门（单位）名称", "label", colspan=2), Cell(data["unit"], colspan=3),
                  Cell("主管部门", "label"), Cell(data["department"], colspan=3))
    else:
        sheet.add(Cell("项目名称", "label"), Cell(data["project_name"], colspan=8))
        sheet.add(Cell("主管部门", "label"), Cell(data["department"], colspan=3),
                  Cell("实施单位", "label"), Cell(data["implementing_unit"], colspan=4))

    # 项目资金（万元）
    present = [(k, label) for k, label in BUDGET_LABELS if k in scoring["budget_rows"]]
    money_label = "年度资金（万元）" if department else "项目资金（万元）"
    sheet.add(Cell(money_label, "label", rowspan=1 + len(present)), Cell("", "header", colspan=2),
              Cell("年初预算数", "header"), Cell("全年预算数", "header"), Cell("全年执行数", "header"),
              Cell("分值", "header"), Cell("执行率", "header"), Cell("得分", "header"))
    execution = scoring["execution"]
    for key, label in present:
        row = scoring["budget_rows"][key]
        total_row = key == "annual_total"
        sheet.add(
            Cell(label, "label" if total_row else "text", colspan=2, align="center" if total_row else "left"),
            Cell(row["initial_budget"], "money", key=f"budget.{key}.initial_budget"),
            Cell(row["adjusted_budget"], "money", key=f"budget.{key}.adjusted_budget"),
            Cell(row["executed"], "money", key=f"budget.{key}.executed"),
            Cell(execution["weight"], "score") if total_row else Cell(DASH, align="center"),
            Cell(row["execution_rate"], "percent") if row["execution_rate"] is not None else Cell(DASH, align="center"),
            Cell(execution["score"], "score") if total_row else Cell(DASH, align="center"),
        )

    if department and data.get("tasks"):
        tasks = data["tasks"]
        sheet.add(Cell("年度主要任务", "label", rowspan=1 + len(tasks)), Cell("任务名称", "header", colspan=2),
                  Cell("主要内容", "header", colspan=3), Cell("预算数（万元）", "header", colspan=2),
                  Cell("执行数（万元）", "header"))
        for task in tasks:
            sheet.add(Cell(task["name"], colspan=2), Cell(task.get("content") or "", colspan=3),
                      Cell(task.get("budget"), "money", colspan=2), Cell(task.get("executed"), "money"))

    goals = data.get("goals") or []
    sheet.add(Cell("年度总体目标", "label", rowspan=1 + max(len(goals), 1)), Cell("预期目标", "header", colspan=4),
              Cell("实际完成情况", "header", colspan=4))
    for i, goal in enumerate(goals or [{"annual_goal": "", "completion": ""}]):
        prefix = f"目标{i + 1}：" if len(goals) > 1 else ""
        sheet.add(Cell(prefix + goal["annual_goal"], colspan=4), Cell(goal.get("completion") or "", colspan=4))

    rows = grouped_rows(data, settings)
    sheet.add(Cell("绩效指标", "label", rowspan=1 + len(rows)), Cell("一级指标", "header"), Cell("二级指标", "header"),
              Cell("三级指标", "header"), Cell("年度指标值", "header"), Cell("实际完成值", "header"),
              Cell("分值", "header"), Cell("得分", "header"), Cell("偏差原因分析及改进措施", "header"))
    sheet.header_rows = 0
    l1_runs = iter(_runs(rows, lambda r: r["level1_key"] or r.get("level1")))
    l2_runs = iter(_runs(rows, lambda r: (r["level1_key"] or r.get("level1"), r.get("level2") or "")))
    prev_l1 = prev_l2 = None
    for row in rows:
        cells = []
        l1 = row["level1_key"] or row.get("level1")
        l2 = (l1, row.get("level2") or "")
        if l1 != prev_l1:
            label = level1_label(row["level1_key"], sec) if row["level1_key"] else row.get("level1") or ""
            cells.append(Cell(label, "label", rowspan=next(l1_runs)))
            prev_l2 = None
        if l2 != prev_l2:
            cells.append(Cell(row.get("level2") or "", "label", rowspan=next(l2_runs)))
        prev_l1, prev_l2 = l1, l2
        path = f"indicators.{row['index']}"
        score = Cell("不适用", align="center") if row["not_applicable"] else Cell(row["score"], "score")
        cells += [
            Cell(row.get("name") or "", key=f"{path}.name"),
            Cell(target_text(row), align="center", key=f"{path}.target_value"),
            Cell(actual_text(row), align="center", key=f"{path}.actual_value"),
            Cell(row["weight"], "score", key=f"{path}.weight"),
            score,
            Cell(explanation_text(row), key=f"{path}.deviation_reason"),
        ]
        sheet.add(*cells)

    sheet.add(Cell("总分", "label", colspan=6), Cell(Decimal(100), "score", bold=True),
              Cell(scoring["total"], "score", bold=True), Cell(f"自评等级：{scoring['grade_label']}", align="center"))
    for key, label in (("conclusion", "评价结论"), ("problems", "存在问题"), ("measures", "改进措施")):
        if data.get(key):
            sheet.add(Cell(label, "label"), Cell(data[key], colspan=8))

    sheet.notes = self_evaluation_notes(data, scoring, department=department)
    return sheet


def self_evaluation_notes(data: Mapping[str, Any], scoring: Mapping[str, Any], *, department: bool = False) -> list[str]:
    notes = []
    if scoring["rescaled"]:
        notes.append(f"注：不适用的指标已剔除，其余指标得分按比例折算为百分制（原始得分{number_text(scoring['raw_total'])}分，"
                     f"适用分值{number_text(scoring['applicable_weight'])}分）。")
    flagged = flagged_rows(data, scoring)
    if flagged:
        notes.append("需说明偏差原因的指标：" + "；".join(f"{f['name']}（{f['reason_label']}）" for f in flagged) + "。")
    signers = []
    lead = "部门负责人" if department else "项目负责人"
    for label, key in ((lead, "project_lead"), ("财务负责人", "finance_lead"), ("填报人", "filled_by"),
                       ("联系电话", "phone")):
        if data.get(key):
            signers.append(f"{label}：{data[key]}")
    if data.get("date"):
        signers.append(f"填报日期：{data['date'].year}年{data['date'].month}月{data['date'].day}日")
    if signers:
        notes.append("　　".join(signers))
    return notes


REASON_LABELS = {"shortfall": "未完全达成", "over_achievement": "超额完成", "low_execution": "预算执行率偏低"}


def flagged_rows(data: Mapping[str, Any], scoring: Mapping[str, Any]) -> list[dict]:
    """The rows the scoring rules flag as needing an explanation, with a printable name."""
    out = []
    for exp in scoring["explanations"]:
        if exp["path"] == "budget":
            name = "预算执行率"
        else:
            index = int(exp["path"].split(".")[1])
            name = data["indicators"][index].get("name") or exp["path"]
        out.append({"path": exp["path"], "name": name, "reason": exp["reason"],
                    "reason_label": REASON_LABELS.get(exp["reason"], exp["reason"]), "message": exp["message"]})
    return out


def self_evaluation_workbook(data: Mapping[str, Any], settings=None, *, department: bool = False) -> Workbook:
    sheet = self_evaluation_sheet(data, settings, department=department)
    owner = data.get("unit") if department else data.get("implementing_unit")
    name = data.get("unit") if department else data.get("project_name")
    return Workbook(title=f"{name}{data['year']}年度{sheet.name}", sheets=[sheet], meta={"author": owner or ""})
