"""xlsx rendering of the table-grid model with openpyxl.

`render_xlsx(workbook)` lays out every Sheet as the official form prints: title rows merged and
centred without borders, header cells bold and shaded, every table cell bordered and wrapped, the
notes under the table, A4 with the header rows repeated on each page.

Three things are done differently from the obvious openpyxl calls, each for a reason:

* User text is bound as a string by us, never through `cell.value`: openpyxl turns any str
  beginning with "=" into a formula and strings like "#N/A" into error values. User text must
  stay text (CSV/formula injection), so every str is written as an inline string, and the risky
  ones (= + - @ TAB CR LF and the full-width ＝＋－＠) also get quotePrefix, which keeps them text
  when a clerk edits the cell. Money, percent and score are written as numbers, never as text.
* Merges are written in one go. `ws.merge_cells` checks each new range against every earlier one
  (quadratic: 19,000 merges took 129 s) and builds a CellRange object per range and per covered
  cell. The grid model has already checked that spans do not collide (Sheet.placed), so the sheet
  body — cells, the styled placeholders of merged areas and <mergeCells> — is written by
  `_SheetWriter`, a subclass of openpyxl's worksheet writer that emits one lxml element tree per
  row into openpyxl's own incremental xmlfile (escaping is lxml's; no XML is built from strings).
  Everything around the body (columns, protection, validations, print setup, styles, workbook
  parts) is still openpyxl's.
* Styles are built once per distinct look (kind, bold, alignment, lock, quote prefix, number
  format, border) and referenced by their xf index; assigning Font/Border objects per cell hashes
  them each time and dominates the run time of big sheets.

Timing (python -m bench.tables: 1,000 units, 19,001 merges, 53,011 cells + 27,000 merged
placeholders): 1.1–1.7 s of CPU on the shared 2-core development machine (1.2–1.5 s wall when it
was quiet), against 129 s with ws.merge_cells. Write-only mode was not used: it writes
cells through the same per-cell path (openpyxl's lxml_write_cell, ~20 µs a cell here) and gains
nothing once merges and cells bypass the per-cell objects.

The writer subclasses rely on openpyxl 3.1's WorksheetWriter/ExcelWriter structure;
tests/generators/test_tables_xlsx.py reads every file back with openpyxl and as raw XML, so a
change there shows up in the tests.
"""

from __future__ import annotations

import datetime as _dt
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook as XlWorkbook
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.worksheet.page import PageMargins
from openpyxl.writer.excel import ExcelWriter
from openpyxl.xml.functions import Element, SubElement

from generators.grid import Cell, Sheet, Workbook
from generators.tables import KIND_ALIGN, RATIO_PLACES, is_number
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

XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"

MAX_CELL_CHARS = 32767  # Excel's limit per cell

THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
NO_BORDER = Border()
HEADER_FILL = PatternFill(fill_type="solid", start_color="F2F2F2", end_color="F2F2F2")
NO_FILL = PatternFill()

# Sizes in points. Title 18 pt (小二) and 11 pt table text read well printed at one page width.
TITLE_PT = 18
SUBTITLE_PT = 11
BODY_PT = 11
NOTE_PT = 10.5
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
PROTECTION_PASSWORD = None

# Margins in inches: 2 cm left/right, 2.5 cm top/bottom, header/footer 1 cm.
MARGINS = PageMargins(left=0.79, right=0.79, top=0.98, bottom=0.98, header=0.39, footer=0.39)


