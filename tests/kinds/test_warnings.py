"""Warnings a clerk confirms: 执行数 over 预算数 (执行率 over 100 %), an amount that reads as 元 in
a 万元 field, a 执行率 far from last period's — over the 自评表, the monitoring forms and the 汇总表
rows. A table: (kind, what the clerk typed, the warnings as (path, code, message))."""

from __future__ import annotations

import copy

import pytest

from forms.base import FieldErrors, UnconfirmedWarnings
from kinds import pipeline
from tests.conftest import load_sample

OVER = "执行数{e}万元大于预算数{b}万元（执行率{r}）：请核对金额和单位；如确实超预算执行，请确认并说明原因（如追加预算尚未录入）。"


def setter(**paths):
    def apply(payload):
        for path, value in paths.items():
            node = payload
            *parents, last = path.split(".")
            for part in parents:
                node = node[int(part)] if part.isdigit() else node[part]
            node[int(last) if last.isdigit() else last] = value
        return payload
    return apply


CASES = [
    ("self_evaluation", "sample", setter(), []),
    ("self_evaluation", "over budget on a sub-row and the total",
     setter(**{"budget.fiscal_appropriation.executed": "900", "budget.annual_total.executed": "953.60"}),
     [("budget.annual_total.executed", "over_budget", "年度资金总额的" + OVER.format(e="953.60", b="920.00", r="103.65%")),
      ("budget.fiscal_appropriation.executed", "over_budget",
       "当年财政拨款的" + OVER.format(e="900.00", b="860.00", r="104.65%"))]),
    ("self_evaluation", "exactly the budget is no warning",
     setter(**{"budget.fiscal_appropriation.executed": "860", "budget.carryover.executed": "60",
               "budget.annual_total.executed": "920"}), []),
    ("department_self_evaluation", "a task over its budget",
     setter(**{"tasks.1.executed": "436.85"}),
     [("tasks.1.executed", "over_budget", "任务“农业技术推广”的" + OVER.format(e="436.85", b="420.00", r="104.01%"))]),
    ("department_self_evaluation", "元 typed into a 万元 task",
     setter(**{"tasks.0.budget": "18600000", "tasks.0.executed": "18124000"}),
     [("tasks.0.budget", "magnitude", "“预算数（万元）”填的是18,600,000.00万元（即1,860.00亿元），不像本栏的金额："
       "是否把“元”填进了“万元”栏？请核对；确属此数的，予以确认。"),
      ("tasks.0.executed", "magnitude", "“执行数（万元）”填的是18,124,000.00万元（即1,812.40亿元），不像本栏的金额："
       "是否把“元”填进了“万元”栏？请核对；确属此数的，予以确认。")]),
    ("monitoring", "sample", setter(), []),
    ("monitoring", "spent more than the budget to date and projected",
     setter(**{"funds.other_funds.executed": "172.20", "funds.annual_total.executed": "812.35",
               "funds.other_funds.projected_executed": "168.60", "funds.annual_total.projected_executed": "1258.60"}),
     [("funds.other_funds.executed", "over_budget", "其他资金的" + OVER.format(e="172.20", b="160.00", r="107.63%")),
      ("funds.other_funds.projected_executed", "over_budget",
       "其他资金的全年预计" + OVER.format(e="168.60", b="160.00", r="105.38%"))]),
    ("department_monitoring", "元 typed into the whole fund block",
     setter(**{"funds.annual_total.initial_budget": "86425000", "funds.annual_total.executed": "60152800",
               "funds.annual_total.projected_executed": "84200000",
               "funds.fiscal_appropriation.initial_budget": "79800000", "funds.fiscal_appropriation.executed": "56881000",
               "funds.fiscal_appropriation.projected_executed": "78000000",
               "funds.other_funds.initial_budget": "6625000", "funds.other_funds.executed": "3271800",
               "funds.other_funds.projected_executed": "6200000"}),
     [(f"funds.{line}.{field}", "magnitude", None)
      for line in ("annual_total", "fiscal_appropriation", "other_funds")
      for field in ("initial_budget", "executed", "projected_executed")]),
    ("self_evaluation_report", "the report's own 自评表 over budget",
     setter(**{"form.budget.carryover.executed": "113.60", "form.budget.annual_total.executed": "913.60"}),
     [("form.budget.carryover.executed", "over_budget", "上年结转资金的" + OVER.format(e="113.60", b="60.00", r="189.33%"))]),
    ("evaluation_report", "执行数 over 预算数", setter(**{"budget.executed": "1300"}),
     [("budget.executed", "over_budget", OVER.format(e="1,300.00", b="1,268.40", r="102.49%"))]),
    ("monitoring_summary", "sample", setter(), []),
    ("monitoring_summary", "a row over its budget, another in 元",
     setter(**{"rows.1.executed": "8500", "rows.0.budget": "126504000", "rows.0.executed": "91206600"}),
     [("rows.0.budget", "magnitude", None), ("rows.0.executed", "magnitude", None),
      ("rows.1.executed", "over_budget", "“青溪县教育局学生资助补助经费”的" + OVER.format(e="8,500.00", b="8,432.18", r="100.80%"))]),
]


