"""The performance-indicator model shared by the 申报表, 监控表 and 自评表.

An indicator is one row of the three-level tree: level1 (一级指标) / level2 (二级指标) / name
(三级指标), with its 指标性质 (`operator`), 指标值 (`target_value`), 度量单位 (`measure_unit`),
分值 (`weight`) and 指标解释 (`explanation`).

Written values (official-forms D.4)
-----------------------------------
Older forms write the whole value in one cell ("≥500人次"); newer ones split it into 指标性质 /
指标值 / 度量单位. `parse_value` reads the one-cell form and `format_value` writes it back:

* Canonical forms round-trip unchanged: "≥500人次", "≤90万元", "=100%", "100%" (no operator is
  read as '=' and stays unwritten), "≤12月31日", "2024年12月底前", "好", "有所提升".
* Other spellings are accepted as input and normalised on output (no exact round trip):
  ASCII ">=" "<=" (and ">" "<", which forms use loosely for "at least"/"at most"), full-width
  "＞＝" "％" and digits, "≧" "≦", and the words 不低于/不少于/至少 (≥) and 不高于/不超过/
  至多 (≤) before a number. ">=95%" becomes "≥95%".
* A value is one of three kinds (`value_kind`):
  - 'number': Decimal value plus unit;
  - 'date': a 时效 deadline ("12月31日", "2024年12月底前", "第三季度末"); the value stays text
    because it is a calendar point, not a quantity. Without a written operator the suffix sets
    it: 前/之前/以前/内/以内 → '≤', 后/之后/以后 → '≥', otherwise '='.
  - 'text': graded qualitative wording (优/良/中/差, 达到预期, 效果明显 …), operator '定性'.
  Dates count as quantified (定量): they can be checked without judgement.

Indicator trees (official-forms D.1, D.5)
-----------------------------------------
TREE_2020 is the 财预〔2015〕88号 / 〔2020〕10号 tree (成本 is a level-2 of 产出); TREE_2021 is the
财预〔2021〕101号 tree (成本指标 is a level-1 of its own). Captions are stored in full
("产出指标", "数量指标") because that is what every form prints; `normalise_level1/2` accept
the short forms ("产出", "数量", "产出数量") and the glossary identifiers ("output", "quantity").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from rules.operators import OPERATORS, QUANTITATIVE_OPERATORS, WIDTH, normalise_operator, split_operator
from rules.rounding import HUNDRED, ZERO, ratio, to_decimal
from rules.settings_files import defaults

OPERATOR_CHOICES = {op: op for op in OPERATORS}  # the forms' drop-down (value → label)
DIRECTIONS = MappingProxyType({"≥": "positive", "≤": "negative", "=": "exact", "定性": "qualitative"})
VALUE_KINDS = ("number", "date", "text")

Errors = dict[str, list[str]]

# ------------------------------------------------------------------------------ the trees

TREE_2020 = MappingProxyType({
    "产出指标": ("数量指标", "质量指标", "时效指标", "成本指标"),
    "效益指标": ("经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"),
    "满意度指标": ("服务对象满意度指标",),
})
TREE_2021 = MappingProxyType({
    "成本指标": ("经济成本指标", "社会成本指标", "生态环境成本指标"),
    "产出指标": ("数量指标", "质量指标", "时效指标"),
    "效益指标": ("经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"),
    "满意度指标": ("服务对象满意度指标",),
})
TREES = MappingProxyType({"2020": TREE_2020, "2021": TREE_2021})
TREE_LABELS = MappingProxyType({
    "2020": "财预〔2020〕10号（〔2015〕88号）指标体系",
    "2021": "财预〔2021〕101号指标体系",
})
# Documents people name instead of the year.
_TREE_ALIASES = {"2020": "2020", "2015": "2020", "88": "2020", "10": "2020",
                 "2021": "2021", "101": "2021"}

# Glossary identifiers of the captions (glossary.md, "Performance targets and indicators").
LEVEL1_IDS = MappingProxyType({"产出指标": "output", "效益指标": "benefit",
                               "满意度指标": "satisfaction", "成本指标": "cost"})
LEVEL2_IDS = MappingProxyType({
    "数量指标": "quantity", "质量指标": "quality", "时效指标": "timeliness", "成本指标": "cost",
    "经济效益指标": "economic", "社会效益指标": "social", "生态效益指标": "ecological",
    "可持续影响指标": "sustainability", "服务对象满意度指标": "beneficiary_satisfaction",
    # 101号 cost indicators; not in the glossary, named like the benefit ones.
    "经济成本指标": "economic_cost", "社会成本指标": "social_cost",
    "生态环境成本指标": "ecological_cost",
})


def tree_id(tree: Any) -> str:
    """'2020' or '2021' from '2020', 2021, '88', '101' …; ValueError otherwise."""
    key = str(tree).strip().removeprefix("财预").strip()
    if key in _TREE_ALIASES:
        return _TREE_ALIASES[key]
    raise ValueError(f"不认识的指标体系“{tree}”：请填写 2020（财预〔2020〕10号）或 2021（财预〔2021〕101号）")


def tree_for(tree: Any) -> Mapping[str, tuple[str, ...]]:
    return TREES[tree_id(tree)]


def _short(caption: str) -> str:
    return caption.removesuffix("指标")


def _aliases(caption: str, identifier: str) -> set[str]:
    short = _short(caption)
    return {caption, short, identifier}


def _clean(text: Any) -> str:
    return "" if text is None else re.sub(r"\s+", "", str(text))


def normalise_level1(text: Any, tree: Any = "2020") -> str | None:
    """The full level-1 caption for `text` in `tree`, or None when it is not one of its level 1s."""
    value = _clean(text)
    for caption in tree_for(tree):
        if value in _aliases(caption, LEVEL1_IDS[caption]):
            return caption
    return None


def normalise_level2(level1: Any, text: Any, tree: Any = "2020") -> str | None:
    """The full level-2 caption for `text` under `level1` in `tree`, or None.

    "产出数量" and "项目成本" style captions (财预〔2020〕10号 Attachment 2) are accepted too.
    """
    caption1 = normalise_level1(level1, tree)
    if caption1 is None:
        return None
    value = _clean(text)
    for caption in tree_for(tree)[caption1]:
        names = _aliases(caption, LEVEL2_IDS[caption])
        names |= {_short(caption1) + _short(caption), _short(caption1) + caption}
        if value in names:
            return caption
    return None


def in_tree(level1: Any, level2: Any, tree: Any = "2020") -> bool:
    """True when level1/level2 (full or short captions) is a pair of `tree`."""
    return normalise_level2(level1, level2, tree) is not None


def convert_tree(indicator: Indicator, tree: Any) -> Indicator:
    """The same indicator placed in the other tree: 产出指标/成本指标 (2020) ⇄ 成本指标/经济成本指标
    (2021). Other pairs are the same in both trees; the captions come back in full form."""
    target = tree_id(tree)
    source = "2021" if target == "2020" else "2020"
    for candidate in (target, source):
        l1 = normalise_level1(indicator.level1, candidate)
        l2 = normalise_level2(indicator.level1, indicator.level2, candidate) if l1 else None
        if l2 is None:
            continue
        if candidate == target:
            return _replace(indicator, level1=l1, level2=l2)
        if target == "2021" and l2 == "成本指标":
            return _replace(indicator, level1="成本指标", level2="经济成本指标")
        if target == "2020" and l1 == "成本指标":
            return _replace(indicator, level1="产出指标", level2="成本指标")
        return _replace(indicator, level1=l1, level2=l2)
    raise ValueError(f"“{indicator.level1}/{indicator.level2}”不在任何指标体系中")


# ------------------------------------------------------------------------------ values

_NUMBER = re.compile(r"(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*(?P<unit>[^\d\s]{0,10})")
_DATE = re.compile(
    r"(?:\d{4}年)?"
    r"(?:\d{1,2}月(?:\d{1,2}日|底|末|初|上旬|中旬|下旬)?|第?[一二三四1-4]季度(?:末|底)?"
    r"|年?底|年?末|年内|上半年|下半年)"
    r"(?P<suffix>之前|以前|前|以内|内|之后|以后|后)?"
    r"(?:完成|完工|交付|验收|结束)?"
)
_DATE_SUFFIX_OPERATOR = {"之前": "≤", "以前": "≤", "前": "≤", "以内": "≤", "内": "≤",
                         "之后": "≥", "以后": "≥", "后": "≥"}


@dataclass(frozen=True)
class ParsedValue:
    """One written 指标值. `value` is a Decimal for numbers and the written text for dates and
    qualitative values; `written_operator` says whether the operator appeared in the text, so
    "100%" comes back as "100%" and not "=100%"."""

    operator: str
    value: Decimal | str
    unit: str = ""
    value_kind: str | None = None
    written_operator: bool = True

    def __post_init__(self):
        if self.operator not in OPERATORS:
            raise ValueError(f"指标性质应为≥、≤、=或定性，不是“{self.operator}”")
        if self.value_kind is None:
            kind = "text" if self.operator == "定性" else "number" if isinstance(self.value, Decimal) else "date"
            object.__setattr__(self, "value_kind", kind)
        if self.value_kind not in VALUE_KINDS:
            raise ValueError(f"unknown value_kind {self.value_kind!r}")
        if self.value_kind == "number" and not isinstance(self.value, Decimal):
            raise TypeError("a number value must be a Decimal")

    @property
    def direction(self) -> str:
        return DIRECTIONS[self.operator]

    @property
    def is_quantitative(self) -> bool:
        return self.value_kind != "text"


def _quantity(text: str) -> tuple[str, Decimal | str, str] | None:
    """(kind, value, unit) when `text` (operator removed, widths normalised) is a number or a date."""
    if _DATE.fullmatch(text):
        return "date", text, ""
    match = _NUMBER.fullmatch(text)
    if match:
        return "number", to_decimal(match["num"].replace(",", "")), match["unit"]
    return None


def parse_value(text: Any) -> ParsedValue:
    """Read a written 指标值 (see the module docstring). ValueError when it is empty."""
    original = "" if text is None else str(text).strip()
    if not original:
        raise ValueError("指标值为空")
    if isinstance(text, Decimal | int) and not isinstance(text, bool):
        original = format(to_decimal(text), "f")
    wide = original.translate(WIDTH).strip()
    operator, rest = split_operator(wide)
    if operator == "≥" and rest.startswith("="):  # "> =" typed with a space
        rest = rest[1:].strip()
    found = _quantity(rest)
    if found is not None:
        kind, value, unit = found
        if kind == "date" and operator is None:
            match = _DATE.fullmatch(rest)
            implied = _DATE_SUFFIX_OPERATOR.get(match["suffix"] or "", "=")
            return ParsedValue(implied, value, unit, kind, written_operator=False)
        return ParsedValue(operator or "=", value, unit, kind, written_operator=operator is not None)
    # Anything else is graded wording, kept exactly as written.
    return ParsedValue("定性", original, "", "text", written_operator=False)


def number_text(value: Decimal) -> str:
    """A Decimal as written on a form: plain notation, trailing zeros kept ("90.0" stays)."""
    return format(value, "f")


def format_value(parsed: ParsedValue) -> str:
    """The one-cell written form of a value; inverse of `parse_value` for canonical text."""
    if parsed.value_kind == "text":
        return str(parsed.value)
    prefix = parsed.operator if parsed.written_operator else ""
    body = number_text(parsed.value) if parsed.value_kind == "number" else str(parsed.value)
    return f"{prefix}{body}{parsed.unit}"


# ------------------------------------------------------------------------------ the model


def _optional_decimal(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return to_decimal(value)


@dataclass(frozen=True)
class Indicator:
    """One level-3 indicator. `operator` is normalised ('>=' → '≥'); `direction` follows it."""

    level1: str
    level2: str
    name: str
    operator: str
    target_value: str
    measure_unit: str = ""
    weight: Decimal | None = None
    explanation: str = ""
    direction: str = field(init=False)

    def __post_init__(self):
        operator = normalise_operator(self.operator)
        if operator is None:
            raise ValueError(f"指标性质应为≥、≤、=或定性，不是“{self.operator}”")
        object.__setattr__(self, "operator", operator)
        object.__setattr__(self, "weight", _optional_decimal(self.weight))
        object.__setattr__(self, "direction", DIRECTIONS[operator])
        for name in ("level1", "level2", "name", "target_value", "measure_unit", "explanation"):
            value = getattr(self, name)
            object.__setattr__(self, name, "" if value is None else str(value).strip())

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> Indicator:
        """Build from a mapping with glossary keys. The value may come split (operator,
        target_value, measure_unit) or in one cell (target_value "≥500人次", operator blank)."""
        operator, target, unit = split_value(row.get("operator"), row.get("target_value"),
                                             row.get("measure_unit"))
        return cls(level1=row.get("level1") or "", level2=row.get("level2") or "",
                   name=row.get("name") or "", operator=operator, target_value=target,
                   measure_unit=unit, weight=row.get("weight"),
                   explanation=row.get("explanation") or "")

    @property
    def is_quantitative(self) -> bool:
        return self.operator in QUANTITATIVE_OPERATORS

    @property
    def parsed(self) -> ParsedValue:
        """The value as a ParsedValue; a quantitative row whose value is not a number or a date
        comes back as kind 'text' with its operator kept, which validation reports."""
        if self.operator == "定性":
            return ParsedValue("定性", self.target_value, "", "text", written_operator=False)
        found = _quantity(self.target_value.translate(WIDTH).strip())
        if found is None:
            return ParsedValue(self.operator, self.target_value, self.measure_unit, "text")
        kind, value, _ = found
        return ParsedValue(self.operator, value, self.measure_unit if kind == "number" else "", kind)

    @property
    def value_text(self) -> str:
        """The one-cell form: "≥500人次", "=100%", "≤12月31日", "好"."""
        parsed = self.parsed
        if parsed.value_kind == "text":
            return self.target_value if self.operator == "定性" else f"{self.operator}{self.target_value}{self.measure_unit}"
        return format_value(parsed)

    def as_dict(self) -> dict[str, Any]:
        return {"level1": self.level1, "level2": self.level2, "name": self.name,
                "operator": self.operator, "target_value": self.target_value,
                "measure_unit": self.measure_unit, "weight": self.weight,
                "explanation": self.explanation, "direction": self.direction}


def _replace(indicator: Indicator, **changes) -> Indicator:
    values = {k: v for k, v in indicator.as_dict().items() if k != "direction"}
    values.update(changes)
    return Indicator(**values)


def split_value(operator: Any, target_value: Any, measure_unit: Any = None) -> tuple[str, str, str]:
    """(operator, target_value, measure_unit) from either the split columns or one written cell.

    - operator blank, target_value "≥500人次" → ('≥', '500', '人次');
    - operator '≥', target_value "≥500", unit "人次" → ('≥', '500', '人次') (operator not repeated);
    - operator blank, target_value "好" → ('定性', '好', '').
    An unknown operator is passed through for the caller to report.
    """
    raw_op = "" if operator is None else str(operator).strip()
    target = "" if target_value is None else str(target_value).strip()
    unit = "" if measure_unit is None else str(measure_unit).strip()
    if isinstance(target_value, Decimal | int) and not isinstance(target_value, bool):
        target = number_text(to_decimal(target_value))
    op = normalise_operator(raw_op) if raw_op else None
    if raw_op and op is None:
        return raw_op, target, unit
    if not target:
        return op or raw_op, target, unit
    if op == "定性":
        return op, target, ""
    parsed = parse_value(target)
    if parsed.value_kind == "text":
        return (op or "定性"), target, unit
    if op is not None and parsed.written_operator and parsed.operator != op:
        return op, target, unit  # "≤" column with "≥500" written: leave it for validation to flag
    body = number_text(parsed.value) if parsed.value_kind == "number" else str(parsed.value)
    if parsed.value_kind == "date" and not parsed.written_operator and op is None:
        return parsed.operator, body, ""
    return (op or parsed.operator), body, (unit or parsed.unit)


# ------------------------------------------------------------------------------ counting


def _row(item: Indicator | Mapping[str, Any]) -> Mapping[str, Any]:
    return item.as_dict() if isinstance(item, Indicator) else item


def _row_operator(item: Indicator | Mapping[str, Any]) -> str | None:
    row = _row(item)
    op, _, _ = split_value(row.get("operator"), row.get("target_value"), row.get("measure_unit"))
    return normalise_operator(op)


def level3_count(indicators: Sequence[Indicator | Mapping[str, Any]]) -> int:
    """三级指标个数: every row is one level-3 indicator."""
    return len(indicators)


def level2_count(indicators: Iterable[Indicator | Mapping[str, Any]]) -> int:
    """二级指标个数: distinct level1/level2 pairs (short and full captions count as one)."""
    pairs = {(_short(_clean(_row(i).get("level1"))), _short(_clean(_row(i).get("level2"))))
             for i in indicators}
    return len(pairs)


def quantitative_count(indicators: Iterable[Indicator | Mapping[str, Any]]) -> int:
    """定量指标个数: rows whose 指标性质 is ≥, ≤ or = (dates included, see the module docstring)."""
    return sum(1 for i in indicators if _row_operator(i) in QUANTITATIVE_OPERATORS)


def quantified_ratio(indicators: Sequence[Indicator | Mapping[str, Any]]) -> Decimal | None:
    """量化率 = quantitative level-3 ÷ all level-3, unrounded; None when there are no indicators."""
    if not indicators:
        return None
    return ratio(quantitative_count(indicators), level3_count(indicators))


@dataclass(frozen=True)
class IndicatorCounts:
    level2: int
    level3: int
    quantitative: int

    @property
    def qualitative(self) -> int:
        return self.level3 - self.quantitative

    @property
    def quantified_ratio(self) -> Decimal | None:
        return ratio(self.quantitative, self.level3) if self.level3 else None


def count_indicators(indicators: Sequence[Indicator | Mapping[str, Any]]) -> IndicatorCounts:
    """The counts a statistics table reports (二级/三级/定量指标个数), summable across projects."""
    return IndicatorCounts(level2_count(indicators), level3_count(indicators),
                           quantitative_count(indicators))


# ------------------------------------------------------------------------------ validation


def _section(settings: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return (settings if settings is not None else defaults())["declaration"]


def _add(errors: Errors, path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


def _choices(captions: Sequence[str], short: bool = False) -> str:
    """"A、B、C或D" — the Chinese way to list alternatives."""
    names = [_short(c) if short else c for c in captions]
    if len(names) == 1:
        return names[0]
    return "、".join(names[:-1]) + "或" + names[-1]


def _percent_number(rate: Decimal) -> str:
    """0.70 → "70", 0.725 → "72.5": a threshold shown as the bureau wrote it."""
    return format((rate * HUNDRED).normalize(), "f")


_NAME_PREFIX = re.compile(r"^指标\s*\d+\s*[：:]")


def _name_key(name: str) -> str:
    """Names compare without the "指标1：" numbering forms add and without spaces."""
    return _clean(_NAME_PREFIX.sub("", name.strip()))


def cost_required(project_type: Any, settings: Mapping[str, Any] | None = None) -> bool:
    """Whether 财预〔2021〕101号 requires 成本指标 for this project type: the type contains one of
    the configured names, so "工程基建类项目" matches "工程基建"."""
    text = _clean(project_type)
    types = _section(settings)["indicators"]["cost_required_project_types"]
    return bool(text) and any(_clean(t) and _clean(t) in text for t in types)


def validate_indicator_set(indicators: Sequence[Indicator | Mapping[str, Any]], tree: Any = None,
                           project_type: Any = None, settings: Mapping[str, Any] | None = None
                           ) -> Errors:
    """Rules for the indicator set of a 绩效目标申报表; {} when it passes.

    Keys are field paths ("indicators.3.target_value") or "indicators" for rules about the whole
    set; values are Chinese messages that name the field and say what to do. `tree` defaults to
    the `declaration.tree` setting ("2020"). Each rule is a setting in
    rules/defaults/declaration.toml.
    """
    section = _section(settings)
    rules = section["indicators"]
    tid = tree_id(tree if tree is not None else section["tree"])
    captions = TREES[tid]
    errors: Errors = {}
    present: set[str] = set()
    seen: dict[tuple[str, str, str], int] = {}
    grades = [str(g) for g in rules["qualitative_grades"]]
    satisfaction_unit = rules["satisfaction_unit"]

    for i, item in enumerate(indicators):
        path = f"indicators.{i}"
        row = _row(item)
        if not isinstance(row, Mapping):
            _add(errors, path, "格式不对：每项指标应为一组字段")
            continue
        raw1, raw2 = _clean(row.get("level1")), _clean(row.get("level2"))
        level1 = normalise_level1(raw1, tid)
        level2 = normalise_level2(raw1, raw2, tid) if level1 else None
        if level1:
            present.add(level1)
        if rules["check_levels"]:
            _check_levels(errors, path, tid, raw1, raw2, level1, level2)
        name = _clean(row.get("name"))
        if not name:
            _add(errors, f"{path}.name", "三级指标名称为空：请填写指标名称，如“培训人次”")
        elif rules["unique_names"] and level1 and level2:
            key = (level1, level2, _name_key(str(row.get("name"))))
            if key in seen:
                _add(errors, f"{path}.name",
                     f"三级指标“{name}”在{level2}中重复（与第{seen[key] + 1}项同名）："
                     "请合并这两项或改用能区分的名称")
            else:
                seen[key] = i
        _check_value(errors, path, row, rules, grades,
                     satisfaction_unit if level1 == "满意度指标" else "")

    for caption in rules["required_level1"]:
        if caption in captions and caption not in present:
            _add(errors, "indicators", f"缺少{caption}：请至少填写一项{caption}"
                                       f"（{_choices(captions[caption], short=True)}）")
    if tid == "2021" and cost_required(project_type, settings) and "成本指标" not in present:
        _add(errors, "indicators",
             f"缺少成本指标：按财预〔2021〕101号，“{_clean(project_type)}”项目须设置成本指标，"
             f"请至少填写一项成本指标（{_choices(captions['成本指标'], short=True)}）")
    minimum = to_decimal(rules["min_quantified_ratio"])
    rate = quantified_ratio(indicators)
    if rate is not None and minimum > ZERO and rate < minimum:
        _add(errors, "indicators",
             f"定量指标占比为{rate * HUNDRED:.2f}%，低于{_percent_number(minimum)}%："
             "请将更多三级指标写成“≥/≤/=数值+单位”的形式")
    return errors


def _check_levels(errors: Errors, path: str, tid: str, raw1: str, raw2: str,
                  level1: str | None, level2: str | None) -> None:
    captions = TREES[tid]
    label = TREE_LABELS[tid]
    if not raw1:
        _add(errors, f"{path}.level1", f"一级指标为空：请填写{_choices(list(captions))}")
    elif level1 is None:
        if tid == "2020" and normalise_level1(raw1, "2021") == "成本指标":
            _add(errors, f"{path}.level1", f"在{label}中，成本指标是产出指标下的二级指标："
                                           "请将一级指标改为“产出指标”、二级指标改为“成本指标”")
        else:
            _add(errors, f"{path}.level1", f"一级指标“{raw1}”不在{label}中：请填写{_choices(list(captions))}")
    elif not raw2:
        _add(errors, f"{path}.level2", f"二级指标为空：请填写{_choices(captions[level1])}")
    elif level2 is None:
        if tid == "2021" and level1 == "产出指标" and normalise_level2("产出", raw2, "2020") == "成本指标":
            _add(errors, f"{path}.level2", f"在{label}中，成本指标是一级指标：请将一级指标改为“成本指标”，"
                                           f"二级指标填写{_choices(captions['成本指标'])}")
        else:
            _add(errors, f"{path}.level2",
                 f"二级指标“{raw2}”不属于{level1}：请填写{_choices(captions[level1])}")


def _check_value(errors: Errors, path: str, row: Mapping[str, Any], rules: Mapping[str, Any],
                 grades: list[str], satisfaction_unit: str) -> None:
    op, target, unit = split_value(row.get("operator"), row.get("target_value"), row.get("measure_unit"))
    operator = normalise_operator(op)
    if op and operator is None:
        _add(errors, f"{path}.operator", f"指标性质“{op}”无法识别：请填写≥、≤、=或定性")
        return
    if not target:
        _add(errors, f"{path}.target_value", "指标值为空：请填写指标值，如“≥500人次”或“好”")
        return
    parsed = Indicator("", "", "", operator, target, unit).parsed
    if operator in QUANTITATIVE_OPERATORS:
        if parsed.value_kind == "text":
            _add(errors, f"{path}.target_value",
                 f"定量指标的指标值“{target}”不是数字：请填写数字（时效指标可填日期，如“12月31日”），"
                 "单位写在度量单位栏；确实无法量化的，请将指标性质改为“定性”")
            return
        if parsed.value_kind == "number" and not unit and rules["require_measure_unit"]:
            _add(errors, f"{path}.measure_unit", "度量单位为空：请填写度量单位，如%、人次、万元")
    elif grades and target not in grades and not satisfaction_unit:
        _add(errors, f"{path}.target_value",
             f"定性指标值“{target}”不是分级分档表述：请从{'、'.join(grades)}中选择，"
             "或改写为“≥/≤/=数值+单位”的定量指标")
    if satisfaction_unit:
        if operator not in QUANTITATIVE_OPERATORS or parsed.value_kind != "number" or unit != satisfaction_unit:
            _add(errors, f"{path}.target_value",
                 f"满意度指标应以百分比表示：请写成“≥90{satisfaction_unit}”的形式"
                 f"（指标性质≥，指标值90，度量单位{satisfaction_unit}）")
        elif satisfaction_unit == "%" and not ZERO <= parsed.value <= HUNDRED:
            _add(errors, f"{path}.target_value", "满意度应在0%至100%之间：请填写0至100之间的数")


# ------------------------------------------------------------------------------ settings


def _string_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str) and all(
        isinstance(v, str) and v.strip() for v in value)


def validate_settings(section: Mapping[str, Any]) -> list[str]:
    """Chinese messages for a bad "declaration" settings section."""
    problems: list[str] = []
    try:
        tree_id(section.get("tree"))
    except ValueError:
        problems.append("tree：应为 \"2020\"（财预〔2020〕10号）或 \"2021\"（财预〔2021〕101号）。")
    rules = section.get("indicators", {})
    level1s = {c for t in TREES.values() for c in t}
    required = rules.get("required_level1")
    if not _string_list(required) or not set(required) <= level1s:
        problems.append("indicators.required_level1：只能列出产出指标、效益指标、满意度指标、成本指标。")
    if not _string_list(rules.get("cost_required_project_types")) and rules.get("cost_required_project_types") != []:
        problems.append("indicators.cost_required_project_types：应为项目类型名称的列表，如 [\"工程基建\"]。")
    try:
        minimum = to_decimal(rules.get("min_quantified_ratio"))
    except (TypeError, ValueError):
        minimum = None
    if minimum is None or not ZERO <= minimum <= 1:
        problems.append("indicators.min_quantified_ratio：应为0至1之间的数（小数请加引号，如 \"0.70\"）。")
    for key in ("unique_names", "require_measure_unit", "check_levels"):
        if not isinstance(rules.get(key), bool):
            problems.append(f"indicators.{key}：应为 true 或 false。")
    if not isinstance(rules.get("satisfaction_unit"), str):
        problems.append("indicators.satisfaction_unit：应为度量单位文字，如 \"%\"；不检查时填 \"\"。")
    grades = rules.get("qualitative_grades")
    if not _string_list(grades) and grades != []:
        problems.append("indicators.qualitative_grades：应为定性指标值的列表，如 [\"好\", \"较好\", \"一般\", \"较差\"]。")
    paths = section.get("library", {}).get("extra_paths")
    if not _string_list(paths) and paths != []:
        problems.append("library.extra_paths：应为指标库文件或目录路径的列表。")
    return problems
