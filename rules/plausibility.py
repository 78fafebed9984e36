"""Warnings: figures that are possible but rarely right, which the clerk confirms or corrects.

An error stops a form; a warning asks. 执行数 larger than 预算数 (执行率 over 100 %) happens (a
supplementary appropriation not yet entered) but is far more often a typing slip, and an amount
that reads as 元 in a 万元 field (12805000) is almost always one. Each check here returns
`FigureWarning`s with the field path they concern; kinds attach the checks to their data
(Kind.warnings) and the pipeline refuses a submission until every warning is confirmed, with an
optional explanation the reviewer reads.

Thresholds are settings (rules/defaults/plausibility.toml), checked by `validate_settings`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from rules.formatting import money_text, percent_text
from rules.monitoring import FUND_LABELS, fund_execution
from rules.rounding import percent, ratio, to_decimal
from rules.scoring import BUDGET_ROW_LABELS
from rules.settings_files import defaults

SECTION = "plausibility"


@dataclass(frozen=True)
class FigureWarning:
    path: str  # the field the warning concerns, as in error envelopes ("budget.annual_total.executed")
    code: str  # over_budget, magnitude, rate_change
    message: str

    @property
    def key(self) -> str:
        """What a confirmation names: one warning of one field with the figures it states (a
        digest of its message), so a confirmation kept with a document does not carry over to a
        different figure: a returned document whose 执行数 changed is confirmed again."""
        digest = hashlib.sha256(self.message.encode("utf-8")).hexdigest()[:8]
        return f"{self.path}:{self.code}:{digest}"

    def as_dict(self) -> dict:
        return {"key": self.key, "path": self.path, "code": self.code, "message": self.message}


# Worded for every channel (form, API, CLI, a batch's 清单), so none tells the reader to tick a box.
MESSAGES = {
    "over_budget": "{what}执行数{executed}万元大于预算数{budget}万元（执行率{rate}）：请核对金额和单位；"
                   "如确实超预算执行，请确认并说明原因（如追加预算尚未录入）。",
    "magnitude": "“{label}”填的是{amount}{unit}（即{yi}亿元），不像本栏的金额：是否把“元”填进了“{unit}”栏？"
                 "请核对；确属此数的，予以确认。",
    "rate_change": "本期执行率{rate}与上期（{previous_period}）的{previous_rate}相差{change}个百分点：请核对本期执行数；"
                   "确认无误请说明原因。",
    "rate_fell": "本期执行率{rate}低于上期（{previous_period}）的{previous_rate}：累计执行数不应减少，请核对；"
                 "确认无误请说明原因（如资金退回）。",
}


def section(settings: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if settings is None or SECTION not in settings:
        settings = defaults()
    return settings[SECTION]


def _number(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return to_decimal(value)
    except (TypeError, ValueError, ArithmeticError):
        return None


def ceiling(kind: str, unit: str, settings: Mapping[str, Any] | None) -> Decimal:
    table = section(settings)["yuan_ceiling" if unit == "元" else "wan_yuan_ceiling"]
    return Decimal(str(table.get(kind, table["default"])))


def magnitude(amounts: Iterable[tuple[str, str, Any]], kind: str, settings: Mapping[str, Any] | None,
              unit: str = "万元") -> list[FigureWarning]:
    """A warning for each (path, label, amount) at or above the kind's ceiling for `unit`."""
    limit = ceiling(kind, unit, settings)
    out = []
    for path, label, value in amounts:
        amount = _number(value)
        if amount is None or abs(amount) < limit:
            continue
        yi = amount / (Decimal(10000) if unit == "万元" else Decimal(100_000_000))
        out.append(FigureWarning(path, "magnitude", MESSAGES["magnitude"].format(
            label=label, amount=money_text(amount), unit=unit, yi=money_text(yi))))
    return out


def over_budget(path: str, budget: Any, executed: Any, settings: Mapping[str, Any] | None,
                what: str = "") -> list[FigureWarning]:
    """执行数 > 预算数 (执行率 above the ceiling, 100 % by default) on one budget line."""
    budget_value, executed_value = _number(budget), _number(executed)
    if budget_value is None or executed_value is None:
        return []
    rate = ratio(executed_value, budget_value)
    limit = Decimal(str(section(settings)["execution"]["rate_ceiling"]))
    if rate is None:
        if executed_value <= 0:
            return []
    elif rate <= limit:
        return []
    return [FigureWarning(path, "over_budget", MESSAGES["over_budget"].format(
        what=what, executed=money_text(executed_value), budget=money_text(budget_value),
        rate=percent_text(percent(rate)) if rate is not None else "无法计算"))]


