"""The work of one batch item, the same in a pool process of the embedded runner and in a Celery
worker: each batch kind's `process` (jobs/batchkinds.py) — for monitoring: validate the unit's
forms, lay out and render its table, write it atomically, and return what the summary needs. No database, no Flask, no queue here.
"""

from __future__ import annotations

import errno
import functools
import gc
import hashlib
import json
import os
import secrets
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from forms.base import FieldErrors
from jobs.importer import Source

TEMP_SUFFIX = ".tmp"
# Failures of the machine, not of the unit: a full disk or quota, an I/O error, no file handles or
# memory left. An item that meets one is tried again later without using up its attempts.
INFRASTRUCTURE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EMFILE, errno.ENFILE,
                                   errno.ENOMEM})
DEPARTMENT_SCOPE = "部门整体支出"

# A process that renders all day (a pool or Celery worker, a gunicorn worker of the service) makes
# millions of container objects that live for one document: weasyprint's boxes and styles,
# openpyxl's cells. With CPython's default thresholds (700, 10, 10) the collector runs after every
# 700 of them and walks the whole heap (modules, fonts, compiled templates) every hundred runs:
# 6.5 ms a page of a disclosure PDF, 8 % of its time. Documents are freed by reference counting,
# not by the collector, so collecting less often costs little memory: 1.5 ms a page, and about
# 20 MB more at the peak of a worker over 60 PDFs.
WORKER_GC_THRESHOLDS = (20_000, 50, 100)


def init_worker() -> None:
    """Set up a process that renders documents (a pool process of the embedded runner, a Celery
    worker process, a gunicorn worker): the collector's thresholds for long runs of documents."""
    gc.set_threshold(*WORKER_GC_THRESHOLDS)


def write_atomically(path: Path, content: bytes | str) -> int:
    """Write to a hidden temporary file beside `path`, then os.replace it: a reader, the zip or a
    second worker never sees half a file, and a crash leaves only a `.…tmp` that the batch's
    finalisation sweeps away."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(data)


def infrastructure_fault(exc: BaseException | None) -> str | None:
    """The errno name (“ENOSPC”) of an OSError of the machine (INFRASTRUCTURE_ERRNOS) anywhere in
    the cause chain; None for any other failure."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in INFRASTRUCTURE_ERRNOS:
            return errno.errorcode[exc.errno]
        exc = exc.__cause__ or exc.__context__
    return None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_output(path: Path, data: bytes) -> dict[str, Any]:
    """Write a unit file atomically; its size and SHA-256, which the item records and the zip
    checks the file against (jobs/archive.py)."""
    return {"size": write_atomically(path, data), "sha256": sha256_hex(data)}


def sweep_temp_files(directory: Path) -> int:
    """Remove temporary files a killed worker left behind."""
    removed = 0
    if directory.is_dir():
        for entry in directory.iterdir():
            if entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX):
                entry.unlink(missing_ok=True)
                removed += 1
    return removed


@functools.lru_cache(maxsize=8)
def _settings(override_json: str) -> Mapping[str, Any]:
    """Settings of a batch, loaded once per process (the override travels as JSON text)."""
    from forms.settings import load_settings
    from rules.settings import defaults

    override = json.loads(override_json) if override_json else None
    return load_settings(override) if override else defaults()


def settings_for(override: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return _settings(json.dumps(override, sort_keys=True, ensure_ascii=False) if override else "")


def render_workbook(workbook, fmt: str) -> bytes:
    if fmt == "xlsx":
        from generators.tables.xlsx import render_xlsx

        return render_xlsx(workbook)
    if fmt == "docx":
        from generators.tables.docx import render_docx

        return render_docx(workbook)
    from generators.tables.pdf import render_pdf

    if fmt == "ofd":
        from generators import ofd

        return ofd.from_pdf(render_pdf(workbook), ofd.DocInfo(title=workbook.title))
    return render_pdf(workbook)


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


def process_monitoring_item(kind_id: str, item: Mapping[str, Any], fmt: str, out_dir: str,
                            settings: Mapping[str, Any]) -> dict[str, Any]:
    """Validate, render and write one unit's monitoring table(s)."""
    from generators.monitoring import unit_workbook
    from kinds import pipeline

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
    workbook = unit_workbook(unit, datas, department=department)
    written = write_output(Path(out_dir) / item["output_name"], render_workbook(workbook, fmt))
    rows = [summary_row(unit, d, e, settings, department) for d, e in zip(datas, payload["extras"], strict=True)]
    return {"id": item["id"], "status": "done", **written, "result": {"rows": rows}}


def process_item(kind_id: str, fmt: str, item: Mapping[str, Any], out_dir: str,
                 settings_override: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Work on one item with its kind's `process` (jobs/batchkinds.py). Returns {"id", "status":
    done|invalid|excluded|error|retry, …}.

    `retry` is a fault of the machine (a full disk): the runner backs off and tries the item again
    without counting the attempt. `error` is an unexpected failure (a bug): the runner retries it
    a few times and then marks the item failed. `invalid` is the user's data and is final."""
    from jobs import batchkinds

    try:
        if "payload_json" in item:  # as claimed: decoded here, in the worker, not in the runner
            item = {**item, "payload": json.loads(item["payload_json"])}
        return batchkinds.get(kind_id).process(kind_id, item, fmt, out_dir, settings_for(settings_override))
    except Exception as exc:  # noqa: BLE001 — any failure of one unit must not stop the others
        fault = infrastructure_fault(exc)
        result = {"id": item["id"], "status": "retry" if fault else "error", "errors": [traceback.format_exc(limit=5)]}
        return {**result, "fault": fault} if fault else result


def process_chunk(kind_id: str, fmt: str, items: list[Mapping[str, Any]], out_dir: str,
                  settings_override: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    return [process_item(kind_id, fmt, item, out_dir, settings_override) for item in items]
