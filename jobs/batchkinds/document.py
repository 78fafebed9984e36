"""One document rendered by the batch runner instead of a request worker: a document too long to
render inside a request (more pages than the service's per-request limit) is sent here as a batch
of one item, with the runner's leases, retries, back-off and checked download, and no page limit.

The batch's kind is the document's kind (`notice`, `self_evaluation_report` …); its one item's
payload is the submitted data, validated again in the worker like every batch item.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forms.base import FieldErrors
from jobs.archive import items
from jobs.batchkinds import BatchKind, register
from jobs.files import write_output
from jobs.importer import ImportResult
from storage.batches import DONE

KEY = "document"  # the item's key: a batch of one


class Messages:
    done = "已生成，共{pages}页。"
    done_without_pages = "已生成。"


@dataclass(frozen=True)
class DocumentUnit:
    """The one item of a document batch (the shape `runner.create_batch` takes)."""

    data: Mapping[str, Any]
    output_name: str
    name: str
    code: str = KEY
    seq: int = 0

    def payload(self) -> dict:
        return {"data": self.data}


def imported(data: Mapping[str, Any], output_name: str, title: str) -> ImportResult:
    return ImportResult(year=None, period=None, units=[DocumentUnit(data, output_name, title[:100])], errors=[])


def key_material(kind_id: str, fmt: str, owner_id: int, data: Mapping[str, Any]) -> bytes:
    """What makes a document batch the same batch: its owner, kind, format and data."""
    return json.dumps({"kind": kind_id, "fmt": fmt, "owner": owner_id, "data": data}, sort_keys=True,
                      ensure_ascii=False, default=str).encode()


def process_item(kind_id: str, item: Mapping[str, Any], fmt: str, out_dir: str,
                 settings: Mapping[str, Any]) -> dict[str, Any]:
    from generators.pdf import page_limit
    from kinds import pipeline

    try:
        data = pipeline.validate(kind_id, item["payload"]["data"], settings)
    except FieldErrors as exc:  # settings changed since it was sent: said per field
        return {"id": item["id"], "status": "invalid",
                "errors": [f"{path}：{m}" for path, messages in exc.errors.items() for m in messages]}
    with page_limit(None) as meter:  # no limit here: this is where long documents go
        content = pipeline.render(kind_id, data, fmt, settings)
    written = write_output(Path(out_dir) / item["output_name"], content)
    return {"id": item["id"], "status": "done", **written, "result": {"pages": meter.pages}}


def finish(db, batch, directory: Path) -> dict[str, Any]:
    """Nothing to write beside the document; the progress says how long it is."""
    for item in items(db, batch.id, DONE):
        pages = item.result.get("pages")
        return {"text": Messages.done.format(pages=pages) if pages else Messages.done_without_pages}
    return {"text": ""}


# Not one of the kinds a user starts as a batch: the batch kind of every document kind that has no
# batch kind of its own, when one long document is sent to the runner.
register(BatchKind(KEY, process_item, finish, (), "文档", preload=("kinds",)), fallback=True)
