"""JSON API v1: kinds, documents (validate and render), stored submissions."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, request, url_for
from sqlalchemy import select

import kinds
from forms.base import CONFIRMATIONS, FieldErrors, illegal_characters, read_confirmations
from kinds import pipeline
from service import auth, document_jobs, render_limits, signing, workflow
from service.auth import current_user, find_submission, public, scope_submissions
from service.database import get_db
from service.downloads import file_response
from service.errors import ApiError
from service.settings_store import current_settings
from storage.models import Submission, public_id, utcnow
from storage.records import previous_period

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
    checked = pipeline.check(kind, payload, settings, context=submission_context(kind, payload, current_user()))
    return jsonify({"data": json.loads(_dump(kind, checked.data, settings)),
                    "computed": pipeline.computed(kind, checked.data), "warnings": checked.warnings})


def _dump(kind: kinds.Kind, data: dict, settings) -> str:
    from storage.models import dumps

    return dumps(kind.schema_instance(settings=settings).dump(data))


def stored_form(kind: kinds.Kind, data: dict, payload: dict, settings) -> dict:
    """What a submission keeps: the input in its normalised form (it validates to the same data,
    tests/kinds/test_stored.py) and the clerk's confirmations of its warnings, as submitted."""
    stored = json.loads(_dump(kind, data, settings))
    confirmations = read_confirmations(payload)
    if confirmations:
        stored[CONFIRMATIONS] = confirmations
    return stored


def submission_context(kind: kinds.Kind, data, user, sub: Submission | None = None) -> dict:
    """What the checks need beyond the payload: the previous monitoring period of the project."""
    unit_id = sub.unit_id if sub is not None else (user.unit_id if user is not None and user.role == auth.UNIT_CLERK
                                                  else None)
    if not isinstance(data, dict) or unit_id is None:
        return {}
    with get_db().read() as session:
        return {"previous": previous_period(session, kind.id, data, unit_id, sub.id if sub is not None else None,
                                            current_settings())}


def submission_warnings(sub: Submission) -> list[dict]:
    """The warnings of a stored submission with the clerk's confirmations (what a reviewer reads);
    a draft that does not validate yet has none to show."""
    if sub.status == "draft":
        return []
    kind = kinds.get(sub.kind)
    try:
        with get_db().read() as session:
            context = {"previous": previous_period(session, kind.id, sub.data, sub.unit_id, sub.id, current_settings())}
        return pipeline.check(kind, sub.data, current_settings(), context).warnings
    except FieldErrors:
        return []


def submission_summary(sub: Submission) -> dict:
    """What a list shows of a submission: everything but its data (GET …/<id> has that)."""
    return {"id": sub.public_id, "kind": sub.kind, "title": sub.title, "status": sub.status,
            "status_label": sub.status_label, "version": sub.version, "size": sub.size,
            "created_at": sub.created_at.isoformat(), "updated_at": sub.updated_at.isoformat()}


def submission_json(sub: Submission) -> dict:
    return {**submission_summary(sub), "data": sub.data}


class Messages:
    stale = ("保存未成功：这份文档已被修改——您打开的是第{mine}版，现在已是第{current}版（{when}）。"
             "为免覆盖他人的修改，请复制您的改动，刷新后在第{current}版上重新修改再保存。")
    version_missing = "请提供您打开时的版本号 version（读取文档时返回）。"
    too_large = "文档内容过大（{size}），不能超过{limit}。"
    quota = "您的草稿已占用{used}，加上这份将超过每人{limit}的上限；请删除不用的草稿后再保存。"
    out_of_scope = "您不能代表“{unit}”填报：该单位不在您的管辖范围内。"


def _kb(n: int) -> str:
    return f"{n // 1024}KB" if n < 1024 * 1024 else f"{n / (1024 * 1024):.1f}MB".replace(".0MB", "MB")


def document_unit(session, user, data: dict) -> int | None:
    """The unit a new or changed document belongs to. A clerk's: her unit, whatever the data says.
    Another author's (a reviewer, the bureau): the unit the data names (by code, else by name)
    when it is in her scope, none when it names no known unit; one outside her scope is a 403 —
    never may a payload put a document, say a public disclosure, into another's unit."""
    from sqlalchemy import or_

    from storage.models import Unit
    from storage.records import claimed_unit

    if user.role == auth.UNIT_CLERK:
        return user.unit_id
    claim = claimed_unit(data)
    if claim is None:
        return None
    where = Unit.code == claim["code"] if claim["code"] else Unit.name == claim["name"]
    if claim["code"] and claim["name"]:
        where = or_(where, Unit.name == claim["name"])
    units = session.scalars(select(Unit).where(where)).all()
    for unit in units:
        if not auth.unit_in_scope(user, unit):
            raise ApiError(403, Messages.out_of_scope.format(unit=unit.name))
    return units[0].id if units else None


