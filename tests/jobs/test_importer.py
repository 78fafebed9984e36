"""Splitting a batch workbook by unit: row errors name sheet, row and column; no row ever reaches
another unit; headers in Chinese (with the period) or as glossary identifiers."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from jobs import importer
from jobs.samples import batch_workbook
from jobs.work import process_item
from tests.jobs.conftest import workbook

PROJECT_HEADER = ["单位编码", "单位名称", "项目编码", "项目名称", "年初预算数（万元）", "1-6月执行数（万元）", "年初设定目标"]
INDICATOR_HEADER = ["单位编码", "项目编码", "一级指标", "二级指标", "三级指标", "年度指标值", "1-6月执行情况",
                    "完成目标可能性", "偏差原因", "纠偏措施"]


def _book(formula: bool = False, **changes) -> bytes:
    sheets = {
        "参数": [["年度", 2024], ["监控期间", "1-6月"]],
        "项目": [PROJECT_HEADER,
                 ["A001", "甲单位", "P1", "项目一", 100, 50, "目标一"],
                 ["B002", "乙单位", "P2", "项目二", 200, "约一百", "目标二"],
                 [None, "丙单位", "P3", "项目三", 10, 5, "目标三"],
                 ["C003", "丙单位", "P4", "项目四", 300, 150, "目标四"]],
        "指标": [INDICATOR_HEADER,
                 ["A001", "P1", "产出指标", "数量指标", "培训人次", "≥10人", "6人", "确定能"],
                 ["B002", "P2", "产出指标", "数量指标", "检查次数", "≥10次", "6次", "确定能"],
                 ["C003", "P4", "产出指标", "数量指标", "新建公里数", "≥10公里", "2公里", "有可能"],
                 ["C003", "P9", "产出指标", "数量指标", "不存在的项目", "≥1个", "0个", "确定能"],
                 ["A001", "P1", "满意度指标", "服务对象满意度指标", "满意度", "≥90%", "92%", "确定能"]],
    }
    sheets.update(changes)
    return workbook(sheets, formula=formula)


def _run(unit: importer.UnitInput, tmp_path) -> dict:
    return process_item("monitoring", "xlsx", {"id": 1, "output_name": unit.output_name, "payload": unit.payload()},
                        str(tmp_path))


def test_row_errors_name_sheet_row_and_column(tmp_path):
    result = importer.read_batch_workbook(_book(), "monitoring")
    assert (result.year, result.period, result.fatal) == (2024, "1-6月", [])
    assert result.errors == ["工作表“项目”第4行A列（单位编码）：未填写单位编码，无法确定所属单位，本行未导入。"]
    units = {u.code: u for u in result.units}
    assert list(units) == ["A001", "B002", "C003"]

    assert _run(units["A001"], tmp_path)["status"] == "done"
    b = _run(units["B002"], tmp_path)
    assert b == {"id": 1, "status": "invalid",
                 "errors": ["工作表“项目”第3行F列（1-6月执行数（万元））：“1-X月执行数（万元）”应填金额数字，例如1234.56；读到的是“约一百”。"]}
    c = _run(units["C003"], tmp_path)
    assert c["status"] == "invalid"
    assert c["errors"] == [
        "工作表“指标”第5行B列（项目编码）：本单位没有编码为“P9”的项目（见工作表“项目”），该指标未导入。",
        "工作表“指标”第4行I列（偏差原因）：完成目标可能性为“有可能”时，请至少选择一项偏差原因。",
        "工作表“指标”第4行J列（纠偏措施）：完成目标可能性为“有可能”时，请填写纠偏（改进）措施。",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A001_甲单位.xlsx"]


def test_a_unit_gets_only_its_own_rows():
    generated = batch_workbook(30, seed=7)
    result = importer.read_batch_workbook(generated.data, "monitoring")
    assert len(result.units) == 30 and not result.errors
    book = load_workbook(io.BytesIO(generated.data), read_only=True)
    rows_of: dict[tuple[str, str], set[int]] = {}  # (sheet, unit code) → row numbers
    for sheet in ("项目", "指标"):
        rows = book[sheet].iter_rows(values_only=True)
        column = list(next(rows)).index("单位编码")
        for number, row in enumerate(rows, start=2):
            rows_of.setdefault((sheet, str(row[column])), set()).add(number)
    for unit in result.units:
        assert [f["project_code"] for f in unit.forms] == generated.unit_projects[unit.code]
        for form in unit.forms:
            assert form["unit"] == {"code": unit.code, "name": unit.name}
            assert len(form["indicators"]) == 5
        # the rows its values came from are exactly the workbook's rows holding this unit's code
        seen = {(src[0], src[1]) for sources in unit.sources for src in sources.values()}
        assert seen == {(sheet, n) for (sheet, code), numbers in rows_of.items() if code == unit.code
                        for n in numbers}


def test_rows_are_grouped_by_code_even_when_interleaved(tmp_path):
    book = _book(**{"指标": [INDICATOR_HEADER,
                             ["A001", "P1", "产出指标", "数量指标", "甲的指标", "≥10人", "6人", "确定能"],
                             ["C003", "P4", "产出指标", "数量指标", "丙的指标", "≥10公里", "9公里", "确定能"],
                             ["A001", "P1", "效益指标", "社会效益指标", "甲的第二个指标", "≥1个", "1个", "确定能"]]})
    units = {u.code: u for u in importer.read_batch_workbook(book, "monitoring").units}
    assert [i["name"] for i in units["A001"].forms[0]["indicators"]] == ["甲的指标", "甲的第二个指标"]
    assert [i["name"] for i in units["C003"].forms[0]["indicators"]] == ["丙的指标"]


def test_same_code_with_another_name_is_an_error_of_that_unit():
    rows = [PROJECT_HEADER, ["A001", "甲单位", "P1", "项目一", 100, 50, "目标"],
            ["A001", "甲单位（错）", "P2", "项目二", 100, 50, "目标"]]
    unit = importer.read_batch_workbook(_book(**{"项目": rows}), "monitoring").units[0]
    assert unit.errors[0] == ("工作表“项目”第3行B列（单位名称）：单位编码“A001”在第2行的单位名称为“甲单位”，"
                              "本行为“甲单位（错）”，请核对。")


def test_identifier_headers_and_parameters_from_arguments():
    rows = [["unit.code", "unit.name", "project_code", "project_name", "funds.annual_total.initial_budget",
             "funds.annual_total.executed", "annual_goal"],
            ["A001", "甲单位", "P1", "项目一", 100, 50, "目标"]]
    indicators = [["unit.code", "project_code", "level1", "level2", "name", "target_value", "actual_value",
                   "completion_likelihood"],
                  ["A001", "P1", "产出指标", "数量指标", "培训人次", "≥10人", "6人", "确定能"]]
    book = workbook({"projects": rows, "indicators": indicators})
    result = importer.read_batch_workbook(book, "monitoring", year=2025, period="1至9月")
    assert (result.year, result.period) == (2025, "1-9月")
    form = result.units[0].forms[0]
    assert form["funds"]["annual_total"] == {"initial_budget": 100, "executed": 50}
    assert form["indicators"][0]["target_value"] == "≥10人"


@pytest.mark.parametrize(("params", "message"), [
    ([], "请填写年度（工作表“参数”的“年度”，或在导入时指定）。"),
    ([["年度", 2024], ["监控期间", "上半年"]], "监控期间“上半年”格式不对，应写作“1-6月”这样的形式。"),
])
def test_missing_parameters_are_fatal(params, message):
    result = importer.read_batch_workbook(_book(**{"参数": params or [["说明", "无"]]}), "monitoring")
    assert message in result.fatal


def test_workbook_without_the_indicator_sheet():
    book = workbook({"项目": [PROJECT_HEADER]})
    with pytest.raises(importer.BatchImportError) as exc:
        importer.read_batch_workbook(book, "monitoring", year=2024, period="1-6月")
    assert exc.value.messages == ["找不到工作表“指标”。批量导入的工作簿应包含“项目”“指标”工作表（可下载示例工作簿对照）。"]


def test_hardened_reader_refuses_formulas_and_oversize():
    rows = [PROJECT_HEADER, ["A001", "甲单位", "P1", "项目一", "=1+1", 50, "目标"]]
    with pytest.raises(importer.BatchImportError) as exc:
        importer.read_batch_workbook(_book(formula=True, **{"项目": rows}), "monitoring")
    assert "工作表“项目”第2行E列：该单元格是公式，请改为填写数值。" in exc.value.messages
    with pytest.raises(importer.BatchImportError) as exc:
        importer.read_batch_workbook(_book(), "monitoring", max_bytes=1000)
    assert "超过了" in exc.value.messages[0]


def test_department_workbook_one_row_per_unit():
    generated = batch_workbook(5, seed=3, department=True, period="1-9月")
    result = importer.read_batch_workbook(generated.data, "department_monitoring")
    assert result.period == "1-9月" and len(result.units) == 5
    assert all(len(u.forms) == 1 and len(u.forms[0]["indicators"]) == 5 for u in result.units)


def test_output_names_are_safe_and_unique():
    taken: set[str] = set()
    assert importer.unique_output_name("001_../../etc", taken) == "001_._._etc.xlsx"
    assert importer.unique_output_name("A/1_甲", taken) == "A_1_甲.xlsx"
    assert importer.unique_output_name("A_1_甲", taken) == "A_1_甲_2.xlsx"
