"""公用经费 assessment: 基础公用经费 (base) + 绩效公用经费 (performance).

A unit's 公用经费 budget is split into a base share (default 70 %), released in full, and a
performance share (default 30 %), paid according to the unit's assessment score; what is not paid
is 节约资金 (saved). Settings: rules/defaults/public_funds.toml, section "public_funds".

Money is in 元 with 2 places. The published figures must add up to the cent — the bureau reports
"绩效公用经费 7,835,793.00 元, 兑现 5,904,218.81 元, 节约 1,931,574.19 元" and every unit's
row must sum to those totals — so amounts are computed at full precision and turned into cents
once, by the largest-remainder method:

1. performance_i (full precision) = budget_i × performance_percent ÷ 100. Their total is rounded
   once (ROUND_HALF_UP) and the cents are shared out: each unit gets its amount cut to whole
   cents, and the cents still missing go to the units with the largest cut-off fractions (ties:
   the earlier row). So Σ performance_i == round(Σ budget × 30 %) exactly.
2. base_i = budget_i − performance_i, so base + performance == budget for every unit.
3. paid_performance_i (full precision) = performance_i × payout(score_i), shared out the same way
   so Σ paid == round(Σ full-precision paid); saved_i = performance_i − paid_i, never negative
   because a unit only receives an extra cent when its exact amount had a fraction below its
   (whole-cent) performance share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal, localcontext
from typing import Any

from rules.rounding import CENT, HUNDRED, ZERO, money, to_decimal, total
from rules.settings_files import defaults

ONE = Decimal(1)
RULES = ("proportional", "tiered", "threshold")
RULE_LABELS = {
    "proportional": "按得分比例兑现",
    "tiered": "按得分档次兑现",
    "threshold": "达标全额兑现",
}

Errors = dict[str, list[str]]


class PublicFundsInputError(ValueError):
    """Units the assessment cannot use; `errors` maps paths like "units.3.score" to messages."""

    def __init__(self, errors: Errors):
        super().__init__("; ".join(f"{k}: {'；'.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class UnitAssessment:
    index: int
    unit: Any  # passed through as given: {code, name} or a name
    budget: Decimal  # 公用经费预算 (元)
    score: Decimal  # 考核得分, 0–100
    payout_rate: Decimal  # share of the performance part paid, 0–1, unrounded
    base: Decimal  # 基础公用经费
    performance: Decimal  # 绩效公用经费
    paid_performance: Decimal  # 应兑现绩效公用经费
    saved: Decimal  # 节约资金
    total_paid: Decimal  # base + paid_performance


@dataclass(frozen=True)
class Totals:
    budgeted: Decimal
    base: Decimal
    performance: Decimal
    paid_performance: Decimal
    saved: Decimal
    total_paid: Decimal


@dataclass(frozen=True)
class Assessment:
    rule: str
    units: tuple[UnitAssessment, ...]
    totals: Totals

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "units": [asdict(u) for u in self.units],
            "totals": asdict(self.totals),
        }


def _section(settings: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return (settings if settings is not None else defaults())["public_funds"]


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, float):
        return None
    try:
        return to_decimal(value)
    except (TypeError, ValueError):
        return None


def check_units(units: Sequence[Mapping[str, Any]], prefix: str = "units") -> Errors:
    """Field errors of the assessment input: budget ≥ 0 with at most 2 decimals, score 0–100."""
    if not isinstance(units, Sequence) or isinstance(units, str | bytes):
        return {prefix: ["格式不对，应为单位列表。"]}
    if not units:
        return {prefix: ["请至少填写一个单位。"]}
    errors: Errors = {}
    for i, row in enumerate(units):
        path = f"{prefix}.{i}"
        if not isinstance(row, Mapping):
            errors[path] = ["格式不对，应为一组字段。"]
            continue
        budget, score = row.get("budget"), row.get("score")
        amount = _number(budget)
        if budget is None or budget == "":
            errors.setdefault(f"{path}.budget", []).append("必填。")
        elif amount is None:
            errors.setdefault(f"{path}.budget", []).append("请输入数字。")
        elif amount < ZERO:
            errors.setdefault(f"{path}.budget", []).append("公用经费预算不能为负数。")
        elif amount % CENT != ZERO:
            errors.setdefault(f"{path}.budget", []).append(
                "金额以元为单位，最多保留两位小数（到分）。"
            )
        points = _number(score)
        if score is None or score == "":
            errors.setdefault(f"{path}.score", []).append("必填。")
        elif points is None:
            errors.setdefault(f"{path}.score", []).append("请输入数字。")
        elif not ZERO <= points <= HUNDRED:
            errors.setdefault(f"{path}.score", []).append("考核得分应在0至100分之间。")
    return errors


def payout_rate(score, settings: Mapping[str, Any] | None = None) -> Decimal:
    """The share (0–1) of the performance part a score earns under the configured rule."""
    section = _section(settings)
    score = to_decimal(score)
    rule = section["rule"]
    if rule == "proportional":
        return score / HUNDRED
    if rule == "threshold":
        return ONE if score >= to_decimal(section["threshold_score"]) else ZERO
    for tier in section["tiers"]:  # highest first (validated)
        if score >= to_decimal(tier["min_score"]):
            return to_decimal(tier["payout_percent"]) / HUNDRED
    return ZERO


def allocate_cents(exact: Sequence[Decimal]) -> list[Decimal]:
    """Whole-cent amounts, one per exact (non-negative) amount, whose sum is exactly the
    ROUND_HALF_UP-rounded sum of the exact amounts (largest-remainder method).

    Cutting each amount to cents here is not a display rounding: it is the first step of sharing
    out one rounded total, which is then restored cent by cent.
    """
    with localcontext() as ctx:
        ctx.prec = 60
        target = int(money(total(exact)) * HUNDRED)
        in_cents = [to_decimal(x) * HUNDRED for x in exact]
        cents = [int(c) for c in in_cents]  # int() truncates; amounts are ≥ 0, so this floors
        fractions = [c - whole for c, whole in zip(in_cents, cents, strict=True)]
    missing = target - sum(cents)
    # 0 ≤ missing ≤ number of positive fractions, so only units with a fraction gain a cent.
    order = sorted(range(len(cents)), key=lambda i: (-fractions[i], i))
    for i in order[:missing]:
        cents[i] += 1
    return [Decimal(c).scaleb(-2) for c in cents]


def assess(
    units: Sequence[Mapping[str, Any]], settings: Mapping[str, Any] | None = None
) -> Assessment:
    """Assess each unit {unit, budget (元), score} and total the results.

    Raises PublicFundsInputError with Chinese messages per field path for bad input.
    """
    errors = check_units(units)
    if errors:
        raise PublicFundsInputError(errors)
    section = _section(settings)
    share = to_decimal(section["performance_percent"]) / HUNDRED
    budgets = [to_decimal(u["budget"]) for u in units]
    scores = [to_decimal(u["score"]) for u in units]
    rates = [payout_rate(s, settings) for s in scores]
    with localcontext() as ctx:
        ctx.prec = 60
        performance = allocate_cents([b * share for b in budgets])
        paid = allocate_cents([p * r for p, r in zip(performance, rates, strict=True)])
    rows = tuple(
        UnitAssessment(
            index=i,
            unit=u.get("unit"),
            budget=money(b),
            score=s,
            payout_rate=r,
            base=money(b - p),
            performance=p,
            paid_performance=pd,
            saved=p - pd,
            total_paid=money(b - p) + pd,
        )
        for i, (u, b, s, r, p, pd) in enumerate(
            zip(units, budgets, scores, rates, performance, paid, strict=True)
        )
    )
    totals = Totals(
        budgeted=total(r.budget for r in rows),
        base=total(r.base for r in rows),
        performance=total(r.performance for r in rows),
        paid_performance=total(r.paid_performance for r in rows),
        saved=total(r.saved for r in rows),
        total_paid=total(r.total_paid for r in rows),
    )
    return Assessment(rule=section["rule"], units=rows, totals=totals)


def validate_settings(section: Mapping[str, Any]) -> list[str]:
    """Chinese messages for a bad "public_funds" settings section."""
    problems: list[str] = []
    base, perf = _number(section.get("base_percent")), _number(section.get("performance_percent"))
    for key, value in (("base_percent", base), ("performance_percent", perf)):
        if value is None or not ZERO <= value <= HUNDRED:
            problems.append(f'{key}：应为0至100之间的百分数（小数请加引号，如 "72.5"）。')
    if base is not None and perf is not None and base + perf != HUNDRED:
        problems.append(
            f"base_percent + performance_percent：基础与绩效公用经费占比之和应为100%，"
            f"现为{base + perf}%。"
        )
    if section.get("rule") not in RULES:
        problems.append("rule：应为 proportional、tiered 或 threshold。")
    threshold = _number(section.get("threshold_score"))
    if threshold is None or not ZERO <= threshold <= HUNDRED:
        problems.append("threshold_score：应为0至100之间的分数。")
    tiers = section.get("tiers")
    if not isinstance(tiers, Sequence) or isinstance(tiers, str) or not tiers:
        return problems + ["tiers：请至少设置一个档次。"]
    previous_score = previous_payout = None
    for i, tier in enumerate(tiers):
        if not isinstance(tier, Mapping):
            problems.append(f"tiers.{i}：应写作 min_score 与 payout_percent。")
            continue
        score, payout = _number(tier.get("min_score")), _number(tier.get("payout_percent"))
        if score is None or not ZERO <= score <= HUNDRED:
            problems.append(f"tiers.{i}.min_score：应为0至100之间的分数。")
            continue
        if payout is None or not ZERO <= payout <= HUNDRED:
            problems.append(f"tiers.{i}.payout_percent：应为0至100之间的百分数。")
            continue
        if previous_score is not None and score >= previous_score:
            problems.append(
                f"tiers.{i}.min_score：档次应按分数从高到低排列，{score}分不低于上一档"
                f"的{previous_score}分。"
            )
        if previous_payout is not None and payout > previous_payout:
            problems.append(
                f"tiers.{i}.payout_percent：低分档的兑现比例（{payout}%）不能高于"
                f"高分档（{previous_payout}%）。"
            )
        previous_score, previous_payout = score, payout
    if previous_score is not None and previous_score != ZERO:
        problems.append("tiers：最低一档的 min_score 应为0，使任何得分都有对应档次。")
    return problems
