"""Start (or resume) work on a batch with the configured runner: a thread of this process
(runner.EmbeddedRunner) or the Celery workers (jobs/tasks.py). Kept apart from the runner, which
the Celery tasks themselves run."""

from __future__ import annotations

from jobs.runner import EmbeddedRunner, JobConfig
from storage.batches import Batch
from storage.db import Database


def dispatch(cfg: JobConfig, db: Database, batch: Batch, embedded: EmbeddedRunner | None = None) -> None:
    if batch.status == "done":
        return
    if cfg.runner == "celery":
        from jobs.tasks import enqueue  # Celery is imported only by deployments that use it

        enqueue(batch.public_id, cfg.fanout, cfg.redis_url)
        return
    (embedded or EmbeddedRunner(cfg, db)).start(batch)
