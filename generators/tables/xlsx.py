"""xlsx rendering of the table-grid model.

`render_xlsx(workbook)` lays out every Sheet as the official form prints: title rows merged and
centred without borders, header cells bold and shaded, every table cell bordered and wrapped, the
notes under the table, A4 with the header rows repeated on each page.

The grid model is turned into plain sheet plans here (cells with their style ids, merges, row
heights, drop-down lists, print settings), and generators/tables/xlsx_parts.py writes the package
from them with lxml. openpyxl's object model is not used to write: it builds an object per cell,
row dimension and style and hashes each on assignment, so a one-page monitoring table took 8 ms,
of which the cells were under one. openpyxl is still the reader (generators/tables/reader.py),
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
import math
import re
from collections.abc import Mapping
from decimal import Decimal

from openpyxl.utils import get_column_letter, quote_sheetname

from generators.grid import Cell, Sheet, Workbook
from generators.tables import KIND_ALIGN, RATIO_PLACES, is_number
from generators.tables.xlsx_parts import Look, SheetPlan, core_part, package, styles_member
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
LINE_PT = 15  # one wrapped line of 11 pt text
ROW_PADDING_PT = 6

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
    if lists.plan is not None:
        plans.append(lists.plan)  # the hidden list sheet comes last
    meta = workbook.meta
    core = core_part(workbook.title, str(meta["unit"]) if meta.get("unit") else None,
                     str(meta["author"]) if meta.get("author") else "jxdoc")
    return package(plans, styles_member(faces, looks.order), core)


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
            plan.rows.setdefault(i, []).append((col, sid, "s", value))
        plan.last_row = max(plan.last_row, len(text))
        letter = get_column_letter(col)
        return f"{quote_sheetname(self.title)}!${letter}$1:${letter}${max(len(text), 1)}"


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


def _display_width(text: str) -> float:
    """Width of text in xlsx column units: a CJK character is about two digits wide."""
    return sum(2.0 if ord(ch) > 0x2E7F else 1.1 for ch in text)


def _estimated_lines(text: str, width: float) -> int:
    if len(text) * 2 <= width - 1:  # fits on one line whatever the characters
        return 1
    usable = max(width - 1.0, 1.0)  # cell padding
    return sum(max(1, math.ceil(_display_width(part) / usable)) for part in text.split("\n"))


def _sheet_plan(sheet: Sheet, looks: _Looks, lists: _Lists) -> SheetPlan:
    width = sheet.width
    plan = SheetPlan(name=_sheet_title(sheet.name), widths=[col.width for col in sheet.columns],
                     protect=sheet.protect, landscape=sheet.landscape, fit_width=sheet.fit_width)
    # One dict per row (column → (column, style id, type, text), the plan's own tuple): cheaper
    # than one dict keyed by (row, column) and a global sort on big sheets.
    rows: dict[int, dict[int, tuple[int, int, str | None, str | None]]] = {}
    lines_needed: dict[int, int] = {}
    validations: dict[str, list[tuple[int, int]]] = {}
    letters = [get_column_letter(i) for i in range(1, width + 1)]
    widths = plan.widths
    title_rows = sheet.title_rows
    style_ids: dict[tuple, int] = {}  # look → style id, ahead of _Looks for the hot loop
    height = len(sheet.rows)
    merges = plan.merges

    # The hot loop of big sheets (tens of thousands of cells): plain locals, one dict per cell.
    for r0, c0, c in sheet.placed():
        row, col = r0 + 1, c0 + 1
        t, text, quoted, fmt = _bind(c)
        key = (c.kind, c.bold, c.align or KIND_ALIGN[c.kind], c.editable, quoted, fmt, r0 >= title_rows)
        sid = style_ids.get(key)
        if sid is None:
            sid = style_ids[key] = looks.id(key)
        anchor = (col, sid, t, text)
        rowspan, colspan = c.rowspan, c.colspan
        if rowspan > 1 or colspan > 1:
            last_row, last_col = row + rowspan - 1, col + colspan - 1
            if last_row > height:
                height = last_row
            merges.append(f"{letters[col - 1]}{row}:{letters[last_col - 1]}{last_row}")
            # the anchor's style: borders and protection of the area
            for r in range(row, last_row + 1):
                target = rows.get(r)
                if target is None:
                    target = rows[r] = {}
                for cc in range(col, last_col + 1):
                    target[cc] = (cc, sid, None, None)
        target = rows.get(row)
        if target is None:
            target = rows[row] = {}
        target[col] = anchor
        if c.validation:
            if c.validation not in sheet.validations:
                raise ValueError(f"sheet {sheet.name!r}: unknown validation list {c.validation!r}")
            validations.setdefault(c.validation, []).append((row, col))
        if t == "s" and rowspan == 1 and r0 >= title_rows:
            need = _estimated_lines(text, sum(widths[c0:c0 + colspan]))
            if need > lines_needed.get(r0, 1):
                lines_needed[r0] = need

    # Empty positions of the table (rows shorter than the width) still get the grid's borders.
    if height > title_rows:
        empty = looks.id(EMPTY_LOOK)
        for r in range(title_rows + 1, height + 1):
            target = rows.setdefault(r, {})
            if len(target) < width:
                for cc in range(1, width + 1):
                    target.setdefault(cc, (cc, empty, None, None))

    # Notes: one merged, unbordered, left-aligned row each, under the table.
    note_row = height
    total_width = sum(widths)
    for note in sheet.notes:
        note_row += 1
        text = clean_text(note)
        sid = looks.id(("note", False, "left", False, needs_quote(text), None, False))
        rows[note_row] = {1: (1, sid, "s", text)}
        if width > 1:
            merges.append(f"A{note_row}:{letters[-1]}{note_row}")
        plan.heights[note_row] = _estimated_lines(text, total_width) * LINE_PT + ROW_PADDING_PT / 2

    for r in list(rows):  # converted row by row, so the two forms of a big sheet never coexist
        target = rows.pop(r)
        plan.rows[r] = [target[cc] for cc in sorted(target)]
    plan.last_row = max(note_row, 1)
    plan.last_col = max(width, 1)
    _row_heights(plan, sheet, height, lines_needed)
    plan.validations = [(lists.formula(sheet.validations[name]), _column_runs(positions))
                        for name, positions in validations.items()]
    plan.repeat_rows = sheet.title_rows + sheet.header_rows
    plan.print_rows = note_row if width else 0
    return plan


def _row_heights(plan: SheetPlan, sheet: Sheet, height: int, lines_needed: dict[int, int]) -> None:
    for r in range(height):
        if r in sheet.row_heights:
            plan.heights[r + 1] = sheet.row_heights[r]
        elif r < sheet.title_rows:
            first = sheet.rows[r][0] if r < len(sheet.rows) and sheet.rows[r] else None
            plan.heights[r + 1] = TITLE_ROW_PT if first is not None and first.kind == "title" else SUBTITLE_ROW_PT
        elif lines_needed.get(r, 1) > 1:
            # Excel does not grow rows for wrapped text in files it did not lay out itself.
            plan.heights[r + 1] = lines_needed[r] * LINE_PT + ROW_PADDING_PT


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
