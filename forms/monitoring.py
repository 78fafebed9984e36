"""Schemas of the 绩效运行监控 kinds (official-forms C.2, 财预〔2019〕136号):

* ``monitoring`` — 项目支出绩效目标执行监控表, one project;
* ``department_monitoring`` — 部门整体支出绩效目标执行监控表, one department (unit) as a whole;
* ``monitoring_summary`` — the summary across units and projects per scope.

The schemas clean the input into the shapes rules.monitoring documents (fund lines, indicator
rows, summary rows) and then run that module's own checks (check_funds,
check_monitoring_indicators, check_rows), so the fill-in rules — sources adding up to the
annual total, a deviation cause and a corrective measure whenever the likelihood is not 确定能 —
come back as field errors in the same pass as the field checks. Nothing is computed here: the
kinds' prepare steps (kinds/monitoring.py) call rules.monitoring for the rates.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, post_load, pre_load, validate, validates_schema

from forms.base import BaseSchema, SettingsSchema, nest_errors
from forms.fields import ChineseDate, Money, Score, Text
from rules.indicators import OPERATOR_CHOICES, split_value
from rules.monitoring import (
    CAUSE_LABELS,
    LIKELIHOOD_LABELS,
    check_funds,
    check_monitoring_indicators,
    check_rows,
    normalise_likelihood,
)
from rules.operators import normalise_operator
from rules.periods import PeriodError, normalise_label
from rules.rounding import to_decimal

DEFAULT_SCOPE = "部门预算项目"
_CAUSE_BY_TEXT = {**{v: k for k, v in CAUSE_LABELS.items()}, **{k: k for k in CAUSE_LABELS}, "硬件保障": "facilities"}


class PeriodField(Text):
    """监控期间 written “1-6月” (also 1至6月, １－６月 …), returned in its canonical form."""

    default_error_messages = {"period": "{message}"}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalise_label(text)
        except PeriodError as exc:
            raise self.make_error("period", message=exc.message) from None


class FlexibleValue(fields.Field):
    """年度指标值 / 执行情况 as written: a number or text, returned as trimmed text (None when blank).

    Cells of an imported workbook arrive as Decimal or int; a JSON float is taken by its repr so
    no binary error creeps in."""

    default_error_messages = {"invalid": "请输入数值或文字。", "too_long": "不能超过{max}个字。"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise self.make_error("invalid")
        text = repr(value) if isinstance(value, float) else (format(value, "f") if isinstance(value, Decimal) else str(value))
        text = unicodedata.normalize("NFC", text).strip()
        if len(text) > 200:
            raise self.make_error("too_long", max=200)
        return text or None

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)


class Causes(fields.Field):
    """偏差原因分析: a list of causes (“经费保障”, or the identifiers funding …), or one text with
    the causes separated by 、，, — as a clerk types them in one cell. Unknown entries are kept
    for rules.monitoring to name in its message."""

    default_error_messages = {"invalid": "请选择偏差原因：经费保障、制度保障、人员保障、硬件条件保障或其他。"}

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or value == "":
            return []
        if isinstance(value, str):
            parts = value.replace("，", ",").replace("、", ",").replace(";", ",").replace("；", ",").split(",")
        elif isinstance(value, list | tuple):
            parts = value
        else:
            raise self.make_error("invalid")
        out: list[str] = []
        for part in parts:
            if not isinstance(part, str):
                raise self.make_error("invalid")
            text = unicodedata.normalize("NFKC", part).strip()
            if text:
                cause = _CAUSE_BY_TEXT.get(text, text)
                if cause not in out:
                    out.append(cause)
        return out

    def _serialize(self, value, attr, obj, **kwargs):
        return list(value or [])


class Ratio(fields.Field):
    """A rate given as a ratio (0.8276) or as a percentage written with its sign (“82.76%”);
    returned as the ratio, a Decimal."""

    default_error_messages = {
        "invalid": "请输入比率（如0.8276）或百分数（如82.76%）。",
        "range": "应为0至1之间的比率（如0.8276），或写成百分数（如82.76%）。",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, float):
            value = repr(value)
        scale = Decimal(1)
        if isinstance(value, str):
            text = unicodedata.normalize("NFKC", value).strip()
            if text.endswith("%"):
                text, scale = text[:-1].strip(), Decimal(100)
            value = text
        try:
            rate = to_decimal(value) / scale
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise self.make_error("invalid") from exc
        if not Decimal(0) <= rate <= Decimal(1):
            raise self.make_error("range")
        return rate

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)


def _optional_money(label: str) -> Money:
    return Money(load_default=None, allow_none=True, metadata={"label": label})


class MonitoringUnitSchema(BaseSchema):
    """预算单位: 单位编码 and 单位名称."""

    code = Text(load_default="", allow_blank=True, max_length=40, metadata={"label": "单位编码"})
    name = Text(required=True, max_length=100, metadata={"label": "单位名称"})


class MonitoringFundLineSchema(BaseSchema):
    initial_budget = _optional_money("年初预算数（万元）")
    adjusted_budget = _optional_money("调整后预算数（万元）")
    executed = _optional_money("1-X月执行数（万元）")
    projected_executed = _optional_money("全年预计执行数（万元）")


class MonitoringFundsSchema(BaseSchema):
    """项目资金（万元）: 年度资金总额 and its sources (其中：财政拨款、其他资金 …). A source left out
    is not reconciled; one given must add up with the others to the annual total."""

    annual_total = fields.Nested(MonitoringFundLineSchema, required=True, metadata={"label": "年度资金总额"})
    fiscal_appropriation = fields.Nested(MonitoringFundLineSchema, metadata={"label": "其中：财政拨款"})
    other_funds = fields.Nested(MonitoringFundLineSchema, metadata={"label": "其他资金"})
    carryover = fields.Nested(MonitoringFundLineSchema, metadata={"label": "上年结转资金"})

    @pre_load
    def _drop_empty_sources(self, data, **kwargs):
        """A source row the clerk left entirely blank is no source (the HTML form and the batch
        workbook always send every row)."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name in ("fiscal_appropriation", "other_funds", "carryover"):
            line = out.get(name)
            if line is None or (isinstance(line, dict) and all(v in (None, "") for v in line.values())):
                out.pop(name, None)
        return out


