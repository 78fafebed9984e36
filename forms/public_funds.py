"""Schema of the 公用经费绩效考核兑现表 (kind `public_funds_assessment`).

The input is one row per unit: its 公用经费 budget in 元 and its assessment score. Every other
figure (基础/绩效 shares, amounts paid and saved, totals) is computed by rules.public_funds in the
kind's prepare step, never typed, so the table always adds up.
"""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from forms.base import BaseSchema, SettingsSchema
from forms.fields import ChineseDate, Money, Score, Text


class PublicFundsUnitSchema(BaseSchema):
    unit = Text(required=True, max_length=60, metadata={"label": "单位名称"})
    unit_code = Text(load_default="", allow_blank=True, max_length=30, metadata={"label": "单位编码"})
    budget = Money(required=True, metadata={"label": "公用经费预算（元）"})
    score = Score(required=True, metadata={"label": "考核得分"})
    remark = Text(load_default="", allow_blank=True, max_length=200, metadata={"label": "备注"})


class PublicFundsAssessmentSchema(SettingsSchema):
    """公用经费 = 基础公用经费 (base, released in full) + 绩效公用经费 (paid by the score)."""

    kind = "public_funds_assessment"

    year = fields.Integer(required=True, strict=False,
                          validate=validate.Range(2000, 2100, error="年度应在2000年至2100年之间。"),
                          metadata={"label": "考核年度"})
    region = Text(required=True, max_length=40, metadata={"label": "地区或财政部门（如“青溪县”）"})
    title = Text(load_default="", allow_blank=True, max_length=80,
                 metadata={"label": "表名（默认“××年度部门公用经费绩效考核兑现情况表”）"})
    units = fields.List(fields.Nested(PublicFundsUnitSchema), required=True,
                        validate=validate.Length(min=1, max=20000, error="请填写1至20000个单位。"),
                        metadata={"label": "参加考核的单位"})
    prepared_by = Text(load_default="", allow_blank=True, max_length=40, metadata={"label": "编制单位"})
    date = ChineseDate(load_default=None, allow_none=True, metadata={"label": "编制日期"})

    @validates_schema(skip_on_field_errors=False)
    def _unique_units(self, data, **kwargs):
        # Two rows for one unit would pay it twice: refuse the second, naming the first.
        seen: dict[str, int] = {}
        errors: dict[str, list[str]] = {}
        for i, row in enumerate(data.get("units") or []):
            key = row.get("unit_code") or row.get("unit")
            if not key:
                continue
            if key in seen:
                errors[f"units.{i}.unit"] = [f"与第{seen[key] + 1}行的单位重复。"]
            else:
                seen[key] = i
        if errors:
            raise ValidationError(errors)
