"""The Celery application for scale-out: `celery -A jobs.celery_app worker --concurrency 2`.

Workers need the same JXDOC_DATABASE_URL and JXDOC_DATA_DIR (a shared directory) as the service,
and JXDOC_REDIS_URL for the broker. Messages only say “drive batch X”; the database says which
items remain, so a lost or repeated message changes nothing:

* task_acks_late + task_reject_on_worker_lost: a message is acknowledged after its task ends,
  and a task whose worker process died is given back to the queue, not dropped;
* worker_prefetch_multiplier = 1: a worker holds no messages it is not working on;
* visibility_timeout (JXDOC_CELERY_VISIBILITY_TIMEOUT, seconds): when a whole worker dies with
  an unacknowledged message, Redis hands it out again after this delay. A worker that starts
  also resumes every unfinished batch at once (jobs.tasks), so recovery never waits for it.
"""

from __future__ import annotations

from celery import Celery

from storage.config import env


def make_celery(redis_url: str | None = None) -> Celery:
    url = redis_url or env("REDIS_URL") or "redis://127.0.0.1:6379/0"
    app = Celery("jxdoc", broker=url, include=["jobs.tasks"])
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": int(env("CELERY_VISIBILITY_TIMEOUT", "3600"))},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_default_queue="jxdoc",
    )
    return app


celery = make_celery()
app = celery
