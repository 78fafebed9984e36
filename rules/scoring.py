"""Scoring of performance evaluations: indicator scores, 执行率, grades, explanations.

Sources: 财预〔2020〕10号 (self-evaluation weights 10/50/30/10, grades 优/良/中/差, qualitative
bands) and local practice where the national text is silent (negative-indicator rule, the 130 %
over-achievement flag, 事前绩效评估 conclusions). Every threshold lives in the `scoring` settings
section (rules/defaults/scoring.toml), so a bureau changes numbers, not code.

Arithmetic is Decimal only; each computed score is rounded once, at the end, with
rules.rounding.quantize (ROUND_HALF_UP, 2 places). Functions taking `settings` accept the full
settings mapping (rules.settings.load_settings()), just its `scoring` section, or None for the
validated defaults.

Input of `score_self_evaluation` / `validate_self_evaluation` (kind `self_evaluation`; the
marshmallow schema will produce exactly this; numbers are Decimal, or int/str convertible by
rules.rounding.to_decimal; floats are refused)::

    {
      "budget": {                                   # 项目资金（万元）
        "annual_total":         {"initial_budget": D, "adjusted_budget": D, "executed": D},
        "fiscal_appropriation": {...same keys...},  # 其中：当年财政拨款  (sub-rows optional)
        "carryover":            {...},              # 上年结转资金
        "other_funds":          {...},              # 其他资金
        "deviation_reason": str | None,             # needed when 执行率 < 90 %
        "improvement": str | None,
      },
      "indicators": [                               # 绩效指标 rows, in form order
        {
          "level1": "产出指标",        # or "产出" or the identifier "output"
          "level2": "数量指标",
          "name": "培训人次",          # 三级指标
          "operator": "≥",            # "≥" | "≤" | "=" | "定性"  (ASCII >=, <=, > , < accepted)
          "target_value": D | str,    # Decimal for ≥ ≤ =; text for 定性
          "actual_value": D | str | None,
          "weight": D,                # 分值
          "score": D | None,          # only for 定性: the evaluator's score
          "band": str | None,         # only for 定性: "achieved" | "partial" | "not_achieved"
                                      #   (or the Chinese band label)
          "not_applicable": bool,     # optional, default False
          "deviation_reason": str | None,
          "improvement": str | None,
        },
      ],
    }

Output of `score_self_evaluation` (plain dicts so templates and JSON can use it directly)::

    {
      "budget_rows": {row: {"initial_budget", "adjusted_budget", "executed",
                            "execution_rate" (ratio | None), "execution_percent" (2 dp | None)}},
      "execution": {"rate", "percent", "weight", "score", "scaled_weight", "scaled_score"},
      "indicators": [{"index", "level1", "level1_key", "level2", "name", "operator", "weight",
                      "score" (None when N/A), "not_applicable", "band",
                      "scaled_weight", "scaled_score"}],
      "subtotals": [{"key", "label", "weight", "score", "scaled_weight", "scaled_score"}],
      "raw_total", "applicable_weight", "rescaled" (bool), "total", "grade", "grade_label",
      "explanations": [{"path", "reason", "fields", "missing", "message"}],
    }

`weight`/`score` are the form's own figures; `scaled_*` are after dropping not-applicable rows
and rescaling to 100 (equal to the raw figures when nothing was dropped). `total` is what the
form prints as 总分 and what the grade is taken from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rules.operators import QUALITATIVE, normalise_operator
from rules.rounding import HUNDRED, ZERO, percent, quantize, ratio, to_decimal, total
from rules.settings_files import defaults

ONE = Decimal(1)

NEGATIVE_RULES = ("ratio", "linear")
GRADE_KEYS = ("excellent", "good", "fair", "poor")
EX_ANTE_KEYS = ("support", "conditional", "reject")
BUDGET_ROWS = ("annual_total", "fiscal_appropriation", "carryover", "other_funds")
BUDGET_SUB_ROWS = BUDGET_ROWS[1:]
BUDGET_FIELDS = ("initial_budget", "adjusted_budget", "executed")

_FIELD_LABELS = {
    "initial_budget": "年初预算数",
    "adjusted_budget": "全年预算数",
    "executed": "全年执行数",
    "annual_total": "年度资金总额",
    "fiscal_appropriation": "当年财政拨款",
    "carryover": "上年结转资金",
    "other_funds": "其他资金",
    "execution": "预算执行率",
}
BUDGET_ROW_LABELS = {name: _FIELD_LABELS[name] for name in BUDGET_ROWS}


# --------------------------------------------------------------------------- helpers

def section(settings: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """The `scoring` settings section from a full settings mapping, the section itself, or None."""
    if settings is None:
        return defaults()["scoring"]
    if "scoring" in settings:
        return settings["scoring"]
    return settings


def setting_decimal(value) -> Decimal:
    """A number from a settings/data file as Decimal.

    TOML/JSON written by people may carry floats such as 7.5; str() gives the shortest text that
    reads back as the same float, i.e. what was typed, so no binary error enters.
    """
    if isinstance(value, float):
        return to_decimal(str(value))
    return to_decimal(value)


def points_text(value) -> str:
    """A point value for a message: 2 places, trailing zeros dropped (50, 4.5, 5.99)."""
    text = f"{quantize(value, 2):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number_or_none(value) -> Decimal | None:
    """Decimal for a number; None for blank or non-numeric (the validator reports those)."""
    if _blank(value):
        return None
    try:
        return setting_decimal(value)
    except (TypeError, ValueError):
        return None


def normalize_operator(operator: str) -> str:
    """'≥' | '≤' | '=' | '定性' for any spelling rules.operators accepts; ValueError otherwise."""
    found = normalise_operator(operator) if isinstance(operator, str) else None
    if found is None:
        raise ValueError(f"unknown operator {operator!r}")
    return found


# --------------------------------------------------------------------------- 执行率

def execution_rate(executed, budget) -> Decimal | None:
    """全年执行数 ÷ 全年预算数 as a full-precision ratio; None when the budget is 0."""
    return ratio(executed, budget)


def execution_score(rate: Decimal | None, points=10) -> Decimal:
    """min(rate, 100 %) × points, 2 dp. No bonus above 100 %; a negative or missing rate gives 0."""
    points = to_decimal(points)
    if rate is None:
        return quantize(ZERO)
    rate = min(max(to_decimal(rate), ZERO), ONE)
    return quantize(rate * points)


# --------------------------------------------------------------------------- quantitative indicators

def _positive_fraction(target: Decimal, actual: Decimal) -> Decimal:
    """Share of the weight earned by a '≥' indicator.

    1 − shortfall ÷ |target|, which for target > 0 is exactly actual ÷ target (the national
    formula) and for negative targets (e.g. growth ≥ −5 %) still falls from 1 to 0 as the
    shortfall reaches |target| instead of producing a nonsense ratio of two negatives.
    """
    if actual >= target:
        return ONE
    if target == ZERO:
        return ZERO
    return max(ZERO, ONE - ratio(target - actual, abs(target)))


def _negative_fraction(target: Decimal, actual: Decimal, rule: str) -> Decimal:
    """Share of the weight earned by a '≤' indicator under the 'ratio' or 'linear' rule.

    With excess = actual − target and |target| in place of target (same result for target > 0):
    'ratio'  → |t| ÷ (|t| + excess), i.e. target ÷ actual (central fill-in note);
    'linear' → 1 − excess ÷ |t|, i.e. 0 once actual reaches 2 × target (one production system).
    """
    if actual <= target:
        return ONE
    if target == ZERO:
        return ZERO
    excess = actual - target
    if rule == "ratio":
        return ratio(abs(target), abs(target) + excess)
    if rule == "linear":
        return max(ZERO, ONE - ratio(excess, abs(target)))
    raise ValueError(f"unknown negative-indicator rule {rule!r}; use one of {NEGATIVE_RULES}")


def indicator_score(operator: str, target, actual, weight, rule: str | None = None,
                    settings: Mapping[str, Any] | None = None) -> Decimal:
    """Score of one quantitative indicator, in [0, weight], rounded once to 2 dp.

    '≥' positive: actual ≥ target → weight, else actual ÷ target × weight.
    '≤' negative: actual ≤ target → weight, else `rule` ('ratio' | 'linear'; default from
        settings scoring.indicator.negative_rule). Actual 0 with target > 0 is full weight.
    '=' equality: scored like '≥' (an over-shoot is not penalised), as the surveyed provincial
        system does; with target 0 it is full only when actual ≤ 0, like '≤'.
    target 0: '≥' is full for any actual ≥ 0; '≤' and '=' are full for actual ≤ 0, else 0.
    Qualitative ('定性') indicators are scored by the evaluator: see check_qualitative.
    """
    op = normalize_operator(operator)
    if op == QUALITATIVE:
        raise ValueError("qualitative indicators are scored by the evaluator (check_qualitative)")
    target, actual, weight = to_decimal(target), to_decimal(actual), to_decimal(weight)
    if weight < ZERO:
        raise ValueError("weight must not be negative")
    if op == "≤":
        rule = rule or section(settings)["indicator"]["negative_rule"]
        fraction = _negative_fraction(target, actual, rule)
    elif op == "=" and target == ZERO:
        fraction = ONE if actual <= ZERO else ZERO
    else:
        fraction = _positive_fraction(target, actual)
    return quantize(weight * fraction)


# --------------------------------------------------------------------------- qualitative bands

@dataclass(frozen=True)
class Band:
    key: str
    label: str
    min_percent: Decimal
    max_percent: Decimal

    def bounds(self, weight) -> tuple[Decimal, Decimal, bool]:
        """(low, high, high_inclusive) in points for an indicator of `weight` points."""
        weight = to_decimal(weight)
        return (weight * self.min_percent / HUNDRED, weight * self.max_percent / HUNDRED,
                self.max_percent >= HUNDRED)

    def contains(self, score, weight) -> bool:
        low, high, inclusive = self.bounds(weight)
        score = to_decimal(score)
        return low <= score and (score <= high if inclusive else score < high)

    def range_text(self, weight) -> str:
        low, high, inclusive = self.bounds(weight)
        return f"{points_text(low)}分（含）至{points_text(high)}分（{'含' if inclusive else '不含'}）"


def bands(settings=None) -> list[Band]:
    """Configured qualitative bands, best first."""
    out = [Band(key, b["label"], setting_decimal(b["min_percent"]), setting_decimal(b["max_percent"]))
           for key, b in section(settings)["qualitative"].items()]
    return sorted(out, key=lambda b: b.min_percent, reverse=True)


def find_band(band: str, settings=None) -> Band | None:
    """The band named by its key ('achieved') or its label ('达成年度指标'); None if unknown."""
    name = band.strip() if isinstance(band, str) else band
    for b in bands(settings):
        if name in (b.key, b.label):
            return b
    return None


def band_for(score, weight, settings=None) -> Band | None:
    """The band a score falls in (for display); None when outside every band."""
    for b in bands(settings):
        if b.contains(score, weight):
            return b
    return None


def check_qualitative(band: str, score, weight, settings=None) -> str | None:
    """None when the evaluator's score lies inside the chosen band, else a Chinese message."""
    chosen = find_band(band, settings) if not _blank(band) else None
    if chosen is None:
        names = "、".join(f"“{b.label}”" for b in bands(settings))
        return f"评价档次“{band or ''}”无效，应为{names}之一"
    score = to_decimal(score)
    if chosen.contains(score, weight):
        return None
    return (f"得分{points_text(score)}分不在所选档次“{chosen.label}”的范围内，"
            f"应为{chosen.range_text(weight)}")


