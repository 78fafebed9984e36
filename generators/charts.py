"""Server-rendered SVG bar charts for the bureau's dashboard: plain data in, SVG text out.

Every label is XML-escaped here (the page inserts the SVG as markup); the chart carries a <title>
and each bar its value in text, so a screen reader and a printout read the same figures as the
table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from xml.sax.saxutils import escape

BAR_HEIGHT, GAP, LABEL_WIDTH, BAR_WIDTH, VALUE_WIDTH = 22, 8, 170, 300, 90


def bar_chart(title: str, bars: Sequence[tuple[str, Decimal | int | None, str]], maximum: Decimal | int | None = None,
              colour: str = "#c00") -> str:
    """Horizontal bars: (label, value, value as shown). A bar without a value is drawn empty
    with its text (“—”). `maximum` is the full width (default: the largest value)."""
    values = [Decimal(v) for _, v, _ in bars if v is not None]
    top = Decimal(maximum) if maximum is not None else (max(values) if values else Decimal(1))
    top = top if top > 0 else Decimal(1)
    height = len(bars) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}">',
             f"<title>{escape(title)}</title>"]
    for i, (label, value, shown) in enumerate(bars):
        y = GAP + i * (BAR_HEIGHT + GAP)
        length = 0 if value is None else int(min(Decimal(value), top) / top * BAR_WIDTH)
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 16}" text-anchor="end" font-size="13">{escape(label)}</text>')
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="{BAR_WIDTH}" height="{BAR_HEIGHT}" fill="#f3f3f3"/>')
        if length:
            parts.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" fill="{colour}"/>')
        parts.append(f'<text x="{LABEL_WIDTH + BAR_WIDTH + 6}" y="{y + 16}" font-size="13">{escape(shown)}</text>')
    parts.append("</svg>")
    return "".join(parts)
