"""Column widths fitted to the content (generators/tables/widths.py), on the model: a value's
figure with its unit kept whole, a remark not held to it."""

from __future__ import annotations

from generators.grid import Cell, Column, Sheet
from generators.tables.widths import FORM_MEASURES, fitted_widths, value_run, xlsx_widths


def _sheet(value: str, remark: str) -> Sheet:
    sheet = Sheet(name="表", columns=[Column(30), Column(8), Column(12), Column(30)], header_rows=1, landscape=True)
    sheet.add(Cell("三级指标", "header"), Cell("指标值", "header"), Cell("实际值", "header"), Cell("备注", "header"))
    sheet.add(Cell("单位管网造价", "text"), Cell(value, "text"), Cell("15.2", "text"), Cell(remark, "text"))
    return sheet


def test_a_figure_with_its_unit_is_one_line_of_its_column():
    """≤14.5万元/公里 printed ≤14.5万/元/公里 in the PDF of the 自评表: its column is fitted to hold
    it on one line in every format (PDF, docx, LibreOffice's docx) and in the xlsx's narrowest
    engine; a long remark with figures in it is not (it would balloon its column)."""
    assert value_run("≤14.5万元/公里") > 7 and value_run("≤ 14.5 万元/公里") > 7
    assert value_run("约≤14.5万元/公里") > value_run("≤14.5万元/公里")  # what precedes it shares its line
    assert value_run("2024年11月底前完工") == 0  # a date is no figure with a unit
    remark = "偏差原因：其他资金中村级自筹部分到位较慢，缺编3人，另有1.5万元/公里的差额"
    assert value_run(remark) == 0
    sheet = _sheet("≤14.5万元/公里", remark)
    widths = fitted_widths(sheet)
    total = FORM_MEASURES[True][0].type_mm
    assert all(m.capacity(widths[1], total) >= value_run("≤14.5万元/公里") for m in FORM_MEASURES[True])
    plain = fitted_widths(_sheet("≤14.5", remark))
    assert widths[3] >= plain[3] - 6  # the remark's column gives a little, keeps its share
    units = xlsx_widths(sheet)
    assert (units[1] * 7 - 7) / 15 >= value_run("≤14.5万元/公里")  # Gnumeric's text area (Excel's is wider)
