"""docx rendering of the grid model, asserted on the document XML."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from lxml import etree

from generators.grid import Cell, Column, Sheet, Workbook
from generators.tables import cell_text, layout, owners
from generators.tables.docx import render_docx
from generators.tables.widths import fitted_widths
from tests.generators.tables_sample import HYPERLINK, INJECTIONS, self_evaluation_workbook

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}


def w(name: str) -> str:
    return f"{{{W}}}{name}"


@pytest.fixture(scope="module")
def book():
    return self_evaluation_workbook()


@pytest.fixture(scope="module")
def data(book):
    return render_docx(book)


@pytest.fixture(scope="module")
def root(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return etree.fromstring(zf.read("word/document.xml"))


@pytest.fixture(scope="module")
def raw(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read("word/document.xml").decode("utf-8")


def para_text(p) -> str:
    out = []
    for run in p.findall("w:r", NS):  # not pPr/w:tabs/w:tab, the tab stops
        for node in run:
            if node.tag == w("tab"):
                out.append("\t")
            elif node.tag == w("t"):
                out.append(node.text or "")
    return "".join(out)


def tc_text(tc) -> str:
    return "\n".join(para_text(p) for p in tc.findall("w:p", NS))


def tc_props(tc):
    span = tc.find("w:tcPr/w:gridSpan", NS)
    vm = tc.find("w:tcPr/w:vMerge", NS)
    vmerge = None if vm is None else (vm.get(w("val")) or "continue")
    return (int(span.get(w("val"))) if span is not None else 1, vmerge, tc_text(tc))


def expected_rows(sheet: Sheet):
    """The tc sequence of every table row, derived from the grid model."""
    placed, height = layout(sheet)
    grid = owners(placed, height, sheet.width)
    rows = []
    for r in range(sheet.title_rows, height):
        row, c = [], 0
        while c < sheet.width:
            p = grid[r][c]
            if p.row == r:
                row.append((p.cell.colspan, "restart" if p.cell.rowspan > 1 else None, cell_text(p.cell)))
            else:
                row.append((p.cell.colspan, "continue", ""))
            c = p.col + p.cell.colspan
        rows.append(row)
    return rows


def test_python_docx_opens_it_with_both_tables(data):
    document = docx.Document(io.BytesIO(data))
    assert [len(t.rows) for t in document.tables] == [18, 3]
    assert document.tables[0].cell(0, 0).text == "项目名称"


def test_rows_cells_spans_and_vertical_merges_follow_the_grid(root, book):
    for table, sheet in zip(root.iter(w("tbl")), book.sheets, strict=True):
        got = [[tc_props(tc) for tc in tr.findall("w:tc", NS)] for tr in table.findall("w:tr", NS)]
        assert got == expected_rows(sheet)


def test_spot_checks_of_merges(root):
    rows = [[tc_props(tc) for tc in tr.findall("w:tc", NS)] for tr in root.find(".//w:tbl", NS).findall("w:tr", NS)]
    assert rows[0] == [(1, None, "项目名称"), (8, None, "农村义务教育学生营养改善计划")]
    assert rows[2][0] == (1, "restart", "项目资金（万元）")
    assert [r[0] for r in rows[3:7]] == [(1, "continue", "")] * 4
    assert rows[3][1] == (2, None, "年度资金总额")
    # 绩效指标 spans 7 rows; 产出指标 3; 效益指标 and 社会效益指标 2 each
    assert rows[9][0] == (1, "restart", "绩效指标") and [r[0][1] for r in rows[10:16]] == ["continue"] * 6
    assert rows[10][1] == (1, "restart", "产出指标(50分)") and rows[12][1] == (1, "continue", "")
    assert rows[13][1:3] == [(1, "restart", "效益指标(30分)"), (1, "restart", "社会效益指标")]
    assert rows[14][1:3] == [(1, "continue", ""), (1, "continue", "")]
    assert rows[16][0] == (6, None, "总分")


def test_grid_columns_and_cell_widths(root, book):
    table = root.find(".//w:tbl", NS)
    grid = [int(g.get(w("w"))) for g in table.findall("w:tblGrid/w:gridCol", NS)]
    assert sum(grid) == int(table.find("w:tblPr/w:tblW", NS).get(w("w"))) == 16838 - 2 * 1134
    # the fitted widths (generators/tables/widths.py), the PDF's too
    weights = fitted_widths(book.sheets[0])
    for g, weight in zip(grid, weights, strict=True):
        assert abs(g - sum(grid) * weight / sum(weights)) <= 1
    assert table.find("w:tblPr/w:tblLayout", NS).get(w("type")) == "fixed"
    for tr in table.findall("w:tr", NS):
        col = 0
        for tc in tr.findall("w:tc", NS):
            span, _, _ = tc_props(tc)
            assert int(tc.find("w:tcPr/w:tcW", NS).get(w("w"))) == sum(grid[col:col + span])
            col += span
        assert col == len(grid)


def test_header_rows_repeat(root):
    for table, count in zip(root.iter(w("tbl")), (2, 1), strict=True):
        flags = [tr.find("w:trPr/w:tblHeader", NS) is not None for tr in table.findall("w:tr", NS)]
        assert flags[:count] == [True] * count and not any(flags[count:])


def test_values_are_formatted_text(root):
    texts = [tc_text(tc) for tc in root.iter(w("tc"))]
    for expected in ("1,200.00", "1,250.50", "1,187.30", "980.25", "10.00", "94.95%", "98.03%", "100.00%", "9.49",
                     "—", "93.17%", "93.99", "2024年7月1日", "12350", "80.00%", "1,000.00", "250.50"):
        assert expected in texts, expected


def test_title_rows_become_paragraphs_above_the_table(root):
    body = root.find("w:body", NS)
    first = [para_text(p) for p in body.findall("w:p", NS)[:3]]
    assert first == ["项目支出绩效自评表", "（2024年度）", "填报单位：江夏市教育局\t单位：万元"]
    title = body.find("w:p", NS)
    assert title.find("w:pPr/w:jc", NS).get(w("val")) == "center"
    assert title.find("w:r/w:rPr/w:sz", NS).get(w("val")) == "36"
    tab = body.findall("w:p", NS)[2].find("w:pPr/w:tabs/w:tab", NS)
    assert tab.get(w("val")) == "right" and int(tab.get(w("pos"))) == 16838 - 2 * 1134
    assert not any("项目支出绩效自评表" == tc_text(tc) for tc in root.iter(w("tc")))


def test_notes_follow_the_table(root):
    paras = [para_text(p) for p in root.find("w:body", NS).findall("w:p", NS)]
    assert "填报人：王明　　联系电话：0000-1234567" in paras


def test_every_run_names_an_east_asian_face_and_no_theme_fonts(data, root):
    runs = list(root.iter(w("r")))
    assert runs
    for r in runs:
        fonts = r.find("w:rPr/w:rFonts", NS)
        assert fonts is not None and fonts.get(w("eastAsia")) and fonts.get(w("ascii"))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            text = zf.read(name)
            assert b"Theme" not in text and b"theme" not in text.replace(b"themeFontLang", b""), name
    faces = {r.find("w:rPr/w:rFonts", NS).get(w("eastAsia")) for r in runs}
    assert {"方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"} <= faces


def test_header_cells_are_shaded(root):
    for tc in root.iter(w("tc")):
        if tc_text(tc) == "年初预算数":
            assert tc.find("w:tcPr/w:shd", NS).get(w("fill")) == "F2F2F2"
            break
    else:
        pytest.fail("header cell not found")


def test_user_text_is_escaped_not_markup(root, raw):
    texts = [tc_text(tc) for tc in root.iter(w("tc"))]
    assert HYPERLINK in texts
    assert INJECTIONS["indicators.3.deviation"] in texts  # "-2+3 <b>&amp;</b>" as characters
    assert "&lt;b&gt;&amp;amp;&lt;/b&gt;" in raw
    assert "<b>" not in raw
    assert INJECTIONS["indicators.0.deviation"] in texts  # the tab became a w:tab, the text kept


def test_markup_and_control_characters_in_any_field():
    sheet = Sheet(name="表", columns=[Column(10), Column(10)], title_rows=1, notes=["</w:t><w:r>注</w:r>"])
    sheet.add(Cell("</w:t></w:r></w:p><w:p>标题", "title", colspan=2))
    sheet.add(Cell("甲\x07乙\x0c丙", "text"), Cell("]]><![CDATA[", "header"))
    data = render_docx(Workbook(title="<t>&", sheets=[sheet], meta={"author": '"作者"<x>'}))
    document = docx.Document(io.BytesIO(data))
    assert document.paragraphs[0].text == "</w:t></w:r></w:p><w:p>标题"
    assert [c.text for c in document.tables[0].rows[0].cells] == ["甲乙丙", "]]><![CDATA["]
    assert document.core_properties.title == "<t>&"
    assert document.core_properties.author == '"作者"<x>'


def test_sections_per_sheet_with_orientation(root):
    sections = root.findall(".//w:sectPr", NS)
    assert len(sections) == 2
    first, last = sections
    assert first.getparent().tag == w("pPr")  # a section break paragraph after the first sheet
    size = first.find("w:pgSz", NS)
    assert (size.get(w("w")), size.get(w("h")), size.get(w("orient"))) == ("16838", "11906", "landscape")
    size = last.find("w:pgSz", NS)
    assert (size.get(w("w")), size.get(w("h")), size.get(w("orient"))) == ("11906", "16838", None)
    assert all(s.find("w:footerReference", NS) is not None for s in sections)


def test_fonts_follow_settings():
    sheet = Sheet(name="表", columns=[Column(10)])
    sheet.add(Cell("正文", "text"))
    data = render_docx(Workbook(title="t", sheets=[sheet]), fonts={"fangsong": "仿宋", "latin": "Arial"})
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        root = etree.fromstring(zf.read("word/document.xml"))
        fonts = etree.fromstring(zf.read("word/fontTable.xml"))
    rf = root.find(".//w:r/w:rPr/w:rFonts", NS)
    assert (rf.get(w("eastAsia")), rf.get(w("ascii"))) == ("仿宋", "Arial")
    assert "仿宋" in [f.get(w("name")) for f in fonts]


def test_row_heights_in_twips(root):
    sheet = Sheet(name="表", columns=[Column(10)], row_heights={0: 30})
    sheet.add(Cell("高", "text"))
    data = render_docx(Workbook(title="t", sheets=[sheet]))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        tr = etree.fromstring(zf.read("word/document.xml")).find(".//w:tr", NS)
    height = tr.find("w:trPr/w:trHeight", NS)
    assert (height.get(w("val")), height.get(w("hRule"))) == ("600", "atLeast")


def test_the_last_rows_keep_with_the_notes(root):
    # Word and LibreOffice keep a row with the next when its paragraphs keep with the next: a
    # sheet's last two rows go with its notes, and the notes stay together, so no page holds only
    # the 总分 row and the notes (the PDF: .notes { break-before: avoid; break-inside: avoid }).
    def keeps(p) -> bool:
        return p.find("w:pPr/w:keepNext", NS) is not None

    with_notes, without = list(root.iter(w("tbl")))  # 自评表 with its notes; 资金明细 without
    flags = [all(keeps(p) for p in tr.iter(w("p"))) for tr in with_notes.findall("w:tr", NS)]
    assert flags[-2:] == [True, True] and not any(flags[:-2])
    body = list(root.find("w:body", NS))
    end = next(i for i, p in enumerate(body) if p.find("w:pPr/w:sectPr", NS) is not None)  # the sheet's section
    notes = [p for p in body[body.index(with_notes) + 1:end] if para_text(p)]
    assert len(notes) == 2 and keeps(notes[0]) and not keeps(notes[1])
    assert not any(keeps(p) for p in without.iter(w("p")))
