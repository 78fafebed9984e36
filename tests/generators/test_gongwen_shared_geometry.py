"""Both 公文 renderers take the red rule, the 信函 double lines, the page numbers and the 版记's
rules from generators/gongwen/geometry.py: a layout setting changed, the PDF (measured on the
rendered page) and the docx (read from its XML) move by the same amount, and stay together."""

from __future__ import annotations

import pytest

from generators.gongwen.docx import render_docx
from rules.settings import defaults
from rules.settings_files import thaw
from tests.generators.conftest import make_doc
from tests.generators.test_gongwen_docx import EMU_PER_MM, NS, TWIPS_PER_MM, Package, attr
from tests.generators.test_gongwen_pdf import BOTTOM, LEFT, MM, RIGHT, page_image, red_rows, render_pdf, words

DPI = 300
PAGE_H_MM = 297


def settings_with(**changes: dict) -> dict:
    settings = thaw(defaults())
    for section, values in changes.items():
        settings["layout"][section].update(values)
    return settings


def px_mm(px: float) -> float:
    return px / DPI * 25.4


def pdf_long_red_rows(pdf: bytes, min_mm: float) -> list[int]:
    """Rows of page 1 holding red over at least `min_mm`, top to bottom, in pixels at DPI."""
    rows = red_rows(page_image(pdf, 1, DPI), DPI)
    return sorted(y for y, n in rows.items() if px_mm(n) > min_mm)


def runs_of(rows: list[int]) -> list[tuple[int, int]]:
    """Consecutive rows grouped into strokes: (first row, row after the last)."""
    strokes: list[tuple[int, int]] = []
    for y in rows:
        if strokes and y == strokes[-1][1]:
            strokes[-1] = (strokes[-1][0], y + 1)
        else:
            strokes.append((y, y + 1))
    return strokes


def docx_shapes(doc) -> dict[str, tuple[float, float]]:
    """Each page-anchored shape's (top, height) in mm from the page's top edge."""
    pkg = Package(render_docx(doc))
    out = {}
    for anchor in pkg.xpath("//wp:anchor"):
        name = anchor.find("wp:docPr", NS).get("name")
        top = int(anchor.find("wp:positionV/wp:posOffset", NS).text) / EMU_PER_MM
        out[name] = (top, int(anchor.find("wp:extent", NS).get("cy")) / EMU_PER_MM)
    return out


def file_rule(settings) -> tuple[float, float]:
    """The red separator's top in mm from the page's top: (PDF, docx)."""
    doc = make_doc(settings)
    strokes = runs_of(pdf_long_red_rows(render_pdf(doc), 150))
    assert len(strokes) == 1
    return px_mm(strokes[0][0]), docx_shapes(doc)["红色分隔线"][0]


def test_red_rule_moves_with_its_gap_in_both_formats():
    before = file_rule(defaults())
    after = file_rule(settings_with(rule={"gap_mm": 7}))
    for pdf_mm, docx_mm in (before, after):
        assert pdf_mm == pytest.approx(docx_mm, abs=0.2)  # the same place in both formats
    assert after[0] - before[0] == pytest.approx(3, abs=0.2)
    assert after[1] - before[1] == pytest.approx(3, abs=0.05)


def letter_lines(settings) -> tuple[list[float], list[float]]:
    """Tops of the 信函's four strokes in mm from the page's top: (PDF, docx)."""
    doc = make_doc(settings, "letter", format="letter", mark_suffix="", attachments=[],
                   imprint={"cc": ["市审计局"], "printed_by": "", "printed_on": None})
    strokes = runs_of(pdf_long_red_rows(render_pdf(doc), 160))
    shapes = docx_shapes(doc)
    docx = [shapes[name][0] for name in ("上双线粗", "上双线细", "下双线细", "下双线粗")]
    return [px_mm(a) for a, _ in strokes], docx


def test_letter_double_lines_move_with_the_mark_and_the_bottom_line_in_both_formats():
    before = letter_lines(defaults())
    after = letter_lines(settings_with(mark={"letter_top_mm": 33}, letter={"bottom_line_mm": 25}))
    for pdf, docx in (before, after):
        assert len(pdf) == 4
        assert pdf == pytest.approx(docx, abs=0.2)
    for fmt in (0, 1):
        shifts = [a - b for a, b in zip(after[fmt], before[fmt], strict=True)]
        assert shifts == pytest.approx([3, 3, -5, -5], abs=0.2)


def page_numbers(settings) -> tuple[tuple[float, float], tuple[float, float]]:
    """(top of “— 1 —” below the type area, its distance from the type area's right edge) in mm
    on page 1: (PDF, docx)."""
    doc = make_doc(settings)
    marks = sorted((w for w in words(render_pdf(doc)) if w.page == 1 and w.y0 > BOTTOM), key=lambda w: w.x0)
    assert "".join(w.text for w in marks) == "—1—"
    noto_top = (1.151 - 0.88) * (marks[0].y1 - marks[0].y0) / 1.437  # ascent above the em box
    pdf = ((marks[0].y0 + noto_top - BOTTOM) / MM, (RIGHT - marks[-1].x1) / MM)
    pkg = Package(render_docx(doc))
    odd = pkg.xml["word/footer1.xml"].find("w:p", NS)
    # The footer's tight exact line starts at its em box: page height − footer distance − line.
    footer = int(attr(pkg.section(), "w:pgMar", "footer"))
    line = int(attr(odd, "w:pPr/w:spacing", "line"))
    top = PAGE_H_MM - (footer + line) / TWIPS_PER_MM - (BOTTOM / MM)
    docx = (top, int(attr(odd, "w:pPr/w:ind", "right")) / TWIPS_PER_MM)
    return pdf, docx


