from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from rules.public_funds import (
    PublicFundsInputError,
    allocate_cents,
    assess,
    payout_rate,
)
from rules.rounding import money
from rules.settings import SettingsError, load_settings


def rule(name, **extra):
    return load_settings({"public_funds": {"rule": name, **extra}})


@pytest.mark.parametrize(
    ("name", "score", "rate"),
    [
        ("proportional", "87.5", D("0.875")),
        ("proportional", "0", D("0")),
        ("proportional", "100", D("1")),
        ("tiered", "95", D("1")),
        ("tiered", "90", D("1")),
        ("tiered", "89.99", D("0.9")),
        ("tiered", "80", D("0.9")),
        ("tiered", "79", D("0.7")),
        ("tiered", "60", D("0.7")),
        ("tiered", "59.9", D("0")),
        ("threshold", "60", D("1")),
        ("threshold", "59.99", D("0")),
    ],
)
def test_payout_rate(name, score, rate):
    assert payout_rate(score, rule(name)) == rate


def test_threshold_is_a_setting():
    assert payout_rate("70", rule("threshold", threshold_score=75)) == D("0")


def test_assess_exact_rows():
    result = assess(
        [
            {"unit": {"code": "101", "name": "甲局"}, "budget": "100000.00", "score": "87.5"},
            {"unit": {"code": "102", "name": "乙局"}, "budget": "33333.33", "score": "72.33"},
            {"unit": {"code": "103", "name": "丙所"}, "budget": "0.05", "score": "100"},
        ]
    )
    rows = [
        (u.base, u.performance, u.paid_performance, u.saved, u.total_paid) for u in result.units
    ]
    # 33333.33 × 30 % = 9999.999 and 0.05 × 30 % = 0.015: the total 40000.014 rounds to 40000.01,
    # so the one cent cut off goes to 乙局 (largest remainder, 0.9 cent); 丙所 keeps 0.01.
    assert rows == [
        (D("70000.00"), D("30000.00"), D("26250.00"), D("3750.00"), D("96250.00")),
        (D("23333.33"), D("10000.00"), D("7233.00"), D("2767.00"), D("30566.33")),
        (D("0.04"), D("0.01"), D("0.01"), D("0.00"), D("0.05")),
    ]
    t = result.totals
    assert (t.budgeted, t.base, t.performance, t.paid_performance, t.saved, t.total_paid) == (
        D("133333.38"),
        D("93333.37"),
        D("40000.01"),
        D("33483.01"),
        D("6517.00"),
        D("126816.38"),
    )
    assert result.units[0].unit == {"code": "101", "name": "甲局"}
    assert result.as_dict()["totals"]["saved"] == D("6517.00")


def test_acceptance_7835793():
    # Budgets totalling 26,119,310.00 元 carry a 30 % performance share of 7,835,793.00 元.
    units = [
        {"budget": b, "score": s}
        for b, s in [
            ("1234567.89", "91.25"),
            ("9876543.21", "84.4"),
            ("3333333.33", "66.67"),
            ("11674865.57", "79.99"),
        ]
    ]
    for name in ("proportional", "tiered", "threshold"):
        t = assess(units, rule(name)).totals
        assert t.budgeted == D("26119310.00")
        assert t.performance == D("7835793.00")
        assert t.paid_performance + t.saved == D("7835793.00")
        assert t.base + t.performance == t.budgeted


@pytest.mark.parametrize(
    ("units", "errors"),
    [
        ([], {"units": ["请至少填写一个单位。"]}),
        (
            [{"budget": "100.001", "score": "90"}],
            {"units.0.budget": ["金额以元为单位，最多保留两位小数（到分）。"]},
        ),
        (
            [{"budget": "100.00", "score": "90"}, {"budget": "-1", "score": "100.5"}],
            {
                "units.1.budget": ["公用经费预算不能为负数。"],
                "units.1.score": ["考核得分应在0至100分之间。"],
            },
        ),
        (
            [{"budget": 100.5, "score": "优"}],
            {"units.0.budget": ["请输入数字。"], "units.0.score": ["请输入数字。"]},
        ),
        (
            [{}, "x"],
            {
                "units.0.budget": ["必填。"],
                "units.0.score": ["必填。"],
                "units.1": ["格式不对，应为一组字段。"],
            },
        ),
    ],
)
def test_assess_refuses(units, errors):
    with pytest.raises(PublicFundsInputError) as info:
        assess(units)
    assert info.value.errors == errors


