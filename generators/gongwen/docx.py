"""Word (.docx) rendering of the 公文 layout model (GB/T 9704-2012).

`render_docx(doc)` turns a `model.Document` into a .docx. The model has taken every content
decision; this module only turns it into geometry, in three steps:

1. `Geometry.from_settings` converts the millimetres and points of settings["layout"] to the
   units of WordprocessingML (twips = 1/20 pt, half-points, EMU) once per settings object.
2. `_blocks` lays out the document as a list of paragraphs/tables (plain dicts).
3. The Jinja templates in templates/official/gongwen spell those dicts as XML; every part but
   word/document.xml is rendered once per settings and cached (generators/docx_package.py).

Vertical placement. Every line of the document has an *exact* height; both Word and LibreOffice
put the baseline of an exact-height line at 80 % of its height, whatever the font. So positions
are plain arithmetic: a CJK glyph's em box (0.88 em above the baseline, 0.12 em below in the
common Chinese faces) in a line of height h starts 0.8·h − 0.88·size below the line's top. The
document grid (w:docGrid) says 22 lines of `line_pitch` twips (579 = 225 mm / 22, rounded
down) and 28 characters of 442.2 pt / 28, as clerks' files do, but no paragraph snaps to it
(w:snapToGrid="0"): Word ignores the grid for exact lines anyway, while LibreOffice would centre
a snapped line's font in it, 0.2–0.8 mm off where Word prints it. Every line is an exact line of
the grid's pitch; the 版头 is placed by exact spacer heights measured from the top of the type
area, and the title is put back on a grid line so that the body on page 1 shares the grid of
every other page. The red rules and the Party star are page-anchored DrawingML shapes at
computed positions; the 版记 is a table floating at the bottom of the type area.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from generators.docx_package import DocxTemplate, Part
from generators.gongwen import fit as fitting
from generators.gongwen import geometry as shared
from generators.gongwen import tables as report_tables
from generators.gongwen.geometry import Length
from generators.gongwen.model import (
    FANGSONG,
    HEITI,
    KAITI,
    SONGTI,
    XIAOBIAOSONG,
    Document,
    ImageBlock,
    Paragraph,
    TableBlock,
    text_width,
)
from generators.gongwen.model import mark_layout as model_mark_layout
from generators.gongwen.model import mark_size as model_mark_size
from generators.tables import cell_align, cell_text, layout, owners
from generators.tables.widths import whole_parts

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "official" / "gongwen"

TWIPS_PER_MM = 1440 / 25.4
EMU_PER_TWIP = 635
EMU_PER_MM = 36000

# Word and LibreOffice place the baseline of an exact-height line off the grid at 80 % of the
# height; the em box of the Chinese faces is 0.88 em above the baseline, 0.12 em below
# (gongwen/geometry.baseline_in_line, the rule the PDF follows too).
BASELINE_RATIO, EM_ASCENT, EM_DESCENT = shared.BASELINE_RATIO, shared.EM_ASCENT, shared.EM_DESCENT
# A single-line element set in its own exact line of 1.1 em has its em box starting exactly at
# the top of the line (0.8 × 1.1 = 0.88), so "top edge at y" means "line starts at y".
TIGHT_LINE = EM_ASCENT / BASELINE_RATIO
# Twips each character of a joint mark's names is condensed by, so that names distributed over a
# column exactly as wide as the widest never wrap.
MARK_SLACK = 1


def twips(length: Length) -> int:
    """A typed length in whole twips, the unit of w:ind, w:spacing and the page's measures."""
    return round(length.twips)


def mm(value: float) -> int:
    """Millimetres to twips."""
    return round(value * TWIPS_PER_MM)


