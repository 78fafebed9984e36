"""Table tests for rules.scoring: every expected score is written out to 2 decimals."""

from __future__ import annotations

import copy
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from rules import scoring
from rules.scoring import (
    check_qualitative,
    ex_ante_conclusion,
    execution_needs_explanation,
    execution_rate,
    execution_score,
    grade,
    indicator_score,
    needs_explanation,
    rescale,
    score_self_evaluation,
    validate_self_evaluation,
    validate_weights,
)
from rules.settings import SettingsError, load_settings


def with_scoring(**override):
    return load_settings({"scoring": override})


# --------------------------------------------------------------------------- 执行率

@pytest.mark.parametrize("executed, budget, expected", [
    ("73.17", "100", D("0.7317")),
    ("0", "100", D("0")),
    ("120", "100", D("1.2")),
    ("1", "3", D("0.3333333333333333333333333333333333333333")),  # full precision (40 digits)
    ("50", "0", None),
])
def test_execution_rate(executed, budget, expected):
    rate = execution_rate(D(executed), D(budget))
    if expected is None:
        assert rate is None
    else:
        assert rate == expected


@pytest.mark.parametrize("rate, points, expected", [
    ("0.7317", 10, "7.32"),
    ("1", 10, "10.00"),
    ("1.2", 10, "10.00"),          # capped: no bonus above 100 %
    ("3", 10, "10.00"),
    ("0.995", 10, "9.95"),
    ("0.9995", 10, "10.00"),       # 9.995 half-up
    ("0.0025", 10, "0.03"),        # 0.025 half-up (half-even would give 0.02)
    ("0.12345", 10, "1.23"),
    ("0.12355", 10, "1.24"),
    ("0", 10, "0.00"),
    ("-0.1", 10, "0.00"),
    ("0.5", 20, "10.00"),
    ("0.9", "7.5", "6.75"),
    (None, 10, "0.00"),
])
def test_execution_score(rate, points, expected):
    assert str(execution_score(None if rate is None else D(rate), points)) == expected


# --------------------------------------------------------------------------- quantitative indicators