def render_xlsx(workbook: Workbook, fonts: Mapping[str, str] | None = None) -> bytes:
    """The .xlsx bytes of a Workbook. `fonts` maps "songti"/"fangsong" to face names
    (settings["layout"]["fonts"]); the defaults are 宋体 and 仿宋_GB2312."""
    if not workbook.sheets:
        raise ValueError("a workbook without sheets cannot be written as xlsx")
    faces = {**DEFAULT_FONTS, **{k: v for k, v in (fonts or {}).items() if k in DEFAULT_FONTS}}
    book = XlWorkbook()
    book.remove(book.active)
    styles = _Styles(book, faces)
    lists = _Lists(book, {s.name for s in workbook.sheets}, styles)
    # Every sheet exists before any is written, so the hidden list sheet (made on demand) comes last.
    targets = [(book.create_sheet(_sheet_title(sheet.name)), sheet) for sheet in workbook.sheets]
    grids = {id(ws): _write_sheet(ws, sheet, styles, lists) for ws, sheet in targets}
    props = book.properties
    props.title = workbook.title
    props.creator = "jxdoc"
    props.lastModifiedBy = "jxdoc"
    if workbook.meta.get("unit"):
        props.subject = str(workbook.meta["unit"])
    if workbook.meta.get("author"):
        props.creator = str(workbook.meta["author"])
    book.active = 0
    planned = styles.planned_stylesheet()
    if planned is None:
        styles.materialize()
    out = io.BytesIO()
    with ZipFile(out, "w", ZIP_DEFLATED, allowZip64=True) as zf:
        archive = _Archive(zf, planned)
        _ExcelWriter(book, archive, grids).save()
    if planned is None and archive.styles_xml is not None:
        styles.remember(archive.styles_xml)
    return out.getvalue()


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


# Process-wide memo of style plans (see _Styles): which style id the next new look gets after a
# given sequence of looks, and the styles.xml a whole sequence produces. Bounded: a process
# renders a few dozen form layouts, not thousands.
_PLAN_IDS: dict[tuple, int] = {}
_PLAN_SHEETS: dict[tuple, bytes] = {}
_PLAN_MAX = 4096
ARC_STYLES = "xl/styles.xml"


class _Styles:
    """One shared StyleArray per distinct look (see the module docstring), and its xf index.

    The ids depend only on the order in which a workbook first asks for its looks, and so does
    its styles.xml. A batch renders the same form layout thousands of times, so the plan of the
    first workbook is remembered: while every look of a new workbook follows a remembered plan,
    nothing is built in openpyxl at all (`lazy`) and the remembered styles.xml is written; at
    the first look off the plan, the looks so far are built for real, in the same order (so the
    ids handed out stay right), and the workbook continues the ordinary way.
    """

    def __init__(self, book: XlWorkbook, faces: Mapping[str, str]):
        self.book = book
        self.faces = faces
        self._plan = tuple(sorted(faces.items()))
        self._ids: dict[tuple, int] = {}
        self.order: list[tuple] = []
        self.lazy = True
        self._ws = None

    def style(self, ws, key: tuple) -> int:
        """The style id of a look: (kind, bold, align, editable, quoted, number format, bordered)."""
        found = self._ids.get(key)
        if found is not None:
            return found
        self._ws = ws
        if self.lazy:
            planned = _PLAN_IDS.get((self._plan, tuple(self.order), key))
            if planned is not None:
                self.order.append(key)
                self._ids[key] = planned
                return planned
            self.materialize()
        sid = self._build(ws, key)
        self.order.append(key)
        self._ids[key] = sid
        return sid

    def materialize(self) -> None:
        """Build the looks handed out so far in openpyxl, as if the plan had not been known."""
        if not self.lazy:
            return
        self.lazy = False
        for key in self.order:
            if self._build(self._ws, key) != self._ids[key]:
                raise RuntimeError("xlsx style plan out of step with openpyxl")  # a bug, loudly

    def planned_stylesheet(self) -> bytes | None:
        """The remembered styles.xml when every look of this workbook came from a plan."""
        return _PLAN_SHEETS.get((self._plan, tuple(self.order))) if self.lazy else None

    def remember(self, styles_xml: bytes) -> None:
        """Keep this workbook's plan (after it was built for real) for the next ones."""
        if self.lazy:
            return
        if len(_PLAN_IDS) > _PLAN_MAX:
            _PLAN_IDS.clear()
            _PLAN_SHEETS.clear()
        for i, key in enumerate(self.order):
            _PLAN_IDS[(self._plan, tuple(self.order[:i]), key)] = self._ids[key]
        _PLAN_SHEETS[(self._plan, tuple(self.order))] = styles_xml

    def _build(self, ws, key: tuple) -> int:
        proto = XlCell(ws, row=1, column=1)
        kind, bold, align, editable, quoted, number_format, bordered = key
        title = kind == "title"
        face = self.faces["songti"] if kind in ("title", "subtitle", "header") else self.faces["fangsong"]
        size = TITLE_PT if title else SUBTITLE_PT if kind == "subtitle" else NOTE_PT if kind == "note" else BODY_PT
        proto.font = Font(name=face, size=size, bold=bold or title or kind == "header")
        proto.alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
        proto.border = BOX if bordered else NO_BORDER
        if kind == "header":
            proto.fill = HEADER_FILL
        proto.protection = Protection(locked=not editable)
        if number_format:
            proto.number_format = number_format
        if quoted:
            proto.quotePrefix = True
        return proto.style_id


