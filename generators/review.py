"""Table-grid layout of the 绩效目标审核意见表 (target_review): the form a reviewer signs and files
with the declaration, one row per criterion with its points, score and comment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forms.review import DECLARATION_KINDS, OUTCOMES, REVIEWER_TYPES, criteria
from generators.grid import Cell, Column, Sheet, Workbook
from rules.rounding import to_decimal

COLUMNS = (12, 30, 7, 7, 32)
# The chosen outcome and the others: GB2312 characters, in every official face and in the fonts
# the PDF embeds (☑ is in neither: the PDF printed a missing-glyph box for it).
CHOSEN, UNCHOSEN = "■", "□"


def title(data: Mapping[str, Any]) -> str:
    return DECLARATION_KINDS[data["declaration_kind"]].replace("申报表", "审核意见表")


def outcome_marks(outcome: str) -> str:
    """“■通过　□修改后通过　□退回修改”: every choice printed, the chosen one filled."""
    return "　　".join((CHOSEN if key == outcome else UNCHOSEN) + label for key, label in OUTCOMES.items())


def review_workbook(data: Mapping[str, Any], settings: Mapping[str, Any]) -> Workbook:
    sheet = Sheet("绩效目标审核意见表", [Column(w) for w in COLUMNS], title_rows=2, header_rows=0)
    sheet.add(Cell(title(data), "title", colspan=5))
    sheet.add(Cell(f"（{data['year']}年度）", "subtitle", colspan=5))
    sheet.add(Cell("项目（部门）名称", "label"), Cell(data["project_name"], colspan=4))
    sheet.add(Cell("申报单位", "label"), Cell(data["unit"]), Cell("申报资金（万元）", "label", colspan=2),
              Cell(data.get("funds"), "money"))
    sheet.add(Cell("审核主体", "label"), Cell(REVIEWER_TYPES[data["reviewer_type"]]),
              Cell("审核单位（专家）", "label", colspan=2), Cell(data["reviewer"]))
    sheet.add(*(Cell(h, "header") for h in ("审核内容", "审核要点", "分值", "得分", "审核意见")))
    for item in criteria(settings):
        row = data["criteria"][item["key"]]
        sheet.add(Cell(item["name"], "label"), Cell(item["guide"]), Cell(to_decimal(item["points"]), "score"),
                  Cell(row["score"], "score"), Cell(row["comment"]))
    sheet.add(Cell("合计", "label", colspan=2), Cell(sum(to_decimal(i["points"]) for i in criteria(settings)), "score"),
              Cell(data["total_score"], "score"), Cell(f"审核等级：{data['grade_label']}", align="center"))
    sheet.add(Cell("综合意见", "label"), Cell(data["opinion"], colspan=4))
    sheet.add(Cell("审核结论", "label"), Cell(outcome_marks(data["outcome"]), colspan=4))
    sheet.add(Cell("修改要求", "label"), Cell(data.get("changes") or "无", colspan=4))
    sheet.add(Cell("审核人签字", "label"), Cell(""), Cell("审核日期", "label", colspan=2), Cell(data["date"], "date"))
    return Workbook(title(data), [sheet], meta={"unit": data["reviewer"]})
