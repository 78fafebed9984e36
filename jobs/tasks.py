"""Celery tasks of the batch runner. A task renders in its own worker process (no pool inside a
pool): run `--concurrency` equal to the cores of each machine."""

from __future__ import annotations

import functools
import logging

from celery.signals import worker_init, worker_process_init, worker_ready

from jobs.celery_app import celery

log = logging.getLogger("jxdoc.jobs")
DRIVE = "jxdoc.batch.drive"


@functools.lru_cache(maxsize=1)
def _context():
    """Database and job config of this worker process, from its environment (JXDOC_*)."""
    from jobs.runner import JobConfig
    from storage.db import Database
    from storage.migrate import upgrade

    cfg = JobConfig.from_environment()
    upgrade(cfg.database_url)
    return cfg, Database(cfg.database_url)


@celery.task(name=DRIVE, bind=True)
def drive_batch(self, public_id: str) -> None:
    """Work on a batch until it is done. Any number of these may run at once."""
    from jobs.runner import drive, get_batch

    cfg, db = _context()
    batch = get_batch(db, public_id)
    if batch is None or batch.status == "done":
        return
    drive(db, cfg, batch, pool_size=1)


@functools.lru_cache(maxsize=4)
def _sender(redis_url: str | None):
    """A Celery app to send with: the workers' own, or one bound to the service's configured
    broker (the service may run with a URL the environment of this module did not see)."""
    if redis_url is None:
        return celery
    from jobs.celery_app import make_celery

    return make_celery(redis_url)


def enqueue(public_id: str, fanout: int = 8, redis_url: str | None = None) -> None:
    """Send `fanout` drive messages: every idle worker process joins the batch."""
    sender = _sender(redis_url)
    for _ in range(max(fanout, 1)):
        sender.send_task(DRIVE, args=[public_id])


def resume_unfinished() -> int:
    """Enqueue every batch not done yet (a worker that starts after a crash picks them up)."""
    from sqlalchemy import select

    from storage.batches import Batch

    cfg, db = _context()
    with db.read() as session:
        ids = list(session.scalars(select(Batch.public_id).where(Batch.status != "done")))
    for public_id in ids:
        enqueue(public_id, cfg.fanout, cfg.redis_url)
    return len(ids)


@worker_ready.connect
def _resume_on_start(sender=None, **kwargs) -> None:
    try:
        count = resume_unfinished()
        if count:
            log.info("resumed %d unfinished batches", count)
    except Exception:  # noqa: BLE001 — a worker must start even if the database is briefly away
        log.exception("could not resume unfinished batches")


@worker_init.connect  # the process that renders with --pool solo
@worker_process_init.connect  # each process of the default prefork pool
def _init_process(sender=None, **kwargs) -> None:
    from jobs.work import init_worker

    init_worker()