INDICATOR_TABLE = [
    # operator, target, actual, weight, rule, expected
    # positive ≥
    ("≥", "500", "500", "10", None, "10.00"),
    ("≥", "500", "600", "10", None, "10.00"),        # over-achievement capped
    ("≥", "500", "5000", "10", None, "10.00"),
    ("≥", "500", "450", "10", None, "9.00"),
    ("≥", "500", "0", "10", None, "0.00"),
    ("≥", "500", "-20", "10", None, "0.00"),         # negative actual
    ("≥", "3", "2", "10", None, "6.67"),
    ("≥", "3", "1", "10", None, "3.33"),
    ("≥", "95", "94.5", "5", None, "4.97"),
    ("≥", "100", "80", "7.5", None, "6.00"),
    ("≥", "8", "1", "1", None, "0.13"),              # 0.125 half-up (half-even: 0.12)
    ("≥", "400", "1", "2", None, "0.01"),            # 0.005 half-up
    ("≥", "400", "1", "1", None, "0.00"),            # 0.0025
    ("≥", "100", "99.995", "10", None, "10.00"),     # 9.9995 rounds up to full weight
    ("≥", "100", "99.94", "10", None, "9.99"),
    ("≥", "500", "450", "0", None, "0.00"),          # zero weight
    # positive with zero / negative targets
    ("≥", "0", "0", "5", None, "5.00"),
    ("≥", "0", "3", "5", None, "5.00"),
    ("≥", "0", "-1", "5", None, "0.00"),
    ("≥", "-5", "-3", "10", None, "10.00"),
    ("≥", "-5", "-5", "10", None, "10.00"),
    ("≥", "-5", "-6", "10", None, "8.00"),
    ("≥", "-5", "-10", "10", None, "0.00"),
    ("≥", "-5", "-12", "10", None, "0.00"),
    # negative ≤, ratio rule
    ("≤", "100", "80", "10", "ratio", "10.00"),
    ("≤", "100", "100", "10", "ratio", "10.00"),
    ("≤", "100", "120", "10", "ratio", "8.33"),
    ("≤", "100", "200", "10", "ratio", "5.00"),
    ("≤", "100", "300", "10", "ratio", "3.33"),
    ("≤", "100", "0", "10", "ratio", "10.00"),       # actual 0 → full
    ("≤", "100", "-5", "10", "ratio", "10.00"),
    ("≤", "3", "4", "10", "ratio", "7.50"),
    ("≤", "200", "250", "5", "ratio", "4.00"),
    ("≤", "0", "0", "10", "ratio", "10.00"),
    ("≤", "0", "-1", "10", "ratio", "10.00"),
    ("≤", "0", "1", "10", "ratio", "0.00"),
    ("≤", "-5", "-3", "10", "ratio", "7.14"),        # 5 ÷ (5 + 2) × 10
    ("≤", "1", "8", "1", "ratio", "0.13"),           # 0.125 half-up
    # negative ≤, linear rule
    ("≤", "100", "80", "10", "linear", "10.00"),
    ("≤", "100", "100", "10", "linear", "10.00"),
    ("≤", "100", "120", "10", "linear", "8.00"),
    ("≤", "100", "150", "10", "linear", "5.00"),
    ("≤", "100", "199", "10", "linear", "0.10"),
    ("≤", "100", "200", "10", "linear", "0.00"),     # 0 at 2 × target
    ("≤", "100", "300", "10", "linear", "0.00"),
    ("≤", "100", "0", "10", "linear", "10.00"),
    ("≤", "3", "4", "10", "linear", "6.67"),
    ("≤", "200", "250", "5", "linear", "3.75"),
    ("≤", "200", "203", "1", "linear", "0.99"),      # 0.985 half-up (half-even: 0.98)
    ("≤", "0", "0", "10", "linear", "10.00"),
    ("≤", "0", "1", "10", "linear", "0.00"),
    ("≤", "-5", "-3", "10", "linear", "6.00"),
    ("≤", "-5", "0", "10", "linear", "0.00"),
    # equality = (scored like ≥; zero target like ≤)
    ("=", "100", "100", "10", None, "10.00"),
    ("=", "100", "120", "10", None, "10.00"),
    ("=", "100", "90", "10", None, "9.00"),
    ("=", "1", "0", "10", None, "0.00"),
    ("=", "0", "0", "10", None, "10.00"),
    ("=", "0", "-1", "10", None, "10.00"),
    ("=", "0", "1", "10", None, "0.00"),
    # accepted operator spellings
    (">=", "500", "450", "10", None, "9.00"),
    (">", "500", "450", "10", None, "9.00"),
    ("＞", "500", "450", "10", None, "9.00"),
    ("<=", "100", "200", "10", "ratio", "5.00"),
    ("<", "100", "200", "10", "linear", "0.00"),
    ("＜", "100", "120", "10", "linear", "8.00"),
    ("＝", "100", "90", "10", None, "9.00"),
    (" ≥ ", "500", "450", "10", None, "9.00"),
    ("≧", "500", "450", "10", None, "9.00"),
    ("＞＝", "500", "450", "10", None, "9.00"),
    ("≦", "100", "200", "10", "ratio", "5.00"),
    ("＜＝", "100", "200", "10", "ratio", "5.00"),
]


@pytest.mark.parametrize("operator, target, actual, weight, rule, expected", INDICATOR_TABLE)
def test_indicator_score(operator, target, actual, weight, rule, expected):
    score = indicator_score(operator, D(target), D(actual), D(weight), rule)
    assert str(score) == expected


def test_indicator_score_accepts_int_and_str():
    assert indicator_score("≥", 500, "450", 10) == D("9.00")


@pytest.mark.parametrize("settings_override, expected", [
    ({}, "8.33"),                                           # default rule is 'ratio'
    ({"indicator": {"negative_rule": "linear"}}, "8.00"),
    ({"indicator": {"negative_rule": "ratio"}}, "8.33"),
])
def test_negative_rule_from_settings(settings_override, expected):
    settings = with_scoring(**settings_override)
    assert str(indicator_score("≤", 100, 120, 10, settings=settings)) == expected
    # the section alone is accepted too
    assert str(indicator_score("≤", 100, 120, 10, settings=settings["scoring"])) == expected


def test_explicit_rule_beats_settings():
    settings = with_scoring(indicator={"negative_rule": "linear"})
    assert indicator_score("≤", 100, 120, 10, "ratio", settings=settings) == D("8.33")


@pytest.mark.parametrize("args, exc", [
    (("定性", 1, 1, 10), ValueError),
    (("≈", 1, 1, 10), ValueError),
    ((None, 1, 1, 10), ValueError),
    (("≥", 1, 1, -10), ValueError),
    (("≥", 1.5, 1, 10), TypeError),          # floats refused
    (("≥", "abc", 1, 10), ValueError),
])
def test_indicator_score_errors(args, exc):
    with pytest.raises(exc):
        indicator_score(*args)


def test_unknown_negative_rule():
    with pytest.raises(ValueError):
        indicator_score("≤", 100, 120, 10, "steep")


decimals = st.decimals(min_value=-10**6, max_value=10**6, places=2, allow_nan=False, allow_infinity=False)
weights = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)


