"""The 公文 .docx as LibreOffice lays it out: converted to PDF, then measured.

Text positions come from `pdftotext -bbox` (poppler); the red mark, the red rules and the 版记
rules are measured on a 300 dpi rendering from `pdftoppm`, because a word's bounding box is
built from font metrics while GB/T 9704 measures the printed edge. Font names are mapped to the
Noto CJK / AR PL faces installed on the test machine by a private fontconfig file, so the
results do not depend on the machine's default font fallback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from generators.gongwen.docx import render_docx
from tests.generators.conftest import FULL_PAGE_TEXT, make_doc

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.xdist_group("libreoffice"),
    pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"),
]

MM_PER_PT = 25.4 / 72
DPI = 300
TYPE_TOP, TYPE_BOTTOM, TYPE_LEFT, TYPE_RIGHT = 37.0, 262.0, 28.0, 184.0
CHAR_MM = 16 * MM_PER_PT  # one 三号 character

FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <alias binding="same"><family>方正小标宋简体</family><prefer><family>Noto Serif CJK SC</family></prefer></alias>
  <alias binding="same"><family>仿宋_GB2312</family><prefer><family>Noto Serif CJK SC</family></prefer></alias>
  <alias binding="same"><family>宋体</family><prefer><family>Noto Serif CJK SC</family></prefer></alias>
  <alias binding="same"><family>黑体</family><prefer><family>Noto Sans CJK SC</family></prefer></alias>
  <alias binding="same"><family>楷体_GB2312</family><prefer><family>AR PL KaitiM GB</family><family>LXGW WenKai</family></prefer></alias>
</fontconfig>
"""


@dataclass(frozen=True)
class Word:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


class Pdf:
    def __init__(self, path: Path):
        self.path = path
        html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], check=True, capture_output=True, text=True).stdout
        self.pages: list[list[Word]] = []
        for page in html.split("<page ")[1:]:
            words = []
            for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page):
                x0, y0, x1, y1 = (float(v) * MM_PER_PT for v in m.groups()[:4])
                words.append(Word(x0, y0, x1, y1, m.group(5)))
            self.pages.append(words)

    def lines(self, page: int, top: float = TYPE_TOP - 1, bottom: float = TYPE_BOTTOM + 1) -> list[str]:
        """The text lines of a page (1-based) within the type area, top to bottom."""
        rows: dict[float, list[Word]] = {}
        for word in self.pages[page - 1]:
            if top <= word.y0 and word.y1 <= bottom:
                rows.setdefault(round(word.y0, 1), []).append(word)
        return ["".join(w.text for w in sorted(ws, key=lambda w: w.x0)) for _, ws in sorted(rows.items())]

    def words(self, page: int, pattern: str) -> list[Word]:
        return [w for w in self.pages[page - 1] if re.fullmatch(pattern, w.text)]

    def image(self, page: int) -> Image.Image:
        stem = self.path.with_name(f"{self.path.stem}-p{page}")
        subprocess.run(["pdftoppm", "-r", str(DPI), "-png", "-f", str(page), "-l", str(page), "-singlefile",
                        str(self.path), str(stem)], check=True)
        return Image.open(f"{stem}.png").convert("RGB")


def ink_rows(image: Image.Image, red: bool, top_mm: float = 0, bottom_mm: float = 297) -> dict[float, float]:
    """{y in mm: inked width in mm} for rows holding red (or black) pixels."""
    px = image.load()
    width, height = image.size
    rows = {}
    for y in range(int(top_mm / 25.4 * DPI), min(height, int(bottom_mm / 25.4 * DPI))):
        count = 0
        for x in range(0, width, 2):
            r, g, b = px[x, y]
            if (red and r > 180 and g < 100 and b < 100) or (not red and r < 90 and g < 90 and b < 90):
                count += 2
        if count:
            rows[y * 25.4 / DPI] = count * 25.4 / DPI
    return rows


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory, settings):
    """Every document of this module converted in one LibreOffice run."""
    folder = tmp_path_factory.mktemp("gongwen-lo")
    docs = {
        "notice": make_doc(settings),
        "full": make_doc(settings, body=FULL_PAGE_TEXT, attachments=[]),
        "letter": make_doc(settings, "letter", format="letter", mark_suffix="", attachments=[],
                           imprint={"cc": ["市审计局"], "printed_by": "", "printed_on": None}),
        "party": make_doc(settings, issuer="中共江夏市委", party_style=True),
    }
    for name, doc in docs.items():
        (folder / f"{name}.docx").write_bytes(render_docx(doc))
    (folder / "fonts.conf").write_text(FONTS_CONF, encoding="utf-8")
    env = dict(os.environ, FONTCONFIG_FILE=str(folder / "fonts.conf"))
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{folder / 'profile'}", "--headless", "--convert-to", "pdf",
         "--outdir", str(folder), *(str(folder / f"{n}.docx") for n in docs)],
        check=True, capture_output=True, env=env, timeout=180,
    )
    return {name: Pdf(folder / f"{name}.pdf") for name in docs}