# --------------------------------------------------------------------------- not applicable → rescale

@dataclass(frozen=True)
class Rescaled:
    """Scores after dropping not-applicable rows and scaling the rest to `target` points.

    factor            target ÷ applicable_weight, full precision
    applicable_weight Σ weights of the rows that apply
    weights, scores   per input row: value × factor rounded to 2 dp; None for N/A rows
    total             Σ applicable scores × factor, rounded once — so it may differ by 0.01
                      from the sum of the rounded row figures, and is the figure to print/grade
    """

    factor: Decimal
    applicable_weight: Decimal
    weights: tuple[Decimal | None, ...]
    scores: tuple[Decimal | None, ...]
    total: Decimal


def rescale(scores_and_weights: Iterable[tuple[Any, Any]], target=100) -> Rescaled:
    """Rescale (score, weight) pairs to `target` points; a pair whose score is None is N/A.

    Example: weights 10/50/30/10 with the 30-point row N/A → factor 100 ÷ 70; a raw 56 of the
    remaining 70 points becomes 80.00. ValueError when nothing applicable (or all weights 0).
    """
    pairs = [(None if s is None else to_decimal(s), to_decimal(w)) for s, w in scores_and_weights]
    applicable = total(w for s, w in pairs if s is not None)
    factor = ratio(target, applicable) if applicable > ZERO else None
    if factor is None:
        raise ValueError("no applicable rows to rescale")
    return Rescaled(
        factor=factor,
        applicable_weight=applicable,
        weights=tuple(None if s is None else quantize(w * factor) for s, w in pairs),
        scores=tuple(None if s is None else quantize(s * factor) for s, w in pairs),
        total=quantize(total(s for s, w in pairs if s is not None) * factor),
    )


