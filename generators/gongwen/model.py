"""The GB/T 9704-2012 layout model of an official document (公文).

`build(data, settings)` turns the validated plain data of any 公文 kind (request, report, opinion,
notice, letter) into a `Document`: the elements of the three zones in reading order, with every
decision the standard makes already taken (which elements exist, heading levels and their faces,
title line breaks, signature and date placement in characters, the 附件说明 wording, the imprint).
The docx and PDF renderers only turn this model into geometry; they never re-decide content.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import jieba  # Chinese word segmentation (its dictionary loads on the first title that is broken)

from generators.gongwen.geometry import (
    Length,
    MarkLayout,
    NameSlot,
    joint_row_blank_lines,
    joint_signature_rows,
    page_numbered,
)
from generators.gongwen.geometry import mark_layout as geometry_mark_layout
from generators.gongwen.geometry import mark_size as geometry_mark_size
from rules.formatting import chinese_date

jieba.setLogLevel(logging.WARNING)  # not its “Building prefix dict …” lines on stderr

# The named destination the PDF renderer puts on the 成文日期 of a sealed document, where the
# signing step finds it to place the seals (generators/gongwen/seal.py).
DATE_ANCHOR = "jxdoc-date"


def name_anchor(organ: int) -> str:
    """The named destination on organ `organ`'s name in a joint sealed 落款 (its end: + "-end")."""
    return f"{DATE_ANCHOR}-organ{organ}"


# Faces named by role; settings["layout"]["fonts"] maps each role to the official font name.
XIAOBIAOSONG, FANGSONG, HEITI, KAITI, SONGTI = "xiaobiaosong", "fangsong", "heiti", "kaiti", "songti"

# Heading numbering of 7.3.3: 一、 → （一） → 1. → （1）, faces 黑体, 楷体, 仿宋, 仿宋.
HEADING_PATTERNS = (
    (1, re.compile(r"^[一二三四五六七八九十百]+、")),
    (2, re.compile(r"^（[一二三四五六七八九十百]+）")),
    (3, re.compile(r"^\d+[.．](?!\d)")),
    (4, re.compile(r"^（\d+）")),
)
HEADING_FACES = {0: FANGSONG, 1: HEITI, 2: KAITI, 3: FANGSONG, 4: FANGSONG}

# Where a long title may break, best first: after these strings …
_BREAK_AFTER = ("关于", "》", "、", "和", "及", "与", "年度", "年")
# … or before these.
_BREAK_BEFORE = ("《", "的", "工作", "有关", "情况")


@dataclass(frozen=True)
class Paragraph:
    """A body paragraph. `heading` is the numbered lead-in set in the level's face; `text` follows
    in 仿宋. Level 0 is ordinary text. Every paragraph is indented two characters (7.3.3)."""

    level: int
    heading: str
    text: str
    # False for a heading with no content of its own: the next paragraph is a heading of its
    # level or above (one-line items numbered （一）（二）…), so it is not kept with it.
    has_content: bool = True

    @property
    def heading_face(self) -> str:
        return HEADING_FACES[self.level]

    def lines(self, chars_per_line: int) -> int:
        """Lines the paragraph takes on the body grid (two characters of indent)."""
        return max(1, math.ceil((2 + text_width(self.heading + self.text)) / chars_per_line))

    def keeps_with_next(self, chars_per_line: int) -> bool:
        """A heading on one line of its own, which both renderers keep with the paragraph after
        it (a whole sentence set as a heading is text: a chain of those kept together would
        move half a page). Indented two characters, as every paragraph."""
        return bool(self.heading and not self.text and self.has_content
                    and text_width(self.heading) + 2 <= chars_per_line)


@dataclass(frozen=True)
class TableBlock:
    """A table in the body (reports): a grid.Sheet laid out full type-area width, with an optional
    caption above it (表1 …). Only the sheet's cells are drawn; its title rows and print settings
    are for standalone forms and are ignored here."""

    sheet: Any  # generators.grid.Sheet
    caption: str = ""


