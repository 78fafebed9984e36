"""Positions both 公文 renderers share, computed once, in typed lengths, from settings["layout"].

The docx and PDF renderers place text in their engines' own line boxes (Word and LibreOffice put
a glyph's baseline at 80 % of an exact line, weasyprint centres the font's ascent and descent),
so each turns an em-box position into its own line top. What must not differ is the decision
taken from those positions: on which grid line the title starts. Taken from each renderer's own
line tops, a value near half a line rounded one way in the docx and the other in the PDF (the
letter's title sat a line higher in the docx), and the 发文字号 under the mark sat 2 mm lower
(a line's top counted from the mark's line box, which differs by engine). Those positions are
taken here, once, from em boxes (nominally centred in their lines), and both renderers put the
number and the title there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
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


__all__ = ["Length", "PT_PER_MM", "body_size", "line_pitch", "nominal_line_top", "number_em_top", "title_top"]
