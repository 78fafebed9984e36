"""rules/library.py: the shipped data, imports (CSV with Chinese headers, xlsx) and search."""

from decimal import Decimal

import pytest
from openpyxl import Workbook

from bench.library_search import run
from rules.indicators import validate_indicator_set
from rules.library import (
    COMMON_CATEGORIES,
    IndicatorLibrary,
    LibraryEntry,
    LibraryImportError,
    default_library,
    parse_table,
    read_file,
)
from rules.settings import load_settings


@pytest.fixture(scope="module")
def library():
    return default_library()


# ------------------------------------------------------------------------------ shipped data


@pytest.mark.parametrize("category", COMMON_CATEGORIES)
def test_each_common_category_is_a_valid_indicator_set(library, category):
    entries = library.search(category=category, limit=100)
    assert 8 <= len(entries) <= 20
    assert all(e.sector == "" for e in entries)
    assert validate_indicator_set([e.indicator() for e in entries]) == {}


@pytest.mark.parametrize("sector", ["教育", "卫生健康", "农业农村"])
def test_sector_libraries_are_shipped(library, sector):
    entries = library.search(sector=sector, limit=100)
    assert len(entries) >= 12
    rows = [e.indicator() for e in entries]
    assert {k: v for k, v in validate_indicator_set(rows).items() if k != "indicators"} == {}


def test_default_library_is_cached():
    assert default_library() is default_library()
    assert default_library().categories()[:11] == list(COMMON_CATEGORIES)
    assert default_library().sectors() == ["农业农村", "教育", "卫生健康"]


# ------------------------------------------------------------------------------ search


def names(entries):
    return [e.name for e in entries]


@pytest.mark.parametrize("query, kwargs, expected", [
    ("设备 完好率", {}, ["设备完好率"]),
    ("疫苗", {}, ["适龄儿童免疫规划疫苗接种率"]),
    ("满意度", {"category": "培训会议类"}, ["参训人员满意度"]),
    ("满意度", {"category": "培训会议"}, ["参训人员满意度"]),
    ("课题 结题", {}, ["课题结题验收通过率", "课题结题时间"]),
    ("满意度", {"sector": "教育"}, ["学生及家长满意度"]),
    ("量子纠缠", {}, []),
    ("培训", {"category": "因公出国类"}, []),
])
def test_search_finds_expected_entries(library, query, kwargs, expected):
    assert names(library.search(query, **kwargs)) == expected


def test_search_tolerates_a_different_word_ending(library):
    assert names(library.search("培训人数", limit=1)) == ["培训人次"]


def test_search_ranks_name_matches_first(library):
    results = library.search("培训", limit=50)
    in_name = ["培训" in e.name for e in results]
    assert in_name[0] and False in in_name
    assert in_name == sorted(in_name, reverse=True)  # every name match before any other match


def test_search_single_character_and_limit(library):
    results = library.search("率", limit=7)
    assert len(results) == 7
    assert all("率" in e.name for e in results)


@pytest.mark.parametrize("level1, captions", [
    ("满意度", {("满意度指标", "服务对象满意度指标")}),
    ("效益指标", {("效益指标", "经济效益指标"), ("效益指标", "社会效益指标"),
                ("效益指标", "生态效益指标"), ("效益指标", "可持续影响指标")}),
    # under the 101号 tree 成本 is a level 1; the 2020 rows 产出指标/成本指标 are what it means
    ("成本", {("产出指标", "成本指标")}),
])
def test_search_level1_filter(library, level1, captions):
    results = library.search("", level1=level1, limit=1000)
    assert results and {(e.level1, e.level2) for e in results} == captions


def test_empty_query_lists_in_library_order(library):
    assert library.search("", limit=3) == library.entries[:3]
    assert names(library.search("", category="因公出国类", limit=2)) == ["出访团组数", "出访人次"]


def test_entry_gives_an_indicator(library):
    entry = library.search("培训人次", category="培训会议类", limit=1)[0]
    assert entry.value_text == "≥400人次"
    indicator = entry.indicator(weight=Decimal("5"))
    assert (indicator.level1, indicator.level2, indicator.direction, indicator.weight) == (
        "产出指标", "数量指标", "positive", Decimal("5"))


def test_search_is_fast_at_5000_indicators():
    result = run(n=5000, repeat=2)
    assert result["n"] == 5000
    assert result["median_ms"] < 50


# ------------------------------------------------------------------------------ imports

CHINESE_CSV = """\
行业,类别,一级指标,二级指标,三级指标,指标性质,指标值,度量单位,指标解释
水利,农村供水,产出,数量,新建供水工程处数,≥,12,处,建成并通水的工程处数
水利,农村供水,产出指标,时效指标,工程完工时间,,2024年12月底前,,以完工验收为准
水利,农村供水,成本指标,经济成本指标,单方水投资,,≤8元/立方米,,工程投资÷设计供水能力
水利,农村供水,效益指标,社会效益指标,供水保障水平,定性,明显提升,,

水利,农村供水,满意度指标,服务对象满意度指标,受益群众满意度,>=,90,%,
"""