class _Archive:
    """The package being written, with the remembered styles.xml put in place of openpyxl's
    (which, for a lazy workbook, knows only the default style) and openpyxl's kept to remember."""

    def __init__(self, archive: ZipFile, planned: bytes | None):
        self._archive = archive
        self.planned = planned
        self.styles_xml: bytes | None = None

    def writestr(self, name, data, *args, **kwargs):
        if name == ARC_STYLES:
            if self.planned is not None:
                data = self.planned
            self.styles_xml = data if isinstance(data, bytes) else str(data).encode("utf-8")
        return self._archive.writestr(name, data, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._archive, name)


class _Lists:
    """Data-validation lists that cannot be written inline, on one hidden sheet."""

    def __init__(self, book: XlWorkbook, taken: set[str], styles: _Styles):
        self.book = book
        self.styles = styles
        self.title = LISTS_SHEET
        n = 1
        while self.title in taken:
            n += 1
            self.title = f"{LISTS_SHEET}{n}"
        self.ws = None
        self.columns = 0

    def formula(self, values: list[str]) -> str:
        text = [clean_text(str(v)) for v in values]
        inline = ",".join(text)
        if all("," not in v and '"' not in v for v in text) and len(inline) <= INLINE_LIST_MAX:
            return f'"{inline}"'
        if self.ws is None:
            self.ws = self.book.create_sheet(self.title)
            self.ws.sheet_state = "hidden"
        self.columns += 1
        col = self.columns
        for i, value in enumerate(text, start=1):
            cell = self.ws.cell(row=i, column=col)
            cell._value = value  # bound as text, like every user string (see _bind)
            cell.data_type = "s"
            if needs_quote(value):
                self.styles.materialize()  # openpyxl assigns this cell's style: no plan past it
                cell.quotePrefix = True
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


@dataclass
class _Grid:
    """A sheet's cells and merges, ready for _SheetWriter: rows of (column, style id, type, text)."""

    rows: dict[int, list[tuple[int, int, str | None, str | None]]] = field(default_factory=dict)
    merges: list[str] = field(default_factory=list)
    last_row: int = 0
    last_col: int = 0


