"""Input of the summary drafts: who reports to whom, the document numbers, and the user's own
narrative sections. The statistics are not typed here: they come from the stored data
(rules.statistics), or from `units` given in the same plain form for a test or an offline run.

The drafts themselves are ordinary `report` and `request` payloads, validated afterwards by their
own schemas (forms.official), so every 公文 rule applies to them unchanged.
"""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates

from forms.base import SettingsSchema
from forms.fields import ChineseDate, DocNumber, Text, TextList
from rules.organs import split_organs
from rules.periods import PeriodError, parse_period


class SummaryDraftSchema(SettingsSchema):
    kind = "summary_draft"

    year = fields.Integer(required=True, strict=False,
                          validate=validate.Range(2000, 2100, error="年度应在2000年至2100年之间。"),
                          metadata={"label": "总结年度"})
    region = Text(required=True, max_length=40, metadata={"label": "地区（如“青溪县”）"})
    issuer = Text(required=True, max_length=40, metadata={"label": "发文机关（如“青溪县财政局”）"})
    addressee = Text(required=True, max_length=60, metadata={"label": "主送机关（一个上级机关，如“县人民政府”）"})
    signers = TextList(required=True, max_items=4, item_length=20,
                       validate=validate.Length(min=1, error="请填写签发人。"), metadata={"label": "签发人"})
    report_doc_number = DocNumber(required=True, metadata={"label": "报告发文字号"})
    request_doc_number = DocNumber(required=True, metadata={"label": "请示发文字号"})
    report_title = Text(load_default="", allow_blank=True, max_length=80,
                        metadata={"label": "报告名称（默认“××××年度全面实施预算绩效管理工作总结报告”）"})
    date = ChineseDate(required=True, metadata={"label": "成文日期"})
    contact = Text(required=True, max_length=20, metadata={"label": "联系人"})
    phone = Text(required=True, max_length=30, metadata={"label": "联系电话"})
    basis = Text(load_default="", allow_blank=True, max_length=500, multiline=True,
                 metadata={"label": "请示的缘由（开头一段，可留空用默认写法）"})
    monitoring_period = Text(load_default="1-12月", max_length=10, metadata={"label": "监控数据截至期间（如“1-9月”）"})
    practices = Text(required=True, max_length=20000, multiline=True, metadata={"label": "主要做法与成效"})
    problems = Text(required=True, max_length=10000, multiline=True, metadata={"label": "存在的问题"})
    next_steps = Text(required=True, max_length=10000, multiline=True, metadata={"label": "下一步工作"})
    cc = TextList(load_default=list, max_items=10, item_length=40, metadata={"label": "抄送机关"})
    printed_by = Text(load_default="", allow_blank=True, max_length=40, metadata={"label": "印发机关"})
    # Plain statistics input (rules.statistics); when absent the service loads the stored data.
    units = fields.List(fields.Dict(), load_default=None, allow_none=True,
                        metadata={"label": "单位数据（不填则取系统中已提交的数据）"})

    @validates("monitoring_period")
    def _period(self, value, **kwargs):
        try:
            parse_period(value)
        except PeriodError as exc:
            raise ValidationError(exc.message) from None

    @validates("addressee")
    def _one_organ(self, value, **kwargs):
        organs = split_organs(value, self.settings)
        if len(organs) > 1:
            raise ValidationError(f"请示只能主送一个上级机关：“{value}”是{len(organs)}个机关（{'；'.join(organs)}），"
                                  f"请只填一个（如“{organs[-1]}”）。")
