"""rules/indicators.py: written values, operators, trees, counts and the declaration rules."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.indicators import (
    TREE_2020,
    TREE_2021,
    Indicator,
    ParsedValue,
    convert_tree,
    cost_required,
    count_indicators,
    format_value,
    in_tree,
    level2_count,
    normalise_level1,
    normalise_level2,
    normalise_operator,
    parse_value,
    quantified_ratio,
    quantitative_count,
    split_value,
    tree_id,
    validate_indicator_set,
)
from rules.rounding import ratio
from rules.settings import SettingsError, load_settings

# ------------------------------------------------------------------------------ values

CANONICAL = ["≥500人次", "≤90万元", "=100%", "≤12月31日", "2024年12月底前", "好", "≥90%", "100%",
             "优", "良", "中", "差", "较好", "一般", "较差", "达到预期", "基本达到", "未达到",
             "有所提升", "效果明显", "按计划完成", "≥90.0%", "=0次", "≤550元/人·天", "≥500m²",
             "≥8台（套）", "第三季度末", "2024年12月31日前完成", "≤7个工作日", "达到预期（良）"]


@pytest.mark.parametrize("text", CANONICAL)
def test_canonical_values_round_trip_unchanged(text):
    assert format_value(parse_value(text)) == text


@pytest.mark.parametrize("text, operator, value, unit, kind, written", [
    ("≥500人次", "≥", Decimal("500"), "人次", "number", True),
    ("≤90万元", "≤", Decimal("90"), "万元", "number", True),
    ("=100%", "=", Decimal("100"), "%", "number", True),
    ("100%", "=", Decimal("100"), "%", "number", False),
    ("≥90.0%", "≥", Decimal("90.0"), "%", "number", True),
    ("≤12月31日", "≤", "12月31日", "", "date", True),
    ("2024年12月底前", "≤", "2024年12月底前", "", "date", False),
    ("年底前", "≤", "年底前", "", "date", False),
    ("2025年1月1日以后", "≥", "2025年1月1日以后", "", "date", False),
    ("第三季度末", "=", "第三季度末", "", "date", False),
    ("好", "定性", "好", "", "text", False),
    ("达到预期", "定性", "达到预期", "", "text", False),
    ("有所提升", "定性", "有所提升", "", "text", False),
    ("效果明显", "定性", "效果明显", "", "text", False),
    ("12个月", "=", Decimal("12"), "个月", "number", False),
])
def test_parse_value(text, operator, value, unit, kind, written):
    assert parse_value(text) == ParsedValue(operator, value, unit, kind, written)


@pytest.mark.parametrize("text, written", [
    (">=95%", "≥95%"),
    ("<=90万元", "≤90万元"),
    ("> =95%", "≥95%"),
    ("＞＝９５％", "≥95%"),
    ("≧95%", "≥95%"),
    (">95%", "≥95%"),
    ("<3次", "≤3次"),
    ("==100%", "=100%"),
    ("不低于90%", "≥90%"),
    ("不超过30天", "≤30天"),
    (" ≥ 500 人次 ", "≥500人次"),
    ("1,000人", "1000人"),
])
def test_other_spellings_are_normalised(text, written):
    assert format_value(parse_value(text)) == written


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_value_is_refused(text):
    with pytest.raises(ValueError, match="指标值为空"):
        parse_value(text)


@pytest.mark.parametrize("written, operator", [
    ("≥", "≥"), (">=", "≥"), ("＞＝", "≥"), (">", "≥"), ("≤", "≤"), ("<=", "≤"), ("=", "="),
    ("定性", "定性"), ("", None), ("约", None), ("≥=", None),
])
def test_normalise_operator(written, operator):
    assert normalise_operator(written) == operator


@pytest.mark.parametrize("operator, normal, direction", [
    ("≥", "≥", "positive"), (">=", "≥", "positive"), ("≤", "≤", "negative"),
    ("<=", "≤", "negative"), ("=", "=", "exact"), ("定性", "定性", "qualitative"),
])
def test_indicator_operator_and_direction(operator, normal, direction):
    indicator = Indicator("产出指标", "数量指标", "培训人次", operator, "500", "人次")
    assert (indicator.operator, indicator.direction) == (normal, direction)


def test_indicator_refuses_unknown_operator_and_float_weight():
    with pytest.raises(ValueError, match="指标性质应为≥、≤、=或定性，不是“约”"):
        Indicator("产出指标", "数量指标", "培训人次", "约", "500", "人次")
    with pytest.raises(TypeError):
        Indicator("产出指标", "数量指标", "培训人次", "≥", "500", "人次", weight=0.5)
    assert Indicator("产出指标", "数量指标", "培训人次", "≥", "500", "人次", weight="7.5").weight == Decimal("7.5")


@pytest.mark.parametrize("row, split, value_text", [
    ({"target_value": "≥500人次"}, ("≥", "500", "人次"), "≥500人次"),
    ({"operator": "≥", "target_value": "500", "measure_unit": "人次"}, ("≥", "500", "人次"), "≥500人次"),
    ({"operator": ">=", "target_value": "≥500", "measure_unit": "人次"}, ("≥", "500", "人次"), "≥500人次"),
    ({"operator": "≥", "target_value": Decimal("95.5"), "measure_unit": "%"}, ("≥", "95.5", "%"), "≥95.5%"),
    ({"target_value": "100%"}, ("=", "100", "%"), "=100%"),
    ({"target_value": "≤12月31日"}, ("≤", "12月31日", ""), "≤12月31日"),
    ({"target_value": "2024年12月底前"}, ("≤", "2024年12月底前", ""), "≤2024年12月底前"),
    ({"target_value": "好"}, ("定性", "好", ""), "好"),
    ({"operator": "定性", "target_value": "达到预期"}, ("定性", "达到预期", ""), "达到预期"),
])
def test_indicator_from_mapping_splits_one_cell_values(row, split, value_text):
    indicator = Indicator.from_mapping({"level1": "产出指标", "level2": "数量指标", "name": "x", **row})
    assert (indicator.operator, indicator.target_value, indicator.measure_unit) == split
    assert indicator.value_text == value_text


def test_split_value_keeps_conflicting_operator_for_validation():
    assert split_value("≤", "≥500", "人次") == ("≤", "≥500", "人次")
    assert split_value("约", "500", "人次") == ("约", "500", "人次")


def test_parsed_value_of_indicator():
    assert Indicator("产出指标", "数量指标", "培训人次", "≥", "500", "人次").parsed == \
        ParsedValue("≥", Decimal("500"), "人次", "number", True)
    assert Indicator("产出指标", "时效指标", "完成时间", "≤", "12月31日").parsed == \
        ParsedValue("≤", "12月31日", "", "date", True)


# ------------------------------------------------------------------------------ trees


def test_trees_as_data():
    assert list(TREE_2020) == ["产出指标", "效益指标", "满意度指标"]
    assert TREE_2020["产出指标"] == ("数量指标", "质量指标", "时效指标", "成本指标")
    assert list(TREE_2021) == ["成本指标", "产出指标", "效益指标", "满意度指标"]
    assert TREE_2021["成本指标"] == ("经济成本指标", "社会成本指标", "生态环境成本指标")
    assert TREE_2021["产出指标"] == ("数量指标", "质量指标", "时效指标")
    assert TREE_2021["效益指标"] == TREE_2020["效益指标"] == (
        "经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标")


@pytest.mark.parametrize("given, tree", [("2020", "2020"), (2021, "2021"), ("88", "2020"),
                                         ("101", "2021"), ("财预101", "2021")])
def test_tree_id(given, tree):
    assert tree_id(given) == tree


def test_unknown_tree():
    with pytest.raises(ValueError, match="不认识的指标体系“2019”"):
        tree_id("2019")


@pytest.mark.parametrize("level1, level2, tree, expected", [
    ("产出指标", "数量指标", "2020", True),
    ("产出", "数量", "2020", True),
    ("产出", "产出数量", "2020", True),
    ("output", "quantity", "2020", True),
    ("产出指标", "成本指标", "2020", True),
    ("产出指标", "成本指标", "2021", False),
    ("成本指标", "经济成本指标", "2021", True),
    ("成本", "生态环境成本", "2021", True),
    ("成本指标", "经济成本指标", "2020", False),
    ("效益", "可持续影响", "2020", True),
    ("效益指标", "经济成本指标", "2021", False),
    ("满意度", "服务对象满意度", "2021", True),
    ("满意度指标", "社会效益指标", "2020", False),
    ("投入指标", "数量指标", "2020", False),
])
def test_in_tree(level1, level2, tree, expected):
    assert in_tree(level1, level2, tree) is expected


def test_normalise_captions():
    assert normalise_level1(" 效 益 ") == "效益指标"
    assert normalise_level1("cost", "2021") == "成本指标"
    assert normalise_level1("cost", "2020") is None
    assert normalise_level2("benefit", "ecological") == "生态效益指标"
    assert normalise_level2("cost", "economic_cost", "2021") == "经济成本指标"


@pytest.mark.parametrize("level1, level2, tree, expected", [
    ("产出指标", "成本指标", "2021", ("成本指标", "经济成本指标")),
    ("成本指标", "社会成本指标", "2020", ("产出指标", "成本指标")),
    ("产出", "数量", "2021", ("产出指标", "数量指标")),
    ("效益", "社会效益", "2020", ("效益指标", "社会效益指标")),
])
def test_convert_tree(level1, level2, tree, expected):
    converted = convert_tree(Indicator(level1, level2, "x", "≤", "90", "万元"), tree)
    assert (converted.level1, converted.level2) == expected
    assert (converted.name, converted.target_value, converted.measure_unit) == ("x", "90", "万元")


# ------------------------------------------------------------------------------ counts


def row(level1, level2, name, value, **extra):
    return {"level1": level1, "level2": level2, "name": name, "target_value": value, **extra}


GOOD = [
    row("产出指标", "数量指标", "培训人次", "≥400人次"),
    row("产出指标", "质量指标", "培训考核合格率", "≥95%"),
    row("产出指标", "时效指标", "培训完成时间", "≤12月31日"),
    row("产出指标", "成本指标", "人均每天培训费", "≤550元/人·天"),
    row("效益指标", "社会效益指标", "参训人员业务能力", "有所提升"),
    row("满意度指标", "服务对象满意度指标", "参训人员满意度", "≥90%"),
]

# 2 quantitative of 5: 60 % qualitative.
MOSTLY_QUALITATIVE = [
    row("产出指标", "数量指标", "培训人次", "≥400人次"),
    row("产出指标", "质量指标", "培训质量", "好"),
    row("效益指标", "社会效益指标", "参训人员业务能力", "有所提升"),
    row("效益指标", "可持续影响指标", "培训成果转化应用", "长期"),
    row("满意度指标", "服务对象满意度指标", "参训人员满意度", "≥90%"),
]


def test_counts():
    assert quantitative_count(GOOD) == 5
    assert quantified_ratio(GOOD) == ratio(5, 6)
    assert quantified_ratio(MOSTLY_QUALITATIVE) == Decimal("0.4")
    assert quantified_ratio([]) is None
    counts = count_indicators(GOOD)
    assert (counts.level2, counts.level3, counts.quantitative, counts.qualitative) == (6, 6, 5, 1)
    assert count_indicators(MOSTLY_QUALITATIVE).quantified_ratio == Decimal("0.4")


def test_level2_count_merges_short_and_full_captions():
    rows = [row("产出", "数量", "a", "≥1个"), row("产出指标", "数量指标", "b", "≥1个"),
            row("效益指标", "社会效益指标", "c", "好")]
    assert level2_count(rows) == 2


def test_counts_accept_indicator_objects():
    indicators = [Indicator.from_mapping(r) for r in MOSTLY_QUALITATIVE]
    assert quantified_ratio(indicators) == Decimal("0.4")


# ------------------------------------------------------------------------------ validation


def test_good_set_passes():
    assert validate_indicator_set(GOOD) == {}
    assert validate_indicator_set([Indicator.from_mapping(r) for r in GOOD]) == {}


def test_mostly_qualitative_set_is_rejected():
    assert validate_indicator_set(MOSTLY_QUALITATIVE) == {"indicators": [
        "定量指标占比为40.00%，低于70%：请将更多三级指标写成“≥/≤/=数值+单位”的形式"]}


def test_quantified_ratio_threshold_is_a_setting():
    settings = load_settings({"declaration": {"indicators": {"min_quantified_ratio": "0.4"}}})
    assert validate_indicator_set(MOSTLY_QUALITATIVE, settings=settings) == {}
    settings = load_settings({"declaration": {"indicators": {"min_quantified_ratio": "0.725"}}})
    assert validate_indicator_set(MOSTLY_QUALITATIVE, settings=settings)["indicators"] == [
        "定量指标占比为40.00%，低于72.5%：请将更多三级指标写成“≥/≤/=数值+单位”的形式"]


@pytest.mark.parametrize("drop, message", [
    ("效益指标", "缺少效益指标：请至少填写一项效益指标（经济效益、社会效益、生态效益或可持续影响）"),
    ("产出指标", "缺少产出指标：请至少填写一项产出指标（数量、质量、时效或成本）"),
    ("满意度指标", "缺少满意度指标：请至少填写一项满意度指标（服务对象满意度）"),
])
def test_missing_first_level_is_rejected(drop, message):
    rows = [r for r in GOOD if r["level1"] != drop]
    # Keep the set quantified enough that only the missing level 1 is reported.
    filler = ("效益指标", "社会效益指标") if drop == "产出指标" else ("产出指标", "数量指标")
    rows += [row(*filler, f"补充指标{i}", "≥1个") for i in range(3)]
    assert validate_indicator_set(rows) == {"indicators": [message]}


def test_empty_set():
    assert validate_indicator_set([]) == {"indicators": [
        "缺少产出指标：请至少填写一项产出指标（数量、质量、时效或成本）",
        "缺少效益指标：请至少填写一项效益指标（经济效益、社会效益、生态效益或可持续影响）",
        "缺少满意度指标：请至少填写一项满意度指标（服务对象满意度）",
    ]}


def test_duplicate_names_within_a_level2_are_rejected():
    rows = [*GOOD, row("产出指标", "数量指标", "指标1：培训人次", "≥500人次"),
            row("效益指标", "社会效益指标", "培训人次", "≥1人次")]
    assert validate_indicator_set(rows) == {"indicators.6.name": [
        "三级指标“指标1：培训人次”在数量指标中重复（与第1项同名）：请合并这两项或改用能区分的名称"]}


def test_duplicate_rule_is_a_setting():
    rows = [*GOOD, row("产出", "数量", "培训人次", "≥500人次")]
    settings = load_settings({"declaration": {"indicators": {"unique_names": False}}})
    assert validate_indicator_set(rows, settings=settings) == {}
    assert list(validate_indicator_set(rows)) == ["indicators.6.name"]


GOOD_2021 = [
    row("产出指标", "数量指标", "新建道路里程", "≥5公里"),
    row("产出指标", "时效指标", "竣工验收时间", "≤12月31日"),
    row("效益指标", "社会效益指标", "直接受益人口", "≥5000人"),
    row("满意度指标", "服务对象满意度指标", "周边群众满意度", "≥90%"),
]
COST_MESSAGE = ("缺少成本指标：按财预〔2021〕101号，“{}”项目须设置成本指标，"
                "请至少填写一项成本指标（经济成本、社会成本或生态环境成本）")


@pytest.mark.parametrize("project_type, tree, expected", [
    ("工程基建", "2021", [COST_MESSAGE.format("工程基建")]),
    ("工程基建类项目", "2021", [COST_MESSAGE.format("工程基建类项目")]),
    ("基础建设类", "2021", [COST_MESSAGE.format("基础建设类")]),
    ("大型修缮及购置", "2021", [COST_MESSAGE.format("大型修缮及购置")]),
    ("培训会议类", "2021", None),
    (None, "2021", None),
    ("工程基建", "2020", None),
])
def test_cost_rule_of_the_2021_tree(project_type, tree, expected):
    errors = validate_indicator_set(GOOD_2021, tree=tree, project_type=project_type)
    assert errors.get("indicators") == expected


def test_cost_indicator_satisfies_the_2021_rule():
    rows = [*GOOD_2021, row("成本指标", "经济成本指标", "单位面积建设成本", "≤3500元/平方米")]
    assert validate_indicator_set(rows, tree="2021", project_type="工程基建") == {}


def test_cost_project_types_are_a_setting():
    settings = load_settings({"declaration": {"indicators": {"cost_required_project_types": ["信息化建设"]}}})
    assert cost_required("信息化建设类", settings) is True
    assert cost_required("工程基建", settings) is False
    assert cost_required("工程基建") is True


@pytest.mark.parametrize("bad, errors", [
    (row("投入指标", "数量指标", "x", "≥1个"), {"indicators.6.level1": [
        "一级指标“投入指标”不在财预〔2020〕10号（〔2015〕88号）指标体系中：请填写产出指标、效益指标或满意度指标"]}),
    (row("", "数量指标", "x", "≥1个"), {"indicators.6.level1": [
        "一级指标为空：请填写产出指标、效益指标或满意度指标"]}),
    (row("成本指标", "经济成本指标", "x", "≤1万元"), {"indicators.6.level1": [
        "在财预〔2020〕10号（〔2015〕88号）指标体系中，成本指标是产出指标下的二级指标："
        "请将一级指标改为“产出指标”、二级指标改为“成本指标”"]}),
    (row("效益指标", "数量指标", "x", "≥1个"), {"indicators.6.level2": [
        "二级指标“数量指标”不属于效益指标：请填写经济效益指标、社会效益指标、生态效益指标或可持续影响指标"]}),
    (row("产出指标", "", "x", "≥1个"), {"indicators.6.level2": [
        "二级指标为空：请填写数量指标、质量指标、时效指标或成本指标"]}),
    (row("产出指标", "数量指标", "", "≥1个"), {"indicators.6.name": [
        "三级指标名称为空：请填写指标名称，如“培训人次”"]}),
    (row("产出指标", "数量指标", "x", ""), {"indicators.6.target_value": [
        "指标值为空：请填写指标值，如“≥500人次”或“好”"]}),
    (row("产出指标", "数量指标", "x", "500", operator="约", measure_unit="人"), {"indicators.6.operator": [
        "指标性质“约”无法识别：请填写≥、≤、=或定性"]}),
    (row("产出指标", "数量指标", "x", "全部", operator="≥"), {"indicators.6.target_value": [
        "定量指标的指标值“全部”不是数字：请填写数字（时效指标可填日期，如“12月31日”），"
        "单位写在度量单位栏；确实无法量化的，请将指标性质改为“定性”"]}),
    (row("产出指标", "数量指标", "x", "500", operator="≥"), {"indicators.6.measure_unit": [
        "度量单位为空：请填写度量单位，如%、人次、万元"]}),
    (row("产出指标", "质量指标", "x", "很不错"), {"indicators.6.target_value": [
        "定性指标值“很不错”不是分级分档表述：请从优、良、中、差、好、较好、一般、较差、高、较高、较低、低、"
        "达到预期、基本达到、未达到、有所提升、明显提升、稳步提升、有所改善、明显改善、效果明显、效果较明显、"
        "按计划完成、符合要求、符合标准、合格、达标、长期、持续发挥作用中选择，或改写为“≥/≤/=数值+单位”的定量指标"]}),
    (row("满意度指标", "服务对象满意度指标", "x", "好"), {"indicators.6.target_value": [
        "满意度指标应以百分比表示：请写成“≥90%”的形式（指标性质≥，指标值90，度量单位%）"]}),
    (row("满意度指标", "服务对象满意度指标", "x", "≥90分"), {"indicators.6.target_value": [
        "满意度指标应以百分比表示：请写成“≥90%”的形式（指标性质≥，指标值90，度量单位%）"]}),
    (row("满意度指标", "服务对象满意度指标", "x", "≥120%"), {"indicators.6.target_value": [
        "满意度应在0%至100%之间：请填写0至100之间的数"]}),
])
def test_row_rules(bad, errors):
    assert validate_indicator_set([*GOOD, bad]) == errors


def test_rules_can_be_switched_off():
    settings = load_settings({"declaration": {"indicators": {
        "qualitative_grades": [], "satisfaction_unit": "", "require_measure_unit": False,
        "check_levels": False, "required_level1": [], "min_quantified_ratio": "0"}}})
    rows = [row("投入指标", "自定义", "x", "很不错"), row("满意度指标", "服务对象满意度指标", "y", "好"),
            row("产出指标", "数量指标", "z", "500", operator="≥")]
    assert validate_indicator_set(rows, settings=settings) == {}


def test_tree_setting_is_the_default_tree():
    settings = load_settings({"declaration": {"tree": "2021"}})
    rows = [*GOOD_2021, row("产出指标", "成本指标", "x", "≤1万元")]
    assert list(validate_indicator_set(rows, settings=settings)) == ["indicators.4.level2"]
    assert validate_indicator_set(rows) == {}


@pytest.mark.parametrize("override, message", [
    ({"tree": "2019"}, "tree：应为 \"2020\"（财预〔2020〕10号）或 \"2021\"（财预〔2021〕101号）。"),
    ({"indicators": {"min_quantified_ratio": 0.7}},
     "indicators.min_quantified_ratio：应为0至1之间的数（小数请加引号，如 \"0.70\"）。"),
    ({"indicators": {"min_quantified_ratio": "1.5"}},
     "indicators.min_quantified_ratio：应为0至1之间的数（小数请加引号，如 \"0.70\"）。"),
    ({"indicators": {"required_level1": ["投入指标"]}},
     "indicators.required_level1：只能列出产出指标、效益指标、满意度指标、成本指标。"),
    ({"indicators": {"unique_names": "yes"}}, "indicators.unique_names：应为 true 或 false。"),
    ({"indicators": {"qualitative_grades": "好"}},
     "indicators.qualitative_grades：应为定性指标值的列表，如 [\"好\", \"较好\", \"一般\", \"较差\"]。"),
    ({"library": {"extra_paths": "/srv/lib"}}, "library.extra_paths：应为指标库文件或目录路径的列表。"),
])
def test_settings_validator(override, message):
    with pytest.raises(SettingsError) as info:
        load_settings({"declaration": override})
    assert info.value.messages == {"declaration": [message]}


# ------------------------------------------------------------------------------ property

UNITS = ["%", "人次", "万元", "元/人·月", "个", "天", "平方米", "‰", "台（套）", "km"]


@given(operator=st.sampled_from(["≥", "≤", "=", ""]),
       number=st.from_regex(r"(0|[1-9][0-9]{0,6})(\.[0-9]{1,3})?", fullmatch=True),
       unit=st.sampled_from(UNITS))
def test_numeric_values_round_trip(operator, number, unit):
    text = f"{operator}{number}{unit}"
    parsed = parse_value(text)
    assert (parsed.operator, parsed.value, parsed.unit) == (operator or "=", Decimal(number), unit)
    assert format_value(parsed) == text
