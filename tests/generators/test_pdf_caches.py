"""The per-process font caches of generators/pdf.py stay bounded however many different PDFs a
worker renders (a disclosure batch: every unit's names give a new glyph set)."""

from __future__ import annotations

import json

import kinds
from generators import pdf as pdfkit
from kinds import pipeline
from rules.settings import defaults


def _notice(n: int) -> dict:
    payload = json.loads(kinds.get("notice").samples()[0].read_text(encoding="utf-8"))
    # different characters in each document: a new subset per document
    payload["title"] = f"关于做好第{n}批{'甲乙丙丁戊己庚辛壬癸'[n % 10]}{'子丑寅卯辰巳午未申酉戌亥'[n % 12]}项目绩效监控的通知"
    return pipeline.validate("notice", payload, defaults())


def test_font_caches_do_not_grow_per_document(monkeypatch):
    monkeypatch.setattr(pdfkit, "_SUBSET_CACHE_BYTES", 2 * 2**20)
    render = kinds.get("notice").renderers["pdf"]
    settings = defaults()
    render(_notice(0), settings)
    faces = len(pdfkit._face_data)
    assert faces >= 1  # the installed CJK faces this document uses
    assert all(len(data) >= pdfkit._FACE_DATA_MIN_BYTES for _keep, data in pdfkit._face_data.values())
    for n in range(1, 8):
        pdf = render(_notice(n), settings)
        assert pdf.startswith(b"%PDF")
        assert len(pdfkit._face_data) == faces  # the installed faces only, not each PDF's subsets
        assert pdfkit._subset_size[0] <= 2 * 2**20
        assert pdfkit._subset_size[0] == sum(len(v) for v in pdfkit._subset_cache.values())


def test_one_pass_subsets_are_weasyprints_subsets(monkeypatch):
    """The subset made in one HarfBuzz pass where weasyprint's second would change nothing is,
    byte for byte, the font weasyprint's two passes make — for faces where the closure stops at
    the last glyph used and for those where it adds one above it (the second pass then runs)."""
    from weasyprint.pdf import fonts as wp_fonts

    seen = []
    patched = wp_fonts.Font.subset

    def record(font, to_unicode, hinting):
        seen.append((font, set(to_unicode), hinting))
        return patched(font, to_unicode, hinting)

    monkeypatch.setattr(wp_fonts.Font, "subset", record)
    monkeypatch.setattr(pdfkit, "_subset_cache", {})
    for n in range(3):
        kinds.get("notice").renderers["pdf"](_notice(n), defaults())
    one_pass = pdfkit._harfbuzz_subset(wp_fonts)
    assert one_pass is not None and len(seen) >= 3
    families = set()
    for font, to_unicode, hinting in seen:
        wp_fonts.Font._harfbuzz_subset(font, to_unicode, hinting)  # weasyprint's two passes
        theirs = font.file_content
        assert one_pass(font, to_unicode, hinting) is True
        assert font.file_content == theirs
        families.add(font.family)
    assert len(families) >= 2


def test_pdf_streams_are_deflated_at_the_capped_level():
    import zlib

    import pydyf

    data = ("第一页 — 1 — " * 500).encode()
    assert isinstance(pydyf.zlib, pdfkit._CappedZlib)
    stream = pydyf.zlib.compressobj(level=9)  # what pydyf asks for
    out = stream.compress(data) + stream.flush()
    expected = zlib.compressobj(pdfkit.PDF_DEFLATE_LEVEL)
    assert out == expected.compress(data) + expected.flush()
    assert zlib.decompress(out) == data
    assert pydyf.zlib.compress(data, 1) == zlib.compress(data, 1)  # a lower level is kept


def _disclosure_html():
    from generators import disclosure

    payload = json.loads(kinds.get("disclosure").samples()[0].read_text(encoding="utf-8"))
    settings = defaults()
    return disclosure.unit_html(pipeline.validate("disclosure", payload, settings), settings), disclosure._stylesheet()


def test_lean_user_agent_sheet_renders_the_same_pdf(monkeypatch):
    """The lean user-agent sheet leaves the pseudo-elements no table or paragraph has: the PDF is
    byte for byte the one weasyprint's own sheet gives."""
    html, sheet = _disclosure_html()
    lean = pdfkit._user_agent_sheets(html, [sheet])
    assert lean is not None and lean[0] is pdfkit._lean_ua[0]
    ours = pdfkit.render_pdf(html, [sheet])
    monkeypatch.setattr(pdfkit, "_user_agent_sheets", lambda html, sheets: None)
    stock = pdfkit.render_pdf(html, [sheet])
    assert ours.pages == stock.pages >= 3
    assert ours.data == stock.data


def test_lean_user_agent_sheet_only_where_no_notes_are_used():
    from weasyprint import CSS

    html, sheet = _disclosure_html()
    footnotes = pdfkit.compile_css(".imprint { float: footnote; }")
    assert pdfkit._user_agent_sheets(html, [sheet, footnotes]) is None  # the 公文's 版记
    assert pdfkit._user_agent_sheets(html, [sheet, pdfkit.compile_css("p { position: note(side); }")]) is None
    assert pdfkit._user_agent_sheets(html, [CSS(string="p { color: red; }")]) is None  # not compiled here
    assert pdfkit._user_agent_sheets('<p style="float: footnote">注</p>', [sheet]) is None
    assert pdfkit._user_agent_sheets(html, [sheet]) is not None
    # A footnote renders (with weasyprint's defaults for its call and marker) through render_pdf.
    pdf = pdfkit.render_pdf('<p>正文<span style="float: footnote">脚注内容</span></p>', [footnotes])
    assert pdf.pages == 1


def test_lean_user_agent_sheet_keeps_list_markers():
    import subprocess

    sheet = pdfkit.compile_css("body { font-family: 宋体; }")
    html = "<ol><li>第一项</li><li>第二项</li></ol><ul><li>要点</li></ul>"
    assert pdfkit._user_agent_sheets(html, [sheet]) is not None
    pdf = pdfkit.render_pdf(html, [sheet]).data
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "1." in text and "2." in text and "•" in text and "第二项" in text
