"""Positions both 公文 renderers share, computed once, in typed lengths, from settings["layout"].

Where text sits inside its line is Word's rule (`baseline_in_line`): the baseline at 80 % of an
exact line's height, whatever the face and size, as clerks' Word and WPS files print and as
LibreOffice prints a docx line that is off the document grid. The docx states it (every line
exact, off the grid); weasyprint centres a face's ascent and descent in the line box instead,
so the PDF moves each line's glyphs down inside their box by the difference (gongwen/pdf.py),
which changes no box and no page break. What must not differ either is the decision taken
from the 版头's positions: on which grid line the title starts. Taken from each renderer's own
line tops, a value near half a line rounded one way in the docx and the other in the PDF (the
letter's title sat a line higher in the docx), and the 发文字号 under the mark sat 2 mm lower
(a line's top counted from the mark's line box, which differs by engine). Those positions are
taken here, once, from em boxes (nominally centred in their lines), and both renderers put the
number and the title there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PT_PER_MM = 72 / 25.4


@dataclass(frozen=True, order=True)
class Length:
    """A length in points, convertible to the units each format uses."""

    pt: float

    @classmethod
    def mm(cls, value: float) -> Length:
        return cls(float(value) * PT_PER_MM)

    @classmethod
    def twip(cls, value: float) -> Length:
        return cls(float(value) / 20)

    @property
    def twips(self) -> float:
        return self.pt * 20

    @property
    def in_mm(self) -> float:
        return self.pt / PT_PER_MM

    def __add__(self, other: Length) -> Length:
        return Length(self.pt + other.pt)

    def __sub__(self, other: Length) -> Length:
        return Length(self.pt - other.pt)

    def __mul__(self, factor: float) -> Length:
        return Length(self.pt * factor)

    __rmul__ = __mul__


def line_pitch(layout: Mapping[str, Any]) -> Length:
    """The body grid's line: the type height over the lines per page, rounded down to whole
    twips so that every line fits (579 twips, 28.95 pt, with the defaults)."""
    page = layout["page"]
    return Length.twip(math.floor(Length.mm(page["type_height_mm"]).twips / int(page["lines_per_page"])))


# Word (and LibreOffice off the document grid) put the baseline of an exact-height line at 80 %
# of its height, whatever the face and size.
BASELINE_RATIO = 0.8
# The ideographic em box of the Chinese faces: 0.88 em above the baseline, 0.12 em below.
EM_ASCENT = 0.88
EM_DESCENT = 0.12


def baseline_in_line(line: Length) -> Length:
    """Where a glyph's baseline sits below the top of an exact line `line` high (Word's rule)."""
    return line * BASELINE_RATIO


def em_top_in_line(size: Length, line: Length) -> Length:
    """Where the em box of a glyph of `size` starts below the top of an exact line `line` high."""
    return baseline_in_line(line) - size * EM_ASCENT


def body_size(layout: Mapping[str, Any]) -> Length:
    return Length(float(layout["sizes"]["body_pt"]))


def nominal_line_top(layout: Mapping[str, Any], em_top: Length) -> Length:
    """The top of a body line whose em box starts at `em_top`, the em box centred in the line."""
    return em_top - (line_pitch(layout) - body_size(layout)) * 0.5


def number_em_top(layout: Mapping[str, Any], mark_em_bottom: Length) -> Length:
    """The top of the 发文字号's em box: two blank lines below the mark (7.2.4), the number then
    set in the next line, its em box centred in it. Each renderer finds its own line top for it."""
    line = line_pitch(layout)
    return mark_em_bottom + 2 * line + (line - body_size(layout)) * 0.5


def title_top(layout: Mapping[str, Any], below: Length) -> Length:
    """The title's line top, from the type area's top: the grid line nearest to two lines below
    `below` (the bottom of the 版头's last element), but at least one and a half lines below it."""
    line = line_pitch(layout)
    snapped = round(below.pt / line.pt) * line.pt + 2 * line.pt
    while snapped < below.pt + 1.5 * line.pt - 1e-6:
        snapped += line.pt
    return Length(snapped)


def char_pitch(layout: Mapping[str, Any]) -> Length:
    """The body grid's character: the type width over the characters per line."""
    page = layout["page"]
    return Length.mm(page["type_width_mm"]) * (1 / int(page["chars_per_line"]))


@dataclass(frozen=True)
class NameSlot:
    """An organ's name in a joint sealed 落款, placed by its centre, in body characters from the
    right edge of the type area (the unit of the other signature lines' right indents)."""

    text: str
    centre_chars: float


def joint_signature_rows(
    layout: Mapping[str, Any], seal: Mapping[str, Any], names: Sequence[tuple[str, float]], date_centre_chars: float
) -> tuple[tuple[NameSlot, ...], ...]:
    """The organ names of a joint sealed 落款 (7.3.5.1), rows from the top, each row in organ order.

    Each name is the centre of its own seal, so neighbouring names are a seal and the seals' gap
    apart (more when two long names would otherwise meet, with a character between them); the
    last organ's name is centred over the 成文日期 (its seal covers name and date), the others to
    its left in a row as long as a seal stays inside the type area, further organs in rows above.
    `names` are (text, width in characters)."""
    pitch = char_pitch(layout)
    radius = Length.mm(float(seal["diameter_mm"]) / 2).pt / pitch.pt
    step = Length.mm(float(seal["diameter_mm"]) + float(seal["joint_gap_mm"])).pt / pitch.pt
    widest = max((w for _, w in names), default=0.0)
    # Two neighbouring names at least a character apart (“中共青溪县委员会 青溪县人民政府”).
    step = max([step, *((a[1] + b[1]) / 2 + 1 for a, b in zip(names, names[1:], strict=False))])
    room = int(layout["page"]["chars_per_line"]) - max(radius, widest / 2)
    per_row = max(1, int((room - date_centre_chars) // step) + 1)
    count = len(names)
    rows: list[tuple[NameSlot, ...]] = []
    # Full rows in organ order from the top; every row ends over the date, so the seals stand in
    # straight columns and the last one covers the date.
    for a in range(0, count, per_row):
        n = min(per_row, count - a)
        rows.append(tuple(NameSlot(names[a + i][0], date_centre_chars + (n - 1 - i) * step) for i in range(n)))
    return tuple(rows)


def joint_row_blank_lines(layout: Mapping[str, Any], seal: Mapping[str, Any]) -> int:
    """Blank grid lines between two rows of organ names, so their seals (each a fixed offset from
    its name) never touch: a row pitch of at least a seal and the gap."""
    span = Length.mm(float(seal["diameter_mm"]) + float(seal["joint_gap_mm"]))
    return max(0, math.ceil(span.pt / line_pitch(layout).pt - 1e-9) - 1)


def star_size(layout: Mapping[str, Any]) -> Length:
    """The Party star's diameter in the red rule."""
    return Length(float(layout["rule"]["star_pt"]))


def star_break(layout: Mapping[str, Any]) -> Length:
    """The width of the red rule's break around the star: the star and a gap on each side."""
    return star_size(layout) + Length(float(layout["rule"]["star_gap_pt"])) * 2


def letter_double_gap(layout: Mapping[str, Any]) -> Length:
    """The space between the two strokes of a 信函 double line."""
    return Length(float(layout["letter"]["double_gap_pt"]))


def joint_suffix_gap_chars(layout: Mapping[str, Any]) -> float:
    """The space between the stacked names of a joint mark and “文件”, in characters of the mark."""
    return float(layout["mark"]["joint_suffix_gap_chars"])


def signature_gap_lines(layout: Mapping[str, Any], sealed: bool) -> int:
    """Blank grid lines before the 署名 (7.3.5): room for the seal, or the one line of 7.3.5.2."""
    return int(layout["signature"]["sealed_gap_lines" if sealed else "unsealed_gap_lines"])


def seal_rise(layout: Mapping[str, Any], seal: Mapping[str, Any]) -> Length:
    """How far a seal's centre is above the centre of its organ's name (7.3.5.1): the settings put
    the 成文日期's centre `date_below_centre_mm` below the seal's, and the name is a line above it."""
    return Length.mm(float(seal["date_below_centre_mm"])) - line_pitch(layout)


def mark_size(layout: Mapping[str, Any], name_widths: Sequence[float], suffix_width: float) -> Length:
    """The 发文机关标志's size (7.2.4): the largest that keeps it on one line of the type area,
    within [mark.min_pt, mark.max_pt], rounded down to half points. `name_widths` are the organs'
    names in body characters (stacked when several, “文件” then beside them after the joint gap),
    `suffix_width` that of “文件” (0 without)."""
    mark = layout["mark"]
    scale = float(mark.get("char_scale", 1.0)) or 1.0
    if len(name_widths) <= 1:
        chars = (name_widths[0] if name_widths else 0.0) + suffix_width
    else:
        chars = max(name_widths) + (suffix_width + joint_suffix_gap_chars(layout) if suffix_width else 0)
    fit = Length.mm(float(layout["page"]["type_width_mm"])).pt / max(chars * scale, 1)
    size = min(float(mark["max_pt"]), max(float(mark["min_pt"]), fit))
    return Length(math.floor(size * 2) / 2)


# Stacked names of a joint mark are a tight line of 1.1 em apart: the mark's em box starts at the
# top of its line in both engines (Word and LibreOffice: baseline at 80 % of an exact line).
MARK_ROW_EM = 1.1


def mark_em_bottom(mark_top: Length, size: Length, rows: int) -> Length:
    """The bottom of the mark's last em box: `rows` names stacked MARK_ROW_EM apart from `mark_top`."""
    return mark_top + size * (MARK_ROW_EM * (max(rows, 1) - 1)) + size


@dataclass(frozen=True)
class MarkPiece:
    """A piece of the 发文机关标志: `text` spread evenly over `width` (its characters' own width
    when it is one name alone), its left edge `x` from the type area's left edge, its em box top
    `em_top` below the mark's top."""

    text: str
    x: Length
    width: Length
    em_top: Length


@dataclass(frozen=True)
class MarkLayout:
    """The 发文机关标志 (7.2.4) laid out: its size, the horizontal scale of its characters, one
    piece per stacked name (a single name carries “文件” itself) and, for a joint mark, “文件”
    beside the names, vertically centred on them."""

    size: Length
    scale: float
    names: tuple[MarkPiece, ...]
    suffix: MarkPiece | None

    @property
    def em_height(self) -> Length:
        """From the first row's em box top to the last row's em box bottom."""
        return self.names[-1].em_top + self.size


def mark_layout(layout: Mapping[str, Any], names: Sequence[tuple[str, float]], suffix: tuple[str, float]) -> MarkLayout:
    """The mark centred in the type area. `names` and `suffix` are (text, width in characters);
    a suffix of "" has none. A single name and its suffix make one line; stacked names are spread
    to the widest (their rows MARK_ROW_EM apart) and “文件” follows them after the joint gap."""
    size = mark_size(layout, [w for _, w in names] or [0.0], suffix[1] if suffix[0] else 0.0)
    scale = float(layout["mark"].get("char_scale", 1.0)) or 1.0
    char = size * scale
    type_w = Length.mm(float(layout["page"]["type_width_mm"]))
    names = list(names) or [("", 0.0)]
    if len(names) == 1:
        text, width = names[0][0] + suffix[0], (names[0][1] + (suffix[1] if suffix[0] else 0.0)) * char
        return MarkLayout(size, scale, (MarkPiece(text, (type_w - width) * 0.5, width, Length(0)),), None)
    name_w = char * max(w for _, w in names)
    gap = char * joint_suffix_gap_chars(layout) if suffix[0] else Length(0)
    suffix_w = char * suffix[1] if suffix[0] else Length(0)
    x0 = (type_w - name_w - gap - suffix_w) * 0.5
    rows = tuple(MarkPiece(text, x0, name_w, size * (MARK_ROW_EM * i)) for i, (text, _) in enumerate(names))
    # “文件” centred on the stacked rows: its em box centred between the first top and last bottom.
    centre = (rows[-1].em_top + size) * 0.5
    tail = MarkPiece(suffix[0], x0 + name_w + gap, suffix_w, centre - size * 0.5) if suffix[0] else None
    return MarkLayout(size, scale, rows, tail)


def mark_top(layout: Mapping[str, Any], letter: bool) -> Length:
    """The top of the 发文机关标志's em box: below the type area's top in the 文件格式 (7.2.4),
    below the page's top edge in the 信函格式 (10.1)."""
    mark = layout["mark"]
    return Length.mm(float(mark["letter_top_mm"] if letter else mark["top_offset_mm"]))


def rule_gap(layout: Mapping[str, Any]) -> Length:
    """From the bottom of the 发文字号's em box (or the 信函 mark's) down to the red rule's top (7.2.7)."""
    return Length.mm(float(layout["rule"]["gap_mm"]))


def rule_thickness(layout: Mapping[str, Any]) -> Length:
    return Length(float(layout["rule"]["thickness_pt"]))


@dataclass(frozen=True)
class Stroke:
    """A horizontal rule: its left end and top from the page's top-left corner, length, thickness."""

    x: Length
    y: Length
    length: Length
    thickness: Length


def letter_lines(layout: Mapping[str, Any], mark_em_bottom: Length) -> tuple[Stroke, ...]:
    """The 信函格式's red double lines (10.1), centred on the page: thick over thin `rule_gap` below
    the mark's em box (from the page's top), thin over thick `bottom_line_mm` above the page's
    bottom edge, the strokes `letter_double_gap` apart. Top to bottom."""
    letter, page = layout["letter"], layout["page"]
    thick, thin = Length(float(letter["thick_pt"])), Length(float(letter["thin_pt"]))
    gap = letter_double_gap(layout)
    length = Length.mm(float(letter["line_length_mm"]))
    x = (Length.mm(float(page["width_mm"])) - length) * 0.5
    y1 = mark_em_bottom + rule_gap(layout)
    y2 = Length.mm(float(page["height_mm"])) - Length.mm(float(letter["bottom_line_mm"])) - thick - gap - thin
    return (Stroke(x, y1, length, thick), Stroke(x, y1 + thick + gap, length, thin),
            Stroke(x, y2, length, thin), Stroke(x, y2 + thin + gap, length, thick))


@dataclass(frozen=True)
class LetterHead:
    """The 信函格式's 版头 below its mark (10.1): the four strokes of the double lines (from the
    page's corner), the em box top of the first line under them (份号 on the left, 发文字号 on
    the right) and the title's line top, both from the type area's top."""

    strokes: tuple[Stroke, ...]
    first_em_top: Length
    title_top: Length


def letter_first_gap(layout: Mapping[str, Any]) -> Length:
    """From the first double line's bottom to the em box top of the line below it: 7/8 of a 三号
    (body size) character's height (10.1), the factor `letter.first_line_gap_em`."""
    return body_size(layout) * float(layout["letter"]["first_line_gap_em"])


def letter_head(layout: Mapping[str, Any], mark_em_bottom: Length, rows: int) -> LetterHead:
    """The double lines under a 信函 mark whose em box ends at `mark_em_bottom` (from the page's
    top), the first line `letter_first_gap` below them, and the title two lines below the last of
    the `rows` lines (at least one) that start there."""
    strokes = letter_lines(layout, mark_em_bottom)
    top = Length.mm(float(layout["page"]["top_mm"]))
    first = strokes[1].y + strokes[1].thickness + letter_first_gap(layout) - top
    # The title's grid line from the nominal position of the lines above it, not from either
    # engine's own line tops.
    below = nominal_line_top(layout, first) + line_pitch(layout) * max(rows, 1)
    return LetterHead(strokes, first, title_top(layout, below))


# --- the page, the page numbers and the 版记 -----------------------------------------------------

@dataclass(frozen=True)
class PageBox:
    """The page and its type area (5.2), from the page's top-left corner."""

    width: Length
    height: Length
    top: Length  # 天头
    left: Length  # 订口
    type_width: Length
    type_height: Length

    @property
    def right(self) -> Length:
        return self.width - self.left - self.type_width

    @property
    def bottom(self) -> Length:
        return self.height - self.top - self.type_height

    @property
    def type_bottom(self) -> Length:
        """The bottom edge of the type area, from the page's top edge."""
        return self.top + self.type_height


def page_box(layout: Mapping[str, Any]) -> PageBox:
    page = layout["page"]
    return PageBox(*(Length.mm(float(page[k])) for k in ("width_mm", "height_mm", "top_mm", "left_mm",
                                                          "type_width_mm", "type_height_mm")))


# What `page_number.indent_chars` counts (7.5 “空一字” does not say which size the character is):
# a character of the body grid (三号 at the grid's pitch, what the tools surveyed use) or one of
# the page number's own size (四号).
INDENT_CHARS = {"body": "正文的三号字，按版心每行字数", "number": "页码的四号字"}


@dataclass(frozen=True)
class PageNumberPlace:
    """Where “— N —” goes on a page (7.5): flush to `side` of the type area ("right" on odd pages,
    "left" on even ones), `indent` in from that edge; the top of the dashes' em box `below` the
    type area's bottom edge; set in `size`."""

    side: str
    indent: Length
    below: Length
    size: Length


def indent_char_problem(value: Any) -> str | None:
    """The Chinese message for a `page_number.indent_char` that is none of INDENT_CHARS."""
    if value in INDENT_CHARS:
        return None
    return ("page_number.indent_char：页码缩进的“字”应为 " + " 或 ".join(f"{k}（{v}）" for k, v in INDENT_CHARS.items())
            + f"，而不是“{value}”。")


# 7.5 lets a 版记 page go unnumbered when blank pages stand before it; the renderers leave no
# blank page, so a 版记 that misses the body's last page stands on the next one, numbered in
# order by the standard's letter. Some bureaus take every 版记 page out of the numbering.
IMPRINT_PAGE = {"numbered": "照常编页码（7.5：版记页前有空白页的才可不编）", "unnumbered": "不编页码"}


def imprint_page_problem(value: Any) -> str | None:
    """The Chinese message for a `page_number.imprint_page` that is none of IMPRINT_PAGE."""
    if value in IMPRINT_PAGE:
        return None
    return ("page_number.imprint_page：版记单独成页时的页码应为 " + " 或 ".join(f"{k}（{v}）" for k, v in IMPRINT_PAGE.items())
            + f"，而不是“{value}”。")


def imprint_page_numbered(layout: Mapping[str, Any]) -> bool:
    """Whether a page holding only the 版记 (gongwen/fit.ending) carries its number."""
    value = layout["page_number"].get("imprint_page", "numbered")
    if problem := imprint_page_problem(value):
        raise ValueError(problem)
    return value == "numbered"


def page_number_indent(layout: Mapping[str, Any]) -> Length:
    """“空一字”: `indent_chars` characters of the kind `indent_char` names (INDENT_CHARS)."""
    numbers = layout["page_number"]
    unit = numbers.get("indent_char", "body")
    if problem := indent_char_problem(unit):
        raise ValueError(problem)
    char = char_pitch(layout) if unit == "body" else Length(float(layout["sizes"]["page_number_pt"]))
    return char * float(numbers["indent_chars"])


def page_number_place(layout: Mapping[str, Any], page: int) -> PageNumberPlace:
    """The page number's place on page `page` (1-based): odd pages right, even pages left."""
    return PageNumberPlace("right" if page % 2 else "left", page_number_indent(layout),
                           Length.mm(float(layout["page_number"]["offset_mm"])),
                           Length(float(layout["sizes"]["page_number_pt"])))


def page_numbered(page: int, letter: bool) -> bool:
    """Whether page `page` carries a number: all do, but page 1 of a 信函 (10.1). (A page holding
    only the 版记 follows `imprint_page_numbered`: gongwen/fit.ending puts it there, each renderer
    applies it.)"""
    return not (letter and page == 1)


def imprint_bottom(layout: Mapping[str, Any]) -> Length:
    """The bottom of the 版记, from the page's top edge: its last rule on the bottom edge of the
    type area of the last page (7.4); a 信函's 版记, without rules, at the very bottom of the type
    area (10.1)."""
    return page_box(layout).type_bottom


def imprint_rules(layout: Mapping[str, Any]) -> tuple[Length, Length]:
    """The 版记's rules (7.4): (thick, thin) — the first and last thick, those between thin."""
    imprint = layout["imprint"]
    return Length(float(imprint["thick_pt"])), Length(float(imprint["thin_pt"]))


__all__ = ["BASELINE_RATIO", "EM_ASCENT", "EM_DESCENT", "INDENT_CHARS", "MARK_ROW_EM", "PT_PER_MM", "Length", "LetterHead", "MarkLayout", "MarkPiece", "NameSlot", "PageBox",
           "PageNumberPlace", "Stroke", "baseline_in_line", "body_size", "char_pitch", "IMPRINT_PAGE", "imprint_bottom", "imprint_page_numbered", "imprint_page_problem", "imprint_rules", "indent_char_problem", "joint_row_blank_lines",
           "joint_signature_rows", "joint_suffix_gap_chars", "letter_double_gap", "letter_first_gap", "letter_head", "letter_lines",
           "em_top_in_line", "line_pitch", "mark_em_bottom", "mark_layout", "mark_size", "mark_top", "nominal_line_top", "number_em_top", "page_box",
           "page_number_indent", "page_number_place", "page_numbered", "rule_gap", "rule_thickness", "seal_rise",
           "signature_gap_lines", "star_break", "star_size", "title_top"]
