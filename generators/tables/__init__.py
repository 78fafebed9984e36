"""Renderers of the table-grid model (generators/grid.py) and the hardened xlsx reader, one module
each:

    xlsx.render_xlsx(workbook) -> bytes    package parts written with lxml; numbers stay numbers, user text never a formula
    docx.render_docx(workbook) -> bytes    one table per sheet; gridSpan/vMerge, repeated header rows
    pdf.render_pdf(workbook) -> bytes      HTML + weasyprint through generators/pdf.py
    render.render_workbook(workbook, fmt)  the one that maps a format to its renderer, importing it when used
    reader.read_workbook(data, ...)        every visible sheet as rows of values, within limits
    reader.read_grid(data, sheet)          {cell.key: value} of a sheet render_xlsx produced

This package itself imports none of them (weasyprint takes a second to import), so importing it
costs nothing until a format is asked for.

The display rules shared by the docx and PDF renderers live here, so both formats show a value
the same way; the xlsx renderer writes numbers with number formats that show the same text.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any, NamedTuple

from generators.grid import Cell, Sheet
from rules.formatting import chinese_date, money_text, percent_text
from rules.rounding import percent, quantize

# Default horizontal alignment of each cell kind (Cell.align overrides it).
KIND_ALIGN = {
    "title": "center",
    "subtitle": "center",
    "header": "center",
    "label": "center",
    "text": "left",
    "money": "right",
    "percent": "center",
    "score": "center",
    "number": "center",
    "date": "center",
}

NUMERIC_KINDS = frozenset({"money", "percent", "score", "number"})

# Places a percent cell's ratio keeps: 4 places of the ratio are the 2 places of the percentage,
# so Excel's 0.00% shows exactly what percent_text shows in docx and PDF.
RATIO_PLACES = 4


def is_number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def cell_text(cell: Cell) -> str:
    """The text a cell shows in docx and PDF (and that xlsx shows through its number format).

    A non-numeric value in a numeric cell (the “—” of a sub-row without 分值) is shown as it is.
    """
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    kind = cell.kind
    if isinstance(value, _dt.date):
        return chinese_date(value)
    if not is_number(value):
        return str(value)
    if kind == "money":
        return money_text(value)
    if kind == "percent":
        return percent_text(percent(value))
    if kind == "score":
        return f"{quantize(value, 2):.2f}"
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return f"{value.quantize(Decimal(1)):f}"
        return f"{value.normalize():f}"
    return str(value)


def cell_align(cell: Cell) -> str:
    return cell.align or KIND_ALIGN[cell.kind]


class Placed(NamedTuple):
    """A cell at its 0-based position in a sheet (the renderers' common view of a grid).
    A NamedTuple: big sheets place tens of thousands of cells, and tuples are cheap to make."""

    row: int
    col: int
    cell: Cell

    @property
    def last_row(self) -> int:
        return self.row + self.cell.rowspan - 1

    @property
    def last_col(self) -> int:
        return self.col + self.cell.colspan - 1


def layout(sheet: Sheet) -> tuple[list[Placed], int]:
    """Every starting cell with its position, and the sheet's height in rows.

    One pass over Sheet.placed() (which validates spans), so renderers of big sheets do not
    walk the model several times.
    """
    placed = [Placed(r, c, cell) for r, c, cell in sheet.placed()]
    height = len(sheet.rows)
    for r, _c, cell in placed:
        if r + cell.rowspan > height:
            height = r + cell.rowspan
    return placed, height


def owners(placed: list[Placed], height: int, width: int) -> list[list[Placed | None]]:
    """For every grid position, the cell that covers it (None where nothing does)."""
    grid: list[list[Placed | None]] = [[None] * width for _ in range(height)]
    for p in placed:
        for r in range(p.row, p.last_row + 1):
            row = grid[r]
            for c in range(p.col, p.last_col + 1):
                row[c] = p
    return grid


class Part(NamedTuple):
    """Rows [start, stop) of a sheet's table drawn as one table, rows [start, header_end) its
    header rows (repeated on every page it runs onto)."""

    start: int
    header_end: int
    stop: int


def parts(sheet: Sheet, height: int) -> list[Part]:
    """The table below the title rows cut before each caption block (Sheet.captions): the first
    part's header rows are Sheet.header_rows, each later part's its captions. A span that crosses
    a part's or a header's edge is cut there by the renderers and continued below."""
    start = min(sheet.title_rows, height)
    cuts = sorted((first, first + count) for first, count in sheet.captions if start < first < height)
    out, header_end = [], min(start + sheet.header_rows, height)
    for first, end in cuts:
        out.append(Part(start, header_end, first))
        start, header_end = first, min(end, height)
    out.append(Part(start, header_end, height))
    return [p for p in out if p.stop > p.start]


def edges(sheet: Sheet, height: int) -> list[int]:
    """Row indices where a span must be cut: the title rows' end and every part's start, header
    end and stop."""
    found = {0, min(sheet.title_rows, height), height}
    for part in parts(sheet, height):
        found.update(part)
    return sorted(found)


__all__ = [
    "KIND_ALIGN", "NUMERIC_KINDS", "Part", "Placed", "edges", "parts", "cell_align", "cell_text", "is_number", "layout",
    "owners",
]
