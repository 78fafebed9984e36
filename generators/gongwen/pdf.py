"""The PDF renderer of the 公文 engine: a `Document` (model.py) → GB/T 9704-2012 PDF bytes.

The model has taken every content decision; this module only turns it into geometry. The page
is CSS paged media for weasyprint (templates/official/gongwen.css, rendered once per bureau
layout from settings["layout"]); the content is templates/official/gongwen.html (Jinja2,
autoescaped, so user text can never become markup).

Geometry, all in points and measured from the top-left corner of the type area (版心):
* The body is a grid: 22 lines of pitch L = 225 mm / 22 and 28 characters of pitch 156 mm / 28
  (16 pt 仿宋 with a small negative letter-spacing). Every flow element has line-height L, and
  the 版头 is one block whose height is a whole number of lines, so every line after it sits on
  the grid, as in a Word document with a document grid.
* The 版头 elements are absolutely positioned inside that block at the places the standard
  gives (mark top edge 35 mm below the type area's top, number two lines below, rule 4 mm below
  the number, …). "Top edge" means the top of the ideographic em box (0.88 em above the
  baseline); Geometry.face_metrics gives the ascent and descent the layout engine uses for each
  face (read from the font file, generators/pdf.face_metrics), so the em box can be put exactly
  where it belongs.
* Inside its line box, a line's glyphs are moved down (relative positioning, Geometry.drop) so
  that the baseline sits where Word puts it, at 80 % of the line (geometry.baseline_in_line),
  not where weasyprint centres the face: the docx printed by Word or LibreOffice and the PDF
  ink the same line at the same height, and no box or page break moves.
* The 版记 is a CSS footnote (`float: footnote`): weasyprint puts the footnote area at the
  bottom of the page area, so the last rule of the 版记 sits on the bottom edge of the type area
  of the page where the document ends, and the body text above makes room for it.
* Page numbers are @page margin boxes generated from geometry.page_number_place: odd (right)
  pages at the right, even (left) pages at the left, one character in, the top of “— N —” 7 mm
  below the type area.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from generators import pdf as pdfkit
from generators.gongwen import fit as fitting
from generators.gongwen import geometry as shared
from generators.gongwen import tables as report_tables
from generators.gongwen.geometry import Length
from generators.gongwen.model import (
    DATE_ANCHOR,
    FANGSONG,
    HEITI,
    KAITI,
    SONGTI,
    XIAOBIAOSONG,
    Document,
    ImageBlock,
    Paragraph,
    TableBlock,
    name_anchor,
    text_width,
)
from generators.gongwen.model import mark_layout as model_mark_layout
from generators.gongwen.model import mark_size as model_mark_size

TEMPLATE_DIR = pdfkit.TEMPLATES_DIR / "official"

# The ideographic em box: 0.88 em above the baseline, 0.12 em below.
EM_ASCENT = shared.EM_ASCENT

# Same conventions as the docx renderer, so both outputs put things in the same places.


def _pt(value: float) -> str:
    """A CSS length in points with enough precision for 0.01 mm."""
    return f"{value:.3f}pt"


def _hex(value: Any) -> str:
    text = str(value).lstrip("#")
    if not re.fullmatch(r"[0-9A-Fa-f]{6}", text):
        raise ValueError(f"颜色设置应为六位十六进制，例如“FF0000”，而不是“{value}”。")
    return "#" + text.upper()


def _family(name: Any) -> str:
    """A font family name as a CSS string (settings values never reach CSS unquoted)."""
    text = re.sub(r"[\x00-\x1f\\\"{};<>]", "", str(name)).strip()
    return f'"{text}"'


@dataclass(frozen=True)
class NumberBox:
    """A page number's @page margin box: the page selector (weasyprint's :right pages are the
    odd ones), the side of the type area (geometry.page_number_place), the indent from it and
    the top padding, points."""

    selector: str
    side: str
    indent: float
    below: float


@dataclass(frozen=True)
class Geometry:
    """Every measure of the page, in points, derived from settings["layout"]."""

    page_w: float
    page_h: float
    top: float
    left: float
    right: float
    bottom: float
    type_w: float
    type_h: float
    line: float  # grid line pitch
    pitch: float  # body character pitch
    body_pt: float
    title_pt: float
    imprint_pt: float
    number_pt: float
    numbers: tuple[NumberBox, ...]  # odd pages, even pages
    letter_unnumbered: tuple[str, ...]  # sides of the margin boxes emptied on a letter's page 1
    imprint_page_numbered: bool  # a page holding only the 版记 keeps its number
    imprint_raise: float  # the 版记's bottom above the page area's (the footnote area's margin)
    red: str
    black: str
    layout: Mapping[str, Any]

    @classmethod
    def from_layout(cls, layout: Mapping[str, Any]) -> Geometry:
        sizes = layout["sizes"]
        box = shared.page_box(layout)
        # The grid's own line (gongwen/geometry.line_pitch: whole twips, 28.95 pt, the docx's and
        # the page-end estimate's too); the character rounded down to 1/1000 pt so 28 always fit.
        line = shared.line_pitch(layout).pt
        pitch = math.floor(shared.char_pitch(layout).pt * 1000) / 1000
        places = {n: shared.page_number_place(layout, n) for n in (1, 2)}
        return cls(
            page_w=box.width.pt,
            page_h=box.height.pt,
            top=box.top.pt,
            left=box.left.pt,
            right=box.right.pt,
            bottom=box.bottom.pt,
            type_w=box.type_width.pt,
            type_h=box.type_height.pt,
            line=line,
            pitch=pitch,
            body_pt=float(sizes["body_pt"]),
            title_pt=float(sizes["title_pt"]),
            imprint_pt=float(sizes["imprint_pt"]),
            number_pt=places[1].size.pt,
            numbers=tuple(NumberBox(":right" if n % 2 else ":left", q.side, q.indent.pt, q.below.pt) for n, q in places.items()),
            letter_unnumbered=() if shared.page_numbered(1, letter=True) else (places[1].side,),
            imprint_page_numbered=shared.imprint_page_numbered(layout),
            imprint_raise=(box.type_bottom - shared.imprint_bottom(layout)).pt,
            red=_hex(layout["colors"]["red"]),
            black=_hex(layout["colors"]["black"]),
            layout=layout,
        )

    @property
    def letter_spacing(self) -> float:
        """Letter-spacing of body text. Pango rounds glyph positions, so the exact pitch − 16 pt
        (−0.207 pt) sometimes leaves the 28th character out; 0.02 pt less keeps 28 characters on
        every full line (measured: 28 characters span 442.29 pt of the 442.20 pt line, the
        trailing spacing excluded from the fit) while the pitch stays within 0.01 mm of 156/28."""
        return self.pitch - self.body_pt - 0.02

    def face_metrics(self, face: str) -> tuple[float, float]:
        """The ascent and descent (em) weasyprint lays a line of the role `face` out with: those
        of the font fonts.conf maps the layout's face name onto (generators/pdf.face_metrics)."""
        metrics = pdfkit.face_metrics(str(self.layout["fonts"][face]))
        return metrics.ascent, metrics.descent

    def em_offset(self, face: str, size: float, line_height: float) -> float:
        """How far the em box top lies below the top of a line box of `line_height`, as weasyprint
        sets it (the face's ascent and descent centred in the line)."""
        ascent, descent = self.face_metrics(face)
        return (line_height - (ascent + descent) * size) / 2 + (ascent - EM_ASCENT) * size

    def tight_line(self, face: str) -> float:
        """The line height, in em, that puts the em box top exactly at the line's top."""
        ascent, descent = self.face_metrics(face)
        return 2 * EM_ASCENT - ascent + descent

    def drop(self, face: str, size: float, line_height: float) -> float:
        """How far a line's glyphs are moved down inside their line box (CSS relative
        positioning, which moves no box and no page break) so that their baseline sits where
        Word puts it (gongwen/geometry.baseline_in_line), not where weasyprint does: 2.6 pt for
        the 三号 body, 3.4 pt for the 四号 版记 in a grid line, −0.8 pt for a 二号 title line."""
        ascent, descent = self.face_metrics(face)
        engine = (line_height - (ascent + descent) * size) / 2 + ascent * size
        return shared.baseline_in_line(Length(line_height)).pt - engine

    def body_drop(self, line_height: float | None = None) -> float:
        """`drop` of a line of body text (三号 仿宋) in a line of `line_height` (the grid's)."""
        return self.drop(FANGSONG, self.body_pt, line_height or self.line)

    def body_em_top(self) -> float:
        return self.em_offset(FANGSONG, self.body_pt, self.line)