def rate_change(path: str, rate: Decimal | None, previous: Mapping[str, Any] | None,
                settings: Mapping[str, Any] | None) -> list[FigureWarning]:
    """This period's 执行率 against the previous period's {period, execution_rate} of the same
    project: lower (spending to date shrank) or further apart than the setting allows."""
    if rate is None or not previous or previous.get("execution_rate") is None:
        return []
    before = to_decimal(previous["execution_rate"])
    facts = {"rate": percent_text(percent(rate)), "previous_period": previous.get("period", "上期"),
             "previous_rate": percent_text(percent(before))}
    if rate < before:
        return [FigureWarning(path, "rate_fell", MESSAGES["rate_fell"].format(**facts))]
    change = rate - before
    if change > Decimal(str(section(settings)["execution"]["rate_change"])):
        return [FigureWarning(path, "rate_change", MESSAGES["rate_change"].format(
            change=percent_text(percent(change)).rstrip("%"), **facts))]
    return []


def validate_settings(values: Mapping[str, Any]) -> list[str]:
    """Chinese messages for a bad plausibility section (empty when it is fine)."""
    problems = []

    def positive(where: str, value: Any) -> None:
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            problems.append(f"{where}应为数字（现为“{value}”）。")
            return
        if not number.is_finite() or number <= 0:
            problems.append(f"{where}应为大于0的数字（现为“{value}”）。")

    for table in ("wan_yuan_ceiling", "yuan_ceiling"):
        entries = values.get(table)
        if not isinstance(entries, Mapping) or "default" not in entries:
            problems.append(f"{table}应为一组金额上限，且须有default。")
            continue
        for key, value in entries.items():
            positive(f"{table}.{key}", value)
    execution = values.get("execution")
    if not isinstance(execution, Mapping):
        problems.append("execution应为一组设置（rate_ceiling、rate_change）。")
    else:
        for key in ("rate_ceiling", "rate_change"):
            positive(f"execution.{key}", execution.get(key))
    return problems


# ------------------------------------------------------------------------------ per form
# The checks above over the shapes of the forms (validated data, as rules.scoring and
# rules.monitoring read them).


def self_evaluation(data: Mapping[str, Any], settings: Mapping[str, Any] | None) -> list[FigureWarning]:
    """自评表: 全年执行数 over 全年预算数 on each budget row; a department's task over its budget."""
    out = []
    for name, label in BUDGET_ROW_LABELS.items():
        row = (data.get("budget") or {}).get(name)
        if isinstance(row, Mapping):
            out += over_budget(f"budget.{name}.executed", row.get("adjusted_budget"), row.get("executed"),
                               settings, what=f"{label}的")
    for i, task in enumerate(data.get("tasks") or []):
        out += over_budget(f"tasks.{i}.executed", task.get("budget"), task.get("executed"), settings,
                           what=f"任务“{task.get('name', '')}”的")
    return out


def monitoring(data: Mapping[str, Any], settings: Mapping[str, Any] | None,
               previous: Mapping[str, Any] | None = None) -> list[FigureWarning]:
    """执行监控表: each fund line's 执行数 and 全年预计执行数 over its budget; the total 执行率 against
    the previous period's of the same project (`previous`: {period, execution_rate})."""
    out = []
    lines = fund_execution(data["funds"], settings)
    for name, line in lines.items():
        what = f"{FUND_LABELS.get(name, name)}的"
        out += over_budget(f"funds.{name}.executed", line.budget, line.executed, settings, what=what)
        if line.projected_executed is not None:
            out += [FigureWarning(w.path.replace(".executed", ".projected_executed"), w.code,
                                  w.message.replace("执行数", "全年预计执行数", 1))
                    for w in over_budget(f"funds.{name}.executed", line.budget, line.projected_executed,
                                         settings, what=what)]
    total = lines.get("annual_total")
    if total is not None:
        out += rate_change("funds.annual_total.executed", total.execution_rate, previous, settings)
    return out


def summary_rows(rows: Iterable[Mapping[str, Any]], settings: Mapping[str, Any] | None,
                 prefix: str = "rows") -> list[FigureWarning]:
    """汇总表: each row's 执行数 over its 预算数."""
    out = []
    for i, row in enumerate(rows):
        unit = row.get("unit") or {}
        what = f"“{unit.get('name', '') if isinstance(unit, Mapping) else unit}{row.get('project', '')}”的"
        out += over_budget(f"{prefix}.{i}.executed", row.get("budget"), row.get("executed"), settings, what=what)
    return out


def evaluation_budget(data: Mapping[str, Any], settings: Mapping[str, Any] | None) -> list[FigureWarning]:
    """绩效评价报告: 执行数 over 预算数 of the evaluated budget."""
    budget = data.get("budget") or {}
    return over_budget("budget.executed", budget.get("adjusted_budget"), budget.get("executed"), settings)
