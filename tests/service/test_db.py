"""SQLite under concurrency: read-then-write transactions from several processes never fail."""

from __future__ import annotations

import multiprocessing as mp

from sqlalchemy import select, text

from storage.db import Database
from storage.migrate import upgrade
from storage.models import Unit


def _worker(url: str, worker: int, count: int, queue) -> None:
    db = Database(url)
    errors = 0
    for _ in range(count):
        try:
            with db.write() as session:
                current = session.scalar(select(Unit).where(Unit.code == "counter"))
                current.name = str(int(current.name) + 1)
        except Exception:  # noqa: BLE001 - any lock error counts
            errors += 1
    db.dispose()
    queue.put(errors)


def test_concurrent_read_then_write_has_no_lock_errors(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    upgrade(url)
    db = Database(url)
    with db.write() as session:
        session.add(Unit(code="counter", name="0"))
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, w, 50, queue)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    errors = sum(queue.get(timeout=5) for _ in procs)
    with db.read() as session:
        value = session.scalar(select(Unit.name).where(Unit.code == "counter"))
        mode = session.execute(text("PRAGMA journal_mode")).scalar()
    assert errors == 0
    assert value == "200"  # no lost update
    assert mode == "wal"


def test_money_round_trips_exactly_through_storage(tmp_path):
    from decimal import Decimal

    from storage.models import Submission

    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url)
    db = Database(url)
    amount = Decimal("9999999999999.99")
    with db.write() as session:
        sub = Submission(kind="request")
        sub.data = {"amount": amount}
        session.add(sub)
    with db.read() as session:
        stored = session.scalar(select(Submission)).data["amount"]
    assert Decimal(stored) == amount and stored == "9999999999999.99"