@hsettings(max_examples=400, deadline=None)
@given(op=st.sampled_from(["≥", "≤", "="]), rule=st.sampled_from(["ratio", "linear"]),
       target=decimals, actual=decimals, weight=weights)
def test_score_always_between_zero_and_weight(op, rule, target, actual, weight):
    score = indicator_score(op, target, actual, weight, rule)
    assert D(0) <= score <= weight
    assert score == score.quantize(D("0.01"))


@hsettings(max_examples=300, deadline=None)
@given(target=decimals, a=decimals, b=decimals, weight=weights, rule=st.sampled_from(["ratio", "linear"]))
def test_scores_are_monotonic(target, a, b, weight, rule):
    low, high = sorted((a, b))
    # more is better for ≥, less is better for ≤
    assert indicator_score("≥", target, low, weight) <= indicator_score("≥", target, high, weight)
    assert indicator_score("≤", target, low, weight, rule) >= indicator_score("≤", target, high, weight, rule)


@hsettings(max_examples=200, deadline=None)
@given(rate=st.decimals(min_value=-5, max_value=5, allow_nan=False, allow_infinity=False), points=weights)
def test_execution_score_within_points(rate, points):
    assert D(0) <= execution_score(rate, points) <= points


# --------------------------------------------------------------------------- qualitative bands

@pytest.mark.parametrize("band, score, weight, ok", [
    ("achieved", "10", "10", True),
    ("achieved", "8", "10", True),
    ("achieved", "7.99", "10", False),
    ("achieved", "10.01", "10", False),
    ("partial", "6", "10", True),
    ("partial", "7.99", "10", True),
    ("partial", "8", "10", False),
    ("partial", "5.99", "10", False),
    ("not_achieved", "0", "10", True),
    ("not_achieved", "5.99", "10", True),
    ("not_achieved", "6", "10", False),
    ("not_achieved", "-0.01", "10", False),
    ("达成年度指标", "9", "10", True),
    ("部分达成年度指标并具有一定效果", "9", "10", False),
    ("未达成年度指标且效果较差", "2", "10", True),
    ("partial", "3", "5", True),
    ("partial", "4", "5", False),
    ("achieved", "5.6", "7", True),
    ("achieved", "5.59", "7", False),
    ("achieved", "16", "20", True),
    ("not_achieved", "11.99", "20", True),
])
def test_check_qualitative(band, score, weight, ok):
    message = check_qualitative(band, D(score), D(weight))
    assert (message is None) is ok
    if not ok:
        assert "不在所选档次" in message


@pytest.mark.parametrize("band, score, weight, expected", [
    ("partial", "8", "10",
     "得分8分不在所选档次“部分达成年度指标并具有一定效果”的范围内，应为6分（含）至8分（不含）"),
    ("achieved", "7", "20", "得分7分不在所选档次“达成年度指标”的范围内，应为16分（含）至20分（含）"),
    ("not_achieved", "3.5", "5",
     "得分3.5分不在所选档次“未达成年度指标且效果较差”的范围内，应为0分（含）至3分（不含）"),
])
def test_check_qualitative_message(band, score, weight, expected):
    assert check_qualitative(band, D(score), D(weight)) == expected


@pytest.mark.parametrize("band", ["great", "", None])
def test_check_qualitative_unknown_band(band):
    message = check_qualitative(band, D(5), D(10))
    assert "无效" in message and "达成年度指标" in message


def test_bands_are_settings():
    settings = with_scoring(qualitative={"achieved": {"min_percent": 90}, "partial": {"max_percent": 90}})
    assert check_qualitative("achieved", D("8.5"), D(10), settings) is not None
    assert check_qualitative("partial", D("8.5"), D(10), settings) is None


@pytest.mark.parametrize("score, weight, expected", [
    ("9", "10", "achieved"), ("8", "10", "achieved"), ("7", "10", "partial"),
    ("0", "10", "not_achieved"), ("11", "10", None), ("-1", "10", None),
])
def test_band_for(score, weight, expected):
    band = scoring.band_for(D(score), D(weight))
    assert (band.key if band else None) == expected


# --------------------------------------------------------------------------- rescaling

