"""Layouts of the 绩效运行监控 tables as `generators.grid.Workbook`s:

* project_sheet — 项目支出绩效目标执行监控表 (official-forms C.2), 16 columns;
* department_sheet — 部门整体支出绩效目标执行监控表, the same columns with 部门（单位）名称 and
  年度主要任务 at the top;
* unit_workbook — one workbook per unit of a batch: one sheet per project of that unit only;
* summary_workbook — the summary per scope and per unit, with the paragraph for a report.

Builders take validated, prepared data (kinds/monitoring.py has put the rates computed by
rules.monitoring under `data["computed"]`) and return layout models; nothing is computed here.
The period is a parameter: every caption that names months comes from rules.periods.Period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from generators.grid import Cell, Column, Sheet, Workbook
from rules.formatting import chinese_date
from rules.indicators import number_text
from rules.monitoring import CAUSE_LABELS, LIKELIHOOD_LABELS
from rules.periods import as_of_text, parse_period

DASH = "—"
TICK = "√"
WIDTH = 16
COLUMNS = [Column(6), Column(8), Column(9), Column(16), Column(11), Column(11), Column(11),
           Column(5), Column(5), Column(5), Column(6), Column(5), Column(5), Column(5), Column(6), Column(20)]
FUND_ROWS = (
    ("annual_total", "年度资金总额"),
    ("fiscal_appropriation", "其中：财政拨款"),
    ("other_funds", "　　　其他资金"),
    ("carryover", "　　　上年结转资金"),
)
SHEET_NAME_LIMIT = 31
_SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


def _value_text(value: Any, unit: str = "") -> str:
    if value is None or value == "":
        return DASH
    if isinstance(value, Decimal):
        return f"{number_text(value)}{unit}"
    text = str(value)
    try:
        Decimal(text.replace(",", ""))
    except ArithmeticError:
        return text
    return f"{text}{unit}"


def target_text(row: Mapping[str, Any]) -> str:
    """年度指标值 as printed: “≥50公里”, or the qualitative wording."""
    if row.get("operator") in ("≥", "≤", "="):
        return f"{row['operator']}{_value_text(row.get('target_value'), row.get('measure_unit') or '')}"
    return str(row.get("target_value") or DASH)


def progress_text(row: Mapping[str, Any], key: str) -> str:
    if row.get("operator") in ("≥", "≤", "="):
        return _value_text(row.get(key), row.get("measure_unit") or "")
    return str(row.get(key) or DASH)


def remark_text(row: Mapping[str, Any]) -> str:
    """备注: the cause explained, the corrective measure (C.2: 备注 states it), then the remark."""
    parts = []
    if row.get("deviation_reason"):
        parts.append(f"偏差原因：{row['deviation_reason']}")
    if row.get("improvement"):
        parts.append(f"纠偏措施：{row['improvement']}")
    if row.get("remark"):
        parts.append(row["remark"])
    return "\n".join(parts)


def _runs(rows: Sequence[Mapping[str, Any]], key) -> list[int]:
    runs: list[int] = []
    last = object()
    for row in rows:
        value = key(row)
        if runs and value == last:
            runs[-1] += 1
        else:
            runs.append(1)
        last = value
    return runs


def sheet_name(text: str, taken: set[str]) -> str:
    """An xlsx sheet name: ≤ 31 characters, none of []:*?/\\, unique within the workbook."""
    base = (text.translate(_SHEET_FORBIDDEN).strip("' ") or "Sheet")[:SHEET_NAME_LIMIT]
    name, n = base, 2
    while name in taken:
        suffix = f"({n})"
        name = base[: SHEET_NAME_LIMIT - len(suffix)] + suffix
        n += 1
    taken.add(name)
    return name


def _money_cell(value: Any, key: str | None = None) -> Cell:
    return Cell(value, "money", colspan=3, key=key) if value is not None else Cell(DASH, colspan=3, align="center")


def _rate_cell(rate: Decimal | None) -> Cell:
    return Cell(rate, "percent", colspan=2) if rate is not None else Cell(DASH, colspan=2, align="center")


def _funds_block(sheet: Sheet, data: Mapping[str, Any], label: str) -> None:
    period = parse_period(data["period"])
    funds, execution = data["funds"], data["computed"]["execution"]
    present = [(k, caption) for k, caption in FUND_ROWS if k in funds]
    sheet.add(Cell(label, "label", colspan=2, rowspan=1 + len(present)), Cell("", "header", colspan=3),
              Cell("年初预算数", "header", colspan=3), Cell(period.executed_caption, "header", colspan=3),
              Cell(period.rate_caption, "header", colspan=2), Cell("全年预计执行数", "header", colspan=3))
    for key, caption in present:
        line = funds[key]
        total = key == "annual_total"
        sheet.add(
            Cell(caption, "label" if total else "text", colspan=3, align="center" if total else "left"),
            _money_cell(line.get("initial_budget"), f"funds.{key}.initial_budget"),
            _money_cell(line.get("executed"), f"funds.{key}.executed"),
            _rate_cell(execution.get(key)),
            _money_cell(line.get("projected_executed"), f"funds.{key}.projected_executed"),
        )


def _goal_block(sheet: Sheet, data: Mapping[str, Any]) -> None:
    period = parse_period(data["period"])
    sheet.add(Cell("年度总体目标", "label", colspan=2, rowspan=2), Cell("年初设定目标", "header", colspan=7),
              Cell(period.progress_caption, "header", colspan=7))
    sheet.add(Cell(data["annual_goal"], colspan=7, key="annual_goal"),
              Cell(data.get("annual_goal_progress") or "", colspan=7, key="annual_goal_progress"))


def _indicator_block(sheet: Sheet, data: Mapping[str, Any]) -> None:
    period = parse_period(data["period"])
    rows = list(enumerate(data["indicators"]))
    # Level 1 and level 2 cells merge over runs of equal values, in input order.
    sheet.captions.append((len(sheet.rows), 2))  # repeated on every page the indicators run onto
    sheet.add(Cell("绩效指标", "label", rowspan=2 + len(rows)),
              Cell("一级指标", "header", rowspan=2), Cell("二级指标", "header", rowspan=2),
              Cell("三级指标", "header", rowspan=2), Cell("年度指标值", "header", rowspan=2),
              Cell(period.progress_caption, "header", rowspan=2), Cell("全年预计完成情况", "header", rowspan=2),
              Cell("偏差原因分析", "header", colspan=5), Cell("完成目标可能性", "header", colspan=3),
              Cell("备注（纠偏措施）", "header", rowspan=2))
    sheet.add(*[Cell(label, "header") for label in CAUSE_LABELS.values()],
              *[Cell(label, "header") for label in LIKELIHOOD_LABELS.values()])
    l1_runs = iter(_runs([r for _, r in rows], lambda r: r.get("level1") or ""))
    l2_runs = iter(_runs([r for _, r in rows], lambda r: (r.get("level1") or "", r.get("level2") or "")))
    prev_l1 = prev_l2 = None
    for index, row in rows:
        path = f"indicators.{index}"
        l1 = row.get("level1") or ""
        l2 = (l1, row.get("level2") or "")
        cells = []
        if l1 != prev_l1:
            cells.append(Cell(l1, "label", rowspan=next(l1_runs)))
            prev_l2 = None
        if l2 != prev_l2:
            cells.append(Cell(row.get("level2") or "", "label", rowspan=next(l2_runs)))
        prev_l1, prev_l2 = l1, l2
        causes = set(row.get("deviation_causes") or [])
        likelihood = row.get("completion_likelihood")
        cells += [
            Cell(row["name"], key=f"{path}.name"),
            Cell(target_text(row), align="center", key=f"{path}.target_value"),
            Cell(progress_text(row, "actual_value"), align="center", key=f"{path}.actual_value"),
            Cell(progress_text(row, "projected_value"), align="center", key=f"{path}.projected_value"),
            *[Cell(TICK if cause in causes else "", align="center") for cause in CAUSE_LABELS],
            *[Cell(TICK if likely == likelihood else "", align="center") for likely in LIKELIHOOD_LABELS],
            Cell(remark_text(row), key=f"{path}.remark"),
        ]
        sheet.add(*cells)


def _notes(data: Mapping[str, Any]) -> list[str]:
    computed = data["computed"]
    period = parse_period(data["period"])
    notes = []
    if computed.get("target_completion_rate") is not None:
        line = f"{period.label}绩效目标整体完成率{computed['target_completion_rate_text']}"
        if computed.get("deviation") is not None:
            line += f"，与{period.rate_caption}相比偏差值{computed['deviation']:.2f}个百分点"
        notes.append(line + "。")
    notes.append("注：完成目标可能性为“有可能”或“完全不可能”的指标，须勾选偏差原因并在备注中说明纠偏措施。")
    signers = [f"{label}：{data[key]}" for label, key in (("填报人", "filled_by"), ("联系电话", "phone")) if data.get(key)]
    if data.get("date"):
        signers.append(f"填报日期：{chinese_date(data['date'])}")
    if signers:
        notes.append("　　".join(signers))
    return notes


def _head(sheet: Sheet, title: str, data: Mapping[str, Any], filler: str) -> None:
    period = parse_period(data["period"])
    sheet.add(Cell(title, "title", colspan=WIDTH))
    sheet.add(Cell(f"（{data['year']}年度　监控期间：{period.label}）", "subtitle", colspan=WIDTH))
    sheet.add(Cell(f"填报单位（盖章）：{filler}", "subtitle", colspan=12, align="left"),
              Cell("金额单位：万元", "subtitle", colspan=4, align="right"))


PROJECT_TITLE = "项目支出绩效目标执行监控表"
DEPARTMENT_TITLE = "部门整体支出绩效目标执行监控表"


def project_sheet(data: Mapping[str, Any], name: str | None = None) -> Sheet:
    """项目支出绩效目标执行监控表 of one project."""
    sheet = Sheet(name=name or PROJECT_TITLE, columns=list(COLUMNS), title_rows=3, landscape=True)
    unit = (data.get("unit") or {}).get("name") or data["implementing_unit"]
    _head(sheet, PROJECT_TITLE, data, unit)
    sheet.add(Cell("项目名称", "label", colspan=2), Cell(data["project_name"], colspan=8, key="project_name"),
              Cell("项目编码", "label", colspan=2), Cell(data.get("project_code") or "", colspan=4, key="project_code"))
    department = data["department"] + (f"（{data['department_code']}）" if data.get("department_code") else "")
    sheet.add(Cell("主管部门及代码", "label", colspan=2), Cell(department, colspan=8, key="department"),
              Cell("实施单位", "label", colspan=2), Cell(data["implementing_unit"], colspan=4, key="implementing_unit"))
    _funds_block(sheet, data, "项目资金\n（万元）")
    _goal_block(sheet, data)
    _indicator_block(sheet, data)
    sheet.notes = _notes(data)
    return sheet


def department_sheet(data: Mapping[str, Any], name: str | None = None) -> Sheet:
    """部门整体支出绩效目标执行监控表 of one department (unit)."""
    period = parse_period(data["period"])
    sheet = Sheet(name=name or DEPARTMENT_TITLE, columns=list(COLUMNS), title_rows=3, landscape=True)
    unit = data["unit"]
    _head(sheet, DEPARTMENT_TITLE, data, unit["name"])
    sheet.add(Cell("部门（单位）名称", "label", colspan=2), Cell(unit["name"], colspan=8, key="unit.name"),
              Cell("单位编码", "label", colspan=2), Cell(unit.get("code") or "", colspan=4, key="unit.code"))
    if data.get("department"):
        sheet.add(Cell("主管部门", "label", colspan=2), Cell(data["department"], colspan=14, key="department"))
    tasks = data.get("tasks") or []
    if tasks:
        sheet.add(Cell("年度主要任务", "label", colspan=2, rowspan=1 + len(tasks)), Cell("任务名称", "header", colspan=5),
                  Cell(period.caption("完成情况"), "header", colspan=9))
        for i, task in enumerate(tasks):
            sheet.add(Cell(task["name"], colspan=5, key=f"tasks.{i}.name"),
                      Cell(task.get("progress") or "", colspan=9, key=f"tasks.{i}.progress"))
    _funds_block(sheet, data, "年度资金\n（万元）")
    _goal_block(sheet, data)
    _indicator_block(sheet, data)
    sheet.notes = _notes(data)
    return sheet


def project_workbook(data: Mapping[str, Any], settings=None) -> Workbook:
    sheet = project_sheet(data, sheet_name(data["project_name"], set()))
    owner = (data.get("unit") or {}).get("name") or data["implementing_unit"]
    return Workbook(title=f"{data['project_name']}{data['year']}年{data['period']}{PROJECT_TITLE}",
                    sheets=[sheet], meta={"author": owner})


def department_workbook(data: Mapping[str, Any], settings=None) -> Workbook:
    sheet = department_sheet(data, sheet_name(DEPARTMENT_TITLE, set()))
    return Workbook(title=f"{data['unit']['name']}{data['year']}年{data['period']}{DEPARTMENT_TITLE}",
                    sheets=[sheet], meta={"author": data["unit"]["name"]})


def unit_workbook(unit: Mapping[str, Any], forms: Sequence[Mapping[str, Any]], *, department: bool = False) -> Workbook:
    """One unit's output of a batch: a sheet per project of this unit (or its department form).
    Only `forms` — which the caller has taken from this unit's rows alone — reach the sheets."""
    taken: set[str] = set()
    if department:
        sheets = [department_sheet(f, sheet_name(DEPARTMENT_TITLE, taken)) for f in forms]
        title = DEPARTMENT_TITLE
    else:
        sheets = [project_sheet(f, sheet_name(f["project_name"], taken)) for f in forms]
        title = PROJECT_TITLE
    first = forms[0]
    return Workbook(title=f"{unit['name']}{first['year']}年{first['period']}{title}", sheets=sheets,
                    meta={"author": unit["name"], "unit_code": unit.get("code") or ""})


