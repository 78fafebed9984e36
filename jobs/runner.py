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
  leaves one file; finalisation sweeps temp files a killed worker left and is itself repeatable.

What differs between kinds of batch (monitoring tables from a workbook, disclosure PDFs from stored
submissions) is the kind's seam in jobs/batchkinds.py: how an item is processed, what the
finishing step writes, which files the zip holds. Everything here is shared.

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
from pathlib import Path
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from jobs.archive import UNITS_DIR
from jobs.importer import ImportResult
from jobs.work import init_worker, process_chunk, sweep_temp_files
from storage.batches import DONE, EXCLUDED, FAILED, INVALID, PENDING, RUNNING, Batch, BatchItem, dumps
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger("jxdoc.jobs")

# Kinds of batch (jobs/batchkinds.py); the first two read a workbook upload.
WORKBOOK_KINDS = ("monitoring", "department_monitoring")
BATCH_KINDS = (*WORKBOOK_KINDS, "disclosure")


class Messages:
    failed = "多次生成失败（第{attempts}次），已停止重试。请检查该单位的数据，或联系管理员查看日志。"
    not_batch = "“{name}”不能批量生成。可批量生成的文档：{known}。"
    nothing_to_sum = "没有生成成功的单位，未生成汇总表。"
    excluded = "另有{count}家单位因填报有误或生成失败未纳入汇总，详见清单。"


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

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> JobConfig:
        env = os.environ

        def number(name: str, default, cast=int):
            raw = config.get(name, env.get(f"JXDOC_{name}"))
            return default if raw in (None, "") else cast(raw)

        return cls(
            database_url=config["DATABASE_URL"],
            data_dir=str(config["DATA_DIR"]),
            runner=str(config.get("JOB_RUNNER") or env.get("JXDOC_JOB_RUNNER") or "embedded"),
            redis_url=str(config.get("REDIS_URL") or env.get("JXDOC_REDIS_URL") or cls.redis_url),
            lease_seconds=number("JOB_LEASE_SECONDS", 120.0, float),
            chunk=number("JOB_CHUNK", 8),
            processes=number("JOB_PROCESSES", 0),
            max_attempts=number("JOB_MAX_ATTEMPTS", 5),
            fanout=number("JOB_FANOUT", 8),
        )

    @classmethod
    def from_environment(cls) -> JobConfig:
        from storage import config as _config

        return cls.from_mapping(_config.from_environment(_config.defaults()))

    @property
    def pool_size(self) -> int:
        return self.processes if self.processes > 0 else (os.cpu_count() or 1)


def batch_dir(data_dir: str | Path, public_id: str) -> Path:
    return Path(data_dir) / "batches" / public_id


def units_dir(data_dir: str | Path, public_id: str) -> Path:
    return batch_dir(data_dir, public_id) / UNITS_DIR


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
                 source_name: str = "", params: Mapping[str, Any] | None = None) -> tuple[Batch, bool]:
    """The batch of `key`, inserted with its items if new. (batch, created).

    `imported.units` are the item inputs of any kind: code, name, seq, output_name, payload()
    (jobs.importer.UnitInput for workbooks, jobs.disclosure.DisclosureUnit)."""
    with db.read() as session:
        existing = session.scalar(select(Batch).where(Batch.key == key))
    if existing is not None:
        return existing, False
    params = {**(params or {}), "year": imported.year, "period": imported.period}
    batch = Batch(key=key, kind=kind, fmt=fmt, title=title[:200], source_name=source_name[:200], status="running",
                  total=len(imported.units), params_json=dumps(params), errors_json=dumps(imported.errors))
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
                   or_(items.c.status == PENDING,
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
                attempts=items.c.attempts + 1, updated_at=now))
        return [{"id": r.id, "key": r.key, "output_name": r.output_name, "payload_json": r.payload_json}
                for r in taken]


def complete(db: Database, owner: str, results: list[dict[str, Any]]) -> None:
    """Record results of items this owner still holds. A result for an item whose lease another
    worker has since taken is dropped: that worker writes the same file and records it."""
    if not results:
        return
    items = BatchItem.__table__
    now = utcnow()
    with db.write() as session:
        held = {r.id: r.attempts for r in session.execute(
            select(items.c.id, items.c.attempts).where(items.c.id.in_([r["id"] for r in results]),
                                                       items.c.status == RUNNING, items.c.lease_owner == owner))}
        retried, finished = [], []
        for result in results:
            if result["id"] not in held:
                continue
            if result["status"] == "error":
                log.error("batch item %s failed (attempt %s): %s", result["id"], held[result["id"]],
                          result["errors"][-1])
                retried.append(result["id"])  # retried until max_attempts
                continue
            finished.append({
                "item_id": result["id"],
                "new_status": {"done": DONE, "excluded": EXCLUDED}.get(result["status"], INVALID),
                "new_errors": dumps(result.get("errors") or []),
                "new_result": dumps(result.get("result") or {}),
                "new_size": int(result.get("size") or 0),
            })
        if retried:
            session.execute(update(items).where(items.c.id.in_(retried)).values(
                status=PENDING, lease_owner=None, lease_expires_at=None, updated_at=now))
        if finished:
            session.execute(
                update(items).where(items.c.id == bindparam("item_id")).values(
                    status=bindparam("new_status"), errors_json=bindparam("new_errors"),
                    result_json=bindparam("new_result"), size=bindparam("new_size"),
                    lease_owner=None, lease_expires_at=None, updated_at=now),
                finished)


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
    return {s: found.get(s, 0) for s in (PENDING, RUNNING, DONE, INVALID, FAILED, EXCLUDED)}


