"""Where a batch's files live and how they are written: the one leaf the rest of jobs/ stands on.

Every file of a batch is written to a hidden temporary file beside its target and then renamed
(os.replace): a reader, the zip or a second worker never sees half a file, and a crash leaves
only a `.….tmp` that the batch's finishing step sweeps away.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

UNITS_DIR, MANIFEST = "各单位", "清单.csv"
TEMP_SUFFIX = ".tmp"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def batch_dir(data_dir: str | Path, public_id: str) -> Path:
    return Path(data_dir) / "batches" / public_id


def units_dir(data_dir: str | Path, public_id: str) -> Path:
    return batch_dir(data_dir, public_id) / UNITS_DIR


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """An open temporary file that becomes `path` when the block ends, and is removed if it fails."""
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    try:
        with open(tmp, "wb") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomically(path: Path, content: bytes | str) -> int:
    data = content.encode("utf-8") if isinstance(content, str) else content
    with atomic_file(path) as fh:
        fh.write(data)
    return len(data)


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


def csv_cell(value: Any) -> str:
    """A manifest cell that no spreadsheet runs as a formula (OWASP CSV injection): text from users
    starting with = + - @ TAB or CR (or their full-width forms) gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(path: Path, rows: Iterable[list[str]]) -> None:
    """A manifest: UTF-8 with a BOM (Excel opens UTF-8 CSV correctly only with one), every cell
    quoted; cells from users must have passed through csv_cell."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
    write_atomically(path, buffer.getvalue())