# --------------------------------------------------------------------------- weights and grades

def level1_label(key: str, settings=None) -> str:
    labels = section(settings).get("level1_labels") or {}
    return _FIELD_LABELS.get(key) or labels.get(key, key)


def validate_weights(weights: Mapping[str, Any] | Iterable, expected=100, settings=None) -> list[str]:
    """Chinese messages when weights are negative or do not sum to `expected` (100)."""
    items = list(weights.items()) if isinstance(weights, Mapping) else list(enumerate(weights))
    messages: list[str] = []
    values = []
    for key, raw in items:
        name = level1_label(key, settings) if isinstance(key, str) else f"第{key + 1}项"
        try:
            value = setting_decimal(raw)
        except (TypeError, ValueError):
            messages.append(f"“{name}”的权重不是数值：{raw!r}")
            continue
        if value < ZERO:
            messages.append(f"“{name}”的权重不能为负数（{points_text(value)}分）")
        values.append(value)
    if not messages:
        expected = to_decimal(expected)
        sum_ = total(values)
        if sum_ != expected:
            messages.append(f"权重合计应为{points_text(expected)}分，实际为{points_text(sum_)}分")
    return messages


def _thresholds(table: Mapping[str, Any]) -> list[tuple[Decimal, str, str]]:
    """(min, key, label) best first."""
    return sorted(((setting_decimal(v["min"]), k, v["label"]) for k, v in table.items()),
                  key=lambda t: t[0], reverse=True)


