"""Where Calc, Excel and WPS start a printed page of an xlsx form: manual row breaks.

A sheet printed one page wide is cut by the office suite wherever a page is full, which slices a
merged label (产出指标 over six rows) in half and may leave the notes and the 填报人 line alone on
a last page. The breaks are chosen here instead, from the rows' heights as the xlsx states them:

* a page is never cut inside a vertically merged area (a row group) that fits on a page;
  one taller than a page (绩效指标 down a whole block) is cut between its inner groups;
* on a sheet without print titles (a declaration's two indicator blocks), a page that would end
  inside an indicator block (Sheet.captions) starts that block instead when the block, from its
  captions, fits on the next page, so the block prints under its own captions;
* an indicator block's captions stay with its first row (a page never ends on them: Calc and
  Gnumeric start the next page with the caption rows once, not twice, when they are its print
  titles);
* the notes stay with the table's last group.

Heights are estimated as the xlsx states them (rows without a height are one 15 pt line) and the
fit-to-width scale from the columns' widths as Excel and WPS lay them out: a width counts digits
of the default face (Calibri 11 pt, 7 px at 96 dpi) with the cell's padding already in it
(ECMA-376 Part 1, 18.3.1.13: pixels = Truncate(((256 × width + Truncate(128 / 7)) / 256) × 7)).
That is the narrowest of the engines (Calc takes a wider digit, so its sheet prints smaller and
its pages hold more rows; Gnumeric takes Excel's), so a page that holds its rows here holds them
in every engine; rows shorter than the estimate only leave a page less full.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

A4_PT = (595.0, 842.0)
MARGINS_PT = (2 * 0.79 * 72, 2 * 0.98 * 72)  # left + right, top + bottom (xlsx_parts.MARGINS)
DEFAULT_ROW_PT = 15.0
SAFETY = 1.0


DIGIT_PX = 7  # Calibri 11 pt's widest digit at 96 dpi
PT_PER_PX = 0.75


def column_pt(width: float) -> float:
    """The printed width of a column `width` units wide, as Excel lays it out."""
    return math.trunc((256 * width + math.trunc(128 / DIGIT_PX)) / 256 * DIGIT_PX) * PT_PER_PX


def printable_pt(landscape: bool) -> float:
    """The page's width between the margins (points)."""
    return (A4_PT[1] if landscape else A4_PT[0]) - MARGINS_PT[0]


def _scale(widths: Sequence[float], landscape: bool) -> float:
    page_w = printable_pt(landscape)
    table_w = sum(column_pt(w) for w in widths)
    return min(1.0, page_w / table_w) if table_w else 1.0


def row_breaks(heights: Sequence[float | None], widths: Sequence[float], landscape: bool,
               merges: Sequence[tuple[int, int]], captions: Sequence[tuple[int, int]],
               repeat: tuple[int, int] | None, table_end: int) -> list[int]:
    """0-based rows that start a new printed page (after the first). `heights` by 0-based row,
    `merges` as (first, last) 0-based rows of every vertically merged area, `captions` the
    sheet's (first row, count), `repeat` the print titles (0-based first, last) and `table_end`
    the first row of the notes."""
    count = len(heights)
    if not count:
        return []
    scale = _scale(widths, landscape)
    page = ((A4_PT[0] if landscape else A4_PT[1]) - MARGINS_PT[1]) * SAFETY / scale
    pt = [DEFAULT_ROW_PT if h is None else h for h in heights]
    titles = sum(pt[repeat[0]:repeat[1] + 1]) if repeat else 0.0
    # rows a page may not start at: inside a merged area, or a note (kept with the table's end)
    glued = [False] * (count + 1)
    for first, last in merges:
        if sum(pt[first:last + 1]) > page - titles:
            continue  # taller than a page (绩效指标 down a whole block): cut wherever it must be
        for r in range(first + 1, last + 1):
            glued[r] = True
    for r in range(table_end, count):
        glued[r] = True
    # an indicator block's caption rows go with its first row: no page ends on the captions alone
    for first, n in captions:
        for r in range(first + 1, min(first + n + 1, count)):
            glued[r] = True
    starts = sorted(first for first, _n in captions)
    breaks: list[int] = []
    page_start, used = 0, 0.0
    r = 0
    while r < count:
        # the unbreakable run from r
        end = r + 1
        while end < count and glued[end]:
            end += 1
        run = sum(pt[r:end])
        room = page - (titles if page_start > 0 else 0.0)
        if used + run > room and r > page_start:
            cut = r
            block = [s for s in starts if page_start < s < r]
            if block and repeat is None and sum(pt[block[-1]:end]) <= page:
                cut = block[-1]  # the block starts the page under its own captions
            breaks.append(cut)
            page_start, used = cut, sum(pt[cut:r])
        used += run
        r = end
    return breaks