def test_full_body_page_has_22_lines_of_28_characters(pdfs):
    lines = pdfs["full"].lines(2)
    assert len(lines) == 22, lines
    assert [len(line) for line in lines] == [28] * 22
    words = pdfs["full"].pages[1]
    body = [w for w in words if TYPE_TOP - 1 < w.y0 < TYPE_BOTTOM]
    assert min(w.x0 for w in body) == pytest.approx(TYPE_LEFT, abs=0.3)
    assert max(w.x1 for w in body) == pytest.approx(TYPE_RIGHT, abs=0.6)


def test_page_one_shows_body_text(pdfs):
    lines = pdfs["notice"].lines(1)
    assert any(line.startswith("为贯彻落实") for line in lines)
    assert "江夏市财政局关于开展2024年度" in lines and "部门整体支出绩效自评工作的通知" in lines


def test_mark_top_edge_35mm_below_the_type_area(pdfs):
    rows = ink_rows(pdfs["notice"].image(1), red=True)
    top = min(rows)
    assert top == pytest.approx(TYPE_TOP + 35, abs=1.5)


def test_red_rule_4mm_below_the_doc_number(pdfs):
    image = pdfs["notice"].image(1)
    red = ink_rows(image, red=True)
    rule = [y for y, width in red.items() if width > 150]
    assert rule, "no type-area-wide red line"
    rule_top, rule_bottom = min(rule), max(rule)
    assert rule_bottom - rule_top < 0.6  # about 1 pt thick
    assert max(red[y] for y in rule) == pytest.approx(156, abs=0.5)
    number = pdfs["notice"].words(1, r"江财绩〔2024〕7号?")[0]
    ink = [y for y in ink_rows(image, False, number.y0, rule_top)]
    assert rule_top - max(ink) == pytest.approx(4, abs=0.7)
    centre = (number.x0 + pdfs["notice"].words(1, "号")[0].x1) / 2 if not number.text.endswith("号") else (number.x0 + number.x1) / 2
    assert centre == pytest.approx((TYPE_LEFT + TYPE_RIGHT) / 2, abs=1.5)


def test_party_star_sits_on_the_rule(pdfs):
    red = ink_rows(pdfs["party"].image(1), True, 100, 140)
    rule = [y for y, width in red.items() if width > 140]
    star = [y for y, width in red.items() if 0 < width < 10]
    assert rule and star
    assert (min(star) + max(star)) / 2 == pytest.approx((min(rule) + max(rule)) / 2, abs=0.5)


def test_page_numbers_odd_right_even_left_7mm_below(pdfs):
    pdf = pdfs["notice"]
    for page, side in ((1, "right"), (2, "left")):
        words = [w for w in pdf.pages[page - 1] if w.y0 > TYPE_BOTTOM]
        assert "".join(w.text for w in words) == f"—{page}—"
        assert min(w.y0 for w in words) == pytest.approx(TYPE_BOTTOM + 7, abs=1.5)
        if side == "right":
            assert max(w.x1 for w in words) == pytest.approx(TYPE_RIGHT - CHAR_MM, abs=1.0)
        else:
            assert min(w.x0 for w in words) == pytest.approx(TYPE_LEFT + CHAR_MM, abs=1.0)


def test_imprint_at_the_bottom_of_the_last_page(pdfs):
    pdf = pdfs["notice"]
    last = len(pdf.pages)
    printed = pdf.words(last, "日印发")[0]
    assert TYPE_BOTTOM - 12 < printed.y1 <= TYPE_BOTTOM + 0.5
    black = ink_rows(pdf.image(last), False, TYPE_BOTTOM - 30, TYPE_BOTTOM + 3)
    rules = sorted(y for y, width in black.items() if width > 150)
    assert rules and max(rules) == pytest.approx(TYPE_BOTTOM, abs=0.7)
    cc = pdf.words(last, "抄送：.*")[0]
    assert cc.x0 == pytest.approx(TYPE_LEFT + 14 * MM_PER_PT, abs=0.5)  # one 四号 character in


def test_letter_mark_double_lines_and_no_number_on_page_one(pdfs):
    pdf = pdfs["letter"]
    red = ink_rows(pdf.image(1), red=True)
    assert min(red) == pytest.approx(30, abs=1.5)
    lines = [y for y, width in red.items() if width > 165]
    assert max(red[y] for y in lines) == pytest.approx(170, abs=0.5)
    assert max(lines) == pytest.approx(297 - 20, abs=0.5)
    assert not [w for w in pdf.pages[0] if w.y0 > TYPE_BOTTOM and w.text in ("—", "1")]
    assert "".join(w.text for w in pdf.pages[1] if w.y0 > TYPE_BOTTOM) == "—2—"
    number = pdf.words(1, "号")[0]
    assert number.x1 == pytest.approx(TYPE_RIGHT, abs=0.5)  # flush right under the double line
