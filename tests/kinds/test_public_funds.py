"""公用经费绩效考核兑现表: samples, the grid, and the rendered cells adding up to the cent."""

from __future__ import annotations

import io
import json
from decimal import Decimal as D
from pathlib import Path

import pytest

import kinds
from generators.public_funds import HEADERS, workbook
from kinds import pipeline
from rules.settings import defaults, load_settings

KIND = "public_funds_assessment"
SAMPLE = Path(kinds.get(KIND).sample_dir) / "county_2023.json"
PERFORMANCE_TOTAL = D("7835793.00")  # Σ budget 26,119,310.00 × 30 %


def sample() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def column(name: str) -> int:
    return HEADERS.index(name)


def body_rows(sheet):
    """The unit rows of the grid as lists of cell values, and the 合计 row."""
    matrix = sheet.matrix()
    first = sheet.title_rows + sheet.header_rows
    values = [[c.value if c is not None else None for c in row] for row in matrix[first:]]
    return values[:-1], values[-1]


def test_kind_is_registered_with_xlsx_and_docx():
    kind = kinds.get(KIND)
    assert kind.formats == ("xlsx", "docx")
    assert kind.samples() and len(kind.invalid_samples()) >= 3


def test_sample_totals_add_up_to_the_cent():
    data = pipeline.validate(KIND, sample())
    totals = data["assessment"]["totals"]
    assert totals["performance"] == PERFORMANCE_TOTAL
    assert totals["paid_performance"] + totals["saved"] == PERFORMANCE_TOTAL
    assert totals["base"] + totals["performance"] == totals["budgeted"] == D("26119310.00")
    rows, total_row = body_rows(workbook(data, defaults()).sheets[0])
    assert len(rows) == len(sample()["units"])
    for name in ("公用经费预算", "基础公用经费", "绩效公用经费", "应兑现绩效公用经费", "节约资金", "实际下达公用经费"):
        assert sum(r[column(name)] for r in rows) == total_row[column(name)], name
    for r in rows:
        assert r[column("应兑现绩效公用经费")] + r[column("节约资金")] == r[column("绩效公用经费")]
        assert r[column("基础公用经费")] + r[column("绩效公用经费")] == r[column("公用经费预算")]


@pytest.mark.parametrize("rule", ["proportional", "tiered", "threshold"])
def test_every_rule_keeps_the_7835793_yuan_exact(rule):
    settings = load_settings({"public_funds": {"rule": rule}})
    data = pipeline.validate(KIND, sample(), settings)
    totals = data["assessment"]["totals"]
    assert totals["performance"] == PERFORMANCE_TOTAL
    assert totals["paid_performance"] + totals["saved"] == PERFORMANCE_TOTAL


def test_rendered_xlsx_cells_add_up_exactly():
    pytest.importorskip("generators.tables.xlsx", reason="the shared table renderers (generators/tables) are not in this tree yet")
    from openpyxl import load_workbook

    content = pipeline.produce(KIND, sample(), "xlsx").content
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header_at = next(i for i, r in enumerate(rows) if r and r[0] == "序号")
    units = [r for r in rows[header_at + 1:] if isinstance(r[0], int)]
    total = next(r for r in rows[header_at + 1:] if r[0] == "合计")
    assert len(units) == 15

    def cents(value) -> D:
        # xlsx stores numbers as binary doubles; every amount here has 2 decimals, so the shortest
        # repr of the double is the amount the cell shows.
        return D(repr(value)) if isinstance(value, float) else D(value)

    paid = [cents(r[column("应兑现绩效公用经费")]) for r in units]
    saved = [cents(r[column("节约资金")]) for r in units]
    perf = [cents(r[column("绩效公用经费")]) for r in units]
    assert sum(perf) == cents(total[column("绩效公用经费")]) == PERFORMANCE_TOTAL
    assert sum(paid) + sum(saved) == PERFORMANCE_TOTAL
    assert sum(paid) == cents(total[column("应兑现绩效公用经费")])
    assert sum(saved) == cents(total[column("节约资金")])


def test_rendered_docx_states_the_totals():
    pytest.importorskip("generators.tables.docx", reason="the shared table renderers (generators/tables) are not in this tree yet")
    from docx import Document

    data = pipeline.validate(KIND, sample())
    content = pipeline.render(KIND, data, "docx")
    text = "\n".join(cell.text for table in Document(io.BytesIO(content)).tables for row in table.rows
                     for cell in row.cells)
    assert "7,835,793.00" in text
    totals = data["assessment"]["totals"]
    assert f"{totals['paid_performance']:,.2f}" in text and f"{totals['saved']:,.2f}" in text

