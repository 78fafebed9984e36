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
from rules.formatting import chinese_date, money_text, percent_text
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
    money_label = "年度资金\n（万元）" if department else "项目资金\n（万元）"
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
    sheet.captions.append((len(sheet.rows), 1))  # repeated on every page the indicators run onto
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
        notes.append(f"注：不适用的指标已剔除，其余指标得分按比例折算为百分制（原始得分{pts(scoring['raw_total'])}分，"
                     f"适用分值{points_label(scoring['applicable_weight'])}分）。")
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
        signers.append(f"填报日期：{chinese_date(data['date'])}")
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


# =========================================================================== reports

FULL_WIDTH_DIGITS = "一二三四五六七八九十"


def chinese_ordinal(n: int) -> str:
    """1 → 一 … 10 → 十, 11 → 十一 … 20 → 二十 (section numbers of a report)."""
    if n <= 10:
        return FULL_WIDTH_DIGITS[n - 1]
    tens, ones = divmod(n, 10)
    return (FULL_WIDTH_DIGITS[tens - 1] if tens > 1 else "") + "十" + (FULL_WIDTH_DIGITS[ones - 1] if ones else "")


def pts(value) -> str:
    """A score as printed in report text: 2 places (48.84, 10.00)."""
    return f"{value:.2f}"


