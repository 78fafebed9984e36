"""xlsx rendering of the grid model, read back with openpyxl and as raw sheet XML."""

from __future__ import annotations

import io
import math
import time
import warnings
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from lxml import etree
from openpyxl.utils import get_column_letter

from bench.tables import big_sheet
from generators.grid import Cell, Column, Sheet, Workbook
from generators.tables.widths import widest_token, xlsx_room, xlsx_widths
from generators.tables.xlsx import render_xlsx
from tests.generators.tables_sample import CAUSES, HYPERLINK, INJECTIONS, MEASURES, self_evaluation_workbook

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


@pytest.fixture(scope="module")
def book_bytes():
    return render_xlsx(self_evaluation_workbook())


@pytest.fixture(scope="module")
def wb(book_bytes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about nothing here, but its warnings are not ours
        return openpyxl.load_workbook(io.BytesIO(book_bytes))


@pytest.fixture(scope="module")
def ws(wb):
    return wb["自评表"]


def sheet_xml(data: bytes, index: int = 1):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return etree.fromstring(zf.read(f"xl/worksheets/sheet{index}.xml"))


def ref(row0: int, col0: int) -> str:
    return f"{get_column_letter(col0 + 1)}{row0 + 1}"


def test_sheets_in_order_with_the_list_sheet_hidden_last(wb):
    assert wb.sheetnames == ["自评表", "资金明细", "下拉选项"]
    assert [s.sheet_state for s in wb] == ["visible", "visible", "hidden"]


def test_captions_and_values(ws):
    assert ws["A1"].value == "项目支出绩效自评表"
    assert ws["A2"].value == "（2024年度）"
    assert ws["A3"].value == "填报单位：江夏市教育局"
    assert ws["F3"].value == "单位：万元"
    assert [ws.cell(13, c).value for c in range(1, 10)] == [
        "绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"]
    assert ws["B14"].value == "产出指标(50分)" and ws["D14"].value == "受益学生人数"
    assert ws["B12"].value == "目标1：保障全市12000名农村学生在校午餐。\n目标2：供餐合格率100%。"
    assert ws["B21"].value == "2024年7月1日"  # dates are the Chinese text of the official form
    assert ws["A22"].value.startswith("填报说明：金额单位为万元")
    assert ws["A23"].value == "填报人：王明　　联系电话：0000-1234567"


def test_merged_ranges_are_exactly_the_model_spans_plus_title_and_notes(ws):
    sheet = self_evaluation_workbook().sheets[0]
    expected = {f"{ref(r0, c0)}:{ref(r1, c1)}" for r0, c0, r1, c1 in sheet.merges()}
    expected |= {"A22:I22", "A23:I23"}  # the two notes lines
    assert {str(r) for r in ws.merged_cells.ranges} == expected
    # spot checks written by hand, independent of Sheet.merges()
    assert {"A1:I1", "A2:I2", "A3:E3", "F3:I3", "A6:A10", "A13:A19", "B14:B16", "B17:B18", "C17:C18", "A20:F20",
            "B5:D5", "F5:I5"} <= expected


def test_merge_cells_element_matches_the_ranges(book_bytes):
    root = sheet_xml(book_bytes)
    merge = root.find("m:mergeCells", NS)
    refs = [m.get("ref") for m in merge.findall("m:mergeCell", NS)]
    assert int(merge.get("count")) == len(refs) == len(set(refs)) == 27
    # <mergeCells> sits where the schema wants it: after sheetProtection, before dataValidations
    tags = [etree.QName(el).localname for el in root]
    assert tags.index("sheetData") < tags.index("sheetProtection") < tags.index("mergeCells") < tags.index("dataValidations")
    assert tags.index("dataValidations") < tags.index("printOptions") < tags.index("pageMargins") < tags.index("pageSetup")


@pytest.mark.parametrize("coord, value, fmt", [
    ("D7", Decimal("1200.00"), "#,##0.00"),
    ("E7", Decimal("1250.50"), "#,##0.00"),
    ("F8", Decimal("980.25"), "#,##0.00"),
    ("D9", Decimal("150.50"), "#,##0.00"),
    ("G7", Decimal("10.00"), "0.00"),
    ("I7", Decimal("9.49"), "0.00"),
    ("H7", Decimal("0.9495"), "0.00%"),  # the ratio 0.949460 kept to the 4 places 94.95% shows
    ("H8", Decimal("0.9803"), "0.00%"),
    ("F19", Decimal("0.9317"), "0.00%"),
    ("H20", Decimal("93.99"), "0.00"),
    ("F21", Decimal("12350"), "0"),
])
def test_numbers_are_numeric_cells_with_number_formats(ws, book_bytes, coord, value, fmt):
    cell = ws[coord]
    assert cell.data_type == "n"
    assert isinstance(cell.value, (int, float))
    assert Decimal(repr(cell.value)) == value
    assert cell.number_format == fmt
    raw = sheet_xml(book_bytes).find(f".//m:c[@r='{coord}']", NS)
    assert raw.get("t") is None  # numeric, not a string
    assert Decimal(raw.find("m:v", NS).text) == value


def test_dash_in_a_score_column_is_text(ws):
    assert ws["G8"].value == "—" and ws["G8"].data_type == "s"
    assert ws["I8"].value == "—"


INJECTION_CELLS = {"F5": INJECTIONS["implementer"], "F12": INJECTIONS["goals.actual"],
                   "I14": INJECTIONS["indicators.0.deviation"], "I16": INJECTIONS["indicators.2.deviation"],
                   "I17": INJECTIONS["indicators.3.deviation"]}


@pytest.mark.parametrize("coord", sorted(INJECTION_CELLS))
def test_formula_like_user_text_stays_text(ws, book_bytes, coord):
    text = INJECTION_CELLS[coord]
    cell = ws[coord]
    assert cell.value == text
    assert cell.data_type == "s"
    assert cell.quotePrefix is True
    raw = sheet_xml(book_bytes).find(f".//m:c[@r='{coord}']", NS)
    assert raw.get("t") == "inlineStr"
    assert raw.find("m:f", NS) is None
    assert raw.find("m:is/m:t", NS).text == text


def test_no_formula_anywhere_in_the_package(book_bytes):
    with zipfile.ZipFile(io.BytesIO(book_bytes)) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                root = etree.fromstring(zf.read(name))
                assert root.findall(".//m:f", NS) == [], name
                assert b"<f>" not in zf.read(name) and b"<f " not in zf.read(name)
    assert HYPERLINK.startswith("=")


def test_plain_text_has_no_quote_prefix(ws):
    assert ws["B4"].quotePrefix is False
    assert ws["A4"].quotePrefix is False


@pytest.mark.parametrize("text", ["#N/A", "#DIV/0!", "TRUE", "=1+1", "+86 10 1234", "-", "＝A1", "@cmd", "\r=1"])
def test_text_that_looks_like_a_value_or_formula_stays_that_text(text):
    sheet = Sheet(name="表", columns=[Column(10)])
    sheet.add(Cell(text, "text"))
    data = render_xlsx(Workbook(title="t", sheets=[sheet]))
    cell = openpyxl.load_workbook(io.BytesIO(data))["表"]["A1"]
    assert cell.value == text and cell.data_type == "s"
    assert cell.quotePrefix is (text[0] in "=+-@\r＝＋－＠")


# Characters of 11 pt captions one line holds, from the width (units) on which n stay on one line,
# measured on the prints of a sheet of columns 3.0, 3.1 … 16.0 units wide: Gnumeric (which lays
# columns out as Excel does) and Calc through the project's fontconfig.
ONE_LINE_FROM = {"gnumeric": {2: 5.3, 3: 7.3, 4: 9.6, 5: 11.7, 6: 13.9, 7: 16.0},
                 "calc": {2: 4.0, 3: 5.7, 4: 7.5, 5: 9.3, 6: 11.1, 7: 12.9, 8: 14.7}}


def _per_line(engine: str, units: float) -> int:
    """CJK characters a line holds in a column `units` wide: Excel's from ECMA-376's pixels less
    its 5 px of padding (a character 15 px at 96 dpi), the others measured."""
    if engine == "excel":
        return (math.trunc((256 * units + math.trunc(128 / 7)) / 256 * 7) - 5) // 15
    return max((n for n, w in ONE_LINE_FROM[engine].items() if units >= w - 1e-9), default=1)


def _wraps_whole(caption: str, units: float) -> bool:
    """No engine leaves the last character of a CJK caption alone, nor stacks it a character a line."""
    return all((k := _per_line(e, units)) >= 2 and (len(caption) <= k or len(caption) % k != 1)
               for e in ("excel", "gnumeric", "calc"))


def test_column_widths_count_the_cells_padding_in_every_engine():
    """实施单位 in 8.6 units had 55 px of Excel's text area (60 px less 5 of padding) for 58.7 px of
    text: Excel, WPS and Gnumeric printed 实施单/位. Fitted with the padding of each engine, no
    caption leaves a character alone in Excel, Gnumeric or Calc, and the money figure fits
    Gnumeric's narrower text area."""
    sheet = Sheet(name="表", columns=[Column(8.6), Column(6.8), Column(8), Column(5), Column(30)], header_rows=1)
    sheet.add(Cell("实施单位", "label"), Cell("评价得分", "header"), Cell("金额", "header"),
              Cell("确定能", "header"), Cell("说明", "header"))
    sheet.add(Cell("甲", "text"), Cell("优", "text"), Cell(Decimal("1843216.37"), "money"), Cell("", "text"),
              Cell("文字", "text"))
    ws = openpyxl.load_workbook(io.BytesIO(render_xlsx(Workbook(title="t", sheets=[sheet]))))["表"]
    widths = [ws.column_dimensions[c].width for c in "ABCDE"]
    for caption, units in zip(("实施单位", "评价得分", "", "确定能"), widths, strict=False):
        assert not caption or _wraps_whole(caption, units), (caption, units)
    assert (widths[2] * 7 - 7) / 15 >= widest_token("1,843,216.37")


def test_columns_grow_into_the_pages_spare_width_first():
    """A sheet narrower than its page: the columns that need width take the spare width, so the
    others keep their builder's widths and the sheet still prints at full size. A sheet already a
    page wide takes the width from the columns that need none, each keeping three quarters."""
    def fitted(total_free: float) -> list[float]:
        sheet = Sheet(name="表", columns=[Column(6.8), Column(total_free / 2), Column(total_free / 2)],
                      header_rows=1, landscape=True)
        sheet.add(Cell("评价得分", "header"), Cell("说明", "header"), Cell("备注", "header"))
        return xlsx_widths(sheet)

    roomy = fitted(60)
    assert roomy[1:] == [30, 30] and roomy[0] > 6.8 and _wraps_whole("评价得分", roomy[0])
    assert sum(roomy) <= xlsx_room(3, landscape=True)
    full = fitted(xlsx_room(3, landscape=True) - 6.8)
    assert full[0] == roomy[0] and sum(full) == pytest.approx(xlsx_room(3, landscape=True), abs=0.05)
    assert full[1] == full[2] > 0.75 * (full[1] + full[2] + full[0] - roomy[0]) / 2 - 0.05


def test_control_characters_are_dropped_not_fatal():
    sheet = Sheet(name="表", columns=[Column(10)])
    sheet.add(Cell("甲\x07乙\x0b丙", "text"))
    data = render_xlsx(Workbook(title="t", sheets=[sheet]))
    assert openpyxl.load_workbook(io.BytesIO(data))["表"]["A1"].value == "甲乙丙"


def test_print_setup(ws, wb):
    assert int(ws.page_setup.paperSize) == 9
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$1:$5"  # 3 title rows + 2 header rows
    assert ws.print_area == "'自评表'!$A$1:$I$23"
    assert ws.print_options.horizontalCentered is True
    assert 0.5 <= ws.page_margins.left <= 1 and 0.5 <= ws.page_margins.top <= 1.2
    assert "&P" in ws.oddFooter.center.text
    detail = wb["资金明细"]
    assert detail.page_setup.orientation == "portrait"
    assert detail.print_title_rows == "$1:$2"


def test_layout_fonts_fills_borders(ws):
    widths = [ws.column_dimensions[get_column_letter(i)].width for i in range(1, 10)]
    assert 113 < sum(widths) <= xlsx_room(9, landscape=True)  # grown into the page's spare width: printed full size
    assert widths[8] > widths[6]  # the builder's proportions, fitted to the content
    assert ws.row_dimensions[1].height == 40  # Sheet.row_heights
    assert ws.row_dimensions[2].height == 20
    title = ws["A1"]
    assert (title.font.name, title.font.b, title.font.sz) == ("宋体", True, 18)
    assert title.alignment.horizontal == "center" and (title.border.bottom is None or title.border.bottom.style is None)
    header = ws["D6"]
    assert header.font.name == "宋体" and header.font.b is True
    assert header.fill.fill_type == "solid" and header.fill.fgColor.rgb.endswith("F2F2F2")
    body = ws["D7"]
    assert body.font.name == "仿宋_GB2312" and body.alignment.wrap_text is True
    assert all(getattr(body.border, side).style == "thin" for side in ("left", "right", "top", "bottom"))
    assert ws["B4"].alignment.horizontal == "left" and ws["A4"].alignment.horizontal == "center"
    assert ws["D7"].alignment.horizontal == "right"
    # placeholders of a merged area carry the border, so the area's right edge is drawn
    assert ws["I4"].border.right.style == "thin"
    # a wrapped two-line text row is made taller than one line
    assert ws.row_dimensions[12].height and ws.row_dimensions[12].height >= 30


def test_data_validation_lists(ws, wb):
    dvs = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    assert set(dvs) == {"I14", "I16"}
    assert dvs["I14"].type == "list" and dvs["I14"].formula1 == '"' + ",".join(CAUSES) + '"'
    assert dvs["I16"].formula1 == "'下拉选项'!$A$1:$A$3"  # commas and quotes: a hidden sheet
    lists = wb["下拉选项"]
    assert [lists.cell(i, 1).value for i in range(1, 4)] == MEASURES


def test_protection_locks_computed_cells(ws):
    assert ws.protection.sheet is True
    assert not ws.protection.password
    for coord in ("B4", "C4", "I4", "D7", "E7", "F7", "I14", "B21", "F21"):  # editable (C4, I4: in B4:I4)
        assert ws[coord].protection.locked is False, coord
    for coord in ("A1", "A4", "G7", "H7", "I7", "G14", "H20", "D14"):  # captions and computed values
        assert ws[coord].protection.locked is True, coord


def test_unprotected_sheet_has_no_protection(wb):
    assert wb["资金明细"].protection.sheet is False


def test_file_properties(wb):
    assert wb.properties.title == "农村义务教育学生营养改善计划绩效自评表"
    assert wb.properties.creator == "jxdoc"


def test_validation_name_must_exist():
    sheet = Sheet(name="表", columns=[Column(10)])
    sheet.add(Cell("x", "text", validation="missing"))
    with pytest.raises(ValueError, match="missing"):
        render_xlsx(Workbook(title="t", sheets=[sheet]))


def test_merges_are_linear_19000_in_seconds():
    sheet = big_sheet(1000)
    merges = sheet.merges()
    assert len(merges) == 19001
    start = time.perf_counter()
    data = render_xlsx(Workbook(title="汇总", sheets=[sheet]))
    elapsed = time.perf_counter() - start
    # ws.merge_cells took 129 s for this; a quadratic path would be far above this bound
    assert elapsed < 10, elapsed
    root = sheet_xml(data)
    refs = {m.get("ref") for m in root.iterfind("m:mergeCells/m:mergeCell", NS)}
    assert refs == {f"{ref(r0, c0)}:{ref(r1, c1)}" for r0, c0, r1, c1 in merges}
    # the last unit is where the model puts it
    last = 2 + 999 * 8 + 1
    assert root.find(f".//m:c[@r='A{last}']/m:is/m:t", NS).text == "第1000单位"


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n != "docProps/core.xml"}  # core holds the time