def _write_sheet(ws, sheet: Sheet, styles: _Styles, lists: _Lists) -> _Grid:
    width = sheet.width
    for i, column in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = column.width

    grid = _Grid()
    # One dict per row (column → (style id, type, text)): cheaper than one dict keyed by
    # (row, column) and a global sort on big sheets.
    rows: dict[int, dict[int, tuple[int, str | None, str | None]]] = {}
    lines_needed: dict[int, int] = {}
    validations: dict[str, list[tuple[int, int]]] = {}
    letters = [get_column_letter(i) for i in range(1, width + 1)]
    widths = [col.width for col in sheet.columns]
    title_rows = sheet.title_rows
    style_ids: dict[tuple, int] = {}  # look → style id, ahead of _Styles for the hot loop
    height = len(sheet.rows)

    # The hot loop of big sheets (tens of thousands of cells): plain locals, one dict per cell.
    for r0, c0, c in sheet.placed():
        row, col = r0 + 1, c0 + 1
        t, text, quoted, fmt = _bind(c)
        key = (c.kind, c.bold, c.align or KIND_ALIGN[c.kind], c.editable, quoted, fmt, r0 >= title_rows)
        sid = style_ids.get(key)
        if sid is None:
            sid = style_ids[key] = styles.style(ws, key)
        anchor = (sid, t, text)
        rowspan, colspan = c.rowspan, c.colspan
        if rowspan > 1 or colspan > 1:
            last_row, last_col = row + rowspan - 1, col + colspan - 1
            if last_row > height:
                height = last_row
            grid.merges.append(f"{letters[col - 1]}{row}:{letters[last_col - 1]}{last_row}")
            # The covered positions carry the anchor's style: Excel draws a merged area's border
            # from the cells along its edge, and protection must cover the whole area.
            covered = (sid, None, None)
            for r in range(row, last_row + 1):
                target = rows.get(r)
                if target is None:
                    target = rows[r] = {}
                for cc in range(col, last_col + 1):
                    target[cc] = covered
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
    if height > sheet.title_rows:
        empty = styles.style(ws, ("text", False, "left", False, False, None, True))
        for r in range(sheet.title_rows + 1, height + 1):
            target = rows.setdefault(r, {})
            if len(target) < width:
                for cc in range(1, width + 1):
                    target.setdefault(cc, (empty, None, None))

    # Notes: one merged, unbordered, left-aligned row each, under the table.
    note_row = height
    total_width = sum(col.width for col in sheet.columns)
    for note in sheet.notes:
        note_row += 1
        text = clean_text(note)
        sid = styles.style(ws, ("note", False, "left", False, needs_quote(text), None, False))
        rows[note_row] = {1: (sid, "s", text)}
        if width > 1:
            grid.merges.append(f"A{note_row}:{letters[-1]}{note_row}")
        ws.row_dimensions[note_row].height = _estimated_lines(text, total_width) * LINE_PT + ROW_PADDING_PT / 2

    for r, target in rows.items():
        grid.rows[r] = [(cc, *target[cc]) for cc in sorted(target)]
    grid.last_row = max(note_row, 1)
    grid.last_col = max(width, 1)

    _row_heights(ws, sheet, height, lines_needed)
    _validations(ws, sheet, validations, lists)
    _print_setup(ws, sheet, height, note_row)
    if sheet.protect:
        ws.protection.sheet = True
        # Clerks may still resize rows and columns to read long text.
        ws.protection.formatRows = False
        ws.protection.formatColumns = False
        if PROTECTION_PASSWORD:
            ws.protection.password = PROTECTION_PASSWORD
    return grid


class _SheetWriter(WorksheetWriter):
    """openpyxl's worksheet writer with the cells and merges of a _Grid written directly.

    Everything else (columns, views, protection, validations, print setup) stays openpyxl's.
    Each row is one lxml element tree handed to the same incremental xmlfile openpyxl uses, so
    escaping is lxml's; no XML is built from strings.
    """

    def __init__(self, ws, grid: _Grid):
        self.grid = grid
        super().__init__(ws)

    def write_dimensions(self):
        ref = f"A1:{get_column_letter(self.grid.last_col)}{self.grid.last_row}"
        self.xf.send(SheetDimension(ref).to_tree())

    def write_rows(self):
        xf = self.xf.send(True)
        dims = self.ws.row_dimensions
        grid_rows = self.grid.rows
        letters = [get_column_letter(i) for i in range(1, self.grid.last_col + 1)]
        sids: dict[int, str] = {}
        with xf.element("sheetData"):
            for row_idx in sorted(grid_rows.keys() | dims.keys()):
                r = str(row_idx)
                attrs = {"r": r}
                attrs.update(dims.get(row_idx, {}))
                row_el = Element("row", attrs)
                for col, sid, t, text in grid_rows.get(row_idx, ()):
                    s = sids.get(sid)
                    if s is None:
                        s = sids[sid] = str(sid)
                    ref = letters[col - 1] + r
                    if t is None:
                        SubElement(row_el, "c", {"r": ref, "s": s})
                    elif t == "n":
                        SubElement(SubElement(row_el, "c", {"r": ref, "s": s}), "v").text = text
                    else:
                        t_el = SubElement(SubElement(SubElement(row_el, "c", {"r": ref, "s": s, "t": "inlineStr"}), "is"), "t")
                        t_el.text = text
                        if text != text.strip():
                            t_el.set(XML_SPACE, "preserve")
                xf.write(row_el)
        self.xf.send(None)

    def write_merged_cells(self):
        if self.grid.merges:
            merge_el = Element("mergeCells", {"count": str(len(self.grid.merges))})
            for ref in self.grid.merges:
                SubElement(merge_el, "mergeCell", {"ref": ref})
            self.xf.send(merge_el)


