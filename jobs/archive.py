"""What a finished batch hands out: its items read back in pages, and the zip of a batch of any
kind streamed from the files on disk (zipstream-ng), so memory stays flat whether a batch has 100
units or 10,000. Which files the zip holds is the batch kind's (jobs/batchkinds/).

Before a unit file goes into a zip it is checked against the size and SHA-256 recorded when it
was written: a file deleted, truncated or rotten on disk is rendered again from the item's
stored data (a few on the spot; more by the runner, `BrokenUnits`), never served as it is."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select, update
from zipstream import ZIP_STORED, ZipStream

from jobs import batchkinds
from jobs.files import MANIFEST, UNITS_DIR, atomic_file, batch_dir
from jobs.work import process_item
from storage.batches import DONE, Batch, BatchItem, dumps
from storage.db import Database

_READ_CHUNK = 500
_HASH_BLOCK = 1 << 20
log = logging.getLogger("jxdoc.jobs")


class BrokenUnits(Exception):
    """Unit files of a finished batch that are missing or do not match their recorded size and
    hash, too many (or too stubborn) to render again on the spot: the runner must."""

    def __init__(self, ids: list[int]):
        super().__init__(f"{len(ids)} unit files missing or damaged")
        self.ids = ids


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
    directory = batch_dir(data_dir, batch.public_id)
    repair_units(db, batch, directory / UNITS_DIR, repair_inline)
    kind = batchkinds.get(batch.kind)
    if not (directory / MANIFEST).exists() and MANIFEST in kind.files:
        # The batch's own files lost, or its whole directory: written again (repeatable).
        directory.mkdir(parents=True, exist_ok=True)
        kind.finish(db, batch, directory)
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
    size = 0
    with atomic_file(target) as fh:
        for chunk in zip_stream(db, batch, data_dir, repair_inline=repair_inline):
            fh.write(chunk)
            size += len(chunk)
    return size
