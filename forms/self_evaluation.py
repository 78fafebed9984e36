"""Schemas of the 绩效自评表 kinds: 项目支出绩效自评表 (self_evaluation, 财预〔2020〕10号 附件1) and
部门整体支出绩效自评表 (department_self_evaluation).

The schema cleans the input into exactly the shape rules.scoring documents for
`score_self_evaluation` (budget rows, indicator rows), then runs `validate_self_evaluation` so the
rules of the scoring module — weights adding up to 100, a missing actual value explained, a
qualitative score inside its band, explanations where a row falls short — are reported as field
errors in the same pass as the field checks. Nothing here computes a score: the kind's prepare
step (kinds/evaluation.py) does, so the total a user sees is never typed.

Fields whose absence the scoring module reports itself (三级指标名称, 分值, 实际完成值, 得分, 档次…) are
optional here, so one missing value gives one message, not two.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from forms.base import BaseSchema, SettingsSchema
from forms.fields import ChineseDate, Money, Score, Text
from rules.indicators import OPERATOR_CHOICES, split_value
from rules.rounding import to_decimal
from rules.scoring import QUALITATIVE, normalize_operator, validate_self_evaluation


class IndicatorValue(fields.Field):
    """年度指标值 / 实际完成值 as written: a number or text, returned as trimmed text (None when
    blank). Quantitative rows are split into number and unit before validation (see
    IndicatorRowSchema)."""

    default_error_messages = {"invalid": "请输入数值或文字。", "too_long": "不能超过{max}个字。"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise self.make_error("invalid")
        text = repr(value) if isinstance(value, float) else str(value)
        text = text.strip()
        if len(text) > 200:
            raise self.make_error("too_long", max=200)
        return text or None

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)


def _numeric(text: str | None) -> Decimal | str | None:
    """A number as Decimal when the text is one (thousands separators in groups of three, as
    rules.amounts reads them), else the text."""
    if text is None:
        return None
    try:
        return to_decimal(text)
    except (ArithmeticError, ValueError):
        return text


class SelfEvaluationBudgetRowSchema(BaseSchema):
    initial_budget = Money(load_default=None, allow_none=True, metadata={"label": "年初预算数（万元）"})
    adjusted_budget = Money(load_default=None, allow_none=True, metadata={"label": "全年预算数（万元）"})
    executed = Money(load_default=None, allow_none=True, metadata={"label": "全年执行数（万元）"})


class SelfEvaluationBudgetSchema(BaseSchema):
    """项目资金（万元）: 年度资金总额 and, optionally, its 其中 rows."""

    annual_total = fields.Nested(SelfEvaluationBudgetRowSchema, load_default=None, allow_none=True,
                                 metadata={"label": "年度资金总额"})
    fiscal_appropriation = fields.Nested(SelfEvaluationBudgetRowSchema, load_default=None, allow_none=True,
                                         metadata={"label": "其中：当年财政拨款"})
    carryover = fields.Nested(SelfEvaluationBudgetRowSchema, load_default=None, allow_none=True, metadata={"label": "上年结转资金"})
    other_funds = fields.Nested(SelfEvaluationBudgetRowSchema, load_default=None, allow_none=True, metadata={"label": "其他资金"})
    deviation_reason = Text(load_default=None, allow_none=True, allow_blank=True, max_length=500, multiline=True,
                            metadata={"label": "执行率偏差原因分析"})
    improvement = Text(load_default=None, allow_none=True, allow_blank=True, max_length=500, multiline=True,
                       metadata={"label": "改进措施"})


class SelfEvaluationIndicatorSchema(BaseSchema):
    """One 三级指标 row of the 自评表 (glossary identifiers)."""

    level1 = Text(load_default=None, allow_none=True, allow_blank=True, max_length=20, metadata={"label": "一级指标"})
    level2 = Text(load_default="", allow_blank=True, max_length=30, metadata={"label": "二级指标"})
    name = Text(load_default=None, allow_none=True, allow_blank=True, max_length=100, metadata={"label": "三级指标"})
    operator = Text(load_default=None, allow_none=True, allow_blank=True, max_length=4,
                    metadata={"label": "指标性质", "choices": OPERATOR_CHOICES})
    target_value = IndicatorValue(load_default=None, allow_none=True, metadata={"label": "年度指标值"})
    measure_unit = Text(load_default="", allow_blank=True, max_length=20, metadata={"label": "度量单位"})
    actual_value = IndicatorValue(load_default=None, allow_none=True, metadata={"label": "实际完成值"})
    weight = Score(load_default=None, allow_none=True, metadata={"label": "分值"})
    score = Score(load_default=None, allow_none=True, metadata={"label": "得分（仅定性指标，由评价人填写）"})
    band = Text(load_default=None, allow_none=True, allow_blank=True, max_length=30,
                metadata={"label": "评价档次（仅定性指标）"})
    not_applicable = fields.Boolean(load_default=False, metadata={"label": "不适用"})
    deviation_reason = Text(load_default=None, allow_none=True, allow_blank=True, max_length=500, multiline=True,
                            metadata={"label": "偏差原因分析"})
    improvement = Text(load_default=None, allow_none=True, allow_blank=True, max_length=500, multiline=True,
                       metadata={"label": "改进措施"})

    @pre_load
    def _split_value(self, data, **kwargs):
        """“≥95%” in one cell becomes operator ≥, value 95, unit % (rules.indicators.split_value),
        and a quantitative actual value written with its unit (“96%”) keeps only the number."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        raw_op, target = data.get("operator"), data.get("target_value")
        if isinstance(target, float):
            target = repr(target)
        if isinstance(target, str | int | Decimal) and not isinstance(target, bool) and str(target).strip():
            op, value, unit = split_value(raw_op, target, data.get("measure_unit"))
            data["operator"], data["target_value"] = op, value
            if unit:
                data["measure_unit"] = unit
        actual = data.get("actual_value")
        try:
            quantitative = normalize_operator(data.get("operator") or "") != QUALITATIVE
        except ValueError:
            quantitative = False
        if quantitative and isinstance(actual, str) and actual.strip():
            _, value, _ = split_value(data.get("operator"), actual, data.get("measure_unit"))
            data["actual_value"] = value
        return data


