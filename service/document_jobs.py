"""Documents rendered in the background: what a request may not render (more pages than
RENDER_MAX_PAGES, service.render_limits) is sent to the batch runner as a batch of one
(jobs/batchkinds/document.py) that only the user who sent it sees.

    POST /api/v1/documents/<kind>/jobs?format=pdf   the same body as POST /api/v1/documents/<kind>
                                                     → 202, Location: the job
    GET  /api/v1/document-jobs/<id>                  status, pages, errors, download_url when done
    GET  /api/v1/document-jobs/<id>/download         the file itself (checked against its hash)

The same request again is the same job (and retries it if it failed).
"""

from __future__ import annotations

from flask import Response, current_app, send_file, url_for
from sqlalchemy import select

import kinds
from jobs import archive, files, runner
from jobs.batchkinds import document as documents
from kinds import pipeline
from service.batches import start_batch
from service.database import get_db
from service.downloads import content_disposition
from service.errors import ApiError
from service.settings_store import current_override
from storage.batches import DONE, FINAL, Batch, BatchItem
from storage.models import User


class Messages:
    not_found = "找不到这个后台生成任务。"
    not_done = "文档尚未生成完成，请稍后再下载。"
    failed = "文档未能生成，请查看错误信息；以同样的内容再次提交即可重试。"
    rerendering = "文档文件缺失或已损坏，正在重新生成，请稍后再下载。"


def start(kind: kinds.Kind, fmt: str, payload: dict, data: dict, user: User) -> Batch:
    """The job of this user, kind, format and payload: created and started, or found (and its
    failure retried)."""
    override = current_override()
    title = str(data.get("title") or data.get("project_name") or kind.name).replace("\n", "")[:200]
    imported = documents.imported(payload, pipeline.safe_filename(kind.download_base(data), fmt), title)
    key = runner.batch_key(kind.id, fmt, {"settings_override": override},
                           documents.key_material(kind.id, fmt, user.id, payload))
    db = get_db()
    batch = runner.find_batch(db, key)
    if batch is None:
        batch, _ = runner.create_batch(db, kind.id, fmt, imported, key=key, title=title,
                                       params={"settings_override": override}, owner_id=user.id)
    start_batch(batch)
    return batch


def find(public_id: str, user: User) -> Batch:
    """The user's own job; anyone else's (or a bureau batch) is not found."""
    with get_db().read() as session:
        batch = session.scalar(select(Batch).where(Batch.public_id == public_id, Batch.owner_id == user.id))
    if batch is None:
        raise ApiError(404, Messages.not_found)
    return batch


def _item(batch: Batch) -> BatchItem:
    with get_db().read() as session:
        return session.scalar(select(BatchItem).where(BatchItem.batch_id == batch.id))


def status(batch: Batch) -> dict:
    item = _item(batch)
    with get_db().read() as session:
        batch = session.get(Batch, batch.id)
    done = batch.status == "done" and item.status == DONE
    if batch.status != "done":
        start_batch(batch)  # resumed after a restart; a no-op while it runs
    return {
        "id": batch.public_id,
        "kind": batch.kind,
        "kind_name": kinds.get(batch.kind).name,
        "format": batch.fmt,
        "title": batch.title,
        "status": "done" if done else ("failed" if item.status in FINAL else "running"),
        "status_label": "已生成" if done else ("生成失败" if item.status in FINAL else "生成中"),
        "pages": item.result.get("pages") if done else None,
        "errors": item.errors if item.status in FINAL and not done else [],
        "message": Messages.failed if item.status in FINAL and not done else None,
        "summary_text": batch.summary.get("text") if done else None,
        "download_url": url_for("api.document_job_download", public_id=batch.public_id) if done else None,
        "created_at": batch.created_at.isoformat() + "Z",
        "finished_at": batch.finished_at.isoformat() + "Z" if batch.finished_at else None,
    }


def download(batch: Batch) -> Response:
    item = _item(batch)
    if batch.status != "done" or item.status != DONE:
        raise ApiError(409, Messages.not_done if item.status not in FINAL else Messages.failed)
    db, cfg = get_db(), runner.JobConfig.from_mapping(current_app.config)
    units = files.units_dir(cfg.data_dir, batch.public_id)
    try:
        archive.repair_units(db, batch, units, cfg.repair_inline)
    except archive.BrokenUnits as exc:
        runner.reopen(db, batch.id, BatchItem.id.in_(exc.ids))
        start_batch(runner.get_batch(db, batch.public_id))
        raise ApiError(409, Messages.rerendering) from None
    response = send_file(units / item.output_name, mimetype=pipeline.MIME_TYPES[batch.fmt], conditional=False)
    response.headers["Content-Disposition"] = content_disposition(item.output_name)
    response.headers["Cache-Control"] = "no-store"
    return response