@dataclass(frozen=True)
class Geometry:
    """The layout settings in WordprocessingML units, derived once per settings object."""

    page_w: int
    page_h: int
    top: int
    left: int
    right: int
    bottom: int
    type_w: int
    type_h: int
    line: int  # grid line pitch, twips
    char_space: int  # w:docGrid/@w:charSpace, 1/4096 pt added to the Normal size
    char_spacing: int  # w:spacing of body-size runs, twips (negative: condensed)
    pitch: float  # body character pitch, twips
    body_sz: int  # half-points
    title_sz: int
    imprint_sz: int
    page_number_sz: int
    red: str
    black: str
    fonts: Mapping[str, str]
    latin: str
    footer: int  # w:pgMar/@w:footer
    footer_line: int
    layout: Mapping[str, Any]

    @classmethod
    def from_settings(cls, layout: Mapping[str, Any]) -> Geometry:
        page, sizes = layout["page"], layout["sizes"]
        box = shared.page_box(layout)
        page_w, page_h, top, left, type_w, type_h = (twips(x) for x in (box.width, box.height, box.top, box.left,
                                                                         box.type_width, box.type_height))
        body_pt = float(sizes["body_pt"])
        # The grid's line, in whole twips so that 22 fit (gongwen/geometry.line_pitch: 579 ≈ 28.95 pt).
        line = round(shared.line_pitch(layout).twips)
        # docGrid/@charSpace is the amount, in 1/4096 pt, added to the Normal style's East Asian
        # size to get the character pitch (ECMA-376 17.6.5; LibreOffice's writerfilter reads it
        # the same way). Round down so that 28 pitches never exceed the type width.
        pitch_pt = type_w / 20 / int(page["chars_per_line"])
        char_space = math.floor((pitch_pt - body_pt) * 4096)
        # The 28 characters themselves come from condensed character spacing on every body-size
        # run (−0.25 pt with the defaults: 28 × 15.75 pt = 441 pt ≤ 442.2 pt < 29 × 15.75 pt), not
        # from the character grid: LibreOffice puts every character wider than a grid cell into
        # two cells, so a 15.79 pt cell under a 16 pt font doubles the spacing (14 per line).
        char_spacing = math.floor((pitch_pt - body_pt) * 20)
        # Page numbers (7.5): the top of “— 1 —” the geometry's drop (7 mm) below the type area.
        # The footer line is a tight exact line (its em box starts at its top), and Word and
        # LibreOffice put the bottom of the footer's last line at w:footer above the page's
        # bottom edge, so footer = bottom margin − drop − line height. With the defaults:
        # 1984 − 397 − 308 = 1279.
        number = shared.page_number_place(layout, 1)
        footer_line = round(number.size.twips * TIGHT_LINE)
        bottom = page_h - top - type_h
        footer = bottom - twips(number.below) - footer_line
        return cls(
            page_w=page_w,
            page_h=page_h,
            top=top,
            left=left,
            right=page_w - left - type_w,
            bottom=bottom,
            type_w=type_w,
            type_h=type_h,
            line=line,
            char_space=char_space,
            char_spacing=char_spacing,
            pitch=body_pt * 20 + char_spacing,
            body_sz=round(body_pt * 2),
            title_sz=round(float(sizes["title_pt"]) * 2),
            imprint_sz=round(float(sizes["imprint_pt"]) * 2),
            page_number_sz=round(number.size.pt * 2),
            red=str(layout["colors"]["red"]).lstrip("#").upper(),
            black=str(layout["colors"]["black"]).lstrip("#").upper(),
            fonts=dict(layout["fonts"]),
            latin=layout["fonts"]["latin"],
            footer=footer,
            footer_line=footer_line,
            layout=layout,
        )

    # -- helpers --------------------------------------------------------------------------------
    def chars(self, n: float) -> int:
        """n body characters in twips, rounded down so n characters always fit."""
        return math.floor(n * self.pitch)

    def type_y(self, y: Length) -> float:
        """A position the geometry gives from the type area's top, in twips from this section's
        type area top (the top margin rounded to whole twips)."""
        return (y + shared.page_box(self.layout).top).twips - self.top

    def em_top(self, size_twips: float, line: int | None = None) -> float:
        """Offset of the em box top below the top of an exact line (gongwen/geometry's rule)."""
        return shared.em_top_in_line(Length.twip(size_twips), Length.twip(line or self.line)).twips

    def em_bottom(self, size_twips: float, line: int | None = None) -> float:
        return self.em_top(size_twips, line) + size_twips

    def font(self, face: str, latin: bool = True) -> tuple[str, str]:
        """(ascii/hAnsi face, eastAsia face) of a role. Latin text in body faces is set in the
        Latin face (common practice); the page numbers and the mark keep the Chinese face."""
        east = self.fonts[face]
        return (self.latin if latin else east, east)


# --- runs and paragraphs -------------------------------------------------------------------------

def _package() -> DocxTemplate:
    global _template
    if _template is None:
        _template = DocxTemplate(TEMPLATE_DIR)
    return _template


@lru_cache(maxsize=4096)
def _rpr(font: tuple[str, str], sz: int, color: str | None, spacing: int | None, scale: int | None) -> Markup:
    """w:rPr markup, rendered once per distinct combination (a document has a dozen)."""
    return _package().macros(MACROS).rpr({"font": font, "sz": sz, "color": color, "spacing": spacing, "w": scale})


@lru_cache(maxsize=4096)
def _ppr(keep: bool, pbb: bool, tabs: tuple, before: int, line: int, ind: tuple, jc: str | None,
         mark: Markup | None, widow: bool = False) -> Markup:
    """w:pPr markup, rendered once per distinct combination."""
    return _package().macros(MACROS).ppr({
        "keep": keep, "pbb": pbb, "tabs": [{"val": v, "pos": p} for v, p in tabs], "before": before,
        "line": line, "ind": dict(ind), "jc": jc, "mark": mark, "widow": widow,
    })


@lru_cache(maxsize=4096)
def _tcpr(width: int, span: int | None, vmerge: str | None, valign: str) -> Markup:
    """w:tcPr markup, rendered once per distinct cell shape."""
    return _package().macros(MACROS).tcpr({"width": width, "span": span, "vmerge": vmerge, "valign": valign})


def _table(table: dict) -> dict:
    """The block of a table, its cells' properties rendered."""
    for row in table["rows"]:
        for cell in row["cells"]:
            cell["tcpr"] = _tcpr(cell["width"], cell.get("span"), cell["vmerge"], cell["valign"])
    return {"table": table}


def _run(g: Geometry, text: str, face: str = FANGSONG, sz: int | None = None, color: str | None = None,
         latin: bool = True, scale: int | None = None, tab: bool = False, field: str | None = None,
         spacing: int | None = None) -> dict:
    sz = sz or g.body_sz
    # Body-size runs are condensed so that 28 characters fill a line (see Geometry).
    if spacing is None:
        spacing = g.char_spacing if sz == g.body_sz and g.char_spacing else None
    return {"t": text, "rpr": _rpr(g.font(face, latin), sz, color, spacing, scale), "tab": tab, "field": field}


def _tab(g: Geometry, face: str = FANGSONG, sz: int | None = None) -> dict:
    return _run(g, "", face, sz, tab=True)


def _para(g: Geometry, runs: list[dict] | tuple = (), *, jc: str | None = None, before: float = 0,
          line: int | None = None, ind: dict | None = None, tabs: list | None = None,
          pbb: bool = False, keep: bool = False, mark: dict | None = None, shapes: list | None = None,
          widow: bool = False) -> dict:
    runs = list(runs)
    # The paragraph mark takes the first run's font so an empty line is as tall as a full one.
    mark_run = mark or (runs[0] if runs else None)
    ppr = _ppr(keep, pbb, tuple((t["val"], int(t["pos"])) for t in tabs or ()), max(int(round(before)), 0),
               int(round(line or g.line)), tuple((k, int(v)) for k, v in (ind or {}).items()), jc,
               mark_run["rpr"] if mark_run else None, widow)
    return {"ppr": ppr, "runs": runs, "shapes": shapes or []}