# --- the 版头 ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """One absolutely positioned piece of the 版头: text or a filled rectangle."""

    cls: str
    style: str
    text: str = ""


def _box(x: float, y: float, w: float | None = None, h: float | None = None, **extra: str) -> str:
    parts = [f"left:{_pt(x)}", f"top:{_pt(y)}"]
    if w is not None:
        parts.append(f"width:{_pt(w)}")
    if h is not None:
        parts.append(f"height:{_pt(h)}")
    parts += [f"{k.replace('_', '-')}:{v}" for k, v in extra.items()]
    return ";".join(parts)


def mark_size(doc: Document, g: Geometry) -> float:
    """The mark's size in points, from the shared geometry (gongwen/geometry.mark_size)."""
    return model_mark_size(doc).pt


def _mark_items(doc: Document, g: Geometry, em_top: float) -> tuple[list[Item], float]:
    """The 发文机关标志 with its em box top at `em_top`, each piece where gongwen/geometry's
    mark_layout puts it (stacked names spread over their width by letter-spacing); returns the
    items and the bottom of its last row."""
    mark = model_mark_layout(doc)
    size, scale = mark.size.pt, mark.scale
    row = shared.MARK_ROW_EM * size
    offset = g.em_offset(XIAOBIAOSONG, size, row)
    font = f"font-size:{_pt(size)};line-height:{_pt(row)}"
    squeeze = f";transform:scaleX({scale:.3f});transform-origin:50% 0" if scale != 1.0 else ""
    items: list[Item] = []
    if mark.suffix is None and len(mark.names) == 1:
        piece = mark.names[0]
        # Centred on the geometry's centre; the box is as wide as the type area so that a name
        # whose width the model counts a little short still stays in one centred line.
        centre = piece.x.pt + piece.width.pt / 2
        items.append(Item("mark", _box(centre - g.type_w / 2, em_top + piece.em_top.pt - offset, g.type_w, row) + ";" + font + squeeze,
                          piece.text))
        return items, em_top - offset + row
    squeeze = squeeze.replace("50% 0", "0 0")
    for piece in (*mark.names, *((mark.suffix,) if mark.suffix else ())):
        count = len(piece.text)
        natural = text_width(piece.text) * size * scale
        spread = (piece.width.pt - natural) / (count - 1) / scale if count > 1 else 0.0
        style = _box(piece.x.pt, em_top + piece.em_top.pt - offset, None, row) + ";" + font + f";letter-spacing:{_pt(spread)}"
        items.append(Item("mark", style + squeeze, piece.text))
    return items, em_top - offset + mark.names[-1].em_top.pt + row


