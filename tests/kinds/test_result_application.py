"""评价结果应用表: grades from scores, signed adjustments, totals in the xlsx cells; invalid samples."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

import kinds
from kinds import pipeline


def sample() -> dict:
    return json.loads(kinds.get("result_application").samples()[0].read_text(encoding="utf-8"))


def test_prepared_rows_and_totals():
    data = pipeline.validate("result_application", sample())
    rows = data["application"]["rows"]
    assert [(r["grade_label"], r["action_label"], str(r["adjustment"]), str(r["next_budget"])) for r in rows] == [
        ("良", "优先保障", "60.00", "1328.40"), ("中", "调减", "-120.50", "739.50"),
        ("差", "取消", "-185.00", "0.00"), ("良", "维持", "0", "420.00")]
    totals = data["application"]["totals"]
    assert (str(totals["current_budget"]), str(totals["cut"]), str(totals["added"]), str(totals["next_budget"])) == \
        ("2733.40", "305.50", "60.00", "2487.90")


def test_xlsx_cells():
    ws = openpyxl.load_workbook(io.BytesIO(pipeline.produce("result_application", sample(), "xlsx").content)).active
    assert ws["A1"].value == "2023年度绩效评价结果应用表" and ws["A2"].value == "（应用于2024年度预算）"
    assert [ws.cell(row=4, column=c).value for c in range(1, 12)] == [
        "序号", "项目名称", "主管部门", "评价方式", "评价得分", "等级", "主要问题", "本年预算数", "应用方式", "调整金额",
        "下年预算安排数"]
    assert [ws.cell(row=6, column=c).value for c in (2, 5, 6, 9)] == ["农村公路养护补助", 72.4, "中", "调减"]
    assert ws.cell(row=6, column=10).value == pytest.approx(-120.5)
    total = [ws.cell(row=9, column=c).value for c in (1, 8, 10, 11)]
    assert total[0] == "合计" and total[1:] == pytest.approx([2733.4, -245.5, 2487.9])
    assert "A9:G9" in {str(m) for m in ws.merged_cells.ranges}
    assert ws.cell(row=10, column=1).value.startswith("共4个项目应用评价结果（调减1个，取消1个，优先保障1个，维持1个）")


@pytest.mark.parametrize("fmt", ["xlsx", "docx", "pdf"])
def test_renders_every_format(fmt):
    assert fmt in kinds.get("result_application").formats
    out = pipeline.produce("result_application", sample(), fmt)
    assert out.filename == f"2023年度绩效评价结果应用表.{fmt}" and len(out.content) > 1000
    # every format carries the same table: the project that was cut and the totals line
    if fmt == "xlsx":
        ws = openpyxl.load_workbook(io.BytesIO(out.content)).worksheets[0]
        text = "".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    elif fmt == "docx":
        import zipfile

        text = zipfile.ZipFile(io.BytesIO(out.content)).read("word/document.xml").decode()
    else:
        import subprocess

        text = subprocess.run(["pdftotext", "-", "-"], input=out.content, capture_output=True,
                              check=True).stdout.decode()
    text = "".join(text.split())
    assert "农村公路养护补助" in text and "调减" in text and "合计" in text

