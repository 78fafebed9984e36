"""The per-process font caches of generators/pdf.py stay bounded however many different PDFs a
worker renders (a disclosure batch: every unit's names give a new glyph set)."""

from __future__ import annotations

import json
import re

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
        assert pdfkit._subset_size[0] == sum(len(v) for v in pdfkit._subset_cache.values()) + sum(
            len(packed or b"") for _subset, packed in pdfkit._deflated.values())
        assert set(pdfkit._deflated) == {id(v) for v in pdfkit._subset_cache.values()}


def _recorded_subsets(monkeypatch) -> list:
    """(font, glyph ids, hinting) of every font subset while three 通知 with different titles
    are rendered."""
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
    monkeypatch.setattr(wp_fonts.Font, "subset", patched)
    return seen


def _glyphs(data: bytes, ids) -> dict[int, tuple]:
    """Each glyph's outline and advance width in a font file."""
    import io

    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data))
    order = font.getGlyphOrder()
    if "CFF " in font:
        strings = font["CFF "].cff.topDictIndex[0].CharStrings
        outline = {}
        for gid in ids:
            strings[order[gid]].decompile()
            outline[gid] = tuple(strings[order[gid]].program)
    else:
        outline = {gid: font["glyf"][order[gid]].compile(font["glyf"]) for gid in ids}
    return {gid: (outline[gid], font["hmtx"][order[gid]]) for gid in ids}


def test_subsets_have_weasyprints_glyphs_and_stop_at_the_last_used(monkeypatch):
    """Every subset has the tables of weasyprint's own subset and, glyph for glyph, its outlines
    and widths; it ends at the last glyph used. Where weasyprint's ends there too it is the same
    file byte for byte. Noto Sans CJK is subset from a view without variation sequences, so the
    VS2 form of 、 (glyph 63145) that weasyprint's closure keeps is not embedded."""
    from weasyprint.pdf import fonts as wp_fonts

    seen = _recorded_subsets(monkeypatch)
    ours = pdfkit._harfbuzz_subset(wp_fonts)
    assert ours is not None and len(seen) >= 3
    families, longer = set(), set()
    for font, to_unicode, hinting in seen:
        wp_fonts.Font._harfbuzz_subset(font, to_unicode, hinting)  # weasyprint's two passes
        theirs = font.file_content
        assert ours(font, to_unicode, hinting) is True
        mine = font.file_content
        last = max(to_unicode)
        assert pdfkit._glyph_count(mine) == last + 1
        assert pdfkit._sfnt_tags(mine) == pdfkit._sfnt_tags(theirs)
        assert _glyphs(mine, to_unicode) == _glyphs(theirs, to_unicode)
        if pdfkit._glyph_count(theirs) == last + 1:
            assert mine == theirs
        else:
            longer.add(font.family)
        families.add(font.family)
    assert len(families) >= 2
    assert "Noto Sans CJK SC" in longer  # the face whose second pass is no longer needed


def test_a_view_that_subsets_wrongly_is_not_used(monkeypatch):
    """The first subset of each face from its view is checked against the face's own; when the
    two disagree (a HarfBuzz that cannot subset views) the face's own subset is used, then and
    after."""
    from weasyprint.pdf import fonts as wp_fonts

    seen = _recorded_subsets(monkeypatch)
    font, to_unicode, hinting = next(s for s in seen if s[0].family == "Noto Sans CJK SC")
    ours = pdfkit._harfbuzz_subset(wp_fonts)
    monkeypatch.setattr(pdfkit, "_glyph_count", lambda data: -1)  # every view subset looks wrong
    for _ in range(2):
        assert ours(font, to_unicode, hinting) is True
        mine = font.file_content
        wp_fonts.Font._harfbuzz_subset(font, to_unicode, hinting)
        assert mine == font.file_content  # weasyprint's own two passes, byte for byte


def test_cmap_without_variation_sequences():
    import struct

    fmt4 = struct.pack(">HHH", 4, 16, 0) + bytes(10)
    fmt14 = struct.pack(">HII", 14, 10, 0)
    records = [(0, 3, 28), (0, 5, 44), (3, 1, 28)]
    cmap = struct.pack(">HH", 0, 3) + b"".join(struct.pack(">HHI", *r) for r in records) + fmt4 + fmt14
    lean = pdfkit.without_variation_sequences(cmap)
    assert len(lean) == len(cmap)
    assert struct.unpack_from(">HH", lean) == (0, 2)
    assert [struct.unpack_from(">HHI", lean, 4 + 8 * i) for i in range(2)] == [(0, 3, 28), (3, 1, 28)]
    assert lean[20:28] == bytes(8) and lean[28:] == cmap[28:]  # the subtables where they were
    assert pdfkit.without_variation_sequences(struct.pack(">HH", 0, 1) + struct.pack(">HHI", 3, 1, 12) + fmt4) is None
    assert pdfkit.without_variation_sequences(b"\0\0") is None