def _spacer(g: Geometry, height: float) -> dict:
    """An empty paragraph exactly `height` twips tall (off the grid)."""
    return _para(g, line=max(int(round(height)), 2), mark=_run(g, "", sz=2))


def _blank(g: Geometry, n: int = 1, line: int | None = None, keep: bool = False) -> list[dict]:
    """n blank grid lines (行) of the body face (exact lines of `line` twips off the grid)."""
    return [_para(g, mark=_run(g, ""), keep=keep, **_pitch(line)) for _ in range(n)]


def _pitch(line: int | None) -> dict:
    """Lines of the grid's pitch, or (7.3.5.5, gongwen/fit.py) exact lines of `line` twips."""
    return {} if line is None else {"line": line}


def _body_ind(g: Geometry, first_chars: float = 0, left_chars: float = 0, hanging_chars: float = 0,
              right_chars: float = 0) -> dict:
    """Indents in grid characters: the *Chars attributes for Word/WPS, twips for readers that
    ignore them (rounded down so the grid still fits 26 characters after a 2-character indent)."""
    ind: dict[str, int] = {}
    if left_chars:
        ind["leftChars"], ind["left"] = round(left_chars * 100), g.chars(left_chars)
    if right_chars:
        ind["rightChars"], ind["right"] = round(right_chars * 100), g.chars(right_chars)
    if first_chars:
        ind["firstLineChars"], ind["firstLine"] = round(first_chars * 100), g.chars(first_chars)
    if hanging_chars:
        ind["hangingChars"], ind["hanging"] = round(hanging_chars * 100), g.chars(hanging_chars)
    return ind


def _shape(shape_id: int, name: str, x: float, y: float, cx: float, cy: float, fill: str | None,
           prst: str = "rect", text: list | None = None) -> dict:
    """A page-anchored DrawingML shape; positions and sizes in EMU."""
    return {"id": shape_id, "name": name, "x": int(round(x)), "y": int(round(y)), "cx": max(int(round(cx)), 1),
            "cy": max(int(round(cy)), 1), "fill": fill, "prst": prst, "text": text, "z": 251658240 + shape_id}


# --- 版头 ------------------------------------------------------------------------------------------

def mark_size_pt(doc: Document, g: Geometry) -> float:
    """The 发文机关标志's size in points, from the shared geometry (gongwen/geometry.mark_size)."""
    return model_mark_size(doc).pt


def _mark_runs(g: Geometry, text: str, size_pt: float, condense: int | None = None) -> list[dict]:
    scale = float(g.layout["mark"].get("char_scale", 1.0))
    return [_run(g, text, XIAOBIAOSONG, round(size_pt * 2), g.red, latin=False,
                 scale=round(scale * 100) if scale != 1.0 else None, spacing=condense)]


def _mark_blocks(doc: Document, g: Geometry, size_pt: float) -> tuple[list[dict], int]:
    """The mark as flow blocks (a centred paragraph, or a borderless table for stacked names)
    and its height in twips, each piece where gongwen/geometry's mark_layout puts it. Each name
    line is a tight exact line, so its em box starts at the line's top."""
    mark = model_mark_layout(doc)
    h = round(size_pt * 20 * TIGHT_LINE)
    if mark.suffix is None and len(mark.names) == 1:
        # Centred in the type area, as the geometry centres it.
        return [_para(g, _mark_runs(g, mark.names[0].text, size_pt), jc="center", line=h)], h
    # Stacked names: a table indented to the names' left edge, the names distributed over their
    # column, exactly the geometry's width: LibreOffice wraps a name whose characters fill the
    # column exactly, so they are condensed by MARK_SLACK twips each, which the distribution
    # gives back. “文件” is indented in its own column to the geometry's place and set on the
    # line of its em box top.
    x0 = twips(mark.names[0].x)
    name_w = twips(mark.names[0].width)
    suffix_w = max(g.type_w - x0 - name_w, 0) if mark.suffix else 0
    rows = []
    for i, piece in enumerate(mark.names):
        cells = [{"width": name_w, "vmerge": None, "valign": "top",
                  "paragraphs": [_para(g, _mark_runs(g, piece.text, size_pt, -MARK_SLACK), jc="distribute", line=h)]}]
        if mark.suffix:
            paragraphs = [_para(g, _mark_runs(g, mark.suffix.text, size_pt) if i == 0 else [], jc="left", line=h,
                                before=twips(mark.suffix.em_top) if i == 0 else 0,
                                ind={"left": twips(mark.suffix.x) - x0 - name_w}, mark=_mark_runs(g, "", size_pt)[0])]
            cells.append({"width": suffix_w, "vmerge": "restart" if i == 0 else "continue", "valign": "top",
                          "paragraphs": paragraphs})
        rows.append({"height": h, "rule": "exact", "cells": cells})
    cols = [name_w] + ([suffix_w] if suffix_w else [])
    table = {"float": None, "indent": x0, "width": sum(cols), "cols": cols, "rows": rows,
             "borders": {"top": None, "bottom": None, "insideH": None}}
    return [_table(table)], h * len(mark.names)


def _signer_lines(doc: Document, g: Geometry) -> list[list[str]]:
    names = list(doc.signers)
    return [names[i:i + 2] for i in range(0, len(names), 2)]