# --------------------------------------------------------------------------- summary

SUMMARY_COLUMNS = [Column(18), Column(8, "number"), Column(8, "number"), Column(14, "money"), Column(14, "money"),
                   Column(11, "percent"), Column(12, "percent"), Column(11, "score"), Column(11, "score")]


def summary_title(data: Mapping[str, Any]) -> str:
    return f"{data.get('area') or ''}{data['year']}年{data['period']}绩效运行监控情况汇总表"


def _summary_row(row: Mapping[str, Any], first: Cell, bold: bool = False) -> list[Cell]:
    def maybe(value, kind):
        return Cell(value, kind, bold=bold) if value is not None else Cell(DASH, align="center")

    return [
        first,
        Cell(row["units"], "number", bold=bold),
        Cell(row["projects"], "number", bold=bold),
        Cell(row["budget"], "money", bold=bold),
        Cell(row["executed"], "money", bold=bold),
        maybe(row["execution_rate"], "percent"),
        maybe(row["target_completion_rate"], "percent"),
        maybe(row["deviation"], "score"),
        maybe(row["average_score"], "score"),
    ]


def _summary_header(sheet: Sheet, first: str, period_label: str) -> None:
    sheet.add(Cell(first, "header"), Cell("单位数", "header"), Cell("项目数", "header"),
              Cell("预算资金总额", "header"), Cell(f"{period_label}执行总额", "header"),
              Cell(f"{period_label}执行率", "header"), Cell("绩效目标整体完成率", "header"),
              Cell("偏差值（个百分点）", "header"), Cell("绩效自评平均得分", "header"))