class SelfEvaluationGoalSchema(BaseSchema):
    """年度总体目标: 预期目标 and 实际完成情况."""

    annual_goal = Text(required=True, max_length=2000, multiline=True, metadata={"label": "预期目标"})
    completion = Text(load_default="", allow_blank=True, max_length=2000, multiline=True,
                      metadata={"label": "实际完成情况"})


def _dig(tree: Any, parts: list[str]) -> tuple[bool, Any]:
    """(found, value) at a dotted path of nested dicts and lists."""
    node = tree
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def rule_errors_without_field_errors(errors: dict[str, list[str]], original: Any, data: Any) -> dict[str, list[str]]:
    """Rule messages minus those on a value that was given but failed its field check (the field
    already says what is wrong; “须填写分值” beside “请输入分数” would only confuse)."""
    kept = {}
    for path, messages in errors.items():
        parts = path.split(".")
        given, raw = _dig(original, parts)
        loaded, _ = _dig(data, parts)
        if given and raw is not None and not loaded:
            continue
        kept[path] = messages
    return kept


INVALID = "\u0000invalid"  # stands for a value given but refused by its field (never a number)


def with_failed_values(original: Any, data: Any) -> Any:
    """A copy of the loaded data where every value the user gave but a field refused is present
    again as INVALID. The rules then see “given but unusable” — they skip sums over it instead of
    counting it as 0 or as missing — and their message on that path is dropped by
    rule_errors_without_field_errors."""
    if isinstance(original, dict) and isinstance(data, dict):
        out = dict(data)
        for key, raw in original.items():
            if key not in data:
                if raw is not None:
                    out[key] = INVALID
            else:
                out[key] = with_failed_values(raw, data[key])
        return out
    if isinstance(original, list) and isinstance(data, list) and len(original) == len(data):
        return [with_failed_values(o, d) for o, d in zip(original, data, strict=True)]
    return data


def _number(value: Any) -> Any:
    return _numeric(value) if isinstance(value, str) else value


