"""Statistics over stored records: every figure checked against totals worked out by hand."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from rules.statistics import (
    StatisticsInputError,
    compute,
    grade_distribution,
    monitoring_row,
    percent_shares,
)


def ind(level1, level2, name, operator, target, unit=""):
    return {"level1": level1, "level2": level2, "name": name, "operator": operator, "target_value": target,
            "measure_unit": unit}


# unit A, department declaration: 3 indicators in 2 level-2 groups, 2 quantitative
DEPT_A = [ind("产出指标", "数量指标", "培训人次", "≥", "500", "人次"),
          ind("产出指标", "数量指标", "检查单位数", "≥", "20", "个"),
          ind("满意度指标", "服务对象满意度指标", "群众满意度", "定性", "较高")]
# unit B, department declaration: 4 indicators in 3 groups, all quantitative
DEPT_B = [ind("产出指标", "数量指标", "巡查次数", "≥", "12", "次"),
          ind("产出指标", "时效指标", "按时完成率", "=", "100", "%"),
          ind("效益指标", "社会效益指标", "受益人数", "≥", "3000", "人"),
          ind("效益指标", "社会效益指标", "投诉率", "≤", "2", "%")]
# unit A, project P1: 5 indicators in 5 groups, 4 quantitative; project P2: 2 in 2 groups, 1 quantitative
P1 = [ind("产出指标", "数量指标", "改造户数", "≥", "120", "户"),
      ind("产出指标", "质量指标", "验收合格率", "=", "100", "%"),
      ind("产出指标", "时效指标", "完工时间", "≤", "2024年11月30日"),
      ind("效益指标", "社会效益指标", "居住条件", "定性", "明显改善"),
      ind("满意度指标", "服务对象满意度指标", "满意度", "≥", "90", "%")]
P2 = [ind("产出指标", "数量指标", "培训场次", "≥", "6", "场"),
      ind("效益指标", "可持续影响指标", "长效机制", "定性", "基本建立")]


def dataset():
    return [
        {
            "unit": {"code": "101", "name": "青溪县住房和城乡建设局"},
            "declarations": [
                {"scope": "department", "indicators": DEPT_A},
                {"scope": "project", "project_name": "农村危房改造", "indicators": P1},
                {"scope": "project", "project_name": "建筑工人技能培训", "indicators": P2},
            ],
            "monitoring": [
                {"project_name": "农村危房改造", "budget": "1200.00", "executed": "900.00", "completion_rate": "0.9"},
                {"project_name": "建筑工人技能培训", "budget": "800.00", "executed": "500.00", "completion_rate": "0.8"},
            ],
            "self_evaluations": [
                {"scope": "project", "project_name": "农村危房改造", "score": "95"},
                {"scope": "project", "project_name": "建筑工人技能培训", "score": "85.5"},
                {"scope": "department", "score": "91"},
            ],
            "reviews": [{"project_name": "农村危房改造", "score": "70"}],
            "disclosure": {"required": True, "published": True},
        },
        {
            "unit": {"code": "102", "name": "青溪县水利局"},
            "declarations": [{"scope": "department", "indicators": DEPT_B}],
            "self_evaluations": [
                {"scope": "project", "project_name": "河道清淤", "score": "79.995"},
                {"scope": "project", "project_name": "山塘加固", "score": "59.99"},
                {"scope": "project", "project_name": "水毁修复", "scoring": {"total": "90"}},
            ],
            "reviews": [{"project_name": "河道清淤", "score": "68.56"}],
            "disclosure": {"required": True, "published": False},
        },
        {"unit": "青溪县档案馆", "disclosure": {"required": True, "published": True}},
        {"unit": "青溪县国家保密局", "disclosure": {"required": False, "reason": "涉密"}},
    ]


def test_indicator_counts_and_both_quantified_ratios():
    stats = compute(dataset())
    dept = stats.indicators["department"]
    assert (dept.units, dept.declarations, dept.level2, dept.level3, dept.quantitative) == (2, 2, 5, 7, 6)
    assert round(dept.pooled_quantified_ratio, 6) == D("0.857143")  # 6 ÷ 7
    assert dept.mean_unit_quantified_ratio == (D(2) / D(3) + 1) / 2  # (2/3 + 4/4) ÷ 2
    proj = stats.indicators["project"]
    assert (proj.units, proj.declarations, proj.level2, proj.level3, proj.quantitative) == (1, 2, 7, 7, 5)
    assert proj.mean_project_quantified_ratio == D("0.65")  # (4/5 + 1/2) ÷ 2
    assert proj.min_project_quantified_ratio == D("0.5")
    shown = stats.as_dict()["indicators"]
    assert shown["department"]["pooled_quantified_ratio"] == D("85.71")
    assert shown["department"]["mean_unit_quantified_ratio"] == D("83.33")
    assert shown["project"]["pooled_quantified_ratio"] == D("71.43")  # 5 ÷ 7
    assert shown["project"]["mean_unit_quantified_ratio"] == D("71.43")  # one unit: its own ratio
    assert shown["project"]["mean_project_quantified_ratio"] == D("65.00")


def test_units_and_projects_covered():
    stats = compute(dataset())
    assert stats.units == 4
    assert stats.units_covered == 2  # the 档案馆 and the 保密局 have no records
    # 农村危房改造, 建筑工人技能培训 (unit 101); 河道清淤, 山塘加固, 水毁修复 (unit 102)
    assert stats.projects == 5


def test_monitoring_figures_come_from_rules_monitoring():
    row = compute(dataset()).as_dict()["monitoring"][0]
    assert (row["units"], row["projects"]) == (1, 2)
    assert (row["budget"], row["executed"]) == (D("2000.00"), D("1400.00"))
    assert row["execution_rate"] == D("70.00")
    assert row["target_completion_rate"] == D("86.00")  # (1200 × 0.9 + 800 × 0.8) ÷ 2000
    assert row["deviation"] == D("16.00")
    # the projects' own self-evaluation scores are joined in: (95 + 85.5) ÷ 2
    assert row["average_score"] == D("90.25")


def test_monitoring_row_from_a_filled_form():
    form = {
        "project_name": "农村危房改造",
        "funds": {"annual_total": {"initial_budget": "300.00", "executed": "150.00"}},
        "indicators": [
            {"name": "改造户数", "operator": "≥", "target_value": "120", "actual_value": "60",
             "completion_likelihood": "确定能"},
            {"name": "满意度", "operator": "定性", "target_value": "较高", "completion_likelihood": "确定能"},
        ],
    }
    row = monitoring_row("住建局", form)
    assert (row["budget"], row["executed"]) == (D("300.00"), D("150.00"))
    assert row["completion_rate"] == D("0.75")  # (60/120 + 1) ÷ 2


def test_self_evaluation_average_and_grades():
    stats = compute(dataset())
    projects = stats.self_evaluations["project"]
    assert projects.count == 5 and projects.units == 2
    assert round(projects.average_score, 3) == D("82.097")  # 410.485 ÷ 5
    grades = projects.grades
    # 95 and 90 are 优; 85.5 and 79.995 (printed 80.00) are 良; 59.99 is 差
    assert [(g.label, g.count, g.share) for g in grades.grades] == [
        ("优", 2, D("40.00")), ("良", 2, D("40.00")), ("中", 0, D("0.00")), ("差", 1, D("20.00"))]
    assert stats.self_evaluations["department"].count == 1
    assert stats.as_dict()["self_evaluations"]["project"]["average_score"] == D("82.10")


def test_reviews_and_disclosure():
    stats = compute(dataset())
    assert stats.reviews.count == 2
    assert stats.as_dict()["reviews"]["average_score"] == D("69.28")
    disclosure = stats.as_dict()["disclosure"]
    assert (disclosure["units"], disclosure["required"], disclosure["published"]) == (4, 3, 2)
    assert disclosure["coverage"] == D("66.67")
    assert disclosure["excluded"] == [{"unit": "青溪县国家保密局", "reason": "涉密"}]


def test_thirds_share_out_the_last_hundredth():
    assert percent_shares([1, 1, 1]) == [D("33.34"), D("33.33"), D("33.33")]
    assert percent_shares([2, 1]) == [D("66.67"), D("33.33")]
    assert percent_shares([0, 0]) == [D("0.00"), D("0.00")]
    dist = grade_distribution(["91", "85", "70"])
    assert sum(g.share for g in dist.grades) == D("100.00")


@hsettings(max_examples=200, deadline=None)
@given(st.lists(st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False),
                min_size=1, max_size=60))
def test_grade_shares_add_to_100_and_counts_to_total(scores):
    dist = grade_distribution(scores)
    assert sum(g.count for g in dist.grades) == dist.total == len(scores)
    assert sum(g.share for g in dist.grades) == D("100.00")
    assert all(g.share == g.share.quantize(D("0.01")) for g in dist.grades)
    # each share is within one hundredth of its exact value
    for g in dist.grades:
        assert abs(g.share - D(g.count) * 100 / len(scores)) < D("0.01")


@pytest.mark.parametrize(
    ("units", "errors"),
    [
        ([{"unit": "", "disclosure": {}}], {"units.0.unit": ["必填。"]}),
        ([{"unit": "甲"}, {"unit": "甲"}], {"units.1.unit": ["与第1个单位重复。"]}),
        ([{"unit": "甲", "self_evaluations": [{"score": "120"}]}],
         {"units.0.self_evaluations.0.score": ["得分应在0至100分之间。"]}),
        ([{"unit": "甲", "reviews": [{"score": "好"}]}], {"units.0.reviews.0.score": ["请输入数字。"]}),
        ([{"unit": "甲", "disclosure": {"required": False}}],
         {"units.0.disclosure.reason": ["不公开的单位请说明原因（如涉密）。"]}),
        ([{"unit": "甲", "disclosure": {"published": "是"}}],
         {"units.0.disclosure.published": ["请选择“是”或“否”。"]}),
        ([{"unit": "甲", "monitoring": [{"project_name": "乙", "budget": "-1", "executed": "0"}]}],
         {"monitoring.rows.0.budget": ["不能为负数。"]}),
    ],
)
def test_bad_input_is_refused_with_paths(units, errors):
    with pytest.raises(StatisticsInputError) as exc:
        compute(units)
    assert exc.value.errors == errors


def test_condensed_records_give_the_same_statistics():
    """The reader of stored documents keeps each one condensed (indicator counts, monitoring
    figures): compute must give exactly what it gives on the whole records."""
    from rules.statistics import condensed

    def with_funds(likelihood="确定能"):
        units = dataset()
        units[1]["monitoring"] = [{
            "project_name": "河道清淤", "scope": "部门预算项目",
            "funds": {"annual_total": {"initial_budget": "300.00", "executed": "120.50"}},
            "indicators": [{"completion_likelihood": "确定能"}, {"completion_likelihood": likelihood}]}]
        return units

    def short(units):
        return [{**u, **{name: [condensed(name, r) for r in u.get(name) or []]
                         for name in ("declarations", "monitoring", "self_evaluations", "reviews")}}
                if isinstance(u, dict) else u for u in units]

    for units in (dataset(), with_funds()):
        assert all("indicators" not in r for u in short(units) for r in u["declarations"])
        assert compute(short(units)).as_dict() == compute(units).as_dict()
        assert compute(short(units)) == compute(units)
    (kept,) = short(with_funds())[1]["monitoring"]
    assert (kept["budget"], kept["executed"], kept["completion_rate"]) == (D("300.00"), D("120.50"), D("1"))
    # A record compute refuses stays whole: the same message names the same field.
    with pytest.raises(StatisticsInputError) as whole:
        compute(with_funds("有可能"))
    with pytest.raises(StatisticsInputError) as condensed_form:
        compute(short(with_funds("有可能")))
    assert condensed_form.value.errors == whole.value.errors


def test_counts_not_well_formed_are_counted_again():
    from rules.statistics import indicator_statistics

    units = [{"unit": "甲", "declarations": [{"scope": "project", "project_name": "P1", "indicators": P1,
                                              "indicator_counts": {"level2": "9", "level3": -1, "quantitative": 99}}]}]
    stats = indicator_statistics(units, "project")
    assert (stats.level2, stats.level3, stats.quantitative) == (5, 5, 4)
