"""OFD output read back by an independent reader (ofdkit, from PyPI) and by fontTools.

For every sample of every kind that renders a PDF: the OFD has the PDF's pages and, page by page,
the PDF's text (pdftotext, whitespace removed) — text that lives in the OFD's TextCode elements,
not in pictures; every glyph an OFD page names exists, with an outline, in the font subset the
package embeds; rules are PathObjects, charts ImageObjects, bookmarks Outlines; the same document
gives the same bytes. The writer refuses in Chinese what it cannot express.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import tempfile
import zipfile
from functools import cache
from pathlib import Path

import ofdkit
import pytest
from defusedxml import ElementTree as ET
from fontTools.ttLib import TTFont

import kinds
from generators import ofd, pdfpages
from generators.pdf import html_to_pdf
from kinds import pipeline

NS = {"ofd": ofd.NAMESPACE}
SAMPLES = [(k.id, s) for k in kinds.all_kinds() if "pdf" in k.formats for s in k.samples()]


@cache
def rendered(kind_id: str, sample: Path) -> tuple[bytes, bytes]:
    """(pdf, ofd) of a sample: the OFD through the kind's registered ofd renderer."""
    kind = kinds.get(kind_id)
    data = pipeline.validate(kind, json.loads(sample.read_text(encoding="utf-8")))
    pdf = pipeline.render(kind, data, "pdf")
    return pdf, pipeline.render(kind, data, "ofd")