@dataclass(frozen=True)
class ImageBlock:
    """A picture in the body (a chart): PNG bytes centred at `width_mm`, caption below it."""

    png: bytes = field(repr=False)
    width_mm: float
    caption: str = ""


Block = Paragraph | TableBlock | ImageBlock

# The last paragraph (or the 附件说明) goes with the 署名 and 成文日期 onto the next page, so they
# are never alone there (7.3.5), when it is at most this many lines long. A longer one is not
# moved whole: its last two lines go, set as a paragraph of their own (gongwen/fit.split_tail).
# (Both only where the closer lines of 7.3.5.5 cannot keep the signature on the page: fit.ending.)
SIGNATURE_KEEP_LINES = 4



@dataclass(frozen=True)
class AttachmentPage:
    """An attachment bound with the document (7.3.7): new page, 附件N in 黑体 on line 1, the
    title centred on line 3, then body paragraphs."""

    label: str  # "附件" or "附件2"
    title_lines: tuple[str, ...]
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True)
class SignatureLine:
    """A line of the 署名/日期 block placed by its right indent, in characters."""

    text: str
    right_chars: float
    # A row of organ names of a joint sealed 落款, each centred on its own seal (geometry.NameSlot);
    # `text` is then the names in order and `right_chars` unused.
    slots: tuple[NameSlot, ...] = ()
    blank_before: int = 0  # blank grid lines above the line (between rows of joint names)


@dataclass(frozen=True)
class Imprint:
    cc: str  # "抄送：A，B。" or ""
    printed_by: str
    printed_on: str  # "2024年7月1日印发" or ""

    @property
    def empty(self) -> bool:
        return not (self.cc or self.printed_by or self.printed_on)


@dataclass(frozen=True)
class Document:
    kind: str
    format: str  # "file" (文件格式) or "letter" (信函格式)
    direction: str  # "upward", "downward", "parallel"
    # 版头
    header_lines: tuple[str, ...]  # 份号, 密级和保密期限, 紧急程度 in that order, as present
    mark_names: tuple[str, ...]  # stacked organ names of the 发文机关标志
    mark_suffix: str  # "文件" to the right of the names, or ""
    doc_number: str
    signers: tuple[str, ...]  # 签发人 names (upward documents)
    party_star: bool
    # 主体
    title_lines: tuple[str, ...]
    title_note: str  # 题注 under the title, with its brackets, or ""
    addressees: str  # "县委、县政府：" or ""
    paragraphs: tuple[Block, ...]  # Paragraph, and in reports also TableBlock / ImageBlock
    attachment_note: tuple[str, ...]  # 附件说明 lines, first starts with "附件："
    sealed: bool
    signature: tuple[SignatureLine, ...]  # names then the date
    annotation: str  # 附注 with its brackets, or ""
    attachments: tuple[AttachmentPage, ...]
    # 版记
    imprint: Imprint
    settings: Mapping[str, Any] = field(repr=False, default_factory=dict)
    # A plain document (a report a unit files as an attachment) has no 版头 and no 版记: the title
    # starts the first page; the body, signature and page numbers are laid out as usual.
    plain: bool = False
    organs: tuple[str, ...] = ()  # the organs that sign (署名): one seal each when sealed
    date: str = ""  # 成文日期, ISO
    # Seal images (PNG) of the organs in `organs`' order, for a docx printed and stamped by an
    # office that has none: drawn over each 署名 (7.3.5.1). Given by the caller, never by the data.
    seal_images: tuple[bytes, ...] = ()

    def keeps_signature(self) -> bool:
        """Whether the block before the signature (the 附件说明, or the last paragraph) is kept
        whole with it; both renderers ask."""
        if not self.signature:
            return False
        if self.attachment_note:
            return len(self.attachment_note) <= SIGNATURE_KEEP_LINES
        last = self.paragraphs[-1] if self.paragraphs else None
        chars = int(self.settings["layout"]["page"]["chars_per_line"])
        return isinstance(last, Paragraph) and last.lines(chars) <= SIGNATURE_KEEP_LINES

    def carries_tail(self) -> bool:
        """Whether the last paragraph is too long to be kept whole with the signature, and its last
        lines are carried over with it instead (7.3.5.5: never the 署名 and date alone on a page):
        both renderers set them as a paragraph of their own kept with it (gongwen/fit.split_tail),
        which LibreOffice, Word and the PDF all move with the signature."""
        if not self.signature or self.attachment_note or not self.paragraphs:
            return False
        last = self.paragraphs[-1]
        chars = int(self.settings["layout"]["page"]["chars_per_line"])
        return isinstance(last, Paragraph) and last.lines(chars) > SIGNATURE_KEEP_LINES

    @property
    def page_number_on_first_page(self) -> bool:
        return page_numbered(1, letter=self.format == "letter")  # 10.1: none on a letter's page 1