class MonitoringIndicatorSchema(BaseSchema):
    """One 三级指标 row of a 执行监控表 (glossary identifiers)."""

    level1 = Text(load_default="", allow_blank=True, max_length=20, metadata={"label": "一级指标"})
    level2 = Text(load_default="", allow_blank=True, max_length=30, metadata={"label": "二级指标"})
    name = Text(required=True, max_length=100, metadata={"label": "三级指标"})
    operator = Text(load_default=None, allow_none=True, allow_blank=True, max_length=4,
                    metadata={"label": "指标性质", "choices": OPERATOR_CHOICES})
    target_value = FlexibleValue(required=True, metadata={"label": "年度指标值"})
    measure_unit = Text(load_default="", allow_blank=True, max_length=20, metadata={"label": "度量单位"})
    actual_value = FlexibleValue(load_default=None, allow_none=True, metadata={"label": "1-X月执行情况"})
    projected_value = FlexibleValue(load_default=None, allow_none=True, metadata={"label": "全年预计完成情况"})
    completion_likelihood = Text(required=True, max_length=10,
                                 metadata={"label": "完成目标可能性", "choices": LIKELIHOOD_LABELS})
    deviation_causes = Causes(load_default=list, metadata={"label": "偏差原因", "choices": CAUSE_LABELS, "multiple": True})
    deviation_reason = Text(load_default="", allow_blank=True, max_length=500, multiline=True,
                            metadata={"label": "偏差原因说明"})
    improvement = Text(load_default="", allow_blank=True, max_length=500, multiline=True,
                       metadata={"label": "纠偏措施"})
    remark = Text(load_default="", allow_blank=True, max_length=300, multiline=True, metadata={"label": "备注"})
    weight = Score(load_default=None, allow_none=True, metadata={"label": "分值"})

    @pre_load
    def _split_value(self, data, **kwargs):
        """“≥95%” in one cell becomes operator ≥, value 95, unit % (rules.indicators.split_value)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        target = data.get("target_value")
        if isinstance(target, float):
            target = repr(target)
        if isinstance(target, str | int | Decimal) and not isinstance(target, bool) and str(target).strip():
            op, value, unit = split_value(data.get("operator"), target, data.get("measure_unit"))
            data["operator"], data["target_value"] = op, value
            if unit:
                data["measure_unit"] = unit
        return data

    @post_load
    def _normalise(self, data, **kwargs):
        """Canonical operator and likelihood identifiers; a quantitative progress value keeps only
        its number (“96%” → “96”), so rules.monitoring can compare it with the target."""
        op = normalise_operator(data.get("operator"))
        if op is not None:
            data["operator"] = op
        likelihood = normalise_likelihood(data.get("completion_likelihood"))
        if likelihood is not None:
            data["completion_likelihood"] = likelihood
        if op in ("≥", "≤", "="):
            for key in ("actual_value", "projected_value"):
                value = data.get(key)
                if value:
                    _, number, _ = split_value(op, value, data.get("measure_unit"))
                    data[key] = number
        return data


class MonitoringTaskSchema(BaseSchema):
    """年度主要任务 of a department with its progress over the period."""

    name = Text(required=True, max_length=100, metadata={"label": "任务名称"})
    progress = Text(load_default="", allow_blank=True, max_length=1000, multiline=True,
                    metadata={"label": "1-X月完成情况"})


class MonitoringBaseSchema(SettingsSchema):
    """What the project and the department 执行监控表 share."""

    year = fields.Integer(required=True, strict=False,
                          validate=validate.Range(2000, 2100, error="年度应在2000年至2100年之间。"),
                          metadata={"label": "年度"})
    period = PeriodField(required=True, metadata={"label": "监控期间（如1-6月）"})
    funds = fields.Nested(MonitoringFundsSchema, required=True, metadata={"label": "资金情况（万元）"})
    annual_goal = Text(required=True, max_length=2000, multiline=True, metadata={"label": "年度总体目标（年初设定目标）"})
    annual_goal_progress = Text(load_default="", allow_blank=True, max_length=2000, multiline=True,
                                metadata={"label": "年度总体目标1-X月执行情况"})
    indicators = fields.List(fields.Nested(MonitoringIndicatorSchema), required=True,
                             validate=validate.Length(min=1, max=300, error="绩效指标应有1至300项。"),
                             metadata={"label": "绩效指标"})
    filled_by = Text(load_default="", allow_blank=True, max_length=20, metadata={"label": "填报人"})
    phone = Text(load_default="", allow_blank=True, max_length=30, metadata={"label": "联系电话"})
    date = ChineseDate(load_default=None, allow_none=True, metadata={"label": "填报日期"})

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _check_rules(self, data, original_data, **kwargs):
        """rules.monitoring's checks on the parts that loaded. A value the user gave that its field
        refused is already reported there, so the rule's “必填” on the same path is dropped."""
        errors: dict[str, list[str]] = {}
        if "funds" in data:
            errors.update(check_funds(data["funds"], self.settings, "funds"))
        if "indicators" in data:
            errors.update(check_monitoring_indicators(data["indicators"], "indicators"))
        errors = {path: messages for path, messages in errors.items()
                  if not _refused(original_data, data, path.split("."))}
        if errors:
            raise ValidationError(nest_errors(errors))


