from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from rules.monitoring import (
    Execution,
    MonitoringInputError,
    check_funds,
    check_monitoring_indicators,
    deviation,
    execution_rate,
    fund_execution,
    indicator_completion,
    summarise,
    summary_text,
    target_completion_rate,
)
from rules.rounding import percent, ratio
from rules.settings import SettingsError, load_settings

# ------------------------------------------------------------------ rates and deviation


@pytest.mark.parametrize(
    ("budget", "executed", "completion", "rate_pct", "dev"),
    [
        # Acceptance case: 31423.98 / 42948.32 = 0.73166960… → 73.17 %; 82.76 − 73.16696 = 9.59.
        ("42948.32", "31423.98", "0.8276", D("73.17"), D("9.59")),
        ("35237.04", "26224.43", "0.8675", D("74.42"), D("12.33")),
        ("100", "50", "0.4", D("50.00"), D("-10.00")),
        # Rounding the rate first would give 33.33 and 66.67 − 33.33 = 33.34; unrounded is 33.33.
        ("3", "1", "0.666666", D("33.33"), D("33.33")),
        ("0", "0", "0.5", None, None),
        ("0", "12.00", "0.5", None, None),
        ("10", "10.005", "1", D("100.05"), D("-0.05")),
    ],
)
def test_rates_and_deviation(budget, executed, completion, rate_pct, dev):
    rate = execution_rate(D(executed), D(budget))
    assert percent(rate) == rate_pct
    assert deviation(D(completion), rate) == dev


def test_acceptance_deviation_uses_unrounded_execution_rate():
    rate = execution_rate("31423.98", "42948.32")
    assert D("0.73166") < rate < D("0.73167")
    assert deviation(D("0.8276"), rate) == D("9.59")
    assert deviation(None, rate) is None


FUNDS = {
    "annual_total": {
        "initial_budget": "100.00",
        "executed": "40.00",
        "projected_executed": "95.00",
    },
    "fiscal_appropriation": {
        "initial_budget": "70.00",
        "executed": "30.00",
        "projected_executed": "65.00",
    },
    "other_funds": {"initial_budget": "30.00", "executed": "10.00", "projected_executed": "30.00"},
}


def test_fund_execution_per_source():
    result = fund_execution(FUNDS)
    assert list(result) == ["annual_total", "fiscal_appropriation", "other_funds"]
    assert result["annual_total"] == Execution(D("100.00"), D("40.00"), D("95.00"))
    assert [r.execution_rate_percent for r in result.values()] == [
        D("40.00"),
        D("42.86"),
        D("33.33"),
    ]
    assert result["annual_total"].projected_execution_rate_percent == D("95.00")


def test_fund_execution_zero_budget_and_adjusted_basis():
    funds = {"annual_total": {"initial_budget": "0", "adjusted_budget": "50", "executed": "10"}}
    assert fund_execution(funds)["annual_total"].execution_rate is None
    adjusted = load_settings({"monitoring": {"budget_basis": "adjusted_budget"}})
    assert fund_execution(funds, adjusted)["annual_total"].execution_rate_percent == D("20.00")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"other_funds": {"initial_budget": "20.00", "executed": "10.00"}},
            {
                "funds.annual_total.initial_budget": [
                    "财政拨款（70.00万元）与其他资金（20.00万元）之和为90.00万元，"
                    "与年度资金总额的年初预算数100.00万元不一致。"
                ],
                "funds.annual_total.projected_executed": [
                    "财政拨款（65.00万元）与其他资金（0.00万元）之和为65.00万元，"
                    "与年度资金总额的全年预计执行数95.00万元不一致。"
                ],
            },
        ),
        (
            {
                "fiscal_appropriation": {
                    "initial_budget": "70.00",
                    "executed": "-1",
                    "projected_executed": "abc",
                }
            },
            {
                "funds.fiscal_appropriation.executed": ["不能为负数。"],
                "funds.fiscal_appropriation.projected_executed": ["请输入数字。"],
            },
        ),
        (
            {"annual_total": {"initial_budget": "100.00"}},
            {"funds.annual_total.executed": ["必填。"]},
        ),
        ({"annual_total": None}, {"funds.annual_total": ["必填。"]}),
    ],
)
def test_check_funds(changes, expected):
    funds = {**FUNDS, **changes}
    assert check_funds(funds) == expected
    with pytest.raises(MonitoringInputError) as info:
        fund_execution(funds)
    assert info.value.errors == expected


def test_check_funds_with_carryover_source():
    settings = load_settings(
        {"monitoring": {"fund_sources": ["fiscal_appropriation", "carryover"]}}
    )
    funds = {
        "annual_total": {"initial_budget": "10", "executed": "4"},
        "fiscal_appropriation": {"initial_budget": "8", "executed": "4"},
        "carryover": {"initial_budget": "2", "executed": "0"},
    }
    assert check_funds(funds, settings) == {}
    assert list(fund_execution(funds, settings)) == [
        "annual_total",
        "fiscal_appropriation",
        "carryover",
    ]