def _rule_items(doc: Document, g: Geometry, y: float) -> list[Item]:
    """The red separator line (7.2.7), type-area wide, with the Party star in a break at its
    centre when the document uses the Party style."""
    t = shared.rule_thickness(g.layout).pt
    if not doc.party_star:
        return [Item("red-rule", _box(0, y, g.type_w, t))]
    half = (g.type_w - shared.star_break(g.layout).pt) / 2
    centre, star = y + t / 2, shared.star_size(g.layout).pt
    return [
        Item("red-rule", _box(0, y, half, t)),
        Item("red-rule", _box(g.type_w - half, y, half, t)),
        Item("star", _box((g.type_w - star) / 2, centre - star / 2, star, star)),
    ]


def _header_line_items(doc: Document, g: Geometry, first_top: float, on_lines: bool = False) -> list[Item]:
    """份号 (仿宋 digits), 密级和保密期限 and 紧急程度 (黑体), flush left, one per line. `on_lines`:
    set in grid lines from `first_top`, their glyphs where Word puts them in such a line (Geometry.drop);
    otherwise `first_top` places the first em box (the 信函's)."""
    items = []
    for i, text in enumerate(doc.header_lines):
        face = FANGSONG if text.isdigit() else HEITI
        drop = g.drop(face, g.body_pt, g.line) if on_lines else 0.0
        items.append(Item("line" if face == FANGSONG else "line heiti",
                          _box(0, first_top + i * g.line + drop, g.type_w, g.line), text))
    return items


def _number_items(doc: Document, g: Geometry, top: float) -> tuple[list[Item], float]:
    """发文字号, and for upward documents the 签发人 lines (7.2.4–7.2.5). Returns the items and
    the top of the last line."""
    if doc.direction != "upward" or not doc.signers:
        return [Item("line center", _box(0, top, g.type_w, g.line), doc.doc_number)], top
    # Number one character in from the left; “签发人：” + names in 楷体 ending one character from
    # the right; names two per line, continuation lines aligned with the first name; the number
    # on the last signer line.
    names = list(doc.signers)
    lines = ["　".join(names[i:i + 2]) for i in range(0, len(names), 2)]
    label = "签发人："
    widest = max(text_width(line) for line in lines)
    start = g.type_w - g.pitch - (text_width(label) + widest) * g.pitch
    names_x = start + text_width(label) * g.pitch
    items = [Item("line", _box(start, top, None, g.line), label)]
    for i, line in enumerate(lines):
        items.append(Item("line kaiti", _box(names_x, top + i * g.line, None, g.line), line))
    last = top + (len(lines) - 1) * g.line
    items.append(Item("line", _box(g.pitch, last, None, g.line), doc.doc_number))
    return items, last