def _classify(value, table, points=100) -> tuple[str, str]:
    # Compare the figure as printed (2 dp, half-up): a total of 79.995 prints as 80.00 and must
    # grade 良, not 中. Thresholds are percentages of `points`.
    value = quantize(value, 2) * HUNDRED
    points = to_decimal(points)
    levels = _thresholds(table)
    for minimum, key, label in levels:
        if value >= minimum * points:
            return key, label
    return levels[-1][1], levels[-1][2]


def grade(total_score, settings=None, points=100) -> tuple[str, str]:
    """('excellent', '优') for a total ≥ 90 … ('poor', '差') below 60 (settings scoring.grades).

    With `points` the thresholds are read as percentages of an item's points (a 10-point item
    with 9 points is 优).
    """
    return _classify(total_score, section(settings)["grades"], points)


def ex_ante_conclusion(total_score, settings=None) -> tuple[str, str]:
    """事前绩效评估 conclusion: by default ('support', '予以支持') ≥ 80, ('conditional',
    '调整完善后予以支持') 60–<80, ('reject', '不予支持') < 60 (settings scoring.ex_ante); with
    ex_ante_rule = "grade", the conclusion the grade maps to in scoring.ex_ante_by_grade."""
    sec = section(settings)
    if sec.get("ex_ante_rule", "score") == "grade":
        key = sec["ex_ante_by_grade"][grade(total_score, settings)[0]]
        return key, sec["ex_ante"][key]["label"]
    return _classify(total_score, sec["ex_ante"])


# --------------------------------------------------------------------------- explanations

@dataclass(frozen=True)
class Explanation:
    """Why a row needs 偏差原因分析 (and perhaps 改进措施), which fields, and a Chinese message."""

    reason: str                 # 'shortfall' | 'over_achievement' | 'low_execution'
    fields: tuple[str, ...]     # subset of ('deviation_reason', 'improvement')
    message: str


BOTH = ("deviation_reason", "improvement")


def needs_explanation(score, weight, operator: str | None = None, target=None, actual=None,
                      settings=None) -> Explanation | None:
    """For one applicable indicator: shortfall (score < weight) needs both fields; an actual value
    ≥ 130 % of a positive target ('≥'/'=') needs a reason (the target was probably set too low).

    The over-achievement check is not applied to '≤' indicators: no source defines it there.
    """
    sec = section(settings)
    score, weight = to_decimal(score), to_decimal(weight)
    if score < weight:
        return Explanation("shortfall", BOTH,
                           f"指标未完全达成（得分{points_text(score)}分，分值{points_text(weight)}分），"
                           "须填写偏差原因分析和改进措施")
    op = normalize_operator(operator) if operator else None
    if op in ("≥", "=") and target is not None and actual is not None:
        target, actual = to_decimal(target), to_decimal(actual)
        limit = setting_decimal(sec["indicator"]["over_achievement_percent"])
        if target > ZERO and actual * HUNDRED >= target * limit:
            return Explanation("over_achievement", ("deviation_reason",),
                               f"实际完成值为年度指标值的{points_text(percent(ratio(actual, target)))}%，"
                               f"达到{points_text(limit)}%以上，须说明超额完成的原因")
    return None


def execution_needs_explanation(rate: Decimal | None, settings=None) -> Explanation | None:
    """执行率 below scoring.execution.explain_below_percent (90) needs both fields."""
    if rate is None:
        return None
    limit = setting_decimal(section(settings)["execution"]["explain_below_percent"])
    if to_decimal(rate) * HUNDRED < limit:
        return Explanation("low_execution", BOTH,
                           f"预算执行率为{points_text(percent(rate))}%，低于{points_text(limit)}%，"
                           "须填写偏差原因分析和改进措施")
    return None