def _looks(data: bytes, coords: list[str]) -> list[tuple]:
    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return [(ws[c].font.name, ws[c].font.sz, ws[c].font.b, ws[c].alignment.horizontal,
             ws[c].border.left.style if ws[c].border.left else None,
             ws[c].fill.fgColor.rgb, ws[c].protection.locked, ws[c].number_format, ws[c].quotePrefix)
            for c in coords]


def test_the_same_workbook_gives_the_same_package_with_its_styles_built_once():
    """Identical input gives identical parts; the styles part of a sequence of looks is built once
    per process, and a workbook with one more look gets its own, with the others' looks unchanged."""
    from generators.tables import xlsx_parts

    first = render_xlsx(self_evaluation_workbook())
    built = xlsx_parts._styles_member.cache_info().misses
    second = render_xlsx(self_evaluation_workbook())
    assert xlsx_parts._styles_member.cache_info().misses == built  # taken from the cache
    assert _parts(second) == _parts(first)

    other = self_evaluation_workbook()
    other.sheets[0].notes.append("=1+1 看似公式的说明")
    third = render_xlsx(other)
    assert xlsx_parts._styles_member.cache_info().misses == built + 1
    coords = ["A1", "A3", "B5", "F8", "G8", "H8"]
    assert _looks(third, coords) == _looks(first, coords)
    note = openpyxl.load_workbook(io.BytesIO(third)).worksheets[0]["A24"]
    assert note.value == "=1+1 看似公式的说明" and note.data_type == "s" and note.quotePrefix is True


