"""Statistics over the stored declarations, monitoring and self-evaluations of a year.

The yearly 工作情况说明 / 总结报告 of a finance bureau states figures such as: units and projects
covered; 二级/三级/定量三级 indicator counts and the 量化率; monitoring budget, execution rate,
completion rate and 偏差值; the average self-evaluation score; how many evaluations were graded
优/良/中/差 and their shares; how many units published their self-evaluation (disclosure coverage);
the average score of the target reviews. This module computes all of them from plain data, so it
is testable without the database; service/records.py loads that data from the stored submissions.

Input — one mapping per unit (every list may be empty or missing)::

    {
      "unit": {"code": "101001", "name": "青溪县教育局"},      # or just the name
      "declarations": [                                        # 绩效目标申报表
        {"scope": "department" | "project", "project_name": str, "project_code": str,
         "indicators": [{"level1", "level2", "name", "operator", "target_value", ...}]},
      ],
      "monitoring": [                                          # 执行监控表, one per project
        {"scope": "部门预算项目", "project_name": str,
         "budget": D, "executed": D, "completion_rate": D | None}       # or, instead of
         # budget/executed/completion_rate: "funds" and "indicators" as the monitoring form has
      ],
      "self_evaluations": [                                    # 自评表 with their total score
        {"scope": "project" | "department", "project_name": str, "score": D},
      ],
      "reviews": [{"project_name": str, "score": D}],          # 绩效目标审核 scores
      "disclosure": {"required": bool, "published": bool, "reason": str},
    }

Two 量化率 are reported because reports use both and they differ:

* ``pooled_quantified_ratio`` = Σ 定量三级 ÷ Σ 三级 over every indicator of the scope;
* ``mean_unit_quantified_ratio`` = the plain mean of each unit's own ratio (its indicators pooled),
  and ``mean_project_quantified_ratio`` the mean of each declaration's ratio — "平均量化率" in a
  report is usually one of these, and a unit with few indicators weighs as much as a large one.

Every rate is an unrounded ratio; rounding happens once, for display (``as_dict``). Grade shares
are percentages with 2 places that add up to exactly 100.00 (largest remainder, the same sharing
out as the public-funds cents), and their counts add up to the number graded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from rules.indicators import IndicatorCounts, count_indicators
from rules.monitoring import MonitoringInputError, Summary, fund_execution, summarise, target_completion_rate
from rules.public_funds import allocate_cents
from rules.rounding import HUNDRED, ZERO, percent, quantize, ratio, to_decimal, total
from rules.scoring import grade, section, setting_decimal

DEPARTMENT, PROJECT = "department", "project"
SCOPES = (DEPARTMENT, PROJECT)
SCOPE_LABELS = {DEPARTMENT: "部门整体", PROJECT: "项目"}
DEFAULT_MONITORING_SCOPE = "部门预算项目"

Errors = dict[str, list[str]]


class StatisticsInputError(ValueError):
    """Data the statistics cannot use; `errors` maps paths like "units.3.self_evaluations.0.score"
    to Chinese messages."""

    def __init__(self, errors: Errors):
        super().__init__("; ".join(f"{k}: {'；'.join(v)}" for k, v in errors.items()))
        self.errors = errors


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: Any) -> Decimal | None:
    try:
        return to_decimal(value)
    except (TypeError, ValueError):
        return None


def unit_identity(value: Any) -> tuple[str, str]:
    """(key, name) of a unit given as {code, name} or as its name."""
    if isinstance(value, Mapping):
        code, name = value.get("code"), value.get("name")
        key = str(code if not _blank(code) else name or "").strip()
        return key, str(name if not _blank(name) else code or "").strip()
    text = "" if value is None else str(value).strip()
    return text, text


def _project_key(record: Mapping[str, Any]) -> str | None:
    for field_name in ("project_code", "project_name"):
        value = record.get(field_name)
        if not _blank(value):
            return str(value).strip()
    return None


def _scope(record: Mapping[str, Any]) -> str:
    """department or project; a record without a scope is a project's unless it names none."""
    scope = record.get("scope")
    if scope in SCOPES:
        return scope
    return PROJECT if _project_key(record) else DEPARTMENT


