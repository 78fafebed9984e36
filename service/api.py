"""JSON API v1: kinds, documents (validate and render), stored submissions."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for
from sqlalchemy import select

import kinds
from forms.base import FieldErrors
from kinds import pipeline
from service import document_jobs, render_limits, signing, workflow
from service.database import get_db
from service.downloads import file_response
from service.errors import ApiError
from service.gate import public
from service.scopes import find_submission, scope_submissions
from service.sessions import current_user
from service.settings_store import current_settings
from storage.models import Submission
from storage.records import normalised

bp = Blueprint("api", __name__, url_prefix="/api")


def _json_body():
    payload = request.get_json(silent=True)
    if payload is None:
        if request.mimetype != "application/json":
            raise ApiError(415, "请以 application/json 提交JSON内容。")
        raise ApiError(400, "请求内容不是有效的JSON，请检查格式。")
    return payload


def kind_summary(kind: kinds.Kind) -> dict:
    return {"id": kind.id, "name": kind.name, "group": kind.group, "formats": list(kind.formats),
            "description": kind.description}


@bp.get("/openapi.json")
@public  # the description of the API, not data: tools read it before they hold a token
def openapi():
    from service.openapi import build_spec

    spec = current_app.extensions.get("jxdoc.openapi")
    if spec is None:
        spec = current_app.extensions["jxdoc.openapi"] = build_spec()
    return jsonify(spec)


@bp.get("/v1/kinds")
def list_kinds():
    return jsonify([kind_summary(k) for k in kinds.all_kinds()])


@bp.get("/v1/kinds/<kind_id>")
def show_kind(kind_id: str):
    kind = kinds.get(kind_id)
    return jsonify({**kind_summary(kind), "samples": [p.stem for p in kind.samples()]})


@bp.get("/v1/kinds/<kind_id>/sample")
def kind_sample(kind_id: str):
    kind = kinds.get(kind_id)
    samples = kind.samples()
    if not samples:
        raise ApiError(404, f"“{kind.name}”没有示例。")
    return current_app.response_class(samples[0].read_bytes(), mimetype="application/json")


def _format(kind: kinds.Kind) -> str:
    fmt = request.args.get("format", kind.formats[0])
    if fmt not in kind.formats:
        raise kinds.UnknownFormat(kind, fmt)
    return fmt


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes")


def _pdf_options(fmt: str) -> tuple[bool, bool]:
    """?pdfa=1 (PDF/A-2b) and ?sign=1 (PAdES with the registered seals), PDFs only."""
    archival, sign = _flag("pdfa"), _flag("sign")
    if (archival or sign) and fmt != "pdf":
        raise ApiError(422, "签章和PDF/A只适用于PDF格式。", {"format": ["请用 format=pdf。"]})
    return archival, sign


@bp.post("/v1/documents/<kind_id>")
def render_document(kind_id: str):
    kind = kinds.get(kind_id)
    fmt = _format(kind)
    archival, sign = _pdf_options(fmt)
    if sign:
        signing.require_signer()
    settings = current_settings()
    data = pipeline.accepted(kind, _json_body(), settings)
    with render_limits.limited(kind, fmt):
        output = pipeline.output(kind, data, fmt, settings, archival)
    if sign:
        output = signing.sign_output(output, kind.id, data, settings)
    return file_response(output)


@bp.post("/v1/verify")
@public  # anyone may check a file, as on the public page
def verify_document():
    """A PDF (multipart field `file`, or the body as application/pdf) → the verification."""
    from service.verify import uploaded_pdf

    data, problem = uploaded_pdf()
    if data is None:
        raise ApiError(422, problem, {"file": [problem]})
    result, records = signing.verify(data)
    return jsonify(signing.verification_json(result, records))


@bp.post("/v1/documents/<kind_id>/jobs")
def document_job(kind_id: str):
    """The document rendered by the batch runner, without the page limit of a request → 202."""
    kind = kinds.get(kind_id)
    fmt = _format(kind)
    payload = _json_body()
    data = pipeline.check(kind, payload, current_settings()).require_confirmed()  # 422 now, not later
    job = document_jobs.start(kind, fmt, payload, data, current_user())
    response = jsonify(document_jobs.status(job))
    response.status_code = 202
    response.headers["Location"] = url_for("api.show_document_job", public_id=job.public_id)
    return response


@bp.get("/v1/document-jobs/<public_id>")
def show_document_job(public_id: str):
    return jsonify(document_jobs.status(document_jobs.find(public_id, current_user())))


@bp.get("/v1/document-jobs/<public_id>/download")
def document_job_download(public_id: str):
    return document_jobs.download(document_jobs.find(public_id, current_user()))


@bp.post("/v1/documents/<kind_id>/validate")
def validate_document(kind_id: str):
    kind = kinds.get(kind_id)
    settings = current_settings()
    payload = _json_body()
    checked = pipeline.check(kind, payload, settings, context=workflow.submission_context(kind, payload, current_user()))
    return jsonify({"data": normalised(kind, checked.data, settings),
                    "computed": pipeline.computed(kind, checked.data), "warnings": checked.warnings})


def submission_summary(sub: Submission) -> dict:
    """What a list shows of a submission: everything but its data (GET …/<id> has that)."""
    return {"id": sub.public_id, "kind": sub.kind, "title": sub.title, "status": sub.status,
            "status_label": sub.status_label, "version": sub.version, "size": sub.size,
            "created_at": sub.created_at.isoformat(), "updated_at": sub.updated_at.isoformat()}


def submission_json(sub: Submission) -> dict:
    return {**submission_summary(sub), "data": sub.data}


@bp.post("/v1/submissions")
def create_submission():
    body = _json_body()
    if not isinstance(body, dict):
        raise FieldErrors({"_schema": ["应为一个JSON对象。"]})
    kind = kinds.get(str(body.get("kind", "")))
    sub = workflow.store_submission(kind, body.get("data"), body.get("action", "save"))
    return jsonify(submission_json(sub)), 201


@bp.get("/v1/submissions")
def list_submissions():
    stmt = scope_submissions(select(Submission), current_user())
    status = request.args.get("status")
    if status:
        stmt = stmt.where(Submission.status == status)
    with get_db().read() as session:
        rows = session.scalars(stmt.order_by(Submission.updated_at.desc()).limit(200)).all()
        return jsonify([submission_summary(s) for s in rows])


def _find(public_id: str) -> Submission:
    """Found by (id, the caller's scope): a foreign id answers 404 like a missing one."""
    with get_db().read() as session:
        return find_submission(session, public_id)


@bp.get("/v1/submissions/<public_id>")
def show_submission(public_id: str):
    sub = _find(public_id)
    return jsonify({**submission_json(sub), "warnings": workflow.submission_warnings(sub)})


@bp.put("/v1/submissions/<public_id>")
def update_submission(public_id: str):
    sub = _find(public_id)
    body = _json_body()
    if not isinstance(body, dict):
        raise FieldErrors({"_schema": ["应为一个JSON对象。"]})
    sub = workflow.store_submission(kinds.get(sub.kind), body.get("data"), body.get("action", "save"), sub,
                           body.get("version"))
    return jsonify(submission_json(sub))


@bp.get("/v1/submissions/<public_id>/document")
def submission_document(public_id: str):
    sub = _find(public_id)
    kind = kinds.get(sub.kind)
    fmt = _format(kind)
    archival, sign = _pdf_options(fmt)
    if sign:
        raise ApiError(405, "签章请用 POST /api/v1/submissions/<id>/signed。")
    output = render_limits.produce(kind, sub.data, fmt, current_settings(), archival,
                                   confirmed=sub.status != "draft")
    workflow.record_download(sub, fmt)
    return file_response(output)


@bp.post("/v1/submissions/<public_id>/signed")
def sign_submission(public_id: str):
    """The stored document as a signed PDF (?pdfa=1 for PDF/A-2b); finance bureau and admin."""
    sub = _find(public_id)
    signing.require_signer()
    kind = kinds.get(sub.kind)
    if "pdf" not in kind.formats:
        raise kinds.UnknownFormat(kind, "pdf")
    settings = current_settings()
    data = pipeline.accepted(kind, sub.data, settings, confirmed=sub.status != "draft")
    with render_limits.limited(kind, "pdf"):
        output = pipeline.output(kind, data, "pdf", settings, _flag("pdfa"))
    return file_response(signing.sign_output(output, kind.id, data, settings, sub))


@bp.post("/v1/submissions/<public_id>/review")
def review_submission(public_id: str):
    """{"action": "return" | "approve" | "comment", "comment": "…"} by a reviewer in scope."""
    body = _json_body()
    if not isinstance(body, dict):
        raise FieldErrors({"_schema": ["应为一个JSON对象。"]})
    sub = workflow.review(public_id, str(body.get("action", "")), str(body.get("comment") or ""))
    return jsonify(submission_json(sub))


@bp.get("/v1/submissions/<public_id>/history")
def submission_history(public_id: str):
    with get_db().read() as session:
        sub = find_submission(session, public_id)
        return jsonify({"id": sub.public_id, "status": sub.status, "status_label": sub.status_label,
                        "events": [workflow.event_json(e) for e in workflow.history(session, sub)]})