# CT_Worksheet is a sequence: Excel refuses a file whose elements come out of this order.
WORKSHEET_ORDER = ["sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetProtection",
                   "mergeCells", "dataValidations", "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks"]


@pytest.mark.parametrize("index", [1, 2, 3])
def test_worksheet_elements_follow_the_schema_sequence(book_bytes, index):
    root = sheet_xml(book_bytes, index)
    names = [etree.QName(child).localname for child in root]
    assert names == sorted(names, key=WORKSHEET_ORDER.index)
    assert "sheetData" in names
    assert all(etree.QName(e).namespace == NS["m"] for e in root.iter())  # every element in the main namespace
    with zipfile.ZipFile(io.BytesIO(book_bytes)) as zf:
        assert zf.read(f"xl/worksheets/sheet{index}.xml").count(b"xmlns") == 1  # declared once, on the root


def test_package_parts_and_content_types(book_bytes):
    with zipfile.ZipFile(io.BytesIO(book_bytes)) as zf:
        names = zf.namelist()
        types = etree.fromstring(zf.read("[Content_Types].xml"))
        rels = etree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        styles = etree.fromstring(zf.read("xl/styles.xml"))
    assert names[0] == "[Content_Types].xml"
    overrides = {o.get("PartName") for o in types}
    assert {f"/{n}" for n in names if not n.endswith(".rels") and n != "[Content_Types].xml"} <= overrides
    assert sorted(r.get("Target") for r in rels) == ["styles.xml", "theme/theme1.xml", "worksheets/sheet1.xml",
                                                     "worksheets/sheet2.xml", "worksheets/sheet3.xml"]
    # every xf's font, fill, border and format exists
    count = {tag: int(styles.find(f"m:{tag}", NS).get("count")) for tag in ("fonts", "fills", "borders", "cellXfs")}
    xfs = styles.findall("m:cellXfs/m:xf", NS)
    assert len(xfs) == count["cellXfs"]
    assert all(int(xf.get("fontId")) < count["fonts"] and int(xf.get("fillId")) < count["fills"]
               and int(xf.get("borderId")) < count["borders"] for xf in xfs)
    # the Chinese faces say they are GB2312 faces, so Excel does not substitute a Western one
    songti = [f for f in styles.findall("m:fonts/m:font", NS) if f.find("m:name", NS).get("val") == "宋体"]
    assert songti and all(f.find("m:charset", NS).get("val") == "134" for f in songti)
