"""Seal images in the docx (for offices that print and stamp, GB/T 9704-2012 7.3.5.1): one floating
picture per organ, anchored in its name's paragraph at the geometry's offsets, in front of the text;
LibreOffice prints it red over the 成文日期's line."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

from lxml import etree

from generators.gongwen.docx import Geometry
from generators.gongwen.geometry import Length, seal_rise
from kinds import get, pipeline
from rules.settings import defaults
from tests.office import print_with_libreoffice
from tests.pki import seal_png
from tests.raster import colour_page
from tests.signing.test_seal_placement import date_box

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
DATE = "2024年4月18日"
EMU_PER_TWIP = 635


def _settings():
    import kinds

    kinds.all_kinds()
    return defaults()


def _opinion(settings, seals=None) -> bytes:
    payload = json.loads(get("opinion").samples()[0].read_text(encoding="utf-8"))
    return pipeline.produce("opinion", payload, "docx", settings, seals=seals).content


def _text(p) -> str:
    return "".join(t.text or "" for t in p.iter(W + "t"))


def test_each_organ_seal_is_a_floating_picture_over_its_name_at_the_geometry_offsets():
    settings = _settings()
    image = seal_png()
    organs = ["中共青溪县委员会", "青溪县人民政府"]
    docx = _opinion(settings, {o: image for o in organs})
    package = zipfile.ZipFile(io.BytesIO(docx))
    body = etree.fromstring(package.read("word/document.xml"))
    row = next(p for p in body.iter(W + "p") if _text(p) == "".join(organs))
    anchors = list(row.iter(WP + "anchor"))
    assert len(anchors) == 2 and all(a.get("behindDoc") == "0" for a in anchors)  # 上压正文
    g = Geometry.from_settings(settings["layout"])
    seal = settings["signing"]["seal"]
    d = Length.mm(seal["diameter_mm"]).twips
    tabs = [int(t.get(W + "pos")) for t in row.iter(W + "tab") if t.getparent().tag == W + "tabs"]
    name_centre_y = g.em_top(g.body_sz * 10) + g.body_sz * 5
    for anchor, tab in zip(anchors, tabs, strict=True):
        h = anchor.find(WP + "positionH")
        v = anchor.find(WP + "positionV")
        assert (h.get("relativeFrom"), v.get("relativeFrom")) == ("margin", "paragraph")
        x, y = int(h.findtext(WP + "posOffset")), int(v.findtext(WP + "posOffset"))
        cx = int(anchor.find(WP + "extent").get("cx"))
        assert abs(cx - d * EMU_PER_TWIP) <= 1
        # Centred on its name (the tab stop), the seal_rise above the name's em box centre.
        assert abs(x + cx / 2 - tab * EMU_PER_TWIP) <= EMU_PER_TWIP
        assert abs(y + cx / 2 - (name_centre_y - seal_rise(settings["layout"], seal).twips) * EMU_PER_TWIP) <= EMU_PER_TWIP
    # Both pictures are in the package, related from the document.
    assert sum(1 for n in package.namelist() if n.startswith("word/media/")) == 2
    assert package.read("word/media/image1.png") == image
    # Without seals: no picture, the same paragraphs.
    plain = etree.fromstring(zipfile.ZipFile(io.BytesIO(_opinion(settings))).read("word/document.xml"))
    assert not list(plain.iter(WP + "anchor")) or all(a.find(f".//{WP}positionV").get("relativeFrom") == "page"
                                                      for a in plain.iter(WP + "anchor"))
    assert [_text(p) for p in plain.iter(W + "p")] == [_text(p) for p in body.iter(W + "p")]


def test_libreoffice_prints_the_seals_red_over_the_date_line_apart():
    settings = _settings()
    image = seal_png()
    docx = _opinion(settings, {"中共青溪县委员会": image, "青溪县人民政府": image})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "opinion.docx"
        path.write_bytes(docx)
        pdf = print_with_libreoffice([path], Path(tmp) / "out", Path(tmp) / "profile")[path].read_bytes()
    number, (x0, y0, x1, y1) = date_box(pdf, DATE)  # poppler's box of the date LibreOffice printed
    dpi = 100
    k = dpi / 72
    page = colour_page(pdf, number, dpi)
    over_date = page.red_pixels(int(x0 * k), int(y0 * k), int(x1 * k), int(y1 * k))
    assert over_date, "no red over the date line"
    # Two seals in a row, apart, the right one centred over the date (within 1 mm).
    mm = dpi / 25.4
    cy = (y0 + y1) / 2 * k - float(settings["signing"]["seal"]["date_below_centre_mm"]) * mm
    radius = float(settings["signing"]["seal"]["diameter_mm"]) / 2 * mm
    columns = sorted({x for x, _ in page.red_pixels(0, int(cy - radius), page.width, int(cy + radius))})
    runs, start = [], columns[0]
    for a, b in zip(columns, [*columns[1:], None], strict=True):
        if b is None or b > a + 1:
            runs.append((start, a))
            start = b
    wide = [r for r in runs if (r[1] - r[0]) / mm > 15]
    assert len(wide) == 2, runs
    assert abs((wide[1][0] + wide[1][1]) / 2 - (x0 + x1) / 2 * k) / mm <= 1.0
    assert wide[1][0] > wide[0][1]