def _file_banner(doc: Document, g: Geometry) -> tuple[list[Item], float]:
    """版头 of the 文件格式. Returns the items and the banner height (the title's grid line)."""
    items = _header_line_items(doc, g, 0.0, on_lines=True)
    cursor = len(doc.header_lines) * g.line
    mark_top = max(shared.mark_top(g.layout, letter=False).pt, cursor)
    mark_items, _ = _mark_items(doc, g, mark_top)
    items += mark_items
    # 发文字号 two blank lines below the mark, and the title's grid line: decided once for both
    # formats (gongwen/geometry.py).
    size = mark_size(doc, g)
    mark_em_bottom = shared.mark_em_bottom(Length(mark_top), Length(size), len(doc.mark_names))
    number_em = shared.number_em_top(g.layout, mark_em_bottom).pt
    number_items, last_top = _number_items(doc, g, number_em - g.body_em_top())
    items += number_items
    em_bottom = last_top + g.body_em_top() + g.body_pt
    rule_y = em_bottom + shared.rule_gap(g.layout).pt
    items += _rule_items(doc, g, rule_y)
    below = rule_y + shared.rule_thickness(g.layout).pt
    return items, shared.title_top(g.layout, Length(below)).pt


def _letter_banner(doc: Document, g: Geometry) -> tuple[list[Item], float]:
    """版头 of the 信函格式 (10.1): the mark's top 30 mm from the top of the page; red double
    lines 170 mm long centred on the page, thick over thin 4 mm below the mark and thin over
    thick 20 mm above the bottom edge (first page only); 份号/密级/紧急程度 flush left and the
    发文字号 flush right, the first of them 7/8 of a 三号 character below the double line."""
    mark_top = shared.mark_top(g.layout, letter=True).pt - g.top
    items, _ = _mark_items(doc, g, mark_top)
    size = mark_size(doc, g)
    em_bottom = shared.mark_em_bottom(Length(mark_top), Length(size), len(doc.mark_names)).pt
    # The double lines (from the page's corner, drawn in the type area), the first line under them
    # and the title's grid line: gongwen/geometry.letter_head, as in the docx.
    head = shared.letter_head(g.layout, Length(em_bottom + g.top), len(doc.header_lines))
    items += [Item("red-rule", _box(s.x.pt - g.left, s.y.pt - g.top, s.length.pt, s.thickness.pt)) for s in head.strokes]
    first_top = head.first_em_top.pt - g.body_em_top()
    items += _header_line_items(doc, g, first_top)
    if doc.doc_number:
        items.append(Item("line right", _box(0, first_top, g.type_w, g.line), doc.doc_number))
    return items, head.title_top.pt


# --- 主体 and 版记 ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class NoteLine:
    """A line of the 附件说明 split for hanging alignment: label, number, name."""

    label: str
    number: str
    name: str


def _note_lines(doc: Document) -> tuple[list[NoteLine], float]:
    """The 附件说明 lines and the width (in characters) of the widest “N.” number."""
    out = []
    for text in doc.attachment_note:
        label = "附件：" if text.startswith("附件：") else ""
        rest = text[len(label):]
        m = re.match(r"(\d+[.．])(.*)", rest, re.S)
        number, name = (m.group(1), m.group(2)) if m and len(doc.attachment_note) > 1 else ("", rest)
        out.append(NoteLine(label, number, name))
    widest = max((text_width(n.number) for n in out), default=0.0)
    return out, widest


def _para_classes(p: Paragraph, previous: Any, chars_per_line: int, last: bool = False) -> str:
    """.heading-only: kept with the next paragraph; .after-heading: that paragraph, and .last the
    one the signature follows, with widow and orphan control (model.Paragraph.keeps_with_next;
    the docx does the same). (.tail, the last lines of a long last paragraph that go with the
    signature, is set by the template: gongwen/fit.split_tail.)"""
    if p.keeps_with_next(chars_per_line):
        return "p heading-only"
    if last:
        return "p last"
    if isinstance(previous, Paragraph) and previous.keeps_with_next(chars_per_line):
        return "p after-heading"
    return "p"