# ------------------------------------------------------------------ indicators


@pytest.mark.parametrize(
    ("row", "degree"),
    [
        ({"operator": "≥", "target_value": "100", "actual_value": "60"}, D("0.6")),
        ({"operator": ">=", "target_value": "100", "actual_value": "130"}, D("1")),
        ({"operator": "≥", "target_value": "0", "actual_value": "0"}, D("1")),
        ({"operator": "≤", "target_value": "5", "actual_value": "4"}, D("1")),
        ({"operator": "≤", "target_value": "5", "actual_value": "10"}, D("0.5")),
        ({"operator": "=", "target_value": "12", "actual_value": "6"}, D("0.5")),
        ({"operator": "=", "target_value": "12", "actual_value": "24"}, D("0.5")),
        ({"operator": "=", "target_value": "12", "actual_value": "12"}, D("1")),
        ({"operator": "定性", "completion_likelihood": "有可能"}, D("0.5")),
        ({"operator": "定性", "completion_likelihood": "确定能"}, D("1")),
        ({"operator": "定性", "completion_likelihood": "不可能"}, D("0")),
        # No measured value yet: judged by its likelihood like a qualitative indicator.
        ({"operator": "≥", "target_value": "90", "completion_likelihood": "有可能"}, D("0.5")),
    ],
)
def test_indicator_completion(row, degree):
    assert indicator_completion(row) == degree


INDICATORS = [
    {
        "operator": "≥",
        "target_value": "100",
        "actual_value": "60",
        "weight": "30",
        "completion_likelihood": "确定能",
    },
    {
        "operator": "定性",
        "completion_likelihood": "有可能",
        "weight": "10",
        "deviation_causes": ["funding"],
        "improvement": "加快资金拨付",
    },
    {
        "operator": "≤",
        "target_value": "5",
        "actual_value": "2",
        "weight": "10",
        "completion_likelihood": "确定能",
    },
]


def test_target_completion_rate_methods():
    # Weighted: (30×0.6 + 10×0.5 + 10×1) / 50 = 0.66
    assert target_completion_rate(INDICATORS) == D("0.66")
    unweighted = load_settings({"monitoring": {"completion": {"weighted": False}}})
    assert target_completion_rate(INDICATORS, unweighted) == ratio(D("2.1"), 3)
    share = load_settings({"monitoring": {"completion": {"method": "likelihood_share"}}})
    assert target_completion_rate(INDICATORS, share) == ratio(2, 3)
    projected = load_settings({"monitoring": {"completion": {"basis": "projected_value"}}})
    rows = [{**INDICATORS[0], "projected_value": "100"}, INDICATORS[1], INDICATORS[2]]
    # Row 3 has no projected value yet and counts as 确定能 → 1.
    assert target_completion_rate(rows, projected) == D("0.9")
    assert target_completion_rate([]) is None


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"completion_likelihood": "确定能"}, {}),
        ({"completion_likelihood": "certain"}, {}),
        ({"completion_likelihood": 1}, {}),
        (
            {
                "completion_likelihood": "有可能",
                "deviation_causes": ["经费保障"],
                "improvement": "调整进度",
            },
            {},
        ),
        (
            {
                "completion_likelihood": "不可能",
                "deviation_causes": {"staffing": "人员不足"},
                "improvement": "增派人员",
            },
            {},
        ),
        (
            {"completion_likelihood": "有可能"},
            {
                "indicators.0.deviation_causes": [
                    "完成目标可能性为“有可能”时，请至少选择一项偏差原因。"
                ],
                "indicators.0.improvement": [
                    "完成目标可能性为“有可能”时，请填写纠偏（改进）措施。"
                ],
            },
        ),
        (
            {
                "completion_likelihood": "完全不可能",
                "deviation_causes": {"funding": ""},
                "improvement": "x",
            },
            {
                "indicators.0.deviation_causes": [
                    "完成目标可能性为“完全不可能”时，请至少选择一项偏差原因。"
                ]
            },
        ),
        (
            {"completion_likelihood": "有可能", "deviation_causes": ["天气"], "improvement": "x"},
            {
                "indicators.0.deviation_causes": [
                    "不认识的偏差原因“天气”，应为经费保障、制度保障、人员保障、硬件条件保障或其他。"
                ]
            },
        ),
        (
            {"completion_likelihood": "有可能", "deviation_causes": "其他", "improvement": "x"},
            {"indicators.0.deviation_reason": ["偏差原因选择“其他”时，请说明具体原因。"]},
        ),
        ({}, {"indicators.0.completion_likelihood": ["必填。"]}),
        (
            {"completion_likelihood": "大概"},
            {"indicators.0.completion_likelihood": ["应为“确定能”“有可能”或“完全不可能”。"]},
        ),
        (
            {"completion_likelihood": "确定能", "operator": "≥", "target_value": "≥95%"},
            {"indicators.0.target_value": ["定量指标的年度指标值请输入数字。"]},
        ),
        (
            {"completion_likelihood": "确定能", "operator": "约等于"},
            {"indicators.0.operator": ["应为≥、≤、=或定性。"]},
        ),
    ],
)
def test_check_monitoring_indicators(row, expected):
    assert check_monitoring_indicators([row]) == expected