def pdftotext_pages(pdf: bytes, count: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(pdf)
        return [subprocess.run(["pdftotext", "-raw", "-f", str(n), "-l", str(n), str(path), "-"],
                               capture_output=True, text=True, check=True).stdout for n in range(1, count + 1)]


def pdf_pages(pdf: bytes) -> int:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        info = subprocess.run(["pdfinfo", f.name], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize(("kind_id", "sample"), SAMPLES, ids=[f"{k}-{s.stem}" for k, s in SAMPLES])
def test_text_and_pages_equal_the_pdf(kind_id, sample):
    pdf, package = rendered(kind_id, sample)
    with ofdkit.open(package) as document:
        pages = document.pages
        assert len(pages) == pdf_pages(pdf) > 0
        expected = pdftotext_pages(pdf, len(pages))
        for number, (page, text) in enumerate(zip(pages, expected, strict=True), 1):
            # The reader's text runs in content order are the PDF's text in content order.
            assert squeeze("".join(run.text for run in page.runs)) == squeeze(text), f"第{number}页"
        # Its reading-order text has the same characters.
        assert sorted(squeeze(document.text())) == sorted(squeeze("".join(expected)))


@pytest.mark.parametrize(("kind_id", "sample"), SAMPLES, ids=[f"{k}-{s.stem}" for k, s in SAMPLES])
def test_package_structure_fonts_and_determinism(kind_id, sample):
    pdf, package = rendered(kind_id, sample)
    zf = zipfile.ZipFile(io.BytesIO(package))
    names = zf.namelist()
    assert names[0] == "OFD.xml"
    root = ET.fromstring(zf.read("OFD.xml"))
    assert root.tag == f"{{{ofd.NAMESPACE}}}OFD" and root.get("DocType") == "OFD"
    assert root.findtext("ofd:DocBody/ofd:DocRoot", namespaces=NS) == "Doc_0/Document.xml"
    assert root.findtext("ofd:DocBody/ofd:Signatures", namespaces=NS) == "Doc_0/Signs/Signatures.xml"
    assert "Doc_0/Signs/Signatures.xml" in names
    assert re.fullmatch(r"[0-9a-f]{32}", root.findtext("ofd:DocBody/ofd:DocInfo/ofd:DocID", namespaces=NS))

    document = ET.fromstring(zf.read("Doc_0/Document.xml"))
    ids = [int(e.get("ID")) for name in names if name.endswith(".xml")
           for e in ET.fromstring(zf.read(name)).iter() if e.get("ID")]
    assert len(ids) == len(set(ids)), "every object ID is unique"
    assert int(document.findtext("ofd:CommonData/ofd:MaxUnitID", namespaces=NS)) == max(ids)

    fonts = {}
    for font in ET.fromstring(zf.read("Doc_0/PublicRes.xml")).iterfind(".//ofd:Font", NS):
        data = zf.read(f"Doc_0/Res/{font.findtext('ofd:FontFile', namespaces=NS)}")
        fonts[font.get("ID")] = TTFont(io.BytesIO(data))
    media = {m.get("ID") for m in ET.fromstring(zf.read("Doc_0/DocumentRes.xml")).iterfind(".//ofd:MultiMedia", NS)}
    for page in document.iterfind("ofd:Pages/ofd:Page", NS):
        content = ET.fromstring(zf.read(f"Doc_0/{page.get('BaseLoc')}"))
        for text in content.iterfind(".//ofd:TextObject", NS):
            font = fonts[text.get("Font")]
            order = font.getGlyphOrder()
            code = text.find("ofd:TextCode", NS)
            glyphs = [int(g) for cg in text.iterfind("ofd:CGTransform", NS)
                      for g in cg.findtext("ofd:Glyphs", namespaces=NS).split()]
            counted = sum(int(cg.get("CodeCount")) for cg in text.iterfind("ofd:CGTransform", NS))
            assert counted == len(code.text) and glyphs
            glyph_set = font.getGlyphSet()
            for char, gid in zip(code.text, glyphs, strict=False):
                assert gid < len(order)
                if not char.isspace() and gid:
                    bounds = glyph_set[order[gid]]
                    assert font["hmtx"][order[gid]][0] > 0 or bounds is not None
        for image in content.iterfind(".//ofd:ImageObject", NS):
            assert image.get("ResourceID") in media
    # Deterministic: the same document, the same bytes.
    assert ofd.from_pdf(pdf, kinds.doc_info(kinds.get(kind_id), pipeline.validate(
        kind_id, json.loads(sample.read_text(encoding="utf-8"))))) == package


def _objects(package: bytes, page: int = 0) -> ET.Element:
    zf = zipfile.ZipFile(io.BytesIO(package))
    return ET.fromstring(zf.read(f"Doc_0/Pages/Page_{page}/Content.xml"))


def test_gongwen_red_mark_rule_and_star_are_vector_and_docinfo_has_the_facts():
    sample = kinds.get("opinion").samples()[0]
    _pdf, package = rendered("opinion", sample)
    page = _objects(package)
    red_text = [t for t in page.iterfind(".//ofd:TextObject", NS)
                if t.find("ofd:FillColor", NS).get("Value") == "255 0 0"]
    assert red_text, "the red issuer mark is text, in red"
    red_paths = [p for p in page.iterfind(".//ofd:PathObject", NS)
                 if any(c.get("Value") == "255 0 0" for c in p if c.tag.endswith("Color"))]
    data = pipeline.validate("opinion", json.loads(sample.read_text(encoding="utf-8")))
    assert data["party_style"], "the sample shows the star"
    # The rule (or its two halves beside the star) and the star itself.
    assert any("L" in p.findtext("ofd:AbbreviatedData", namespaces=NS).split()[3:] for p in red_paths)
    assert any(len(p.findtext("ofd:AbbreviatedData", namespaces=NS).split()) > 20 for p in red_paths), "the star"
    info = ET.fromstring(zipfile.ZipFile(io.BytesIO(package)).read("OFD.xml")).find(".//ofd:DocInfo", NS)
    assert info.findtext("ofd:Title", namespaces=NS) == data["title"].replace("\n", "")
    assert info.findtext("ofd:Author", namespaces=NS) == data["issuer"]
    assert info.findtext("ofd:Subject", namespaces=NS) == "意见"
    custom = {c.get("Name"): c.text for c in info.iterfind(".//ofd:CustomData", NS)}
    assert custom["发文字号"] == data["doc_number"]
    assert info.findtext("ofd:CreationDate", namespaces=NS) == str(data["date"])[:10]


def test_charts_are_images_and_bookmarks_are_outlines():
    kind = kinds.get("evaluation_report")
    _pdf, package = rendered(kind.id, kind.samples()[0])
    zf = zipfile.ZipFile(io.BytesIO(package))
    images = [n for n in zf.namelist() if n.startswith("Doc_0/Res/image_")]
    assert images and zf.read(images[0])[:8] == b"\x89PNG\r\n\x1a\n"
    assert any(_objects(package, n).find(".//ofd:ImageObject", NS) is not None
               for n in range(len([n for n in zf.namelist() if n.endswith("Content.xml")])))

    kind = kinds.get("disclosure")
    pdf, package = rendered(kind.id, kind.samples()[0])
    reader_titles = [o.title for o in pdfpages.read(pdf).outlines]
    document = ET.fromstring(zipfile.ZipFile(io.BytesIO(package)).read("Doc_0/Document.xml"))
    outlines = document.findall("ofd:Outlines/ofd:OutlineElem", NS)
    assert [o.get("Title") for o in outlines] == reader_titles and outlines
    page_ids = {p.get("ID") for p in document.iterfind("ofd:Pages/ofd:Page", NS)}
    assert all(o.find(".//ofd:Dest", NS).get("PageID") in page_ids for o in outlines)


def test_table_borders_become_rectangles_without_a_fill_rule():
    kind = kinds.get("self_evaluation")
    _pdf, package = rendered(kind.id, kind.samples()[0])
    page = _objects(package)
    paths = list(page.iterfind(".//ofd:PathObject", NS))
    assert len(paths) > 50
    assert not [p for p in paths if p.get("Rule") == "Even-Odd"]


def test_what_ofd_cannot_express_is_refused_in_chinese():
    rotated = html_to_pdf('<p style="transform: rotate(30deg); font-family: 仿宋">旋转的文字</p>')
    with pytest.raises(ofd.Unsupported, match="旋转、倾斜或拉伸的文字"):
        ofd.from_pdf(rotated)
    gradient = html_to_pdf('<div style="height: 50px; background: linear-gradient(red, blue)"></div>')
    with pytest.raises(ofd.Unsupported, match="渐变|图案|颜色空间"):
        ofd.from_pdf(gradient)


def test_bare_cff_is_wrapped_as_opentype():
    kind = kinds.get("notice")
    pdf, _ = rendered(kind.id, kind.samples()[0])
    font = next(f for f in pdfpages.read(pdf).fonts if f.suffix == "otf")
    face = TTFont(io.BytesIO(font.data))
    cff = face.reader["CFF "]  # the CFF table as a PDF's FontFile3 /CIDFontType0C would hold it
    wrapped = TTFont(io.BytesIO(pdfpages.wrap_cff(cff, font.widths, font.unicode, font.name)))
    assert wrapped.getGlyphOrder() == face.getGlyphOrder()
    used = next(g for g in sorted(font.unicode) if font.unicode[g].strip())
    name = wrapped.getGlyphOrder()[used]
    assert wrapped["hmtx"][name][0] == round(font.widths[used])
    assert wrapped.getBestCmap()[ord(font.unicode[used])] == name
    pen_bounds = wrapped.getGlyphSet()[name]
    assert pen_bounds.width == round(font.widths[used])