# --------------------------------------------------------------------------- self-evaluation

def level1_key(value, settings=None) -> str | None:
    """'output' for '产出指标', '产出' or 'output'; None when not configured."""
    if _blank(value) or not isinstance(value, str):
        return None
    text = value.strip()
    for key, label in section(settings)["level1_labels"].items():
        if text in (key, label, label.removesuffix("指标")):
            return key
    return None


def _configured_weights(sec) -> dict[str, Decimal]:
    return {k: setting_decimal(v) for k, v in sec["weights"].items()}


def _budget_rows(data: Mapping) -> dict[str, dict[str, Decimal | None]]:
    budget = data.get("budget") or {}
    rows = {}
    for name in BUDGET_ROWS:
        row = budget.get(name)
        if not isinstance(row, Mapping):  # absent, or refused as a whole by its field
            continue
        rows[name] = {f: _number_or_none(row.get(f)) for f in BUDGET_FIELDS}
    return rows


def _score_rows(data: Mapping, sec) -> list[dict]:
    """Per-indicator figures; `problem` carries what stops a row from being scored."""
    rows = []
    for index, row in enumerate(data.get("indicators") or []):
        out = {
            "index": index,
            "level1": row.get("level1"),
            "level1_key": level1_key(row.get("level1"), sec),
            "level2": row.get("level2"),
            "name": row.get("name"),
            "operator": None,
            "weight": _number_or_none(row.get("weight")),
            "score": None,
            "not_applicable": bool(row.get("not_applicable")),
            "band": None,
            "explanation": None,
            "problem": None,
        }
        rows.append(out)
        try:
            out["operator"] = normalize_operator(row.get("operator"))
        except ValueError:
            out["problem"] = "operator"
            continue
        if out["weight"] is None or out["weight"] < ZERO:
            out["problem"] = "weight"
            continue
        if out["not_applicable"]:
            continue
        weight = out["weight"]
        if out["operator"] == QUALITATIVE:
            score = _number_or_none(row.get("score"))
            band = find_band(row.get("band"), sec) if not _blank(row.get("band")) else None
            out["band"] = band.key if band else None
            out["score"] = quantize(score) if score is not None else quantize(ZERO)
            if score is not None:  # a missing score is reported by the validator, not explained
                out["explanation"] = needs_explanation(out["score"], weight, settings=sec)
            continue
        target = _number_or_none(row.get("target_value"))
        if target is None:
            out["problem"] = "target_value"
            continue
        actual = _number_or_none(row.get("actual_value"))
        # No actual value means nothing was shown to be achieved: 0 points, and an explanation.
        out["score"] = (indicator_score(out["operator"], target, actual, weight, settings=sec)
                        if actual is not None else quantize(ZERO))
        out["explanation"] = needs_explanation(out["score"], weight, out["operator"], target,
                                               actual, settings=sec)
    return rows


def _explanation_entry(path: str, exp: Explanation, source: Mapping) -> dict:
    return {
        "path": path,
        "reason": exp.reason,
        "fields": [f"{path}.{f}" for f in exp.fields],
        "missing": [f"{path}.{f}" for f in exp.fields if _blank(source.get(f))],
        "message": exp.message,
    }