def test_check_monitoring_indicators_paths_use_row_index():
    rows = [{"completion_likelihood": "确定能"}] * 2 + [
        {"completion_likelihood": "有可能", "improvement": "x"}
    ]
    assert list(check_monitoring_indicators(rows)) == ["indicators.2.deviation_causes"]
    with pytest.raises(MonitoringInputError):
        target_completion_rate(rows)


# ------------------------------------------------------------------ summaries


def row(unit, project, scope, budget, executed, completion=None, score=None):
    r = {
        "unit": {"code": unit, "name": f"单位{unit}"},
        "project": project,
        "scope": scope,
        "budget": D(budget),
        "executed": D(executed),
    }
    if completion is not None:
        r["completion_rate"] = D(completion)
    if score is not None:
        r["self_evaluation_score"] = D(score)
    return r


ROWS = [
    row("001", "办公楼维修", "部门预算项目", "100.00", "60.00", "0.80", "90"),
    row("001", "信息化建设", "部门预算项目", "300.00", "240.00", "0.90", "95"),
    row(
        "002", "办公楼维修", "部门预算项目", "100.00", "40.00", "0.50", "80"
    ),  # same name, other unit
    row("002", "办公楼维修", "部门预算项目", "20.00", "10.00", "0.50"),  # same project again
    row("002", "乡村振兴补助", "专项资金", "500.00", "250.00", "0.60", "88.5"),
    row("003", "水利工程", "专项资金", "0.00", "0.00"),
]


def test_summarise_counts_totals_and_rates():
    summary = summarise(ROWS)
    dept, special = summary.groups
    assert (dept.key, dept.units, dept.projects) == ("部门预算项目", 2, 3)
    assert (special.key, special.units, special.projects) == ("专项资金", 2, 2)
    assert (summary.overall.units, summary.overall.projects) == (3, 5)
    assert dept.budget == D("520.00") and dept.executed == D("350.00")
    # Budget-weighted: (100×.8 + 300×.9 + 100×.5 + 20×.5) / 520 = 410/520
    assert dept.target_completion_rate == ratio(410, 520)
    assert dept.as_row() == {
        "key": "部门预算项目",
        "label": "部门预算项目",
        "units": 2,
        "projects": 3,
        "budget": D("520.00"),
        "executed": D("350.00"),
        "execution_rate": D("67.31"),
        "target_completion_rate": D("78.85"),
        "deviation": D("11.54"),
        "average_score": D("88.33"),
    }
    assert special.as_row()["average_score"] == D("88.50")
    assert summary.overall.as_row()["execution_rate"] == D("58.82")  # 600 / 1020
    assert len(summary.as_rows()) == 3


def test_summarise_plain_mean_completion_and_group_by_unit():
    mean = load_settings({"monitoring": {"summary": {"completion_weighting": "mean"}}})
    dept = summarise(ROWS, settings=mean).groups[0]
    assert dept.target_completion_rate == ratio(D("2.70"), 4)
    by_unit = summarise(ROWS, group_by="unit")
    assert [(g.key, g.label, g.projects) for g in by_unit.groups] == [
        ("001", "单位001", 2),
        ("002", "单位002", 2),
        ("003", "单位003", 1),
    ]


def test_summarise_refuses_bad_rows():
    bad = [
        {
            "unit": "",
            "project": "p",
            "scope": "专项资金",
            "budget": "-1",
            "executed": "x",
            "completion_rate": "82.76",
            "self_evaluation_score": "101",
        }
    ]
    with pytest.raises(MonitoringInputError) as info:
        summarise(bad)
    assert info.value.errors == {
        "rows.0.unit": ["必填。"],
        "rows.0.budget": ["不能为负数。"],
        "rows.0.executed": ["请输入数字。"],
        "rows.0.completion_rate": ["应为0至1之间的比率（如0.8276表示82.76%）。"],
        "rows.0.self_evaluation_score": ["应在0至100分之间。"],
    }