def _dig(tree: Any, parts: list[str]) -> tuple[bool, Any]:
    node = tree
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _refused(original: Any, data: Any, parts: list[str]) -> bool:
    """True when the input held a value at `parts` that did not survive loading."""
    given, raw = _dig(original, parts)
    loaded, _ = _dig(data, parts)
    return given and raw not in (None, "") and not loaded


class MonitoringSchema(MonitoringBaseSchema):
    """项目支出绩效目标执行监控表."""

    kind = "monitoring"

    unit = fields.Nested(MonitoringUnitSchema, load_default=None, allow_none=True, metadata={"label": "填报单位"})
    project_name = Text(required=True, max_length=100, metadata={"label": "项目名称"})
    project_code = Text(load_default="", allow_blank=True, max_length=40, metadata={"label": "项目编码"})
    department = Text(required=True, max_length=60, metadata={"label": "主管部门"})
    department_code = Text(load_default="", allow_blank=True, max_length=40, metadata={"label": "主管部门代码"})
    implementing_unit = Text(required=True, max_length=60, metadata={"label": "实施单位"})
    scope = Text(load_default=DEFAULT_SCOPE, max_length=30, metadata={"label": "监控范围（部门预算项目、专项资金等）"})


class DepartmentMonitoringSchema(MonitoringBaseSchema):
    """部门整体支出绩效目标执行监控表 (local forms: 部门（单位）名称, 年度主要任务, the overall funds)."""

    kind = "department_monitoring"

    unit = fields.Nested(MonitoringUnitSchema, required=True, metadata={"label": "部门（单位）"})
    department = Text(load_default="", allow_blank=True, max_length=60, metadata={"label": "主管部门"})
    tasks = fields.List(fields.Nested(MonitoringTaskSchema), load_default=list,
                        validate=validate.Length(max=50, error="年度主要任务最多50项。"),
                        metadata={"label": "年度主要任务"})


