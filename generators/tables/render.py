"""A table grid (generators/grid.py) as the bytes of a format, and the renderers a kind registers
for it: the one place that maps a format to its table renderer.

The renderers are imported when first used, so a process that never renders a PDF never imports
weasyprint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from generators.grid import Workbook

FORMATS = ("xlsx", "docx", "pdf")

Build = Callable[[dict, Mapping[str, Any]], Workbook]


def render_workbook(workbook: Workbook, fmt: str) -> bytes:
    if fmt == "xlsx":
        from generators.tables.xlsx import render_xlsx

        return render_xlsx(workbook)
    if fmt == "docx":
        from generators.tables.docx import render_docx

        return render_docx(workbook)
    if fmt == "pdf":
        from generators.tables.pdf import render_pdf

        return render_pdf(workbook)
    if fmt == "ofd":  # written from the PDF's pages
        from generators import ofd
        from generators.tables.pdf import render_pdf

        return ofd.from_pdf(render_pdf(workbook), ofd.DocInfo(title=workbook.title))
    raise ValueError(f"no table renderer for {fmt!r}")


def table_renderer(fmt: str, build: Build, name: str | None = None) -> Callable[[dict, Mapping[str, Any]], bytes]:
    """render(data, settings) -> bytes of the Workbook `build` makes, in `fmt`."""

    def render(data: dict, settings: Mapping[str, Any]) -> bytes:
        return render_workbook(build(data, settings), fmt)

    render.__name__ = f"render_{name or getattr(build, '__name__', 'table')}_{fmt}"
    return render


def table_renderers(build: Build, formats: tuple[str, ...] = FORMATS, name: str | None = None) -> dict:
    """{format: render} for a kind whose document is a table grid, in the order given (the first
    is the kind's default format)."""
    return {fmt: table_renderer(fmt, build, name) for fmt in formats}