def test_trailing_zeros_are_not_extra_decimals():
    assert assess([{"budget": "10.500", "score": 100}]).totals.budgeted == D("10.50")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"base_percent": 60},
            "base_percent + performance_percent：基础与绩效公用经费占比之和应为100%，现为90%。",
        ),
        (
            {"base_percent": 0.7},
            'base_percent：应为0至100之间的百分数（小数请加引号，如 "72.5"）。',
        ),
        ({"rule": "lottery"}, "rule：应为 proportional、tiered 或 threshold。"),
        ({"threshold_score": 120}, "threshold_score：应为0至100之间的分数。"),
        (
            {
                "tiers": [
                    {"min_score": 60, "payout_percent": 70},
                    {"min_score": 90, "payout_percent": 100},
                    {"min_score": 0, "payout_percent": 0},
                ]
            },
            "tiers.1.min_score：档次应按分数从高到低排列，90分不低于上一档的60分。",
        ),
        (
            {
                "tiers": [
                    {"min_score": 90, "payout_percent": 80},
                    {"min_score": 0, "payout_percent": 90},
                ]
            },
            "tiers.1.payout_percent：低分档的兑现比例（90%）不能高于高分档（80%）。",
        ),
        (
            {"tiers": [{"min_score": 90, "payout_percent": 100}]},
            "tiers：最低一档的 min_score 应为0，使任何得分都有对应档次。",
        ),
        ({"tiers": []}, "tiers：请至少设置一个档次。"),
    ],
)
def test_settings_refused(override, message):
    with pytest.raises(SettingsError) as info:
        load_settings({"public_funds": override})
    assert message in info.value.messages["public_funds"]


def test_custom_shares_and_tiers():
    settings = load_settings(
        {
            "public_funds": {
                "base_percent": "72.5",
                "performance_percent": "27.5",
                "rule": "tiered",
                "tiers": [
                    {"min_score": 85, "payout_percent": 100},
                    {"min_score": 0, "payout_percent": 50},
                ],
            }
        }
    )
    row = assess([{"budget": "1000.00", "score": "84"}], settings).units[0]
    assert (row.base, row.performance, row.paid_performance, row.saved) == (
        D("725.00"),
        D("275.00"),
        D("137.50"),
        D("137.50"),
    )


@pytest.mark.parametrize(
    ("exact", "cents"),
    [
        ([D("0.333"), D("0.333"), D("0.334")], [D("0.33"), D("0.33"), D("0.34")]),
        ([D("0.005"), D("0.005")], [D("0.01"), D("0.00")]),  # total 0.01; tie → earlier row
        ([D("1"), D("2.5")], [D("1.00"), D("2.50")]),
        ([], []),
    ],
)
def test_allocate_cents(exact, cents):
    assert allocate_cents(exact) == cents


# ------------------------------------------------------------------ properties

budgets = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
scores = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
random_units = st.lists(
    st.fixed_dictionaries({"budget": budgets, "score": scores}), min_size=1, max_size=40
)


def check_invariants(result, units):
    t = result.totals
    for u in result.units:
        assert u.paid_performance + u.saved == u.performance
        assert u.base + u.performance == u.budget
        assert u.total_paid == u.base + u.paid_performance
        assert u.saved >= 0 and u.paid_performance >= 0
        for amount in (u.base, u.performance, u.paid_performance, u.saved):
            assert amount == money(amount)  # whole cents
    for field in ("budgeted", "base", "performance", "paid_performance", "saved", "total_paid"):
        column = "budget" if field == "budgeted" else field
        assert getattr(t, field) == sum(getattr(u, column) for u in result.units)
    assert t.paid_performance + t.saved == t.performance
    assert t.budgeted == sum(u["budget"] for u in units)
    assert t.performance == money(t.budgeted * D("0.3"))


@hsettings(max_examples=200, deadline=None)
@given(random_units, st.sampled_from(["proportional", "tiered", "threshold"]))
def test_paid_and_saved_add_up_exactly(units, name):
    check_invariants(assess(units, rule(name)), units)


@hsettings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=25), st.data())
def test_random_split_of_7835793(weights, data):
    # Budgets summing to 26,119,310.00 元, split at random: Σ performance is 7,835,793.00.
    total_cents = 2611931000
    cut = [total_cents * w // sum(weights) for w in weights]
    cut[-1] += total_cents - sum(cut)
    units = [{"budget": D(c).scaleb(-2), "score": data.draw(scores)} for c in cut]
    result = assess(
        units, rule(data.draw(st.sampled_from(["proportional", "tiered", "threshold"])))
    )
    check_invariants(result, units)
    assert result.totals.performance == D("7835793.00")
    assert result.totals.paid_performance + result.totals.saved == D("7835793.00")