def _number_blocks(doc: Document, g: Geometry, top: float, cursor: float) -> tuple[list[dict], float]:
    """发文字号 (and 签发人 for upward documents) starting at `top` (twips below the type area's
    top). Returns the blocks and the y of the last line's top."""
    blocks: list[dict] = []
    gap = top - cursor
    if doc.direction != "upward" or not doc.signers:
        blocks.append(_para(g, [_run(g, doc.doc_number)], jc="center", before=gap))
        return blocks, top
    # 上行文 (7.2.4): number one character in from the left; “签发人：” + names in 楷体 ending one
    # character from the right; more names two per line, continuation lines aligned with the first
    # name, and the number on the last signer line.
    char = g.pitch
    lines = _signer_lines(doc, g)
    label = "签发人："
    widest = max(text_width("　".join(line)) for line in lines)
    start = g.type_w - char - (text_width(label) + widest) * char
    names_x = start + text_width(label) * char
    for i, line in enumerate(lines):
        last = i == len(lines) - 1
        runs: list[dict] = []
        if last:
            runs += [_run(g, doc.doc_number), _tab(g)]
        if i == 0:
            runs.append(_run(g, label))
        elif last:
            runs.append(_tab(g))
        runs.append(_run(g, "　".join(line), KAITI))
        if last:
            tabs = [{"val": "left", "pos": int(start)}, {"val": "left", "pos": int(names_x)}]
            if i == 0:
                tabs = tabs[:1]
            blocks.append(_para(g, runs, ind={"left": int(char)}, tabs=tabs, before=gap if i == 0 else 0))
        else:
            blocks.append(_para(g, runs, ind={"left": int(start if i == 0 else names_x)}, before=gap if i == 0 else 0))
    return blocks, top + (len(lines) - 1) * g.line


def _rule_shapes(doc: Document, g: Geometry, rule_y: float) -> list[dict]:
    """The red separator (7.2.7): type-area wide at `rule_y` (twips below the type area's top);
    the Party variant breaks it around a red star centred on it."""
    thickness = shared.rule_thickness(g.layout).twips
    x0 = g.left * EMU_PER_TWIP
    y = (g.top + rule_y) * EMU_PER_TWIP
    width = g.type_w * EMU_PER_TWIP
    cy = thickness * EMU_PER_TWIP
    if not doc.party_star:
        return [_shape(1, "红色分隔线", x0, y, width, cy, g.red)]
    star = shared.star_size(g.layout).pt * 12700
    gap = shared.star_break(g.layout).pt * 12700
    half = (width - gap) / 2
    centre_y = y + cy / 2
    return [
        _shape(1, "红色分隔线左", x0, y, half, cy, g.red),
        _shape(2, "红色分隔线右", x0 + width - half, y, half, cy, g.red),
        _shape(3, "五角星", x0 + width / 2 - star / 2, centre_y - star / 2, star, star, g.red, prst="star5"),
    ]


def _file_header(doc: Document, g: Geometry) -> tuple[list[dict], int]:
    """版头 of the 文件格式. Returns the blocks and the title's line top (twips below the type
    area's top, on a grid line)."""
    blocks: list[dict] = []
    cursor = 0.0
    for text in doc.header_lines:  # 份号 (digits, 仿宋) / 密级 / 紧急程度 (黑体), flush left, one per line
        face = FANGSONG if text.isdigit() else HEITI
        blocks.append(_para(g, [_run(g, text, face)], jc="left"))
        cursor += g.line
    size = mark_size_pt(doc, g)
    mark_top = twips(shared.mark_top(g.layout, letter=False))
    if mark_top > cursor:
        blocks.append(_spacer(g, mark_top - cursor))
    cursor = max(mark_top, cursor)
    mark_blocks, mark_h = _mark_blocks(doc, g, size)
    blocks += mark_blocks
    cursor += mark_h
    # 发文字号 two blank lines below the mark (gongwen/geometry.number_em_top, as in the PDF).
    mark_em_bottom = shared.mark_em_bottom(Length.twip(cursor - mark_h), Length(size), len(doc.mark_names))
    number_em = shared.number_em_top(g.layout, mark_em_bottom).twips
    number_top = number_em - g.em_top(g.body_sz * 10)
    number_blocks, last_top = _number_blocks(doc, g, number_top, cursor)
    blocks += number_blocks
    cursor = last_top + g.line
    rule_y = last_top + g.em_bottom(g.body_sz * 10) + twips(shared.rule_gap(g.layout))
    number_blocks[-1]["shapes"] = _rule_shapes(doc, g, rule_y)
    below = Length.twip(rule_y) + shared.rule_thickness(g.layout)
    return blocks, shared.title_top(g.layout, below).twips - cursor


def _letter_header(doc: Document, g: Geometry) -> tuple[list[dict], int]:
    """版头 of the 信函格式 (10.1): the mark 30 mm from the top of the page (a text box, as it
    sits above the type area), red double lines 170 mm long (thick over thin 4 mm below the mark;
    thin over thick 20 mm above the bottom edge), 份号/密级/紧急程度 flush left and the 发文字号
    flush right, geometry.letter_first_gap (7/8 of a 三号 character) below the first double line."""
    size = mark_size_pt(doc, g)
    h = round(size * 20 * TIGHT_LINE)
    names = doc.mark_names or ("",)
    mark_top = twips(shared.mark_top(g.layout, letter=True))  # from the top of the page
    mark_paragraphs = [_para(g, _mark_runs(g, name + (doc.mark_suffix if i == 0 else ""), size), jc="center", line=h)
                       for i, name in enumerate(names)]
    em_bottom = shared.mark_em_bottom(Length.twip(mark_top), Length(size), len(names)).twips
    # The double lines (from the page's corner, translated to EMU), the first line under them and
    # the title's grid line: gongwen/geometry.letter_head, as in the PDF.
    head = shared.letter_head(g.layout, Length.twip(em_bottom), len(doc.header_lines))
    e = EMU_PER_TWIP
    shapes = [_shape(1, "发文机关标志", g.left * e, mark_top * e, g.type_w * e, h * len(names) * e, None, text=mark_paragraphs)]
    shapes += [_shape(2 + i, name, s.x.twips * e, s.y.twips * e, s.length.twips * e, s.thickness.twips * e, g.red)
               for i, (name, s) in enumerate(zip(("上双线粗", "上双线细", "下双线细", "下双线粗"), head.strokes, strict=True))]
    first_top = g.type_y(head.first_em_top) - g.em_top(g.body_sz * 10)
    lines = list(doc.header_lines) or [""]
    blocks = []
    for i, text in enumerate(lines):
        face = FANGSONG if text.isdigit() else HEITI
        runs = [_run(g, text, face)] if text else []
        if i == 0:
            runs += [_tab(g), _run(g, doc.doc_number)]
        blocks.append(_para(g, runs, jc="left", before=first_top if i == 0 else 0,
                            tabs=[{"val": "right", "pos": g.type_w}] if i == 0 else None,
                            mark=_run(g, "")))
    blocks[0]["shapes"] = shapes
    cursor = first_top + len(lines) * g.line
    return blocks, head.title_top.twips - cursor