@pytest.mark.parametrize("pairs, expected_weights, expected_scores, expected_total", [
    # nothing N/A: unchanged
    ([("8", "10"), ("40", "50"), ("25", "30"), ("9", "10")],
     ["10.00", "50.00", "30.00", "10.00"], ["8.00", "40.00", "25.00", "9.00"], "82.00"),
    # the 30-point row N/A: 70 points left, ×100/70
    ([("8", "10"), (None, "30"), ("48", "60")],
     ["14.29", None, "85.71"], ["11.43", None, "68.57"], "80.00"),
    # one row left
    ([(None, "50"), ("3", "10")], [None, "100.00"], [None, "30.00"], "30.00"),
    # the total is rounded once from exact values: rows 22.22 × 3 = 66.66, total 66.67
    ([("2", "3"), ("2", "3"), ("2", "3"), (None, "91")],
     ["33.33", "33.33", "33.33", None], ["22.22", "22.22", "22.22", None], "66.67"),
    # zero-weight applicable rows are fine while some weight remains
    ([("0", "0"), ("5", "10"), (None, "10")], ["0.00", "100.00", None], ["0.00", "50.00", None], "50.00"),
])
def test_rescale(pairs, expected_weights, expected_scores, expected_total):
    result = rescale([(None if s is None else D(s), D(w)) for s, w in pairs])
    assert [None if w is None else str(w) for w in result.weights] == expected_weights
    assert [None if s is None else str(s) for s in result.scores] == expected_scores
    assert str(result.total) == expected_total


def test_rescale_factor_and_target():
    result = rescale([(D(5), D(10)), (None, D(10))], target=20)
    assert result.factor == D(2) and result.applicable_weight == D(10)
    assert result.total == D("10.00")


@pytest.mark.parametrize("pairs", [[(None, D(10)), (None, D(90))], [(D(0), D(0))], []])
def test_rescale_nothing_applicable(pairs):
    with pytest.raises(ValueError):
        rescale(pairs)


# --------------------------------------------------------------------------- weights

@pytest.mark.parametrize("weights, expected", [
    ({"execution": 10, "output": 50, "benefit": 30, "satisfaction": 10}, []),
    ({"execution": 10, "output": 45, "benefit": 30, "satisfaction": 10}, ["权重合计应为100分，实际为95分"]),
    ([10, 50, 30, 15], ["权重合计应为100分，实际为105分"]),
    (["33.33", "33.33", "33.34"], []),
    (["33.33", "33.33", "33.33"], ["权重合计应为100分，实际为99.99分"]),
    ([D("12.5"), D("87.5")], []),
    ({"execution": 10, "output": -10, "benefit": 90, "satisfaction": 10}, ["“产出指标”的权重不能为负数（-10分）"]),
    ({"output": "abc", "benefit": 100}, ["“产出指标”的权重不是数值：'abc'"]),
    ({"cost": 10, "output": 40, "benefit": 30, "satisfaction": 10, "execution": 10}, []),
    ({}, ["权重合计应为100分，实际为0分"]),
])
def test_validate_weights(weights, expected):
    assert validate_weights(weights) == expected


def test_default_weights_are_10_50_30_10():
    weights = load_settings()["scoring"]["weights"]
    assert dict(weights) == {"execution": 10, "output": 50, "benefit": 30, "satisfaction": 10}


# --------------------------------------------------------------------------- grades and conclusions

@pytest.mark.parametrize("total, expected", [
    ("100", ("excellent", "优")),
    ("90", ("excellent", "优")),
    ("90.00", ("excellent", "优")),
    ("89.995", ("excellent", "优")),     # prints as 90.00
    ("89.994", ("good", "良")),
    ("89.99", ("good", "良")),
    ("80", ("good", "良")),
    ("79.995", ("good", "良")),          # prints as 80.00
    ("79.994", ("fair", "中")),
    ("79.99", ("fair", "中")),
    ("60", ("fair", "中")),
    ("59.995", ("fair", "中")),
    ("59.99", ("poor", "差")),
    ("0", ("poor", "差")),
    ("-1", ("poor", "差")),
])
def test_grade(total, expected):
    assert grade(D(total)) == expected


@pytest.mark.parametrize("score, points, expected", [
    ("9", "10", "excellent"), ("8.99", "10", "good"), ("8", "10", "good"), ("6", "10", "fair"),
    ("5.99", "10", "poor"), ("18", "20", "excellent"), ("17.99", "20", "good"), ("4.5", "5", "excellent"),
])
def test_grade_of_an_item(score, points, expected):
    assert grade(D(score), points=D(points))[0] == expected


def test_grade_thresholds_are_settings():
    settings = with_scoring(grades={"excellent": {"min": 85}})
    assert grade(D(86), settings) == ("excellent", "优")
    assert grade(D(86)) == ("good", "良")


@pytest.mark.parametrize("total, expected", [
    ("100", ("support", "予以支持")),
    ("80", ("support", "予以支持")),
    ("79.995", ("support", "予以支持")),
    ("79.99", ("conditional", "调整完善后予以支持")),
    ("60", ("conditional", "调整完善后予以支持")),
    ("59.99", ("reject", "不予支持")),
    ("0", ("reject", "不予支持")),
])
def test_ex_ante_conclusion(total, expected):
    assert ex_ante_conclusion(D(total)) == expected


