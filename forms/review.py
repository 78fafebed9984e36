"""Schema of 绩效目标审核 (target_review): a review of a 绩效目标申报表 by the finance bureau, the
supervising department or a third-party expert.

The reviewer scores the four criteria of 财预〔2015〕88号 (完整性、相关性、适当性、可行性), whose points
and guidance are settings (rules/defaults/target_review.toml), writes an overall opinion and
picks the outcome. The total is never typed: the kind's prepare step adds it. When the review is
stored with the public id of the declaration (`declaration_id`), the declaration's status follows
the outcome (service/library.py, `link_review`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from forms.base import BaseSchema, SettingsSchema
from forms.fields import ChineseDate, Money, Score, Text
from rules.rounding import to_decimal, total

REVIEWER_TYPES = {"finance_bureau": "财政部门", "department": "主管部门", "third_party": "第三方专家"}
OUTCOMES = {"approved": "通过", "conditionally_approved": "修改后通过", "returned": "退回修改"}
DECLARATION_KINDS = {"target_declaration": "项目支出绩效目标申报表",
                     "department_target_declaration": "部门（单位）整体支出绩效目标申报表"}
CRITERIA = ("completeness", "relevance", "appropriateness", "feasibility")


def criteria(settings: Any) -> list[Any]:
    return list(settings["target_review"]["criteria"])


def _by_label(labels: dict[str, str]):
    """Accept the identifier or the Chinese label ("通过") and store the identifier."""

    reverse = {v: k for k, v in labels.items()}

    def convert(value: str) -> str:
        return reverse.get(value, value)

    return convert


class LabelledChoice(Text):
    """A choice stored by identifier that also accepts its Chinese label."""

    def __init__(self, labels: dict[str, str], message: str, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(validate=validate.OneOf(list(labels), error=message), **kwargs)
        self.metadata.setdefault("choices", labels)
        self._convert = _by_label(labels)

    def _deserialize(self, value, attr, data, **kwargs):
        return self._convert(super()._deserialize(value, attr, data, **kwargs))


class CriterionSchema(BaseSchema):
    score = Score(required=True, metadata={"label": "得分"})
    comment = Text(required=True, max_length=1000, multiline=True, metadata={"label": "审核意见"})


class CriteriaSchema(BaseSchema):
    completeness = fields.Nested(CriterionSchema, required=True, metadata={"label": "完整性"})
    relevance = fields.Nested(CriterionSchema, required=True, metadata={"label": "相关性"})
    appropriateness = fields.Nested(CriterionSchema, required=True, metadata={"label": "适当性"})
    feasibility = fields.Nested(CriterionSchema, required=True, metadata={"label": "可行性"})


class TargetReviewSchema(SettingsSchema):
    declaration_kind = LabelledChoice(DECLARATION_KINDS, "被审核的申报表只能是项目支出或部门（单位）整体支出绩效目标申报表。",
                                      load_default="target_declaration",
                                      metadata={"label": "被审核的申报表", "group": "审核对象"})
    declaration_id = Text(load_default="", allow_blank=True, max_length=40,
                          metadata={"label": "申报表编号（系统内提交的申报表）", "group": "审核对象",
                                    "help": "填写后，提交审核意见时申报表的状态随审核结论变化"})
    year = fields.Integer(required=True, strict=False,
                          validate=validate.Range(min=2000, max=2100, error="年度应在2000年到2100年之间。"),
                          metadata={"label": "年度", "group": "审核对象"})
    project_name = Text(required=True, max_length=100, metadata={"label": "项目（部门）名称", "group": "审核对象"})
    unit = Text(required=True, max_length=60, metadata={"label": "申报单位", "group": "审核对象"})
    funds = Money(load_default=None, allow_none=True, metadata={"label": "申报资金（万元）", "group": "审核对象"})
    reviewer_type = LabelledChoice(REVIEWER_TYPES, "审核主体只能是财政部门、主管部门或第三方专家。", required=True,
                                   metadata={"label": "审核主体", "group": "审核"})
    reviewer = Text(required=True, max_length=60, metadata={"label": "审核单位或专家", "group": "审核"})
    criteria = fields.Nested(CriteriaSchema, required=True, metadata={"label": "审核内容", "group": "审核"})
    opinion = Text(required=True, max_length=3000, multiline=True, metadata={"label": "综合意见", "group": "审核结论"})
    outcome = LabelledChoice(OUTCOMES, "审核结论只能是通过、修改后通过或退回修改。", required=True,
                             metadata={"label": "审核结论", "group": "审核结论"})
    changes = Text(load_default="", allow_blank=True, max_length=3000, multiline=True,
                   metadata={"label": "修改要求", "group": "审核结论", "help": "修改后通过或退回修改时逐条写明"})
    date = ChineseDate(required=True, metadata={"label": "审核日期", "group": "审核结论"})
    # Computed by the kind's prepare step and stored with the review (statistics read it); an
    # incoming value is dropped, so a stored review validates again unchanged.
    total_score = Score(dump_only=True, metadata={"label": "合计得分"})

    @pre_load
    def _drop_computed(self, data, **kwargs):
        if isinstance(data, dict) and "total_score" in data:
            data = {k: v for k, v in data.items() if k != "total_score"}
        return data

    def review_settings(self) -> Any:
        return self.settings["target_review"]

    @validates_schema(skip_on_field_errors=False)
    def _check_scores(self, data, **kwargs):
        given = data.get("criteria") or {}
        errors: dict[str, list[str]] = {}
        for item in criteria(self.settings):
            row = given.get(item["key"]) or {}
            points = to_decimal(item["points"])
            if row.get("score") is not None and row["score"] > points:
                errors[f"criteria.{item['key']}.score"] = [f"{item['name']}满分{points}分，得分不能超过满分。"]
        if errors:
            raise ValidationError(errors)

    @validates_schema(skip_on_field_errors=False)
    def _check_outcome(self, data, **kwargs):
        rules = self.review_settings()["rules"]
        outcome = data.get("outcome")
        errors: dict[str, list[str]] = {}
        if outcome and outcome != "approved" and rules["require_changes_unless_approved"] and not data.get("changes"):
            errors["changes"] = [f"审核结论为“{OUTCOMES[outcome]}”时，请在修改要求中逐条写明需要修改的内容。"]
        minimum = to_decimal(rules["approve_min_score"])
        scores = [(data.get("criteria") or {}).get(k, {}).get("score") for k in CRITERIA]
        if outcome == "approved" and minimum > 0 and all(s is not None for s in scores) and total(scores) < minimum:
            errors["outcome"] = [f"审核得分{total(scores)}分，低于通过所需的{minimum}分：请选择“修改后通过”或“退回修改”。"]
        if errors:
            raise ValidationError(errors)


def total_score(data: dict) -> Decimal:
    return total(data["criteria"][k]["score"] for k in CRITERIA)


# ------------------------------------------------------------------------------ settings


def validate_settings(section: Any) -> list[str]:
    problems: list[str] = []
    items = section.get("criteria")
    keys = [i.get("key") for i in items] if isinstance(items, list | tuple) else []
    if sorted(keys) != sorted(CRITERIA):
        problems.append("criteria：应依次列出 completeness、relevance、appropriateness、feasibility 四项。")
    else:
        try:
            points = [to_decimal(i["points"]) for i in items]
        except (KeyError, TypeError, ValueError):
            points = []
        if len(points) != 4 or any(p <= 0 for p in points) or total(points) != 100:
            problems.append("criteria.points：四项分值应为正数，合计100分（小数请加引号）。")
        if any(not str(i.get("name", "")).strip() for i in items):
            problems.append("criteria.name：每项审核内容应有名称。")
    outcomes = section.get("outcomes", {})
    for key in OUTCOMES:
        if outcomes.get(key) not in ("approved", "returned"):
            problems.append(f"outcomes.{key}：应为 \"approved\"（已审核）或 \"returned\"（退回修改）。")
    rules = section.get("rules", {})
    try:
        minimum = to_decimal(rules.get("approve_min_score"))
    except (TypeError, ValueError):
        minimum = None
    if minimum is None or not 0 <= minimum <= 100:
        problems.append("rules.approve_min_score：应为0至100之间的数（加引号）。")
    if not isinstance(rules.get("require_changes_unless_approved"), bool):
        problems.append("rules.require_changes_unless_approved：应为 true 或 false。")
    return problems