FACE_CLASS = {FANGSONG: "", HEITI: "heiti", KAITI: "kaiti", XIAOBIAOSONG: "xbs", SONGTI: "songti"}


# --- report blocks: tables and pictures -----------------------------------------------------------

IMAGE_SCHEME = "jxdoc-image"


def _block_kind(block) -> str:
    if isinstance(block, TableBlock):
        return "table"
    if isinstance(block, ImageBlock):
        return "image"
    return "p"


@dataclass(frozen=True)
class HtmlCell:
    lines: tuple[str, ...]
    colspan: int
    rowspan: int
    cls: str  # kind and alignment classes


def html_table(block: TableBlock, type_width_mm: float) -> tuple[list[float], list[list[HtmlCell]], int]:
    """Column widths (% of the type area, fitted to the content: gongwen/tables.py), rows of
    cells (only where a cell starts) and the number of leading header rows of a TableBlock; the
    sheet's title rows are left out."""
    from generators.tables import cell_align, cell_text, layout

    sheet = block.sheet
    placed, height = layout(sheet)
    type_mm = float(type_width_mm)
    widths = [w * 100 / type_mm for w in report_tables.column_widths(sheet, type_mm)]
    rows: list[list[HtmlCell]] = [[] for _ in range(sheet.title_rows, height)]
    for p in placed:
        if p.row < sheet.title_rows:
            continue
        cell = p.cell
        rows[p.row - sheet.title_rows].append(HtmlCell(tuple(cell_text(cell).split("\n")), cell.colspan, cell.rowspan,
                                                       f"k-{cell.kind} a-{cell_align(cell)}"))
    return widths, rows, sheet.header_rows


class MemoryImageFetcher(pdfkit.SafeURLFetcher):
    """The safe fetcher, plus the pictures of one document served from memory under
    jxdoc-image:<n>.png (nothing is written to disk and no other URL becomes reachable)."""

    def __init__(self, images: Mapping[str, bytes]):
        super().__init__()
        self.images = dict(images)

    def fetch(self, url, headers=None):
        if url in self.images:
            with self._lock:
                self.requested.append(url)
            return pdfkit.URLFetcherResponse(url, self.images[url], {"Content-Type": "image/png"})
        return super().fetch(url, headers)


def image_urls(doc: Document) -> dict[int, str]:
    """id(ImageBlock) → its URL, numbered in body order like the docx media parts."""
    pictures = [b for b in doc.paragraphs if isinstance(b, ImageBlock)]
    return {id(b): f"{IMAGE_SCHEME}:{n}.png" for n, b in enumerate(pictures, start=1)}


# --- templates -----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _html_template():
    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(face_class=lambda p: FACE_CLASS[p.heading_face], para_classes=_para_classes,
                       block_kind=_block_kind, html_table=html_table, id_of=id)
    return env.get_template("gongwen.html")


@lru_cache(maxsize=1)
def _css_template():
    # CSS, not HTML: it receives numbers and colours checked by Geometry and font names quoted
    # by _family, never document text.
    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=False,  # noqa: S701
                      undefined=StrictUndefined)
    return env.get_template("gongwen.css")


def _layout_key(layout: Mapping[str, Any]) -> str:
    def plain(value):
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return json.dumps(plain(layout), sort_keys=True, ensure_ascii=False)


@lru_cache(maxsize=16)
def _compiled(layout_key: str):
    """Geometry and the compiled stylesheet of one bureau layout, built once per process."""
    g = Geometry.from_layout(json.loads(layout_key))
    return g, pdfkit.compile_css(_css_text(layout_key, g), TEMPLATE_DIR)


def _css_text(layout_key: str, g: Geometry) -> str:
    layout = json.loads(layout_key)
    fonts = {role: _family(name) for role, name in layout["fonts"].items()}
    return _css_template().render(g=g, pt=_pt, fonts=fonts, cells=report_tables, imprint=dict(zip(("thick_pt", "thin_pt"), (r.pt for r in shared.imprint_rules(layout)), strict=True)))


def render_css(doc: Document) -> str:
    """The stylesheet of a document's layout (with render_html: the document for another engine,
    such as the benchmark's stock weasyprint)."""
    key = _layout_key(doc.settings["layout"])
    return _css_text(key, _compiled(key)[0])