def scoring_input(data: dict) -> dict:
    """The cleaned form as rules.scoring expects it: numbers of quantitative rows as Decimal."""
    rows = []
    for row in data.get("indicators") or []:
        row = dict(row)
        try:
            quantitative = normalize_operator(row.get("operator") or "") != QUALITATIVE
        except ValueError:
            quantitative = False
        if quantitative:
            row["target_value"] = _number(row.get("target_value"))
            row["actual_value"] = _number(row.get("actual_value"))
        rows.append(row)
    return {**data, "indicators": rows}


class SelfEvaluationBaseSchema(SettingsSchema):
    """What the project and the department 自评表 share: year, 项目资金, 年度总体目标, the indicator
    rows, the conclusion rows of the Sichuan variant and the signature lines."""

    kind = "self_evaluation"

    year = fields.Integer(required=True, strict=False, validate=validate.Range(2000, 2100, error="年度应在2000年至2100年之间。"),
                          metadata={"label": "年度"})
    department = Text(required=True, max_length=60, metadata={"label": "主管部门"})
    budget = fields.Nested(SelfEvaluationBudgetSchema, required=True, metadata={"label": "项目资金（万元）"})
    goals = fields.List(fields.Nested(SelfEvaluationGoalSchema), load_default=list,
                        validate=validate.Length(max=20, error="年度总体目标最多20条。"),
                        metadata={"label": "年度总体目标"})
    indicators = fields.List(fields.Nested(SelfEvaluationIndicatorSchema), load_default=list,
                             validate=validate.Length(max=200, error="绩效指标最多200项。"),
                             metadata={"label": "绩效指标"})
    conclusion = Text(load_default="", allow_blank=True, max_length=200, multiline=True, metadata={"label": "评价结论"})
    problems = Text(load_default="", allow_blank=True, max_length=200, multiline=True, metadata={"label": "存在问题"})
    measures = Text(load_default="", allow_blank=True, max_length=200, multiline=True, metadata={"label": "改进措施"})
    project_lead = Text(load_default="", allow_blank=True, max_length=20, metadata={"label": "项目负责人"})
    finance_lead = Text(load_default="", allow_blank=True, max_length=20, metadata={"label": "财务负责人"})
    filled_by = Text(load_default="", allow_blank=True, max_length=20, metadata={"label": "填报人"})
    phone = Text(load_default="", allow_blank=True, max_length=30, metadata={"label": "联系电话"})
    date = ChineseDate(load_default=None, allow_none=True, metadata={"label": "填报日期"})

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _check_scoring(self, data, original_data, **kwargs):
        if "budget" not in data and "budget" in (original_data or {}):
            return  # the budget block itself is malformed: its field errors say so
        checked = with_failed_values(original_data, data)
        errors = validate_self_evaluation(scoring_input(checked), self.settings)
        errors = rule_errors_without_field_errors(errors, original_data, data)
        if errors:
            raise ValidationError(errors)


class SelfEvaluationSchema(SelfEvaluationBaseSchema):
    """项目支出绩效自评表 (财预〔2020〕10号 附件1)."""

    project_name = Text(required=True, max_length=100, metadata={"label": "项目名称"})
    implementing_unit = Text(required=True, max_length=60, metadata={"label": "实施单位"})


class DepartmentSelfEvaluationTaskSchema(BaseSchema):
    """年度主要任务 of a department with the funds planned and spent on it."""

    name = Text(required=True, max_length=60, metadata={"label": "任务名称"})
    content = Text(load_default="", allow_blank=True, max_length=500, multiline=True, metadata={"label": "主要内容"})
    budget = Money(load_default=None, allow_none=True, metadata={"label": "预算数（万元）"})
    executed = Money(load_default=None, allow_none=True, metadata={"label": "执行数（万元）"})


class DepartmentSelfEvaluationSchema(SelfEvaluationBaseSchema):
    """部门整体支出绩效自评表: the department as a whole, its 年度主要任务, the same budget block
    and indicator rows, scored by the same rules (weights 10/50/30/10 by default)."""

    kind = "department_self_evaluation"

    unit = Text(required=True, max_length=60, metadata={"label": "部门（单位）名称"})
    unit_code = Text(load_default="", allow_blank=True, max_length=30, metadata={"label": "单位编码"})
    tasks = fields.List(fields.Nested(DepartmentSelfEvaluationTaskSchema), load_default=list,
                        validate=validate.Length(max=30, error="年度主要任务最多30项。"),
                        metadata={"label": "年度主要任务"})
