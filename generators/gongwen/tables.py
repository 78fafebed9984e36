"""How the tables in a report's body (model.TableBlock) are set, once for both 公文 renderers
(docx.py in twips, pdf.py through gongwen.css): the cells' size, line height, padding and rules,
and the columns' widths fitted to the content across the type area.

The widths are fitted by the standalone forms' rule (generators/tables/widths.py: no caption
leaves one character alone on its last line, no figure is broken), measured with these cells
(the type width is the same in both formats; LibreOffice's faces run a little wider than
weasyprint's), and with the lone character kept out of every text cell, not only captions.
"""

from __future__ import annotations

from generators.grid import Sheet
from generators.tables import KIND_ALIGN, NUMERIC_KINDS
from generators.tables.widths import NARROW, Measure, fitted_widths

MM_PER_PT = 25.4 / 72

CELL_PT = 10.5  # 五号, the usual size of tables in reports
CELL_LINE = 1.3  # line height of the cells' text, in em
PAD_X_MM = 1.0  # a cell's padding, left and right
PAD_Y_PT = 2.0  # and above and below
RULE_PT = 0.5  # every rule of the grid

# A report's table is set in a narrower type area than a form's, so more of its cells wrap: in
# any cell but a figure's, the last character is never left alone on a line (“划定水源地保护/区”,
# “15.2万元/公/里”), nor with only its closing punctuation (“扣1/分。”), not only in captions;
# figures are never broken.
WHOLE_KINDS = frozenset(KIND_ALIGN) - NUMERIC_KINDS


def measures(type_mm: float) -> tuple[Measure, ...]:
    cell = Measure(float(type_mm), char_mm=CELL_PT * MM_PER_PT, pad_mm=2 * PAD_X_MM + RULE_PT * MM_PER_PT)
    return cell, Measure(cell.type_mm, cell.char_mm, cell.pad_mm, factor=NARROW)


def column_widths(sheet: Sheet, type_mm: float) -> list[float]:
    """The columns' widths in millimetres, summing to `type_mm` (the type area's width)."""
    return fitted_widths(sheet, measures(type_mm), WHOLE_KINDS, kinsoku=True)
