"""Tests for the evaluation frameworks (data files), their loader/validator and framework scoring."""

from __future__ import annotations

import copy
import json
import tomllib
from decimal import Decimal as D

import pytest

from rules.frameworks import (
    FRAMEWORKS_DIR,
    FrameworkError,
    framework_from_data,
    list_frameworks,
    load_framework,
    read_framework_file,
    score_framework,
    validate_framework,
    validate_framework_scores,
)
from rules.settings import load_settings

BUILT_IN = ["project_2020", "department_2013", "department_sichuan", "ex_ante"]


def raw(name: str) -> dict:
    return read_framework_file(FRAMEWORKS_DIR / f"{name}.toml")


# --------------------------------------------------------------------------- the data files

@pytest.mark.parametrize("name", BUILT_IN)
def test_built_in_frameworks_are_valid(name):
    assert validate_framework(raw(name)) == {}
    framework = load_framework(name)
    assert framework.id == name
    assert framework.total_points == D(100)
    for item in framework.walk():
        if item.items:
            assert sum(child.points for child in item.items) == item.points, item.name
    assert framework.points_are_local_default  # no national points: each file says so


@pytest.mark.parametrize("name, kind, dimensions", [
    ("project_2020", "project_evaluation", [("决策", 20), ("过程", 20), ("产出", 30), ("效益", 30)]),
    ("department_2013", "department_evaluation", [("投入", 15), ("过程", 35), ("产出", 20), ("效果", 30)]),
    ("department_sichuan", "department_evaluation", [("部门决策", 25), ("综合管理", 30), ("部门绩效情况", 45)]),
    ("ex_ante", "ex_ante_assessment",
     [("立项必要性", 20), ("投入经济性", 20), ("绩效目标合理性", 20), ("实施方案可行性", 20), ("筹资合规性", 20)]),
])
def test_first_level_dimensions(name, kind, dimensions):
    framework = load_framework(name)
    assert framework.kind == kind
    assert [(i.name, i.points) for i in framework.items] == [(n, D(p)) for n, p in dimensions]


def test_project_framework_structure():
    framework = load_framework("project_2020")
    assert [i.name for i in framework.items[0].items] == ["项目立项", "绩效目标", "资金投入"]
    assert [i.name for i in framework.items[1].items] == ["资金管理", "组织实施"]
    assert [i.name for i in framework.items[2].items] == ["产出数量", "产出质量", "产出时效", "产出成本"]
    assert framework.item("2.1.1").name == "资金到位率"
    assert framework.item("2.1.1").level == 3
    assert len(framework.leaves()) == 17


def test_department_framework_structure():
    framework = load_framework("department_2013")
    assert [i.name for i in framework.items[1].items] == ["预算执行", "预算管理", "资产管理"]
    assert len(framework.items[1].items[0].items) == 8


def test_ex_ante_framework_has_two_ten_point_items_per_dimension():
    framework = load_framework("ex_ante")
    for dimension in framework.items:
        assert [c.points for c in dimension.items] == [D(10), D(10)]


def test_ex_ante_policy_variant():
    framework = load_framework("ex_ante", variant="policy")
    assert [i.name for i in framework.items] == [
        "政策设立必要性", "政策保障充分性", "政策目标合理性", "政策实施可持续性", "政策资金合规性"]
    assert framework.title == "政策事前绩效评估指标体系"
    assert framework.variant == "policy"
    assert framework.items[0].items[0].name == "明确相关性"   # items without a variant label keep theirs


def test_unknown_variant():
    with pytest.raises(FrameworkError) as info:
        load_framework("project_2020", variant="policy")
    assert "没有变体“policy”" in info.value.messages["variants"][0]


@pytest.mark.parametrize("kind, expected", [
    ("project_evaluation", "project_2020"),
    ("department_evaluation", "department_2013"),
    ("ex_ante_assessment", "ex_ante"),
])
def test_load_by_kind(kind, expected):
    assert load_framework(kind=kind).id == expected


def test_kind_setting_selects_the_variant():
    settings = load_settings({"scoring": {"frameworks": {"department_evaluation": "department_sichuan"}}})
    assert load_framework(kind="department_evaluation", settings=settings).id == "department_sichuan"


