"""The 公用经费绩效考核 kind: per unit the base share paid in full and the performance share paid by
the unit's score (rules.public_funds), with totals that add up to the cent; xlsx and docx."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forms.public_funds import PublicFundsAssessmentSchema
from generators import public_funds as layout
from generators.tables.render import table_renderers
from kinds import Kind, register
from rules.public_funds import assess


def prepare(data: dict, settings: Mapping[str, Any]) -> dict:
    units = [{"unit": {"code": u["unit_code"], "name": u["unit"]}, "budget": u["budget"], "score": u["score"]}
             for u in data["units"]]
    return {**data, "assessment": assess(units, settings).as_dict()}


register(Kind(
    id="public_funds_assessment",
    name="公用经费绩效考核兑现表",
    group="绩效评价",
    schema=PublicFundsAssessmentSchema,
    renderers=table_renderers(layout.workbook, ("xlsx", "docx"), name="public_funds"),
    description="基础公用经费（默认70%）全额下达，绩效公用经费（默认30%）按考核得分兑现；金额以元计、到分，"
                "各单位的兑现和节约金额相加与合计完全一致。",
    prepare=prepare,
    computed=("assessment",),
    filename=lambda d: d.get("title") or layout.default_title(d),
))