def test_page_numbers_move_with_offset_and_indent_in_both_formats():
    before = page_numbers(defaults())
    after = page_numbers(settings_with(page_number={"offset_mm": 10, "indent_chars": 2}))
    pitch_mm = 156 / 28
    for pdf, docx in (before, after):
        assert pdf == pytest.approx(docx, abs=0.3)
    assert before[1] == pytest.approx((7, pitch_mm), abs=0.05)
    assert after[1] == pytest.approx((10, 2 * pitch_mm), abs=0.05)
    assert (after[0][0] - before[0][0], after[0][1] - before[0][1]) == pytest.approx((3, pitch_mm), abs=0.3)


def imprint_rules(settings) -> tuple[list[float], dict[str, int]]:
    """The 版记's rule thicknesses on the last page, top to bottom, in pt (PDF), and its table's
    border widths in eighths of a point (docx)."""
    doc = make_doc(settings)
    pdf = render_pdf(doc)
    last = max(w.page for w in words(pdf))
    img = page_image(pdf, last, DPI)
    px = img.load()
    x0, x1 = round((LEFT / MM + 20) / 25.4 * DPI), round((RIGHT / MM - 20) / 25.4 * DPI)
    dark = [y for y in range(img.height) if all(px[x, y][0] < 128 for x in range(x0, x1, 25))]
    thick = [(b - a) / DPI * 72 for a, b in runs_of(dark)]
    pkg = Package(render_docx(doc))
    borders = pkg.xpath("//w:tbl[last()]/w:tblPr/w:tblBorders")[0]
    docx = {side: int(attr(borders, f"w:{side}", "sz")) for side in ("top", "insideH", "bottom")}
    return thick, docx


def test_imprint_rules_follow_their_settings_in_both_formats():
    before = imprint_rules(defaults())
    after = imprint_rules(settings_with(imprint={"thick_pt": 2.0, "thin_pt": 0.5}))
    assert before[1] == {"top": 8, "insideH": 6, "bottom": 8}
    assert after[1] == {"top": 16, "insideH": 4, "bottom": 16}
    assert len(before[0]) == len(after[0]) == 3  # first and last thick, the one between thin
    assert before[0] == pytest.approx([1.0, 0.7, 1.0], abs=0.3)
    assert after[0] == pytest.approx([2.0, 0.5, 2.0], abs=0.3)


def test_the_geometry_places_page_numbers_the_joint_mark_the_imprint_and_the_letters_first_line():
    """The shared values themselves, from the default settings (both renderers' tests above and
    test_gongwen_geometry_printed.py check that the formats follow them)."""
    from generators.gongwen import geometry
    from generators.gongwen.model import mark_layout

    layout = defaults()["layout"]
    odd, even = geometry.page_number_place(layout, 3), geometry.page_number_place(layout, 4)
    assert (odd.side, even.side) == ("right", "left")
    assert odd.indent.in_mm == pytest.approx(156 / 28) and odd.below.in_mm == pytest.approx(7) and odd.size.pt == 14
    four = settings_with(page_number={"indent_char": "number"})["layout"]
    assert geometry.page_number_indent(four).pt == pytest.approx(14)
    assert [geometry.page_numbered(n, letter) for letter in (False, True) for n in (1, 2)] == [True, True, False, True]
    assert geometry.imprint_bottom(layout).in_mm == pytest.approx(262)
    assert geometry.letter_first_gap(layout).pt == pytest.approx(14)  # 7/8 of 16 pt
    mark = mark_layout(make_doc(defaults(), joint_issuers=["江夏市审计局"]))
    names, suffix = mark.names, mark.suffix
    assert [p.text for p in names] == ["江夏市财政局", "江夏市审计局"] and suffix.text == "文件"
    assert names[0].x == names[1].x and names[0].width.pt == pytest.approx(6 * mark.size.pt)
    # “文件” half a character of the mark after the names; the group centred on the type area.
    assert (suffix.x - names[0].x - names[0].width).pt == pytest.approx(0.5 * mark.size.pt)
    assert (names[0].x + suffix.x + suffix.width).in_mm == pytest.approx(156)
    assert (suffix.em_top + mark.size * 0.5).pt == pytest.approx((names[1].em_top + mark.size).pt / 2)
    single = mark_layout(make_doc(defaults()))
    assert single.suffix is None and single.names[0].text.endswith("文件")
    assert (single.names[0].x * 2 + single.names[0].width).in_mm == pytest.approx(156)