def mark_size(doc: Document) -> Length:
    """The 发文机关标志's size for this document's names (geometry.mark_size), for both renderers."""
    names = doc.mark_names or ("",)
    suffix = text_width(doc.mark_suffix) if doc.mark_suffix else 0.0
    return geometry_mark_size(doc.settings["layout"], [text_width(n) for n in names], suffix)


def mark_layout(doc: Document) -> MarkLayout:
    """The 发文机关标志 of this document laid out (geometry.mark_layout), for both renderers."""
    suffix = (doc.mark_suffix, text_width(doc.mark_suffix)) if doc.mark_suffix else ("", 0.0)
    return geometry_mark_layout(doc.settings["layout"], [(n, text_width(n)) for n in doc.mark_names or ("",)], suffix)


def text_width(text: str) -> float:
    """Width in characters of the body face: CJK and full-width count 1, ASCII counts ½."""
    width = 0.0
    for ch in text:
        width += 1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.5
    return width


def parse_body(text: str) -> tuple[Paragraph, ...]:
    """Split body text into paragraphs (one per non-empty line) and detect heading levels.

    A level-1 or level-2 heading that runs on into text ("（一）加强组织领导。各单位要……") keeps
    only the lead-in up to the first full stop in the heading face, as filed documents do.
    """
    paragraphs = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        level = 0
        for lvl, pattern in HEADING_PATTERNS:
            if pattern.match(line):
                level = lvl
                break
        heading, rest = "", line
        if level in (3, 4):  # same face as the text: nothing to split
            heading, rest = "", line
        elif level:
            stop = line.find("。")
            if 0 <= stop < len(line) - 1:
                heading, rest = line[: stop + 1], line[stop + 1 :]
            else:
                heading, rest = line, ""
        paragraphs.append(Paragraph(level, heading, rest))
    # A heading followed by a heading of its level or above has no content to be kept with.
    for i, (p, after) in enumerate(zip(paragraphs, paragraphs[1:], strict=False)):
        if p.heading and not p.text and after.level in range(1, p.level + 1):
            paragraphs[i] = replace(p, has_content=False)
    return tuple(paragraphs)


def _break_score(title: str, pos: int) -> int:
    """How good a break before index `pos` is: higher is better, 0 is a bare character break."""
    before, after = title[:pos], title[pos:]
    for rank, token in enumerate(_BREAK_AFTER):
        if before.endswith(token):
            return 20 - rank
    for rank, token in enumerate(_BREAK_BEFORE):
        if after.startswith(token):
            return 10 - rank
    return 0


@lru_cache(maxsize=1024)
def word_boundaries(text: str) -> frozenset[int]:
    """Indexes where a word of `text` ends (jieba's segmentation): 7.3.1 breaks a title only
    between words (词意完整), never inside one (“全/面推进”)."""
    ends, at = set(), 0
    for word in jieba.lcut(text, HMM=True):
        at += len(word)
        ends.add(at)
    return frozenset(ends)


# A break inside a word is taken only when no break between words fits the lines.
_INSIDE_WORD = 1000


