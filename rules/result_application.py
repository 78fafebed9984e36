"""结果应用: how an evaluation result changes next year's budget (调减 / 取消 / 优先保障 / 维持).

Amounts are 万元, Decimal, exact (sums are not rounded; inputs already have 2 places). The grade is
taken from the score with rules.scoring.grade, so the table never shows a typed grade.

    reduce    调减      amount required, 0 < amount ≤ 本年预算数; next year = budget − amount
    cancel    取消      the whole budget goes; an amount, if given, must equal 本年预算数
    priority  优先保障  amount optional (≥ 0, an increase); not for a project graded 差
    maintain  维持      no amount
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from rules.rounding import ZERO, total
from rules.scoring import grade, points_text

ACTIONS = {"reduce": "调减", "cancel": "取消", "priority": "优先保障", "maintain": "维持"}
# A project graded 差 has shown its money is not well spent: it cannot be given priority.
NO_PRIORITY_GRADES = ("poor",)


def action_key(value: Any) -> str | None:
    """'reduce' for 'reduce' or '调减'; None when unknown."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    for key, label in ACTIONS.items():
        if text in (key, label):
            return key
    return None


def adjustment(action: str, current_budget: Decimal, amount: Decimal | None) -> Decimal:
    """Signed change to next year's budget in 万元 (negative = cut)."""
    amount = amount or ZERO
    if action == "reduce":
        return -amount
    if action == "cancel":
        return -current_budget
    if action == "priority":
        return amount
    return ZERO


def validate_application_row(row: Mapping[str, Any], settings=None) -> dict[str, list[str]]:
    """Chinese messages by field for one row (fields already cleaned by the schema; a field that
    failed its own check is absent and is not checked again here)."""
    errors: dict[str, list[str]] = {}
    action = action_key(row.get("action"))
    budget, amount = row.get("current_budget"), row.get("amount")
    if action is None or budget is None:
        return errors
    label = ACTIONS[action]
    if action == "reduce":
        if amount is None or amount <= ZERO:
            errors["amount"] = ["调减的项目须填写大于0的调整金额。"]
        elif amount > budget:
            errors["amount"] = [f"调减金额（{points_text(amount)}万元）不能超过本年预算数（{points_text(budget)}万元），"
                                "全部取消请选择“取消”。"]
    elif action == "cancel":
        if amount is not None and amount != budget:
            errors["amount"] = [f"取消的项目调整金额应为本年预算数（{points_text(budget)}万元），可留空。"]
    elif action == "maintain":
        if amount not in (None, ZERO):
            errors["amount"] = ["维持的项目不填写调整金额。"]
    if action == "priority" and row.get("score") is not None:
        key, grade_label = grade(row["score"], settings)
        if key in NO_PRIORITY_GRADES:
            errors["action"] = [f"评价等级为“{grade_label}”的项目不能{label}。"]
    return errors


def apply_rows(rows: Iterable[Mapping[str, Any]], settings=None) -> dict:
    """Each row with grade, signed adjustment and next year's budget, plus the totals."""
    out = []
    for row in rows:
        action = action_key(row["action"])
        change = adjustment(action, row["current_budget"], row.get("amount"))
        key, label = grade(row["score"], settings)
        out.append({**row, "action": action, "action_label": ACTIONS[action], "grade": key, "grade_label": label,
                    "adjustment": change, "next_budget": row["current_budget"] + change})
    totals = {
        "count": len(out),
        "current_budget": total(r["current_budget"] for r in out),
        "adjustment": total(r["adjustment"] for r in out),
        "next_budget": total(r["next_budget"] for r in out),
        "cut": -total(r["adjustment"] for r in out if r["adjustment"] < ZERO),
        "added": total(r["adjustment"] for r in out if r["adjustment"] > ZERO),
        "by_action": {k: sum(1 for r in out if r["action"] == k) for k in ACTIONS},
        "by_grade": {},
    }
    for r in out:
        totals["by_grade"][r["grade_label"]] = totals["by_grade"].get(r["grade_label"], 0) + 1
    return {"rows": out, "totals": totals}
