"""Tables cut at their inner caption blocks (Sheet.captions) and xlsx rows that fit their text."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from generators.grid import Cell, Column, Sheet, Workbook
from generators.tables import Part, edges, parts
from generators.tables.pdf import render_html
from generators.tables.xlsx import render_xlsx


def _sheet() -> Sheet:
    sheet = Sheet("表", [Column(10), Column(10), Column(30)], title_rows=1)
    sheet.add(Cell("标题", "title", colspan=3))
    sheet.add(Cell("项目名称", "label"), Cell("某项目", colspan=2))
    sheet.captions.append((len(sheet.rows), 1))
    sheet.add(Cell("绩效指标", "label", rowspan=4), Cell("一级指标", "header"), Cell("三级指标", "header"))
    for i in range(3):
        sheet.add(Cell("产出指标"), Cell(f"指标{i}"))
    sheet.add(Cell("说明", "label"), Cell("很长的文字说明" * 40, colspan=2))
    sheet.row_heights[len(sheet.rows) - 1] = 20
    return sheet


def test_parts_start_at_each_caption_block():
    sheet = _sheet()
    assert parts(sheet, sheet.height()) == [Part(1, 1, 2), Part(2, 3, 7)]
    assert edges(sheet, 7) == [0, 1, 2, 3, 7]


def test_pdf_repeats_the_captions_as_the_thead_of_their_own_table():
    html = render_html(Workbook("表", [_sheet()]))
    assert html.count('<table class="grid') == 2
    second = html.split('<table class="grid part">')[1]
    thead = second.split("</thead>")[0]
    assert "一级指标" in thead and "三级指标" in thead
    # the label spanning captions and rows is cut at the thead and continued, empty, in the tbody
    assert 'rowspan="3" class="cont"' in second


def test_xlsx_prints_the_captions_on_every_page_and_grows_rows_for_long_text():
    ws = load_workbook(io.BytesIO(render_xlsx(Workbook("表", [_sheet()]))))["表"]
    assert ws.print_title_rows == "$3:$3"
    # 280 characters in a 40-unit cell: many lines; the builder's 20 pt is only a minimum
    assert ws.row_dimensions[7].height > 20 * 10


def test_xlsx_cuts_a_label_spanning_captions_and_rows_at_the_print_titles():
    # A merge from the print titles into the rows prints its text on one page only (Calc leaves
    # the repeated caption cell blank on the others) and is sliced by the page break: it is cut
    # at the captions' end as the docx and PDF cut it, its text in the captions.
    ws = load_workbook(io.BytesIO(render_xlsx(Workbook("表", [_sheet()]))))["表"]
    merged = {str(m) for m in ws.merged_cells.ranges}
    assert "A3:A3" not in merged and "A3:A6" not in merged
    assert "A4:A6" in merged
    assert ws["A3"].value == "绩效指标" and ws["A4"].value is None
