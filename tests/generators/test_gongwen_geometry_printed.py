"""One geometry, two renderers, measured as printed: a layout setting moved, the project's PDF and
the docx as LibreOffice prints it (the project's fontconfig, tests/office) put the page numbers
(7.5), the 版记 (7.4, 10.1), the joint mark's pieces (7.2.4) and the 信函's first line (10.1)
where generators/gongwen/geometry.py says, so they move together.

Horizontal text positions are `pdftotext -bbox` word boxes. Vertically a word box is the font's
ascent and descent as the PDF declares them, which differs by producer (LibreOffice embeds the
faces as Type 1 with other metrics), so the project's PDF is checked on its word boxes (the em
box) and the docx on its ink against the project's PDF's ink. Rules and the mark's edges are inked
pixels at DPI; all in mm from the page's top-left corner.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from functools import lru_cache

import pytest
from PIL import Image

from generators.gongwen import geometry
from generators.gongwen.docx import render_docx
from generators.gongwen.model import Document, mark_layout
from generators.gongwen.pdf import render_pdf
from rules.settings import defaults
from tests.generators.conftest import make_doc
from tests.generators.test_gongwen_libreoffice import DPI, Pdf, ink_rows
from tests.generators.test_gongwen_shared_geometry import settings_with
from tests.office import print_with_libreoffice

pytestmark = [pytest.mark.libreoffice, pytest.mark.xdist_group("libreoffice")]

LETTER = {"format": "letter", "mark_suffix": "", "attachments": [],
          "imprint": {"cc": ["市审计局", "市人大常委会预算工作委员会"], "printed_by": "", "printed_on": None}}
JOINT = {"joint_issuers": ["江夏市审计局"]}

# name → (layout changes, kind, document changes)
VARIANTS = {
    "notice": ({}, "notice", {}),
    # Numbers 10 mm below the type area, two 四号 characters in (not the body grid's).
    "numbers": ({"page_number": {"offset_mm": 10, "indent_chars": 2, "indent_char": "number"}}, "notice", {}),
    # The type area 3 mm lower and 15 mm shorter: its bottom edge 12 mm higher.
    "box": ({"page": {"top_mm": 40, "type_height_mm": 210}}, "notice", {}),
    "letter": ({}, "letter", LETTER),
    "letter_moved": ({"letter": {"first_line_gap_em": 2.0}, "page": {"top_mm": 40, "type_height_mm": 210}}, "letter", LETTER),
    "joint": ({}, "notice", JOINT),
    "joint_gap": ({"mark": {"joint_suffix_gap_chars": 1.5}}, "notice", JOINT),
}


@dataclass
class Printed:
    doc: Document
    layout: dict
    pdf: Pdf  # the project's PDF
    docx: Pdf  # the docx printed by LibreOffice

    def formats(self) -> dict[str, Pdf]:
        return {"pdf": self.pdf, "docx": self.docx}

    def box(self) -> geometry.PageBox:
        return geometry.page_box(self.layout)


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict[str, Printed]:
    """Every variant rendered in both formats, the docx printed in one LibreOffice run."""
    folder = tmp_path_factory.mktemp("geometry-printed")
    docs, files = {}, []
    for name, (layout, kind, changes) in VARIANTS.items():
        settings = settings_with(**layout) if layout else defaults()
        doc = docs[name] = make_doc(settings, kind, **changes)
        (folder / f"{name}.pdf").write_bytes(render_pdf(doc))
        files.append(folder / f"{name}.docx")
        files[-1].write_bytes(render_docx(doc))
    lo = print_with_libreoffice(files, folder / "lo", folder / "profile")
    return {name: Printed(doc, doc.settings["layout"], Pdf(folder / f"{name}.pdf"), Pdf(lo[folder / f"{name}.docx"]))
            for name, doc in docs.items()}


def mm(length: geometry.Length) -> float:
    return length.in_mm


@lru_cache(maxsize=32)
def _image(pdf: Pdf, page: int):
    return pdf.image(page)


# --- page numbers (7.5) ----------------------------------------------------------------------------

@lru_cache(maxsize=256)
def ink_box(pdf: Pdf, page: int, x0: float, x1: float, y0: float, y1: float) -> tuple[float, float]:
    """The top and bottom of the ink (dark or red pixels) within a box of page `page`, mm."""
    d = DPI / 25.4
    left, top = round(x0 * d), round(y0 * d)
    png = subprocess.run(["pdftoppm", "-r", str(DPI), "-f", str(page), "-l", str(page), "-x", str(left), "-y", str(top),
                          "-W", str(round(x1 * d) - left), "-H", str(round(y1 * d) - top), "-png", str(pdf.path)],
                         check=True, capture_output=True).stdout
    ink = Image.open(io.BytesIO(png)).convert("L").point(lambda v: 255 if v < 128 else 0).getbbox()
    assert ink
    return (top + ink[1]) / d, (top + ink[3]) / d


@dataclass(frozen=True)
class NumberSeen:
    side: str  # the side of the type area it is nearer to
    indent: float  # from that side's edge of the type area
    below: float  # its em box top below the type area's bottom edge (from the word box)
    ink: float  # its ink's top below the type area's bottom edge


def page_numbers(pdf: Pdf, box: geometry.PageBox, inked: int = 3) -> dict[int, NumberSeen]:
    """“— N —” found below the type area, page → where it is (the ink of the first `inked` pages)."""
    bottom, left, right = mm(box.type_bottom), mm(box.left), mm(box.left + box.type_width)
    out = {}
    for page, words in enumerate(pdf.pages, start=1):
        number = sorted((w for w in words if w.y0 > bottom), key=lambda w: w.x0)
        if not number:
            continue
        assert "".join(w.text for w in number) == f"—{page}—"
        x0, x1 = number[0].x0, number[-1].x1
        # 宋体 is Noto Serif CJK: its word box runs from 1.151 em above the baseline to 0.286 below.
        em_top = number[0].y0 + (1.151 - 0.88) * (number[0].y1 - number[0].y0) / 1.437
        ink = ink_box(pdf, page, x0, x1, bottom + 1, bottom + 25)[0] if page <= inked else float("nan")
        side = "right" if right - x1 < x0 - left else "left"
        out[page] = NumberSeen(side, right - x1 if side == "right" else x0 - left, em_top - bottom, ink - bottom)
    return out


@pytest.mark.parametrize("name", ["notice", "numbers", "box", "letter", "letter_moved"])
def test_page_numbers_where_the_geometry_puts_them_in_both_formats(printed, name):
    p = printed[name]
    seen = {fmt: page_numbers(pdf, p.box()) for fmt, pdf in p.formats().items()}
    letter = p.doc.format == "letter"
    for fmt, numbers in seen.items():
        pages = len(p.formats()[fmt].pages)
        assert pages >= 3
        assert sorted(numbers) == [n for n in range(1, pages + 1) if geometry.page_numbered(n, letter)], fmt
        for page, number in numbers.items():
            want = geometry.page_number_place(p.layout, page)
            assert number.side == want.side, (fmt, page)
            assert number.indent == pytest.approx(mm(want.indent), abs=0.3), (fmt, page)
    assert letter == (1 not in seen["pdf"])
    for page, number in seen["pdf"].items():
        assert number.below == pytest.approx(mm(geometry.page_number_place(p.layout, page).below), abs=0.3), page
    # The docx's numbers inked where the PDF's are, odd and even pages.
    both = sorted(set(seen["pdf"]) & set(seen["docx"]) & {1, 2, 3})
    assert len(both) >= 2
    for page in both:
        assert seen["docx"][page].ink == pytest.approx(seen["pdf"][page].ink, abs=0.3), page


def test_the_page_number_settings_move_both_formats_alike(printed):
    """Odd pages right and even pages left, one 三号 character of the grid in and 7 mm below by
    default; 2 四号 characters in and 10 mm below when set so; the docx's ink moved as the PDF's."""
    seen = {name: {fmt: page_numbers(pdf, printed[name].box()) for fmt, pdf in printed[name].formats().items()}
            for name in ("notice", "numbers")}
    for name, indent, below in (("notice", 156 / 28, 7), ("numbers", 2 * 14 * 25.4 / 72, 10)):
        for fmt, numbers in seen[name].items():
            assert (numbers[1].side, numbers[2].side) == ("right", "left"), fmt
            for number in (numbers[1], numbers[2]):
                assert number.indent == pytest.approx(indent, abs=0.3), (name, fmt)
        for number in (seen[name]["pdf"][1], seen[name]["pdf"][2]):
            assert number.below == pytest.approx(below, abs=0.3), name
    for fmt in ("pdf", "docx"):
        assert seen["numbers"][fmt][2].ink - seen["notice"][fmt][2].ink == pytest.approx(3, abs=0.2), fmt


def test_an_unknown_indent_character_is_refused_in_chinese():
    with pytest.raises(ValueError, match="page_number.indent_char"):
        geometry.page_number_indent(settings_with(page_number={"indent_char": "三号"})["layout"])


# --- the 版记 (7.4, 10.1) ----------------------------------------------------------------------------

def last_rule_bottom(pdf: Pdf, box: geometry.PageBox) -> float:
    """The bottom of the last type-area-wide black rule on the last page."""
    bottom = mm(box.type_bottom)
    black = ink_rows(_image(pdf, len(pdf.pages)), False, bottom - 40, bottom + 10)
    rules = [y for y, width in black.items() if width > mm(box.type_width) - 2]
    assert rules
    return max(rules) + 25.4 / DPI


@pytest.mark.parametrize("name", ["notice", "box"])
def test_the_imprints_last_rule_on_the_geometrys_bottom_in_both_formats(printed, name):
    p = printed[name]
    want = mm(geometry.imprint_bottom(p.layout))
    assert want == pytest.approx({"notice": 262, "box": 250}[name])
    for fmt, pdf in p.formats().items():
        assert last_rule_bottom(pdf, p.box()) == pytest.approx(want, abs=0.3), fmt
        printed_on = pdf.words(len(pdf.pages), ".*日印发")[0]
        assert want - 10 < printed_on.y1 < want, fmt


@pytest.mark.parametrize("name", ["letter", "letter_moved"])
def test_a_letters_imprint_at_the_very_bottom_without_rules_in_both_formats(printed, name):
    p = printed[name]
    want = mm(geometry.imprint_bottom(p.layout))
    line = mm(geometry.line_pitch(p.layout))
    inks = []
    for fmt, pdf in p.formats().items():
        last = len(pdf.pages)
        cc = pdf.words(last, "抄送：.*")[0]
        top, bottom = ink_box(pdf, last, cc.x0, cc.x1, want - 2 * line, want + 2)
        inks.append(bottom)
        # The 抄送 is the last line of the type area, nothing below it, no rule anywhere near.
        assert want - line < top and bottom < want, fmt
        black = ink_rows(_image(pdf, last), False, want - 3 * line, want + 5)
        assert not [y for y, width in black.items() if width > 100], fmt
    # Both set the 四号 line's baseline at 80 % of its grid line (geometry.baseline_in_line).
    assert abs(inks[0] - inks[1]) < 0.3


# --- the joint mark's pieces (7.2.4) -------------------------------------------------------------

@dataclass(frozen=True)
class MarkSeen:
    names_left: float
    names_right: float
    suffix_left: float
    suffix_right: float
    names_mid: float  # the names' vertical centre
    suffix_mid: float


def red_columns(pdf: Pdf, top: float, bottom: float) -> list[tuple[float, float]]:
    """Runs of columns holding red between `top` and `bottom` on page 1: (left, right) in mm."""
    image = _image(pdf, 1)
    px = image.load()
    y0, y1 = round(top / 25.4 * DPI), round(bottom / 25.4 * DPI)
    inked = [any((c := px[x, y])[0] > 180 and c[1] < 100 and c[2] < 100 for y in range(y0, y1, 2))
             for x in range(image.width)]
    runs: list[tuple[float, float]] = []
    for x, red in enumerate(inked):
        if red and runs and runs[-1][1] == x:
            runs[-1] = (runs[-1][0], x + 1)
        elif red:
            runs.append((x, x + 1))
    return [(a * 25.4 / DPI, b * 25.4 / DPI) for a, b in runs]


def joint_mark(pdf: Pdf, box: geometry.PageBox) -> MarkSeen:
    """The stacked names and “文件”: the widest gap between red columns in the mark's band parts
    them."""
    band = ink_rows(_image(pdf, 1), True, mm(box.top), mm(box.top) + 70)
    rows = sorted(y for y, width in band.items() if width < 150)  # not the red rule
    top = rows[0]
    bottom = max(y for y in rows if y < top + 40)
    runs = red_columns(pdf, top, bottom)
    gaps = [(runs[i + 1][0] - runs[i][1], i) for i in range(len(runs) - 1)]
    split = max(gaps)[1]
    names, suffix = runs[:split + 1], runs[split + 1:]
    image = _image(pdf, 1)
    px = image.load()

    def mid(x0: float, x1: float) -> float:
        ys = [y for y in range(round(top / 25.4 * DPI), round(bottom / 25.4 * DPI) + 1)
              if any((c := px[x, y])[0] > 180 and c[1] < 100 for x in range(round(x0 / 25.4 * DPI), round(x1 / 25.4 * DPI)))]
        return (ys[0] + ys[-1]) / 2 * 25.4 / DPI

    return MarkSeen(names[0][0], names[-1][1], suffix[0][0], suffix[-1][1],
                    mid(names[0][0], names[-1][1]), mid(suffix[0][0], suffix[-1][1]))


def test_the_joint_mark_pieces_where_the_geometry_puts_them_in_both_formats(printed):
    seen = {name: {fmt: joint_mark(pdf, printed[name].box()) for fmt, pdf in printed[name].formats().items()}
            for name in ("joint", "joint_gap")}
    for name, formats in seen.items():
        mark = mark_layout(printed[name].doc)
        assert len(mark.names) == 2 and mark.suffix is not None
        # The same ink in both formats (a glyph's ink starts a little inside its em box).
        for field in ("names_left", "names_right", "suffix_left", "suffix_right", "names_mid", "suffix_mid"):
            assert getattr(formats["pdf"], field) == pytest.approx(getattr(formats["docx"], field), abs=0.3), (name, field)
        for fmt, m in formats.items():
            left = mm(printed[name].box().left)
            assert m.names_left == pytest.approx(left + mm(mark.names[0].x), abs=1.0), (name, fmt)
            assert m.names_right == pytest.approx(left + mm(mark.names[0].x + mark.names[0].width), abs=1.0), (name, fmt)
            assert m.suffix_left == pytest.approx(left + mm(mark.suffix.x), abs=1.0), (name, fmt)
            assert m.suffix_mid == pytest.approx(m.names_mid, abs=0.5), (name, fmt)  # “文件” centred on the names
            # The whole group centred in the type area.
            assert (m.names_left + m.suffix_right) / 2 == pytest.approx(left + mm(printed[name].box().type_width) / 2, abs=0.6)
    # A character (42 pt) more between the names and “文件”: the names half of it to the left,
    # “文件” half of it to the right, in both formats.
    half = 42 / 2 * 25.4 / 72
    for fmt in ("pdf", "docx"):
        before, after = seen["joint"][fmt], seen["joint_gap"][fmt]
        assert after.names_left - before.names_left == pytest.approx(-half, abs=0.2), fmt
        assert after.suffix_left - before.suffix_left == pytest.approx(half, abs=0.2), fmt


# --- the 信函's first line (10.1) ------------------------------------------------------------------

def first_line(pdf: Pdf) -> tuple[float, float, float, float]:
    """(the bottom of the upper double line's thin stroke, the 发文字号's em box top by its word
    box, its ink top, its right end) in mm."""
    red = ink_rows(_image(pdf, 1), True, 0, 120)
    strokes = sorted(y for y, width in red.items() if width > 165)
    ends = [y for i, y in enumerate(strokes) if i + 1 == len(strokes) or strokes[i + 1] - y > 25.4 / DPI * 1.5]
    number = pdf.words(1, ".*〔2024〕7号")[0]
    ink = ink_box(pdf, 1, number.x0, number.x1, number.y0 - 2, number.y1 + 1)[0]
    return ends[1] + 25.4 / DPI, number.y0, ink, number.x1


def test_the_letters_first_line_follows_its_setting_in_both_formats(printed):
    """7/8 of a 三号 character's height (14 pt) below the double line by default; 2 × 16 pt when
    `letter.first_line_gap_em` is 2; the 发文字号 flush with the type area's right edge."""
    for name, factor in (("letter", 0.875), ("letter_moved", 2.0)):
        p = printed[name]
        gap = mm(geometry.letter_first_gap(p.layout))
        assert gap == pytest.approx(factor * 16 * 25.4 / 72)
        seen = {fmt: first_line(pdf) for fmt, pdf in p.formats().items()}
        thin, em_top, _, _ = seen["pdf"]
        assert em_top - thin == pytest.approx(gap, abs=0.3), name  # FandolFang's word box is its em box
        for fmt, (thin_, _, ink, right) in seen.items():
            assert thin_ == pytest.approx(thin, abs=0.2), (name, fmt)
            assert ink == pytest.approx(seen["pdf"][2], abs=0.3), (name, fmt)
            assert right == pytest.approx(mm(p.box().left + p.box().type_width), abs=0.5), (name, fmt)
    # Moved by 1.125 × 16 pt in both.
    for fmt in ("pdf", "docx"):
        moved = first_line(printed["letter_moved"].formats()[fmt])[2] - first_line(printed["letter"].formats()[fmt])[2]
        assert moved == pytest.approx(1.125 * 16 * 25.4 / 72, abs=0.3), fmt