def geometry(doc: Document) -> Geometry:
    return _compiled(_layout_key(doc.settings["layout"]))[0]


def render_html(doc: Document) -> str:
    """The HTML of a document (useful for debugging the layout in a browser)."""
    g = geometry(doc)
    if doc.plain:
        banner, banner_h = [], 0.0
    elif doc.format == "letter":
        banner, banner_h = _letter_banner(doc, g)
    else:
        banner, banner_h = _file_banner(doc, g)
    note_lines, number_w = _note_lines(doc)
    # 7.3.5.5, decided once for both formats (gongwen/fit.py): the last page's lines closer, from
    # body block `tight_from`, so that the signature fits; a long last paragraph's last lines
    # a paragraph of their own that goes over with the signature.
    end = fitting.ending(doc)
    fit = end.fit
    sig_line = fit.pitch.pt if fit else g.line
    return _html_template().render(
        doc=doc,
        g=g,
        pt=_pt,
        banner=banner,
        banner_h=banner_h,
        note_lines=note_lines,
        note_number_w=number_w * g.pitch,
        note_label_w=text_width("附件：") * g.pitch,
        # no 落款: the 附注 alone, a line below the text
        signature_gap=shared.signature_gap_lines(g.layout, doc.sealed and bool(doc.signature)) * sig_line,
        tight_from=fit.first if fit else len(doc.paragraphs),
        tight_line=sig_line,
        tight_drop=g.body_drop(sig_line),
        tail=fitting.split_tail(doc),
        imprint_page=end.imprint_page,
        star_points=_star_points(shared.star_size(g.layout).pt),
        star_size=shared.star_size(g.layout).pt,
        image_urls=image_urls(doc),
        date_anchor=DATE_ANCHOR,
        slot_spans=_slot_spans(doc, g),
        name_anchor=name_anchor,
        chars_per_line=int(g.layout["page"]["chars_per_line"]),
    )


@dataclass(frozen=True)
class SlotSpan:
    """An organ's name in a row of a joint sealed 落款: a box of the name's width whose left edge
    is `margin` after the previous name's box (or the type area's left edge), points; `organ` is
    the organ's index, the name of its anchors (model.name_anchor) that the signing step finds."""

    text: str
    margin: float
    width: float
    organ: int


def _slot_spans(doc: Document, g: Geometry) -> dict[int, list[SlotSpan]]:
    """Each joint 署名 row's names (signature line index → spans), from the geometry's centres."""
    out: dict[int, list[SlotSpan]] = {}
    organ = 0
    for index, line in enumerate(doc.signature):
        if not line.slots:
            continue
        spans, edge = [], 0.0
        for slot in line.slots:
            width = text_width(slot.text) * g.pitch
            left = g.type_w - slot.centre_chars * g.pitch - width / 2
            spans.append(SlotSpan(slot.text, left - edge, width, organ))
            edge, organ = left + width, organ + 1
        out[index] = spans
    return out


def _star_points(size: float) -> str:
    """A five-pointed star filling a size × size box, point up."""
    r_out, r_in = size / 2, size / 2 * 0.382
    cx = cy = size / 2
    pts = []
    for i in range(10):
        r = r_out if i % 2 == 0 else r_in
        a = math.pi / 2 + i * math.pi / 5
        pts.append(f"{cx + r * math.cos(a):.3f},{cy - r * math.sin(a) + size * 0.05:.3f}")
    return " ".join(pts)


def render_pdf(doc: Document, url_fetcher: pdfkit.SafeURLFetcher | None = None) -> bytes:
    """The PDF of a layout-model Document."""
    _, css = _compiled(_layout_key(doc.settings["layout"]))
    html = render_html(doc)
    urls = image_urls(doc)
    if urls and url_fetcher is None:
        url_fetcher = MemoryImageFetcher({urls[id(b)]: b.png for b in doc.paragraphs if id(b) in urls})
    return pdfkit.html_to_pdf(
        html,
        [css],
        base_url=TEMPLATE_DIR,
        url_fetcher=url_fetcher,
        metadata={"title": "".join(doc.title_lines), "authors": list(doc.organs or doc.mark_names),
                  "keywords": [doc.doc_number], "created": doc.date,
                  "description": "；".join(x for x in (f"发文字号：{doc.doc_number}" if doc.doc_number else "",
                                                       f"成文日期：{doc.signature[-1].text}" if doc.signature else "") if x)},
    )


__all__ = ["Geometry", "geometry", "mark_size", "render_html", "render_pdf"]