def score_self_evaluation(data: Mapping, settings=None) -> dict:
    """Score a 项目支出绩效自评表 (shape in the module docstring).

    Call validate_self_evaluation first: scores of invalid data are not meaningful. Raises
    ValueError only for rows that cannot be scored at all (unknown operator, missing or negative
    weight, non-numeric target). A quantitative row without an actual value scores 0.
    """
    sec = section(settings)
    configured = _configured_weights(sec)
    budget_rows = _budget_rows(data)
    budget_field = sec["execution"]["budget_field"]

    budget_out = {}
    for name, row in budget_rows.items():
        rate = None
        if row["executed"] is not None and row[budget_field] is not None:
            rate = execution_rate(row["executed"], row[budget_field])
        budget_out[name] = {**row, "execution_rate": rate, "execution_percent": percent(rate)}
    rate = budget_out.get("annual_total", {}).get("execution_rate")
    exec_weight = configured.get("execution", ZERO)
    exec_score = execution_score(rate, exec_weight)

    rows = _score_rows(data, sec)
    for row in rows:
        if row["problem"]:
            raise ValueError(f"indicators.{row['index']}.{row['problem']}: cannot score this row")

    applicable = [r for r in rows if not r["not_applicable"]]
    rescaled = len(applicable) < len(rows)
    pairs = [(exec_score, exec_weight)] + [(r["score"], r["weight"]) for r in rows]
    raw_total = total(s for s, w in pairs if s is not None)
    if rescaled:
        scaled = rescale(pairs)
        factor, applicable_weight, final_total = scaled.factor, scaled.applicable_weight, scaled.total
        exec_scaled = (scaled.weights[0], scaled.scores[0])
        for row, w, s in zip(rows, scaled.weights[1:], scaled.scores[1:], strict=True):
            row["scaled_weight"], row["scaled_score"] = w, s
    else:
        factor, applicable_weight, final_total = ONE, total(w for _, w in pairs), raw_total
        exec_scaled = (exec_weight, exec_score)
        for row in rows:
            row["scaled_weight"], row["scaled_score"] = row["weight"], row["score"]

    subtotals = []
    order = [k for k in configured if k != "execution"]
    order += [r["level1_key"] or r["level1"] for r in rows
              if (r["level1_key"] or r["level1"]) not in order]
    for key in order:
        members = [r for r in rows if (r["level1_key"] or r["level1"]) == key]
        if not members:
            continue
        live = [r for r in members if not r["not_applicable"]]
        weight_sum, score_sum = total(r["weight"] for r in live), total(r["score"] for r in live)
        subtotals.append({
            "key": key,
            "label": level1_label(key, sec) if isinstance(key, str) else key,
            "weight": weight_sum,
            "score": score_sum,
            "scaled_weight": quantize(weight_sum * factor),
            "scaled_score": quantize(score_sum * factor),
        })

    explanations = []
    budget_src = data.get("budget") or {}
    exp = execution_needs_explanation(rate, sec)
    if exp:
        explanations.append(_explanation_entry("budget", exp, budget_src))
    source_rows = data.get("indicators") or []
    for row in rows:
        if row["explanation"]:
            explanations.append(_explanation_entry(f"indicators.{row['index']}", row["explanation"],
                                                   source_rows[row["index"]]))

    grade_key, grade_label = grade(final_total, sec)
    indicators = [{k: v for k, v in r.items() if k not in ("explanation", "problem")} for r in rows]
    return {
        "budget_rows": budget_out,
        "execution": {"rate": rate, "percent": percent(rate), "weight": exec_weight,
                      "score": exec_score, "scaled_weight": exec_scaled[0],
                      "scaled_score": exec_scaled[1]},
        "indicators": indicators,
        "subtotals": subtotals,
        "raw_total": raw_total,
        "applicable_weight": applicable_weight,
        "rescaled": rescaled,
        "total": final_total,
        "grade": grade_key,
        "grade_label": grade_label,
        "explanations": explanations,
    }


