"""Table renderers on a big sheet: python -m bench.tables

A 1,000-unit summary sheet (one block of 8 rows per unit, 19 merged ranges per block, so 19,000
merges and 80,000 cells) rendered to xlsx, and read back by the hardened reader. openpyxl's
ws.merge_cells took 129 s for this; generators/tables/xlsx.py assigns the merges at once.
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal

from generators.grid import Cell, Column, Sheet, Workbook

UNITS = 1000


def big_sheet(units: int = UNITS) -> Sheet:
    sheet = Sheet(name="汇总表", columns=[Column(w) for w in (16, 10, 12, 14, 8, 12, 12, 10, 14, 10)],
                  title_rows=1, header_rows=1, landscape=True, protect=True,
                  validations={"possibility": ["确定能", "有可能", "完全不可能"]})
    sheet.add(Cell("部门项目支出绩效自评汇总表", "title", colspan=10))
    sheet.add(*(Cell(h, "header") for h in ("单位", "一级指标", "二级指标", "三级指标", "", "年度指标值", "实际完成值",
                                            "得分", "偏差原因", "")))
    for u in range(units):
        for i in range(8):
            row: list[Cell] = []
            if i == 0:
                row.append(Cell(f"第{u + 1}单位", "label", rowspan=8))
            if i in (0, 3):
                row.append(Cell("产出指标" if i == 0 else "效益指标", "label", rowspan=3))
            elif i == 6:
                row.append(Cell("满意度指标", "label", rowspan=2))
            if i in (0, 3, 6):
                row.append(Cell("数量指标", "label", rowspan=2))
            elif i in (2, 5):
                row.append(Cell("质量指标", "label"))
            row.append(Cell(f"指标{i + 1}：完成率", "text", colspan=2))
            row.append(Cell(Decimal("100.00"), "money"))
            row.append(Cell(Decimal(u * 8 + i) / 7, "money", editable=True, key=f"u{u}.{i}.actual"))
            row.append(Cell(Decimal("0.9317"), "percent"))
            if i < 4:
                row.append(Cell("有可能", "text", colspan=2, editable=True, validation="possibility"))
            else:
                row += [Cell("—", "text"), Cell(Decimal("2.5"), "score")]
            sheet.add(*row)
    return sheet


def bench_merges(units: int = UNITS, runs: int = 3) -> dict[str, float]:
    """Render (best of `runs`) and read back the big sheet: wall and CPU seconds, merges, cells.

    CPU time is reported next to wall time because shared machines make wall time noisy."""
    from generators.tables.reader import read_workbook
    from generators.tables.xlsx import render_xlsx

    sheet = big_sheet(units)
    book = Workbook(title="汇总表", sheets=[sheet])
    merges = len(sheet.merges())
    best = best_cpu = float("inf")
    data = b""
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        data = render_xlsx(book)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    start, cpu = time.perf_counter(), time.process_time()
    read_workbook(data, max_rows=20000, max_cols=50)
    read, read_cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"merges": merges, "cells": sum(len(r) for r in sheet.rows), "render_s": best, "render_cpu_s": best_cpu,
            "read_s": read, "read_cpu_s": read_cpu, "bytes": len(data)}


def bench_docx(units: int = UNITS) -> tuple[float, float]:
    from generators.tables.docx import render_docx

    render_docx(Workbook(title="汇总表", sheets=[big_sheet(10)]))  # templates compiled
    # A sheet of its own: the fitted column widths are cached on a sheet, and fitting them is
    # part of what a first render of a new summary costs.
    book = Workbook(title="汇总表", sheets=[big_sheet(units)])
    start, cpu = time.perf_counter(), time.process_time()
    render_docx(book)
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    units = int(sys.argv[1]) if len(sys.argv) > 1 else UNITS
    result = bench_merges(units)
    print(f"xlsx {units} units: {result['merges']} merges, {result['cells']} cells, "
          f"render {result['render_s']:.2f} s (cpu {result['render_cpu_s']:.2f} s), "
          f"read back {result['read_s']:.2f} s (cpu {result['read_cpu_s']:.2f} s), {result['bytes'] // 1024} KiB; "
          "docx {:.2f} s (cpu {:.2f} s)".format(*bench_docx(units)))


if __name__ == "__main__":
    main()