EXPECTED = [
    LibraryEntry("农村供水", "产出指标", "数量指标", "新建供水工程处数", "≥", "12", "处",
                 "建成并通水的工程处数", "水利", "water.csv:2"),
    LibraryEntry("农村供水", "产出指标", "时效指标", "工程完工时间", "≤", "2024年12月底前", "",
                 "以完工验收为准", "水利", "water.csv:3"),
    LibraryEntry("农村供水", "成本指标", "经济成本指标", "单方水投资", "≤", "8", "元/立方米",
                 "工程投资÷设计供水能力", "水利", "water.csv:4"),
    LibraryEntry("农村供水", "效益指标", "社会效益指标", "供水保障水平", "定性", "明显提升", "",
                 "", "水利", "water.csv:5"),
    LibraryEntry("农村供水", "满意度指标", "服务对象满意度指标", "受益群众满意度", "≥", "90", "%",
                 "", "水利", "water.csv:7"),
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_import_csv_with_chinese_headers(tmp_path, encoding):
    path = tmp_path / "water.csv"
    path.write_bytes(CHINESE_CSV.encode(encoding))
    assert read_file(path) == EXPECTED


def test_import_csv_with_glossary_headers_and_no_sector(tmp_path):
    path = tmp_path / "extra.csv"
    path.write_text("name,level1,level2,target_value,category\n巡查次数,产出,数量,≥12次,检查核查类\n",
                    encoding="utf-8")
    assert read_file(path) == [LibraryEntry("检查核查类", "产出指标", "数量指标", "巡查次数", "≥", "12",
                                            "次", "", "", "extra.csv:2")]


def test_import_xlsx(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "农村供水"
    sheet.append(["行业", "类别", "一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "指标解释"])
    sheet.append(["水利", "农村供水", "产出指标", "数量指标", "新建供水工程处数", "≥", 12, "处", None])
    sheet.append(["水利", "农村供水", "产出指标", "质量指标", "水质达标率", "≥", 95.5, "%", "抽检合格÷抽检×100%"])
    sheet.append([None] * 9)
    second = workbook.create_sheet("河道治理")
    second.append(["行业", "类别", "一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "指标解释"])
    second.append(["水利", "河道治理", "效益指标", "生态效益指标", "治理河道长度", "≥", 20.0, "公里", ""])
    path = tmp_path / "water.xlsx"
    workbook.save(path)

    library = IndicatorLibrary().load(tmp_path)
    assert [(e.category, e.name, e.operator, e.target_value, e.measure_unit, e.explanation)
            for e in library] == [
        ("农村供水", "新建供水工程处数", "≥", "12", "处", ""),
        ("农村供水", "水质达标率", "≥", "95.5", "%", "抽检合格÷抽检×100%"),
        ("河道治理", "治理河道长度", "≥", "20", "公里", ""),
    ]
    assert names(library.search("河道")) == ["治理河道长度"]
    assert [e.source for e in library] == ["water.xlsx[农村供水]:2", "water.xlsx[农村供水]:3",
                                           "water.xlsx[河道治理]:2"]


def test_import_reports_every_bad_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("一级指标,二级指标,三级指标,指标性质,指标值,度量单位\n"
                    "产出指标,数量指标,,≥,5,个\n"
                    "投入指标,预算执行,执行率,≥,90,%\n"
                    "产出指标,数量指标,x,约,5,个\n"
                    "产出指标,数量指标,y,,,\n", encoding="utf-8")
    with pytest.raises(LibraryImportError) as info:
        read_file(path)
    assert info.value.errors == {
        "bad.csv:2.name": ["三级指标为空：请填写三级指标"],
        "bad.csv:3.level2": ["“投入指标/预算执行”不是指标体系中的一级/二级指标：请按产出指标/数量指标这样的写法填写"],
        "bad.csv:4.operator": ["指标性质“约”无法识别：请填写≥、≤、=或定性"],
        "bad.csv:5.target_value": ["指标性质和指标值均为空：请至少填写其中一项"],
    }


def test_import_without_a_usable_header():
    with pytest.raises(LibraryImportError) as info:
        parse_table([["指标", "值"], ["a", "1"]], "odd.csv")
    assert info.value.errors == {"odd.csv": [
        "第1行表头缺少一级指标、二级指标、三级指标列：请使用行业、类别、一级指标、二级指标、三级指标、"
        "指标性质、指标值、度量单位、指标解释（或对应英文标识）作为表头"]}


def test_load_is_all_or_nothing(tmp_path):
    (tmp_path / "a.csv").write_text("一级指标,二级指标,三级指标,指标值\n产出,数量,巡查次数,≥12次\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("一级指标,二级指标,三级指标,指标值\n投入,x,y,1\n", encoding="utf-8")
    library = IndicatorLibrary()
    with pytest.raises(LibraryImportError) as info:
        library.load(tmp_path)
    assert list(info.value.errors) == ["b.csv:2.level2"]
    assert len(library) == 0


@pytest.mark.parametrize("name, message", [
    ("missing.csv", "找不到指标库文件或目录：请检查路径"),
])
def test_load_missing_path(tmp_path, name, message):
    with pytest.raises(LibraryImportError) as info:
        IndicatorLibrary().load(tmp_path / name)
    assert info.value.errors == {str(tmp_path / name): [message]}


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "lib.xls"
    path.write_bytes(b"")
    with pytest.raises(LibraryImportError) as info:
        read_file(path)
    assert info.value.errors == {"lib.xls": ["不支持的文件类型“.xls”：请使用CSV或xlsx文件"]}


def test_extra_paths_setting_extends_the_default_library(tmp_path):
    (tmp_path / "water.csv").write_bytes(CHINESE_CSV.encode("utf-8"))
    settings = load_settings({"declaration": {"library": {"extra_paths": [str(tmp_path)]}}})
    extended = default_library(settings)
    assert len(extended) == len(default_library()) + 5
    assert names(extended.search("供水", sector="水利")) == [
        "供水保障水平", "新建供水工程处数", "单方水投资", "工程完工时间", "受益群众满意度"]