def test_ex_ante_thresholds_are_settings():
    settings = with_scoring(ex_ante={"support": {"min": 90}})
    assert ex_ante_conclusion(D(85), settings)[0] == "conditional"
    assert ex_ante_conclusion(D(90), settings)[0] == "support"


# --------------------------------------------------------------------------- explanations

@pytest.mark.parametrize("score, weight, operator, target, actual, reason", [
    ("10", "10", "≥", "500", "500", None),
    ("9", "10", "≥", "500", "450", "shortfall"),
    ("9.99", "10", None, None, None, "shortfall"),
    ("8", "10", "定性", None, None, "shortfall"),
    ("10", "10", "≥", "100", "130", "over_achievement"),
    ("10", "10", "≥", "100", "129.99", None),
    ("10", "10", "≥", "1", "2", "over_achievement"),
    ("10", "10", "=", "100", "130", "over_achievement"),
    ("10", "10", "≤", "100", "10", None),          # not defined for ≤
    ("10", "10", "≥", "0", "5", None),             # no ratio to a zero target
    ("10", "10", None, None, None, None),
])
def test_needs_explanation(score, weight, operator, target, actual, reason):
    conv = lambda v: None if v is None else D(v)  # noqa: E731
    exp = needs_explanation(D(score), D(weight), operator, conv(target), conv(actual))
    assert (exp.reason if exp else None) == reason
    if reason == "shortfall":
        assert exp.fields == ("deviation_reason", "improvement")
    if reason == "over_achievement":
        assert exp.fields == ("deviation_reason",)
        assert "超额完成" in exp.message


def test_needs_explanation_message():
    exp = needs_explanation(D("9"), D("10"), "≥", D(500), D(450))
    assert exp.message == "指标未完全达成（得分9分，分值10分），须填写偏差原因分析和改进措施"
    exp = needs_explanation(D("10"), D("10"), "≥", D(100), D(150))
    assert exp.message == "实际完成值为年度指标值的150%，达到130%以上，须说明超额完成的原因"


def test_over_achievement_threshold_is_a_setting():
    settings = with_scoring(indicator={"over_achievement_percent": 150})
    assert needs_explanation(D(10), D(10), "≥", D(100), D(130), settings) is None
    assert needs_explanation(D(10), D(10), "≥", D(100), D(150), settings).reason == "over_achievement"


@pytest.mark.parametrize("rate, settings_override, reason", [
    ("0.9", {}, None),
    ("0.95", {}, None),
    ("0.8999", {}, "low_execution"),
    ("0", {}, "low_execution"),
    (None, {}, None),
    ("0.94", {"execution": {"explain_below_percent": 95}}, "low_execution"),
])
def test_execution_needs_explanation(rate, settings_override, reason):
    exp = execution_needs_explanation(None if rate is None else D(rate), with_scoring(**settings_override))
    assert (exp.reason if exp else None) == reason


def test_execution_explanation_message():
    exp = execution_needs_explanation(D("0.8"))
    assert exp.message == "预算执行率为80%，低于90%，须填写偏差原因分析和改进措施"


# --------------------------------------------------------------------------- settings validator

@pytest.mark.parametrize("override, fragment", [
    ({"weights": {"output": 45}}, "权重合计应为100分，实际为95分"),
    ({"weights": {"extra": 0}}, "没有对应的一级指标名称"),
    ({"grades": {"good": {"min": 95}}}, "grades的分数线须从高到低排列"),
    ({"grades": {"fair": {"min": 80}}}, "grades的分数线须从高到低排列"),
    ({"grades": {"excellent": {"min": 120}}}, "grades.excellent.min须在0至100之间"),
    ({"grades": {"excellent": {"min": "x"}}}, "grades.excellent.min须为数值"),
    ({"ex_ante": {"conditional": {"min": 85}}}, "ex_ante的分数线须从高到低排列"),
    ({"qualitative": {"achieved": {"max_percent": 120}}}, "qualitative.achieved：档次须在0%至100%之间"),
    ({"qualitative": {"partial": {"min_percent": 80}}}, "qualitative.partial：档次须在0%至100%之间且下限小于上限"),
    ({"indicator": {"negative_rule": "steep"}}, "indicator.negative_rule须为ratio或linear"),
    ({"indicator": {"over_achievement_percent": 90}}, "over_achievement_percent须大于100"),
    ({"execution": {"budget_field": "executed"}}, "execution.budget_field"),
    ({"execution": {"explain_below_percent": 120}}, "explain_below_percent须在0至100之间"),
])
def test_bad_scoring_settings_are_refused(override, fragment):
    with pytest.raises(SettingsError) as info:
        load_settings({"scoring": override})
    assert any(fragment in m for m in info.value.messages["scoring"])