def next_expiry(db: Database, batch_id: int) -> _dt.datetime | None:
    with db.read() as session:
        return session.scalar(select(func.min(BatchItem.lease_expires_at))
                              .where(BatchItem.batch_id == batch_id, BatchItem.status == RUNNING))


def all_final(c: Mapping[str, int]) -> bool:
    return c[PENDING] == 0 and c[RUNNING] == 0


# --------------------------------------------------------------------------- finishing

def finalise(db: Database, data_dir: str, batch_id: int) -> None:
    """The kind's finishing step (monitoring: summary table, paragraph and manifest; disclosure:
    index and manifest) from the items' results; then the batch is done. Repeatable: files are
    rewritten atomically with the same content."""
    from jobs import batchkinds

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
            ctx.set_forkserver_preload(["jobs.work", "jobs.batchkinds", "kinds", "generators.monitoring",
                                        "generators.tables.xlsx", "generators.disclosure"])
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


def drive(db: Database, cfg: JobConfig, batch: Batch, *, pool_size: int | None = None,
          stop: threading.Event | None = None, progress: Callable[[dict[str, int]], None] | None = None) -> bool:
    """Work on `batch` until every item is final, then finalise it. Several drivers (threads,
    processes, machines) may run at once. Returns True when the batch is done, False if `stop`
    was set first."""
    owner = owner_id()
    size = cfg.pool_size if pool_size is None else pool_size
    out_dir = units_dir(cfg.data_dir, batch.public_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    override = batch.params.get("settings_override")
    inflight: dict[Future, list[int]] = {}
    while True:
        if stop is not None and stop.is_set():
            if inflight:
                wait(inflight)
            return False
        while len(inflight) < (2 * size if size > 1 else 1):
            items = claim(db, batch.id, owner, cfg.lease_seconds, cfg.chunk, cfg.max_attempts)
            if not items:
                break
            if size > 1:
                future = _pool(size).submit(process_chunk, batch.kind, batch.fmt, items, str(out_dir), override)
                inflight[future] = [i["id"] for i in items]
            else:
                complete(db, owner, process_chunk(batch.kind, batch.fmt, items, str(out_dir), override))
                if progress:
                    progress(counts(db, batch.id))
                break
        if not inflight:
            state = counts(db, batch.id)
            if all_final(state):
                finalise(db, cfg.data_dir, batch.id)
                return True
            if state[PENDING]:
                continue
            # Only other workers' items remain: wait for them, or for their leases to run out.
            expiry = next_expiry(db, batch.id)
            delay = (expiry - utcnow()).total_seconds() if expiry else 0.2
            time.sleep(min(max(delay, 0.05), 1.0))
            continue
        done, _ = wait(inflight, timeout=cfg.lease_seconds / 2, return_when=FIRST_COMPLETED)
        for future in done:
            ids = inflight.pop(future)
            try:
                complete(db, owner, future.result())
            except BrokenProcessPool:
                log.error("the render pool broke; releasing %d items", len(ids))
                _drop_pool(size)
                release(db, owner, ids)
        if progress and done:
            progress(counts(db, batch.id))


# --------------------------------------------------------------------------- embedded in a service

class EmbeddedRunner:
    """Batches of a web process, each driven by a daemon thread. Restarting the process loses the
    threads, not the work: opening the batch's progress resumes it (`ensure_running`)."""

    def __init__(self, cfg: JobConfig, db: Database):
        self.cfg, self.db = cfg, db
        self._threads: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self, batch: Batch) -> None:
        with self._lock:
            thread = self._threads.get(batch.id)
            if thread is not None and thread.is_alive():
                return
            thread = threading.Thread(target=self._run, args=(batch,), name=f"jxdoc-batch-{batch.id}", daemon=True)
            self._threads[batch.id] = thread
            thread.start()

    def _run(self, batch: Batch) -> None:
        try:
            drive(self.db, self.cfg, batch)
        except Exception:  # noqa: BLE001 — logged; the batch resumes when next opened
            log.exception("batch %s stopped", batch.public_id)

    def wait(self, batch: Batch, timeout: float | None = None) -> None:
        thread = self._threads.get(batch.id)
        if thread is not None:
            thread.join(timeout)


def dispatch(cfg: JobConfig, db: Database, batch: Batch, embedded: EmbeddedRunner | None = None) -> None:
    """Start (or resume) work on a batch with the configured runner."""
    if batch.status == "done":
        return
    if cfg.runner == "celery":
        from jobs.tasks import enqueue

        enqueue(batch.public_id, cfg.fanout, cfg.redis_url)
        return
    (embedded or EmbeddedRunner(cfg, db)).start(batch)
