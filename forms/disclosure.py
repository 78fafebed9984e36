"""Schema of one unit's 绩效信息公开 material (kind `disclosure`).

A unit publishes its 部门整体支出绩效自评报告 and its 项目支出绩效自评表s (and, when it has one, its
部门整体支出绩效自评表). The tables arrive as the payloads of the evaluation kinds
(`self_evaluation`, `department_self_evaluation`); the kind's prepare step (kinds/disclosure.py)
validates and scores them with those kinds, so a published table is exactly the table the unit
filed. A unit excluded from publication (涉密, or published together with its department) is kept
with its reason, for the index.
"""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from forms.base import BaseSchema, SettingsSchema
from forms.fields import Text


class ReportTextSchema(BaseSchema):
    title = Text(load_default="", allow_blank=True, max_length=100,
                 metadata={"label": "报告标题（默认“××单位××年度部门整体支出绩效自评报告”）"})
    body = Text(required=True, max_length=60000, multiline=True,
                metadata={"label": "报告正文（一、（一）1.（1）分级标题各占一行）"})


class DisclosureSchema(SettingsSchema):
    kind = "disclosure"

    year = fields.Integer(required=True, strict=False,
                          validate=validate.Range(2000, 2100, error="年度应在2000年至2100年之间。"),
                          metadata={"label": "评价年度"})
    unit = Text(required=True, max_length=60, metadata={"label": "单位名称"})
    unit_code = Text(load_default="", allow_blank=True, max_length=30,
                     validate=validate.Regexp(r"^[0-9A-Za-z_-]*$", error="单位编码只能含字母、数字、下划线和连字符。"),
                     metadata={"label": "单位编码"})
    excluded = fields.Boolean(load_default=False, metadata={"label": "不予公开"})
    exclusion_reason = Text(load_default="", allow_blank=True, max_length=100,
                            metadata={"label": "不公开原因（如“涉密”“与主管部门合并公开”）"})
    report = fields.Nested(ReportTextSchema, load_default=None, allow_none=True,
                           metadata={"label": "部门整体支出绩效自评报告"})
    department_evaluation = fields.Dict(load_default=None, allow_none=True,
                                        metadata={"label": "部门整体支出绩效自评表", "attach": "department_self_evaluation"})
    project_evaluations = fields.List(fields.Dict(), load_default=list,
                                      validate=validate.Length(max=500, error="项目支出绩效自评表最多500张。"),
                                      metadata={"label": "项目支出绩效自评表（每个项目一张）", "attach": "self_evaluation"})

    @validates_schema(skip_on_field_errors=False)
    def _publication(self, data, **kwargs):
        if data.get("excluded"):
            if not data.get("exclusion_reason"):
                raise ValidationError("不予公开的单位请填写原因（如“涉密”）。", "exclusion_reason")
            return
        if data.get("exclusion_reason"):
            raise ValidationError("只有不予公开的单位才填写不公开原因。", "exclusion_reason")
        if not data.get("report"):
            raise ValidationError("请提供部门整体支出绩效自评报告。", "report")
