"""A joint sealed 落款 (GB/T 9704-2012 7.3.5.1): the organs' names side by side, each under its own
seal, the last over the 成文日期; one geometry for the docx and the PDF."""

from __future__ import annotations

import io
import json
import zipfile

from generators.gongwen.docx import Geometry
from generators.gongwen.geometry import Length, char_pitch, joint_row_blank_lines, joint_signature_rows
from generators.gongwen.model import text_width
from kinds import get, pipeline
from rules.settings import defaults

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _settings():
    import kinds

    kinds.all_kinds()
    return defaults()


def _payload(signature):
    payload = json.loads(get("opinion").samples()[0].read_text(encoding="utf-8"))
    payload.update(signature=signature, seal=True)
    return payload


def _seal_span_chars(settings) -> tuple[float, float]:
    seal, layout = settings["signing"]["seal"], settings["layout"]
    pitch = char_pitch(layout).pt
    return Length.mm(seal["diameter_mm"]).pt / pitch, Length.mm(seal["joint_gap_mm"]).pt / pitch


def test_rows_keep_seals_apart_inside_the_type_area_the_last_over_the_date():
    settings = _settings()
    layout, seal = settings["layout"], settings["signing"]["seal"]
    names = ["青溪县财政局", "青溪县教育局", "青溪县卫生健康局", "青溪县农业农村局", "青溪县审计局"]
    date_centre = 4 + text_width("2024年4月18日") / 2
    rows = joint_signature_rows(layout, seal, [(n, text_width(n)) for n in names], date_centre)
    diameter, gap = _seal_span_chars(settings)
    assert [s.text for row in rows for s in row] == names  # organ order, every organ once
    assert len(rows) > 1 and all(row[-1].centre_chars == date_centre for row in rows)
    for row in rows:
        for right, left in zip(row[1:], row, strict=False):
            assert left.centre_chars - right.centre_chars >= diameter + gap - 1e-9  # seals apart
            assert left.centre_chars - right.centre_chars >= (text_width(left.text) + text_width(right.text)) / 2 + 1
        assert row[0].centre_chars + diameter / 2 <= 28  # the leftmost seal inside the type area
    # Rows far enough apart that the seals above never touch the ones below.
    line = 225 / 22
    blank = joint_row_blank_lines(layout, seal)
    assert (blank + 1) * line >= float(seal["diameter_mm"]) + float(seal["joint_gap_mm"])


def test_docx_sets_the_names_in_one_row_on_centred_tabs_at_the_geometry_centres():
    settings = _settings()
    names = ["中共青溪县委员会", "青溪县人民政府"]
    docx = pipeline.produce("opinion", _payload(names), "docx", settings).content
    from lxml import etree

    body = etree.fromstring(zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml"))
    paras = body.iter(W + "p")
    row = next(p for p in paras if "".join(t.text or "" for t in p.iter(W + "t")) == "".join(names))
    tabs = [(t.get(W + "val"), int(t.get(W + "pos"))) for t in row.iter(W + "tab") if t.getparent().tag == W + "tabs"]
    date_centre = 4 + text_width("2024年4月18日") / 2
    slots = joint_signature_rows(settings["layout"], settings["signing"]["seal"],
                                 [(n, text_width(n)) for n in names], date_centre)[0]
    g = Geometry.from_settings(settings["layout"])  # the docx's own character pitch (315 twips)
    assert [v for v, _ in tabs] == ["center", "center"]
    for (_, pos), slot in zip(tabs, slots, strict=True):
        assert abs(pos - (g.type_w - slot.centre_chars * g.pitch)) <= 1
    # The last name's centre is the date's (placed by its right indent, 4 characters).
    date = next(p for p in body.iter(W + "p") if "".join(t.text or "" for t in p.iter(W + "t")) == "2024年4月18日")
    right = int(date.find(f"{W}pPr/{W}ind").get(W + "right"))
    assert abs(tabs[-1][1] - (g.type_w - right - text_width("2024年4月18日") * g.pitch / 2)) <= 2
    # The names stand in one paragraph, the line right above the date, not stacked lines.
    assert date.getprevious() is row