def test_pdf_pages_look_the_same_with_weasyprints_subsets(monkeypatch, tmp_path):
    """End to end: a disclosure PDF (黑体 headings and table heads in Noto Sans CJK) rasterised by
    poppler is, pixel for pixel, the PDF made with weasyprint's own subsets."""
    import subprocess

    from weasyprint.pdf import fonts as wp_fonts

    html, sheet = _disclosure_html()
    monkeypatch.setattr(pdfkit, "_subset_cache", {})
    ours = pdfkit.render_pdf(html, [sheet]).data
    monkeypatch.setattr(pdfkit, "_subset_cache", {})
    monkeypatch.setattr(wp_fonts.Font, "subset", wp_fonts.Font._harfbuzz_subset)
    theirs = pdfkit.render_pdf(html, [sheet]).data
    assert ours != theirs

    def pixels(pdf: bytes, name: str) -> list[bytes]:
        (tmp_path / f"{name}.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "60", "-gray", str(tmp_path / f"{name}.pdf"), str(tmp_path / name)], check=True)
        return [p.read_bytes() for p in sorted(tmp_path.glob(f"{name}-*.pgm"))]

    mine, reference = pixels(ours, "ours"), pixels(theirs, "theirs")
    assert len(mine) == len(reference) >= 3
    assert mine == reference


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
    assert lean is not None and lean[0] is pdfkit._lean_user_agent()
    ours = pdfkit.render_pdf(html, [sheet])
    monkeypatch.setattr(pdfkit, "_user_agent_sheets", lambda html, sheets: None)
    stock = pdfkit.render_pdf(html, [sheet])
    assert ours.pages == stock.pages >= 3
    assert ours.data == stock.data


def test_lean_user_agent_sheet_only_where_no_notes_are_used():
    from weasyprint import CSS

    html, sheet = _disclosure_html()
    footnotes = pdfkit.compile_css(".imprint { float: footnote; }")
    assert pdfkit._user_agent_sheets(html, [sheet, footnotes]) is None  # weasyprint must style the call
    styled = pdfkit.compile_css(".imprint { float: footnote; } .imprint::footnote-call { content: none; }"
                                " .imprint::footnote-marker { content: none; }")
    assert pdfkit._user_agent_sheets(html, [sheet, styled]) is not None  # the 公文's 版记
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


def test_gongwen_with_its_imprint_takes_the_lean_sheet_and_renders_the_same(monkeypatch):
    """The 公文 stylesheet floats the 版记 as a footnote and styles its call and marker itself, so
    it renders with the lean user-agent sheet, byte for byte as with weasyprint's."""
    from generators.gongwen import pdf as gongwen_pdf
    from generators.gongwen.model import build

    payload = json.loads(kinds.get("notice").samples()[0].read_text(encoding="utf-8"))
    doc = build("notice", pipeline.validate("notice", payload, defaults()), defaults())
    html = gongwen_pdf.render_html(doc)
    assert "imprint" in html
    _, sheet = gongwen_pdf._compiled(gongwen_pdf._layout_key(doc.settings["layout"]))
    assert pdfkit._user_agent_sheets(html, [sheet]) is not None
    ours = gongwen_pdf.render_pdf(doc)
    monkeypatch.setattr(pdfkit, "_user_agent_sheets", lambda html, sheets: None)
    assert gongwen_pdf.render_pdf(doc) == ours


def test_html_parser_scans_with_cached_patterns(monkeypatch):
    """tinyhtml5's character-class patterns are found in its cache (it files them under the wrong
    key itself), and the tree it builds is the one its own chars_until builds."""
    import xml.etree.ElementTree as ET

    import tinyhtml5
    from tinyhtml5 import inputstream

    html, _ = _disclosure_html()
    ours = ET.tostring(tinyhtml5.parse(html, namespace_html_elements=False))
    assert (("&", "<", "\u0000"), False) in inputstream.characters_until_regex
    compiled = []
    real_compile = re.compile
    monkeypatch.setattr(inputstream.re, "compile", lambda *a, **k: compiled.append(a) or real_compile(*a, **k))
    tinyhtml5.parse(html, namespace_html_elements=False)
    assert compiled == []  # nothing built again
    monkeypatch.undo()
    stream = inputstream.HTMLUnicodeInputStream
    monkeypatch.setattr(stream, "chars_until", stream.chars_until._jxdoc_original)
    assert ET.tostring(tinyhtml5.parse(html, namespace_html_elements=False)) == ours


def test_kept_subsets_are_embedded_with_their_kept_deflated_stream(monkeypatch):
    """A PDF rendered again embeds its kept font subsets with the streams deflated the first time:
    no font is deflated twice, and the file is byte for byte the one deflated afresh."""
    monkeypatch.setattr(pdfkit, "_subset_cache", {})
    monkeypatch.setattr(pdfkit, "_deflated", {})
    monkeypatch.setattr(pdfkit, "_subset_size", [0])
    render = kinds.get("notice").renderers["pdf"]
    data, settings = _notice(1), defaults()
    first = render(data, settings)
    fonts = len(pdfkit._subset_cache)
    assert fonts >= 2 and all(packed is not None for _s, packed in pdfkit._deflated.values())
    fresh = []
    deflated = pdfkit._kept_deflated
    monkeypatch.setattr(pdfkit, "_kept_deflated", lambda d, deflate: deflated(d, lambda w: fresh.append(w) or deflate(w)))
    again = render(data, settings)
    assert fresh == [] and again == first
    monkeypatch.setattr(pdfkit, "_deflated", {})  # nothing kept: every stream deflated as it comes
    assert render(data, settings) == first
