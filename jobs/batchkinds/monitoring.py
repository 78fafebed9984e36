"""The monitoring batch (监控表 per unit from one workbook, jobs/importer.py): the work of one unit
— validate its forms, lay out and render its table, write it — and the finishing step: the
summary table and paragraph (汇总表.xlsx, 汇总说明.txt) and the manifest. For `monitoring` and
`department_monitoring` alike."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from forms.base import FieldErrors
from generators.tables.render import render_workbook
from jobs.archive import items
from jobs.batchkinds import BatchKind, register
from jobs.files import MANIFEST, UNITS_DIR, csv_cell, write_atomically, write_csv, write_output
from jobs.importer import Source
from jobs.work import settings_for
from rules.formatting import money_text, percent_text
from rules.rounding import percent, ratio, to_decimal, total
from storage.batches import DONE, FAILED, INVALID, Batch, BatchItem
from storage.db import Database

SUMMARY_XLSX, SUMMARY_TEXT = "汇总表.xlsx", "汇总说明.txt"
MANIFEST_HEADER = ["序号", "单位编码", "单位名称", "状态", "文件", "项目数", "预算数（万元）", "执行数（万元）", "执行率", "问题说明"]
DEPARTMENT_SCOPE = "部门整体支出"


class Messages:
    check = "需核对："
    flagged = "其中{count}家单位的数字需要核对（如执行数大于预算数、万元栏填了元），已照填生成并纳入汇总，详见清单的问题说明。"


# --------------------------------------------------------------------------- one unit

def locate(errors: Mapping[str, list[str]], sources: Mapping[str, list], prefix: str = "",
           columns: Mapping[str, Mapping[str, list]] | None = None) -> list[str]:
    """Schema errors keyed by field path → Chinese lines naming sheet, row and column.

    `sources` maps a path prefix to the [sheet, row] it was read from ("" the form's own row,
    "indicators.3" an indicator's); `columns` maps each sheet's field paths to [letter, header].
    A path that is no column of its row (a rule on the whole fund block, a missing column) is
    reported on that row, naming the field."""
    columns = columns or {}
    lines = []
    for path, messages in errors.items():
        parts = [] if path == "_schema" else path.split(".")
        source = None
        for cut in range(len(parts), -1, -1):
            key = ".".join(parts[:cut])
            if key in sources:
                sheet, row = sources[key][:2]
                column = columns.get(sheet, {}).get(".".join(parts[cut:]))
                source = Source(sheet, row, *column) if column else Source(sheet, row)
                break
        where = source.where() if source else prefix
        label = "" if source is None or source.column or path == "_schema" else f"{path}："
        for message in messages:
            lines.append(f"{where}：{label}{message}" if where else f"{path}：{message}")
    return lines


def summary_row(unit: Mapping[str, str], data: Mapping[str, Any], extras: Mapping[str, Any],
                settings: Mapping[str, Any], department: bool) -> dict[str, Any]:
    """The summary row of one validated, prepared form (budget on the configured basis)."""
    from rules.monitoring import fund_execution

    line = fund_execution(data["funds"], settings)["annual_total"]
    completion = data["computed"]["target_completion_rate"]
    return {
        "unit": {"code": unit["code"], "name": unit["name"]},
        "project": unit["name"] if department else data["project_name"],
        "project_code": "" if department else data.get("project_code") or "",
        "scope": DEPARTMENT_SCOPE if department else data.get("scope") or "部门预算项目",
        "budget": str(line.budget),
        "executed": str(line.executed),
        "completion_rate": None if completion is None else str(completion),
        "self_evaluation_score": None if extras.get("self_evaluation_score") is None
        else str(extras["self_evaluation_score"]),
    }


def process_item(kind_id: str, item: Mapping[str, Any], fmt: str, out_dir: str,
                 settings: Mapping[str, Any]) -> dict[str, Any]:
    """Validate, render and write one unit's monitoring table(s)."""
    from generators.monitoring import unit_workbook
    from kinds import get, pipeline

    payload = item["payload"]
    unit = payload["unit"]
    department = kind_id == "department_monitoring"
    errors = list(payload.get("errors") or [])
    datas = []
    for form, sources in zip(payload["forms"], payload["sources"], strict=True):
        try:
            datas.append(pipeline.validate(kind_id, form, settings))
        except FieldErrors as exc:
            errors += locate(exc.errors, sources, f"单位“{unit['code']} {unit['name']}”", payload.get("columns"))
    if errors:
        return {"id": item["id"], "status": "invalid", "errors": errors}
    warnings = []
    for data, sources in zip(datas, payload["sources"], strict=True):
        found = pipeline.warnings_of(get(kind_id), data, settings)
        warnings += locate({w.path: [w.message] for w in found}, sources, f"单位“{unit['code']} {unit['name']}”",
                           payload.get("columns"))
    workbook = unit_workbook(unit, datas, department=department)
    written = write_output(Path(out_dir) / item["output_name"], render_workbook(workbook, fmt))
    rows = [summary_row(unit, d, e, settings, department) for d, e in zip(datas, payload["extras"], strict=True)]
    # Produced with its warnings listed (README: a batch workbook is the bureau's compilation of
    # returns already in hand; holding a unit back would leave it out of the 汇总表 for a figure
    # that may be right), in the manifest's 问题说明 and counted in the 汇总说明.
    return {"id": item["id"], "status": "done", **written, "result": {"rows": rows, "warnings": warnings}}


# --------------------------------------------------------------------------- finishing

def write_summary(db: Database, batch: Batch, directory: Path) -> dict:
    """汇总表.xlsx and 汇总说明.txt through the monitoring_summary kind; returns what the progress
    page shows. The items are read twice (kinds.monitoring.stream_summary) rather than held, so
    the memory this takes does not grow with the number of units."""
    from generators.monitoring import summary_workbook
    from kinds.monitoring import stream_summary

    params = batch.params
    settings = settings_for(params.get("settings_override"))
    head = {"year": params["year"], "period": params["period"], "area": params.get("area") or ""}
    data = stream_summary(head, lambda: (item.result.get("rows", []) for item in items(db, batch.id, DONE)), settings)
    computed = data["computed"]
    with db.read() as session:
        not_done = session.scalar(select(func.count()).select_from(BatchItem)
                                  .where(BatchItem.batch_id == batch.id, BatchItem.status != DONE))
    excluded = not_done + computed["excluded"]
    if not computed["included"]:
        text = "没有生成成功的单位，未生成汇总表。"
        write_atomically(directory / SUMMARY_TEXT, text + "\n")
        return {"text": text, "excluded": excluded}
    if excluded:
        computed["notes"].append(f"另有{excluded}家单位因填报有误或生成失败未纳入汇总，详见清单。")
    flagged = sum(1 for item in items(db, batch.id, DONE) if item.result.get("warnings"))
    if flagged:
        computed["notes"].append(Messages.flagged.format(count=flagged))
    write_atomically(directory / SUMMARY_XLSX, render_workbook(summary_workbook(data, settings), "xlsx"))
    text, notes = computed["text"], computed["notes"]
    write_atomically(directory / SUMMARY_TEXT, "\n".join([text, *notes]) + "\n")
    return {"text": text, "excluded": excluded, "total": {k: str(v) if v is not None else None
                                                          for k, v in computed["total"].items()}}


def manifest_rows(db: Database, batch: Batch) -> Iterator[list[str]]:
    yield MANIFEST_HEADER
    for n, item in enumerate(items(db, batch.id), 1):
        result_rows = item.result.get("rows", []) if item.status == DONE else []
        budget = total(to_decimal(r["budget"]) for r in result_rows)
        executed = total(to_decimal(r["executed"]) for r in result_rows)
        yield [
            str(n), csv_cell(item.unit_code), csv_cell(item.unit_name), item.status_label,
            f"{UNITS_DIR}/{item.output_name}" if item.status == DONE else "",
            str(len(result_rows)) if result_rows else "",
            money_text(budget) if result_rows else "",
            money_text(executed) if result_rows else "",
            percent_text(percent(ratio(executed, budget))) if result_rows else "",
            csv_cell("\n".join(item.errors) if item.status in (INVALID, FAILED)
                     else "\n".join(Messages.check + w for w in item.result.get("warnings", []))),
        ]
    for message in batch.errors:
        yield ["", "", "", "未导入", "", "", "", "", "", csv_cell(message)]


def finish(db: Database, batch: Batch, directory: Path) -> dict:
    """The finishing step of the monitoring kinds: summary, paragraph and manifest."""
    summary = write_summary(db, batch, directory)
    write_csv(directory / MANIFEST, manifest_rows(db, batch))
    return summary


for _kind_id in ("monitoring", "department_monitoring"):
    register(BatchKind(_kind_id, process_item, finish, (SUMMARY_XLSX, SUMMARY_TEXT, MANIFEST),
                       "各单位监控表、汇总表、汇总说明和清单", workbook=True,
                       preload=("kinds", "generators.monitoring", "generators.tables.xlsx")))
