"""Table tests of rules.result_application: adjustments, next year's budget, totals, row checks."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from rules.result_application import action_key, adjustment, apply_rows, validate_application_row


@pytest.mark.parametrize(("action", "budget", "amount", "expected"), [
    ("reduce", D("500.00"), D("50.00"), D("-50.00")),
    ("cancel", D("120.00"), None, D("-120.00")),
    ("cancel", D("120.00"), D("120.00"), D("-120.00")),
    ("priority", D("300.00"), D("30.00"), D("30.00")),
    ("priority", D("300.00"), None, D("0")),
    ("maintain", D("80.00"), None, D("0")),
])
def test_adjustment(action, budget, amount, expected):
    assert adjustment(action, budget, amount) == expected


@pytest.mark.parametrize(("value", "key"), [("调减", "reduce"), ("cancel", "cancel"), (" 优先保障 ", "priority"),
                                            ("维持", "maintain"), ("压减", None), (3, None)])
def test_action_key(value, key):
    assert action_key(value) == key


@pytest.mark.parametrize(("row", "expected"), [
    ({"action": "reduce", "current_budget": D("100"), "amount": None, "score": D(70)},
     {"amount": ["调减的项目须填写大于0的调整金额。"]}),
    ({"action": "reduce", "current_budget": D("100"), "amount": D("120"), "score": D(70)},
     {"amount": ["调减金额（120万元）不能超过本年预算数（100万元），全部取消请选择“取消”。"]}),
    ({"action": "cancel", "current_budget": D("100"), "amount": D("90"), "score": D(50)},
     {"amount": ["取消的项目调整金额应为本年预算数（100万元），可留空。"]}),
    ({"action": "maintain", "current_budget": D("100"), "amount": D("5"), "score": D(85)},
     {"amount": ["维持的项目不填写调整金额。"]}),
    ({"action": "priority", "current_budget": D("100"), "amount": D("5"), "score": D("59.99")},
     {"action": ["评价等级为“差”的项目不能优先保障。"]}),
    ({"action": "priority", "current_budget": D("100"), "amount": D("5"), "score": D("60")}, {}),
    ({"action": "reduce", "current_budget": D("100"), "amount": D("100"), "score": D(40)}, {}),
])
def test_validate_application_row(row, expected):
    assert validate_application_row(row) == expected


def test_apply_rows_totals():
    rows = [
        {"project_name": "A", "action": "reduce", "current_budget": D("310.00"), "amount": D("46.50"), "score": D("72.40")},
        {"project_name": "B", "action": "cancel", "current_budget": D("85.00"), "amount": None, "score": D("55.00")},
        {"project_name": "C", "action": "priority", "current_budget": D("640.00"), "amount": D("60.00"), "score": D("93.10")},
        {"project_name": "D", "action": "maintain", "current_budget": D("120.00"), "amount": None, "score": D("84.00")},
    ]
    result = apply_rows(rows)
    assert [(r["grade_label"], str(r["adjustment"]), str(r["next_budget"])) for r in result["rows"]] == [
        ("中", "-46.50", "263.50"), ("差", "-85.00", "0.00"), ("优", "60.00", "700.00"), ("良", "0", "120.00")]
    totals = result["totals"]
    assert str(totals["current_budget"]) == "1155.00"
    assert str(totals["cut"]) == "131.50" and str(totals["added"]) == "60.00"
    assert str(totals["adjustment"]) == "-71.50" and str(totals["next_budget"]) == "1083.50"
    assert totals["by_action"] == {"reduce": 1, "cancel": 1, "priority": 1, "maintain": 1}
    assert totals["by_grade"] == {"中": 1, "差": 1, "优": 1, "良": 1}
