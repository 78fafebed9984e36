"""Batches on the web and in the API: upload a workbook → a job → progress → one zip.

    GET  /batches                      upload form and recent batches (HTML)
    POST /batches                      upload; redirects to the progress page
    GET  /batches/<id>                 progress (HTML, refreshes itself until done)
    GET  /batches/<id>/download        the zip, streamed from disk
    POST /batches/<id>/retry           “重试失败单位”: the batch's failed units tried again
    POST /api/v1/batches               multipart upload (file, kind, year, period, format, area) → 202;
                                       kind=disclosure: year and exclusions (form fields or a JSON
                                       body), optionally a .json file (or "units") of payloads
    GET  /api/v1/batches/<id>          progress JSON
    GET  /api/v1/batches/<id>/items    items with their status and errors (?status=invalid)
    GET  /api/v1/batches/<id>/download the zip
    POST /api/v1/batches/<id>/retry    failed units tried again → 202 with the progress and
                                       `retried`; 409 when none failed

The same upload again is the same batch; its units that failed for good are tried again then
(`retried` in the answer). A download checks every unit file against its recorded size and
SHA-256 and renders broken ones again (a few at once; more by the runner: 409 until they are).

绩效信息公开 (kind `disclosure`) takes no workbook: its units are the stored self-evaluation
documents of the year (jobs/batchkinds/disclosure.py), or the `disclosure` payloads of an uploaded JSON file;
units kept out of publication are given as “单位编码 原因” lines (`exclusions`).

A batch holds many units' data: only the finance bureau and administrators may run and read
batches. Opening a batch that is not done resumes it (the embedded runner's threads do not
survive a restart; the database knows what is left).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

import kinds
from generators.signing import SigningError
from jobs import archive, batchkinds, files, importer
from jobs.batchkinds import disclosure as disclosure_batch
from jobs.dispatch import dispatch
from jobs.runner import (
    EmbeddedRunner,
    JobConfig,
    batch_key,
    counts,
    create_batch,
    find_batch,
    get_batch,
    reopen,
    retry_failed,
)
from rules.settings import thaw
from service import audit
from service.database import get_db
from service.downloads import content_disposition
from service.errors import ApiError
from service.extensions import csrf
from service.gate import roles_required
from service.roles import ADMIN, FINANCE_BUREAU
from service.settings_store import current_settings
from service.signing import BATCH_SIGN_ACTION
from storage import seals
from storage.batches import FINAL, PROBLEMS, Batch, BatchItem

bp = Blueprint("batches", __name__)
FORMATS = ("xlsx", "docx", "pdf", "ofd")
ITEMS_PAGE = 200


class Messages:
    no_file = "请选择要导入的工作簿（.xlsx）。"
    not_xlsx = "只能导入 .xlsx 工作簿。"
    bad_kind = "请选择可批量生成的文档：{known}。"
    bad_format = "格式应为 xlsx、docx 或 pdf。"
    not_found = "找不到这个批次。"
    not_done = "批次尚未完成，请稍后再下载。"
    import_failed = "工作簿无法导入，请按提示修改后重新上传。"
    disclosure_failed = "无法开始绩效信息公开批次，请按提示修改后重试。"
    disclosure_format = "公开文件格式只能是 pdf 或 ofd。"
    not_json = "只能上传 .json 文件（各单位公开材料的列表）；不上传文件则使用本系统中已提交的自评材料。"
    nothing_failed = "这个批次没有生成失败的单位。"
    retrying = "已重新开始生成{count}家失败的单位。"
    rerendering = "有{count}家单位的文件缺失或已损坏，正在重新生成，请稍后再下载。"


def _config() -> JobConfig:
    return JobConfig.from_mapping(current_app.config)


def _runner() -> EmbeddedRunner:
    """One embedded runner per app (its threads drive this process's batches)."""
    runner = current_app.extensions.get("jxdoc.jobs")
    if runner is None:
        runner = current_app.extensions["jxdoc.jobs"] = EmbeddedRunner(_config(), get_db())
    return runner


def _kind_names() -> dict[str, str]:
    return {k: kinds.get(k).name for k in batchkinds.kind_ids()}


def _batch_or_404(public_id: str) -> Batch:
    with get_db().read() as session:
        batch = session.scalar(select(Batch).where(Batch.public_id == public_id))
    if batch is None:
        raise ApiError(404, Messages.not_found)
    return batch


def start_batch(batch: Batch) -> None:
    """Start or resume work on the batch with the configured runner."""
    dispatch(_config(), get_db(), batch, _runner())


def _fields():
    """The request's fields: a JSON body's, or the form's."""
    if request.is_json:
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else {}
    return request.form


def _create_from_request() -> Batch:
    """Validate the upload and create (or find) its batch; errors as one 422 envelope."""
    fields = _fields()
    kind_id = str(fields.get("kind") or "monitoring").strip()
    if kind_id == disclosure_batch.KIND:
        return _create_disclosure(fields)
    upload = request.files.get("file")
    fmt = (request.form.get("format") or "xlsx").strip().lower()
    errors: dict[str, list[str]] = {}
    if kind_id not in batchkinds.kind_ids():
        # With a workbook in hand, the kinds that read one; else every kind of batch.
        workbook = upload is not None and (upload.filename or "").lower().endswith(".xlsx")
        known = "、".join(kinds.get(k).name for k in (batchkinds.workbook_kind_ids() if workbook else batchkinds.kind_ids()))
        errors["kind"] = [Messages.bad_kind.format(known=known)]
    if fmt not in FORMATS:
        errors["format"] = [Messages.bad_format]
    if upload is None or not upload.filename:
        errors["file"] = [Messages.no_file]
    elif not upload.filename.lower().endswith(".xlsx"):
        errors["file"] = [Messages.not_xlsx]
    if errors:
        raise ApiError(422, Messages.import_failed, errors)
    data = upload.read()
    year = (request.form.get("year") or "").strip() or None
    period = (request.form.get("period") or "").strip() or None
    area = (request.form.get("area") or "").strip()[:60]
    key = batch_key(kind_id, fmt, {"area": area, "settings_override": None, "year": year, "period": period}, data)
    db = get_db()
    existing = find_batch(db, key)
    if existing is not None:  # the same upload again: the same batch (its failed units retried)
        return existing
    try:
        imported = importer.read_batch_workbook(data, kind_id, year=year, period=period, fmt=fmt,
                                                max_bytes=current_app.config["MAX_CONTENT_LENGTH"])
    except importer.BatchImportError as exc:
        raise ApiError(422, Messages.import_failed, {"file": exc.messages}) from None
    if imported.fatal:
        raise ApiError(422, Messages.import_failed, {"file": imported.fatal})
    batch, _ = create_batch(db, kind_id, fmt, imported, key=key, title=upload.filename.rsplit(".", 1)[0],
                            source_name=upload.filename, params={"area": area, "settings_override": None})
    return batch


def _create_disclosure(fields) -> Batch:
    """A 绩效信息公开 batch: the stored documents of `year`, or the payloads of an uploaded JSON
    file (or of a JSON body's "units"); `exclusions` as “单位编码 原因” lines or a list."""
    errors: dict[str, list[str]] = {}
    upload = request.files.get("file")
    payloads = fields.get("units") if request.is_json else None
    if upload is not None and upload.filename:
        if not upload.filename.lower().endswith(".json"):
            errors["file"] = [Messages.not_json]
    else:
        upload = None
    from_file = upload is not None or payloads is not None
    year, year_errors = disclosure_batch.parse_year(fields.get("year"))
    if year_errors and (not from_file or fields.get("year") not in (None, "")):
        errors["year"] = year_errors
    fmt = str(fields.get("format") or disclosure_batch.FMT).lower()
    if fmt not in disclosure_batch.FORMATS:
        errors["format"] = [Messages.disclosure_format]
    exclusions, exclusion_errors = disclosure_batch.parse_exclusions(fields.get("exclusions"))
    if exclusion_errors:
        errors["exclusions"] = exclusion_errors
    if errors:
        raise ApiError(422, Messages.disclosure_failed, errors)
    db = get_db()
    if upload is not None:
        payloads, file_errors = disclosure_batch.load_json(upload.read())
        if file_errors:
            raise ApiError(422, Messages.disclosure_failed, {"file": file_errors})
    if from_file:
        imported = disclosure_batch.from_payloads(payloads, exclusions, year)
        source, title = "json", (upload.filename.rsplit(".", 1)[0] if upload is not None else "")
    else:
        imported = disclosure_batch.from_stored(db, year, exclusions)
        source, title = "stored", ""
    if imported.fatal:
        raise ApiError(422, Messages.disclosure_failed, {"file" if from_file else "year": imported.fatal})
    settings = current_settings()
    if fmt == "ofd" and settings["signing"]["batches"]["sign"]:
        raise ApiError(422, Messages.disclosure_failed, {"format": [disclosure_batch.Messages.ofd_signing]})
    if settings["signing"]["batches"]["sign"]:  # refused now, not in every unit
        data_dir = current_app.config["DATA_DIR"]
        try:
            seals.seal(data_dir, seals.default_organ(data_dir, settings))
        except SigningError as exc:
            raise ApiError(422, Messages.disclosure_failed, {"sign": [str(exc)]}) from None
    # The workers read the bureau's signing and PDF/A choices from the batch, as it was started.
    batch, _ = disclosure_batch.start(db, imported, source=source, title=title[:200],
                                      source_name=upload.filename if upload is not None else "",
                                      settings_override={"signing": thaw(settings["signing"])}, fmt=fmt)
    if settings["signing"]["batches"]["sign"]:
        # Who started the signing and when: the verification of any of its files finds it here.
        with db.write() as session:
            audit.audit(session, BATCH_SIGN_ACTION, target=f"batch:{batch.public_id}",
                       comment=f"签章机关：{seals.default_organ(current_app.config['DATA_DIR'], settings)}；批次：{batch.title}")
    return batch


def progress(batch: Batch) -> dict:
    """The progress document the page and the API show."""
    db = get_db()
    state = counts(db, batch.id)
    finished = sum(state[s] for s in FINAL)
    with db.read() as session:
        batch = session.get(Batch, batch.id)
    done = batch.status == "done"
    body = {
        "id": batch.public_id,
        "kind": batch.kind,
        "kind_name": kinds.get(batch.kind).name,
        "format": batch.fmt,
        "title": batch.title,
        "year": batch.params.get("year"),
        "period": batch.params.get("period"),
        "status": batch.status,
        "status_label": batch.status_label,
        "total": batch.total,
        "counts": state,
        "finished": finished,
        "percent": 100 if done else (int(finished * 100 / batch.total) if batch.total else 0),
        "errors": batch.errors,
        "summary_text": batch.summary.get("text") if done else None,
        "contents": batchkinds.get(batch.kind).contents,
        "download_url": url_for("batches.api_download", public_id=batch.public_id) if done else None,
        "retry_url": url_for("batches.api_retry", public_id=batch.public_id) if done and state["failed"] else None,
        "created_at": batch.created_at.isoformat() + "Z",
        "finished_at": batch.finished_at.isoformat() + "Z" if batch.finished_at else None,
    }
    if not done and _config().runner != "celery":
        # Resume after a restart; a no-op while this process drives it already. (Celery workers
        # resume unfinished batches themselves when they start.)
        start_batch(batch)
    return body


def _zip_response(batch: Batch) -> Response:
    if batch.status != "done":
        raise ApiError(409, Messages.not_done)
    db, cfg = get_db(), _config()
    try:
        stream = archive.zip_stream(db, batch, cfg.data_dir, repair_inline=cfg.repair_inline)
    except archive.BrokenUnits as exc:  # too many to render here: the runner renders them again
        reopen(db, batch.id, BatchItem.id.in_(exc.ids))
        start_batch(get_batch(db, batch.public_id))
        raise ApiError(409, Messages.rerendering.format(count=len(exc.ids))) from None
    response = Response(stream, mimetype="application/zip")
    response.headers["Content-Length"] = str(len(stream))
    title = batch.title or kinds.get(batch.kind).name
    name = f"{title}_{batch.params['period']}批量生成.zip" if batch.params.get("period") else f"{title}.zip"
    response.headers["Content-Disposition"] = content_disposition(name)
    return response


# --------------------------------------------------------------------------- HTML

@bp.get("/batches")
@roles_required(FINANCE_BUREAU, ADMIN)
def index():
    with get_db().read() as session:
        recent = list(session.scalars(select(Batch).where(Batch.owner_id.is_(None))
                                          .order_by(Batch.id.desc()).limit(20)))
    return render_template("batches/index.html", recent=recent, kinds=[kinds.get(k) for k in batchkinds.workbook_kind_ids()],
                           kind_names=_kind_names(), errors={}, form={})


@bp.post("/batches")
@roles_required(FINANCE_BUREAU, ADMIN)
def upload():
    try:
        batch = _create_from_request()
    except ApiError as exc:
        with get_db().read() as session:
            recent = list(session.scalars(select(Batch).where(Batch.owner_id.is_(None))
                                          .order_by(Batch.id.desc()).limit(20)))
        return render_template("batches/index.html", recent=recent, kinds=[kinds.get(k) for k in batchkinds.workbook_kind_ids()],
                               kind_names=_kind_names(), errors=exc.errors, message=exc.message, form=request.form), exc.code
    start_batch(batch)
    return redirect(url_for("batches.show", public_id=batch.public_id), 303)


@bp.get("/batches/<public_id>")
@roles_required(FINANCE_BUREAU, ADMIN)
def show(public_id: str):
    batch = _batch_or_404(public_id)
    body = progress(batch)
    with get_db().read() as session:
        problems = list(session.scalars(
            select(BatchItem).where(BatchItem.batch_id == batch.id, BatchItem.status.in_(PROBLEMS))
            .order_by(BatchItem.seq).limit(50)))
    return render_template("batches/show.html", batch=body, problems=problems)


@bp.get("/batches/<public_id>/download")
@roles_required(FINANCE_BUREAU, ADMIN)
def download(public_id: str):
    return _zip_response(_batch_or_404(public_id))


@bp.post("/batches/<public_id>/retry")
@roles_required(FINANCE_BUREAU, ADMIN)
def retry(public_id: str):
    batch = _batch_or_404(public_id)
    count = retry_failed(get_db(), batch.id)
    flash(Messages.retrying.format(count=count) if count else Messages.nothing_failed)
    if count:
        start_batch(get_batch(get_db(), public_id))
    return redirect(url_for("batches.show", public_id=public_id), 303)


# --------------------------------------------------------------------------- API

@bp.post("/api/v1/batches")
@roles_required(FINANCE_BUREAU, ADMIN)
def api_create():
    batch = _create_from_request()
    start_batch(batch)
    body = {**progress(batch), "retried": batch.retried}
    response = jsonify(body)
    response.status_code = 202
    response.headers["Location"] = url_for("batches.api_show", public_id=batch.public_id)
    return response


@bp.get("/api/v1/batches/<public_id>")
@roles_required(FINANCE_BUREAU, ADMIN)
def api_show(public_id: str):
    return jsonify(progress(_batch_or_404(public_id)))


@bp.get("/api/v1/batches/<public_id>/items")
@roles_required(FINANCE_BUREAU, ADMIN)
def api_items(public_id: str):
    batch = _batch_or_404(public_id)
    status = request.args.get("status")
    after = request.args.get("after", type=int, default=-1)
    with get_db().read() as session:
        query = select(BatchItem).where(BatchItem.batch_id == batch.id, BatchItem.seq > after)
        if status:
            query = query.where(BatchItem.status == status)
        items = list(session.scalars(query.order_by(BatchItem.seq).limit(ITEMS_PAGE)))
    return jsonify({
        "items": [{"seq": i.seq, "unit": {"code": i.unit_code, "name": i.unit_name}, "status": i.status,
                   "status_label": i.status_label, "attempts": i.attempts,
                   "file": f"{files.UNITS_DIR}/{i.output_name}" if i.status == "done" else None,
                   "errors": i.errors if i.status in PROBLEMS else []} for i in items],
        "next_after": items[-1].seq if len(items) == ITEMS_PAGE else None,
    })


@bp.get("/api/v1/batches/<public_id>/download")
@roles_required(FINANCE_BUREAU, ADMIN)
def api_download(public_id: str):
    return _zip_response(_batch_or_404(public_id))


@bp.post("/api/v1/batches/<public_id>/retry")
@roles_required(FINANCE_BUREAU, ADMIN)
def api_retry(public_id: str):
    """“重试失败单位”: the failed units back to work with fresh attempts."""
    batch = _batch_or_404(public_id)
    count = retry_failed(get_db(), batch.id)
    if not count:
        raise ApiError(409, Messages.nothing_failed)
    batch = get_batch(get_db(), public_id)
    start_batch(batch)
    response = jsonify({**progress(batch), "retried": count})
    response.status_code = 202
    response.headers["Location"] = url_for("batches.api_show", public_id=public_id)
    return response


# The JSON API authenticates with tokens or checks its own CSRF header (service.gate); the
# multipart upload of the API must not need the HTML form's token.
csrf.exempt(api_create)
csrf.exempt(api_retry)
