"""Report blocks in the 公文 engine: TableBlock and ImageBlock among the body paragraphs, and the
plain layout (no 版头, no 版记), in both the docx and the PDF renderer."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import zipfile
from decimal import Decimal as D

import pytest
from lxml import etree

from generators.chart import Bar, bar_chart
from generators.gongwen.docx import render_docx
from generators.gongwen.model import ImageBlock, TableBlock, parse_body
from generators.grid import Cell, Column, Sheet
from tests.generators.conftest import make_doc

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _sheet() -> Sheet:
    sheet = Sheet("得分", [Column(10), Column(20), Column(10), Column(10)], header_rows=1, title_rows=1)
    sheet.add(Cell("不应出现的表头标题", "title", colspan=4))
    sheet.add(Cell("一级指标", "header"), Cell("二级指标", "header"), Cell("分值", "header"), Cell("得分", "header"))
    sheet.add(Cell("产出", "label", rowspan=2), Cell("数量"), Cell(D(30), "score"), Cell(D("28.5"), "score"))
    sheet.add(Cell("质量"), Cell(D(20), "score"), Cell(D(20), "score"))
    sheet.add(Cell("合计", "label", colspan=2), Cell(D(50), "score"), Cell(D("48.5"), "score"))
    return sheet


@pytest.fixture(scope="module")
def png() -> bytes:
    return bar_chart([Bar("产出指标", D(50), D("48.5")), Bar("效益指标", D(30), D("27.25"))])


def _report(settings, png, plain=True):
    doc = make_doc(settings, "report", title="青溪县某项目绩效评价报告", attachments=[])
    body = (*parse_body("一、评价结论\n项目总体实施良好。"), TableBlock(_sheet(), "表1 评分汇总表"),
            ImageBlock(png, 140, "图1 各一级指标得分"), *parse_body("二、有关建议\n加强管理。"))
    return dataclasses.replace(doc, paragraphs=body, plain=plain)


def _parts(docx: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_docx_table_block_spans_and_merges(settings, png):
    parts = _parts(render_docx(_report(settings, png)))
    root = etree.fromstring(parts["word/document.xml"])
    tables = [t for t in root.iter(f"{W}tbl") if "一级指标" in "".join(t.itertext())]
    assert len(tables) == 1
    table = tables[0]
    rows = table.findall(f"{W}tr")
    assert len(rows) == 4  # the title row of the sheet is left out
    assert rows[0].find(f"{W}trPr/{W}tblHeader") is not None
    texts = [["".join(tc.itertext()) for tc in tr.findall(f"{W}tc")] for tr in rows]
    assert texts == [["一级指标", "二级指标", "分值", "得分"], ["产出", "数量", "30.00", "28.50"],
                     ["", "质量", "20.00", "20.00"], ["合计", "50.00", "48.50"]]
    vmerge = [tc.find(f"{W}tcPr/{W}vMerge") for tc in (rows[1].find(f"{W}tc"), rows[2].find(f"{W}tc"))]
    assert vmerge[0].get(f"{W}val") == "restart" and vmerge[1] is not None and vmerge[1].get(f"{W}val") is None
    assert rows[3].find(f"{W}tc/{W}tcPr/{W}gridSpan").get(f"{W}val") == "2"
    widths = [int(c.get(f"{W}w")) for c in table.find(f"{W}tblGrid")]
    assert abs(widths[1] - 2 * widths[0]) <= 1 and sum(widths) <= 8844  # in proportion, within the type area
    assert "不应出现的表头标题" not in "".join(root.itertext())
    assert "表1 评分汇总表" in "".join(root.itertext())


def test_docx_image_block_is_a_media_part(settings, png):
    parts = _parts(render_docx(_report(settings, png)))
    assert parts["word/media/image1.png"] == png
    rels = etree.fromstring(parts["word/_rels/document.xml.rels"])
    targets = {r.get("Id"): r.get("Target") for r in rels}
    assert targets["rIdImage1"] == "media/image1.png" and targets["rIdFooterOdd"] == "footer1.xml"
    assert b'Extension="png"' in parts["[Content_Types].xml"]
    root = etree.fromstring(parts["word/document.xml"])
    blips = list(root.iter(f"{A}blip"))
    assert [b.get(f"{R}embed") for b in blips] == ["rIdImage1"]
    extent = next(root.iter("{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}extent"))
    assert int(extent.get("cx")) == 140 * 36000
    assert abs(int(extent.get("cy")) - 140 * 36000 * 80 / 150) < 36000  # the chart's 150 × 80 mm aspect


def test_docx_without_images_keeps_the_template_relationships(settings):
    parts = _parts(render_docx(make_doc(settings)))
    assert not [n for n in parts if n.startswith("word/media/")]
    assert b"rIdImage" not in parts["word/_rels/document.xml.rels"]


def test_docx_plain_layout_has_no_header_or_imprint(settings, png):
    plain = etree.fromstring(_parts(render_docx(_report(settings, png)))["word/document.xml"])
    full = etree.fromstring(_parts(render_docx(_report(settings, png, plain=False)))["word/document.xml"])
    names = lambda root: {e.get("name") for e in root.iter("{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr")}  # noqa: E731
    assert "红色分隔线" in names(full) and "红色分隔线" not in names(plain)
    first = "".join(next(plain.iter(f"{W}p")).itertext())
    assert first == "青溪县某项目绩效评价报告"
    assert "抄送" not in "".join(plain.itertext()) and "抄送" in "".join(full.itertext())


def _pdf_text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def test_pdf_table_and_image_blocks(settings, png):
    from pypdf import PdfReader

    from generators.gongwen.pdf import render_pdf

    pdf = render_pdf(_report(settings, png))
    text = _pdf_text(pdf)
    for fragment in ("表1 评分汇总表", "一级指标", "48.50", "合计", "图1 各一级指标得分", "二、有关建议"):
        assert fragment in text, fragment
    assert "不应出现的表头标题" not in text
    assert "江夏市财政局文件" not in text.replace(" ", "")  # plain: no 版头
    images = {img.name: img for page in PdfReader(io.BytesIO(pdf)).pages for img in page.images}
    assert len(images) == 1  # one picture (weasyprint may list it in the resources of every page)
    assert next(iter(images.values())).image.size == (1181, 630)


def test_pdf_full_layout_keeps_the_banner(settings, png):
    from generators.gongwen.pdf import render_pdf

    text = _pdf_text(render_pdf(_report(settings, png, plain=False))).replace(" ", "")
    assert "江夏市财政局文件" in text and "图1各一级指标得分" in text


def test_table_columns_are_fitted_to_their_content_alike_in_docx_and_pdf(settings):
    """A report's table takes its widths from gongwen/tables.py in both formats: a caption that
    its builder's share would wrap as 满意度指/标 gets a column wide enough, and the docx's grid
    and the PDF's columns are the same millimetres of the type area."""
    import re

    from generators.gongwen.pdf import render_html
    from generators.gongwen.tables import CELL_PT, MM_PER_PT, PAD_X_MM, RULE_PT

    sheet = Sheet("得分", [Column(1.2), Column(8.8)], header_rows=1)
    sheet.add(Cell("满意度指标", "label"), Cell("受益群众满意度", "header"))
    doc = dataclasses.replace(make_doc(settings, "report", attachments=[]),
                              paragraphs=(TableBlock(sheet, "表1 满意度"),), plain=True)
    type_mm = float(settings["layout"]["page"]["type_width_mm"])
    char_mm, pad_mm = CELL_PT * MM_PER_PT, 2 * PAD_X_MM + RULE_PT * MM_PER_PT
    assert (type_mm * 1.2 / 10 - pad_mm) / char_mm < 5  # the builder's share holds four characters a line

    root = etree.fromstring(_parts(render_docx(doc))["word/document.xml"])
    grid = [int(c.get(f"{W}w")) for c in next(root.iter(f"{W}tblGrid"))]
    docx_mm = [w / 1440 * 25.4 for w in grid]
    assert sum(grid) == round(type_mm / 25.4 * 1440)
    assert (docx_mm[0] - pad_mm) / char_mm * 0.97 >= 5  # 满意度指标 on one line, in LibreOffice's faces too

    html = render_html(doc)
    pdf_mm = [float(p) * type_mm / 100 for p in re.findall(r'<col style="width:([\d.]+)%">', html)]
    assert pdf_mm == pytest.approx(docx_mm, abs=0.05)
