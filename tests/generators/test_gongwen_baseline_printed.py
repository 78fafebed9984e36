"""Where text sits inside its line, both formats, measured as printed: the project's PDF and the
docx as LibreOffice prints it (the project's fontconfig, tests/office) ink the same text lines at
the same heights, because both put a line's baseline where Word does
(gongwen/geometry.baseline_in_line: at 80 % of an exact line).

Before, the PDF kept weasyprint's own placement (the face's ascent and descent centred in the
line box) and LibreOffice centred the docx's body lines in the document grid with its own
metrics: body lines 0.1–0.8 mm apart, the 版记's rows 1.2 mm, headings and signatures between.

Samples of the notice and the report kinds. A text line is found by its words (pdftotext -bbox)
in both files; its ink is the dark pixels in the line's band, rules left out. LibreOffice breaks
a few lines of the notice's page 3 a character earlier (its digits are Liberation Serif), which
puts the lines after them a whole grid line lower: a line is compared inside its line, the
difference taken to the nearest whole number of grid lines.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from generators.gongwen import geometry
from kinds import get, pipeline
from rules.settings import defaults
from tests.generators.test_gongwen_libreoffice import DPI, Pdf, Word
from tests.office import print_with_libreoffice

pytestmark = [pytest.mark.libreoffice, pytest.mark.xdist_group("libreoffice")]

KINDS = ("notice", "report")
TOLERANCE_MM = 0.3
LINE_MM = geometry.line_pitch(defaults()["layout"]).in_mm
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict[str, tuple[Pdf, Pdf]]:
    """kind → (the project's PDF, the docx printed by LibreOffice) of the kind's first sample."""
    folder = tmp_path_factory.mktemp("baseline-printed")
    docx = []
    for name in KINDS:
        kind = get(name)
        data = pipeline.validate(kind, json.loads(kind.samples()[0].read_text(encoding="utf-8")))
        (folder / f"{name}.pdf").write_bytes(pipeline.render(kind, data, "pdf"))
        docx.append(folder / f"{name}.docx")
        docx[-1].write_bytes(pipeline.render(kind, data, "docx"))
    lo = print_with_libreoffice(docx, folder / "lo", folder / "profile")
    return {name: (Pdf(folder / f"{name}.pdf"), Pdf(lo[folder / f"{name}.docx"])) for name in KINDS}


def ink(pdf: Pdf, page: int, word: Word) -> tuple[float, float]:
    """The top and bottom (mm) of the dark pixels over `word`'s width, in a band of ±4.3 mm
    around its box's centre; rows inked over most of the width (the 版记's rules) left out."""
    d = DPI / 25.4
    centre = (word.y0 + word.y1) / 2
    left, top = round(word.x0 * d), round((centre - 4.3) * d)
    width, height = round(word.x1 * d) - left, round(8.6 * d)
    png = subprocess.run(["pdftoppm", "-r", str(DPI), "-f", str(page), "-l", str(page), "-x", str(left), "-y", str(top),
                          "-W", str(width), "-H", str(height), "-gray", "-png", str(pdf.path)],
                         check=True, capture_output=True).stdout
    image = Image.open(io.BytesIO(png)).convert("L")
    px = image.load()
    rows = [y for y in range(image.height)
            if 0 < sum(px[x, y] < 128 for x in range(image.width)) < 0.8 * image.width]
    assert rows, word
    return (top + rows[0]) / d, (top + rows[-1] + 1) / d


@dataclass(frozen=True)
class Line:
    page: int
    text: str
    pdf: tuple[float, float]  # ink top and bottom, mm
    docx: tuple[float, float]

    def apart(self) -> tuple[float, float]:
        """How far the docx's ink is from the PDF's (top, bottom), inside the line: the difference
        less the nearest whole number of grid lines."""
        shift = round((self.docx[0] - self.pdf[0]) / LINE_MM) * LINE_MM
        return self.docx[0] - self.pdf[0] - shift, self.docx[1] - self.pdf[1] - shift


def text_lines(pdf: Pdf, docx: Pdf) -> list[Line]:
    """The text lines set alike in both files (a word of at least three Chinese characters, once on
    its page in each), below the 版头 (whose pieces the geometry places by their em boxes)."""
    out = []
    for page in range(1, min(len(pdf.pages), len(docx.pages)) + 1):
        mine, theirs = pdf.pages[page - 1], docx.pages[page - 1]
        count_mine, count_theirs = Counter(w.text for w in mine), Counter(w.text for w in theirs)
        for word in mine:
            if count_mine[word.text] != 1 or count_theirs[word.text] != 1 or len(CJK.findall(word.text)) < 3:
                continue
            if page == 1 and word.y0 < 120:  # 版头: mark, 份号, 发文字号
                continue
            other = next(w for w in theirs if w.text == word.text)
            out.append(Line(page, word.text, ink(pdf, page, word), ink(docx, page, other)))
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_text_lines_ink_at_the_same_heights_in_both_formats(printed, kind):
    pdf, docx = printed[kind]
    lines = text_lines(pdf, docx)
    last = len(pdf.pages)

    def some(pattern: str, page: int | None = None) -> list[Line]:
        return [x for x in lines if re.fullmatch(pattern, x.text) and (page is None or x.page == page)]

    # Every kind of line is there: body lines, 黑体 and 楷体 headings, the 署名 and 成文日期,
    # the 版记's 抄送 and 印发 rows.
    assert len(some(".*", page=1)) >= 5
    assert some(r"[一二三四五六七八九十]+、\S+")  # 黑体
    assert some(r"（[一二三四五六七八九十]+）\S+")  # 楷体
    assert some(r"青溪县财政局") and some(r"\d{4}年\d{1,2}月\d{1,2}日")
    assert some(r"抄送：.*", page=last) and some(r".*印发", page=last)
    assert len(lines) >= 40
    for line in lines:
        top, bottom = line.apart()
        assert abs(top) <= TOLERANCE_MM and abs(bottom) <= TOLERANCE_MM, (line.page, line.text, line.pdf, line.docx)


def test_the_rule_is_the_geometrys():
    """80 % of an exact line: 23.16 pt in the grid's 28.95 pt line; the em box of a 三号 glyph
    from 9.08 pt below the line's top."""
    line = geometry.line_pitch(defaults()["layout"])
    assert geometry.baseline_in_line(line).pt == pytest.approx(23.16)
    assert geometry.em_top_in_line(geometry.Length(16), line).pt == pytest.approx(23.16 - 14.08)


def test_the_pdf_moves_glyphs_from_the_faces_own_metrics():
    """The PDF's offsets come from the faces fonts.conf resolves (FandolFang for 仿宋: ascent
    0.88, descent 0.12 em), so a body line's glyphs move down 2.605 pt and a 四号 版记 row's 3.365 pt."""
    from generators.gongwen.pdf import Geometry
    from generators.pdf import face_metrics

    layout = defaults()["layout"]
    body = face_metrics(layout["fonts"]["fangsong"])
    assert Path(body.file).name == "FandolFang-Regular.otf"
    assert (body.ascent, body.descent) == (0.88, 0.12)
    g = Geometry.from_layout(layout)
    assert g.body_drop() == pytest.approx(2.605)
    assert g.drop("fangsong", g.imprint_pt, g.line) == pytest.approx(3.365)
