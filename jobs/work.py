"""The work of one batch item, the same in a pool process of the embedded runner and in a Celery
worker: its batch kind's `process` (jobs/batchkinds/), with the batch's settings loaded once per
process. No database, no Flask, no queue here.
"""

from __future__ import annotations

import errno
import functools
import gc
import json
import traceback
from collections.abc import Mapping
from typing import Any

from jobs import batchkinds

# Failures of the machine, not of the unit: a full disk or quota, an I/O error, no file handles or
# memory left. An item that meets one is tried again later without using up its attempts.
INFRASTRUCTURE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EMFILE, errno.ENFILE,
                                   errno.ENOMEM})

# A process that renders all day (a pool or Celery worker, a gunicorn worker of the service) makes
# millions of container objects that live for one document: weasyprint's boxes and styles,
# openpyxl's cells. With CPython's default thresholds (700, 10, 10) the collector runs after every
# 700 of them and walks the whole heap (modules, fonts, compiled templates) every hundred runs, a
# measurable share of a PDF's time. Documents are freed by reference counting, not by the
# collector, so collecting less often costs little memory (figures: bench/FIGURES.md).
WORKER_GC_THRESHOLDS = (20_000, 50, 100)


def init_worker() -> None:
    """Set up a process that renders documents (a pool process of the embedded runner, a Celery
    worker process, a gunicorn worker): the collector's thresholds for long runs of documents."""
    gc.set_threshold(*WORKER_GC_THRESHOLDS)


def infrastructure_fault(exc: BaseException | None) -> str | None:
    """The errno name (“ENOSPC”) of an OSError of the machine (INFRASTRUCTURE_ERRNOS) anywhere in
    the cause chain; None for any other failure."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in INFRASTRUCTURE_ERRNOS:
            return errno.errorcode[exc.errno]
        exc = exc.__cause__ or exc.__context__
    return None


@functools.lru_cache(maxsize=8)
def _settings(override_json: str) -> Mapping[str, Any]:
    """Settings of a batch, loaded once per process (the override travels as JSON text)."""
    from forms.settings import load_settings
    from rules.settings import defaults

    override = json.loads(override_json) if override_json else None
    return load_settings(override) if override else defaults()


def settings_for(override: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return _settings(json.dumps(override, sort_keys=True, ensure_ascii=False) if override else "")


def process_item(kind_id: str, fmt: str, item: Mapping[str, Any], out_dir: str,
                 settings_override: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Work on one item with its kind's `process` (jobs/batchkinds/). Returns {"id", "status":
    done|invalid|excluded|error|retry, …}.

    `retry` is a fault of the machine (a full disk): the runner backs off and tries the item again
    without counting the attempt. `error` is an unexpected failure (a bug): the runner retries it
    a few times and then marks the item failed. `invalid` is the user's data and is final."""
    try:
        if "payload_json" in item:  # as claimed: decoded here, in the worker, not in the runner
            item = {**item, "payload": json.loads(item["payload_json"])}
        return batchkinds.get(kind_id).process(kind_id, item, fmt, out_dir, settings_for(settings_override))
    except Exception as exc:  # noqa: BLE001 — any failure of one unit must not stop the others
        fault = infrastructure_fault(exc)
        result = {"id": item["id"], "status": "retry" if fault else "error", "errors": [traceback.format_exc(limit=5)]}
        return {**result, "fault": fault} if fault else result


def process_chunk(kind_id: str, fmt: str, items: list[Mapping[str, Any]], out_dir: str,
                  settings_override: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    return [process_item(kind_id, fmt, item, out_dir, settings_override) for item in items]