@pytest.mark.parametrize("override", [
    {"weights": {"output": 40, "cost": 10}},
    {"weights": {"output": 50.0}},                     # JSON floats are read exactly
    {"indicator": {"negative_rule": "linear"}},
    {"grades": {"excellent": {"min": 85}, "good": {"min": 75}}},
    {"ex_ante": {"support": {"min": 90}}},
])
def test_good_scoring_settings_are_accepted(override):
    load_settings({"scoring": override})


# --------------------------------------------------------------------------- self-evaluation

def sample() -> dict:
    """A filled 项目支出绩效自评表; each expected score is in the comment."""
    return {
        "budget": {
            "annual_total": {"initial_budget": D("100"), "adjusted_budget": D("120"), "executed": D("96")},
            "fiscal_appropriation": {"initial_budget": D("80"), "adjusted_budget": D("100"), "executed": D("80")},
            "carryover": {"initial_budget": D("20"), "adjusted_budget": D("20"), "executed": D("16")},
            "other_funds": {"initial_budget": D("0"), "adjusted_budget": D("0"), "executed": D("0")},
            "deviation_reason": "部分设备采购合同于年末签订，款项次年支付。",
            "improvement": "提前开展采购准备，按进度支付。",
        },
        "indicators": [
            # 0: 450 ÷ 500 × 20 = 18.00
            {"level1": "产出指标", "level2": "数量指标", "name": "培训人次", "operator": "≥",
             "target_value": D("500"), "actual_value": D("450"), "weight": D("20"),
             "deviation_reason": "下半年两期培训合并。", "improvement": "提前排定培训计划。"},
            # 1: 15.00
            {"level1": "产出指标", "level2": "质量指标", "name": "培训合格率", "operator": "≥",
             "target_value": D("95"), "actual_value": D("96"), "weight": D("15")},
            # 2: 10.00
            {"level1": "产出", "level2": "时效指标", "name": "完成时间（月）", "operator": "≤",
             "target_value": D("12"), "actual_value": D("12"), "weight": D("10")},
            # 3: ratio 200 ÷ 250 × 5 = 4.00 (linear: 3.75)
            {"level1": "output", "level2": "成本指标", "name": "人均培训成本（元）", "operator": "≤",
             "target_value": D("200"), "actual_value": D("250"), "weight": D("5"),
             "deviation_reason": "场地租金上涨。", "improvement": "统筹使用自有场地。"},
            # 4: qualitative, evaluator's 18.00 inside 达成 (16–20)
            {"level1": "效益指标", "level2": "社会效益指标", "name": "基层服务能力", "operator": "定性",
             "target_value": "明显提升", "actual_value": "有所提升", "weight": D("20"), "score": D("18"),
             "band": "achieved", "deviation_reason": "部分乡镇尚未覆盖。", "improvement": "扩大覆盖范围。"},
            # 5: 10.00, 200 % of target → over-achievement explanation
            {"level1": "效益指标", "level2": "可持续影响指标", "name": "建立长效机制（项）", "operator": "≥",
             "target_value": D("1"), "actual_value": D("2"), "weight": D("10"),
             "deviation_reason": "新增一项配套制度。"},
            # 6: 10.00
            {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "学员满意度", "operator": "≥",
             "target_value": D("90"), "actual_value": D("92"), "weight": D("10")},
        ],
    }


def test_sample_is_valid():
    assert validate_self_evaluation(sample()) == {}


def test_score_self_evaluation():
    result = score_self_evaluation(sample())
    assert [str(r["score"]) for r in result["indicators"]] == \
        ["18.00", "15.00", "10.00", "4.00", "18.00", "10.00", "10.00"]
    assert [r["level1_key"] for r in result["indicators"]] == \
        ["output"] * 4 + ["benefit"] * 2 + ["satisfaction"]
    assert result["execution"]["rate"] == D("0.8")
    assert str(result["execution"]["percent"]) == "80.00"
    assert str(result["execution"]["score"]) == "8.00"
    assert [(s["key"], s["label"], str(s["weight"]), str(s["score"])) for s in result["subtotals"]] == [
        ("output", "产出指标", "50", "47.00"),
        ("benefit", "效益指标", "30", "28.00"),
        ("satisfaction", "满意度指标", "10", "10.00"),
    ]
    assert str(result["total"]) == "93.00"
    assert result["rescaled"] is False
    assert (result["grade"], result["grade_label"]) == ("excellent", "优")
    assert [(e["path"], e["reason"]) for e in result["explanations"]] == [
        ("budget", "low_execution"),
        ("indicators.0", "shortfall"),
        ("indicators.3", "shortfall"),
        ("indicators.4", "shortfall"),
        ("indicators.5", "over_achievement"),
    ]
    assert result["explanations"][1]["fields"] == ["indicators.0.deviation_reason", "indicators.0.improvement"]
    assert all(e["missing"] == [] for e in result["explanations"])


