"""Lines of text as a printed page sets them, grouped into the column they stand in, to find a
table cell's text broken badly: a caption leaving one character on a line (“实施单/位”) or a
number cut in two (“1,843,216.3/7”, “96.50/%”).

Read from `pdftotext -bbox-layout` (poppler): each line's box and text. A caption is broken when
its last character (for a report's table, with any punctuation closing it) is a line of its own
starting within a line and a half under a line that ends with the characters before it,
overlapping it horizontally; a figure is broken when no printed line holds its text whole.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import NamedTuple

from generators.tables.widths import CLOSING

_LINE = re.compile(r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>', re.S)
_WORD = re.compile(r"<word[^>]*>([^<]*)</word>")
_PAGE = re.compile(r"<page [^>]*>(.*?)</page>", re.S)
CJK = re.compile(r"[\u3400-\u9fff]")


class Line(NamedTuple):
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


def lines(pdf: Path) -> list[Line]:
    html = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    out = []
    for number, page in enumerate(_PAGE.findall(html), start=1):
        for m in _LINE.finditer(page):
            text = "".join(_WORD.findall(m.group(5))).replace("&amp;", "&")
            out.append(Line(number, *(float(m.group(i)) for i in range(1, 5)), text))
    return out


def continuations(found: list[Line]) -> list[tuple[Line, Line]]:
    """(line, the line that continues it in the same cell) for every pair of lines on a page."""
    pairs = []
    by_page: dict[int, list[Line]] = {}
    for line in found:
        by_page.setdefault(line.page, []).append(line)
    for page_lines in by_page.values():
        for upper in page_lines:
            height = upper.y1 - upper.y0
            for lower in page_lines:
                if lower is upper or not 0 < lower.y0 - upper.y0 < 1.6 * height:
                    continue
                overlap = min(upper.x1, lower.x1) - max(upper.x0, lower.x0)
                if overlap > 0.5 * min(upper.x1 - upper.x0, lower.x1 - lower.x0):
                    pairs.append((upper, lower))
    return pairs


def bad_breaks(pdf: Path, captions: set[str], figures: set[str], kinsoku: bool = False) -> list[str]:
    """Every caption of `captions` printed with its last character alone on a line under the
    rest (with `kinsoku`, also with the punctuation closing it, as the reports' tables are
    fitted: generators/gongwen/tables.py), and every figure of `figures` that no printed line
    holds whole, as text."""
    found_lines = lines(pdf)
    found = []
    for upper, lower in continuations(found_lines):
        last = lower.text.rstrip(CLOSING) if kinsoku else lower.text
        if len(last) == 1 and CJK.match(last):
            for caption in captions:
                rest = caption[:-len(lower.text)]
                if caption.endswith(lower.text) and len(rest) > 1 and upper.text.endswith(rest[-2:]):
                    found.append(f"page {upper.page}: {rest}/{lower.text}")
    # (Gnumeric prints a negative number's minus as U+2212 MINUS SIGN)
    printed = "\n".join(line.text for line in found_lines).replace("\u2212", "-")
    found += [f"figure {figure} broken" for figure in sorted(figures) if figure not in printed]
    return found
