"""The 绩效目标 kinds: 项目支出 and 部门（单位）整体支出绩效目标申报表, and their review (审核).

All three are laid out in the table-grid model (generators/declaration.py, generators/review.py)
and rendered by the shared table renderers, so the xlsx, docx and PDF show the same table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forms.declaration import DepartmentDeclarationSchema, ProjectDeclarationSchema
from forms.review import OUTCOMES, REVIEWER_TYPES, TargetReviewSchema, total_score
from generators import declaration as declaration_layout
from generators import review as review_layout
from generators.tables.render import table_renderers
from kinds import Kind, register
from rules.scoring import grade


def prepare_review(data: dict, settings: Mapping[str, Any]) -> dict:
    """The total is the sum of the four scores, never typed; the grade follows scoring.grades."""
    score = total_score(data)
    key, label = grade(score, settings)
    return {**data, "total_score": score, "grade": key, "grade_label": label,
            "outcome_label": OUTCOMES[data["outcome"]], "reviewer_type_label": REVIEWER_TYPES[data["reviewer_type"]],
            "declaration_status": settings["target_review"]["outcomes"][data["outcome"]]}


register(Kind(
    id="target_declaration",
    name="项目支出绩效目标申报表",
    group="绩效目标",
    schema=ProjectDeclarationSchema,
    renderers=table_renderers(declaration_layout.project_workbook, name="target_declaration"),
    description="按财预〔2015〕88号格式填报项目资金、中期和年度目标及绩效指标；支持财预〔2020〕10号和"
                "〔2021〕101号两种指标体系，可从指标库选取指标，可下载空白表离线填写后导入。",
    filename=lambda d: f"{d.get('project_name', '')}绩效目标申报表",
    extra={"blank_form": True, "indicator_paths": ("indicators.midterm", "indicators.annual")},
))

register(Kind(
    id="department_target_declaration",
    name="部门（单位）整体支出绩效目标申报表",
    group="绩效目标",
    schema=DepartmentDeclarationSchema,
    renderers=table_renderers(declaration_layout.department_workbook, name="department_target_declaration"),
    description="填报部门年度主要任务、整体支出预算、年度总体目标和年度绩效指标；可下载空白表离线填写后导入。",
    filename=lambda d: f"{d.get('department', '')}{d.get('year', '')}年度整体支出绩效目标申报表",
    extra={"blank_form": True, "indicator_paths": ("indicators",)},
))

register(Kind(
    id="target_review",
    name="绩效目标审核意见表",
    group="绩效目标",
    schema=TargetReviewSchema,
    renderers=table_renderers(review_layout.review_workbook, ("docx", "xlsx", "pdf"), name="target_review"),
    description="财政部门、主管部门或第三方专家按完整性、相关性、适当性、可行性审核绩效目标，给出得分、综合意见和"
                "审核结论（通过、修改后通过、退回修改）；关联申报表提交后，申报表状态随审核结论变化。",
    prepare=prepare_review,
    computed=("total_score", "grade", "grade_label", "declaration_status"),
    filename=lambda d: f"{d.get('project_name', '')}绩效目标审核意见表",
    extra={"reviews": ("target_declaration", "department_target_declaration")},
))