# --- 主体 ------------------------------------------------------------------------------------------

def _title_blocks(g: Geometry, lines: tuple[str, ...], before: float = 0) -> list[dict]:
    # Kept with what follows, as the PDF's titles (break-after: avoid).
    return [_para(g, [_run(g, text, XIAOBIAOSONG, g.title_sz)], jc="center", before=before if i == 0 else 0,
                  keep=True)
            for i, text in enumerate(lines)]


def _body_paragraph(g: Geometry, p, keep: bool = False, after_heading: bool = False, line: int | None = None,
                    indent: bool = True) -> dict:
    runs = []
    if p.heading:
        runs.append(_run(g, p.heading, p.heading_face))
    if p.text:
        runs.append(_run(g, p.text, FANGSONG))
    # A heading on a line of its own stays with the next line, as in the PDF (break-after: avoid).
    return _para(g, runs, jc="both", ind=_body_ind(g, first_chars=2) if indent else {}, mark=_run(g, ""),
                 keep=keep or _keeps(g, p), widow=after_heading and not _keeps(g, p), **_pitch(line))


def _keeps(g: Geometry, p) -> bool:
    """Whether a body block is a one-line heading kept with the next (model.Paragraph)."""
    return isinstance(p, Paragraph) and p.keeps_with_next(int(g.layout["page"]["chars_per_line"]))


def _paragraph_blocks(g: Geometry, paragraphs, keep_last: bool = False) -> list[dict]:
    """Body paragraphs. A heading on its own line is kept with the next paragraph, which has
    widow/orphan control (two lines at the foot and at the head of a page): Word and LibreOffice
    then keep the heading with two of its lines, as the PDF does (.after-heading), rather than
    moving the whole paragraph (LibreOffice, without the control) or leaving one line."""
    blocks, previous = [], None
    for p in paragraphs:
        blocks.append(_body_paragraph(g, p, keep=keep_last and p is paragraphs[-1],
                                      after_heading=_keeps(g, previous)))
        previous = p
    return blocks


def _attachment_note_blocks(doc: Document, g: Geometry, line: int | None = None) -> list[dict]:
    """附件说明 (7.3.4): two characters in; names after “附件：” and the following numbered names
    aligned under the first name (hanging indents)."""
    label = text_width("附件：")
    blocks = []
    for i, text in enumerate(doc.attachment_note):
        ind = _body_ind(g, left_chars=2 + label, hanging_chars=label) if i == 0 else _body_ind(g, left_chars=2 + label)
        blocks.append(_para(g, [_run(g, text)], jc="left", ind=ind, keep=doc.keeps_signature(), **_pitch(line)))
    return blocks


def _signature_blocks(doc: Document, g: Geometry, pitch: int | None = None) -> list[dict]:
    """署名 and 成文日期 (7.3.5) after their blank lines, every paragraph kept with the next, so
    the block is never split; the paragraph before it is kept with it too (see _blocks), so it is
    never alone on a page either. `pitch`: exact lines off the grid (7.3.5.5, gongwen/fit.py)."""
    grid = _pitch(pitch)
    if not doc.signature:  # no 落款 (a 题注 gives the date): only the 附注, a line below the text
        return _blank(g) + [_para(g, [_run(g, doc.annotation)], jc="left", ind=_body_ind(g, first_chars=2))
                            ] if doc.annotation else []
    blocks = _blank(g, shared.signature_gap_lines(g.layout, doc.sealed), pitch, keep=True)
    seals = iter(_seal_pictures(doc, g, pitch))
    for line in doc.signature[:-1] if doc.seal_images else doc.signature:
        blocks += _blank(g, line.blank_before, pitch, keep=True)
        blocks.append(_slot_row(g, line, pitch) if line.slots else
                      _para(g, [_run(g, line.text)], jc="right", ind=_body_ind(g, right_chars=line.right_chars),
                            keep=True, **grid))
        if doc.seal_images:  # each name's paragraph anchors the seals over it
            blocks[-1]["shapes"] = [next(seals) for _ in (line.slots or (line,))]
    if doc.seal_images:
        blocks.append(_para(g, [_run(g, doc.signature[-1].text)], jc="right",
                            ind=_body_ind(g, right_chars=doc.signature[-1].right_chars), keep=True, **grid))
    if doc.annotation:  # 附注 (7.3.6): the line after the date, two characters in
        blocks.append(_para(g, [_run(g, doc.annotation)], jc="left", ind=_body_ind(g, first_chars=2), **grid))
    else:
        blocks[-1] = _para(g, [_run(g, doc.signature[-1].text)], jc="right",
                           ind=_body_ind(g, right_chars=doc.signature[-1].right_chars), **grid)
    return blocks


