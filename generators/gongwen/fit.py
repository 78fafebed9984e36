"""Where the 署名 lands on the page, estimated once from the line grid, for both renderers.

GB/T 9704-2012 7.3.5.5: when the seal and the date do not fit in the space left on the page,
adjust the line or character spacing. Neither renderer can take that decision alone and agree
with the other: the docx cannot measure itself (Word, WPS and LibreOffice lay it out), and the
PDF would decide from weasyprint's layout. So the decision is taken here, from the grid both
renderers share (22 lines × 28 characters, geometry.line_pitch) and the lines each paragraph
breaks into, and each renderer only applies it:

* `break_lines` breaks a paragraph as both engines do (a character is one grid cell, ASCII half
  a cell, curly quotes a whole one; a run of ASCII never broken; no closing punctuation at the start of a line and no
  opening one at its end: GB/T 15834 practice, Pango's and LibreOffice's line breaking).
* `ending` flows the document from the title's grid line (`title_line`) through the
  pages — headings kept with their next two lines, two-line widows and orphans after them — to
  the page where the body ends. When the 署名, 成文日期 and 附注 (and the 版记 when it ends
  that page) do not fit there, but would with the lines of that page set at most
  `[signature] tight_pitch_ratio` of the grid pitch closer, it returns that pitch and the first
  block it applies to: both renderers set those blocks in the tighter pitch, and the page holds
  the signature. Otherwise the page is left as it is and the last lines go over with the
  signature (model.Document.keeps_signature / carries_tail); and when only the 版记 misses the
  page, it goes on a page of its own, which carries no page number (7.5).
* `split_tail` cuts a long last paragraph where its last two lines begin: both renderers set
  them as a paragraph of their own kept with the signature, so they go over with it (LibreOffice
  moves a kept paragraph whole, and a paragraph longer than a page cannot be kept at all).

A body with tables or pictures (reports) is not estimated: their heights are not whole lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from generators.gongwen import geometry as shared
from generators.gongwen.geometry import Length
from generators.gongwen.model import Document, Paragraph, mark_size, text_width
from generators.tables.widths import FULL_QUOTES

# Not at the start of a line (closing punctuation, GB/T 15834 and the engines' kinsoku rules) …
NO_START = frozenset("，。、；：？！）》」』”’】〕〉…—～%％,.;:?!)]}·")
# … and not at its end (opening punctuation).
NO_END = frozenset("（《「『“‘【〔〈([{")
# Lines a long last paragraph carries over with the signature (the PDF's widows, the docx's tail).
TAIL_LINES = 2


def _width(text: str) -> float:
    """Width in grid characters as the engines set body text: model.text_width, but curly quotes
    full width, as the CJK faces print them (仿宋 in the PDF, Word's East Asian runs)."""
    return text_width(text) + 0.5 * sum(ch in FULL_QUOTES for ch in text)


def _units(text: str) -> list[str]:
    """Unbreakable pieces: a run of ASCII non-space characters (a number, a Latin word), a space,
    or one other character."""
    units: list[str] = []
    for ch in text:
        if ch.isascii() and not ch.isspace() and units and units[-1][-1:].isascii() and not units[-1].isspace():
            units[-1] += ch
        else:
            units.append(ch)
    return units


def break_lines(text: str, first: float, rest: float) -> list[str]:
    """`text` broken into lines of at most `first` characters (the first line) and `rest` (the
    others), in grid characters (_width)."""
    lines: list[list[str]] = [[]]
    width = 0.0
    for unit in _units(text):
        w = _width(unit)
        room = first if len(lines) == 1 else rest
        if width + w <= room + 1e-9 or not lines[-1]:
            lines[-1].append(unit)
            width += w
            continue
        # Break before `unit`; a closing mark may not start the line, nor an opening one end the
        # previous: move units back over until neither holds.
        carry = [unit]
        line = lines[-1]
        while len(line) > 1 and (carry[0][0] in NO_START or line[-1][-1] in NO_END):
            carry.insert(0, line.pop())
        lines.append(carry)
        width = sum(_width(u) for u in carry)
    return ["".join(line) for line in lines if line]


def paragraph_lines(p: Paragraph, chars: int) -> list[str]:
    """A body paragraph's lines: indented two characters, continuation lines at the margin."""
    return break_lines(p.heading + p.text, chars - 2, chars)


def split_tail(doc: Document) -> tuple[Paragraph, Paragraph] | None:
    """A long last paragraph (model.Document.carries_tail) cut where its last TAIL_LINES lines
    begin: both renderers set the second piece as a paragraph of its own, not indented, kept
    with the signature, so it goes over with the 署名 where the page ends before them."""
    if not doc.carries_tail():
        return None
    last = doc.paragraphs[-1]
    lines = paragraph_lines(last, _chars(doc))
    at = sum(len(line) for line in lines[:-TAIL_LINES])
    h = len(last.heading)
    if at >= h:
        return (Paragraph(last.level, last.heading, last.text[:at - h]), Paragraph(0, "", last.text[at - h:]))
    return (Paragraph(last.level, last.heading[:at], ""), Paragraph(last.level, last.heading[at:], last.text))


def _chars(doc: Document) -> int:
    return int(doc.settings["layout"]["page"]["chars_per_line"])


def title_line(doc: Document) -> int:
    """The grid line the title starts on, counted from the top of the type area: the nominal
    positions of the 版头 (em boxes centred in their lines) snapped by geometry.title_top, as
    both renderers place it."""
    layout = doc.settings["layout"]
    line = shared.line_pitch(layout)
    if doc.plain:
        return 0
    body = shared.body_size(layout)
    size = mark_size(doc)
    rows = len(doc.mark_names)
    if doc.format == "letter":
        em_bottom = shared.mark_em_bottom(shared.mark_top(layout, letter=True), size, rows)
        return round(shared.letter_head(layout, em_bottom, len(doc.header_lines)).title_top.pt / line.pt)
    top = max(shared.mark_top(layout, letter=False), line * len(doc.header_lines))
    number = shared.number_em_top(layout, shared.mark_em_bottom(top, size, rows))
    signer_lines = math.ceil(len(doc.signers) / 2) if doc.direction == "upward" and doc.signers else 1
    below = number + line * (signer_lines - 1) + body + shared.rule_gap(layout) + shared.rule_thickness(layout)
    return round(shared.title_top(layout, below).pt / line.pt)


@dataclass(frozen=True)
class Block:
    """A piece of the flow: `lines` grid lines, kept with the next block's first lines, with
    `orphans`/`widows` lines at least at a page's foot and head."""

    lines: int
    keep_next: bool = False
    orphans: int = 1
    widows: int = 1


@dataclass(frozen=True)
class Fit:
    """The decision both renderers apply: from body block `first` (an index into
    doc.paragraphs; len(doc.paragraphs) for only the 附件说明 and the signature) to the end of
    the signature, lines are `pitch` apart instead of the grid's."""

    pitch: Length
    first: int


def imprint_height(doc: Document) -> Length:
    """The 版记's height at the foot of the last page: its rows (抄送 wrapping after “抄送：”,
    印发机关 and 印发日期 on one) a grid line each, and its rules."""
    layout = doc.settings["layout"]
    imp = doc.imprint
    if imp.empty:
        return Length(0)
    line = shared.line_pitch(layout)
    size = float(layout["sizes"]["imprint_pt"])
    # One character in from each side, in characters of the 版记's size.
    chars = (Length.mm(float(layout["page"]["type_width_mm"])).pt - 2 * size) / size
    rows = len(break_lines(imp.cc, chars, chars - text_width("抄送："))) if imp.cc else 0
    rows += 1 if (imp.printed_by or imp.printed_on) else 0
    if doc.format == "letter":
        return line * rows
    thick, thin = shared.imprint_rules(layout)
    return line * rows + thick * 2 + thin * (rows - 1)


def _body_blocks(doc: Document, chars: int) -> list[Block] | None:
    out: list[Block] = []
    previous = None
    for p in doc.paragraphs:
        if not isinstance(p, Paragraph):
            return None
        after_heading = isinstance(previous, Paragraph) and previous.keeps_with_next(chars)
        n = len(paragraph_lines(p, chars))
        out.append(Block(n, keep_next=p.keeps_with_next(chars), orphans=2 if after_heading else 1,
                         widows=2 if after_heading else 1))
        previous = p
    return out


def _first_part(b: Block) -> int:
    """The fewest lines of a block a page can end with: its orphans, or all of it when it is too
    short to leave both its orphans and its widows."""
    return b.lines if b.lines < b.orphans + b.widows else b.orphans


def _place(blocks: list[Block], first_page: int, capacity: int) -> list[tuple[int, int, int, int]]:
    """Each block's first line and the line after its last as (page, line, page, line), pages
    from 0, lines from 0; pages broken as both renderers break them for headings and the lines
    after them."""
    out: list[tuple[int, int, int, int]] = []
    page, used = 0, first_page
    for i, b in enumerate(blocks):
        room = capacity - used
        # A heading kept with the next block's first lines (orphans) when they do not fit, through
        # a run of headings each kept with the next.
        need, j = b.lines, i
        while blocks[j].keep_next and j + 1 < len(blocks):
            j += 1
            need += blocks[j].lines if blocks[j].keep_next else _first_part(blocks[j])
        if room <= 0 or (b.keep_next and room < need <= capacity) or room < min(_first_part(b), capacity):
            page, used = page + 1, 0
        start = (page, used)
        left = b.lines
        while used + left > capacity:
            fits = capacity - used
            if left - fits < b.widows:  # too few lines for the next page: carry more over
                fits = max(left - b.widows, 0)
            left -= fits
            page, used = page + 1, 0
        used += left
        out.append((*start, page, used))
    return out


@dataclass(frozen=True)
class Ending:
    """How the body's last page ends, decided once for both renderers: `fit` the closer pitch of
    its last blocks (or None), `imprint_page` whether the 版记 goes on a page of its own (the
    signature fits on the body's last page, the 版记 not even with the closer pitch): that page
    carries no number (7.5), and both renderers break the page before it."""

    fit: Fit | None = None
    imprint_page: bool = False


def ending(doc: Document) -> Ending:
    """The Ending of a document (module doc); nothing changed when it cannot be estimated."""
    if not doc.signature or not doc.paragraphs:
        return Ending()
    layout = doc.settings["layout"]
    chars = _chars(doc)
    capacity = int(layout["page"]["lines_per_page"])
    line = shared.line_pitch(layout)
    flow = _body_blocks(doc, chars)
    if flow is None:
        return Ending()
    # Page 1: the title, its note, a blank line, the 主送机关 — then the body.
    head = len(doc.title_lines) + (len(break_lines(doc.title_note, chars, chars)) if doc.title_note else 0) + 1
    if doc.addressees:
        head += len(break_lines(doc.addressees, chars, chars))
    note = len(_note_lines(doc, chars))
    if note:
        flow.append(Block(1 + note))  # a blank line, then the 附件说明
    placed = _place(flow, title_line(doc) + head, capacity)
    _, _, page, end = placed[-1]
    signature = shared.signature_gap_lines(layout, doc.sealed) + sum(1 + s.blank_before for s in doc.signature)
    if doc.annotation:
        signature += len(break_lines(doc.annotation, chars - 2, chars))
    imprint = Length(0) if doc.attachments else imprint_height(doc)
    area = Length.mm(float(layout["page"]["type_height_mm"]))
    if end + signature <= math.floor(((area - imprint).pt + 1e-6) / line.pt):
        return Ending()  # fits as set
    # The blocks that start on the page where the body ends are set closer; the lines of a
    # block begun on the page before stay on the grid.
    first = next((i for i, (p, *_) in enumerate(placed) if p == page), len(flow))
    kept = placed[first][1] if first < len(flow) else end
    # A line to spare above the 版记, as a page set on the grid leaves (LibreOffice moves the
    # 版记 to a page of its own when less is left above it: 26 pt did, 27 pt did not); else a
    # point, as the renderers' own line pitches differ from the grid's by hundredths.
    room = area - imprint - line * kept - (line if imprint.pt else Length(1.0))
    pitch = Length.twip(math.floor(room.twips / (end - kept + signature)))
    if pitch.pt >= line.pt * float(layout["signature"]["tight_pitch_ratio"]):
        return Ending(Fit(pitch, min(first, len(doc.paragraphs))))
    # Too far for the closer pitch: the last lines go over with the signature (and the 版记
    # with them), unless the signature itself fits as set: then only the 版记 goes over.
    return Ending(imprint_page=bool(imprint.pt) and end + signature <= capacity)


def _note_lines(doc: Document, chars: int) -> list[str]:
    label = text_width("附件：")
    out: list[str] = []
    for text in doc.attachment_note:
        out += break_lines(text[3:] if text.startswith("附件：") else text, chars - 2 - label, chars - 2 - label)
    return out


__all__ = ["Fit", "NO_END", "NO_START", "TAIL_LINES", "break_lines", "imprint_height", "paragraph_lines",
           "Ending", "ending", "split_tail", "title_line"]