def _unit_row(row: Mapping[str, Any]) -> list[Cell]:
    label = f"{row['key']} {row['label']}" if row["key"] != row["label"] else row["label"]
    return _summary_row(row, Cell(label, "text"))


def summary_workbook(data: Mapping[str, Any], settings=None) -> Workbook:
    """Two sheets: 汇总表 (one row per scope, then 合计, then the paragraph) and 分单位情况.

    `data["computed"]` holds the rows of rules.monitoring.Summary with rates as unrounded ratios
    (`by_scope`, `total`, `by_unit`) and the paragraph `text`. `by_unit` is a list, or for a
    batch a sized iterable read while the xlsx is written (such a workbook is xlsx only)."""
    period = parse_period(data["period"])
    computed = data["computed"]
    title = summary_title(data)
    sheet = Sheet(name="汇总表", columns=list(SUMMARY_COLUMNS), title_rows=2, landscape=True, header_rows=1)
    sheet.add(Cell(title, "title", colspan=9))
    subtitle = f"（{as_of_text(data['year'], period)}　金额单位：万元）"
    sheet.add(Cell(subtitle, "subtitle", colspan=9))
    _summary_header(sheet, "监控范围", period.label)
    for row in computed["by_scope"]:
        sheet.add(*_summary_row(row, Cell(row["label"], "label")))
    sheet.add(*_summary_row(computed["total"], Cell("合计", "label", bold=True), bold=True))
    sheet.add(Cell("文字说明", "label"), Cell(computed["text"], colspan=8, key="text"))
    sheet.row_heights[len(sheet.rows) - 1] = 60
    sheet.notes = [
        "注：执行率＝执行数÷预算数；绩效目标整体完成率按各项目预算数加权；偏差值＝完成率－执行率（个百分点），"
        "正数表示绩效目标进度快于预算执行。",
        *computed.get("notes", []),
    ]

    # printed on pages of its own: its figures' date and unit under its title too
    units = Sheet(name="分单位情况", columns=list(SUMMARY_COLUMNS), title_rows=2, header_rows=1, landscape=True)
    units.add(Cell(f"{title}（分单位）", "title", colspan=9))
    units.add(Cell(subtitle, "subtitle", colspan=9))
    _summary_header(units, "单位", period.label)
    by_unit = computed["by_unit"]
    if isinstance(by_unit, list):
        for row in by_unit:
            units.add(*_unit_row(row))
    else:  # a batch's units (generators.grid.StreamedRows), read again while the sheet is written
        units.stream(len(by_unit), lambda: map(_unit_row, by_unit))
    return Workbook(title=title, sheets=[sheet, units], meta={"author": data.get("area") or ""})
