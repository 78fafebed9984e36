"""The grid model: placement around spans, the errors a builder's mistake gets, and sheets whose
rows are streamed (Sheet.stream) — which must give the very same xlsx as the rows held in a list."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from generators.grid import Cell, Column, Sheet, Workbook
from generators.tables.xlsx import render_xlsx


def _sheet(width: int = 4) -> Sheet:
    return Sheet(name="表", columns=[Column(10) for _ in range(width)], title_rows=1, header_rows=1)


def test_cells_are_placed_after_the_spans_of_rows_above():
    sheet = _sheet()
    sheet.add(Cell("a", rowspan=3), Cell("b", colspan=2), Cell("c"))
    sheet.add(Cell("d"), Cell("e", rowspan=2, colspan=2))
    sheet.add(Cell("f"))
    sheet.add(Cell("g"), Cell("h"), Cell("i"), Cell("j"))
    placed = [(r, c, cell.value) for r, c, cell in sheet.placed()]
    assert placed == [(0, 0, "a"), (0, 1, "b"), (0, 3, "c"), (1, 1, "d"), (1, 2, "e"), (2, 1, "f"),
                      (3, 0, "g"), (3, 1, "h"), (3, 2, "i"), (3, 3, "j")]
    assert sheet.height() == 4
    assert sheet.merges() == [(0, 0, 2, 0), (0, 1, 0, 2), (1, 2, 2, 3)]


def test_height_counts_a_span_below_the_last_row():
    sheet = _sheet()
    sheet.add(Cell("x"), Cell("long", rowspan=5))
    assert sheet.height() == 5 and len(sheet.matrix()) == 5


def test_a_row_that_overflows_is_refused():
    sheet = _sheet()
    sheet.add(Cell("a", rowspan=2), Cell("b", colspan=3))
    sheet.add(Cell("c", colspan=3), Cell("d"))  # column 0 is covered: c takes 1-3, d has no room
    with pytest.raises(ValueError, match="row 1: cell 'd' overflows 4 columns"):
        list(sheet.placed())


def test_spans_that_collide_are_refused():
    sheet = _sheet()
    sheet.add(Cell("a"), Cell("b", rowspan=3))
    sheet.add(Cell("c", colspan=2, rowspan=2))  # c starts at column 0 and reaches column 1, b's
    with pytest.raises(ValueError, match="spans collide at row 1, column 1"):
        list(sheet.placed())


# --------------------------------------------------------------------------- streamed sheets

def _unit_rows(n: int):
    for i in range(n):
        yield [Cell(f"{100000 + i} 单位{i}"), Cell(i, "number"), Cell(Decimal(i) * Decimal("1.25"), "money"),
               Cell(Decimal(i % 7) / 10, "percent")]


def _book(streamed: bool, n: int = 30, produce=None, notes=("注：执行率＝执行数÷预算数。",)) -> Workbook:
    sheet = Sheet(name="分单位情况", columns=[Column(18), Column(8), Column(14), Column(11)],
                  title_rows=1, header_rows=1, landscape=True, notes=list(notes))
    sheet.add(Cell("分单位情况表", "title", colspan=4))
    sheet.add(Cell("单位", "header"), Cell("项目数", "header"), Cell("预算数", "header"), Cell("执行率", "header"))
    if streamed:
        sheet.stream(n, produce or (lambda: _unit_rows(n)))
    else:
        for row in _unit_rows(n):
            sheet.add(*row)
    return Workbook(title="汇总", sheets=[sheet])


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n != "docProps/core.xml"}  # core holds the time


def test_a_streamed_sheet_gives_the_same_package_as_its_rows_in_a_list():
    streamed, held = render_xlsx(_book(True)), render_xlsx(_book(False))
    assert _parts(streamed) == _parts(held)
    ws = openpyxl.load_workbook(io.BytesIO(streamed))["分单位情况"]
    assert ws.max_row == 2 + 30 + 1 and ws["A32"].value == "100029 单位29"
    assert ws["C32"].value == pytest.approx(36.25) and ws["C32"].number_format == "#,##0.00"
    assert ws["A33"].value.startswith("注：")
    assert ws.print_title_rows == "$1:$2"


def test_streamed_rows_are_made_while_the_sheet_is_written():
    made: list[int] = []

    def produce():
        for i, row in enumerate(_unit_rows(5)):
            made.append(i)
            yield row

    book = _book(True, 5, produce)
    assert not made
    ws = openpyxl.load_workbook(io.BytesIO(render_xlsx(book))).worksheets[0]
    assert made == [0, 1, 2, 3, 4]
    assert [ws.cell(r, 1).value for r in range(1, 8)] == ["分单位情况表", "单位", *[f"{100000 + i} 单位{i}" for i in range(5)]]


def test_a_stream_longer_than_declared_is_refused():
    book = _book(True, 3, lambda: _unit_rows(4), notes=())
    with pytest.raises(ValueError, match="more rows than the 5 declared"):
        render_xlsx(book)


def test_a_span_below_a_streamed_sheet_is_refused():
    rows = [[Cell("a"), Cell("b", colspan=3)], [Cell("c", rowspan=2, colspan=4)]]
    book = _book(True, 2, lambda: iter(rows), notes=())
    with pytest.raises(ValueError, match="a span reaches below the 4 rows declared"):
        render_xlsx(book)


def test_a_sheet_streams_its_rows_once():
    sheet = _book(True).sheets[0]
    with pytest.raises(ValueError, match="streams its rows once"):
        sheet.stream(1, lambda: _unit_rows(1))