def validate_self_evaluation(data: Mapping, settings=None) -> dict[str, list[str]]:
    """Chinese messages by field path ('indicators.3.score', 'budget.annual_total.executed', …).

    Checks: budget figures present and usable; sub-rows adding up to 年度资金总额; each level-1
    group's weights equal to the configured weight and everything (with 执行率) to 100; each row
    scorable; a missing actual value explained; qualitative scores inside their band; 偏差原因分析
    and 改进措施 filled where required. An empty dict means the form can be scored and printed.
    """
    sec = section(settings)
    errors: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    # --- budget block
    budget = data.get("budget")
    budget_field = sec["execution"]["budget_field"]
    rate = None
    if not isinstance(budget, Mapping) or not isinstance(budget.get("annual_total"), Mapping):
        add("budget.annual_total", "须填写年度资金总额（年初预算数、全年预算数、全年执行数）")
    else:
        refused_row = False
        for name in BUDGET_ROWS:
            row = budget.get(name)
            if row is None:
                continue
            if not isinstance(row, Mapping):  # not an object: its field error says so
                refused_row = True
                continue
            for f in BUDGET_FIELDS:
                raw = row.get(f)
                if _blank(raw):
                    if name == "annual_total":
                        add(f"budget.{name}.{f}", f"须填写{_FIELD_LABELS[name]}的{_FIELD_LABELS[f]}")
                elif _number_or_none(raw) is None:
                    add(f"budget.{name}.{f}", f"{_FIELD_LABELS[name]}的{_FIELD_LABELS[f]}不是数值")
                elif _number_or_none(raw) < ZERO:
                    add(f"budget.{name}.{f}", f"{_FIELD_LABELS[name]}的{_FIELD_LABELS[f]}不能为负数")
        rows = _budget_rows(data)
        annual = rows["annual_total"]
        if annual[budget_field] is not None and annual[budget_field] <= ZERO:
            add(f"budget.annual_total.{budget_field}",
                f"{_FIELD_LABELS[budget_field]}须大于0，才能计算预算执行率")
        present = [n for n in BUDGET_SUB_ROWS if n in rows]
        names = "、".join(_FIELD_LABELS[n] for n in present)
        for f in BUDGET_FIELDS if present else ():
            whole = annual[f]
            unreadable = refused_row or any(rows[n][f] is None and not _blank(budget[n].get(f)) for n in present)
            if whole is None or unreadable:
                continue  # already reported above
            parts = total(rows[n][f] or ZERO for n in present)  # a blank sub-row cell counts as 0
            if parts != whole:
                add(f"budget.annual_total.{f}",
                    f"年度资金总额的{_FIELD_LABELS[f]}（{points_text(whole)}万元）应等于其中"
                    f"{names}之和（{points_text(parts)}万元）")
        if annual["executed"] is not None and annual[budget_field]:
            rate = execution_rate(annual["executed"], annual[budget_field])
        exp = execution_needs_explanation(rate, sec)
        if exp:
            for f in exp.fields:
                if _blank(budget.get(f)):
                    add(f"budget.{f}", exp.message)

    # --- indicator rows
    source_rows = data.get("indicators") or []
    if not source_rows:
        add("indicators", "至少须填写一项绩效指标")
    rows = _score_rows(data, sec)
    labels = "、".join(v for k, v in sec["level1_labels"].items()
                      if setting_decimal(sec["weights"].get(k, 0)) > ZERO)
    for row, src in zip(rows, source_rows, strict=True):
        path = f"indicators.{row['index']}"
        if row["level1_key"] is None:
            add(f"{path}.level1", f"一级指标“{row['level1'] or ''}”无法识别，应为{labels}")
        if _blank(row["name"]):
            add(f"{path}.name", "须填写三级指标名称")
        if row["problem"] == "operator":
            add(f"{path}.operator", f"指标性质“{src.get('operator') or ''}”无效，应为≥、≤、=或定性")
        if _blank(src.get("weight")):
            add(f"{path}.weight", "须填写分值")
        elif row["weight"] is None:
            add(f"{path}.weight", "分值不是数值")
        elif row["weight"] < ZERO:
            add(f"{path}.weight", "分值不能为负数")
        if row["problem"] == "target_value":
            add(f"{path}.target_value", "定量指标的年度指标值须为数值")
        if row["problem"] or row["not_applicable"]:
            continue
        weight = row["weight"]
        if row["operator"] == QUALITATIVE:
            if _blank(src.get("band")):
                add(f"{path}.band", "定性指标须选择评价档次")
            elif row["band"] is None:
                add(f"{path}.band", check_qualitative(src.get("band"), ZERO, weight, sec))
            score = _number_or_none(src.get("score"))
            if _blank(src.get("score")):
                add(f"{path}.score", "定性指标须填写得分")
            elif score is None:
                add(f"{path}.score", "得分不是数值")
            elif score < ZERO or score > weight:
                add(f"{path}.score",
                    f"得分应在0分至{points_text(weight)}分之间，实际为{points_text(score)}分")
            elif row["band"] is not None:
                message = check_qualitative(row["band"], score, weight, sec)
                if message:
                    add(f"{path}.score", message)
        elif _blank(src.get("actual_value")):
            if _blank(src.get("deviation_reason")):
                add(f"{path}.actual_value", "未填写实际完成值，须填写或在偏差原因分析中说明原因")
        elif _number_or_none(src.get("actual_value")) is None:
            add(f"{path}.actual_value", "定量指标的实际完成值须为数值")
        exp = row["explanation"]
        if exp:
            for f in exp.fields:
                if _blank(src.get(f)):
                    add(f"{path}.{f}", exp.message)

    # --- weights per level 1 and in total (planned weights: N/A rows still count here)
    if rows and all(r["weight"] is not None for r in rows):
        configured = _configured_weights(sec)
        for key, expected in configured.items():
            if key == "execution":
                continue
            members = [r for r in rows if r["level1_key"] == key]
            label = level1_label(key, sec)
            actual_sum = total(r["weight"] for r in members)
            if not members and expected > ZERO:
                add("indicators", f"未填写{label}（应为{points_text(expected)}分）")
            elif members and actual_sum != expected:
                add("indicators", f"{label}各项分值合计应为{points_text(expected)}分，"
                                  f"实际为{points_text(actual_sum)}分")
        grand = configured.get("execution", ZERO) + total(r["weight"] for r in rows)
        if grand != HUNDRED:
            add("indicators", f"预算执行率与各项指标分值合计应为100分，实际为{points_text(grand)}分")
        if all(r["not_applicable"] for r in rows):
            add("indicators", "所有绩效指标均标为不适用，无法评分")
    return errors