class MonitoringSummaryRowSchema(BaseSchema):
    """One monitored project for the summary: its unit, scope, money and rates."""

    unit = fields.Nested(MonitoringUnitSchema, required=True, metadata={"label": "单位"})
    project = Text(required=True, max_length=100, metadata={"label": "项目名称"})
    project_code = Text(load_default="", allow_blank=True, max_length=40, metadata={"label": "项目编码"})
    scope = Text(load_default=DEFAULT_SCOPE, max_length=30, metadata={"label": "监控范围"})
    budget = Money(required=True, metadata={"label": "预算数（万元）"})
    executed = Money(required=True, metadata={"label": "执行数（万元）"})
    completion_rate = Ratio(load_default=None, allow_none=True, metadata={"label": "绩效目标整体完成率"})
    self_evaluation_score = Score(load_default=None, allow_none=True, metadata={"label": "绩效自评得分"})


class MonitoringSummarySchema(SettingsSchema):
    """绩效运行监控汇总: per scope the units, projects, money, 执行率, 完成率, 偏差值 and mean score."""

    kind = "monitoring_summary"

    year = fields.Integer(required=True, strict=False,
                          validate=validate.Range(2000, 2100, error="年度应在2000年至2100年之间。"),
                          metadata={"label": "年度"})
    period = PeriodField(required=True, metadata={"label": "监控期间（如1-9月）"})
    area = Text(load_default="", allow_blank=True, max_length=60, metadata={"label": "地区或财政部门（用于标题）"})
    rows = fields.List(fields.Nested(MonitoringSummaryRowSchema), required=True,
                       validate=validate.Length(min=1, max=200_000, error="汇总行应有1至200000行。"),
                       metadata={"label": "监控项目"})

    @validates_schema(skip_on_field_errors=True)
    def _check_rows(self, data, **kwargs):
        if "rows" not in data:  # loaded with only= the head fields (kinds.monitoring.stream_summary)
            return
        rows = [_summary_rule_row(r) for r in data["rows"]]
        errors = check_rows(rows, "scope", "rows")
        if errors:
            raise ValidationError(nest_errors(errors))


def _summary_rule_row(row: dict[str, Any]) -> dict[str, Any]:
    """A summary row as rules.monitoring.summarise reads it: a project is identified by its code
    when given (two projects of one unit may share a name), else by its name."""
    return {**row, "project": {"code": row.get("project_code") or "", "name": row["project"]}}


summary_rule_row = _summary_rule_row

__all__ = [
    "DEFAULT_SCOPE",
    "LIKELIHOOD_LABELS",
    "DepartmentMonitoringSchema",
    "MonitoringSchema",
    "MonitoringSummarySchema",
    "summary_rule_row",
]