def test_score_budget_rows():
    rows = score_self_evaluation(sample())["budget_rows"]
    assert str(rows["fiscal_appropriation"]["execution_percent"]) == "80.00"
    assert str(rows["carryover"]["execution_percent"]) == "80.00"
    assert rows["other_funds"]["execution_rate"] is None       # 0 budget: shown as —


def test_score_with_linear_rule():
    result = score_self_evaluation(sample(), with_scoring(indicator={"negative_rule": "linear"}))
    assert str(result["indicators"][3]["score"]) == "3.75"
    assert str(result["total"]) == "92.75"


def test_score_with_not_applicable_row():
    data = sample()
    data["indicators"][5]["not_applicable"] = True
    result = score_self_evaluation(data)
    row = result["indicators"][5]
    assert row["score"] is None and row["scaled_score"] is None and row["not_applicable"]
    assert result["rescaled"] is True
    assert str(result["raw_total"]) == "83.00"
    assert result["applicable_weight"] == D(90)
    assert str(result["total"]) == "92.22"                   # 83 ÷ 90 × 100
    assert str(result["execution"]["scaled_weight"]) == "11.11"
    assert str(result["execution"]["scaled_score"]) == "8.89"
    assert str(result["indicators"][0]["scaled_score"]) == "20.00"
    benefit = next(s for s in result["subtotals"] if s["key"] == "benefit")
    assert (str(benefit["weight"]), str(benefit["score"])) == ("20", "18.00")
    assert (str(benefit["scaled_weight"]), str(benefit["scaled_score"])) == ("22.22", "20.00")
    assert "indicators.5" not in [e["path"] for e in result["explanations"]]
    assert validate_self_evaluation(data) == {}                # planned weights still add up


def test_score_reports_missing_explanations():
    data = sample()
    del data["indicators"][0]["improvement"]
    data["budget"]["deviation_reason"] = " "
    result = score_self_evaluation(data)
    by_path = {e["path"]: e["missing"] for e in result["explanations"]}
    assert by_path["indicators.0"] == ["indicators.0.improvement"]
    assert by_path["budget"] == ["budget.deviation_reason"]


def test_score_with_string_numbers():
    data = sample()
    for row in data["indicators"]:
        for key in ("target_value", "actual_value", "weight", "score"):
            if isinstance(row.get(key), D):
                row[key] = str(row[key])
    assert str(score_self_evaluation(data)["total"]) == "93.00"


def test_missing_actual_scores_zero():
    data = sample()
    data["indicators"][1]["actual_value"] = None
    result = score_self_evaluation(data)
    assert str(result["indicators"][1]["score"]) == "0.00"
    assert str(result["total"]) == "78.00"
    assert result["grade"] == "fair"


def test_score_refuses_unscorable_rows():
    data = sample()
    data["indicators"][2]["operator"] = "约"
    with pytest.raises(ValueError, match="indicators.2.operator"):
        score_self_evaluation(data)


def _set(path, value):
    def mutate(data):
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DELETE:
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = value
    return mutate


_DELETE = object()