def _seal_pictures(doc: Document, g: Geometry, pitch: int | None = None) -> list[dict]:
    """Floating seal pictures, one per organ in order, each to be anchored in its name's paragraph:
    centred on the name (the geometry's centre, in the docx's character pitch) and
    geometry.seal_rise above the name's em box, which Word and LibreOffice put at 80 % of the line."""
    if not doc.seal_images:
        return []
    seal = doc.settings["signing"]["seal"]
    d = Length.mm(float(seal["diameter_mm"])).twips
    rise = shared.seal_rise(g.layout, seal).twips
    name_centre_y = g.em_top(g.body_sz * 10, pitch) + g.body_sz * 5
    centres = [slot.centre_chars for line in doc.signature[:-1] for slot in line.slots] or \
              [line.right_chars + text_width(line.text) / 2 for line in doc.signature[:-1]]
    first = len(images(doc)) + 1
    out = []
    for i, (centre, png) in enumerate(zip(centres, doc.seal_images, strict=True)):
        number = first + i
        w_px, h_px = _png_size(png)
        out.append({"floating": True, "blip": IMAGE_RID.format(number), "id": 2000 + number, "name": f"印章{i + 1}",
                    "file": f"image{number}.png", "cx": round(d * EMU_PER_TWIP), "cy": round(d * h_px / w_px * EMU_PER_TWIP),
                    "x": round((g.type_w - centre * g.pitch - d / 2) * EMU_PER_TWIP),
                    "y": round((name_centre_y - rise - d * h_px / w_px / 2) * EMU_PER_TWIP), "z": 251660000 + i})
    return out


def _slot_row(g: Geometry, line, pitch: int | None = None) -> dict:
    """A row of joint sealed names (7.3.5.1): a centred tab stop at each name's centre, from the
    geometry's centres in characters from the type area's right edge, counted in the docx's own
    character pitch as the right indents of the date are (so the last name is over the date)."""
    tabs = [{"val": "center", "pos": round(g.type_w - slot.centre_chars * g.pitch)} for slot in line.slots]
    runs = [run for slot in line.slots for run in (_tab(g), _run(g, slot.text))]
    return _para(g, runs, jc="left", tabs=tabs, keep=True, **_pitch(pitch))


def _attachment_blocks(g: Geometry, page) -> list[dict]:
    """附件 (7.3.7): new page, 附件N in 黑体 on line 1, the title centred on line 3."""
    blocks = [_para(g, [_run(g, page.label, HEITI)], jc="left", pbb=True)]
    blocks += _blank(g)
    blocks += _title_blocks(g, page.title_lines)
    blocks += _blank(g)
    blocks += _paragraph_blocks(g, page.paragraphs)
    return blocks


# --- 版记 ------------------------------------------------------------------------------------------

def _imprint_blocks(doc: Document, g: Geometry) -> list[dict]:
    """版记 (7.4) as a table floating at the bottom of the type area: thick rule, 抄送 (one
    character in from both sides, continuation after the colon), thin rule, 印发机关 one
    character from the left and 印发日期 one from the right, thick rule. A letter (10.1) keeps
    only its 抄送, without rules."""
    imp = doc.imprint
    if imp.empty:
        return []
    sz = g.imprint_sz
    char = sz * 10
    letter = doc.format == "letter"
    rows = []

    def row(paragraph: dict) -> dict:
        # atLeast: a 抄送 list longer than a line grows the row instead of being cut off.
        return {"height": g.line, "rule": "atLeast",
                "cells": [{"width": g.type_w, "vmerge": None, "valign": "center", "paragraphs": [paragraph]}]}

    if imp.cc:
        label = text_width("抄送：")
        rows.append(row(_para(g, [_run(g, imp.cc, sz=sz)], jc="left",
                              ind={"left": round((1 + label) * char), "hanging": round(label * char), "right": char})))
    if imp.printed_by or imp.printed_on:
        runs = [_run(g, imp.printed_by, sz=sz), _tab(g, sz=sz), _run(g, imp.printed_on, sz=sz)]
        rows.append(row(_para(g, runs, jc="left", ind={"left": char, "right": char},
                              tabs=[{"val": "right", "pos": g.type_w - char}])))
    # Border widths in eighths of a point (w:sz) from the geometry's rules.
    thick, thin = ({"sz": max(2, round(rule.pt * 8)), "color": g.black} for rule in shared.imprint_rules(g.layout))
    borders = {"top": None, "bottom": None, "insideH": None} if letter else {"top": thick, "bottom": thick, "insideH": thin}
    # Floating at the bottom of the margin box, which is the type area's bottom edge
    # (geometry.page_box), where geometry.imprint_bottom puts the 版记. Anchored horizontally to
    # the page (at the left margin) rather than to the margin: LibreOffice keeps a type-area-wide
    # table inline unless it is positioned relative to the page edge.
    table = {"float": "bottom", "x": g.left, "width": g.type_w, "cols": [g.type_w], "rows": rows, "borders": borders}
    # Word needs a paragraph after a table at the end of the body; keep it one twip tall.
    return [_table(table), _spacer(g, 2)]


# --- the document ----------------------------------------------------------------------------------

# --- report blocks: tables and pictures ------------------------------------------------------------

TABLE_SZ = round(report_tables.CELL_PT * 2)  # half-points
TABLE_LINE = round(report_tables.CELL_PT * 20 * report_tables.CELL_LINE)  # twips, exact
TABLE_MARGIN = round(Length.mm(report_tables.PAD_X_MM).twips)  # left and right in each cell
TABLE_MARGIN_Y = round(report_tables.PAD_Y_PT * 20)  # above and below
TABLE_RULE = round(report_tables.RULE_PT * 8)  # eighths of a point
CAPTION_SZ = 28  # 四号 captions
IMAGE_RID = "rIdImage{}"
IMAGE_PART = "media/image{}.png"


def _cell_paragraphs(g: Geometry, cell, empty: bool = False) -> list[dict]:
    face = HEITI if cell is not None and cell.kind == "header" else FANGSONG
    line = TABLE_LINE
    mark = _run(g, "", face, TABLE_SZ)
    if empty:
        return [_para(g, line=line, mark=mark)]
    jc = cell_align(cell)
    return [_para(g, [_run(g, text, face, TABLE_SZ)] if text else [], jc=jc, line=line, mark=mark)
            for text in cell_text(cell).split("\n")]


