"""绩效运行监控 calculations: 执行率, 绩效目标整体完成率, 偏差值, summaries per scope, and the
deviation rules of the 项目支出绩效目标执行监控表 (official-forms C.2).

Numbers are Decimal throughout. Rates are ratios at full precision (0.731667…); they are rounded
once, ROUND_HALF_UP, only when displayed (73.17). 偏差值 is taken from the unrounded rates and
then rounded once: 82.76 % − 73.1668 % = 9.5932 → 9.59 个百分点 (the published figures).

Definitions (settings in rules/defaults/monitoring.toml, section "monitoring"):

* execution_rate = executed ÷ budget, where budget is initial_budget (the 年初预算数 column of the
  central form) or, with ``budget_basis = "adjusted_budget"``, the adjusted budget where given.
  None (shown "—") when the budget is zero.
* target_completion_rate of one project (``completion.method``):
  - "indicator_mean" (default): the mean, weighted by 分值 when every indicator has one, of each
    indicator's completion degree, a number in [0, 1]:
      ≥ (positive):  min(value ÷ target, 1)       (target 0 → 1)
      ≤ (negative):  1 when value ≤ target, else target ÷ value
      = (exact):     1 when equal; below the target min(value ÷ target, 1), above target ÷ value
      定性, or no measured value yet: the ``completion.qualitative`` value of its 完成目标可能性
      (确定能 1, 有可能 0.5, 完全不可能 0).
    "value" is ``actual_value`` (1-X月执行情况) by default, so 完成率 and 执行率 both measure
    progress over the same months and their difference, 偏差值, says whether targets are ahead of
    (positive) or behind (negative) spending. ``completion.basis = "projected_value"`` uses
    全年预计完成情况 instead.
    Why this one: it uses every indicator, rewards partial progress, and never lets one
    over-achieved indicator hide another that lags (the cap at 1).
  - "likelihood_share": the share of indicators whose 完成目标可能性 is 确定能 — simple, but
    blind to how far an indicator has progressed.
* For a group of projects, 完成率 is the budget-weighted mean of the projects' rates
  (``summary.completion_weighting = "budget"``) or their plain mean ("mean"); projects without a
  rate are left out of it. 平均得分 is the plain mean of the scores given.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rules.formatting import money_text, percent_text
from rules.operators import normalise_operator
from rules.periods import Period, as_of_text, parse_period, period_settings_problems
from rules.rounding import HUNDRED, ZERO, percent, quantize, ratio, to_decimal, total
from rules.settings_files import defaults

ONE = Decimal(1)

FUND_LABELS = {
    "annual_total": "年度资金总额",
    "fiscal_appropriation": "财政拨款",
    "other_funds": "其他资金",
    "carryover": "上年结转资金",
}
AMOUNT_LABELS = {
    "initial_budget": "年初预算数",
    "adjusted_budget": "调整后预算数",
    "executed": "执行数",
    "projected_executed": "全年预计执行数",
}
LIKELIHOOD_LABELS = {"certain": "确定能", "possible": "有可能", "impossible": "完全不可能"}
# Local forms write 不可能 for 完全不可能 (official-forms C.2, Huangshi); the national grid codes
# them 1/2/3.
_LIKELIHOOD_ALIASES = {
    **{v: k for k, v in LIKELIHOOD_LABELS.items()},
    **{k: k for k in LIKELIHOOD_LABELS},
    "不可能": "impossible",
    "1": "certain",
    "2": "possible",
    "3": "impossible",
}
CAUSE_LABELS = {
    "funding": "经费保障",
    "institutional": "制度保障",
    "staffing": "人员保障",
    "facilities": "硬件条件保障",
    "other": "其他",
}
_CAUSE_ALIASES = {
    **{v: k for k, v in CAUSE_LABELS.items()},
    **{k: k for k in CAUSE_LABELS},
    "硬件保障": "facilities",
}
BUDGET_BASES = ("initial_budget", "adjusted_budget")
COMPLETION_METHODS = ("indicator_mean", "likelihood_share")
COMPLETION_BASES = ("actual_value", "projected_value")
COMPLETION_WEIGHTINGS = ("budget", "mean")

Errors = dict[str, list[str]]


class MonitoringInputError(ValueError):
    """Input the calculations cannot use; `errors` maps field paths to Chinese messages."""

    def __init__(self, errors: Errors):
        super().__init__("; ".join(f"{k}: {'；'.join(v)}" for k, v in errors.items()))
        self.errors = errors


def _section(settings: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return (settings if settings is not None else defaults())["monitoring"]


def _add(errors: Errors, path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


def _number(value: Any) -> Decimal | None:
    """A Decimal, or None when `value` is not a usable number (floats included)."""
    try:
        return to_decimal(value)
    except (TypeError, ValueError):
        return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ---------------------------------------------------------------------------------- rates


def execution_rate(executed, budget) -> Decimal | None:
    """执行率 as a ratio at full precision; None when the budget is zero."""
    return ratio(executed, budget)


def deviation(completion_rate: Decimal | None, execution_rate: Decimal | None) -> Decimal | None:
    """偏差值 in percentage points, 2 places: (完成率 − 执行率) × 100 from the unrounded ratios.

    A completion rate known only as a displayed figure (82.76 %) is passed as Decimal("0.8276")
    and used as given.
    """
    if completion_rate is None or execution_rate is None:
        return None
    return quantize((to_decimal(completion_rate) - to_decimal(execution_rate)) * HUNDRED, 2)


@dataclass(frozen=True)
class Execution:
    """Budget execution of one fund line; rates are unrounded ratios."""

    budget: Decimal
    executed: Decimal
    projected_executed: Decimal | None = None

    @property
    def execution_rate(self) -> Decimal | None:
        return execution_rate(self.executed, self.budget)

    @property
    def projected_execution_rate(self) -> Decimal | None:
        if self.projected_executed is None:
            return None
        return execution_rate(self.projected_executed, self.budget)

    @property
    def execution_rate_percent(self) -> Decimal | None:
        return percent(self.execution_rate)

    @property
    def projected_execution_rate_percent(self) -> Decimal | None:
        return percent(self.projected_execution_rate)


def _budget_field(line: Mapping[str, Any], basis: str) -> str:
    if basis == "adjusted_budget" and not _blank(line.get("adjusted_budget")):
        return "adjusted_budget"
    return "initial_budget"


def check_funds(
    funds: Mapping[str, Any], settings: Mapping[str, Any] | None = None, prefix: str = "funds"
) -> Errors:
    """Field errors of the 项目资金 block: numbers ≥ 0, and each amount of the sources adding up
    exactly to the same amount of annual_total."""
    section = _section(settings)
    errors: Errors = {}
    if not isinstance(funds, Mapping):
        return {prefix: ["格式不对，应为一组字段。"]}
    total_line = funds.get("annual_total")
    if not isinstance(total_line, Mapping):
        return {f"{prefix}.annual_total": ["必填。"]}
    sources = [s for s in section["fund_sources"] if s in funds]
    for name in ["annual_total", *sources]:
        line = funds[name]
        if not isinstance(line, Mapping):
            _add(errors, f"{prefix}.{name}", "格式不对，应为一组字段。")
            continue
        for field, value in line.items():
            if field not in AMOUNT_LABELS or _blank(value):
                continue
            number = _number(value)
            if number is None:
                _add(errors, f"{prefix}.{name}.{field}", "请输入数字。")
            elif number < ZERO:
                _add(errors, f"{prefix}.{name}.{field}", "不能为负数。")
    for required in ("initial_budget", "executed"):
        if _blank(total_line.get(required)):
            _add(errors, f"{prefix}.annual_total.{required}", "必填。")
    if errors or not sources:
        return errors
    lines = [funds[s] for s in sources]
    for field, field_label in AMOUNT_LABELS.items():
        if not any(not _blank(line.get(field)) for line in lines):
            continue  # no source gives this amount: nothing to reconcile
        # A source that leaves the amount blank contributes nothing to it.
        parts = [to_decimal(line[field]) if not _blank(line.get(field)) else ZERO for line in lines]
        expected = to_decimal(total_line[field]) if not _blank(total_line.get(field)) else ZERO
        if total(parts) != expected:
            pairs = zip(sources, parts, strict=True)
            named = "与".join(f"{FUND_LABELS[s]}（{money_text(p)}万元）" for s, p in pairs)
            _add(
                errors,
                f"{prefix}.annual_total.{field}",
                f"{named}之和为{money_text(total(parts))}万元，"
                f"与{FUND_LABELS['annual_total']}的{field_label}{money_text(expected)}万元不一致。",
            )
    return errors


def fund_execution(
    funds: Mapping[str, Any], settings: Mapping[str, Any] | None = None
) -> dict[str, Execution]:
    """执行率 per fund line: {"annual_total": Execution, "fiscal_appropriation": …, …}.

    `funds` maps annual_total and the configured sources to {initial_budget, adjusted_budget?,
    executed, projected_executed?}. Raises MonitoringInputError when check_funds finds errors.
    """
    errors = check_funds(funds, settings)
    if errors:
        raise MonitoringInputError(errors)
    section = _section(settings)
    result: dict[str, Execution] = {}
    for name in ["annual_total", *section["fund_sources"]]:
        line = funds.get(name)
        if not isinstance(line, Mapping):
            continue
        budget = line.get(_budget_field(line, section["budget_basis"]))
        projected = line.get("projected_executed")
        result[name] = Execution(
            budget=ZERO if _blank(budget) else to_decimal(budget),
            executed=ZERO if _blank(line.get("executed")) else to_decimal(line["executed"]),
            projected_executed=None if _blank(projected) else to_decimal(projected),
        )
    return result


# ------------------------------------------------------------------------------ indicators


def normalise_likelihood(value: Any) -> str | None:
    """'确定能'/'certain'/1 → 'certain'; '不可能' → 'impossible'; unknown → None."""
    if _blank(value) or isinstance(value, bool):
        return None
    return _LIKELIHOOD_ALIASES.get(unicodedata.normalize("NFKC", str(value)).strip())


def _causes(value: Any) -> tuple[list[str], list[str]]:
    """(known cause identifiers, unknown entries). A mapping {cause: explanation} counts the
    causes whose explanation is filled in — the national grid has one text column per cause."""
    if _blank(value):
        return [], []
    if isinstance(value, Mapping):
        items = [k for k, v in value.items() if not _blank(v) and v is not False]
    elif isinstance(value, str):
        items = [p for p in value.replace("，", ",").replace("、", ",").split(",") if p.strip()]
    else:
        items = list(value)
    known, unknown = [], []
    for item in items:
        cause = _CAUSE_ALIASES.get(str(item).strip())
        (known if cause else unknown).append(cause or str(item))
    return known, unknown


def check_monitoring_indicators(
    indicators: Sequence[Mapping[str, Any]], prefix: str = "indicators"
) -> Errors:
    """Fill-in rules of the indicator rows of a 执行监控表.

    完成目标可能性 (completion_likelihood) must be 确定能, 有可能 or 完全不可能 (不可能 accepted);
    when it is not 确定能, at least one deviation cause and an improvement (纠偏措施) are
    required. Quantitative rows need a numeric target_value; actual/projected values, when given,
    must be numbers.
    """
    errors: Errors = {}
    for i, row in enumerate(indicators):
        path = f"{prefix}.{i}"
        if not isinstance(row, Mapping):
            _add(errors, path, "格式不对，应为一组字段。")
            continue
        likelihood = row.get("completion_likelihood")
        normal = normalise_likelihood(likelihood)
        if _blank(likelihood):
            _add(errors, f"{path}.completion_likelihood", "必填。")
        elif normal is None:
            _add(errors, f"{path}.completion_likelihood", "应为“确定能”“有可能”或“完全不可能”。")
        causes, unknown = _causes(row.get("deviation_causes"))
        for item in unknown:
            _add(
                errors,
                f"{path}.deviation_causes",
                f"不认识的偏差原因“{item}”，应为经费保障、制度保障、人员保障、硬件条件保障或其他。",
            )
        if normal in ("possible", "impossible"):
            label = LIKELIHOOD_LABELS[normal]
            if not causes and not unknown:
                _add(
                    errors,
                    f"{path}.deviation_causes",
                    f"完成目标可能性为“{label}”时，请至少选择一项偏差原因。",
                )
            if _blank(row.get("improvement")):
                _add(
                    errors,
                    f"{path}.improvement",
                    f"完成目标可能性为“{label}”时，请填写纠偏（改进）措施。",
                )
            if (
                "other" in causes
                and not isinstance(row.get("deviation_causes"), Mapping)
                and _blank(row.get("deviation_reason"))
            ):
                _add(errors, f"{path}.deviation_reason", "偏差原因选择“其他”时，请说明具体原因。")
        operator = row.get("operator")
        op = normalise_operator(operator)
        if not _blank(operator) and op is None:
            _add(errors, f"{path}.operator", "应为≥、≤、=或定性。")
        if op in ("≥", "≤", "="):
            if _number(row.get("target_value")) is None:
                _add(errors, f"{path}.target_value", "定量指标的年度指标值请输入数字。")
            for field in ("actual_value", "projected_value"):
                if not _blank(row.get(field)) and _number(row.get(field)) is None:
                    _add(errors, f"{path}.{field}", "定量指标请输入数字。")
    return errors


def indicator_completion(
    row: Mapping[str, Any], settings: Mapping[str, Any] | None = None
) -> Decimal:
    """Completion degree of one indicator in [0, 1] (method "indicator_mean", module docstring)."""
    completion = _section(settings)["completion"]
    op = normalise_operator(row.get("operator"))
    value = row.get(completion["basis"])
    if op in ("≥", "≤", "=") and not _blank(value):
        target, actual = to_decimal(row["target_value"]), to_decimal(value)
        if op == "≥" or (op == "=" and actual < target):
            degree = ONE if target <= ZERO else ratio(actual, target)
        elif actual == target:
            degree = ONE
        elif op == "≤" and actual < target:
            degree = ONE
        else:  # over a ceiling, or past an exact target
            degree = ratio(target, actual) if actual > ZERO else ZERO
        return min(max(degree, ZERO), ONE)
    likelihood = normalise_likelihood(row.get("completion_likelihood"))
    return to_decimal(completion["qualitative"][likelihood])


def target_completion_rate(
    indicators: Sequence[Mapping[str, Any]], settings: Mapping[str, Any] | None = None
) -> Decimal | None:
    """绩效目标整体完成率 of one project as an unrounded ratio; None without indicators."""
    errors = check_monitoring_indicators(indicators)
    if errors:
        raise MonitoringInputError(errors)
    if not indicators:
        return None
    completion = _section(settings)["completion"]
    if completion["method"] == "likelihood_share":
        certain = sum(
            1
            for r in indicators
            if normalise_likelihood(r.get("completion_likelihood")) == "certain"
        )
        return ratio(certain, len(indicators))
    degrees = [indicator_completion(r, settings) for r in indicators]
    weights = [_number(r.get("weight")) for r in indicators]
    if completion["weighted"] and all(w is not None and w > ZERO for w in weights):
        return ratio(total(w * d for w, d in zip(weights, degrees, strict=True)), total(weights))
    return ratio(total(degrees), len(degrees))


# ------------------------------------------------------------------------------ summaries


@dataclass(frozen=True)
class GroupSummary:
    """Totals of one group (a scope, or everything); rates and the mean score are unrounded."""

    key: str
    label: str
    units: int
    projects: int
    budget: Decimal
    executed: Decimal
    target_completion_rate: Decimal | None
    average_score: Decimal | None
    scored_projects: int

    @property
    def execution_rate(self) -> Decimal | None:
        return execution_rate(self.executed, self.budget)

    @property
    def deviation(self) -> Decimal | None:
        return deviation(self.target_completion_rate, self.execution_rate)

    def as_row(self) -> dict[str, Any]:
        """Display values, each rounded once: money 2 places, rates as percentages, deviation in
        percentage points, score 2 places."""
        return {
            "key": self.key,
            "label": self.label,
            "units": self.units,
            "projects": self.projects,
            "budget": quantize(self.budget, 2),
            "executed": quantize(self.executed, 2),
            "execution_rate": percent(self.execution_rate),
            "target_completion_rate": percent(self.target_completion_rate),
            "deviation": self.deviation,
            "average_score": None if self.average_score is None else quantize(self.average_score),
        }


@dataclass(frozen=True)
class Summary:
    groups: tuple[GroupSummary, ...]
    overall: GroupSummary

    def as_rows(self) -> list[dict[str, Any]]:
        return [g.as_row() for g in self.groups] + [self.overall.as_row()]


def _identity(value: Any) -> tuple[str, str] | None:
    """(key, label) of a unit/project/scope given as text or as {code, name}."""
    if isinstance(value, Mapping):
        code, name = value.get("code"), value.get("name")
        if _blank(code) and _blank(name):
            return None
        key = str(code if not _blank(code) else name).strip()
        return key, str(name if not _blank(name) else code).strip()
    if _blank(value):
        return None
    return str(value).strip(), str(value).strip()


def check_rows(
    rows: Sequence[Mapping[str, Any]], group_by: str = "scope", prefix: str = "rows"
) -> Errors:
    errors: Errors = {}
    for i, row in enumerate(rows):
        path = f"{prefix}.{i}"
        if not isinstance(row, Mapping):
            _add(errors, path, "格式不对，应为一组字段。")
            continue
        for field in dict.fromkeys(("unit", "project", group_by)):
            if _identity(row.get(field)) is None:
                _add(errors, f"{path}.{field}", "必填。")
        for field in ("budget", "executed"):
            number = _number(row.get(field))
            if _blank(row.get(field)):
                _add(errors, f"{path}.{field}", "必填。")
            elif number is None:
                _add(errors, f"{path}.{field}", "请输入数字。")
            elif number < ZERO:
                _add(errors, f"{path}.{field}", "不能为负数。")
        for field, upper, hint in (
            ("completion_rate", ONE, "应为0至1之间的比率（如0.8276表示82.76%）。"),
            ("self_evaluation_score", HUNDRED, "应在0至100分之间。"),
        ):
            if _blank(row.get(field)):
                continue
            number = _number(row.get(field))
            if number is None:
                _add(errors, f"{path}.{field}", "请输入数字。")
            elif not ZERO <= number <= upper:
                _add(errors, f"{path}.{field}", hint)
    return errors


class Tally:
    """Running totals of one group, so rows can be added one at a time: a summary of 10,000 units
    read back from a batch never needs them all at once. Sums are exact and taken in row order,
    so the figures equal those of the whole list summed at once."""

    __slots__ = ("key", "label", "units", "projects", "budget", "executed",
                 "rated_budget", "rated_product", "rated_sum", "rated", "score_sum", "scored")

    def __init__(self, key: str, label: str):
        self.key, self.label = key, label
        self.units: set[str] = set()
        # A project is identified within its unit: two units' "公用经费" are two projects.
        self.projects: set[tuple[str, str]] = set()
        self.budget = self.executed = self.rated_budget = self.rated_product = self.rated_sum = ZERO
        self.score_sum = ZERO
        self.rated = self.scored = 0

    def add(self, row: Mapping[str, Any]) -> None:
        unit = _identity(row["unit"])[0]
        self.units.add(unit)
        self.projects.add((unit, _identity(row["project"])[0]))
        budget = to_decimal(row["budget"])
        self.budget += budget
        self.executed += to_decimal(row["executed"])
        if not _blank(row.get("completion_rate")):
            rate = to_decimal(row["completion_rate"])
            self.rated_budget += budget
            self.rated_product += budget * rate
            self.rated_sum += rate
            self.rated += 1
        if not _blank(row.get("self_evaluation_score")):
            self.score_sum += to_decimal(row["self_evaluation_score"])
            self.scored += 1

    def result(self, weighting: str) -> GroupSummary:
        completion = None
        if self.rated:
            if weighting == "budget" and self.rated_budget > ZERO:
                completion = ratio(self.rated_product, self.rated_budget)
            else:  # "mean", or budget weights that are all zero
                completion = ratio(self.rated_sum, self.rated)
        return GroupSummary(
            key=self.key,
            label=self.label,
            units=len(self.units),
            projects=len(self.projects),
            budget=self.budget,
            executed=self.executed,
            target_completion_rate=completion,
            average_score=ratio(self.score_sum, self.scored) if self.scored else None,
            scored_projects=self.scored,
        )


class Summariser:
    """summarise() one row at a time: `add` each checked row, then `summary()`."""

    def __init__(self, group_by: str = "scope", settings: Mapping[str, Any] | None = None):
        self.group_by = group_by
        self.weighting = _section(settings)["summary"]["completion_weighting"]
        self.groups: dict[str, Tally] = {}
        self.overall = Tally("total", "合计")

    def add(self, row: Mapping[str, Any]) -> None:
        key, label = _identity(row[self.group_by])
        tally = self.groups.get(key)
        if tally is None:
            tally = self.groups[key] = Tally(key, label)
        tally.add(row)
        self.overall.add(row)

    def summary(self) -> Summary:
        return Summary(groups=tuple(t.result(self.weighting) for t in self.groups.values()),
                       overall=self.overall.result(self.weighting))


def summarise(
    rows: Iterable[Mapping[str, Any]],
    group_by: str = "scope",
    settings: Mapping[str, Any] | None = None,
) -> Summary:
    """Monitoring figures per `group_by` value (groups in order of first appearance) and overall.

    Each row: unit ({code, name} or text), project ({code, name} or text), scope (e.g.
    部门预算项目, 专项资金), budget, executed (万元), completion_rate (ratio, optional),
    self_evaluation_score (optional). Totals are exact sums; nothing is rounded here.
    """
    rows = list(rows)
    errors = check_rows(rows, group_by)
    if errors:
        raise MonitoringInputError(errors)
    summariser = Summariser(group_by, settings)
    for row in rows:
        summariser.add(row)
    return summariser.summary()


def _figures(group: GroupSummary, unit: str) -> str:
    parts = [
        f"覆盖{group.units}家单位、{group.projects}个项目",
        f"预算资金总额{money_text(group.budget)}{unit}",
        f"已执行{money_text(group.executed)}{unit}",
    ]
    if group.execution_rate is not None:
        parts.append(f"执行率{percent_text(percent(group.execution_rate))}")
    if group.target_completion_rate is not None:
        parts.append(f"绩效目标整体完成率{percent_text(percent(group.target_completion_rate))}")
    if group.deviation is not None:
        parts.append(f"偏差值{group.deviation:.2f}个百分点")
    if group.average_score is not None:
        parts.append(f"绩效自评平均得分{quantize(group.average_score):.2f}分")
    return "，".join(parts)


def summary_text(
    summary: Summary, year: int, period: Period | str, settings: Mapping[str, Any] | None = None
) -> str:
    """A paragraph for a report: one sentence per group, then a 合计 sentence when there is more
    than one group (with a single group it would only repeat the first sentence)."""
    unit = _section(settings)["summary"]["money_unit"]
    sentences = []
    for i, group in enumerate(summary.groups):
        lead = (
            f"{as_of_text(year, parse_period(period))}，纳入绩效运行监控的"
            if i == 0
            else "同期纳入监控的"
        )
        sentences.append(f"{lead}{group.label}{_figures(group, unit)}。")
    if len(summary.groups) > 1:
        sentences.append(f"以上合计{_figures(summary.overall, unit)}。")
    return "".join(sentences)


# ------------------------------------------------------------------------------- settings


def validate_settings(section: Mapping[str, Any]) -> list[str]:
    """Chinese messages for a bad "monitoring" settings section."""
    problems: list[str] = []
    if section.get("budget_basis") not in BUDGET_BASES:
        problems.append("budget_basis：应为 initial_budget 或 adjusted_budget。")
    sources = section.get("fund_sources")
    known = set(FUND_LABELS) - {"annual_total"}
    if not isinstance(sources, Sequence) or isinstance(sources, str) or not set(sources) <= known:
        problems.append("fund_sources：只能列出 fiscal_appropriation、other_funds、carryover。")
    completion = section.get("completion", {})
    if completion.get("method") not in COMPLETION_METHODS:
        problems.append("completion.method：应为 indicator_mean 或 likelihood_share。")
    if completion.get("basis") not in COMPLETION_BASES:
        problems.append("completion.basis：应为 actual_value 或 projected_value。")
    if not isinstance(completion.get("weighted"), bool):
        problems.append("completion.weighted：应为 true 或 false。")
    qualitative = completion.get("qualitative", {})
    for key, label in LIKELIHOOD_LABELS.items():
        value = _number(qualitative.get(key))
        if value is None or not ZERO <= value <= ONE:
            problems.append(
                f"completion.qualitative.{key}：“{label}”的完成程度应为0至1之间的数"
                '（小数请加引号，如 "0.5"）。'
            )
    summary = section.get("summary", {})
    if summary.get("completion_weighting") not in COMPLETION_WEIGHTINGS:
        problems.append("summary.completion_weighting：应为 budget 或 mean。")
    if _blank(summary.get("money_unit")) or not isinstance(summary.get("money_unit"), str):
        problems.append("summary.money_unit：请填写金额单位，如“万元”。")
    problems += period_settings_problems(section.get("periods", {}))
    return problems