def indicator_rows(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The indicators a declaration sets for the year: a list, or the `annual` block of a project
    declaration that also carries `midterm` indicators (only the year's targets are counted, as
    the yearly reports do)."""
    rows = record.get("indicators") or []
    if isinstance(rows, Mapping):
        rows = rows.get("annual") or []
    return list(rows)


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    return ratio(total(values), len(values)) if values else None


# ------------------------------------------------------------------------------ grades


@dataclass(frozen=True)
class GradeCount:
    key: str  # excellent, good, fair, poor
    label: str  # 优, 良, 中, 差
    count: int
    share: Decimal  # percentage with 2 places; the shares of a distribution add up to 100.00


@dataclass(frozen=True)
class GradeDistribution:
    total: int
    grades: tuple[GradeCount, ...]  # best grade first, every configured grade present

    def count(self, key: str) -> int:
        return next(g.count for g in self.grades if g.key == key)

    def share(self, key: str) -> Decimal:
        return next(g.share for g in self.grades if g.key == key)


def grade_order(settings: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """(key, label) of the configured grades, best first (scoring.grades, by their minimum)."""
    table = section(settings)["grades"]
    ordered = sorted(table.items(), key=lambda item: setting_decimal(item[1]["min"]), reverse=True)
    return [(key, value["label"]) for key, value in ordered]


def percent_shares(counts: Sequence[int]) -> list[Decimal]:
    """Each count as a percentage of their sum with 2 places, the places shared out by the largest
    remainder so the shares add up to exactly 100.00 (all zero when there is nothing to share).

    The sharing out is rules.public_funds.allocate_cents: a percentage with 2 places is a whole
    number of hundredths, exactly like an amount in cents.
    """
    whole = sum(counts)
    if whole == 0:
        return [ZERO.quantize(Decimal("0.01")) for _ in counts]
    with localcontext() as ctx:
        ctx.prec = 60
        exact = [Decimal(c) * HUNDRED / Decimal(whole) for c in counts]
    return allocate_cents(exact)


def grade_distribution(scores: Iterable[Any], settings: Mapping[str, Any] | None = None) -> GradeDistribution:
    """Counts and shares of the grades (rules.scoring.grade) of the given total scores."""
    order = grade_order(settings)
    counts = dict.fromkeys((key for key, _ in order), 0)
    n = 0
    for score in scores:
        key, _label = grade(score, settings)
        counts[key] += 1
        n += 1
    shares = percent_shares([counts[key] for key, _ in order])
    return GradeDistribution(
        total=n,
        grades=tuple(GradeCount(key, label, counts[key], share) for (key, label), share in zip(order, shares, strict=True)),
    )


# ------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class IndicatorStatistics:
    """二级/三级/定量 counts and 量化率 of one scope's declarations."""

    scope: str
    units: int  # units with at least one declaration of this scope
    declarations: int  # department declarations, or projects
    level2: int
    level3: int
    quantitative: int
    pooled_quantified_ratio: Decimal | None  # Σ定量 ÷ Σ三级
    mean_unit_quantified_ratio: Decimal | None  # mean of the units' ratios
    mean_project_quantified_ratio: Decimal | None  # mean of the declarations' ratios
    min_project_quantified_ratio: Decimal | None  # the lowest declaration's ratio

    @property
    def qualitative(self) -> int:
        return self.level3 - self.quantitative


@dataclass(frozen=True)
class ScoreStatistics:
    """Self-evaluations of one scope: how many, their average total, their grades."""

    scope: str
    units: int
    count: int
    average_score: Decimal | None  # unrounded mean of the totals
    grades: GradeDistribution


@dataclass(frozen=True)
class ReviewStatistics:
    count: int
    average_score: Decimal | None


@dataclass(frozen=True)
class DisclosureStatistics:
    """绩效信息公开: units required to publish, those that did, and those excluded with why."""

    units: int  # units whose data says whether they published
    required: int
    published: int
    excluded: tuple[tuple[str, str], ...]  # (unit name, reason)
    unknown: int = 0  # units without disclosure data: nothing is stated of them

    @property
    def coverage(self) -> Decimal | None:
        return ratio(self.published, self.required)


@dataclass(frozen=True)
class Statistics:
    units: int  # units in the data
    units_covered: int  # units with at least one record of any kind
    projects: int  # distinct projects (per unit) across declarations, monitoring and evaluations
    indicators: Mapping[str, IndicatorStatistics]  # by scope, only scopes present
    monitoring: Summary | None
    self_evaluations: Mapping[str, ScoreStatistics]  # by scope, only scopes present
    reviews: ReviewStatistics
    disclosure: DisclosureStatistics
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Display values, each rounded once: ratios as percentages with 2 places, scores with 2
        places, money with 2 places; counts as integers."""
        return {
            "units": self.units,
            "units_covered": self.units_covered,
            "projects": self.projects,
            "indicators": {
                scope: {
                    "units": s.units,
                    "declarations": s.declarations,
                    "level2": s.level2,
                    "level3": s.level3,
                    "quantitative": s.quantitative,
                    "pooled_quantified_ratio": percent(s.pooled_quantified_ratio),
                    "mean_unit_quantified_ratio": percent(s.mean_unit_quantified_ratio),
                    "mean_project_quantified_ratio": percent(s.mean_project_quantified_ratio),
                    "min_project_quantified_ratio": percent(s.min_project_quantified_ratio),
                }
                for scope, s in self.indicators.items()
            },
            "monitoring": self.monitoring.as_rows() if self.monitoring else [],
            "self_evaluations": {
                scope: {
                    "units": s.units,
                    "count": s.count,
                    "average_score": None if s.average_score is None else quantize(s.average_score),
                    "grades": [
                        {"key": g.key, "label": g.label, "count": g.count, "share": g.share} for g in s.grades.grades
                    ],
                }
                for scope, s in self.self_evaluations.items()
            },
            "reviews": {
                "count": self.reviews.count,
                "average_score": None if self.reviews.average_score is None else quantize(self.reviews.average_score),
            },
            "disclosure": {
                "units": self.disclosure.units,
                "required": self.disclosure.required,
                "published": self.disclosure.published,
                "coverage": percent(self.disclosure.coverage),
                "excluded": [{"unit": u, "reason": r} for u, r in self.disclosure.excluded],
                "unknown": self.disclosure.unknown,
            },
        }


# ------------------------------------------------------------------------------ checks


def _score_of(record: Mapping[str, Any]) -> Any:
    if "score" in record:
        return record.get("score")
    scoring = record.get("scoring")
    return scoring.get("total") if isinstance(scoring, Mapping) else None


def check_units(units: Sequence[Mapping[str, Any]], prefix: str = "units") -> Errors:
    """Field errors of the input: every unit named, scores numbers in 0–100, disclosure flags
    booleans, an excluded unit with its reason."""
    errors: Errors = {}
    if not isinstance(units, Sequence) or isinstance(units, str | bytes):
        return {prefix: ["格式不对，应为单位列表。"]}
    seen: dict[str, int] = {}
    for i, unit in enumerate(units):
        path = f"{prefix}.{i}"
        if not isinstance(unit, Mapping):
            errors.setdefault(path, []).append("格式不对，应为一组字段。")
            continue
        key, _name = unit_identity(unit.get("unit"))
        if not key:
            errors.setdefault(f"{path}.unit", []).append("必填。")
        elif key in seen:
            errors.setdefault(f"{path}.unit", []).append(f"与第{seen[key] + 1}个单位重复。")
        else:
            seen[key] = i
        for list_name in ("self_evaluations", "reviews"):
            for j, record in enumerate(unit.get(list_name) or []):
                score = _score_of(record) if isinstance(record, Mapping) else None
                number = _number(score)
                where = f"{path}.{list_name}.{j}.score"
                if _blank(score):
                    errors.setdefault(where, []).append("必填。")
                elif number is None:
                    errors.setdefault(where, []).append("请输入数字。")
                elif not ZERO <= number <= HUNDRED:
                    errors.setdefault(where, []).append("得分应在0至100分之间。")
        disclosure = unit.get("disclosure")
        if disclosure is not None:
            if not isinstance(disclosure, Mapping):
                errors.setdefault(f"{path}.disclosure", []).append("格式不对，应为一组字段。")
                continue
            for flag in ("required", "published"):
                if flag in disclosure and not isinstance(disclosure[flag], bool):
                    errors.setdefault(f"{path}.disclosure.{flag}", []).append("请选择“是”或“否”。")
            if disclosure.get("required") is False and _blank(disclosure.get("reason")):
                errors.setdefault(f"{path}.disclosure.reason", []).append("不公开的单位请说明原因（如涉密）。")
    return errors


# ------------------------------------------------------------------------------ parts


def indicator_statistics(units: Sequence[Mapping[str, Any]], scope: str) -> IndicatorStatistics | None:
    """Counts and 量化率 of the declarations of `scope`; None when there is none."""
    level2 = level3 = quantitative = declarations = 0
    unit_ratios: list[Decimal] = []
    project_ratios: list[Decimal] = []
    for unit in units:
        unit_level3 = unit_quantitative = 0
        found = False
        for record in unit.get("declarations") or []:
            if _scope(record) != scope:
                continue
            found = True
            declarations += 1
            counts = _indicator_counts(record)
            level2 += counts.level2
            level3 += counts.level3
            quantitative += counts.quantitative
            unit_level3 += counts.level3
            unit_quantitative += counts.quantitative
            if counts.quantified_ratio is not None:
                project_ratios.append(counts.quantified_ratio)
        if found and unit_level3:  # a unit whose declarations have no indicators has no ratio
            unit_ratios.append(ratio(unit_quantitative, unit_level3))
    if not declarations:
        return None
    return IndicatorStatistics(
        scope=scope,
        units=sum(1 for u in units if any(_scope(r) == scope for r in u.get("declarations") or [])),
        declarations=declarations,
        level2=level2,
        level3=level3,
        quantitative=quantitative,
        pooled_quantified_ratio=ratio(quantitative, level3) if level3 else None,
        mean_unit_quantified_ratio=_mean(unit_ratios),
        mean_project_quantified_ratio=_mean(project_ratios),
        min_project_quantified_ratio=min(project_ratios) if project_ratios else None,
    )


def _indicator_counts(record: Mapping[str, Any]) -> IndicatorCounts:
    """A declaration's counts: as condensed() kept them, else counted from its indicators."""
    kept = record.get(COUNTS_KEY)
    if isinstance(kept, Mapping) and all(type(kept.get(k)) is int and kept[k] >= 0 for k in COUNT_FIELDS):
        return IndicatorCounts(*(kept[k] for k in COUNT_FIELDS))
    return count_indicators(indicator_rows(record))


COUNTS_KEY = "indicator_counts"
COUNT_FIELDS = ("level2", "level3", "quantitative")
# What compute reads of a record besides the parts condensed() replaces by their figures.
_KEPT = ("scope", "project_code", "project_name", "period")


def condensed(list_name: str, record: Mapping[str, Any], settings: Mapping[str, Any] | None = None) -> dict:
    """`record`, an entry of a unit's `list_name` list, with its long parts replaced by the figures
    compute derives from them: a declaration's indicators by their counts, a monitoring form's
    funds and indicators by its budget, executed amount and completion rate (monitoring_row).
    compute gives the same statistics for either form (tests/rules/test_statistics.py); the
    reader of stored documents keeps each document condensed once it is validated, so a year of
    10,000 units is not counted again for every page (bench/statistics.py). A record compute
    would refuse is kept whole, for compute to say why."""
    kept = {k: record[k] for k in _KEPT if k in record}
    if list_name == "declarations":
        counts = count_indicators(indicator_rows(record))
        return {**kept, COUNTS_KEY: {k: getattr(counts, k) for k in COUNT_FIELDS}}
    if list_name == "monitoring":
        try:
            row = monitoring_row(None, record, settings)
        except MonitoringInputError:
            return dict(record)
        return {**kept, **{k: row[k] for k in ("budget", "executed", "completion_rate", "self_evaluation_score")}}
    return dict(record)


def monitoring_row(
    unit: Mapping[str, Any] | str, record: Mapping[str, Any], settings: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """One row for rules.monitoring.summarise from a stored monitoring form: budget and executed
    from the record, or from its 项目资金 block (rules.monitoring.fund_execution); the completion
    rate as given, or computed from its indicator rows (rules.monitoring.target_completion_rate)."""
    budget, executed = record.get("budget"), record.get("executed")
    if (_blank(budget) or _blank(executed)) and isinstance(record.get("funds"), Mapping):
        line = fund_execution(record["funds"], settings)["annual_total"]
        budget, executed = line.budget, line.executed
    completion = record.get("completion_rate")
    if _blank(completion) and record.get("indicators"):
        completion = target_completion_rate(record["indicators"], settings)
    return {
        "unit": unit,
        "project": _project_key(record) or "",
        "scope": record.get("scope") or DEFAULT_MONITORING_SCOPE,
        "budget": budget,
        "executed": executed,
        "completion_rate": completion,
        "self_evaluation_score": record.get("self_evaluation_score"),
    }


def _monitoring(units: Sequence[Mapping[str, Any]], settings) -> Summary | None:
    rows = []
    errors: Errors = {}
    for i, unit in enumerate(units):
        # The self-evaluation score of a project is taken from its self-evaluation when the
        # monitoring form does not carry it: seed 004 states 绩效自评平均得分 per monitoring scope.
        scores = {
            _project_key(r): _score_of(r)
            for r in unit.get("self_evaluations") or []
            if _scope(r) == PROJECT and _project_key(r)
        }
        for j, record in enumerate(unit.get("monitoring") or []):
            try:
                row = monitoring_row(unit.get("unit"), record, settings)
            except MonitoringInputError as exc:
                for path, messages in exc.errors.items():
                    errors.setdefault(f"units.{i}.monitoring.{j}.{path}", []).extend(messages)
                continue
            if _blank(row["self_evaluation_score"]) and row["project"] in scores:
                row["self_evaluation_score"] = scores[row["project"]]
            rows.append(row)
    if errors:
        raise StatisticsInputError(errors)
    if not rows:
        return None
    try:
        return summarise(rows, "scope", settings)
    except MonitoringInputError as exc:
        raise StatisticsInputError({f"monitoring.{k}": v for k, v in exc.errors.items()}) from None


def score_statistics(
    units: Sequence[Mapping[str, Any]], scope: str, settings: Mapping[str, Any] | None = None
) -> ScoreStatistics | None:
    scores: list[Decimal] = []
    unit_count = 0
    for unit in units:
        mine = [to_decimal(_score_of(r)) for r in unit.get("self_evaluations") or [] if _scope(r) == scope]
        unit_count += bool(mine)
        scores.extend(mine)
    if not scores:
        return None
    return ScoreStatistics(
        scope=scope,
        units=unit_count,
        count=len(scores),
        average_score=_mean(scores),
        grades=grade_distribution(scores, settings),
    )


def disclosure_statistics(units: Sequence[Mapping[str, Any]]) -> DisclosureStatistics:
    """A unit must publish unless its disclosure says required = false (with a reason, e.g. 涉密
    or merged into its department's publication); it published when published = true. A unit
    without a disclosure entry is unknown, never counted as not published."""
    required = published = unknown = 0
    excluded = []
    for unit in units:
        info = unit.get("disclosure")
        if info is None:
            unknown += 1
            continue
        name = unit_identity(unit.get("unit"))[1]
        if info.get("required", True) is False:
            excluded.append((name, str(info.get("reason") or "").strip()))
            continue
        required += 1
        published += bool(info.get("published"))
    return DisclosureStatistics(units=len(units) - unknown, required=required, published=published,
                                excluded=tuple(excluded), unknown=unknown)


# ------------------------------------------------------------------------------ everything


def compute(units: Sequence[Mapping[str, Any]], settings: Mapping[str, Any] | None = None) -> Statistics:
    """All statistics of the given units' records (see the module docstring for the input).

    Raises StatisticsInputError with Chinese messages per path for unusable input.
    """
    errors = check_units(units)
    if errors:
        raise StatisticsInputError(errors)
    projects: set[tuple[str, str]] = set()
    covered = 0
    for unit in units:
        key = unit_identity(unit.get("unit"))[0]
        records = [
            *(unit.get("declarations") or []),
            *(unit.get("monitoring") or []),
            *(unit.get("self_evaluations") or []),
            *(unit.get("reviews") or []),
        ]
        covered += bool(records)
        for record in records:
            project = _project_key(record)
            if project and _scope(record) == PROJECT:
                projects.add((key, project))
    indicators = {s: stats for s in SCOPES if (stats := indicator_statistics(units, s)) is not None}
    evaluations = {s: stats for s in SCOPES if (stats := score_statistics(units, s, settings)) is not None}
    review_scores = [to_decimal(_score_of(r)) for u in units for r in u.get("reviews") or []]
    return Statistics(
        units=len(units),
        units_covered=covered,
        projects=len(projects),
        indicators=indicators,
        monitoring=_monitoring(units, settings),
        self_evaluations=evaluations,
        reviews=ReviewStatistics(count=len(review_scores), average_score=_mean(review_scores)),
        disclosure=disclosure_statistics(units),
    )