def break_title(title: str, max_chars: int) -> tuple[str, ...]:
    """Break a long title at meaningful points into lines of near-equal length (7.3.1: keep the
    lines symmetric, trapezoid or diamond, and words whole). Explicit line breaks typed by the
    user win."""
    if "\n" in title:
        return tuple(line.strip() for line in title.splitlines() if line.strip())
    if text_width(title) <= max_chars:
        return (title,)
    count = math.ceil(text_width(title) / max_chars)
    lines, rest = [], title
    for remaining in range(count, 1, -1):
        boundaries = word_boundaries(rest)
        ideal = text_width(rest) / remaining
        best, best_cost = None, None
        for pos in range(1, len(rest)):
            head = text_width(rest[:pos])
            if head > max_chars or text_width(rest[pos:]) > max_chars * (remaining - 1):
                continue
            cost = abs(head - ideal) * 4 - _break_score(rest, pos)
            if pos not in boundaries:
                cost += _INSIDE_WORD
            if best_cost is None or cost < best_cost:
                best, best_cost = pos, cost
        if best is None:  # cannot fit: fall back to a hard break
            best = max_chars
        lines.append(rest[:best])
        rest = rest[best:]
    lines.append(rest)
    return tuple(lines)


def attachment_note(attachments: list[Mapping[str, Any]]) -> tuple[str, ...]:
    """附件说明 (7.3.4): “附件：名称”, or numbered “附件：1.名称” with the rest aligned under the
    first name (the renderer hangs them by the width of “附件：”). No punctuation after names."""
    names = [a["name"].rstrip("。，；,.;") for a in attachments]
    if not names:
        return ()
    if len(names) == 1:
        return (f"附件：{names[0]}",)
    return tuple(("附件：" if i == 0 else "") + f"{i + 1}.{name}" for i, name in enumerate(names))


def signature_lines(
    names: list[str], date_text: str, sealed: bool, settings: Mapping[str, Any]
) -> tuple[SignatureLine, ...]:
    """Place 署名 and 成文日期 by right indents in characters (7.3.5.1 and 7.3.5.2)."""
    sig = settings["layout"]["signature"]
    date_w = text_width(date_text)
    lines: list[SignatureLine] = []
    if sealed and len(names) > 1:
        # Joint (7.3.5.1): the names side by side, each under its own seal, the last over the date.
        date_right = float(sig["sealed_date_right_chars"])
        seal = settings["signing"]["seal"]
        rows = joint_signature_rows(settings["layout"], seal, [(n, text_width(n)) for n in names],
                                    date_right + date_w / 2)
        gap = joint_row_blank_lines(settings["layout"], seal)
        for i, row in enumerate(rows):
            lines.append(SignatureLine("".join(s.text for s in row), 0.0, row, gap if i else 0))
        lines.append(SignatureLine(date_text, date_right))
        return tuple(lines)
    if sealed:
        # The date sits 4 characters from the right; the name is centred over the date.
        date_right = float(sig["sealed_date_right_chars"])
        for name in names:
            offset = (date_w - text_width(name)) / 2
            lines.append(SignatureLine(name, max(date_right + offset, 0.0)))
        lines.append(SignatureLine(date_text, date_right))
        return tuple(lines)
    # Unsealed: the name 2 characters from the right, the date starting 2 characters right of the
    # name's first character; when the date is the longer, it is the date that sits 2 from the
    # right and the name moves in.
    name_right = float(sig["unsealed_name_right_chars"])
    widest = max((text_width(n) for n in names), default=0.0)
    date_right = name_right + widest - 2 - date_w
    if date_right < name_right:
        date_right = name_right
        name_right = date_right + date_w + 2 - widest
    for name in names:
        lines.append(SignatureLine(name, name_right + widest - text_width(name)))
    lines.append(SignatureLine(date_text, date_right))
    return tuple(lines)


def signing_organs(data: Mapping[str, Any]) -> list[str]:
    """The organs named in the 署名 (the issuers unless a signature is given), in order: each
    seals a sealed document."""
    return list(data.get("signature") or [data["issuer"], *data.get("joint_issuers", [])])