def _table_blocks(g: Geometry, block) -> list[dict]:
    """A grid.Sheet as a bordered Word table across the type area: column widths fitted to the
    content (gongwen/tables.py), gridSpan for column spans, vMerge for row spans; the sheet's
    title rows are left out (the caption names the table)."""
    sheet = block.sheet
    placed, height = layout(sheet)
    grid = owners(placed, height, sheet.width)
    cols = whole_parts(report_tables.column_widths(sheet, float(g.layout["page"]["type_width_mm"])), g.type_w)
    rows = []
    for r in range(sheet.title_rows, height):
        cells, c = [], 0
        while c < sheet.width:
            owner = grid[r][c]
            if owner is None or owner.row < sheet.title_rows:
                cells.append({"width": cols[c], "span": None, "vmerge": None, "valign": "center",
                              "paragraphs": _cell_paragraphs(g, None, empty=True)})
                c += 1
                continue
            span = owner.last_col - owner.col + 1
            first = owner.row == r
            vmerge = None if owner.cell.rowspan == 1 else ("restart" if first else "continue")
            cells.append({"width": sum(cols[owner.col:owner.last_col + 1]), "span": span if span > 1 else None,
                          "vmerge": vmerge, "valign": "center",
                          "paragraphs": _cell_paragraphs(g, owner.cell, empty=not first)})
            c = owner.last_col + 1
        header = r < sheet.title_rows + sheet.header_rows
        rows.append({"height": TABLE_LINE + 2 * TABLE_MARGIN_Y, "rule": "atLeast", "cells": cells,
                     "header": header})
    line = {"sz": TABLE_RULE, "color": g.black}
    table = {"float": None, "width": sum(cols), "cols": cols, "rows": rows, "margin": TABLE_MARGIN,
             "margin_y": TABLE_MARGIN_Y,
             "borders": {"top": line, "bottom": line, "insideH": line, "left": line, "right": line, "insideV": line}}
    blocks = []
    if block.caption:
        blocks.append(_para(g, [_run(g, block.caption, HEITI, CAPTION_SZ)], jc="center", keep=True,
                            line=round(CAPTION_SZ * 10 * 1.6)))
    # A short paragraph after the table keeps two tables apart and gives the text some air.
    return blocks + [_table(table), _spacer(g, g.line / 2)]