def points_label(value) -> str:
    """A point value as written in text: 50, 7.5."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class Body:
    """Collects a report body: text lines (headings by their numbering, via parse_body), tables
    and pictures, numbering 表N and 图N in order."""

    def __init__(self):
        self.blocks: list = []
        self.tables = 0
        self.figures = 0

    def text(self, *lines: str) -> None:
        from generators.gongwen.model import parse_body

        self.blocks += parse_body("\n".join(line for line in lines if line))

    def table(self, sheet: Sheet, caption: str) -> None:
        from generators.gongwen.model import TableBlock

        self.tables += 1
        self.blocks.append(TableBlock(sheet, f"表{self.tables}　{caption}"))

    def image(self, png: bytes, caption: str, width_mm: float = 150) -> None:
        from generators.gongwen.model import ImageBlock

        self.figures += 1
        self.blocks.append(ImageBlock(png, width_mm, f"图{self.figures}　{caption}"))


def report_document(data: Mapping[str, Any], settings, body: Body):
    """The 公文 layout model of a report: a red-header 报告 when `official` is given, otherwise
    the plain layout (title, text, the author's name and the date)."""
    import dataclasses

    from generators.gongwen.model import build

    official = data.get("official")
    frame = {
        "issuer": official["issuer"] if official else data["author"],
        "doc_number": official["doc_number"] if official else "",
        "direction": "upward",
        "signers": official["signers"] if official else [],
        "title": data["title"],
        "addressees": official["addressees"] if official else [],
        "body": "",
        "attachments": [],
        "signature": [official["issuer"]] if official else [data["author"]],
        "seal": bool(official and official.get("seal", True)),
        "date": data["date"],
        "annotation": official.get("annotation", "") if official else "",
        "imprint": official.get("imprint") or {} if official else {},
    }
    doc = build("report", frame, settings)
    return dataclasses.replace(doc, paragraphs=tuple(body.blocks), plain=not official)


def _summary_sheet(rows: list[tuple[str, Any, Any]], first: str = "一级指标") -> Sheet:
    """一级指标 | 分值 | 得分 | 得分率 with a 合计 row; rows are (label, points, score)."""
    from rules.rounding import ratio

    sheet = Sheet("得分汇总", [Column(16), Column(8, "score"), Column(8, "score"), Column(8, "percent")], header_rows=1)
    sheet.add(Cell(first, "header"), Cell("分值", "header"), Cell("得分", "header"), Cell("得分率", "header"))
    for label, points, score in rows:
        rate = ratio(score, points) if points else None
        sheet.add(Cell(label, "label"), Cell(points, "score"), Cell(score, "score"),
                  Cell(rate, "percent") if rate is not None else Cell(DASH, align="center"))
    return sheet


def _chart(rows: list[tuple[str, Any, Any]]) -> bytes:
    from generators.chart import Bar, bar_chart

    return bar_chart([Bar(label, points, score) for label, points, score in rows])


# --------------------------------------------------------------------------- 自评报告

def self_evaluation_summary(scoring: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(label, points, score) of 预算执行率 and each first-level group, as printed (rescaled
    figures when not-applicable rows were dropped, so they add up to the total)."""
    rows = [("预算执行率", scoring["execution"]["scaled_weight"], scoring["execution"]["scaled_score"])]
    rows += [(s["label"], s["scaled_weight"], s["scaled_score"]) for s in scoring["subtotals"]]
    return rows


def indicator_sheet(data: Mapping[str, Any], settings=None) -> Sheet:
    """The indicator rows of a 自评表 for a report: 一级 | 二级 | 三级 | 年度指标值 | 实际完成值 |
    分值 | 得分, merged by level."""
    sec = section(settings)
    rows = grouped_rows(data, settings)
    sheet = Sheet("绩效指标", [Column(9), Column(11), Column(16), Column(12), Column(12), Column(7, "score"),
                               Column(7, "score")], header_rows=1)
    sheet.add(*(Cell(t, "header") for t in ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分")))
    l1_runs = iter(_runs(rows, lambda r: r["level1_key"] or r.get("level1")))
    l2_runs = iter(_runs(rows, lambda r: (r["level1_key"] or r.get("level1"), r.get("level2") or "")))
    prev_l1 = prev_l2 = None
    for row in rows:
        l1 = row["level1_key"] or row.get("level1")
        l2 = (l1, row.get("level2") or "")
        cells = []
        if l1 != prev_l1:
            cells.append(Cell(level1_label(row["level1_key"], sec) if row["level1_key"] else l1, "label",
                              rowspan=next(l1_runs)))
            prev_l2 = None
        if l2 != prev_l2:
            cells.append(Cell(row.get("level2") or "", "label", rowspan=next(l2_runs)))
        prev_l1, prev_l2 = l1, l2
        cells += [Cell(row.get("name") or ""), Cell(target_text(row), align="center"),
                  Cell(actual_text(row), align="center"), Cell(row["weight"], "score"),
                  Cell("不适用", align="center") if row["not_applicable"] else Cell(row["score"], "score")]
        sheet.add(*cells)
    return sheet


def self_evaluation_report_document(data: Mapping[str, Any], settings=None):
    form, text = data["form"], data["sections"]
    scoring = form["scoring"]
    summary = self_evaluation_summary(scoring)
    body = Body()
    body.text("一、项目基本情况", "（一）项目概况", text["overview"], "（二）项目绩效目标")
    goals = form.get("goals") or []
    body.text(*(f"目标{i + 1}：{g['annual_goal']}" if len(goals) > 1 else g["annual_goal"] for i, g in enumerate(goals)))
    body.text("二、绩效自评工作开展情况", text["process"])

    parts = "，".join(f"{label}得分{pts(score)}分（分值{points_label(points)}分）" for label, points, score in summary)
    lines = [f"经自评，{form['project_name']}{form['year']}年度绩效自评得分{pts(scoring['total'])}分，"
             f"评价等级为“{scoring['grade_label']}”。其中，{parts}。"]
    if scoring["rescaled"]:
        lines.append(f"部分指标不适用，已剔除后按适用分值{points_label(scoring['applicable_weight'])}分折算为百分制，"
                     f"折算前得分{pts(scoring['raw_total'])}分。")
    body.text("三、综合评价结论", *lines)
    body.table(_summary_sheet(summary), "自评得分汇总表")
    body.image(_chart(summary), "各一级指标分值与得分")
    body.text(text.get("conclusion") or "")

    annual = scoring["budget_rows"]["annual_total"]
    funds = [f"项目年度资金总额年初预算数{money_text(annual['initial_budget'])}万元，全年预算数"
             f"{money_text(annual['adjusted_budget'])}万元，全年执行数{money_text(annual['executed'])}万元，"
             f"预算执行率{percent_text(scoring['execution']['percent'])}，得分{pts(scoring['execution']['score'])}分"
             f"（分值{points_label(scoring['execution']['weight'])}分）。"]
    budget = form["budget"]
    if budget.get("deviation_reason"):
        funds.append(f"执行偏差原因：{budget['deviation_reason']}")
    if budget.get("improvement"):
        funds.append(f"改进措施：{budget['improvement']}")
    body.text("四、绩效目标实现情况分析", "（一）项目资金情况分析", *funds, text.get("funds") or "",
              "（二）项目绩效指标完成情况分析")
    groups = [s for s in scoring["subtotals"]]
    rows = grouped_rows(form, settings)
    for i, group in enumerate(groups, start=1):
        members = [r for r in rows if (r["level1_key"] or r["level1"]) == group["key"]]
        lines = [f"{i}.{group['label']}完成情况",
                 f"{group['label']}分值{points_label(group['weight'])}分，得分{pts(group['score'])}分。"]
        for r in members:
            if r["not_applicable"]:
                lines.append(f"{r['name']}：不适用，不计分。")
            else:
                lines.append(f"{r['name']}：年度指标值{target_text(r)}，实际完成值{actual_text(r)}，"
                             f"得分{pts(r['score'])}分（分值{points_label(r['weight'])}分）。")
        narrative = text.get(group["key"]) if isinstance(group["key"], str) else ""
        body.text(*lines, narrative or "")
    body.table(indicator_sheet(form, settings), "绩效指标完成情况表")
    body.text("五、存在的问题及原因分析", text["problems"], "六、下一步改进措施", text["measures"],
              "七、其他需要说明的问题", text.get("other") or "无。")
    return report_document(data, settings, body)


# --------------------------------------------------------------------------- framework reports

def framework_sheet(result: Mapping[str, Any], remarks: Mapping[str, str] | None = None,
                    level_names: tuple[str, ...] = ("一级指标", "二级指标", "三级指标", "四级指标")) -> Sheet:
    """A scored framework as a table: one column per level (parents merged over their leaves, a
    shallow leaf spreading over the deeper level columns), 分值, 得分 and, when given, 评分说明;
    then the 合计 row."""
    items = result["items"]
    depth = max(i["level"] for i in items)
    leaves_under: dict[str, int] = {}
    codes = [i["code"] for i in items]
    for item in items:
        leaves_under[item["code"]] = sum(1 for c in codes if (c == item["code"] or c.startswith(item["code"] + "."))
                                         and not any(o.startswith(c + ".") for o in codes))
    remarks = remarks or {}
    columns = [Column(9) for _ in range(depth - 1)] + [Column(16), Column(7, "score"), Column(7, "score")]
    if remarks:
        columns.append(Column(24))
    sheet = Sheet("评分表", columns, header_rows=1)
    sheet.add(*(Cell(level_names[i], "header") for i in range(depth)), Cell("分值", "header"), Cell("得分", "header"),
              *([Cell("评分说明", "header")] if remarks else []))
    row: list[Cell] = []
    for item in items:
        leaf = not any(c.startswith(item["code"] + ".") for c in codes)
        if leaf:
            row.append(Cell(item["name"], "text" if item["level"] > 1 else "label", colspan=depth - item["level"] + 1))
            row += [Cell(item["points"], "score"), Cell(item["score"], "score")]
            if remarks:
                row.append(Cell(remarks.get(item["code"], "")))
            sheet.add(*row)
            row = []
        else:
            row.append(Cell(item["name"], "label", rowspan=leaves_under[item["code"]]))
    sheet.add(Cell("合计", "label", colspan=depth), Cell(sum(d["points"] for d in result["dimensions"]), "score"),
              Cell(result["total"], "score"), *([Cell("")] if remarks else []))
    return sheet


def dimension_rows(result: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(d["name"], d["points"], d["score"]) for d in result["dimensions"]]


def _dimension_lines(result, analysis: Mapping[str, str], heading) -> list[str]:
    from rules.rounding import percent, ratio

    lines = []
    for i, d in enumerate(result["dimensions"], start=1):
        rate = percent(ratio(d["score"], d["points"]))
        lines += [f"（{chinese_ordinal(i)}）{heading(d['name'])}",
                  f"该部分分值{points_label(d['points'])}分，得分{pts(d['score'])}分，得分率{percent_text(rate)}。",
                  analysis.get(d["name"], "")]
    return lines


def evaluation_report_document(data: Mapping[str, Any], settings=None, *, department: bool = False):
    """项目支出绩效评价报告 (outline of 财预〔2020〕10号 附件3) or 部门整体支出绩效评价报告."""
    from rules.rounding import percent

    result, text = data["framework_result"], data["sections"]
    subject = data["unit"] if department else data["project_name"]
    what = "部门" if department else "项目"
    budget = data["budget"]
    body = Body()
    body.text("一、基本情况", f"（一）{what}概况", text["overview"],
              f"{data['year']}年度{what}预算数{money_text(budget['adjusted_budget'])}万元，执行数"
              f"{money_text(budget['executed'])}万元，预算执行率{percent_text(percent(data['execution_rate']))}。",
              f"（二）{what}{'整体' if department else ''}绩效目标", text["goals"])
    body.text("二、绩效评价工作开展情况", "（一）评价目的、对象和范围", text["scope"],
              "（二）评价原则、评价指标体系、评价方法和评价标准", text["method"],
              f"评价采用《{result['title']}》，一级指标为{'、'.join(d['name'] for d in result['dimensions'])}，"
              f"总分100分，各指标分值和得分见表1。")
    body.table(framework_sheet(result, data.get("remarks")), f"{result['title']}及评分")
    body.text("（三）评价工作过程", text["process"])
    parts = "，".join(f"{n}得分{pts(s)}分（分值{points_label(p)}分）" for n, p, s in dimension_rows(result))
    body.text("三、综合评价情况及评价结论",
              f"经{data['evaluator']}综合评价，{subject}{data['year']}年度绩效评价得分{pts(result['total'])}分，"
              f"评价等级为“{result['grade_label']}”。其中，{parts}。")
    body.table(_summary_sheet(dimension_rows(result)), "一级指标得分汇总表")
    body.image(_chart(dimension_rows(result)), "各一级指标分值与得分")
    body.text(text["conclusion"])
    heading = (lambda n: f"{n}情况") if department else (lambda n: f"项目{n}情况")
    body.text("四、绩效评价指标分析", *_dimension_lines(result, data["analysis"], heading))
    body.text("五、主要经验及做法、存在的问题及原因分析", text["experience"], "六、有关建议", text["suggestions"],
              "七、其他需要说明的问题", text.get("other") or "无。")
    return report_document(data, settings, body)


def ex_ante_report_document(data: Mapping[str, Any], settings=None):
    """事前绩效评估报告 (outline of section F): the five dimensions with scores, the conclusion
    computed from the total, and the funds recommended."""
    result, text = data["framework_result"], data["sections"]
    body = Body()
    funding = [f"{data['project_name']}申报{data['year']}年度预算资金{money_text(data['requested_amount'])}万元。"]
    body.text("一、评估对象基本情况", "（一）立项背景", text["background"], "（二）主要内容", text["content"],
              "（三）绩效目标", text["targets"], "（四）资金构成", *funding, text.get("funding") or "")
    body.text("二、评估工作开展情况", "（一）评估目的及对象", text["purpose"], "（二）评估思路及方法", text["method"],
              "（三）评估工作程序", text["process"])
    parts = "，".join(f"{n}得分{pts(s)}分（分值{points_label(p)}分）" for n, p, s in dimension_rows(result))
    body.text("三、综合评估情况与评估结论",
              f"{data['assessor']}从{'、'.join(d['name'] for d in result['dimensions'])}{len(result['dimensions'])}个方面"
              f"进行评估，综合得分{pts(result['total'])}分。其中，{parts}。")
    body.table(framework_sheet(result, data.get("remarks")), f"{result['title']}评分表")
    body.image(_chart(dimension_rows(result)), "各评估维度分值与得分")
    lines = _dimension_lines(result, data["analysis"], lambda n: n)
    n = len(result["dimensions"]) + 1
    conclusion = [f"（{chinese_ordinal(n)}）总体结论",
                  f"综合评估得分{pts(result['total'])}分，等级为“{result['grade_label']}”，"
                  f"评估结论为“{result['conclusion_label']}”。"]
    if data.get("recommended_amount") is not None:
        cut = data["requested_amount"] - data["recommended_amount"]
        rate = data["cut_rate"]
        conclusion.append(f"建议安排资金{money_text(data['recommended_amount'])}万元，较申报数核减"
                          f"{money_text(cut)}万元，核减率{percent_text(rate)}。")
    body.text(*lines, *conclusion, text.get("conclusion") or "")
    body.text("四、相关建议", text["suggestions"], "五、其他需要说明的问题", text.get("other") or "无。")
    return report_document(data, settings, body)


def framework_workbook(data: Mapping[str, Any], title: str) -> Workbook:
    """The scoring sheet alone (事前绩效评估评分表) as a standalone form."""
    result = data["framework_result"]
    sheet = framework_sheet(result, data.get("remarks"))
    width = sheet.width
    head = [[Cell(title, "title", colspan=width)],
            [Cell(f"项目名称：{data['project_name']}　　申报单位：{data['department']}", "subtitle", colspan=width)]]
    sheet.rows = head + sheet.rows
    sheet.title_rows = 2
    conclusion = result.get("conclusion_label")
    sheet.notes = [f"综合得分：{pts(result['total'])}分　　等级：{result['grade_label']}"
                   + (f"　　评估结论：{conclusion}" if conclusion else ""),
                   f"评估机构：{data.get('assessor') or data.get('evaluator') or ''}"]
    return Workbook(title=f"{data['project_name']}{title}", sheets=[sheet])


# --------------------------------------------------------------------------- 结果应用

def result_application_workbook(data: Mapping[str, Any]) -> Workbook:
    """评价结果应用表: one row per project, the totals row, a summary line under the table."""
    applied = data["application"]
    columns = [Column(5, "number"), Column(22), Column(14), Column(9), Column(7, "score"), Column(5), Column(26),
               Column(11, "money"), Column(8), Column(11, "money"), Column(11, "money")]
    sheet = Sheet("结果应用", columns, title_rows=3, header_rows=1, landscape=True)
    sheet.add(Cell(f"{data['year']}年度绩效评价结果应用表", "title", colspan=11))
    sheet.add(Cell(f"（应用于{data['budget_year']}年度预算）", "subtitle", colspan=11))
    sheet.add(Cell(f"填报单位：{data['finance_bureau']}", "subtitle", colspan=8, align="left"),
              Cell("单位：万元", "subtitle", colspan=3, align="right"))
    sheet.add(*(Cell(t, "header") for t in ("序号", "项目名称", "主管部门", "评价方式", "评价得分", "等级",
                                            "主要问题", "本年预算数", "应用方式", "调整金额", "下年预算安排数")))
    labels = {"self_evaluation": "单位自评", "department_evaluation": "部门评价", "finance_evaluation": "财政评价",
              "key_evaluation": "重点评价"}
    for i, row in enumerate(applied["rows"], start=1):
        sheet.add(Cell(i, "number"), Cell(row["project_name"]), Cell(row["department"]),
                  Cell(labels.get(row["evaluation_type"], row["evaluation_type"]), align="center"),
                  Cell(row["score"], "score"), Cell(row["grade_label"], align="center"), Cell(row["finding"]),
                  Cell(row["current_budget"], "money"), Cell(row["action_label"], align="center"),
                  Cell(row["adjustment"], "money"), Cell(row["next_budget"], "money"))
    t = applied["totals"]
    sheet.add(Cell("合计", "label", colspan=7), Cell(t["current_budget"], "money"), Cell(""),
              Cell(t["adjustment"], "money"), Cell(t["next_budget"], "money"))
    sheet.notes = [result_application_summary(data)]
    if data.get("filled_by") or data.get("date"):
        date = data.get("date")
        sheet.notes.append("　　".join(x for x in (
            f"填报人：{data['filled_by']}" if data.get("filled_by") else "",
            f"填报日期：{chinese_date(date)}" if date else "") if x))
    return Workbook(title=sheet.rows[0][0].value, sheets=[sheet], meta={"author": data["finance_bureau"]})


def result_application_summary(data: Mapping[str, Any]) -> str:
    t = data["application"]["totals"]
    actions = "，".join(f"{label}{t['by_action'][key]}个" for key, label in
                       (("reduce", "调减"), ("cancel", "取消"), ("priority", "优先保障"), ("maintain", "维持"))
                       if t["by_action"][key])
    return (f"共{t['count']}个项目应用评价结果（{actions}），本年预算{money_text(t['current_budget'])}万元，"
            f"下年度核减{money_text(t['cut'])}万元、增加{money_text(t['added'])}万元，"
            f"下年预算安排{money_text(t['next_budget'])}万元。")