def _join_organs(organs: list[str]) -> str:
    return "、".join(o.strip() for o in organs if o.strip())


def _max_title_chars(settings: Mapping[str, Any]) -> int:
    layout = settings["layout"]
    configured = int(layout["title"]["max_line_chars"])
    if configured:
        return configured
    width_pt = layout["page"]["type_width_mm"] / 25.4 * 72
    return int(width_pt // layout["sizes"]["title_pt"])


def build(kind: str, data: Mapping[str, Any], settings: Mapping[str, Any]) -> Document:
    """The layout model of a validated 公文. `data` is the output of forms.official schemas."""
    fmt = data.get("format", "file")
    header = [data.get("copy_number") or "", data.get("classification") or "", data.get("urgency") or ""]
    issuers = [data["issuer"], *data.get("joint_issuers", [])]
    mark_names = tuple(n for n in (data.get("issuer_mark") or "").splitlines() if n.strip()) or tuple(issuers)
    if fmt == "letter":  # 10.1: a joint letter carries only the lead organ's mark
        mark_names = mark_names[:1]
    mark_suffix = "" if fmt == "letter" else data.get("mark_suffix", "文件")
    attachments = list(data.get("attachments", []))
    date_text = chinese_date(data["date"])
    signature_names = signing_organs(data)
    annotation = (data.get("annotation") or "").strip()
    if annotation and not annotation.startswith("（"):
        annotation = f"（{annotation}）"
    title_note = (data.get("title_note") or "").strip()
    if title_note and not title_note.startswith("（"):
        title_note = f"（{title_note}）"
    imprint_data = data.get("imprint") or {}
    cc = _join_organs(imprint_data.get("cc", []))
    printed_on = imprint_data.get("printed_on")
    if fmt == "letter":  # 10.1: a letter's 版记 has no 印发机关 and 印发日期
        printed_by, printed_text = "", ""
    else:
        printed_by = imprint_data.get("printed_by") or ""
        printed_text = f"{chinese_date(printed_on)}印发" if isinstance(printed_on, _dt.date) else ""
    # No 落款 (a 题注 gives the date): no 署名, no 成文日期, so no seal either (the schema checks).
    omitted = bool(data.get("no_signature"))
    sealed = bool(data.get("seal", True)) and not omitted
    pages = []
    numbered = len(attachments) > 1
    for i, att in enumerate(attachments):
        body = (att.get("body") or "").strip()
        if not body:
            continue
        pages.append(
            AttachmentPage(
                label=f"附件{i + 1}" if numbered else "附件",
                title_lines=break_title(att.get("title") or att["name"], _max_title_chars(settings)),
                paragraphs=parse_body(body),
            )
        )
    return Document(
        kind=kind,
        format=fmt,
        direction=data.get("direction", "downward"),
        header_lines=tuple(h for h in header if h),
        mark_names=mark_names,
        mark_suffix=mark_suffix,
        doc_number=data.get("doc_number") or "",
        signers=tuple(data.get("signers", [])) if data.get("direction") == "upward" else (),
        party_star=bool(data.get("party_style")),
        title_lines=break_title(data["title"], _max_title_chars(settings)),
        title_note=title_note,
        addressees=(_join_organs(data.get("addressees", [])) + "：") if data.get("addressees") else "",
        paragraphs=parse_body(data["body"]),
        attachment_note=attachment_note(attachments),
        sealed=sealed,
        signature=() if omitted else signature_lines(signature_names, date_text, sealed, settings),
        annotation=annotation,
        attachments=tuple(pages),
        imprint=Imprint(cc=f"抄送：{cc}。" if cc else "", printed_by=printed_by, printed_on=printed_text),
        settings=settings,
        organs=() if omitted else tuple(signature_names),
        date=data["date"].isoformat() if isinstance(data["date"], _dt.date) else str(data["date"]),
    )
