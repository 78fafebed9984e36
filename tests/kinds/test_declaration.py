"""绩效目标申报表: the official layout read back from xlsx (captions, merged groups, number formats,
print setup, drop-downs, locked cells), docx with the same table, the import round trip of
generated and blank forms, and errors located by sheet, row and column."""

from __future__ import annotations

import copy
import importlib.util
import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from lxml import etree

import kinds
from forms.base import FieldErrors
from forms.settings import load_settings
from generators import declaration as layout
from kinds import pipeline
from rules.settings import defaults
from tests.conftest import load_sample

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
HAS_DOCX = importlib.util.find_spec("generators.tables.docx") is not None
SAMPLES = [("target_declaration", "health_training_2025"),
           ("target_declaration", "rural_road_safety_2025_tree101"),
           ("department_target_declaration", "agriculture_bureau_2025")]


def _validated(kind_id, name):
    return pipeline.validate(kind_id, load_sample(kind_id, name))


def _sheet(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content)).active


def _column_a(ws) -> dict[str, int]:
    return {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value}


# ------------------------------------------------------------------------------ xlsx layout


def test_project_xlsx_carries_the_official_captions_and_group_merges():
    data = _validated("target_declaration", "health_training_2025")
    ws = _sheet(pipeline.render("target_declaration", data, "xlsx"))
    assert ws.title == "项目支出绩效目标申报表"
    assert ws["A1"].value == "项目支出绩效目标申报表" and ws["A2"].value == "（2025年度）"
    captions = _column_a(ws)
    for caption in ("项目名称", "主管部门及代码", "项目属性", "项目资金\n（万元）", "总体目标", "中期绩效指标",
                    "年度绩效指标", "项目负责人"):
        assert caption in captions, caption
    assert [ws.cell(captions["年度绩效指标"], c).value for c in range(2, 9)] == [
        "一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "指标解释"]
    assert ws["E4"].value == "实施单位" and ws["E5"].value == "项目期"
    assert [ws[f"B{r}"].value for r in range(7, 13)] == [
        "中期资金总额", "　其中：财政拨款", "　　　　其他资金", "年度资金总额", "　其中：财政拨款", "　　　　其他资金"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    # The annual block: caption over header + 10 rows; 产出 (6 rows: 数量×3, 质量, 时效, 成本),
    # 效益 (2 rows of 社会效益), 满意度 (2 rows); level 2 merged within each.
    # each block's label in its caption row, the column below it one empty area (as in the PDF)
    assert {"A25:A34", "B25:B30", "C25:C27", "B31:B32", "C31:C32", "B33:B34", "C33:C34"} <= merged
    assert {"A16:A23", "B16:B20", "C16:C17", "B21:B22"} <= merged  # mid-term block
    assert not {"A15:A23", "A24:A34"} & merged
    assert {"A7:A12", "E7:H7", "A13:A14", "B14:D14", "E14:H14", "A1:H1"} <= merged
    assert not {"C28:C28", "C21:C22"} & merged  # single 质量/时效 rows and distinct level 2s stay unmerged
    assert ws["B25"].value == "产出指标" and ws["C25"].value == "数量指标" and ws["D26"].value == "培训人次"
    assert (ws["E26"].value, ws["F26"].value, ws["G26"].value) == ("≥", "520", "人次")


def test_project_xlsx_money_print_setup_dropdowns_and_protection():
    data = _validated("target_declaration", "health_training_2025")
    ws = _sheet(pipeline.render("target_declaration", data, "xlsx"))
    assert ws["E7"].value == 186 and ws["E7"].number_format == "#,##0.00"
    assert ws["E10"].value == 62.5 and ws["E10"].number_format == "#,##0.00"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    # Two indicator blocks (中期, 年度): no one run of print titles fits both, so the page breaks
    # after the basic information and the blocks start page 2 under their own captions (row 15).
    assert ws.print_title_rows is None
    assert [brk.id for brk in ws.row_breaks.brk] == [14] and ws["A15"].value == "中期绩效指标"
    assert ws.print_area == "'项目支出绩效目标申报表'!$A$1:$H$38"
    lists = {dv.formula1.strip('"'): str(dv.sqref) for dv in ws.data_validations.dataValidation}
    assert lists["≥,≤,=,定性"] == "E16:E23 E25:E34"
    units = next(k for k in lists if k.startswith("%,"))
    assert "人次" in units.split(",") and lists[units] == "G16:G23 G25:G34"
    assert ws.protection.sheet
    assert not ws["E7"].protection.locked and not ws["F26"].protection.locked  # entries
    assert ws["A7"].protection.locked and ws["B25"].value and ws["D24"].protection.locked  # captions


def test_department_xlsx_tasks_total_is_computed_and_locked():
    data = _validated("department_target_declaration", "agriculture_bureau_2025")
    ws = _sheet(pipeline.render("department_target_declaration", data, "xlsx"))
    captions = _column_a(ws)
    for caption in ("部门（单位）名称", "职能职责概述", "年度主要任务", "年度部门整体支出预算\n（万元）", "年度总体目标",
                    "年度绩效指标", "填报人"):
        assert caption in captions, caption
    tasks = captions["年度主要任务"]
    total_row = tasks + 6  # header + 5 tasks
    assert ws.cell(total_row, 2).value == "合计"
    total = ws.cell(total_row, 7)
    assert total.value == pytest.approx(3972.75) and total.protection.locked
    assert not ws.cell(tasks + 1, 7).protection.locked
    assert f"A{tasks}:A{total_row}" in {str(r) for r in ws.merged_cells.ranges}


# ------------------------------------------------------------------------------ import round trip


@pytest.mark.parametrize(("kind_id", "name"), SAMPLES)
def test_importing_the_generated_xlsx_gives_back_the_same_data(kind_id, name):
    data = _validated(kind_id, name)
    content = pipeline.render(kind_id, data, "xlsx")
    payload, _locate = layout.read_declaration(kind_id, content, defaults())
    assert pipeline.validate(kind_id, payload) == data


def _fill(content: bytes, kind_id: str, values: dict) -> bytes:
    """A clerk filling the blank form in Excel: values typed at the cells of their keys."""
    labels = layout.cell_labels(layout.blank_workbook(kind_id, defaults()).sheets[0])
    book = openpyxl.load_workbook(io.BytesIO(content))
    for key, value in values.items():
        row, col, _ = labels[key]
        book.active.cell(row + 1, col + 1).value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _blank(kind_id: str) -> bytes:
    from generators.tables.xlsx import render_xlsx

    return render_xlsx(layout.blank_workbook(kind_id, defaults()))


def _typed(data: dict, kind_id: str) -> dict:
    """The cells a clerk types for `data` (numbers as numbers, rows with gaps, captions once)."""
    values = {"year": f"（{data['year']}年度）"}
    schema = kinds.get(kind_id).schema_instance()
    for key, value in schema.dump(data).items():
        if key in ("year", "indicators", "tasks") or value in ("", None):
            continue
        if isinstance(value, dict):
            values.update({f"{key}.{k}": Decimal(v) for k, v in value.items()})
        else:
            values[key] = value
    for i, task in enumerate(data.get("tasks", [])):
        values.update({f"tasks.{i}.name": task["name"], f"tasks.{i}.content": task["content"],
                       f"tasks.{i}.amount": float(task["amount"])})
    blocks = data["indicators"] if isinstance(data["indicators"], dict) else {"": data["indicators"]}
    for block, rows in blocks.items():
        prefix = f"indicators.{block}." if block else "indicators."
        previous = None
        for i, row in enumerate(rows):
            j = i + 1 if block == "annual" else i  # a blank first row in the annual block
            for field in layout.INDICATOR_FIELDS:
                value = row[field]
                if field == "level1" and previous and value == previous["level1"]:
                    continue  # written once per group, as clerks do
                if field == "target_value" and re.fullmatch(r"\d+", value):
                    value = int(value)
                if value != "":
                    values[f"{prefix}{j}.{field}"] = value
            previous = row
    return values


@pytest.mark.parametrize(("kind_id", "name"), [SAMPLES[0], SAMPLES[2]])
def test_a_filled_blank_form_imports_to_the_same_data(kind_id, name):
    data = _validated(kind_id, name)
    content = _fill(_blank(kind_id), kind_id, _typed(data, kind_id))
    payload, _locate = layout.read_declaration(kind_id, content, defaults())
    assert pipeline.validate(kind_id, payload) == data


def test_blank_form_has_empty_unlocked_rows_and_dropdowns():
    settings = defaults()
    ws = _sheet(_blank("target_declaration"))
    captions = _column_a(ws)
    assert captions["年度绩效指标"] - captions["中期绩效指标"] == 1 + settings["target_declaration"]["blank_form"]["midterm_rows"]
    first = captions["中期绩效指标"] + 1
    assert all(ws.cell(first, c).value is None and not ws.cell(first, c).protection.locked for c in range(2, 9))
    lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation}
    assert lists[f"B{first}"] == '"产出指标,效益指标,满意度指标"'
    tree101 = openpyxl.load_workbook(io.BytesIO(
        __import__("generators.tables.xlsx", fromlist=["render_xlsx"]).render_xlsx(
            layout.blank_workbook("target_declaration", settings, "2021")))).active
    formulas = [dv.formula1 for dv in tree101.data_validations.dataValidation]
    assert '"成本指标,产出指标,效益指标,满意度指标"' in formulas


def test_rows_inserted_inside_a_block_are_read():
    data = _validated("target_declaration", "health_training_2025")
    settings = load_settings({"target_declaration": {"blank_form": {"annual_rows": 20}}})
    from generators.tables.xlsx import render_xlsx

    content = render_xlsx(layout.blank_workbook("target_declaration", settings))
    labels = layout.cell_labels(layout.blank_workbook("target_declaration", settings).sheets[0])
    book = openpyxl.load_workbook(io.BytesIO(content))
    for key, value in _typed(data, "target_declaration").items():
        if key.startswith("indicators.annual."):
            _, _, index, field = key.split(".")
            key = f"indicators.annual.{int(index) + 8}.{field}"  # rows further down a longer block
        row, col, _ = labels[key]
        book.active.cell(row + 1, col + 1).value = value
    out = io.BytesIO()
    book.save(out)
    payload, _ = layout.read_declaration("target_declaration", out.getvalue(), defaults())
    assert pipeline.validate("target_declaration", payload) == data


def test_import_errors_name_sheet_row_column_and_caption():
    data = _validated("target_declaration", "health_training_2025")
    values = _typed(data, "target_declaration")
    values["annual_funds.fiscal_appropriation"] = Decimal("50.50")
    values["indicators.annual.4.target_value"] = "很多"  # the 4th filled annual row, sheet row 5 of the block
    content = _fill(_blank("target_declaration"), "target_declaration", values)
    payload, locate = layout.read_declaration("target_declaration", content, defaults())
    with pytest.raises(FieldErrors) as exc:
        pipeline.validate("target_declaration", payload)
    sheet = "工作表“项目支出绩效目标申报表”"
    annual_first = 15 + 12 + 1  # title rows … mid-term header at 15, 12 blank rows, annual header
    assert locate(exc.value.errors) == {
        "annual_funds.total": [f"{sheet}第10行E列（年度资金总额）：年度资金总额（62.50万元）不等于财政拨款（50.50万元）"
                               "与其他资金（6.00万元）之和（56.50万元）：请核对后重新填写。"],
        "indicators.annual.3.target_value": [
            f"{sheet}第{annual_first + 5}行F列（指标值）：定量指标的指标值“很多”不是数字：请填写数字（时效指标可填日期，"
            "如“12月31日”），单位写在度量单位栏；确实无法量化的，请将指标性质改为“定性”。"],
    }


def test_set_level_errors_point_at_the_block():
    data = _validated("target_declaration", "health_training_2025")
    values = {k: v for k, v in _typed(data, "target_declaration").items()
              if not (k.startswith("indicators.annual.") and k.split(".")[2] in ("7", "8"))}  # drop 效益 rows
    content = _fill(_blank("target_declaration"), "target_declaration", values)
    payload, locate = layout.read_declaration("target_declaration", content, defaults())
    with pytest.raises(FieldErrors) as exc:
        pipeline.validate("target_declaration", payload)
    assert locate(exc.value.errors)["indicators.annual"] == [
        "工作表“项目支出绩效目标申报表”第28行起（年度绩效指标）：年度绩效指标中缺少效益指标：请至少填写一项效益指标"
        "（经济效益、社会效益、生态效益或可持续影响）。"]


def test_a_moved_caption_is_refused_with_its_cell():
    from generators.tables.reader import XlsxImportError

    book = openpyxl.load_workbook(io.BytesIO(_blank("target_declaration")))
    book.active["E4"].value = "承办单位"
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(XlsxImportError) as exc:
        layout.read_declaration("target_declaration", out.getvalue(), defaults())
    assert exc.value.messages == ["工作表“项目支出绩效目标申报表”第4行E列：此处应为“实施单位”，实际为“承办单位”。"
                                  "请使用系统下载的空白表填写，不要增删行列。"]


def test_a_workbook_of_another_form_is_refused():
    from generators.tables.reader import XlsxImportError

    with pytest.raises(XlsxImportError) as exc:
        layout.read_declaration("department_target_declaration", _blank("target_declaration"), defaults())
    assert exc.value.messages == ["找不到工作表“部门整体支出绩效目标申报表”。请使用系统下载的空白表填写，不要修改工作表名称。"]


# ------------------------------------------------------------------------------ grid model


def test_group_runs_follow_the_tree_order_whatever_the_input_order():
    payload = load_sample("target_declaration", "health_training_2025")
    payload["indicators"]["annual"].reverse()
    data = pipeline.validate("target_declaration", payload)
    assert [r["level1"] for r in data["indicators"]["annual"]] == ["产出指标"] * 6 + ["效益指标"] * 2 + ["满意度指标"] * 2
    sheet = layout.project_sheet(data, defaults())
    spans = [(c.value, c.rowspan) for _r, col, c in sheet.placed() if col == 1 and c.key and ".annual." in c.key]
    assert spans == [("产出指标", 6), ("效益指标", 2), ("满意度指标", 2)]


def test_settings_switch_the_money_rules_off():
    payload = copy.deepcopy(load_sample("target_declaration", "health_training_2025"))
    payload["annual_funds"] = {"total": "300.00", "fiscal_appropriation": "1.00", "other_funds": "0"}
    settings = load_settings({"target_declaration": {"funds": {"check_totals": False, "annual_within_midterm": False}}})
    assert pipeline.validate("target_declaration", payload, settings)["annual_funds"]["total"] == Decimal("300.00")
    with pytest.raises(FieldErrors) as exc:
        pipeline.validate("target_declaration", payload)
    assert len(exc.value.errors["annual_funds.total"]) == 2


def test_tree_aliases_and_short_captions_are_normalised():
    payload = load_sample("target_declaration", "rural_road_safety_2025_tree101")
    payload["tree"] = "财预〔2021〕101号指标体系"
    payload["indicators"]["annual"][0].update(level1="成本", level2="经济成本", operator="", target_value="≤5.1万元",
                                              measure_unit="")
    row = pipeline.validate("target_declaration", payload)["indicators"]["annual"][0]
    assert (row["level1"], row["level2"], row["operator"], row["target_value"], row["measure_unit"]) == (
        "成本指标", "经济成本指标", "≤", "5.1", "万元")


def test_cost_under_output_is_refused_in_the_101_tree():
    payload = load_sample("target_declaration", "rural_road_safety_2025_tree101")
    payload["indicators"]["annual"][0].update(level1="产出指标", level2="成本指标")
    with pytest.raises(FieldErrors) as exc:
        pipeline.validate("target_declaration", payload)
    assert exc.value.errors == {"indicators.annual.0.level2": [
        "在财预〔2021〕101号指标体系中，成本指标是一级指标：请将一级指标改为“成本指标”，二级指标填写经济成本指标、"
        "社会成本指标或生态环境成本指标。"]}


def test_a_stored_declaration_validates_again_unchanged():
    """What the API stores (schema.dump) loads back to the same data."""
    import json

    from storage.models import dumps

    for kind_id, name in SAMPLES:
        data = _validated(kind_id, name)
        stored = json.loads(dumps(kinds.get(kind_id).schema_instance().dump(data)))
        assert pipeline.validate(kind_id, stored) == data


# ------------------------------------------------------------------------------ docx


@pytest.mark.skipif(not HAS_DOCX, reason="the docx table renderer (generators/tables/docx.py) is not in this tree yet")
@pytest.mark.parametrize(("kind_id", "name"), [SAMPLES[0], SAMPLES[2]])
def test_docx_has_the_same_table_with_spans(kind_id, name):
    data = _validated(kind_id, name)
    with zipfile.ZipFile(io.BytesIO(pipeline.render(kind_id, data, "docx"))) as zf:
        root = etree.fromstring(zf.read("word/document.xml"))
    tables = root.findall(f".//{W}tbl")
    assert tables
    text = "".join(t.text or "" for table in tables for t in table.iter(f"{W}t"))
    for caption in ("一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "年度绩效指标"):
        assert caption in text
    spans = [int(g.get(f"{W}val")) for table in tables for g in table.iter(f"{W}gridSpan")]
    assert 7 in spans  # 项目名称/部门名称 value across B–H
    merges = [v.get(f"{W}val") for table in tables for v in table.iter(f"{W}vMerge")]
    assert "restart" in merges and len(merges) > 2 * merges.count("restart")
    # each indicator block is a table of its own whose caption row repeats on every page
    for table in tables[1:]:
        first = table.find(f"{W}tr")
        assert first.find(f"{W}trPr/{W}tblHeader") is not None
        assert "一级指标" in "".join(t.text or "" for t in first.iter(f"{W}t"))


# ------------------------------------------------------------------------------ pdf


@pytest.mark.skipif(importlib.util.find_spec("generators.tables.pdf") is None,
                    reason="the PDF table renderer (generators/tables/pdf.py) is not in this tree yet")
@pytest.mark.parametrize(("kind_id", "name"), [SAMPLES[1], SAMPLES[2]])
def test_pdf_prints_the_form_on_a4(kind_id, name):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pipeline.render(kind_id, _validated(kind_id, name), "pdf")))
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4 portrait, in points
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))
    assert kinds.get(kind_id).name in text and "年度绩效指标" in text and "一级指标" in text


@pytest.mark.parametrize("kind_id", ["target_declaration", "department_target_declaration"])
def test_a_money_label_sets_its_unit_on_a_line_of_its_own(kind_id):
    """“项目资金（万元）” in a narrow label column printed “项目资金（万” over “元）”; the unit now
    takes a line of its own, whole, in the PDF (the docx and xlsx get the same two paragraphs)."""
    import subprocess

    data = load_sample(kind_id)
    pdf = pipeline.produce(kind_id, data, "pdf").content
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    lines = [line.split() for line in text.splitlines()]
    assert any(words and words[0] == "（万元）" for words in lines), text[:800]
    assert not any(w.endswith("（万") for words in lines for w in words)
    label = "项目资金\n（万元）" if kind_id == "target_declaration" else "年度部门整体支出预算\n（万元）"
    assert label in _column_a(_sheet(pipeline.produce(kind_id, data, "xlsx").content))