def test_load_errors():
    with pytest.raises(ValueError):
        load_framework()
    with pytest.raises(FileNotFoundError):
        load_framework("no_such_framework")


def test_list_frameworks():
    assert sorted(f["id"] for f in list_frameworks()) == sorted(BUILT_IN)


# --------------------------------------------------------------------------- a bureau's own files

def test_bureau_directory_shadows_built_in(tmp_path):
    data = raw("project_2020")
    data["title"] = "某市项目支出绩效评价指标体系"
    data["items"][0]["points"] = 15                          # 决策 15, 产出 35
    data["items"][0]["items"][2]["points"] = 3
    data["items"][0]["items"][2]["items"] = [{"name": "预算编制科学性", "points": "1.5"},
                                             {"name": "资金分配合理性", "points": "1.5"}]
    data["items"][2]["points"] = 35
    data["items"][2]["items"][0]["points"] = 13
    data["items"][2]["items"][0]["items"][0]["points"] = 13
    (tmp_path / "project_2020.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    settings = load_settings({"scoring": {"frameworks": {"directory": str(tmp_path)}}})
    framework = load_framework(kind="project_evaluation", settings=settings)
    assert framework.title == "某市项目支出绩效评价指标体系"
    assert [i.points for i in framework.items] == [D(15), D(20), D(35), D(30)]
    assert framework.item("1.3.1").points == D("1.5")
    listed = {f["id"]: f["path"] for f in list_frameworks(settings)}
    assert listed["project_2020"].startswith(str(tmp_path))
    assert load_framework("project_2020").title == "项目支出绩效评价指标体系框架"   # built-in untouched


def test_load_by_path_and_float_points(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        'id = "mine"\ntitle = "自定义"\nkind = "project_evaluation"\n'
        '[[items]]\nname = "甲"\npoints = 62.5\n'
        '  [[items.items]]\n  name = "甲一"\n  points = 31.25\n'
        '  [[items.items]]\n  name = "甲二"\n  points = 31.25\n'
        '[[items]]\nname = "乙"\npoints = 37.5\n', encoding="utf-8")
    framework = load_framework(path)
    assert [i.points for i in framework.items] == [D("62.5"), D("37.5")]
    assert framework.item("1.2").points == D("31.25")


def test_invalid_file_is_refused(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        'id = "bad"\ntitle = "坏"\nkind = "ex_ante_assessment"\n[[items]]\nname = "甲"\npoints = 90\n',
        encoding="utf-8")
    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    assert info.value.messages == {"items": ["一级指标分值合计应为100分，实际为90分"]}


# --------------------------------------------------------------------------- validation failures

def _mutate(name, func):
    data = copy.deepcopy(raw(name))
    func(data)
    return data


def _set_points(*path_and_value):
    *path, value = path_and_value

    def apply(data):
        node = data["items"]
        for index in path[:-1]:
            node = node[index]["items"]
        node[path[-1]]["points"] = value
    return apply


@pytest.mark.parametrize("name, mutate, path, message", [
    ("project_2020", _set_points(0, 15), "items", "一级指标分值合计应为100分，实际为95分"),
    ("project_2020", _set_points(0, 15), "items.0.items", "“决策”下各项分值合计（20分）应等于其分值（15分）"),
    ("project_2020", _set_points(0, 0, 0, 4), "items.0.items.0.items",
     "“项目立项”下各项分值合计（7分）应等于其分值（6分）"),
    ("ex_ante", _set_points(4, 1, "9.5"), "items.4.items", "“筹资合规性”下各项分值合计（19.5分）应等于其分值（20分）"),
    ("ex_ante", _set_points(0, -20), "items.0.points", "“立项必要性”的分值须大于0，实际为-20分"),
    ("ex_ante", _set_points(0, 0), "items.0.points", "“立项必要性”的分值须大于0，实际为0分"),
    ("ex_ante", _set_points(0, "二十"), "items.0.points", "“立项必要性”须填写分值（数值）"),
    ("ex_ante", _set_points(0, True), "items.0.points", "“立项必要性”须填写分值（数值）"),
    ("ex_ante", lambda d: d["items"][0].pop("points"), "items.0.points", "“立项必要性”须填写分值（数值）"),
    ("ex_ante", lambda d: d["items"][1].update(name=""), "items.1.name", "须填写指标名称"),
    ("ex_ante", lambda d: d["items"][1].update(name="立项必要性"), "items.1.name", "同一层级下指标名称“立项必要性”重复"),
    ("ex_ante", lambda d: d["items"][0].update(items=[]), "items.0.items", "“立项必要性”的下级指标不能为空"),
    ("ex_ante", lambda d: d.update(items=[]), "items", "须至少包含一个指标"),
    ("ex_ante", lambda d: d.pop("items"), "items", "须至少包含一个指标"),
    ("ex_ante", lambda d: d["items"].append("立项"), "items.5", "指标须为表（name、points）"),
    ("ex_ante", lambda d: d.update(kind="budget"), "kind", "框架类型（kind）“budget”无效"),
    ("ex_ante", lambda d: d.pop("id"), "id", "须填写框架标识（id）"),
    ("ex_ante", lambda d: d.update(title=" "), "title", "须填写框架名称（title）"),
    ("ex_ante", lambda d: d["items"][0].update(variants={"local": "甲"}), "items.0.variants",
     "变体“local”未在框架的variants中声明"),
    ("ex_ante", lambda d: d["items"][0].update(variants={"policy": ""}), "items.0.variants",
     "变体“policy”的指标名称不能为空"),
    ("ex_ante", lambda d: d["items"][0].update(variants="政策"), "items.0.variants", "variants须为"),
    ("ex_ante", lambda d: d.update(variants=["policy"]), "variants", "variants须为"),
])
def test_validation_failures(name, mutate, path, message):
    errors = validate_framework(_mutate(name, mutate))
    assert any(message in m for m in errors.get(path, [])), errors
    with pytest.raises(FrameworkError):
        framework_from_data(_mutate(name, mutate))


def test_sum_is_not_reported_when_points_are_missing():
    errors = validate_framework(_mutate("ex_ante", _set_points(0, "二十")))
    assert "items" not in errors       # only the bad cell is reported, not a misleading total


def test_decimal_points_are_exact():
    data = tomllib.loads(
        'id = "x"\ntitle = "x"\nkind = "department_evaluation"\n'
        '[[items]]\nname = "甲"\npoints = "33.33"\n[[items]]\nname = "乙"\npoints = "33.33"\n'
        '[[items]]\nname = "丙"\npoints = "33.34"\n')
    assert validate_framework(data) == {}
    data["items"][2]["points"] = "33.33"
    assert validate_framework(data) == {"items": ["一级指标分值合计应为100分，实际为99.99分"]}


# --------------------------------------------------------------------------- scoring a filled framework

def ex_ante_scores(*values):
    """Scores for the ten ex-ante leaves: one value for all, or ten values."""
    leaves = load_framework("ex_ante").leaves()
    values = values * len(leaves) if len(values) == 1 else values
    return {leaf.code: value for leaf, value in zip(leaves, values, strict=True)}


@pytest.mark.parametrize("scores, total, grade, conclusion", [
    (ex_ante_scores(10), "100.00", "excellent", "support"),
    (ex_ante_scores(9), "90.00", "excellent", "support"),
    (ex_ante_scores(*[9] * 9, "8.99"), "89.99", "good", "support"),
    (ex_ante_scores(8), "80.00", "good", "support"),
    (ex_ante_scores(*[8] * 9, "7.99"), "79.99", "fair", "conditional"),
    (ex_ante_scores(*[8] * 9, "7.995"), "80.00", "good", "support"),      # leaf half-up to 8.00
    (ex_ante_scores(6), "60.00", "fair", "conditional"),
    (ex_ante_scores(*[6] * 9, "5.99"), "59.99", "poor", "reject"),
    (ex_ante_scores(0), "0.00", "poor", "reject"),
])
def test_score_ex_ante(scores, total, grade, conclusion):
    result = score_framework(load_framework("ex_ante"), scores)
    assert str(result["total"]) == total
    assert result["grade"] == grade
    assert result["conclusion"] == conclusion


def test_ex_ante_conclusion_labels_and_settings():
    framework = load_framework("ex_ante", variant="policy")
    result = score_framework(framework, ex_ante_scores(*[9, 8] * 5))
    assert (str(result["total"]), result["conclusion_label"]) == ("85.00", "予以支持")
    assert result["dimensions"][0]["name"] == "政策设立必要性"
    strict = load_settings({"scoring": {"ex_ante": {"support": {"min": 90}}}})
    assert score_framework(framework, ex_ante_scores(*[9, 8] * 5), strict)["conclusion_label"] == "调整完善后予以支持"


def test_item_ratings():
    result = score_framework(load_framework("ex_ante"), ex_ante_scores(9, 8, 10, 10, 6, 5, "5.99", 7, 10, 9))
    by_code = {r["code"]: r for r in result["items"]}
    assert [(by_code[c]["grade_label"]) for c in ("1.1", "1.2", "3.1", "3.2", "4.1")] == ["优", "良", "中", "差", "差"]
    assert [(d["name"], str(d["score"]), d["grade_label"]) for d in result["dimensions"]] == [
        ("立项必要性", "17.00", "良"),
        ("投入经济性", "20.00", "优"),
        ("绩效目标合理性", "11.00", "差"),
        ("实施方案可行性", "12.99", "中"),
        ("筹资合规性", "19.00", "优"),
    ]
    assert str(result["total"]) == "79.99"


def test_score_project_framework():
    framework = load_framework("project_2020")
    scores = {leaf.code: leaf.points for leaf in framework.leaves()}
    scores["1.1.1"] = D("2.5")        # 决策 19.5
    scores["3.4.1"] = D("3.55")       # 产出 26.55
    scores["4.1.2"] = "8.333"         # 效益 28.33 (leaf half-up)
    result = score_framework(framework, scores)
    assert [(d["name"], str(d["score"])) for d in result["dimensions"]] == [
        ("决策", "19.50"), ("过程", "20.00"), ("产出", "26.55"), ("效益", "28.33")]
    assert str(result["total"]) == "94.38"
    assert (result["grade"], result["grade_label"]) == ("excellent", "优")
    assert "conclusion" not in result
    assert [r["code"] for r in result["items"]][:4] == ["1", "1.1", "1.1.1", "1.1.2"]


@pytest.mark.parametrize("change, path, message", [
    ({"1.1": None}, "scores.1.1", "“明确相关性”（1.1）未评分"),
    ({"1.1": ""}, "scores.1.1", "“明确相关性”（1.1）未评分"),
    ({"1.1": "十"}, "scores.1.1", "“明确相关性”（1.1）的得分不是数值"),
    ({"1.1": D("10.01")}, "scores.1.1", "“明确相关性”（1.1）的得分应在0分至10分之间，实际为10.01分"),
    ({"1.1": "10.005"}, "scores.1.1", "实际为10.01分"),            # half-up before the check
    ({"1.1": D(-1)}, "scores.1.1", "实际为-1分"),
    ({"9.9": D(1)}, "scores.9.9", "框架中没有末级指标“9.9”"),
    ({"1": D(20)}, "scores.1", "框架中没有末级指标“1”"),             # only leaves are scored
])
def test_score_validation(change, path, message):
    framework = load_framework("ex_ante")
    scores = {**ex_ante_scores(8), **change}
    errors = validate_framework_scores(framework, scores)
    assert any(message in m for m in errors.get(path, [])), errors
    with pytest.raises(FrameworkError):
        score_framework(framework, scores)


def test_missing_leaf_is_reported():
    framework = load_framework("ex_ante")
    scores = ex_ante_scores(8)
    del scores["5.2"]
    assert validate_framework_scores(framework, scores) == {"scores.5.2": ["“资金来源可靠性”（5.2）未评分"]}


def test_upper_bound_after_rounding_is_allowed():
    framework = load_framework("ex_ante")
    result = score_framework(framework, {**ex_ante_scores(10), "1.1": "9.995"})
    assert str(result["total"]) == "100.00"