def _png_size(png: bytes) -> tuple[int, int]:
    """Pixel width and height from the PNG header (IHDR is always the first chunk)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("ImageBlock.png is not a PNG")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _image_blocks(g: Geometry, block, number: int) -> list[dict]:
    """An inline picture centred on its own line (auto line height, so nothing clips it), the
    caption below. `number` ties it to word/media/image<number>.png."""
    w_px, h_px = _png_size(block.png)
    cx = round(block.width_mm * EMU_PER_MM)
    cy = round(cx * h_px / w_px)
    picture = {"blip": IMAGE_RID.format(number), "id": 1000 + number, "name": f"图{number}",
               "file": f"image{number}.png", "cx": cx, "cy": cy}
    ppr = _package().macros(MACROS).ppr({"keep": True, "pbb": False, "tabs": [], "before": 0,
                                         "line": 240, "rule": "auto", "ind": {}, "jc": "center", "mark": None})
    blocks = [{"ppr": ppr, "runs": [], "shapes": [picture]}]
    if block.caption:
        blocks.append(_para(g, [_run(g, block.caption, HEITI, CAPTION_SZ)], jc="center",
                            line=round(CAPTION_SZ * 10 * 1.6)))
    return blocks


def images(doc: Document) -> list:
    """The ImageBlocks of the body in order; the n-th (1-based) becomes word/media/image<n>.png."""
    return [b for b in doc.paragraphs if isinstance(b, ImageBlock)]


def _body_blocks(doc: Document, g: Geometry, keep_last: bool = False, fit: fitting.Fit | None = None) -> list[dict]:
    blocks: list[dict] = []
    number = 0
    previous = None
    # 7.3.5.5 (gongwen/fit.py, decided once for both formats): the last page's blocks in a closer
    # pitch so the signature fits; a long last paragraph's last lines a paragraph of their own,
    # kept with the signature, so they go over with it (LibreOffice moves a kept paragraph whole).
    tail = fitting.split_tail(doc)
    for i, p in enumerate(doc.paragraphs):
        pitch = round(fit.pitch.twips) if fit and i >= fit.first else None
        if isinstance(p, TableBlock):
            blocks += _table_blocks(g, p)
        elif isinstance(p, ImageBlock):
            number += 1
            blocks += _image_blocks(g, p, number)
        elif tail and p is doc.paragraphs[-1]:
            head, rest = tail
            blocks.append(_body_paragraph(g, head, after_heading=_keeps(g, previous), line=pitch))
            blocks.append(_body_paragraph(g, rest, keep=True, after_heading=True, line=pitch, indent=False))
        else:
            last = p is doc.paragraphs[-1]
            blocks.append(_body_paragraph(g, p, keep=keep_last and last, after_heading=_keeps(g, previous), line=pitch))
        previous = p
    return blocks


def _blocks(doc: Document, g: Geometry) -> list[dict]:
    if doc.plain:
        blocks, title_gap = [], 0
    elif doc.format == "letter":
        blocks, title_gap = _letter_header(doc, g)
    else:
        blocks, title_gap = _file_header(doc, g)
    blocks += _title_blocks(g, doc.title_lines, before=title_gap)
    if doc.title_note:
        blocks.append(_para(g, [_run(g, doc.title_note, FANGSONG)], jc="center", keep=True))
    if doc.addressees:
        blocks += _blank(g)
        blocks.append(_para(g, [_run(g, doc.addressees)], jc="both"))
    else:
        blocks += _blank(g)
    # The last paragraph before the signature is kept with it (7.3.5: never alone on a page).
    end = fitting.ending(doc)
    fit = end.fit
    pitch = round(fit.pitch.twips) if fit else None
    blocks += _body_blocks(doc, g, keep_last=not doc.attachment_note and doc.keeps_signature(), fit=fit)
    if doc.attachment_note:
        blocks += _blank(g, line=pitch)
        blocks += _attachment_note_blocks(doc, g, pitch)
    blocks += _signature_blocks(doc, g, pitch)
    for page in doc.attachments:
        blocks += _attachment_blocks(g, page)
    if not doc.plain:
        if end.imprint_page and not doc.imprint.empty:
            # The 版记 on a page of its own, in a section whose (first page's) footer is empty
            # (7.5: no number); a paragraph before the table, or LibreOffice puts the floating
            # table back in the section before.
            blocks += [{"section_break": True}, _spacer(g, 2)]
        blocks += _imprint_blocks(doc, g)
    return blocks


def _footer_paragraph(g: Geometry, page: int) -> dict:
    """“— N —” in 四号宋体 with half-width digits (7.5) where gongwen/geometry.page_number_place
    puts it on page `page`'s parity (odd pages right, even pages left, one character in); a
    tight exact line so the glyph tops sit at the top of the footer line."""
    place = shared.page_number_place(g.layout, page)
    sz = round(place.size.pt * 2)
    runs = [_run(g, "— ", SONGTI, sz, latin=False), _run(g, "1", SONGTI, sz, latin=False, field="PAGE"),
            _run(g, " —", SONGTI, sz, latin=False)]
    return _para(g, runs, jc=place.side, line=g.footer_line, ind={place.side: twips(place.indent)})


def _font_table(g: Geometry) -> list[dict]:
    alt = {"仿宋_GB2312": "仿宋", "楷体_GB2312": "楷体"}
    seen, out = set(), []
    for role in (FANGSONG, XIAOBIAOSONG, HEITI, KAITI, SONGTI):
        name = g.fonts[role]
        if name not in seen:
            seen.add(name)
            out.append({"name": name, "alt": alt.get(name), "charset": "86", "family": "modern", "pitch": "fixed"})
    if g.latin not in seen:
        out.append({"name": g.latin, "alt": None, "charset": "00", "family": "roman", "pitch": "variable"})
    return out


@lru_cache(maxsize=16)
def _geometry_for(key: str) -> tuple[Geometry, dict, str]:
    layout = json.loads(key)
    g = Geometry.from_settings(layout)
    shared = {
        "fonts": g.fonts, "latin": g.latin, "body_sz": g.body_sz, "line_pitch": g.line, "black": g.black,
        "body_twips": g.body_sz * 10, "font_table": _font_table(g),
        "footer_odd": _footer_paragraph(g, 1), "footer_even": _footer_paragraph(g, 2),
        "footer_first": _para(g, line=g.footer_line, mark=_run(g, "", SONGTI, g.page_number_sz, latin=False)),
    }
    return g, shared, hashlib.sha1(key.encode()).hexdigest()  # noqa: S324 - a cache key, not security


def _layout_key(layout: Mapping[str, Any]) -> str:
    def plain(value):
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return json.dumps(plain(layout), sort_keys=True, ensure_ascii=False)


_template: DocxTemplate | None = None
MACROS = "word/_macros.xml.j2"

# Layout settings objects are frozen per process; remember their key by identity so a document
# does not pay for serialising the settings (the id is only trusted while the object is alive).
_key_by_id: dict[int, tuple[Mapping[str, Any], str]] = {}


def geometry(doc: Document) -> tuple[Geometry, dict, str]:
    layout = doc.settings["layout"]
    hit = _key_by_id.get(id(layout))
    if hit is None or hit[0] is not layout:
        if len(_key_by_id) > 64:
            _key_by_id.clear()
        hit = (layout, _layout_key(layout))
        _key_by_id[id(layout)] = hit
    return _geometry_for(hit[1])


def document_context(doc: Document) -> dict:
    """Everything word/document.xml needs, as plain data (exposed for tests and debugging). A
    block {"section_break": True} ends the body's section; the last one, a page holding only the
    版记 (gongwen/fit.ending), has empty footers unless page_number.imprint_page numbers it."""
    g, _, _ = geometry(doc)
    blocks = _blocks(doc, g)
    section = {
        "page_w": g.page_w, "page_h": g.page_h, "top": g.top, "right": g.right, "bottom": g.bottom,
        "left": g.left, "header": mm(15), "footer": g.footer, "line_pitch": g.line, "char_space": g.char_space,
        "title_page": not doc.page_number_on_first_page,
    }
    imprint_section = any("section_break" in b for b in blocks)
    numbered = shared.imprint_page_numbered(g.layout)
    return {
        "blocks": blocks,
        "bare_last": imprint_section and not numbered,
        # A numbered 版记 page continues the numbering with the odd/even footers (no title page).
        "last_section": {**section, "title_page": False} if imprint_section and numbered else section,
        "section": section,
    }


def render_docx(doc: Document) -> bytes:
    """The .docx bytes of a 公文 layout model."""
    g, shared, key = geometry(doc)
    return _package().build({"word/document.xml": document_context(doc)}, shared=shared, key=key,
                            extra=_image_parts(doc, shared, key))


REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
IMAGE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"


def _image_parts(doc: Document, shared: Mapping[str, Any], key: str) -> list[Part]:
    """word/media/image<n>.png for each picture and the document's relationships with one image
    relationship per picture added to the template's (built with ElementTree, not by hand)."""
    pictures = [b.png for b in images(doc)] + list(doc.seal_images)
    if not pictures:
        return []
    from xml.etree import ElementTree as ET  # noqa: S405 - parses our own template part

    rels_name = "word/_rels/document.xml.rels"
    static = {p.name: p.data for p in _package().static_parts(key, shared)}
    ET.register_namespace("", REL_NS)
    root = ET.fromstring(static[rels_name])  # noqa: S314 - our own template part
    parts = []
    for n, picture in enumerate(pictures, start=1):
        ET.SubElement(root, f"{{{REL_NS}}}Relationship",
                      {"Id": IMAGE_RID.format(n), "Type": IMAGE_REL, "Target": IMAGE_PART.format(n)})
        parts.append(Part(f"word/{IMAGE_PART.format(n)}", picture))
    rels = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return [Part(rels_name, rels), *parts]
