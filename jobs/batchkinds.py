"""What differs between the kinds of batch, and nothing else.

The runner (jobs/runner.py) owns everything a batch kind shares: items in the database with
status, attempts and lease; the embedded pool and the Celery tasks; retries, crash-resume,
atomic writes; and the streamed zip (jobs/archive.py). A kind says only

* `process`: how one item is worked on — in a pool process or a Celery worker, without a
  database: `process(kind_id, item, fmt, out_dir, settings) -> {"id", "status", …}`
  (jobs/work.py);
* `finish`: what is written once every item is final — summary or index, and the manifest —
  `finish(db, batch, directory) -> summary` (the progress page shows `summary["text"]`);
* `files`: the files of the batch directory the zip holds before the units' folder, in order;
* `fmt`: the one format of its unit files, or None when the user chooses;
* `contents`: what the zip holds, in words, for the download button and the command line.

Items are created by each kind's own reader (jobs/importer.py for workbooks, jobs/disclosure.py
for stored submissions and JSON) as inputs of `runner.create_batch`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class BatchKind:
    id: str
    process: Callable[..., dict[str, Any]]
    finish: Callable[[Any, Any, Path], dict[str, Any]]
    files: tuple[str, ...]
    contents: str
    fmt: str | None = None


def _monitoring() -> list[BatchKind]:
    from jobs import archive, work

    files = (archive.SUMMARY_XLSX, archive.SUMMARY_TEXT, archive.MANIFEST)
    contents = "各单位监控表、汇总表、汇总说明和清单"
    return [BatchKind(kind_id, work.process_monitoring_item, archive.finish_monitoring, files, contents)
            for kind_id in ("monitoring", "department_monitoring")]


def _document() -> BatchKind:
    from jobs import documents

    return BatchKind(documents.KEY, documents.process_item, documents.finish, (), "文档")


def _disclosure() -> list[BatchKind]:
    from jobs import archive, disclosure

    return [BatchKind("disclosure", disclosure.process_item, disclosure.finish,
                      (disclosure.INDEX_XLSX, disclosure.INDEX_HTML, archive.MANIFEST),
                      "各单位公开文件（PDF）、目录和清单", fmt="pdf")]


_registry: dict[str, BatchKind] = {}


def registry() -> Mapping[str, BatchKind]:
    """The batch kinds, imported on first use (the modules import the runner's helpers)."""
    if not _registry:
        for kind in (*_monitoring(), *_disclosure()):
            _registry[kind.id] = kind
    return _registry


def get(kind_id: str) -> BatchKind:
    """The batch kind of `kind_id`; any other document kind is one document rendered in the
    background (jobs/documents.py)."""
    found = registry().get(kind_id)
    return found if found is not None else _document()
