"""A batch workbook's rows, grouped by unit on disk while they are read.

A unit's rows may be anywhere in its workbook — its projects on one sheet, its indicators on
another, interleaved with other units' rows in any order — so no unit is complete before the
last row is read, and holding every row until then grows with the workbook (bench/FIGURES.md). Here
each row, as soon as it is read and turned into its record, goes into a private SQLite database
(an empty file name: SQLite keeps it in a temporary file, spills to disk beyond its page cache,
and deletes it when the connection closes), and the units are assembled afterwards one at a
time, in order, by one indexed scan. Memory stays flat however many units the workbook holds.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

_CHUNK = 2000  # rows per executemany
_CACHE_KIB = 8192  # SQLite page cache of the store; beyond it rows stay in the temporary file


def _default(value: Any) -> str:
    return str(value)  # Decimal and dates, as the payload's JSON carries them anyway


class RowStore:
    """Rows as (unit sequence, sheet order, row number, record), scanned back by unit."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("", check_same_thread=False)
        self._db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        self._db.execute("CREATE TABLE rows (seq INTEGER, sheet INTEGER, number INTEGER, record TEXT)")
        self._pending: list[tuple] = []
        self._indexed = False

    def add(self, seq: int, sheet: int, number: int, record: dict) -> None:
        self._pending.append((seq, sheet, number, json.dumps(record, ensure_ascii=False, default=_default)))
        if len(self._pending) >= _CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?)", self._pending)
            self._pending.clear()

    def groups(self) -> Iterator[tuple[int, list[tuple[int, int, dict]]]]:
        """(unit sequence, [(sheet, number, record), …]) in unit order, rows in sheet and row
        order."""
        self._flush()
        if not self._indexed:
            self._db.execute("CREATE INDEX rows_by_unit ON rows (seq, sheet, number)")
            self._indexed = True
        cursor = self._db.execute("SELECT seq, sheet, number, record FROM rows ORDER BY seq, sheet, number")
        for seq, rows in itertools.groupby(cursor, key=lambda row: row[0]):
            yield seq, [(sheet, number, json.loads(record)) for _, sheet, number, record in rows]


class UnitStream(Sequence[T]):
    """The units of an import, assembled one at a time from a RowStore each time they are
    iterated (the runner inserts them into the database in chunks as they come)."""

    def __init__(self, store: RowStore, count: int, assemble: Callable[[], Iterator[T]]):
        self._store, self._count, self._assemble = store, count, assemble

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[T]:
        return self._assemble()

    def __getitem__(self, index):  # for inspection and tests; iterate to read them all
        if isinstance(index, slice):
            return list(itertools.islice(self, *index.indices(self._count)))
        if not -self._count <= index < self._count:
            raise IndexError(index)
        return next(itertools.islice(self, index % self._count, None))