@pytest.mark.parametrize("kind, what, change, expected", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_warnings(kind, what, change, expected):
    checked = pipeline.check(kind, change(copy.deepcopy(load_sample(kind))))
    got = sorted((w["path"], w["code"], w["message"]) for w in checked.warnings)
    assert [(p, c) for p, c, _ in got] == sorted((p, c) for p, c, _ in expected)
    for (_, _, message), (_, _, wanted) in zip(got, sorted(expected, key=lambda e: (e[0], e[1])), strict=True):
        if wanted is not None:
            assert message == wanted
    assert all(not w["confirmed"] for w in checked.warnings)


def test_rate_far_from_last_period():
    payload = load_sample("monitoring")  # 执行率 55.74 % at 1-6月
    previous = {"period": "1-3月", "execution_rate": "0.20"}
    (warning,) = pipeline.check("monitoring", payload, context={"previous": previous}).warnings
    assert (warning["path"], warning["code"]) == ("funds.annual_total.executed", "rate_change")
    assert warning["message"] == "本期执行率55.74%与上期（1-3月）的20.00%相差35.74个百分点：请核对本期执行数；确认无误请说明原因。"
    fell = pipeline.check("monitoring", payload, context={"previous": {"period": "1-3月", "execution_rate": "0.60"}})
    assert [w["code"] for w in fell.warnings] == ["rate_fell"]
    assert "低于上期（1-3月）的60.00%" in fell.warnings[0]["message"]
    assert pipeline.check("monitoring", payload, context={"previous": {"period": "1-3月", "execution_rate": "0.40"}}).warnings == []


def test_confirmations_clear_warnings_and_keep_the_explanation():
    payload = setter(**{"budget.fiscal_appropriation.executed": "900", "budget.annual_total.executed": "953.60"})(
        load_sample("self_evaluation"))
    with pytest.raises(UnconfirmedWarnings) as exc:
        pipeline.produce("self_evaluation", payload, "xlsx")
    assert len(exc.value.warnings) == 2
    total_key, fiscal_key = (w["key"] for w in exc.value.warnings)
    assert total_key.startswith("budget.annual_total.executed:over_budget:")
    payload["confirmations"] = {total_key: "追加预算60万元尚未录入。"}
    checked = pipeline.check("self_evaluation", payload)
    assert [(w["code"], w["confirmed"], w["explanation"]) for w in checked.warnings] == [
        ("over_budget", True, "追加预算60万元尚未录入。"), ("over_budget", False, "")]
    with pytest.raises(UnconfirmedWarnings):
        checked.require_confirmed()
    payload["confirmations"][fiscal_key] = ""
    assert pipeline.produce("self_evaluation", payload, "xlsx").content[:2] == b"PK"
    # A confirmation names the figure it confirmed: 执行数 changed since, it must be confirmed again.
    payload["budget"]["fiscal_appropriation"]["executed"] = "910"
    payload["budget"]["annual_total"]["executed"] = "963.60"
    changed = pipeline.check("self_evaluation", payload).warnings
    assert [(w["path"], w["confirmed"]) for w in changed] == [
        ("budget.annual_total.executed", False), ("budget.fiscal_appropriation.executed", False)]
    assert "963.60" in changed[0]["message"]
    payload["confirmations"] = {"x": 3}
    with pytest.raises(FieldErrors) as bad:
        pipeline.check("self_evaluation", payload)
    assert bad.value.errors == {"confirmations": ["应为一组“提示编号: 说明”（说明可以为空）。"]}
