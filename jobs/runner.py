"""Batches: creation from a workbook, claiming items under a lease, recording results, the final
summary and manifest, and the embedded runner.

Every step is safe to repeat and to run in several processes at once:

* a batch is keyed by the hash of its kind, format, parameters and bytes — creating it again
  returns the same batch; items are unique per (batch, unit code);
* an item is worked on only under a lease (owner, expiry) taken in one write transaction (SQLite
  BEGIN IMMEDIATE; PostgreSQL FOR UPDATE SKIP LOCKED). A worker killed with SIGKILL simply stops
  renewing nothing: its lease expires and another worker takes the item; attempts are counted,
  and an item that keeps failing is marked failed instead of looping forever;
* outputs have fixed names and are written to a temp file and renamed, so doing an item twice
  leaves one file; finalisation sweeps temp files a killed worker left and is itself repeatable;
* a fault of the machine (a full disk, the database away for a moment) is not the unit's: the
  item goes back without using up an attempt, and the driver backs off exponentially before it
  claims again (`Backoff`); units that failed for good can be tried again (`retry_failed`);
* a web process drives a batch only under the batch's driver lease (`take_driver`): of all the
  workers that answer progress polls, one renders; a killed one is replaced when its lease ends.

What differs between kinds of batch (monitoring tables from a workbook, disclosure PDFs from stored
submissions) is the kind's module in jobs/batchkinds/: how an item is processed, what the
finishing step writes, which files the zip holds. Everything here is shared, and nothing here
names a batch kind.

The embedded runner (the default, no server) claims chunks of items and renders them in a process
pool — one process per core — while its own thread records results. Celery workers
(jobs/tasks.py) run the same `drive` loop with in-process rendering.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import itertools
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from jobs import batchkinds
from jobs.files import UNITS_DIR, batch_dir, sweep_temp_files, units_dir
from jobs.importer import ImportResult
from jobs.work import infrastructure_fault, init_worker, process_chunk
from storage import config as storage_config
from storage.batches import DONE, EXCLUDED, FAILED, INVALID, MISSING, PENDING, RUNNING, Batch, BatchItem, dumps
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger("jxdoc.jobs")



class Messages:
    failed = "多次生成失败（第{attempts}次），已停止重试。可在批次页面点击“重试失败单位”再试；仍失败请检查该单位的数据，或联系管理员查看日志。"
    gave_up = "生成时遇到服务器故障（{cause}），等待{minutes}后仍未恢复，已停止重试。故障排除后请在批次页面点击“重试失败单位”。"
    faults = {"ENOSPC": "磁盘空间已满", "EDQUOT": "磁盘配额已用完", "EIO": "磁盘读写错误", "EROFS": "磁盘只读",
              "EMFILE": "打开的文件过多", "ENFILE": "打开的文件过多", "ENOMEM": "内存不足"}

    @classmethod
    def gave_up_on(cls, fault: str | None, seconds: float) -> str:
        minutes = f"{seconds / 60:.0f}分钟" if seconds >= 60 else f"{seconds:.0f}秒"
        return cls.gave_up.format(cause=cls.faults.get(fault or "", fault or "未知故障"), minutes=minutes)


@dataclass(frozen=True)
class JobConfig:
    """How jobs run. From the app config (JOB_RUNNER, REDIS_URL, DATA_DIR, DATABASE_URL) and the
    job-specific JXDOC_JOB_* environment variables."""

    database_url: str
    data_dir: str
    runner: str = "embedded"  # or "celery"
    redis_url: str = "redis://127.0.0.1:6379/0"
    lease_seconds: float = 120.0
    chunk: int = 8  # items claimed and rendered together
    processes: int = 0  # embedded pool size; 0: one per core; 1: render in the runner's thread
    max_attempts: int = 5
    fanout: int = 8  # Celery: drive tasks sent per batch (≥ the worker processes that should help)
    backoff_seconds: float = 1.0  # first wait after a fault of the machine, doubled up to the maximum
    max_backoff_seconds: float = 60.0
    repair_inline: int = 20  # broken unit files a download renders again itself; more go to the runner
    fault_patience_seconds: float = 600.0  # faults of the machine this long without a success: units fail

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> JobConfig:
        def number(name: str, default, cast=int):
            raw = config.get(name, storage_config.env(name))
            return default if raw in (None, "") else cast(raw)

        return cls(
            database_url=config["DATABASE_URL"],
            data_dir=str(config["DATA_DIR"]),
            runner=str(config.get("JOB_RUNNER") or storage_config.env("JOB_RUNNER") or "embedded"),
            redis_url=str(config.get("REDIS_URL") or storage_config.env("REDIS_URL") or cls.redis_url),
            lease_seconds=number("JOB_LEASE_SECONDS", 120.0, float),
            chunk=number("JOB_CHUNK", 8),
            processes=number("JOB_PROCESSES", 0),
            max_attempts=number("JOB_MAX_ATTEMPTS", 5),
            fanout=number("JOB_FANOUT", 8),
            backoff_seconds=number("JOB_BACKOFF_SECONDS", 1.0, float),
            max_backoff_seconds=number("JOB_MAX_BACKOFF_SECONDS", 60.0, float),
            repair_inline=number("JOB_REPAIR_INLINE", 20),
            fault_patience_seconds=number("JOB_FAULT_PATIENCE_SECONDS", 600.0, float),
        )

    @classmethod
    def from_environment(cls) -> JobConfig:
        return cls.from_mapping(storage_config.from_environment(storage_config.defaults()))

    @property
    def pool_size(self) -> int:
        return self.processes if self.processes > 0 else (os.cpu_count() or 1)


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# --------------------------------------------------------------------------- creating

def batch_key(kind: str, fmt: str, params: Mapping[str, Any], data: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps({"kind": kind, "fmt": fmt, "params": params}, sort_keys=True, ensure_ascii=False,
                             default=str).encode())
    digest.update(data)
    return digest.hexdigest()


_INSERT_CHUNK = 100  # items per insert: bounded memory, still few statements


def create_batch(db: Database, kind: str, fmt: str, imported: ImportResult, *, key: str, title: str = "",
                 source_name: str = "", params: Mapping[str, Any] | None = None,
                 owner_id: int | None = None) -> tuple[Batch, bool]:
    """The batch of `key`, inserted with its items if new. (batch, created).

    `imported.units` are the item inputs of any kind: code, name, seq, output_name, payload()
    (jobs.importer.UnitInput for workbooks, jobs.batchkinds.disclosure.DisclosureUnit)."""
    existing = find_batch(db, key)
    if existing is not None:
        return existing, False
    params = {**(params or {}), "year": imported.year, "period": imported.period}
    batch = Batch(key=key, kind=kind, fmt=fmt, title=title[:200], source_name=source_name[:200], status="running",
                  total=len(imported.units), params_json=dumps(params), errors_json=dumps(imported.errors),
                  owner_id=owner_id)
    try:
        with db.write() as session:
            session.add(batch)
            session.flush()
            # Core inserts in chunks, not ORM objects: 10,000 items with their payloads would all
            # stay in the session until the commit.
            # The units may be a stream (jobs/unitrows.py): taken in chunks as they are assembled.
            units = iter(imported.units)
            while chunk := list(itertools.islice(units, _INSERT_CHUNK)):
                session.execute(insert(BatchItem), [
                    {"batch_id": batch.id, "key": u.code, "seq": u.seq, "unit_code": u.code[:40],
                     "unit_name": u.name[:100], "output_name": u.output_name, "status": PENDING, "attempts": 0,
                     "payload_json": dumps(u.payload()), "result_json": "{}", "errors_json": "[]", "size": 0,
                     "updated_at": utcnow()}
                    for u in chunk])
    except IntegrityError:  # created by someone else between our read and our write
        with db.read() as session:
            return session.scalar(select(Batch).where(Batch.key == key)), False
    return batch, True


def find_batch(db: Database, key: str) -> Batch | None:
    """The batch of `key`, if one was started. Started again (the same workbook uploaded again),
    its units that failed for good are tried again: whoever starts it again wants them."""
    with db.read() as session:
        batch = session.scalar(select(Batch).where(Batch.key == key))
    if batch is not None and (retried := retry_failed(db, batch.id)):
        batch = get_batch(db, batch.public_id)
        batch.retried = retried
    return batch


def retry_failed(db: Database, batch_id: int) -> int:
    """Put the batch's failed units back to work with fresh attempts (“重试失败单位”); the batch
    runs again and is finalised anew. The number of units put back."""
    return reopen(db, batch_id, BatchItem.status == FAILED)


def reopen(db: Database, batch_id: int, which) -> int:
    """Items of the batch matching `which` back to pending with no attempts; the batch running."""
    with db.write() as session:
        count = session.execute(update(BatchItem).where(BatchItem.batch_id == batch_id, which).values(
            status=PENDING, attempts=0, errors_json="[]", lease_owner=None, lease_expires_at=None, retry_at=None,
            updated_at=utcnow())).rowcount
        if count:
            session.execute(update(Batch).where(Batch.id == batch_id).values(status="running", finished_at=None))
    return count


def get_batch(db: Database, public_id: str) -> Batch | None:
    with db.read() as session:
        return session.scalar(select(Batch).where(Batch.public_id == public_id))


# --------------------------------------------------------------------------- leases

def claim(db: Database, batch_id: int, owner: str, lease_seconds: float, limit: int,
          max_attempts: int = 5) -> list[dict[str, Any]]:
    """Take up to `limit` pending items, or running items whose lease has expired.

    Core statements, not ORM objects: the runner claims and completes every item of a batch, and
    loading each as an entity (with its identity map and flushes) cost it a core's worth of CPU
    beside the render processes. The payload travels as its JSON text; the worker decodes it."""
    now = utcnow()
    items = BatchItem.__table__
    with db.write() as session:
        query = (
            select(items.c.id, items.c.key, items.c.output_name, items.c.payload_json, items.c.attempts)
            .where(items.c.batch_id == batch_id,
                   or_(and_(items.c.status == PENDING, or_(items.c.retry_at.is_(None), items.c.retry_at <= now)),
                       and_(items.c.status == RUNNING, items.c.lease_expires_at < now)))
            .order_by(items.c.seq)
            .limit(limit)
        )
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = session.execute(query).all()
        taken = [r for r in rows if r.attempts < max_attempts]
        for row in rows:
            if row.attempts >= max_attempts:  # kept failing: final, not claimed again
                session.execute(update(items).where(items.c.id == row.id).values(
                    status=FAILED, lease_owner=None, lease_expires_at=None, updated_at=now,
                    errors_json=dumps([Messages.failed.format(attempts=row.attempts)])))
        if taken:
            session.execute(update(items).where(items.c.id.in_([r.id for r in taken])).values(
                status=RUNNING, lease_owner=owner, lease_expires_at=now + _dt.timedelta(seconds=lease_seconds),
                attempts=items.c.attempts + 1, retry_at=None, updated_at=now))
        return [{"id": r.id, "key": r.key, "output_name": r.output_name, "payload_json": r.payload_json}
                for r in taken]


def complete(db: Database, owner: str, results: list[dict[str, Any]], *, backoff: float = 0.0,
             error_backoff: float = 0.0, give_up: str | None = None) -> None:
    """Record results of items this owner still holds. A result for an item whose lease another
    worker has since taken is dropped: that worker writes the same file and records it.

    `retry` (a fault of the machine) goes back to pending with its attempt given back, not to be
    claimed for `backoff` seconds — or, once the driver has given up waiting for the machine
    (`give_up`: the message), is failed with its attempt given back, for “重试失败单位” later;
    `error` goes back to pending (until max_attempts) after `error_backoff` × 2^(attempts-1)
    seconds, so that a passing fault does not use up all attempts back to back."""
    if not results:
        return
    items = BatchItem.__table__
    now = utcnow()
    with db.write() as session:
        held = {r.id: r.attempts for r in session.execute(
            select(items.c.id, items.c.attempts).where(items.c.id.in_([r["id"] for r in results]),
                                                       items.c.status == RUNNING, items.c.lease_owner == owner))}
        set_back, retried, finished = [], [], []
        for result in results:
            if result["id"] not in held:
                continue
            if result["status"] == "retry":
                log.warning("batch item %s set back by a fault of the machine: %s", result["id"],
                            result["errors"][-1].strip().rsplit("\n", 1)[-1])
                set_back.append(result["id"])
                continue
            if result["status"] == "error":
                attempts = held[result["id"]]
                log.error("batch item %s failed (attempt %s): %s", result["id"], attempts, result["errors"][-1])
                wait_for = min(error_backoff * 2 ** max(attempts - 1, 0), 300.0)
                retried.append({"item_id": result["id"], "new_retry": now + _dt.timedelta(seconds=wait_for)})
                continue
            finished.append({
                "item_id": result["id"],
                "new_status": {"done": DONE, "excluded": EXCLUDED, "missing": MISSING}.get(result["status"], INVALID),
                "new_errors": dumps(result.get("errors") or []),
                "new_result": dumps(result.get("result") or {}),
                "new_size": int(result.get("size") or 0),
                "new_sha256": result.get("sha256"),
            })
        if set_back and give_up:
            session.execute(update(items).where(items.c.id.in_(set_back)).values(
                status=FAILED, lease_owner=None, lease_expires_at=None, attempts=items.c.attempts - 1,
                errors_json=dumps([give_up]), updated_at=now))
        elif set_back:
            session.execute(update(items).where(items.c.id.in_(set_back)).values(
                status=PENDING, lease_owner=None, lease_expires_at=None, attempts=items.c.attempts - 1,
                retry_at=now + _dt.timedelta(seconds=backoff), updated_at=now))
        if retried:
            session.execute(update(items).where(items.c.id == bindparam("item_id")).values(
                status=PENDING, lease_owner=None, lease_expires_at=None, retry_at=bindparam("new_retry"),
                updated_at=now), retried)
        if finished:
            session.execute(
                update(items).where(items.c.id == bindparam("item_id")).values(
                    status=bindparam("new_status"), errors_json=bindparam("new_errors"),
                    result_json=bindparam("new_result"), size=bindparam("new_size"),
                    sha256=bindparam("new_sha256"), lease_owner=None, lease_expires_at=None, updated_at=now),
                finished)


def extend(db: Database, owner: str, ids: list[int], lease_seconds: float) -> None:
    """Renew the leases of items this owner is still working on: a chunk that takes longer than a
    lease on a busy machine is not taken over (and rendered twice) while it is being rendered."""
    if ids:
        with db.write() as session:
            session.execute(update(BatchItem).where(BatchItem.id.in_(ids), BatchItem.lease_owner == owner,
                                                    BatchItem.status == RUNNING)
                            .values(lease_expires_at=utcnow() + _dt.timedelta(seconds=lease_seconds)))


def release(db: Database, owner: str, ids: list[int]) -> None:
    """Give items back at once (the pool broke under us), instead of waiting for their lease."""
    with db.write() as session:
        session.execute(update(BatchItem).where(BatchItem.id.in_(ids), BatchItem.lease_owner == owner,
                                                BatchItem.status == RUNNING)
                        .values(status=PENDING, lease_owner=None, lease_expires_at=None))


def counts(db: Database, batch_id: int) -> dict[str, int]:
    with db.read() as session:
        rows = session.execute(select(BatchItem.status, func.count()).where(BatchItem.batch_id == batch_id)
                               .group_by(BatchItem.status)).all()
    found = {status: n for status, n in rows}
    return {s: found.get(s, 0) for s in (PENDING, RUNNING, DONE, INVALID, MISSING, FAILED, EXCLUDED)}


def next_expiry(db: Database, batch_id: int) -> _dt.datetime | None:
    """When the next item may be claimed: another worker's lease runs out, or an item set back
    may be tried again."""
    with db.read() as session:
        lease = session.scalar(select(func.min(BatchItem.lease_expires_at))
                               .where(BatchItem.batch_id == batch_id, BatchItem.status == RUNNING))
        retry = session.scalar(select(func.min(BatchItem.retry_at))
                               .where(BatchItem.batch_id == batch_id, BatchItem.status == PENDING))
    return min((t for t in (lease, retry) if t is not None), default=None)


def take_driver(db: Database, batch_id: int, owner: str, seconds: float) -> bool:
    """Take or renew the batch's driver lease for `seconds`; False while another owner's lease is
    alive (or the batch is done). One statement, so two workers asking at once cannot both win."""
    now = utcnow()
    with db.write() as session:
        taken = session.execute(update(Batch).where(
            Batch.id == batch_id, Batch.status != "done",
            or_(Batch.driver_owner.is_(None), Batch.driver_owner == owner, Batch.driver_expires_at < now),
        ).values(driver_owner=owner, driver_expires_at=now + _dt.timedelta(seconds=seconds))).rowcount
    return taken == 1


def drop_driver(db: Database, batch_id: int, owner: str) -> None:
    with db.write() as session:
        session.execute(update(Batch).where(Batch.id == batch_id, Batch.driver_owner == owner)
                        .values(driver_owner=None, driver_expires_at=None))


def all_final(c: Mapping[str, int]) -> bool:
    return c[PENDING] == 0 and c[RUNNING] == 0


# --------------------------------------------------------------------------- finishing

def finalise(db: Database, data_dir: str, batch_id: int) -> None:
    """The kind's finishing step (monitoring: summary table, paragraph and manifest; disclosure:
    index and manifest) from the items' results; then the batch is done. Repeatable: files are
    rewritten atomically with the same content."""
    with db.write() as session:
        batch = session.get(Batch, batch_id)
        if batch.status == "done":
            return
        batch.status = "finalising"
    directory = batch_dir(data_dir, batch.public_id)
    directory.mkdir(parents=True, exist_ok=True)
    sweep_temp_files(directory)
    sweep_temp_files(directory / UNITS_DIR)
    summary = batchkinds.get(batch.kind).finish(db, batch, directory)
    with db.write() as session:
        batch = session.get(Batch, batch_id)
        batch.summary_json = dumps(summary)
        batch.status = "done"
        batch.finished_at = utcnow()


# --------------------------------------------------------------------------- the drive loop

_forkserver_lock = threading.Lock()
_pools: dict[int, ProcessPoolExecutor] = {}


def _pool(size: int) -> ProcessPoolExecutor:
    """One process pool per size and process, kept: its processes keep their imported modules,
    compiled styles and templates between chunks and batches. forkserver, not fork: the web
    process has threads, and forking a threaded process can copy a held lock."""
    import multiprocessing

    with _forkserver_lock:
        pool = _pools.get(size)
        if pool is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["jobs.work", *batchkinds.preload_modules()])
            pool = _pools[size] = ProcessPoolExecutor(max_workers=size, mp_context=ctx, initializer=init_worker)
        return pool


def warm_pool(size: int) -> None:
    """Start the pool's processes now (the forkserver and its imports take about a second), so
    that this happens while the caller reads the workbook rather than after."""
    if size > 1:
        pool = _pool(size)
        for _ in range(size):
            pool.submit(os.getpid)


def pool_processes() -> list[int]:
    """Process ids of the live pool processes (for the benchmark's memory report)."""
    return [pid for pool in _pools.values() for pid in (getattr(pool, "_processes", None) or {})]


def _drop_pool(size: int) -> None:
    with _forkserver_lock:
        pool = _pools.pop(size, None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


# Faults of the database (connection lost, locked for too long): the driver waits and carries on.
DATABASE_FAULTS = (OperationalError, InterfaceError)


class Backoff:
    """Exponential back-off of a driver after faults of the machine: `backoff_seconds`, doubled at
    each fault up to `max_backoff_seconds`, reset by the first success. After
    `fault_patience_seconds` of faults without a success the driver stops waiting: the units
    still meeting the fault fail at once, with the cause, and “重试失败单位” takes them up again once
    the machine is mended — rather than a batch that waits for ever without a word."""

    def __init__(self, cfg: JobConfig):
        self.first, self.most, self.patience = cfg.backoff_seconds, cfg.max_backoff_seconds, cfg.fault_patience_seconds
        self.delay = 0.0
        self.until = 0.0  # time.monotonic() before which nothing new is claimed
        self.since: float | None = None  # the first fault since the last success

    def fault(self) -> float:
        now = time.monotonic()
        self.since = now if self.since is None else self.since
        self.delay = min(max(self.delay * 2, self.first), self.most)
        self.until = 0.0 if self.exhausted else now + self.delay
        return self.delay

    def success(self) -> None:
        self.delay, self.since = 0.0, None

    @property
    def exhausted(self) -> bool:
        return self.since is not None and time.monotonic() - self.since >= self.patience

    @property
    def waiting(self) -> float:
        return max(self.until - time.monotonic(), 0.0)


def drive(db: Database, cfg: JobConfig, batch: Batch, *, pool_size: int | None = None,
          stop: threading.Event | None = None, progress: Callable[[dict[str, int]], None] | None = None,
          owner: str | None = None, exclusive: bool = False) -> bool:
    """Work on `batch` until every item is final, then finalise it. Several drivers (threads,
    processes, machines) may run at once. Returns True when the batch is done, False if `stop`
    was set first.

    `exclusive`: drive only under the batch's driver lease (the embedded runner and the command
    line: one render pool per batch); while another live owner holds it, wait for the batch to be
    done. Celery's drive tasks are not exclusive: each renders in its own worker process."""
    owner = owner or owner_id()
    if exclusive and not _wait_for_lease(db, cfg, batch, owner, stop, progress):
        return get_batch(db, batch.public_id).status == "done"
    try:
        return _drive(db, cfg, batch, owner, pool_size, stop, progress, exclusive)
    finally:
        if exclusive:
            try:
                drop_driver(db, batch.id, owner)
            except DATABASE_FAULTS:  # it runs out by itself
                pass


def _wait_for_lease(db: Database, cfg: JobConfig, batch: Batch, owner: str, stop: threading.Event | None,
                    progress: Callable[[dict[str, int]], None] | None) -> bool:
    """Take the driver lease, waiting while another live driver holds it. False when the batch
    was finished meanwhile (by the other driver) or `stop` was set."""
    while not take_driver(db, batch.id, owner, cfg.lease_seconds):
        if get_batch(db, batch.public_id).status == "done" or (stop is not None and stop.is_set()):
            return False
        if progress:
            progress(counts(db, batch.id))
        time.sleep(min(max(cfg.lease_seconds / 4, 0.1), 1.0))
    return True


def _drive(db: Database, cfg: JobConfig, batch: Batch, owner: str, pool_size: int | None,
           stop: threading.Event | None, progress: Callable[[dict[str, int]], None] | None, exclusive: bool) -> bool:
    size = cfg.pool_size if pool_size is None else pool_size
    out_dir = units_dir(cfg.data_dir, batch.public_id)
    override = batch.params.get("settings_override")
    inflight: dict[Future, list[int]] = {}
    backoff = Backoff(cfg)
    unrecorded: list[dict[str, Any]] = []  # results kept while the database is away
    renewed = time.monotonic()

    def record() -> None:
        if not unrecorded:
            return
        faults = [r for r in unrecorded if r["status"] == "retry"]
        give_up = None
        if faults:
            backoff.fault()
            if backoff.exhausted:
                give_up = Messages.gave_up_on(faults[0].get("fault"), cfg.fault_patience_seconds)
        elif any(r["status"] == "done" for r in unrecorded):
            backoff.success()
        complete(db, owner, unrecorded, backoff=backoff.delay, error_backoff=cfg.backoff_seconds, give_up=give_up)
        unrecorded.clear()
        if progress:
            progress(counts(db, batch.id))

    while True:
        if stop is not None and stop.is_set():
            if inflight:
                wait(inflight)
            return False
        try:
            if time.monotonic() - renewed > cfg.lease_seconds / 4:
                if exclusive and not take_driver(db, batch.id, owner, cfg.lease_seconds):
                    log.warning("batch %s: the driver lease was lost; another driver goes on", batch.public_id)
                    if inflight:
                        wait(inflight)
                    return False
                extend(db, owner, [i for ids in inflight.values() for i in ids], cfg.lease_seconds)
                renewed = time.monotonic()
            record()
            out_dir.mkdir(parents=True, exist_ok=True)
            while len(inflight) < (2 * size if size > 1 else 1) and not backoff.waiting:
                items = claim(db, batch.id, owner, cfg.lease_seconds, cfg.chunk, cfg.max_attempts)
                if not items:
                    break
                if size > 1:
                    future = _pool(size).submit(process_chunk, batch.kind, batch.fmt, items, str(out_dir), override)
                    inflight[future] = [i["id"] for i in items]
                else:
                    unrecorded.extend(process_chunk(batch.kind, batch.fmt, items, str(out_dir), override))
                    record()
                    break
            if not inflight:
                state = counts(db, batch.id)
                if all_final(state):
                    finalise(db, cfg.data_dir, batch.id)
                    return True
                # Only other workers' items, or items set back by a fault, remain: wait for them,
                # for their leases or back-off to run out.
                expiry = next_expiry(db, batch.id)
                delay = (expiry - utcnow()).total_seconds() if expiry else 0.0
                delay = max(delay, backoff.waiting)
                if delay > 0 or not state[PENDING]:
                    time.sleep(min(max(delay, 0.05), 1.0))
                continue
            done, _ = wait(inflight, timeout=cfg.lease_seconds / 4, return_when=FIRST_COMPLETED)
            for future in done:
                ids = inflight.pop(future)
                try:
                    unrecorded.extend(future.result())
                except BrokenProcessPool:
                    log.error("the render pool broke; releasing %d items", len(ids))
                    _drop_pool(size)
                    release(db, owner, ids)
            record()
        except DATABASE_FAULTS as exc:
            delay = backoff.fault()
            log.warning("batch %s: the database failed (%s); trying again in %.1f s", batch.public_id,
                        str(exc).splitlines()[0], delay)
            time.sleep(delay)
        except OSError as exc:
            if not infrastructure_fault(exc):
                raise
            delay = backoff.fault()  # a full disk while finishing (summary, manifest)
            log.warning("batch %s: %s; trying again in %.1f s", batch.public_id, exc, delay)
            time.sleep(delay)


# --------------------------------------------------------------------------- embedded in a service

class EmbeddedRunner:
    """Batches of a web process, each driven by a daemon thread. Restarting the process loses the
    threads, not the work: opening the batch's progress resumes it (`ensure_running`)."""

    def __init__(self, cfg: JobConfig, db: Database):
        self.cfg, self.db = cfg, db
        self._threads: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self, batch: Batch) -> None:
        """Drive the batch in a thread of this process, unless this process or another one (a
        web worker that answered a progress poll first) drives it already: one render pool per
        batch, under the batch's driver lease."""
        with self._lock:
            thread = self._threads.get(batch.id)
            if thread is not None and thread.is_alive():
                return
            owner = owner_id()
            if not take_driver(self.db, batch.id, owner, self.cfg.lease_seconds):
                return
            thread = threading.Thread(target=self._run, args=(batch, owner), name=f"jxdoc-batch-{batch.id}",
                                      daemon=True)
            self._threads[batch.id] = thread
            thread.start()

    def _run(self, batch: Batch, owner: str) -> None:
        try:
            drive(self.db, self.cfg, batch, owner=owner, exclusive=True)
        except Exception:  # noqa: BLE001 — logged; the batch resumes when next opened
            log.exception("batch %s stopped", batch.public_id)

    def wait(self, batch: Batch, timeout: float | None = None) -> None:
        thread = self._threads.get(batch.id)
        if thread is not None:
            thread.join(timeout)