def test_summary_text_exact():
    rows = [
        row("001", "办公楼维修", "部门预算项目", "42948.32", "31423.98", "0.8276", "90.34"),
        row("002", "乡村振兴补助", "专项资金", "1000.00", "500.00"),
    ]
    text = summary_text(summarise(rows), 2024, "1至6月")
    assert text == (
        "截至2024年6月，纳入绩效运行监控的部门预算项目覆盖1家单位、1个项目，"
        "预算资金总额42,948.32万元，已执行31,423.98万元，执行率73.17%，"
        "绩效目标整体完成率82.76%，偏差值9.59个百分点，绩效自评平均得分90.34分。"
        "同期纳入监控的专项资金覆盖1家单位、1个项目，预算资金总额1,000.00万元，"
        "已执行500.00万元，执行率50.00%。"
        "以上合计覆盖2家单位、2个项目，预算资金总额43,948.32万元，已执行31,923.98万元，"
        "执行率72.64%，绩效目标整体完成率82.76%，偏差值10.12个百分点，绩效自评平均得分90.34分。"
    )


def test_summary_text_single_group_and_zero_budget():
    rows = [row("001", "p", "部门预算项目", "0.00", "0.00")]
    assert summary_text(summarise(rows), 2023, "1-9月") == (
        "截至2023年9月，纳入绩效运行监控的部门预算项目覆盖1家单位、1个项目，"
        "预算资金总额0.00万元，已执行0.00万元。"
    )


# ------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"budget_basis": "final"}, "budget_basis：应为 initial_budget 或 adjusted_budget。"),
        (
            {"fund_sources": ["grants"]},
            "fund_sources：只能列出 fiscal_appropriation、other_funds、carryover。",
        ),
        (
            {"completion": {"method": "vote"}},
            "completion.method：应为 indicator_mean 或 likelihood_share。",
        ),
        (
            {"completion": {"qualitative": {"possible": 0.5}}},
            "completion.qualitative.possible：“有可能”的完成程度应为0至1之间的数"
            '（小数请加引号，如 "0.5"）。',
        ),
        (
            {"summary": {"completion_weighting": "score"}},
            "summary.completion_weighting：应为 budget 或 mean。",
        ),
    ],
)
def test_monitoring_settings_refused(override, message):
    with pytest.raises(SettingsError) as info:
        load_settings({"monitoring": override})
    assert message in info.value.messages["monitoring"]


# ------------------------------------------------------------------ properties

money = st.decimals(min_value=0, max_value=10**8, places=2, allow_nan=False, allow_infinity=False)
rate = st.decimals(min_value=0, max_value=1, places=4, allow_nan=False, allow_infinity=False)
random_rows = st.lists(
    st.builds(
        lambda unit, project, scope, budget, executed, completion, score: {
            "unit": {"code": unit, "name": unit},
            "project": project,
            "scope": scope,
            "budget": budget,
            "executed": executed,
            "completion_rate": completion,
            "self_evaluation_score": score,
        },
        st.sampled_from(["A", "B", "C", "D"]),
        st.sampled_from(["p1", "p2", "p3"]),
        st.sampled_from(["部门预算项目", "专项资金", "政府性基金"]),
        money,
        money,
        st.none() | rate,
        st.none() | st.decimals(min_value=0, max_value=100, places=2),
    ),
    min_size=1,
    max_size=30,
)


@hsettings(max_examples=150, deadline=None)
@given(random_rows)
def test_summary_totals_are_sums_of_items(rows):
    summary = summarise(rows)
    assert (
        sum(g.budget for g in summary.groups)
        == summary.overall.budget
        == sum(r["budget"] for r in rows)
    )
    assert (
        sum(g.executed for g in summary.groups)
        == summary.overall.executed
        == sum(r["executed"] for r in rows)
    )
    for g in summary.groups:
        members = [r for r in rows if r["scope"] == g.key]
        assert g.budget == sum(r["budget"] for r in members)
        assert g.executed == sum(r["executed"] for r in members)
        # The group's rate is recomputed from its totals, never averaged from the projects.
        assert g.execution_rate == execution_rate(g.executed, g.budget)
        assert g.as_row()["execution_rate"] == percent(ratio(g.executed, g.budget))
        assert g.units == len({r["unit"]["code"] for r in members})
        assert g.projects == len({(r["unit"]["code"], r["project"]) for r in members})
    assert summary.overall.units == len({r["unit"]["code"] for r in rows})
    assert summary.overall.projects <= sum(g.projects for g in summary.groups)


@given(money.filter(lambda b: b > 0), money, rate)
def test_deviation_rounds_once_from_unrounded_rates(budget, executed, completion):
    exact = (completion - executed / budget) * 100
    assert abs(deviation(completion, execution_rate(executed, budget)) - exact) <= D("0.005")
