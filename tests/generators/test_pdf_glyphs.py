"""No PDF of any sample prints a .notdef box: every glyph it shows is in its embedded font, and
pdffonts finds no font that weasyprint gave a Custom encoding for a character in no face."""

from __future__ import annotations

import json
import subprocess

import pytest

from generators import pdf as pdfkit
from kinds import all_kinds, pipeline
from tests.pdf_glyphs import notdef_shows

SAMPLES = [(k, s) for k in all_kinds() if "pdf" in k.formats for s in k.samples()]


def custom_fonts(pdf: bytes) -> list[str]:
    listing = subprocess.run(["pdffonts", "-"], input=pdf, check=True, capture_output=True).stdout.decode()
    return [line for line in listing.splitlines()[2:] if " Custom " in line]


@pytest.mark.parametrize("kind, path", SAMPLES, ids=[f"{k.id}/{p.stem}" for k, p in SAMPLES])
def test_no_sample_pdf_shows_a_notdef_glyph(kind, path):
    data = pipeline.validate(kind, json.loads(path.read_text(encoding="utf-8")))
    pdf = pipeline.render(kind, data, "pdf")
    assert notdef_shows(pdf) == []
    assert custom_fonts(pdf) == []


def test_a_character_in_no_face_is_found():
    """The checks see a tofu box: ☑ and a private-use character are in none of the project's faces."""
    html = '<html><body style="font-family: \'仿宋_GB2312\'"><p>☑修改后通过\U000F0001</p></body></html>'
    pdf = pdfkit.html_to_pdf(html, base_url=pdfkit.TEMPLATES_DIR)
    assert [page for page, _font in notdef_shows(pdf)] == [1, 1]
    assert len(custom_fonts(pdf)) == 1
