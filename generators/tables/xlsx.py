"""xlsx rendering of the table-grid model.

`render_xlsx(workbook)` lays out every Sheet as the official form prints: title rows merged and
centred without borders, header cells bold and shaded, every table cell bordered and wrapped, the
notes under the table, A4 with the header rows repeated on each page.

The grid model is turned into plain sheet plans here (cells with their style ids, merges, row
heights, drop-down lists, print settings), and generators/tables/xlsx_parts.py writes the package
from them with lxml. openpyxl's object model is not used to write: it builds an object per cell,
row dimension and style and hashes each on assignment, so most of a small table's time went to
the model rather than the cells (bench/FIGURES.md). openpyxl is still the reader (generators/tables/reader.py),
and the tests read every file back with it and as raw XML.

Rules kept from the first, openpyxl-based writer, each for a reason:

* User text is always an inline string, never parsed: a str beginning with "=" must not become a
  formula, nor "#N/A" an error value (CSV/formula injection). The risky ones (= + - @ TAB CR LF
  and the full-width ＝＋－＠) also get quotePrefix, which keeps them text when a clerk edits the
  cell. Money, percent and score are numbers with number formats, never text.
* Merges are written in one go from the model, which has already checked that spans do not
  collide (Sheet.placed): openpyxl's merge_cells checks each new range against every earlier one
  (19,000 merges took 129 s). The covered positions carry the anchor's style, because Excel draws
  a merged area's border from the cells along its edge and protection must cover the whole area.
* One xf per distinct look (kind, bold, alignment, lock, quote prefix, number format, border),
  numbered in first-use order; the styles part of a sequence of looks is built and deflated once
  per process, since a batch renders the same form layout thousands of times.

Timing (python -m bench.tables: 1,000 units, 19,001 merges, 53,011 cells + 27,000 merged
placeholders) and per-unit batch costs are in bench/.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import math
import operator
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal

from openpyxl.utils import get_column_letter, quote_sheetname

from generators.grid import Cell, Sheet, Workbook
from generators.tables import KIND_ALIGN, RATIO_PLACES, edges, is_number
from generators.tables.widths import _tokens, xlsx_widths
from generators.tables.xlsx_pages import DIGIT_PX, row_breaks
from generators.tables.xlsx_parts import (
    BODY_PT,
    NOTE_PT,
    SONGTI_KINDS,
    Look,
    SheetPlan,
    core_part,
    font_size,
    package,
    sheet_member,
    styles_member,
)
from rules.formatting import chinese_date
from rules.rounding import quantize

# Number formats by cell kind; "number" depends on the value (integers: "0").
NUMBER_FORMATS = {"money": "#,##0.00", "percent": "0.00%", "score": "0.00"}
INTEGER_FORMAT = "0"

# User text beginning with one of these is taken as a formula (or DDE) by Excel, WPS or
# LibreOffice when typed or imported; the full-width forms are converted by some IMEs/WPS.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

# Characters XML 1.0 (and so Excel) cannot hold; stripped from user text rather than failing.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

MAX_CELL_CHARS = 32767  # Excel's limit per cell

DEFAULT_FONTS = {"songti": "宋体", "fangsong": "仿宋_GB2312"}

# Row heights (points) when a row has no Sheet.row_heights entry.
TITLE_ROW_PT = 36
SUBTITLE_ROW_PT = 20
LINE_PT = 15  # one wrapped line of 11 pt 仿宋 (Excel spaces SimSun's 11 pt lines 14.25 pt)
# A line of 宋体 (captions, titles), in ems: the project's fonts give 宋体 as Noto Serif CJK, whose
# lines Gnumeric and Calc space 1.5 em apart (16.5 pt at 11 pt).
SONGTI_LINE_EM = 1.5
ROW_PADDING_PT = 6
CELL_PADDING_UNITS = 1.5  # a cell's left and right padding, in column units

# Validation lists longer than this (Excel's limit on an inline list) go to a hidden sheet.
INLINE_LIST_MAX = 255
LISTS_SHEET = "下拉选项"

# Sheet protection guards against accidental edits of computed cells; it is not a security
# boundary (any xlsx tool removes it), so no password is set: a clerk who must change a locked
# cell can unprotect the sheet from the menu, and nobody has to keep a password.

EMPTY_LOOK: Look = ("text", False, "left", False, False, None, True)


def render_xlsx(workbook: Workbook, fonts: Mapping[str, str] | None = None) -> bytes:
    """The .xlsx bytes of a Workbook. `fonts` maps "songti"/"fangsong" to face names
    (settings["layout"]["fonts"]); the defaults are 宋体 and 仿宋_GB2312."""
    if not workbook.sheets:
        raise ValueError("a workbook without sheets cannot be written as xlsx")
    faces = {**DEFAULT_FONTS, **{k: v for k, v in (fonts or {}).items() if k in DEFAULT_FONTS}}
    looks = _Looks()
    lists = _Lists({s.name for s in workbook.sheets}, looks)
    plans = [_sheet_plan(sheet, looks, lists) for sheet in workbook.sheets]
    # Each sheet's rows are made as its part is written; the looks, the drop-down lists and so
    # the styles and the hidden list sheet are complete only after the last one.
    sheets = [sheet_member(i, plan) for i, plan in enumerate(plans, start=1)]
    if lists.plan is not None:
        plans.append(lists.plan)  # the hidden list sheet comes last
        sheets.append(sheet_member(len(plans), lists.finish()))
    meta = workbook.meta
    core = core_part(workbook.title, str(meta["unit"]) if meta.get("unit") else None,
                     str(meta["author"]) if meta.get("author") else "jxdoc")
    return package(plans, sheets, styles_member(faces, looks.order), core)


def _sheet_title(name: str) -> str:
    # Builders give valid names; a bad one is their bug, caught loudly in their tests.
    if not name or len(name) > 31 or any(ch in name for ch in "[]:*?/\\"):
        raise ValueError(f"invalid xlsx sheet name {name!r}")
    return name


def clean_text(text: str) -> str:
    """User text as a cell can hold it: no XML-illegal characters, at most 32,767 characters."""
    return _ILLEGAL.sub("", text)[:MAX_CELL_CHARS]


def needs_quote(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES)


class _Looks:
    """The xf id of each look, in first-use order (0 is Excel's default look)."""

    def __init__(self) -> None:
        self.ids: dict[Look, int] = {}
        self.order: list[Look] = []

    def id(self, look: Look) -> int:
        found = self.ids.get(look)
        if found is None:
            self.order.append(look)
            found = self.ids[look] = len(self.order)
        return found


class _Lists:
    """Data-validation lists that cannot be written inline, on one hidden sheet."""

    def __init__(self, taken: set[str], looks: _Looks):
        self.looks = looks
        self.title = LISTS_SHEET
        n = 1
        while self.title in taken:
            n += 1
            self.title = f"{LISTS_SHEET}{n}"
        self.plan: SheetPlan | None = None
        self._cells: dict[int, list[tuple[int, int, str | None, str | None]]] = {}

    def formula(self, values: list[str]) -> str:
        text = [clean_text(str(v)) for v in values]
        inline = ",".join(text)
        if all("," not in v and '"' not in v for v in text) and len(inline) <= INLINE_LIST_MAX:
            return f'"{inline}"'
        if self.plan is None:
            self.plan = SheetPlan(name=self.title, hidden=True, printable=False, last_col=0, last_row=1)
        plan = self.plan
        plan.last_col += 1
        col = plan.last_col
        for i, value in enumerate(text, start=1):
            # bound as text, like every user string; quoted like any formula-like text
            sid = self.looks.id(("list", False, None, False, True, None, False)) if needs_quote(value) else 0
            self._cells.setdefault(i, []).append((col, sid, "s", value))
        plan.last_row = max(plan.last_row, len(text))
        letter = get_column_letter(col)
        return f"{quote_sheetname(self.title)}!${letter}$1:${letter}${max(len(text), 1)}"

    def finish(self) -> SheetPlan:
        """The list sheet's plan, once every sheet that refers to it has been written."""
        self.plan.rows = [(r, None, cells) for r, cells in sorted(self._cells.items())]
        return self.plan


def _bind(c: Cell) -> tuple[str | None, str | None, bool, str | None]:
    """The model value as the sheet XML holds it: (type "s"/"n" or None, text, quote_prefix, number_format)."""
    value = c.value
    if value is None:
        return None, None, False, None
    if isinstance(value, str):
        text = clean_text(value)
        return "s", text, needs_quote(text), None
    if isinstance(value, _dt.datetime):
        value = value.date()
    if isinstance(value, _dt.date):
        # Written as text in the official Chinese form, so every viewer shows 2024年7月1日.
        return "s", chinese_date(value), False, None
    if not is_number(value):
        text = clean_text(str(value))
        return "s", text, needs_quote(text), None
    kind = c.kind
    if kind == "money" or kind == "score":
        return "n", f"{_places(value, 2):f}", False, NUMBER_FORMATS[kind]
    if kind == "percent":
        return "n", f"{_places(value, RATIO_PLACES):f}", False, NUMBER_FORMATS[kind]
    if isinstance(value, int):
        return "n", str(value), False, INTEGER_FORMAT
    integral = value == value.to_integral_value()
    return "n", f"{value.normalize():f}" if not integral else f"{value.quantize(Decimal(1)):f}", False, (
        INTEGER_FORMAT if integral else None)


def _places(value: Decimal | int, places: int) -> Decimal:
    """rules.rounding.quantize, skipped when the value already has exactly `places` decimals
    (the usual case: builders pass money already rounded), which saves its context switch."""
    if isinstance(value, Decimal) and value.is_finite() and value.as_tuple().exponent == -places:
        return value
    return quantize(value, places)


def _estimated_lines(text: str, width: float, size_pt: float = BODY_PT) -> int:
    """The lines `text` wraps to in a column `width` units wide, as Excel and WPS lay it out (a
    unit is Calibri's 7 px digit: the narrowest of the engines, Calc's digit being wider):
    whole characters to a line, a CJK character ending a line anywhere but before closing
    punctuation, a run of Latin letters and digits only where it ends (widths' wrapping rule)."""
    em = size_pt * 96 / 72 / DIGIT_PX  # a CJK character, in column units
    usable = max(width - CELL_PADDING_UNITS, em)
    if len(text) * em <= usable and "\n" not in text:  # fits on one line whatever the characters
        return 1
    lines = 0
    for part in text.split("\n"):
        lines += 1
        x = 0.0
        for _token, chars in _tokens(part, kinsoku=True):
            w = chars * em
            if x and x + w > usable + 1e-9:
                lines += 1
                x = 0.0
            if w > usable:  # a run longer than a line is broken inside it
                extra = math.ceil(w / usable - 1e-9) - 1
                lines += extra
                w -= extra * usable
            x += w
    return lines


def _line_pt(kind: str) -> float:
    return font_size(kind) * SONGTI_LINE_EM if kind in SONGTI_KINDS else LINE_PT


def _sheet_plan(sheet: Sheet, looks: _Looks, lists: _Lists) -> SheetPlan:
    """The plan of a sheet; its rows are made while its part is written (_plan_rows)."""
    width = sheet.width
    height = sheet.height()
    last = height + len(sheet.notes)
    plan = SheetPlan(name=_sheet_title(sheet.name), widths=xlsx_widths(sheet),
                     protect=sheet.protect, landscape=sheet.landscape, fit_width=sheet.fit_width,
                     last_row=max(last, 1), last_col=max(width, 1),
                     repeat_rows=_print_titles(sheet), print_rows=last if width else 0)
    vertical: list[tuple[int, int]] = []  # (first, last) 0-based rows of every vertical merge
    heights: list[float | None] = [None] * last
    plan.rows = _recording(_plan_rows(sheet, plan, looks, lists, height, vertical), heights)
    repeat = plan.repeat_rows
    # pages start where xlsx_pages says, from the heights and merges the rows were written with
    plan.row_breaks = lambda: row_breaks(heights, plan.widths, sheet.landscape, vertical, sheet.captions,
                                         (repeat[0] - 1, repeat[1] - 1) if repeat else None, height)
    return plan


def _recording(rows, heights: list[float | None]):
    """The plan's rows, each row's height noted as it passes."""
    for row in rows:
        heights[row[0] - 1] = row[1]
        yield row


def _print_titles(sheet: Sheet) -> tuple[int, int] | None:
    """Rows printed at the top of every page (1-based, inclusive): the indicator block's captions
    where the sheet has one block (Sheet.captions), else the title and header rows. A print title
    is one run of rows: of two blocks (a declaration's 中期/年度) neither's captions fit the other's
    pages, so such a sheet has none and each block starts a page under its own captions when it
    would not end on the page it starts on (xlsx_pages), as Calc, Excel and WPS all print manual
    breaks; the docx and PDF repeat each block's own."""
    if len(sheet.captions) == 1:
        first, count = sheet.captions[0]
        return first + 1, first + count
    if len(sheet.captions) > 1:
        return None
    rows = sheet.title_rows + sheet.header_rows
    return (1, rows) if rows else None


def _plan_rows(sheet: Sheet, plan: SheetPlan, looks: _Looks, lists: _Lists,
               height: int, vertical: list[tuple[int, int]]) -> Iterator[tuple[int, float | None, list[tuple[int, int, str | None, str | None]]]]:
    """(row, height or None, cells) in row order, each row given as soon as the model's row is
    placed: only the rows that spans reach into are held ahead, so a 10,000-row sheet streams.
    The plan's merges and validations are complete when the rows are."""
    width = sheet.width
    letters = [get_column_letter(i) for i in range(1, width + 1)]
    widths = plan.widths
    title_rows = sheet.title_rows
    style_ids: dict[tuple, int] = {}  # look → style id, ahead of _Looks for the hot loop
    merges = plan.merges
    validations: dict[str, list[tuple[int, int]]] = {}
    # Positions covered by spans from rows above, by 0-based row; then column → (column,
    # style id, type, text), the plan's own tuple.
    ahead: dict[int, dict[int, tuple[int, int, str | None, str | None]]] = {}

    def close(r0: int, cells: dict, lines: int, text_pt: float, first: str | None):
        # Empty positions of the table (rows shorter than the width) still get the grid's borders.
        if title_rows <= r0 and len(cells) < width:
            empty = looks.id(EMPTY_LOOK)
            for cc in range(1, width + 1):
                cells.setdefault(cc, (cc, empty, None, None))
        points = sheet.row_heights.get(r0)  # a builder's height is a minimum: long text grows it
        if r0 < title_rows:
            points = points or (TITLE_ROW_PT if first == "title" else SUBTITLE_ROW_PT)
        # Excel does not grow rows for wrapped text in files it did not lay out itself.
        if lines > 1:
            points = max(points or 0, text_pt + ROW_PADDING_PT)
        if cells or points is not None:
            return r0 + 1, points, [cells[cc] for cc in sorted(cells)]
        return None

    bounds = edges(sheet, height)
    by_row = itertools.groupby(sheet.placed(), key=operator.itemgetter(0))
    pending = next(by_row, None)
    for r0 in range(height):
        cells, lines, text_pt, first = ahead.pop(r0, {}), 1, 0.0, None
        if pending is not None and pending[0] == r0:
            # The hot loop of big sheets (tens of thousands of cells): plain locals, one tuple per cell.
            for _r0, c0, c in pending[1]:
                if first is None:
                    first = c.kind
                row, col = r0 + 1, c0 + 1
                t, text, quoted, fmt = _bind(c)
                key = (c.kind, c.bold, c.align or KIND_ALIGN[c.kind], c.editable, quoted, fmt, r0 >= title_rows)
                sid = style_ids.get(key)
                if sid is None:
                    sid = style_ids[key] = looks.id(key)
                rowspan, colspan = c.rowspan, c.colspan
                if rowspan > 1 or colspan > 1:
                    last_row, last_col = row + rowspan - 1, col + colspan - 1
                    if last_row > height:
                        raise ValueError(f"sheet {sheet.name!r}: a span reaches below the {height} rows declared")
                    # A span is cut where the docx and PDF cut it (the captions' end, a part's
                    # start), continued empty: one from the print titles into the rows would print
                    # its text on one page only and be sliced by the page break. Each part is kept
                    # whole on a page when it fits one (Calc ignores a manual break inside a merge).
                    top = r0
                    for cut in [b for b in bounds if r0 < b < r0 + rowspan] + [r0 + rowspan]:
                        if cut - 1 > top or colspan > 1:
                            merges.append(f"{letters[col - 1]}{top + 1}:{letters[last_col - 1]}{cut}")
                        if cut - 1 > top:
                            vertical.append((top, cut - 1))
                        top = cut
                    # the anchor's style: borders and protection of the area
                    for rr in range(r0, r0 + rowspan):
                        target = cells if rr == r0 else ahead.setdefault(rr, {})
                        for cc in range(col, last_col + 1):
                            target[cc] = (cc, sid, None, None)
                cells[col] = (col, sid, t, text)
                if c.validation:
                    if c.validation not in sheet.validations:
                        raise ValueError(f"sheet {sheet.name!r}: unknown validation list {c.validation!r}")
                    validations.setdefault(c.validation, []).append((row, col))
                if t == "s" and rowspan == 1:
                    kind = c.kind
                    need = _estimated_lines(text, sum(widths[c0:c0 + colspan]), font_size(kind))
                    if need > 1:
                        lines = max(lines, need)
                        text_pt = max(text_pt, need * _line_pt(kind))
            pending = next(by_row, None)
        if (done := close(r0, cells, lines, text_pt, first)) is not None:
            yield done
    if pending is not None:
        raise ValueError(f"sheet {sheet.name!r}: more rows than the {height} declared")

    # Notes: one merged, unbordered, left-aligned row each, under the table.
    note_row = height
    total_width = sum(widths)
    for note in sheet.notes:
        note_row += 1
        text = clean_text(note)
        sid = looks.id(("note", False, "left", False, needs_quote(text), None, False))
        if width > 1:
            merges.append(f"A{note_row}:{letters[-1]}{note_row}")
        yield note_row, _estimated_lines(text, total_width, NOTE_PT) * LINE_PT + ROW_PADDING_PT / 2, [(1, sid, "s", text)]
    plan.validations = [(lists.formula(sheet.validations[name]), _column_runs(positions))
                        for name, positions in validations.items()]


def _column_runs(positions: list[tuple[int, int]]) -> str:
    """Cells as vertical runs of consecutive rows per column (a sqref): few ranges for a column."""
    ranges: list[str] = []
    by_col: dict[int, list[int]] = {}
    for row, col in positions:
        by_col.setdefault(col, []).append(row)
    for col in sorted(by_col):
        rows = sorted(by_col[col])
        letter = get_column_letter(col)
        start = prev = rows[0]
        for row in rows[1:] + [None]:
            if row is not None and row == prev + 1:
                prev = row
                continue
            ranges.append(f"{letter}{start}" if start == prev else f"{letter}{start}:{letter}{prev}")
            if row is not None:
                start = prev = row
    return " ".join(ranges)


__all__ = ["FORMULA_PREFIXES", "NUMBER_FORMATS", "clean_text", "needs_quote", "render_xlsx"]