def _check_size(session, user, sub: Submission | None, size: int, status: str) -> None:
    """Bounded documents: SUBMISSION_MAX_KB each, and a user's drafts together DRAFT_QUOTA_KB."""
    from sqlalchemy import func

    cfg = current_app.config
    limit = cfg["SUBMISSION_MAX_KB"] * 1024
    if size > limit:
        raise ApiError(413, Messages.too_large.format(size=_kb(size), limit=_kb(limit)))
    if status not in DRAFT_STATUSES or (sub is not None and size <= sub.size):
        return  # shrinking a draft is always allowed: it is how one gets back under the quota
    others = select(func.coalesce(func.sum(Submission.size), 0)).where(
        Submission.created_by_id == user.id, Submission.status.in_(DRAFT_STATUSES))
    if sub is not None:
        others = others.where(Submission.id != sub.id)
    used = session.scalar(others)
    quota = cfg["DRAFT_QUOTA_KB"] * 1024
    if used + size > quota:
        raise ApiError(413, Messages.quota.format(used=_kb(used), limit=_kb(quota)))


DRAFT_STATUSES = ("draft", "returned")


def _stale(mine: int, current: int | str, when: str) -> ApiError:
    message = Messages.stale.format(mine=mine, current=current, when=when)
    return ApiError(409, message, {"version": [message]})


def store_submission(kind: kinds.Kind, payload, action: str, sub: Submission | None = None,
                     version: int | None = None) -> Submission:
    """Save a draft (kept as typed, refused only for characters a document cannot hold) or submit
    (fully validated, stored in its normalised form). Nothing is written when a check fails.

    A new submission belongs to the signed-in clerk's unit, or to a unit in the author's scope
    (document_unit); an existing one may change only while its author may edit it (draft or
    returned), and only from the `version` it was read at (409 naming both otherwise)."""
    from sqlalchemy.orm.exc import StaleDataError

    user = current_user()
    if user is None or user.role not in auth.AUTHORS:
        raise ApiError(403, workflow.Messages.not_author)
    if sub is not None and not auth.is_author(user, sub):
        raise ApiError(403, workflow.Messages.not_author)
    if sub is not None and not auth.can_edit(user, sub):
        raise ApiError(409, workflow.Messages.not_editable.format(status=sub.status_label))
    if action not in ("save", "submit"):
        raise ApiError(422, errors={"action": ["操作只能是 save（保存草稿）或 submit（提交）。"]})
    if sub is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise ApiError(422, errors={"version": [Messages.version_missing]})
    if not isinstance(payload, dict):
        raise FieldErrors({"data": ["应为一个JSON对象（一组字段）。"]})
    bad = illegal_characters(payload)
    if bad:
        raise FieldErrors(bad)
    settings = current_settings()
    if action == "submit":
        checked = pipeline.check(kind, payload, settings, context=submission_context(kind, payload, user, sub))
        stored = stored_form(kind, checked.require_confirmed(), payload, settings)
        status = "submitted"
    else:
        stored, status = payload, "draft"
    title = str(stored.get("title") or stored.get("project_name") or kind.name).replace("\n", "")[:200]
    from storage.models import dumps

    size = len(dumps(stored).encode("utf-8"))
    with get_db().write() as session:
        unit_id = document_unit(session, user, stored)
        if sub is None:
            _check_size(session, user, None, size, status)
            sub = Submission(kind=kind.id, public_id=public_id(), created_at=utcnow(), created_by_id=user.id,
                             unit_id=unit_id, status="draft")
            session.add(sub)
            before = ""
        else:
            # Reload inside the write transaction: a reviewer may have acted since it was read.
            sub = auth.find_submission(session, sub.public_id, user)
            if not auth.can_edit(user, sub):
                raise ApiError(409, workflow.Messages.not_editable.format(status=sub.status_label))
            if sub.version != version:
                from service.timefmt import local_time

                raise _stale(version, sub.version,
                             f"{local_time(sub.updated_at, current_app.config['TIMEZONE'])}保存")
            before = sub.status
            if status == "draft" and before == "returned":
                status = "returned"  # saving changes keeps it 退回修改 until it is submitted again
            _check_size(session, user, sub, size, status)
            sub.unit_id = unit_id
        sub.data, sub.status, sub.title, sub.updated_at = stored, status, title, utcnow()
        try:
            session.flush()
        except StaleDataError:  # another transaction saved it between our read and this write
            raise _stale(version, version + 1, "刚刚保存") from None
        auth.audit(session, action, submission=sub, from_status=before, to_status=status)
        from service.library import link_review  # a submitted review moves its declaration's status

        link_review(session, kind, sub, status)
        session.refresh(sub)
    return sub


@bp.post("/v1/submissions")
def create_submission():
    body = _json_body()
    if not isinstance(body, dict):
        raise FieldErrors({"_schema": ["应为一个JSON对象。"]})
    kind = kinds.get(str(body.get("kind", "")))
    sub = store_submission(kind, body.get("data"), body.get("action", "save"))
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
    return jsonify({**submission_json(sub), "warnings": submission_warnings(sub)})


@bp.put("/v1/submissions/<public_id>")
def update_submission(public_id: str):
    sub = _find(public_id)
    body = _json_body()
    if not isinstance(body, dict):
        raise FieldErrors({"_schema": ["应为一个JSON对象。"]})
    sub = store_submission(kinds.get(sub.kind), body.get("data"), body.get("action", "save"), sub,
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