# --------------------------------------------------------------------------- settings validator

def _check_min_table(table, keys, name: str, problems: list[str]) -> None:
    if not isinstance(table, Mapping) or set(table) != set(keys):
        problems.append(f"{name}须且只能包含{', '.join(keys)}")
        return
    mins = []
    for key in keys:
        entry = table[key]
        try:
            value = setting_decimal(entry["min"])
        except (KeyError, TypeError, ValueError):
            problems.append(f"{name}.{key}.min须为数值")
            return
        if not ZERO <= value <= HUNDRED:
            problems.append(f"{name}.{key}.min须在0至100之间，实际为{points_text(value)}")
        if _blank(entry.get("label")):
            problems.append(f"{name}.{key}.label不能为空")
        mins.append(value)
    if any(a <= b for a, b in zip(mins, mins[1:], strict=False)):
        text = " > ".join(f"{k}({points_text(m)})" for k, m in zip(keys, mins, strict=True))
        problems.append(f"{name}的分数线须从高到低排列：应满足{text}")


def validate_scoring_settings(sec: Mapping[str, Any]) -> list[str]:
    """Chinese messages for a bad `scoring` settings section (checked by rules.settings, RULE_VALIDATORS)."""
    problems: list[str] = []
    weights = sec.get("weights")
    if not isinstance(weights, Mapping) or not weights:
        problems.append("weights：须配置各一级指标权重")
    else:
        problems += [f"weights：{m}" for m in validate_weights(weights, settings=sec)]
        labels = sec.get("level1_labels") or {}
        for key in weights:
            if key != "execution" and key not in labels:
                problems.append(f"weights：权重“{key}”没有对应的一级指标名称（level1_labels.{key}）")
    execution = sec.get("execution") or {}
    if execution.get("budget_field") not in ("adjusted_budget", "initial_budget"):
        problems.append("execution.budget_field须为adjusted_budget或initial_budget")
    try:
        below = setting_decimal(execution.get("explain_below_percent"))
        if not ZERO <= below <= HUNDRED:
            problems.append("execution.explain_below_percent须在0至100之间")
    except (TypeError, ValueError):
        problems.append("execution.explain_below_percent须为数值")
    indicator = sec.get("indicator") or {}
    if indicator.get("negative_rule") not in NEGATIVE_RULES:
        problems.append(f"indicator.negative_rule须为ratio或linear，实际为“{indicator.get('negative_rule')}”")
    try:
        if setting_decimal(indicator.get("over_achievement_percent")) <= HUNDRED:
            problems.append("indicator.over_achievement_percent须大于100")
    except (TypeError, ValueError):
        problems.append("indicator.over_achievement_percent须为数值")
    qualitative = sec.get("qualitative")
    if not isinstance(qualitative, Mapping) or not qualitative:
        problems.append("qualitative：须配置定性指标评价档次")
    else:
        for key, band in qualitative.items():
            try:
                low = setting_decimal(band["min_percent"])
                high = setting_decimal(band["max_percent"])
            except (KeyError, TypeError, ValueError):
                problems.append(f"qualitative.{key}：min_percent和max_percent须为数值")
                continue
            if not (ZERO <= low < high <= HUNDRED):
                problems.append(f"qualitative.{key}：档次须在0%至100%之间且下限小于上限"
                                f"（实际为{points_text(low)}%至{points_text(high)}%）")
            if _blank(band.get("label")):
                problems.append(f"qualitative.{key}.label不能为空")
    _check_min_table(sec.get("grades"), GRADE_KEYS, "grades", problems)
    _check_min_table(sec.get("ex_ante"), EX_ANTE_KEYS, "ex_ante", problems)
    rule = sec.get("ex_ante_rule", "score")
    if rule not in ("score", "grade"):
        problems.append(f"ex_ante_rule只能是“score”（按得分）或“grade”（按等级），实际为“{rule}”")
    by_grade = sec.get("ex_ante_by_grade")
    if rule == "grade" or by_grade is not None:
        if not isinstance(by_grade, Mapping) or set(by_grade) != set(GRADE_KEYS):
            problems.append(f"ex_ante_by_grade须为每个等级（{'、'.join(GRADE_KEYS)}）指定评估结论")
        else:
            for key, conclusion in by_grade.items():
                if conclusion not in EX_ANTE_KEYS:
                    problems.append(f"ex_ante_by_grade.{key}只能是{'、'.join(EX_ANTE_KEYS)}之一，实际为“{conclusion}”")
    return problems
