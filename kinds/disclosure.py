"""The 绩效信息公开 kind: one unit's self-evaluation material as one PDF for the government portal.

A batch (one item per unit) is written by generators.disclosure.write_archive: every unit's PDF,
excluded units recorded with their reason, and the index (目录.xlsx, 目录.html) in one zip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forms.base import FieldErrors
from forms.disclosure import DisclosureSchema
from generators import disclosure as layout
from kinds import Kind, pipeline, register


def evaluate_tables(data: dict, settings: Mapping[str, Any]) -> dict:
    """Validate and score each table with its own kind; errors keep their path inside it."""
    errors: dict[str, list[str]] = {}
    if data.get("excluded"):
        data["department_evaluation"], data["project_evaluations"] = None, []
        return data
    if data.get("department_evaluation") is not None:
        try:
            data["department_evaluation"] = pipeline.validate(
                "department_self_evaluation", data["department_evaluation"], settings)
        except FieldErrors as exc:
            errors.update({f"department_evaluation.{k}": v for k, v in exc.errors.items()})
    tables = []
    for i, payload in enumerate(data.get("project_evaluations") or []):
        try:
            tables.append(pipeline.validate("self_evaluation", payload, settings))
        except FieldErrors as exc:
            errors.update({f"project_evaluations.{i}.{k}": v for k, v in exc.errors.items()})
    if errors:
        raise FieldErrors(errors)
    data["project_evaluations"] = tables
    return data


def render_pdf(data: dict, settings: Mapping[str, Any]) -> bytes:
    if data.get("excluded"):
        # Asked for one unit's file: say why there is none, as a field error, not a failure.
        raise FieldErrors({"excluded": [f"该单位不予公开（{data['exclusion_reason']}），不生成公开文件。"]})
    return layout.render_unit_pdf(data, settings)


register(Kind(
    id="disclosure",
    name="绩效自评结果公开文件",
    group="信息公开",
    schema=DisclosureSchema,
    renderers={"pdf": render_pdf},
    prepare=evaluate_tables,
    description="每个单位一个PDF：部门整体支出绩效自评报告及各项目支出绩效自评表，嵌入字体、带书签和页码，每页标注单位名称；"
                "批量生成时涉密等不公开单位连同原因列入目录（xlsx、HTML），全部打包为一个zip。",
    filename=lambda d: f"{layout.file_stem(d)}_{d['year']}年度绩效自评公开",
    extra={"archive": layout.write_archive, "item": layout.unit_result},
))
