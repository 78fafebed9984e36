"""Column widths from a sheet's content, once for the PDF, the docx and the xlsx.

A builder's Column.width is a share of the page; the printed width of a column decides how a
caption or a figure wraps in it. Widths are fixed here, in millimetres of the type area, so that
in every column:

* no caption (a header or label cell) leaves one character alone on its last line (“实施单/位”);
* no figure (money, percent, score, count) is wider than its column, so none is broken
  (“1,843,216.3/7”, “96.50/%”), nor a figure with its unit in a short value cell (“≤14.5万/元/公里”:
  value_run).

A column that fails either is widened to the nearest width that passes; the millimetres it takes
come from the columns that need nothing, in proportion to their width. Text is wrapped here as a
line-breaking engine does for CJK: any character may end a line, a run of Latin letters, digits
and their punctuation only where it ends. Every format a table is printed in must pass, each
with its Measure (type width, cell face, padding; FORM_MEASURES for the standalone forms: the
PDF's 174 mm portrait type width, the docx's 170 mm), checked as printed
(tests/office/test_cell_lines.py). The tables in a report's body are fitted by the same function
with their own measures and rule (generators/gongwen/tables.py).

The xlsx is measured in its own units (xlsx_widths): a column's width counts digits of the
workbook's default face (Calibri 11 pt), and a cell wraps its 11 pt text in what is left of that
width after the cell's padding, a CJK character being about one em. The engines differ: Excel and
WPS (ECMA-376's pixels, 7 px a digit, less 5 px of padding) and Gnumeric (a little narrower still:
measured, 7 px of padding, a character 15 px) at the narrow end; Calc, which measures Noto Serif
CJK's wider digit through the project's fontconfig, at the wide end (measured: 1.8 units a
character). A column passes when its captions and figures pass at every capacity between the
two. A column that needs width takes it from the page's spare width first (a sheet narrower than
its printable width still prints at full size), then from the columns that need none, each
keeping three quarters of its width; past that the sheet grows and prints a little smaller. A
caption that passes only stacked a character a line (确/定/能) fails the check, so such a column
takes the width that holds it on fewer lines.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from functools import lru_cache

from generators.grid import Sheet, StreamedRows
from generators.tables import NUMERIC_KINDS, cell_text
from generators.tables.xlsx_pages import printable_pt
from generators.tables.xlsx_parts import BODY_PT

CHAR_MM = 10.5 * 25.4 / 72  # a CJK character of the 五号 body face
PAD_MM = 2.4  # a cell's left and right padding and rules (PDF 2 × 3 pt + 0.75 pt; docx 2 × 57 twips)
NARROW = 0.97  # LibreOffice's and Excel's faces run a little wider than weasyprint's
HALF = 0.55  # Latin letters and digits, in CJK characters


@dataclass(frozen=True)
class Measure:
    """How one format prints a table's cells: its type width, one CJK character of the cells'
    face and a cell's left and right padding with its rule (millimetres), and how much of a line
    its faces fill (below 1 where they run wider than the model's)."""

    type_mm: float
    char_mm: float = CHAR_MM
    pad_mm: float = PAD_MM
    factor: float = 1.0

    def capacity(self, mm: float, total: float) -> float:
        """CJK characters one line holds in a column `mm` wide of a table `total` wide."""
        width = mm if self.type_mm == total else mm * self.type_mm / total
        return (width - self.pad_mm) / self.char_mm * self.factor


# The standalone forms: the docx (170 mm portrait type width, the narrowest, in which widths are
# stated), the PDF (174 mm) and the docx as LibreOffice sets it.
FORM_MEASURES = {landscape: (Measure(docx), Measure(pdf), Measure(docx, factor=NARROW))
                 for landscape, docx, pdf in ((False, 170.0, 174.0), (True, 257.0, 261.0))}
CAPTION_KINDS = frozenset({"header", "label"})
_LATIN = r"[0-9A-Za-z.,%‰+\-−×/:()（）]+"
CLOSING = "。，、；：！？）》」』”’"  # never starts a line (禁则): goes with the character before it
# Tokens as the forms' captions are measured, and with the closing punctuation held to the
# character before it (the reports' text cells, where “价。” alone on a line is a lone character).
_TOKEN = {False: re.compile(rf"{_LATIN}|.", re.S), True: re.compile(rf"(?:{_LATIN}|.)[{CLOSING}]*", re.S)}
_CJK = re.compile(r"[\u3400-\u9fff]")


FULL_QUOTES = frozenset("‘’“”")  # full width in the CJK faces (仿宋, and Word's East Asian runs)


def _advance(ch: str) -> float:
    return HALF if ord(ch) < 0x2E80 and ch not in FULL_QUOTES else 1.0


@lru_cache(maxsize=4096)
def _tokens(text: str, kinsoku: bool = False) -> tuple[tuple[str, float], ...]:
    return tuple((t, sum(_advance(ch) for ch in t)) for t in _TOKEN[kinsoku].findall(text))


Shape = tuple[tuple[tuple[float, bool], ...], ...]  # per paragraph, (width, one CJK character) a token


def shape(text: str, kinsoku: bool = False) -> Shape:
    """What wrapping a text depends on: its tokens' widths, and which are one CJK character
    (with `kinsoku`, the punctuation closing it: “价。”). Captions of one shape (第1单位 … 第999单位) are checked once."""
    return tuple(tuple((w, len(t.rstrip(CLOSING)) == 1 and bool(_CJK.match(t))) for t, w in _tokens(p, kinsoku))
                 for p in text.split("\n") if len(p) > 1)


@lru_cache(maxsize=65536)
def _lone(paragraphs: Shape, capacity: float) -> bool:
    for tokens in paragraphs:
        width, alone = 0.0, False
        for w, single in tokens:
            if width and width + w > capacity + 1e-9:
                width = 0.0  # the token starts a line
            alone = single and not width
            width += w
        if alone:
            return True
    return False


def lone_last_character(text: str, capacity: float) -> bool:
    """Whether `text`, wrapped in `capacity` CJK characters, ends a paragraph with one CJK
    character alone on its line."""
    return _lone(shape(text), capacity)


def widest_token(text: str) -> float:
    return max((w for _t, w in _tokens(text)), default=0.0)


# Units a value carries after its number (the 度量单位 of the indicators, money, counts, rates):
# “≤14.5万元/公里” is one figure, not to be broken “≤14.5万/元/公里”.
UNITS = ("万元", "元", "万亩", "亩", "公里", "千米", "米", "平方米", "立方米", "公斤", "千克", "吨", "万人次",
         "人次", "万人", "人", "个月", "个", "处", "期", "座", "起", "批次", "次", "户", "份", "所", "家", "项",
         "块", "台", "套", "辆", "场", "天", "小时", "%", "‰")
_UNIT = "|".join(sorted(map(re.escape, UNITS), key=len, reverse=True))
_FIGURE = re.compile(rf"(?:[≥≤＞＜><=＝≈]\s*)?[+\-−]?\d[\d,]*(?:\.\d+)?\s*(?:{_UNIT})(?:/(?:{_UNIT}))?")
VALUE_CHARS = 12  # a value cell (指标值 “≥1.8万人”), not a remark: longer text keeps the plain rule


def value_figures(text: str) -> list[re.Match]:
    """The figures with a unit in a value cell of at most VALUE_CHARS characters (none in longer
    text, a remark, which keeps the plain rule and so never balloons its column)."""
    return [] if len(text) > VALUE_CHARS or "\n" in text else list(_FIGURE.finditer(text))


def value_run(text: str) -> float:
    """The width (CJK characters) a short value cell needs on one line so that no figure with its
    unit is broken: up to the end of its last figure, since an engine fills a line before
    breaking (“约≤14.5万/元/公里”)."""
    found = value_figures(text)
    return sum(_advance(ch) for ch in text[:found[-1].end()]) if found else 0.0


class _Needs:
    """What a column's content asks of its width."""

    __slots__ = ("captions", "figure")

    def __init__(self) -> None:
        self.captions: set[Shape] = set()
        self.figure = 0.0  # the widest figure, in CJK characters


def _needs(sheet: Sheet, whole_kinds: frozenset[str] = CAPTION_KINDS, kinsoku: bool = True,
           units: bool = True) -> list[_Needs]:
    needs = [_Needs() for _ in sheet.columns]
    for r, c, cell in sheet.placed():
        if r < sheet.title_rows or cell.colspan != 1 or cell.value is None:
            continue
        if cell.kind in NUMERIC_KINDS:
            needs[c].figure = max(needs[c].figure, widest_token(cell_text(cell)))
            continue
        text = cell_text(cell)
        if cell.kind in whole_kinds and len(text) > 1:
            needs[c].captions.add(shape(text, kinsoku))
        if units and (run := value_run(text)):  # a value's figure with its unit, whole
            needs[c].figure = max(needs[c].figure, run)
    return needs


def _passes(need: _Needs, mm: float, measures: tuple[Measure, ...]) -> bool:
    total = measures[0].type_mm
    caps = [m.capacity(mm, total) for m in measures]
    if need.figure and min(caps) < need.figure:
        return False
    return not any(_lone(paragraphs, cap) for paragraphs in need.captions for cap in caps)


def _fitted(need: _Needs, mm: float, measures: tuple[Measure, ...]) -> float:
    """The nearest width from `mm` up (in tenths of a character) that passes."""
    step = measures[0].char_mm / 10
    for i in range(0, 400):
        if _passes(need, mm + i * step, measures):
            return mm + i * step
    return mm


def _spread(widths: list[float], needs: list[_Needs], grow, total: float) -> list[float]:
    """Each column widened by `grow` (its need, its width → the width that passes), the width it
    takes coming from the columns that need none, in proportion; `total` kept."""
    fixed: set[int] = set()
    for _round in range(8):
        changed = {}
        for i, need in enumerate(needs):
            grown = grow(need, widths[i])
            if grown > widths[i] + 1e-9:
                changed[i] = grown
        if not changed:
            break
        extra = sum(w - widths[i] for i, w in changed.items())
        for i, w in changed.items():
            widths[i] = w
        fixed |= changed.keys()
        free = [i for i in range(len(widths)) if i not in fixed]
        room = sum(widths[i] for i in free)
        if room <= extra * 1.5:  # nothing left to take from: the page decides
            factor = total / sum(widths)
            return [w * factor for w in widths]
        for i in free:
            widths[i] -= extra * widths[i] / room
    return widths


def fitted_widths(sheet: Sheet, measures: tuple[Measure, ...] | None = None,
                  whole_kinds: frozenset[str] = CAPTION_KINDS, kinsoku: bool = False,
                  units: bool | None = None) -> list[float]:
    """The columns' widths in millimetres, summing to the first measure's type width (the other
    formats scale them): by default a standalone form's (FORM_MEASURES), a report's tables pass
    their own. `whole_kinds` are the kinds of cell whose text may not leave one character alone
    on its last line (the forms': captions), with `kinsoku` nor with only the punctuation closing
    it (the reports' tables). With `units` (by default for the forms only: a report's narrower
    tables are not held to it yet), short value cells keep their figures with their units whole
    (value_run). Cached on the sheet per arguments, since the renderers and a batch ask again."""
    units = measures is None if units is None else units
    measures = measures or FORM_MEASURES[sheet.landscape]
    key = (measures, whole_kinds, kinsoku, units)
    cache = sheet.__dict__.setdefault("_fitted_widths", {})
    cached = cache.get(key)
    if cached is not None:
        return cached
    total = measures[0].type_mm
    weights = [max(col.width, 0.1) for col in sheet.columns]
    scale = total / sum(weights) if weights else 0
    widths = [w * scale for w in weights]
    if isinstance(sheet.rows, list) and widths:  # a streamed sheet keeps its builder's shares
        needs = _needs(sheet, whole_kinds, kinsoku, units)
        widths = _spread(widths, needs, lambda need, mm: _fitted(need, mm, measures), total)
    cache[key] = widths
    return widths


def whole_parts(widths: list[float], total: int) -> list[int]:
    """`widths` in proportion as whole units (a docx's twips) summing exactly to `total`."""
    whole = sum(widths)
    edges, acc = [0], 0.0
    for w in widths:
        acc += w
        edges.append(round(total * acc / whole))
    return [b - a for a, b in zip(edges, edges[1:], strict=False)]


# The xlsx's measure (units of the default face's digit; see the module's docstring). What one line
# of an 11 pt cell holds in a column `units` wide, in CJK characters, at the two ends of the engines:
# Gnumeric, the narrowest, lays a column out as Excel does (7 px a Calibri digit) but keeps about
# 7 px of it for the cell's padding and sets a character in 15 px (Excel itself: ECMA-376's pixels,
# Truncate(((256 × units + Truncate(128 / 7)) / 256) × 7), less its 5 px of padding, a little more);
# Calc, through the project's fontconfig, 1.8 units a character with 0.3 units of padding. Both
# measured on their prints: the width from which n characters (n = 2 … 8) stay on one line.
XLSX_NARROW = (7.0, 7.0, 15.0)  # px a unit, px of padding, px a character (Gnumeric; Excel, WPS wider)
XLSX_WIDE = (1 / 1.8, 0.2 / 1.8, 1.0)  # the same in characters (Calc), a little generous
XLSX_DIGIT_PX = 7.0  # Excel's unit, in which the page's width is reckoned (xlsx_pages)
XLSX_BODY_PT = float(BODY_PT)  # the cells' size in the xlsx styles (headers are the same size, bold)
XLSX_STEP = 0.05  # capacities checked across the band, a twentieth of a character apart
XLSX_KEEP = 0.75  # a column that needs nothing gives up at most a quarter of its builder's width


def _xlsx_capacity(units: float, engine: tuple[float, float, float]) -> float:
    per_unit, padding, char = engine
    return max(units * per_unit - padding, 0.0) / char


@lru_cache(maxsize=4096)
def _xlsx_capacities(units: float) -> tuple[float, ...]:
    """The CJK characters of the cells' size that one line holds in a column `units` wide, from
    the narrowest engine to the widest, padding included."""
    low, high = _xlsx_capacity(units, XLSX_NARROW), _xlsx_capacity(units, XLSX_WIDE)
    steps = max(1, math.ceil((high - low) / XLSX_STEP))
    return tuple(low + (high - low) * i / steps for i in range(steps + 1))


def _xlsx_grow(need: _Needs, units: float) -> float:
    for i in range(0, 400):  # in tenths of a digit
        grown = round(units + i / 10, 2) if i else units
        caps = _xlsx_capacities(grown)
        if caps[0] >= need.figure and not any(_lone(p, cap) for p in need.captions for cap in caps):
            return grown
    return units


def xlsx_room(columns: int, landscape: bool) -> float:
    """The widest a sheet of `columns` columns may be (units) and still print at full size, one
    page wide: Excel's pixels of each column (rounded down, a unit 7 px) within the page's width."""
    return (printable_pt(landscape) / 0.75 - columns * 0.5) / XLSX_DIGIT_PX


@lru_cache(maxsize=1024)
def _xlsx_fitted(spec: tuple[tuple[float, frozenset[Shape], float], ...], room: float) -> tuple[float, ...]:
    """Fitted xlsx widths of a column spec ((builder width, caption shapes, widest figure) a
    column): a batch's thousand units share a few specs. A column that needs width takes it from
    the page's spare width first (up to `room`, where the sheet still prints at its scale), then
    from the columns that need none, each keeping XLSX_KEEP of its width; past that the sheet
    grows and prints smaller."""
    needs = []
    for _w, captions, figure in spec:
        need = _Needs()
        need.captions, need.figure = set(captions), figure
        needs.append(need)
    builder = [w for w, _c, _f in spec]
    widths = list(builder)
    room = max(room, sum(builder))
    fixed: set[int] = set()
    for _round in range(8):
        changed = {i: g for i, need in enumerate(needs) if (g := _xlsx_grow(need, widths[i])) > widths[i] + 1e-9}
        if not changed:
            break
        for i, w in changed.items():
            widths[i] = w
        fixed |= changed.keys()
        over = sum(widths) - room
        if over > 0:
            give = {i: widths[i] - XLSX_KEEP * builder[i] for i in range(len(widths)) if i not in fixed}
            give = {i: g for i, g in give.items() if g > 0}
            spare = sum(give.values())
            if spare > 0:
                taken = min(over, spare)
                for i, g in give.items():
                    widths[i] -= taken * g / spare
    return tuple(round(w, 2) for w in widths)


def xlsx_widths(sheet: Sheet) -> list[float]:
    """The columns' xlsx widths (digits of the default face), fitted to the content as Calc and
    Excel wrap 11 pt cells, padding included (see _xlsx_fitted for where the width comes from).
    A streamed sheet (a summary's thousands of 分单位 rows) is fitted to the rows it holds before
    the stream (its captions) only, so its rows are made once for the file; its streamed figures
    are not measured."""
    widths = [max(col.width, 0.1) for col in sheet.columns]
    if not widths:
        return widths
    if isinstance(sheet.rows, StreamedRows):  # fitted to its head (the captions): one pass of the rows only
        sheet = dataclasses.replace(sheet, rows=list(sheet.rows.head))
    spec = tuple((w, frozenset(n.captions), n.figure) for w, n in zip(widths, _needs(sheet), strict=True))
    room = xlsx_room(len(widths), sheet.landscape) if sheet.fit_width else 0.0
    return list(_xlsx_fitted(spec, room))
