"""The .xlsx as a spreadsheet program opens it: LibreOffice Calc prints it to PDF.

openpyxl reading a file back proves little about whether an office suite accepts it (openpyxl
is lenient about element order and missing parts). Calc is: it refuses a damaged package, and
its PDF shows the print set-up (paper, orientation, the repeated footer), the number formats and
that formula-like user text stays text.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from generators.tables.xlsx import render_xlsx
from kinds import get, pipeline
from rules.formatting import percent_text
from rules.rounding import percent
from tests.generators.tables_sample import self_evaluation_workbook

pytestmark = [pytest.mark.libreoffice, pytest.mark.xdist_group("libreoffice")]

A4_LONG, A4_SHORT = 841.89, 595.3


def _print(tmp_path: Path, books: dict[str, bytes]) -> dict[str, tuple[list[tuple[float, float]], str]]:
    for name, data in books.items():
        (tmp_path / f"{name}.xlsx").write_bytes(data)
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), *(str(tmp_path / f"{n}.xlsx") for n in books)],
        check=True, capture_output=True, timeout=180,
    )
    result = {}
    for name in books:
        pdf = tmp_path / f"{name}.pdf"
        assert pdf.exists(), f"LibreOffice could not open {name}.xlsx"
        info = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", str(pdf)], check=True, capture_output=True,
                              text=True).stdout
        sizes = [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                              text=True).stdout
        result[name] = (sizes, text)
    return result


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    sample = json.loads(get("monitoring").samples()[0].read_text(encoding="utf-8"))
    books = {"self_evaluation": render_xlsx(self_evaluation_workbook()),
             "monitoring": pipeline.produce("monitoring", sample, "xlsx").content}
    printed = _print(tmp_path_factory.mktemp("calc"), books)
    printed["monitoring_data"] = pipeline.validate("monitoring", sample)
    return printed


def test_calc_opens_the_workbook_and_prints_each_sheet_on_a4(printed):
    sizes, text = printed["self_evaluation"]
    # 自评表 landscape (one or two pages, as Times New Roman's metrics scale it to the width),
    # 资金明细 portrait; the hidden drop-down list sheet is not printed
    assert 2 <= len(sizes) <= 3
    assert all(size == pytest.approx((A4_LONG, A4_SHORT), abs=1) for size in sizes[:-1])
    assert sizes[-1] == pytest.approx((A4_SHORT, A4_LONG), abs=1)
    assert "项目支出绩效自评表" in text
    assert "追加预算，调整进度" not in text  # a value of the hidden list sheet
    assert re.search(r"第 1 页，共 \d+ 页", text)


def test_calc_shows_the_number_formats(printed):
    _, text = printed["self_evaluation"]
    for shown in ("1,200.00", "1,250.50", "94.95%", "100.00%", "9.49"):
        assert shown in text, shown


def test_formula_like_user_text_is_printed_as_typed(printed):
    _, text = printed["self_evaluation"]
    assert '=HYPERLINK("http://evil.example/x","点我")' in text
    assert "@SUM(A1)" in text and "-2+3" in text


def test_calc_prints_a_monitoring_table_with_its_period_and_rates(printed):
    sizes, text = printed["monitoring"]
    assert sizes and all(w > h for w, h in sizes)  # landscape
    assert "执行监控表" in text and "1-6月" in text
    rate = printed["monitoring_data"]["computed"]["execution_rate"]
    assert percent_text(percent(rate)) in text  # 1-6月执行率 as the rules compute and round it (55.74%)
    assert "1,260.00" in text  # 年初预算数 in the money format
