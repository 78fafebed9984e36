"""The registry of batch kinds: what differs between the kinds of batch, and nothing else.

The runner (jobs/runner.py) owns everything a batch kind shares: items in the database with
status, attempts and lease; the embedded pool and the Celery tasks; retries, crash-resume,
atomic writes (jobs/files.py); and the streamed zip (jobs/archive.py). A kind says only

* `process`: how one item is worked on — in a pool process or a Celery worker, without a
  database: `process(kind_id, item, fmt, out_dir, settings) -> {"id", "status", …}`;
* `finish`: what is written once every item is final — summary or index, and the manifest —
  `finish(db, batch, directory) -> summary` (the progress page shows `summary["text"]`);
* `files`: the files of the batch directory the zip holds before the units' folder, in order;
* `contents`: what the zip holds, in words, for the download button and the command line;
* `workbook`: whether its items are read from an uploaded workbook (jobs/importer.py);
* `preload`: the modules its `process` needs, imported once by the pool's forkserver.

Each batch kind lives in its own module of this package and registers itself there; the modules
are discovered on first use, as kinds/ discovers the document kinds. Adding a batch kind means
adding its module, nothing in the runner. The module's items are created by its own reader
(jobs/importer.py for workbooks, `disclosure.from_stored`/`from_payloads`) as inputs of
`runner.create_batch`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kinds import import_members


@dataclass(frozen=True)
class BatchKind:
    id: str
    process: Callable[..., dict[str, Any]]
    finish: Callable[[Any, Any, Path], dict[str, Any]]
    files: tuple[str, ...]
    contents: str
    workbook: bool = False
    preload: tuple[str, ...] = ()


_registry: dict[str, BatchKind] = {}
_fallback: list[BatchKind] = []
_discovered = False


def register(kind: BatchKind, *, fallback: bool = False) -> BatchKind:
    """Register a batch kind; `fallback`: the one for any document kind without its own (one long
    document rendered in the background), not listed among the kinds a user starts as a batch."""
    if kind.id in _registry or any(k.id == kind.id for k in _fallback):
        raise ValueError(f"batch kind {kind.id!r} registered twice")
    if fallback:
        if _fallback:
            raise ValueError("a second fallback batch kind")
        _fallback.append(kind)
    else:
        _registry[kind.id] = kind
    return kind


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    import_members(__name__, __path__)


def registry() -> Mapping[str, BatchKind]:
    """The batch kinds by document kind id: those read from a workbook first, each group in the
    order its modules register them."""
    _discover()
    return {k.id: k for k in sorted(_registry.values(), key=lambda k: not k.workbook)}


def get(kind_id: str) -> BatchKind:
    """The batch kind of `kind_id`; any other document kind is one document rendered in the
    background (document.py)."""
    found = registry().get(kind_id)
    return found if found is not None else _fallback[0]


def kind_ids() -> tuple[str, ...]:
    """The document kinds that can be produced as a batch: the one list of them."""
    return tuple(registry())


def workbook_kind_ids() -> tuple[str, ...]:
    """The batch kinds whose items come from an uploaded workbook."""
    return tuple(k.id for k in registry().values() if k.workbook)


def preload_modules() -> list[str]:
    """What a render process imports before its first item: the registry, its kinds' modules and
    the modules they name."""
    modules = [__name__]
    for kind in (*registry().values(), *_fallback):
        modules += [m for m in (kind.process.__module__, *kind.preload) if m not in modules]
    return modules
