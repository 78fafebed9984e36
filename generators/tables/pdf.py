"""PDF rendering of the table-grid model: HTML (Jinja, autoescaped) → weasyprint.

Each Sheet becomes a <section> on its own pages, A4 portrait or landscape (named pages), with
its title rows as a borderless table over the same columns, its header rows as the table's
<thead> (weasyprint repeats a thead at the top of every page the table runs onto), the body rows
with rowspan/colspan exactly as the grid, the notes under the table and “— N —” page numbers.

The column captions of an indicator block inside the table (Sheet.captions) start a new table
there, with those rows as its <thead>, so every page of the indicators has its captions. HTML
cannot let a rowspan cross from <thead> into <tbody> or from one table into the next, so a cell
whose span crosses such an edge is cut there and continued by an empty cell with no top border:
the printed area looks merged and the columns stay aligned.

Rendering goes through generators/pdf.py: its URL fetcher serves only bundled assets, its font
configuration maps the official face names onto the shipped open fonts, and the stylesheet is
compiled once per font set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from generators import pdf as pdfkit
from generators.grid import Sheet, Workbook
from generators.tables import cell_align, cell_text, edges, layout, parts
from generators.tables.widths import fitted_widths

TEMPLATE_DIR = pdfkit.TEMPLATES_DIR / "official" / "tables"

DEFAULT_FONTS = {
    "xiaobiaosong": "方正小标宋简体",
    "fangsong": "仿宋_GB2312",
    "heiti": "黑体",
    "kaiti": "楷体_GB2312",
    "songti": "宋体",
}

ALIGN_CLASS = {"left": "l", "center": "c", "right": "r"}
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _family(name: Any) -> str:
    """A font family name as a CSS string (settings values never reach CSS unquoted)."""
    text = re.sub(r"[\x00-\x1f\\\"{};<>]", "", str(name)).strip()
    return f'"{text}"'


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, auto_reload=False)


@lru_cache(maxsize=1)
def _html_template():
    return _environment().get_template("table.html")


@lru_cache(maxsize=16)
def _stylesheet(font_key: tuple[tuple[str, str], ...]):
    fonts = {role: _family(name) for role, name in font_key}
    # CSS, not HTML: the only values are font names, quoted and cleaned by _family
    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=False, undefined=StrictUndefined)  # noqa: S701
    css = env.get_template("table.css").render(fonts=fonts)
    return pdfkit.compile_css(css, TEMPLATE_DIR)


def _text(value: str) -> str:
    return _ILLEGAL.sub("", value)


def _sheet_context(sheet: Sheet) -> dict[str, Any]:
    titles, grids = sheet_rows(sheet)
    widths = fitted_widths(sheet)
    total = sum(widths)
    return {
        "landscape": sheet.landscape,
        "widths": [f"{100 * w / total:.3f}" for w in widths],
        "titles": titles,
        "grids": grids,
        "notes": [_text(note) for note in sheet.notes],
    }


def sheet_rows(sheet: Sheet) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The title rows, and the table as one grid per part ({"head": rows, "body": rows}), each
    row {"cells": [{tag, colspan, rowspan, cls, text}], "height"}: every HTML table of the grid
    model (this module's, the disclosure's) repeats each part's captions on every page."""
    placed, height = layout(sheet)
    title_end = min(sheet.title_rows, height)
    bounds = edges(sheet, height)
    rows: list[list[tuple[int, dict[str, Any]]]] = [[] for _ in range(height)]

    def group_end(r: int) -> int:
        return next(b for b in bounds if b > r)

    for r, c, cell in placed:
        kind = cell.kind
        in_titles = r < title_end
        cls = [ALIGN_CLASS[cell_align(cell)]]
        if in_titles:
            cls.append("title" if kind == "title" else "subtitle")
        if cell.bold:
            cls.append("b")
        tag = "th" if kind == "header" and not in_titles else "td"
        last = r + cell.rowspan
        end = group_end(r)
        rows[r].append((c, {"tag": tag, "colspan": cell.colspan, "rowspan": min(last, end) - r,
                            "cls": " ".join(cls), "text": _text(cell_text(cell))}))
        # continue a span cut by a row-group boundary (see the module docstring)
        while last > end:
            start = end
            end = group_end(start)
            rows[start].append((c, {"tag": "td", "colspan": cell.colspan, "rowspan": min(last, end) - start,
                                    "cls": "cont", "text": ""}))

    def group(first: int, stop: int) -> list[dict[str, Any]]:
        return [{"cells": [d for _c, d in sorted(rows[r], key=lambda item: item[0])],
                 "height": sheet.row_heights.get(r)} for r in range(first, stop)]

    # One table per part: each repeats its own captions (Sheet.captions) on every page.
    return group(0, title_end), [{"head": group(p.start, p.header_end), "body": group(p.header_end, p.stop)}
                                 for p in parts(sheet, height)]


def render_html(workbook: Workbook) -> str:
    """The HTML of a workbook (useful for looking at the layout in a browser)."""
    return _html_template().render(title=_text(workbook.title), sheets=[_sheet_context(s) for s in workbook.sheets])


def render_pdf(workbook: Workbook, fonts: Mapping[str, str] | None = None,
               url_fetcher: pdfkit.SafeURLFetcher | None = None) -> bytes:
    """The PDF bytes of a Workbook. `fonts` is settings["layout"]["fonts"] (official face names)."""
    faces = dict(DEFAULT_FONTS)
    if fonts:
        faces.update({k: str(v) for k, v in fonts.items() if k in DEFAULT_FONTS})
    css = _stylesheet(tuple(sorted(faces.items())))
    meta = workbook.meta or {}
    return pdfkit.html_to_pdf(render_html(workbook), [css], base_url=TEMPLATE_DIR, url_fetcher=url_fetcher,
                              metadata={"title": workbook.title, "author": str(meta.get("unit") or meta.get("author") or "")})


__all__ = ["render_html", "render_pdf"]