@pytest.mark.parametrize("mutations, path, message", [
    ([_set("indicators.0.weight", D(15))], "indicators", "产出指标各项分值合计应为50分，实际为45分"),
    ([_set("indicators.0.weight", D(15))], "indicators", "预算执行率与各项指标分值合计应为100分，实际为95分"),
    ([_set("indicators.6", _DELETE)], "indicators", "未填写满意度指标（应为10分）"),
    ([_set("indicators.4.score", D(7))], "indicators.4.score",
     "得分7分不在所选档次“达成年度指标”的范围内，应为16分（含）至20分（含）"),
    ([_set("indicators.4.score", D(25))], "indicators.4.score", "得分应在0分至20分之间，实际为25分"),
    ([_set("indicators.4.score", None)], "indicators.4.score", "定性指标须填写得分"),
    ([_set("indicators.4.band", None)], "indicators.4.band", "定性指标须选择评价档次"),
    ([_set("indicators.4.band", "great")], "indicators.4.band", "评价档次“great”无效"),
    ([_set("indicators.1.actual_value", None)], "indicators.1.actual_value",
     "未填写实际完成值，须填写或在偏差原因分析中说明原因"),
    ([_set("indicators.1.actual_value", "很多")], "indicators.1.actual_value", "定量指标的实际完成值须为数值"),
    ([_set("indicators.0.deviation_reason", "")], "indicators.0.deviation_reason",
     "指标未完全达成（得分18分，分值20分），须填写偏差原因分析和改进措施"),
    ([_set("indicators.3.improvement", None)], "indicators.3.improvement", "指标未完全达成（得分4分，分值5分）"),
    ([_set("indicators.5.deviation_reason", None)], "indicators.5.deviation_reason",
     "实际完成值为年度指标值的200%，达到130%以上，须说明超额完成的原因"),
    ([_set("budget.improvement", None)], "budget.improvement",
     "预算执行率为80%，低于90%，须填写偏差原因分析和改进措施"),
    ([_set("indicators.2.level1", "其他指标")], "indicators.2.level1", "一级指标“其他指标”无法识别"),
    ([_set("indicators.2.operator", "约")], "indicators.2.operator", "指标性质“约”无效"),
    ([_set("indicators.0.target_value", "若干")], "indicators.0.target_value", "定量指标的年度指标值须为数值"),
    ([_set("indicators.0.weight", D(-20))], "indicators.0.weight", "分值不能为负数"),
    ([_set("indicators.0.weight", None)], "indicators.0.weight", "须填写分值"),
    ([_set("indicators.0.name", "")], "indicators.0.name", "须填写三级指标名称"),
    ([_set("budget.annual_total.adjusted_budget", D(0)),
      _set("budget.fiscal_appropriation.adjusted_budget", D(0)),
      _set("budget.carryover.adjusted_budget", D(0))],
     "budget.annual_total.adjusted_budget", "全年预算数须大于0，才能计算预算执行率"),
    ([_set("budget.annual_total.executed", None)], "budget.annual_total.executed", "须填写年度资金总额的全年执行数"),
    ([_set("budget.annual_total.executed", D(-1))], "budget.annual_total.executed", "不能为负数"),
    ([_set("budget.carryover.executed", D(15))], "budget.annual_total.executed",
     "年度资金总额的全年执行数（96万元）应等于其中当年财政拨款、上年结转资金、其他资金之和（95万元）"),
    ([_set("budget.carryover", _DELETE), _set("budget.other_funds", _DELETE)], "budget.annual_total.executed",
     "年度资金总额的全年执行数（96万元）应等于其中当年财政拨款之和（80万元）"),
    ([_set("budget.carryover.executed", "十六")], "budget.carryover.executed", "上年结转资金的全年执行数不是数值"),
    ([_set("budget.annual_total", _DELETE)], "budget.annual_total", "须填写年度资金总额"),
    ([_set("indicators", [])], "indicators", "至少须填写一项绩效指标"),
])
def test_validate_self_evaluation(mutations, path, message):
    data = sample()
    for mutate in mutations:
        mutate(data)
    errors = validate_self_evaluation(data)
    assert any(message in m for m in errors.get(path, [])), errors


def test_missing_actual_with_reason_needs_only_improvement():
    data = sample()
    data["indicators"][1]["actual_value"] = None
    data["indicators"][1]["deviation_reason"] = "统计数据尚未发布。"
    errors = validate_self_evaluation(data)
    assert "indicators.1.actual_value" not in errors
    assert list(errors) == ["indicators.1.improvement"]


def test_all_not_applicable():
    data = sample()
    for row in data["indicators"]:
        row["not_applicable"] = True
    assert "所有绩效指标均标为不适用，无法评分" in validate_self_evaluation(data)["indicators"]


def test_validation_uses_configured_weights():
    settings = with_scoring(weights={"output": 40, "cost": 10})
    data = sample()
    errors = validate_self_evaluation(data, settings)
    assert "产出指标各项分值合计应为40分，实际为50分" in errors["indicators"]
    assert "未填写成本指标（应为10分）" in errors["indicators"]
    data["indicators"][3]["level1"] = "成本指标"
    data["indicators"][0]["weight"] = D(15)
    data["indicators"][3]["weight"] = D(10)
    data["indicators"][3]["improvement"] = "统筹使用自有场地。"
    assert validate_self_evaluation(data, settings) == {}
    result = score_self_evaluation(data, settings)
    assert [s["key"] for s in result["subtotals"]] == ["output", "benefit", "satisfaction", "cost"]


def test_validation_messages_are_lists_of_strings():
    data = copy.deepcopy(sample())
    data["indicators"][0]["weight"] = D(15)
    data["indicators"][4]["score"] = D(7)
    errors = validate_self_evaluation(data)
    assert all(isinstance(m, str) for ms in errors.values() for m in ms)