class _ExcelWriter(ExcelWriter):
    """openpyxl's package writer, with _SheetWriter for the sheets rendered from the grid model."""

    def __init__(self, workbook, archive, grids: dict[int, _Grid]):
        super().__init__(workbook, archive)
        self.grids = grids

    def write_worksheet(self, ws):
        grid = self.grids.get(id(ws))
        if grid is None:
            return super().write_worksheet(ws)
        # The body of ExcelWriter.write_worksheet (openpyxl 3.1) with our writer.
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = _SheetWriter(ws, grid)
        writer.write()
        ws._rels = writer._rels
        self._archive.write(writer.out, ws.path[1:])
        self.manifest.append(ws)
        writer.cleanup()


def _row_heights(ws, sheet: Sheet, height: int, lines_needed: dict[int, int]) -> None:
    dims = ws.row_dimensions
    for r in range(height):
        if r in sheet.row_heights:
            dims[r + 1].height = sheet.row_heights[r]
        elif r < sheet.title_rows:
            first = sheet.rows[r][0] if r < len(sheet.rows) and sheet.rows[r] else None
            dims[r + 1].height = TITLE_ROW_PT if first is not None and first.kind == "title" else SUBTITLE_ROW_PT
        elif lines_needed.get(r, 1) > 1:
            # Excel does not grow rows for wrapped text in files it did not lay out itself.
            dims[r + 1].height = lines_needed[r] * LINE_PT + ROW_PADDING_PT


def _validations(ws, sheet: Sheet, used: dict[str, list[tuple[int, int]]], lists: _Lists) -> None:
    for name, positions in used.items():
        dv = DataValidation(type="list", formula1=lists.formula(sheet.validations[name]), allow_blank=True,
                            showErrorMessage=True, errorTitle="输入有误", error="请从下拉列表中选择。")
        # sqref built directly: DataValidation.add checks each range against all earlier ones.
        dv.sqref = MultiCellRange(_column_runs(positions))
        ws.add_data_validation(dv)


def _column_runs(positions: list[tuple[int, int]]) -> set[CellRange]:
    """Cells as vertical runs of consecutive rows per column: few ranges for a whole column."""
    ranges: set[CellRange] = set()
    by_col: dict[int, list[int]] = {}
    for row, col in positions:
        by_col.setdefault(col, []).append(row)
    for col, rows in by_col.items():
        rows.sort()
        start = prev = rows[0]
        for row in rows[1:] + [None]:
            if row is not None and row == prev + 1:
                prev = row
                continue
            ranges.add(CellRange(min_col=col, min_row=start, max_col=col, max_row=prev))
            if row is not None:
                start = prev = row
    return ranges


def _print_setup(ws, sheet: Sheet, height: int, last_row: int) -> None:
    setup = ws.page_setup
    setup.paperSize = ws.PAPERSIZE_A4
    setup.orientation = "landscape" if sheet.landscape else "portrait"
    if sheet.fit_width:
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        setup.fitToWidth = 1
        setup.fitToHeight = 0  # as many pages as the rows need
    repeat = sheet.title_rows + sheet.header_rows
    if repeat:
        ws.print_title_rows = f"1:{repeat}"
    if last_row and sheet.width:
        ws.print_area = f"A1:{get_column_letter(sheet.width)}{last_row}"
    ws.print_options.horizontalCentered = True
    ws.page_margins = MARGINS
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.oddFooter.center.size = 10
    ws.sheet_view.showGridLines = False


__all__ = ["FORMULA_PREFIXES", "NUMBER_FORMATS", "clean_text", "needs_quote", "render_xlsx"]
