"""Schemas of the 绩效目标申报表 kinds: 项目支出绩效目标申报表 (target_declaration) and 部门（单位）整体
支出绩效目标申报表 (department_target_declaration), official-forms.md section D.

Indicator rows are cleaned leniently (every cell is optional text) and then judged as a set by
`rules.indicators.validate_indicator_set`, so a missing value gives one message with its path
("indicators.annual.3.target_value"), never a field error and a rule error for the same cell.
Money rules (财政拨款 + 其他资金 = 资金总额, 年度 ≤ 中期, tasks within the budget) read the
`target_declaration` settings section. After validation the rows are normalised: full level
captions of the chosen tree, the value split into 指标性质 / 指标值 / 度量单位 as newer forms print
it, and the rows ordered by the tree so the printed form can merge each level-1/level-2 group.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates, validates_schema

from forms.base import BaseSchema, SettingsSchema
from forms.fields import Money, Text
from rules.indicators import (
    TREE_LABELS,
    TREES,
    normalise_level1,
    normalise_level2,
    split_value,
    tree_id,
    validate_indicator_set,
)
from rules.operators import OPERATORS
from rules.rounding import total

TREE_CHOICES = dict(TREE_LABELS)
BLOCK_LABELS = {"midterm": "中期绩效指标", "annual": "年度绩效指标"}


class IndicatorValue(fields.Field):
    """指标值 as written, number or text; returned as trimmed text ("" when blank). Numbers from a
    spreadsheet cell arrive as int/Decimal (or float, read through its shortest repr)."""

    default_error_messages = {"invalid": "请输入数值或文字。", "too_long": "不能超过{max}个字（现有{length}个）。"}
    MAX = 60

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise self.make_error("invalid")
        text = repr(value) if isinstance(value, float) else format(value, "f") if isinstance(value, Decimal) else str(value)
        text = text.strip()
        if len(text) > self.MAX:
            raise self.make_error("too_long", max=self.MAX, length=len(text))
        return text


def _optional(max_length: int, label: str, **metadata) -> Text:
    return Text(load_default="", allow_blank=True, max_length=max_length, metadata={"label": label, **metadata})


class DeclarationIndicatorSchema(BaseSchema):
    """One 三级指标 row (glossary identifiers). Emptiness and meaning are checked by the rules."""

    # "suggest": the web form offers the blank workbook's drop-down list of that name
    # (generators.declaration.validation_lists) and still takes what the clerk types.
    level1 = _optional(20, "一级指标", suggest="level1")
    level2 = _optional(30, "二级指标", suggest="level2")
    name = _optional(100, "三级指标", autocomplete="indicator")
    # A fixed list the rules enforce (after reading “>=” as ≥): a select on the web form; left
    # empty when the value carries its sign (“≥500人次”).
    operator = _optional(10, "指标性质", choices={op: op for op in OPERATORS})
    target_value = IndicatorValue(load_default="", metadata={"label": "指标值"})
    measure_unit = _optional(20, "度量单位", suggest="measure_unit")
    explanation = _optional(300, "指标解释")


class FundsSchema(BaseSchema):
    total = Money(required=True, metadata={"label": "资金总额（万元）"})
    fiscal_appropriation = Money(required=True, metadata={"label": "其中：财政拨款（万元）"})
    other_funds = Money(load_default=Decimal("0.00"), metadata={"label": "其他资金（万元）"})


class IndicatorBlocksSchema(BaseSchema):
    midterm = fields.List(fields.Nested(DeclarationIndicatorSchema), load_default=list,
                          validate=validate.Length(max=100, error="每组指标最多100项。"),
                          metadata={"label": "中期绩效指标"})
    annual = fields.List(fields.Nested(DeclarationIndicatorSchema), load_default=list,
                         validate=validate.Length(max=100, error="每组指标最多100项。"),
                         metadata={"label": "年度绩效指标"})


class TaskSchema(BaseSchema):
    name = Text(required=True, max_length=60, metadata={"label": "任务名称"})
    content = Text(load_default="", allow_blank=True, max_length=500, multiline=True, metadata={"label": "主要内容"})
    amount = Money(load_default=None, allow_none=True, metadata={"label": "预算金额（万元）"})


def _year_field() -> fields.Integer:
    return fields.Integer(required=True, strict=False,
                          validate=validate.Range(min=2000, max=2100, error="年度应在2000年到2100年之间。"),
                          metadata={"label": "年度", "group": "基本信息"})


def _tree_field() -> Text:
    return Text(load_default="", allow_blank=True, max_length=60,
                metadata={"label": "指标体系", "group": "基本信息", "choices": TREE_CHOICES,
                          "help": "2020：财预〔2020〕10号（成本指标属产出指标）；2021：财预〔2021〕101号（成本指标为一级指标）。留空按系统设置。"})


def _money_text(value: Decimal) -> str:
    return f"{value:.2f}万元"


class DeclarationBase(SettingsSchema):
    """Rules shared by both forms: the tree, the indicator sets, the fund totals."""

    form_kind = ""

    def form_settings(self) -> Any:
        return self.settings["target_declaration"]

    def tree_of(self, data: dict) -> str:
        """The tree the form names, or the `declaration.tree` setting; None when unknown."""
        raw = data.get("tree") or self.settings["declaration"]["tree"]
        try:
            return tree_id(_tree_key(raw))
        except ValueError:
            return ""

    @validates_schema(skip_on_field_errors=False)
    def _check_tree(self, data, **kwargs):
        raw = data.get("tree")
        if raw and not self.tree_of(data):
            raise ValidationError("指标体系应为 2020（财预〔2020〕10号）或 2021（财预〔2021〕101号）。", "tree")

    def indicator_errors(self, rows: list, path: str, label: str, data: dict) -> dict[str, list[str]]:
        """Rule errors of one indicator block, re-rooted at `path`; whole-set messages name the block."""
        tree = self.tree_of(data)
        if not tree:
            return {}
        found = validate_indicator_set(rows, tree=tree, project_type=data.get("project_type"), settings=self.settings)
        errors: dict[str, list[str]] = {}
        for key, messages in found.items():
            if key == "indicators":
                errors.setdefault(path, []).extend(f"{label}中{m}。" for m in messages)
            else:
                errors.setdefault(path + key.removeprefix("indicators"), []).extend(f"{m}。" for m in messages)
        return errors

    def fund_errors(self, funds: Any, path: str, label: str) -> dict[str, list[str]]:
        if not self.form_settings()["funds"]["check_totals"] or not isinstance(funds, dict):
            return {}
        parts = [funds.get("fiscal_appropriation"), funds.get("other_funds")]
        if funds.get("total") is None or any(p is None for p in parts):
            return {}
        added = total(parts)
        if added != funds["total"]:
            return {f"{path}.total": [
                f"{label}（{_money_text(funds['total'])}）不等于财政拨款（{_money_text(parts[0])}）与其他资金"
                f"（{_money_text(parts[1])}）之和（{_money_text(added)}）：请核对后重新填写。"]}
        return {}

    @post_load
    def _normalise(self, data, **kwargs):
        tree = self.tree_of(data)
        data["tree"] = tree
        for rows in self.indicator_blocks(data):
            rows[:] = normalise_rows(rows, tree)
        return data

    def indicator_blocks(self, data: dict) -> list[list[dict]]:
        raise NotImplementedError


def _tree_key(raw: Any) -> str:
    """A tree given by id, by document number or by its printed label."""
    for key, label in TREE_LABELS.items():
        if str(raw).strip() == label:
            return key
    return str(raw)


def normalise_rows(rows: list[dict], tree: str) -> list[dict]:
    """Rows with full captions and split values, ordered by the tree (stable within a level)."""
    order1 = {caption: i for i, caption in enumerate(TREES[tree])}
    out = []
    for row in rows:
        level1 = normalise_level1(row["level1"], tree) or row["level1"]
        level2 = normalise_level2(row["level1"], row["level2"], tree) or row["level2"]
        operator, value, unit = split_value(row["operator"], row["target_value"], row["measure_unit"])
        out.append({**row, "level1": level1, "level2": level2, "operator": operator,
                    "target_value": value, "measure_unit": unit})

    def key(row):
        level2s = TREES[tree].get(row["level1"], ())
        return (order1.get(row["level1"], len(order1)),
                level2s.index(row["level2"]) if row["level2"] in level2s else len(level2s))

    return sorted(out, key=key)


class ProjectDeclarationSchema(DeclarationBase):
    """项目支出绩效目标申报表 (财预〔2015〕88号 layout, official-forms D.2)."""

    form_kind = "target_declaration"

    year = _year_field()
    project_name = Text(required=True, max_length=100, metadata={"label": "项目名称", "group": "基本信息"})
    department = Text(required=True, max_length=60, metadata={"label": "主管部门", "group": "基本信息"})
    department_code = _optional(20, "主管部门代码", group="基本信息")
    implementing_unit = Text(required=True, max_length=60, metadata={"label": "实施单位", "group": "基本信息"})
    # Only the target_declaration.choices.project_attributes setting's values (a select on the
    # web form, the workbook's drop-down list); the instance's field lists them (__init__).
    project_attribute = Text(required=True, max_length=20, metadata={"label": "项目属性", "group": "基本信息"})
    project_period = Text(required=True, max_length=40,
                          metadata={"label": "项目期", "group": "基本信息", "help": "如“2025年—2027年”或“1年”"})
    project_type = _optional(40, "项目类型", group="基本信息", suggest="project_type",
                             help="按财预〔2021〕101号，工程基建类、大型修缮及购置类项目须设置成本指标；"
                                  "指标库优先推荐同类指标")
    tree = _tree_field()
    project_lead = _optional(20, "项目负责人", group="基本信息")
    phone = _optional(30, "联系电话", group="基本信息")
    midterm_funds = fields.Nested(FundsSchema, required=True, metadata={"label": "中期资金（万元）", "group": "项目资金"})
    annual_funds = fields.Nested(FundsSchema, required=True, metadata={"label": "年度资金（万元）", "group": "项目资金"})
    midterm_goal = Text(required=True, max_length=2000, multiline=True,
                        metadata={"label": "中期目标", "group": "总体目标", "help": "分条写：目标1：……；目标2：……"})
    annual_goal = Text(required=True, max_length=2000, multiline=True,
                       metadata={"label": "年度目标", "group": "总体目标", "help": "分条写：目标1：……；目标2：……"})
    indicators = fields.Nested(IndicatorBlocksSchema, load_default=dict,
                               metadata={"label": "绩效指标", "group": "绩效指标"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["project_attribute"]  # a copy per instance; its metadata dict is shared
        field.metadata = {**field.metadata, "choices": {v: v for v in self.project_attributes()}}

    def project_attributes(self) -> list[str]:
        return list(self.form_settings()["choices"]["project_attributes"])

    @validates("project_attribute")
    def _check_attribute(self, value, **kwargs):
        allowed = self.project_attributes()
        if value not in allowed:
            raise ValidationError(f"项目属性应为{'、'.join(allowed[:-1])}或{allowed[-1]}，不是“{value}”：请从列表中选择。")

    @validates_schema(skip_on_field_errors=False)
    def _check_rules(self, data, **kwargs):
        errors: dict[str, list[str]] = {}
        blocks = data.get("indicators") or {}
        for block in ("midterm", "annual"):
            rows = blocks.get(block, [])
            for key, messages in self.indicator_errors(rows, f"indicators.{block}", BLOCK_LABELS[block], data).items():
                errors.setdefault(key, []).extend(messages)
        for name, label in (("midterm_funds", "中期资金总额"), ("annual_funds", "年度资金总额")):
            errors.update(self.fund_errors(data.get(name), name, label))
        mid, year = data.get("midterm_funds") or {}, data.get("annual_funds") or {}
        if (self.form_settings()["funds"]["annual_within_midterm"] and mid.get("total") is not None
                and year.get("total") is not None and year["total"] > mid["total"]):
            errors.setdefault("annual_funds.total", []).append(
                f"年度资金总额（{_money_text(year['total'])}）超过中期资金总额（{_money_text(mid['total'])}）："
                "年度资金是项目期资金的一部分，请核对。")
        if errors:
            raise ValidationError(errors)

    def indicator_blocks(self, data: dict) -> list[list[dict]]:
        blocks = data.setdefault("indicators", {})
        return [blocks.setdefault("midterm", []), blocks.setdefault("annual", [])]


class DepartmentDeclarationSchema(DeclarationBase):
    """部门（单位）整体支出绩效目标申报表 (official-forms D.3)."""

    form_kind = "department_target_declaration"

    year = _year_field()
    department = Text(required=True, max_length=60, metadata={"label": "部门（单位）名称", "group": "基本信息"})
    department_code = _optional(20, "部门（单位）代码", group="基本信息")
    responsibilities = Text(load_default="", allow_blank=True, max_length=2000, multiline=True,
                            metadata={"label": "部门（单位）职能职责概述", "group": "基本信息"})
    tree = _tree_field()
    contact = _optional(20, "填报人", group="基本信息")
    phone = _optional(30, "联系电话", group="基本信息")
    tasks = fields.List(fields.Nested(TaskSchema), required=True,
                        validate=validate.Length(min=1, max=30, error="年度主要任务应有1至30项。"),
                        metadata={"label": "年度主要任务", "group": "年度主要任务"})
    funds = fields.Nested(FundsSchema, required=True,
                          metadata={"label": "年度部门整体支出预算（万元）", "group": "年度主要任务"})
    annual_goal = Text(required=True, max_length=2000, multiline=True,
                       metadata={"label": "年度总体目标", "group": "年度总体目标", "help": "分条写：目标1：……；目标2：……"})
    indicators = fields.List(fields.Nested(DeclarationIndicatorSchema), load_default=list,
                             validate=validate.Length(max=150, error="绩效指标最多150项。"),
                             metadata={"label": "年度绩效指标", "group": "年度绩效指标"})

    @validates_schema(skip_on_field_errors=False)
    def _check_rules(self, data, **kwargs):
        errors = self.indicator_errors(data.get("indicators", []), "indicators", "年度绩效指标", data)
        errors.update(self.fund_errors(data.get("funds"), "funds", "资金总额"))
        funds = data.get("funds") or {}
        amounts = [t.get("amount") for t in data.get("tasks", []) if isinstance(t, dict) and t.get("amount") is not None]
        if (self.form_settings()["funds"]["tasks_within_total"] and amounts and funds.get("total") is not None
                and total(amounts) > funds["total"]):
            errors.setdefault("tasks", []).append(
                f"年度主要任务的预算金额合计（{_money_text(total(amounts))}）超过部门整体支出预算资金总额"
                f"（{_money_text(funds['total'])}）：请核对。")
        if errors:
            raise ValidationError(errors)

    def indicator_blocks(self, data: dict) -> list[list[dict]]:
        return [data.setdefault("indicators", [])]


# ------------------------------------------------------------------------------ settings


def validate_settings(section: Any) -> list[str]:
    problems = []
    funds = section.get("funds", {})
    for key in ("check_totals", "annual_within_midterm", "tasks_within_total"):
        if not isinstance(funds.get(key), bool):
            problems.append(f"funds.{key}：应为 true 或 false。")
    choices = section.get("choices", {})
    for key in ("project_attributes", "measure_units"):
        value = choices.get(key)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v.strip() for v in value):
            problems.append(f"choices.{key}：应为文字列表。")
    blank = section.get("blank_form", {})
    for key in ("midterm_rows", "annual_rows", "task_rows"):
        value = blank.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
            problems.append(f"blank_form.{key}：应为1至100之间的整数。")
    return problems

