"""What a finished batch hands out: the monitoring summary (xlsx and paragraph), the manifest, and
the zip of a batch of any kind streamed from the files on disk (zipstream-ng), so memory stays
flat whether a batch has 100 units or 10,000. Which files the zip holds is the batch kind's
(jobs/batchkinds.py).

Before a unit file goes into a zip it is checked against the size and SHA-256 recorded when it
was written: a file deleted, truncated or rotten on disk is rendered again from the item's
stored data (a few on the spot; more by the runner, `BrokenUnits`), never served as it is."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from zipstream import ZIP_STORED, ZipStream

from jobs.work import process_item, render_workbook, settings_for, write_atomically
from rules.formatting import money_text, percent_text
from rules.rounding import percent, ratio, to_decimal, total
from storage.batches import DONE, FAILED, INVALID, Batch, BatchItem, dumps
from storage.db import Database

UNITS_DIR, SUMMARY_XLSX, SUMMARY_TEXT, MANIFEST = "各单位", "汇总表.xlsx", "汇总说明.txt", "清单.csv"
MANIFEST_HEADER = ["序号", "单位编码", "单位名称", "状态", "文件", "项目数", "预算数（万元）", "执行数（万元）", "执行率", "问题说明"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_READ_CHUNK = 500
_HASH_BLOCK = 1 << 20
log = logging.getLogger("jxdoc.jobs")


class BrokenUnits(Exception):
    """Unit files of a finished batch that are missing or do not match their recorded size and
    hash, too many (or too stubborn) to render again on the spot: the runner must."""

    def __init__(self, ids: list[int]):
        super().__init__(f"{len(ids)} unit files missing or damaged")
        self.ids = ids


def batch_dir(data_dir: str | Path, public_id: str) -> Path:
    return Path(data_dir) / "batches" / public_id


def units_dir(data_dir: str | Path, public_id: str) -> Path:
    return batch_dir(data_dir, public_id) / UNITS_DIR


def csv_cell(value: Any) -> str:
    """A manifest cell that no spreadsheet runs as a formula (OWASP CSV injection): text from users
    starting with = + - @ TAB or CR (or their full-width forms) gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def items(db: Database, batch_id: int, status: str | None = None) -> Iterator[BatchItem]:
    """Items in workbook order, read in pages so 10,000 results never sit in memory at once."""
    last = -1
    while True:
        with db.read() as session:
            query = select(BatchItem).where(BatchItem.batch_id == batch_id, BatchItem.seq > last)
            if status:
                query = query.where(BatchItem.status == status)
            page = list(session.scalars(query.order_by(BatchItem.seq).limit(_READ_CHUNK)))
        if not page:
            return
        yield from page
        last = page[-1].seq


_items = items  # the earlier private name


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
            csv_cell("\n".join(item.errors)) if item.status in (INVALID, FAILED) else "",
        ]
    for message in batch.errors:
        yield ["", "", "", "未导入", "", "", "", "", "", csv_cell(message)]


def write_csv(path: Path, rows: Iterable[list[str]]) -> None:
    """A manifest: UTF-8 with a BOM (Excel opens UTF-8 CSV correctly only with one), every cell
    quoted; cells from users must have passed through csv_cell."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
    write_atomically(path, buffer.getvalue())


def write_manifest(db: Database, batch: Batch, directory: Path) -> None:
    write_csv(directory / MANIFEST, manifest_rows(db, batch))


def finish_monitoring(db: Database, batch: Batch, directory: Path) -> dict:
    """The finishing step of the monitoring kinds: summary, paragraph and manifest."""
    summary = write_summary(db, batch, directory)
    write_manifest(db, batch, directory)
    return summary


def file_matches(path: Path, size: int, sha256: str | None) -> bool:
    """The file is there with the recorded size and SHA-256 (size only for files recorded
    before hashes were kept)."""
    try:
        if path.stat().st_size != size:
            return False
        if sha256 is None:
            return True
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while block := fh.read(_HASH_BLOCK):
                digest.update(block)
    except (FileNotFoundError, NotADirectoryError):
        return False
    return digest.hexdigest() == sha256


def repair_units(db: Database, batch: Batch, units: Path, inline: int) -> int:
    """Check every done unit's file; render the broken ones again here when there are at most
    `inline` of them, recording their new size and hash. BrokenUnits for those left broken.
    The number rendered again."""
    broken = [item for item in items(db, batch.id, DONE) if not file_matches(units / item.output_name, item.size,
                                                                              item.sha256)]
    if not broken:
        return 0
    log.warning("batch %s: %d unit files missing or damaged", batch.public_id, len(broken))
    if len(broken) > inline:
        raise BrokenUnits([item.id for item in broken])
    units.mkdir(parents=True, exist_ok=True)
    override = batch.params.get("settings_override")
    left = []
    for item in broken:
        claimed = {"id": item.id, "key": item.key, "output_name": item.output_name, "payload_json": item.payload_json}
        result = process_item(batch.kind, batch.fmt, claimed, str(units), override)
        if result["status"] != DONE:
            left.append(item.id)
            continue
        with db.write() as session:
            session.execute(update(BatchItem).where(BatchItem.id == item.id).values(
                size=result["size"], sha256=result["sha256"], result_json=dumps(result.get("result") or {})))
    if left:
        raise BrokenUnits(left)
    return len(broken)


def zip_stream(db: Database, batch: Batch, data_dir: str, *, repair_inline: int = 20) -> ZipStream:
    """The batch as a zip, read from disk while it is sent: the kind's files (monitoring: summary,
    paragraph, manifest; disclosure: index and manifest), then one file per unit in item order,
    each checked first (`repair_units`). Stored, not deflated: the xlsx/docx/pdf members are
    compressed already, and a stored stream is sized, so the download announces its length."""
    from jobs import batchkinds

    directory = batch_dir(data_dir, batch.public_id)
    repair_units(db, batch, directory / UNITS_DIR, repair_inline)
    kind = batchkinds.get(batch.kind)
    if not (directory / MANIFEST).exists() and MANIFEST in kind.files:
        kind.finish(db, batch, directory)  # the batch's own files lost: written again (repeatable)
    stream = ZipStream(compress_type=ZIP_STORED, sized=True)
    for name in kind.files:
        path = directory / name
        if path.exists():
            stream.add_path(str(path), name)
    units = directory / UNITS_DIR
    for item in items(db, batch.id, DONE):
        stream.add_path(str(units / item.output_name), f"{UNITS_DIR}/{item.output_name}")
    return stream


def write_zip(db: Database, batch: Batch, data_dir: str, target: Path, *, repair_inline: int = 20) -> int:
    """Stream the batch's zip into `target` (temp file + rename). BrokenUnits as zip_stream."""
    import os
    import secrets

    tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
    size = 0
    try:
        with open(tmp, "wb") as fh:
            for chunk in zip_stream(db, batch, data_dir, repair_inline=repair_inline):
                fh.write(chunk)
                size += len(chunk)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return size
