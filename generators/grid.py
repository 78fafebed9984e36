"""The table-grid model every form (申报表, 监控表, 自评表, summaries) is laid out in.

A kind's builder turns validated data into a `Workbook` of `Sheet`s; the xlsx, docx and PDF table
renderers turn a Workbook into bytes. Rows list only the cells that START in them, with their
column and row spans, as an HTML table does: the renderers compute positions, so builders never
count columns by hand.

Cell kinds carry the number format and look, so a builder says *what* a value is and the
renderers decide *how* each format shows it:
    title     the form's caption (二号/小标宋-like, centred, no border)
    subtitle  a line under the title: （2024年度）, 填报单位, 单位：万元
    header    a column caption (bold, centred, shaded in xlsx)
    label     a row caption (centred)
    text      user text (wrapped, left) — never a formula in xlsx
    money     Decimal money, 2 places, thousands separators (万元 unless the sheet says 元)
    percent   a ratio shown as 73.17% (value is the ratio 0.7317, not 73.17)
    score     points with 2 places
    number    an integer or Decimal count
    date      datetime.date, written 2024年7月1日
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

CELL_KINDS = ("title", "subtitle", "header", "label", "text", "money", "percent", "score", "number", "date")
Value = str | Decimal | int | _dt.date | None


@dataclass(slots=True)  # a 10,000-row summary holds 90,000 of them: no per-cell __dict__
class Cell:
    value: Value = None
    kind: str = "text"
    colspan: int = 1
    rowspan: int = 1
    align: str | None = None  # left, center, right; None: the kind's default
    bold: bool = False
    editable: bool = False  # xlsx: unlocked for clerks to fill; computed cells stay locked
    validation: str | None = None  # name of a Sheet.validations drop-down list (xlsx)
    key: str | None = None  # data path this cell holds ("indicators.3.target_value"), for import

    def __post_init__(self) -> None:
        if self.kind not in CELL_KINDS:
            raise ValueError(f"unknown cell kind {self.kind!r}")
        if self.colspan < 1 or self.rowspan < 1:
            raise ValueError("spans must be at least 1")


@dataclass(slots=True)
class Column:
    width: float  # in characters of the body face (xlsx column width units, docx/PDF relative widths)
    kind: str = "text"


@dataclass
class Sheet:
    name: str  # xlsx sheet name (≤ 31 characters, no []:*?/\)
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)  # StreamedRows after stream()
    header_rows: int = 0  # rows repeated at the top of every printed page (after title rows)
    title_rows: int = 0  # leading rows that hold the title/subtitles (no borders)
    landscape: bool = False
    fit_width: bool = True  # print on one page width
    notes: list[str] = field(default_factory=list)  # lines printed under the table (填报说明, 填报人…)
    validations: dict[str, list[str]] = field(default_factory=dict)  # drop-down lists by name
    protect: bool = False  # xlsx sheet protection: only `editable` cells can change
    row_heights: dict[int, float] = field(default_factory=dict)  # points, by row index
    # Column captions inside the table, as (first row, count): an indicator block's 一级指标/二级指标…
    # rows. The docx and the PDF start a table part there whose header rows they are, repeated at
    # the top of every page it runs onto; the xlsx prints the first of them as its print titles.
    captions: list[tuple[int, int]] = field(default_factory=list)

    def add(self, *cells: Cell) -> list[Cell]:
        row = list(cells)
        self.rows.append(row)
        return row

    @property
    def width(self) -> int:
        return len(self.columns)

    def stream(self, count: int, produce: Callable[[], Iterable[list[Cell]]]) -> None:
        """Let the `count` rows that `produce()` yields follow the rows added so far, made while
        the sheet is written rather than held: the 分单位情况 of a 10,000-unit batch summary is read
        back from the database as its xlsx is written. `produce` is called once per pass, so a
        renderer may read the rows more than once. Only the xlsx renderer takes such a sheet;
        its spans must end within the rows."""
        if isinstance(self.rows, StreamedRows):
            raise ValueError(f"sheet {self.name!r} streams its rows once")
        self.rows = StreamedRows(count, produce, list(self.rows))

    def height(self) -> int:
        """Rows the table covers: its rows, or further where a span reaches below the last."""
        if isinstance(self.rows, StreamedRows):
            return len(self.rows)
        height = len(self.rows)
        for r, row in enumerate(self.rows):
            for cell in row:
                if r + cell.rowspan > height:
                    height = r + cell.rowspan
        return height

    def placed(self) -> Iterator[tuple[int, int, Cell]]:
        """(row, column, cell) for every cell, 0-based, skipping positions covered by spans.

        Raises ValueError when a row overflows the columns or spans collide, so a builder's
        mistake is caught in its tests rather than producing a broken file. Only the covered
        columns of the rows still ahead are remembered, so a long sheet costs no more than a
        short one.
        """
        ahead: dict[int, set[int]] = {}  # row → columns covered by spans from the rows above
        width = self.width
        for r, row in enumerate(self.rows):
            here = ahead.pop(r, set())
            c = 0
            for cell in row:
                while c in here:
                    c += 1
                colspan = cell.colspan
                if c + colspan > width:
                    raise ValueError(f"sheet {self.name!r} row {r}: cell {cell.value!r} overflows {width} columns")
                for dr in range(cell.rowspan):
                    taken = here if dr == 0 else ahead.setdefault(r + dr, set())
                    for col in range(c, c + colspan):
                        if col in taken:
                            raise ValueError(f"sheet {self.name!r}: spans collide at row {r + dr}, column {col}")
                        taken.add(col)
                yield r, c, cell
                c += colspan

    def merges(self) -> list[tuple[int, int, int, int]]:
        """(first_row, first_col, last_row, last_col) of every spanning cell, 0-based."""
        return [(r, c, r + cell.rowspan - 1, c + cell.colspan - 1)
                for r, c, cell in self.placed() if cell.rowspan > 1 or cell.colspan > 1]

    def matrix(self) -> list[list[Cell | None]]:
        """A dense grid: the starting cell at its position, None where a span covers."""
        grid: list[list[Cell | None]] = [[None] * self.width for _ in range(self.height())]
        for r, c, cell in self.placed():
            grid[r][c] = cell
        return grid


class StreamedRows:
    """Rows made afresh on each pass rather than held: `head`, then the `count` rows `produce()`
    yields — a streamed sheet's (Sheet.stream), or the per-unit rows of a batch summary."""

    def __init__(self, count: int, produce: Callable[[], Iterable[Any]], head: list | None = None):
        self.count, self.produce, self.head = count, produce, head or []

    def __len__(self) -> int:
        return len(self.head) + self.count

    def __iter__(self) -> Iterator[Any]:
        yield from self.head
        yield from self.produce()


@dataclass
class Workbook:
    title: str  # document title (file properties, PDF title)
    sheets: list[Sheet]
    meta: dict[str, Any] = field(default_factory=dict)  # author/unit for file properties
