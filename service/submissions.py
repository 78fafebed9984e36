"""Pages of stored documents: the clerk's list, the reviewer's queue, one document's page with
its history, comments, preview and review actions, and its downloads.

Every lookup goes through service.scopes.find_submission: an id outside the user's scope answers
404, the same as an id that does not exist.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

import kinds
from forms.base import FieldErrors
from kinds import pipeline
from service import changes, render_limits, roles, scopes, signing, workflow
from service.database import get_db
from service.downloads import file_response
from service.errors import ApiError
from service.formview import path_label
from service.scopes import find_submission, scope_submissions
from service.sessions import current_user
from service.settings_store import current_settings
from storage.models import DocTemplate, Submission

bp = Blueprint("submissions", __name__, url_prefix="/submissions")

PAGE_SIZE = 200


@bp.get("")
def index():
    """Clerks see their unit's documents; reviewers open on their queue (已提交)."""
    user = current_user()
    reviewer = user.role in roles.REVIEWERS
    status = request.args.get("status", "submitted" if reviewer else "")
    if status not in ("", *Submission.STATUSES):
        status = ""
    stmt = scope_submissions(select(Submission).options(joinedload(Submission.unit)), user)
    if status:
        stmt = stmt.where(Submission.status == status)
    with get_db().read() as session:
        rows = session.scalars(stmt.order_by(Submission.updated_at.desc()).limit(PAGE_SIZE)).all()
    title = "待审核" if reviewer and status == "submitted" else ("我的文档" if user.role == roles.UNIT_CLERK else "文档")
    return render_template("submissions/index.html", rows=rows, status=status, title=title,
                           statuses=Submission.STATUSES, kind_names={k.id: k.name for k in kinds.all_kinds()})


def _page(public_id: str, errors: dict | None = None, status: int = 200, **extra):
    """A document's page: its downloads, review and signing actions, history and preview;
    `errors` shown beside the action that failed."""
    user = current_user()
    with get_db().read() as session:
        sub = find_submission(session, public_id, user)
        events = workflow.history(session, sub)
        templates = session.scalars(select(DocTemplate).where(DocTemplate.kind == sub.kind)
                                    .order_by(DocTemplate.name)).all()
    kind = kinds.get(sub.kind)
    unfinished = _unfinished(kind, sub)
    since_return = None
    if sub.status in ("submitted", "approved"):
        since_return = changes.since_return(kind.schema_instance(settings=current_settings()), events, sub.data)
    return render_template(
        "submissions/show.html", sub=sub, kind=kind, events=events, templates=templates, unfinished=unfinished,
        can_edit=scopes.can_edit(user, sub), can_review=scopes.can_review(user, sub) and sub.status == "submitted",
        comments=[e for e in events if e.comment], preview="pdf" in kind.formats and not unfinished,
        errors=errors or {}, since_return=since_return,
        can_sign=signing.may_sign(user) and "pdf" in kind.formats, warnings=workflow.submission_warnings(sub),
        **extra,
    ), status


def _unfinished(kind: kinds.Kind, sub: Submission) -> list[tuple[str, str]]:
    """What a draft still lacks, in Chinese (field label, message): shown instead of a preview
    that cannot be made yet. A submitted document passed when it was submitted, but a setting
    changed since may refuse it: then it is left out of the statistics (the 统计 page links
    here) and this says why."""
    settings = current_settings()
    try:
        pipeline.validate(kind, sub.data, settings)
    except FieldErrors as exc:
        schema = kind.schema_instance(settings=settings)
        return [(path_label(schema, path), m) for path, msgs in exc.errors.items() for m in msgs]
    return []


@bp.get("/<public_id>")
def show(public_id: str):
    return _page(public_id)


@bp.post("/<public_id>/review")
def review(public_id: str):
    action = request.form.get("action", "")
    try:
        workflow.review(public_id, action, request.form.get("comment", ""))
    except ApiError as exc:
        if exc.code != 422:
            raise
        # Shown beside the comment box, with what was typed kept.
        return _page(public_id, exc.errors, 422, comment=request.form.get("comment", ""))
    flash({"return": "已退回修改，意见已发送给填报单位。", "approve": "已审核通过。", "comment": "批注已保存。"}[action])
    return redirect(url_for("submissions.show", public_id=public_id))


def _render(sub: Submission, fmt: str, archival: bool = False):
    kind = kinds.get(sub.kind)
    if fmt not in kind.formats:
        raise kinds.UnknownFormat(kind, fmt)
    try:
        return render_limits.produce(kind, sub.data, fmt, current_settings(), archival and fmt == "pdf",
                                     confirmed=sub.status != "draft")
    except FieldErrors as exc:
        # A draft may be half filled: say what is missing instead of failing.
        raise ApiError(422, "文档尚未填写完整，不能生成文件；请打开表单按提示修改。", exc.errors) from None


@bp.get("/<public_id>/preview.pdf")
def preview(public_id: str):
    """The PDF shown inline in the page's <iframe>, so it is read before it is downloaded."""
    with get_db().read() as session:
        sub = find_submission(session, public_id)
    output = _render(sub, "pdf")
    return file_response(output, inline=True)


@bp.get("/<public_id>/download.<fmt>")
def download(public_id: str, fmt: str):
    with get_db().read() as session:
        sub = find_submission(session, public_id)
    output = _render(sub, fmt, request.args.get("pdfa") == "1")
    workflow.record_download(sub, fmt)
    return file_response(output)


@bp.post("/<public_id>/signed.pdf")
def sign(public_id: str):
    """The document as a PDF signed with the registered seals (finance bureau and admin); its
    SHA-256 is in the audit log. A failure (no seal registered …) shows on the page."""
    with get_db().read() as session:
        sub = find_submission(session, public_id)
    signing.require_signer()
    kind = kinds.get(sub.kind)
    settings = current_settings()
    try:
        data = pipeline.accepted(kind, sub.data, settings, confirmed=sub.status != "draft")
        with render_limits.limited(kind, "pdf"):
            output = pipeline.output(kind, data, "pdf", settings, request.form.get("pdfa") == "1")
        return file_response(signing.sign_output(output, kind.id, data, settings, sub))
    except (FieldErrors, ApiError) as exc:
        if isinstance(exc, ApiError) and exc.code != 422:
            raise
        message = exc.message if isinstance(exc, ApiError) else "文档尚未填写完整，不能签章；请打开表单按提示修改。"
        return _page(public_id, {"sign": [message]}, 422)


@bp.get("/<public_id>/template/<template_id>.docx")
def download_with_template(public_id: str, template_id: str):
    """The document rendered through one of the administrator's custom docx templates."""
    from service import doctemplates

    with get_db().read() as session:
        sub = find_submission(session, public_id)
        tpl = session.scalar(select(DocTemplate).where(DocTemplate.public_id == template_id,
                                                       DocTemplate.kind == sub.kind))
    if tpl is None:
        raise ApiError(404)
    output = doctemplates.render_submission(tpl, sub)
    workflow.record_download(sub, f"template:{tpl.name}")
    return file_response(output)
