"""Layout of the 公用经费绩效考核兑现情况表: a `generators.grid.Workbook`, rendered to xlsx and docx
by the shared table renderers (generators/tables).

Every amount comes from the kind's prepare step (rules.public_funds.assess); this module only
places them. Money is in 元, so the sheet says so in its subtitle.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from generators.grid import Cell, Column, Sheet, Workbook
from rules.formatting import chinese_date
from rules.public_funds import RULE_LABELS
from rules.scoring import points_text

HEADERS = ("序号", "单位编码", "单位名称", "公用经费预算", "基础公用经费", "绩效公用经费", "考核得分",
           "兑现比例", "应兑现绩效公用经费", "节约资金", "实际下达公用经费", "备注")
COLUMNS = [Column(6, "number"), Column(10), Column(26), Column(16, "money"), Column(16, "money"),
           Column(16, "money"), Column(9, "score"), Column(10, "percent"), Column(18, "money"),
           Column(15, "money"), Column(17, "money"), Column(16)]


def default_title(data: Mapping[str, Any]) -> str:
    return f"{data['region']}{data['year']}年度部门公用经费绩效考核兑现情况表"


def rule_text(settings: Mapping[str, Any]) -> str:
    """How the performance share was paid, in the words of the sheet's note."""
    section = settings["public_funds"]
    rule = section["rule"]
    base, perf = section["base_percent"], section["performance_percent"]
    lead = f"基础公用经费按预算的{base}%全额下达，绩效公用经费按预算的{perf}%核定，"
    if rule == "proportional":
        how = "按考核得分比例兑现（兑现比例＝考核得分÷100）"
    elif rule == "threshold":
        how = f"考核得分达到{section['threshold_score']}分的全额兑现，未达到的不予兑现"
    else:
        tiers = "，".join(
            f"{points_text(Decimal(str(t['min_score'])))}分及以上兑现{t['payout_percent']}%" for t in section["tiers"]
        )
        how = f"按得分档次兑现（{tiers}）"
    return f"{lead}{how}；未兑现部分为节约资金。"


def _unit_name(unit: Any) -> str:
    return unit.get("name", "") if isinstance(unit, Mapping) else str(unit or "")


def workbook(data: Mapping[str, Any], settings: Mapping[str, Any]) -> Workbook:
    """The assessment table: one row per unit in input order, then the 合计 row."""
    result = data["assessment"]
    title = data.get("title") or default_title(data)
    sheet = Sheet(name="公用经费考核兑现", columns=list(COLUMNS), landscape=True)
    width = len(COLUMNS)
    sheet.add(Cell(title, "title", colspan=width))
    left = f"编制单位：{data['prepared_by']}" if data.get("prepared_by") else ""
    sheet.add(Cell(left, "subtitle", colspan=width // 2, align="left"),
              Cell(f"考核办法：{RULE_LABELS[result['rule']]}　　单位：元", "subtitle", colspan=width - width // 2,
                   align="right"))
    sheet.title_rows = 2
    sheet.add(*(Cell(h, "header") for h in HEADERS))
    sheet.header_rows = 1
    for i, (row, given) in enumerate(zip(result["units"], data["units"], strict=True), start=1):
        sheet.add(
            Cell(i, "number"),
            Cell(given.get("unit_code") or "", "text", align="center"),
            Cell(given["unit"], "text"),
            Cell(row["budget"], "money", key=f"units.{i - 1}.budget"),
            Cell(row["base"], "money"),
            Cell(row["performance"], "money"),
            Cell(row["score"], "score", key=f"units.{i - 1}.score"),
            Cell(row["payout_rate"], "percent"),
            Cell(row["paid_performance"], "money"),
            Cell(row["saved"], "money"),
            Cell(row["total_paid"], "money"),
            Cell(given.get("remark") or "", "text"),
        )
    totals = result["totals"]
    sheet.add(
        Cell("合计", "label", colspan=3, bold=True),
        Cell(totals["budgeted"], "money", bold=True),
        Cell(totals["base"], "money", bold=True),
        Cell(totals["performance"], "money", bold=True),
        Cell(None, "text"),
        Cell(None, "text"),
        Cell(totals["paid_performance"], "money", bold=True),
        Cell(totals["saved"], "money", bold=True),
        Cell(totals["total_paid"], "money", bold=True),
        Cell("", "text"),
    )
    sheet.notes.append("说明：" + rule_text(settings))
    sheet.notes.append("金额按元计算、到分，各单位金额相加与合计数完全一致。")
    if data.get("date"):
        sheet.notes.append(f"编制日期：{chinese_date(data['date'])}")
    return Workbook(title=title, sheets=[sheet], meta={"author": data.get("prepared_by") or data["region"]})
