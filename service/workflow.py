"""The review workflow: 草稿 → 已提交 → 退回修改 / 已审核, with comments and history.

    draft ──submit──▶ submitted ──approve──▶ approved
      ▲                  │
      └──── returned ◀───┘ return (a comment is required)
              │
              └──submit──▶ submitted …

The author side (save, submit) goes through `store_submission`, which the API, the web form and
the form import all use; a submitted 审核表 moves its declaration's status (`link_review`); the
reviewer side (return, approve) and comments go through `review()`. Each step writes an
AuditEvent in the same transaction, so the history can never disagree with the status.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

import kinds
from forms.base import FieldErrors, illegal_characters
from forms.review import OUTCOMES
from kinds import pipeline
from service import audit, roles, scopes, sessions
from service.database import get_db
from service.errors import ApiError
from service.settings_store import current_settings
from storage.models import AuditEvent, Submission, User, dumps, utcnow
from storage.models import public_id as new_public_id
from storage.records import previous_period, remember

REVIEW_ACTIONS = {"return": ("submitted", "returned"), "approve": ("submitted", "approved")}
MAX_COMMENT = 2000


class Messages:
    unknown_action = "操作只能是 return（退回修改）、approve（审核通过）或 comment（批注）。"
    comment_required = "退回修改时请填写意见，告诉填报单位要改什么。"
    comment_empty = "请填写批注内容。"
    comment_long = f"意见不能超过{MAX_COMMENT}个字。"
    not_reviewer = "只有主管部门或财政局的审核人员可以退回或审核通过。"
    wrong_status = "该文档当前状态为“{status}”，不能{action}。"
    not_editable = "该文档当前状态为“{status}”，不能修改；退回修改后才能再改。"
    not_author = "只有单位填报人员可以保存或提交文档。"
    stale = ("保存未成功：这份文档已被修改——您打开的是第{mine}版，现在已是第{current}版（{when}）。"
             "为免覆盖他人的修改，请复制您的改动，刷新后在第{current}版上重新修改再保存。")
    version_missing = "请提供您打开时的版本号 version（读取文档时返回）。"
    too_large = "文档内容过大（{size}），不能超过{limit}。"
    quota = "您的草稿已占用{used}，加上这份将超过每人{limit}的上限；请删除不用的草稿后再保存。"
    out_of_scope = "您不能代表“{unit}”填报：该单位不在您的管辖范围内。"


def submission_context(kind: kinds.Kind, data, user, sub: Submission | None = None) -> dict:
    """What the checks need beyond the payload: the previous monitoring period of the project."""
    unit_id = sub.unit_id if sub is not None else (user.unit_id if user is not None and user.role == roles.UNIT_CLERK
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

    if user.role == roles.UNIT_CLERK:
        return user.unit_id
    claim = claimed_unit(data)
    if claim is None:
        return None
    where = Unit.code == claim["code"] if claim["code"] else Unit.name == claim["name"]
    if claim["code"] and claim["name"]:
        where = or_(where, Unit.name == claim["name"])
    units = session.scalars(select(Unit).where(where)).all()
    for unit in units:
        if not scopes.unit_in_scope(user, unit):
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
    (fully validated, stored as submitted). Nothing is written when a check fails.

    A new submission belongs to the signed-in clerk's unit, or to a unit in the author's scope
    (document_unit); an existing one may change only while its author may edit it (draft or
    returned), and only from the `version` it was read at (409 naming both otherwise)."""
    from sqlalchemy.orm.exc import StaleDataError

    user = sessions.current_user()
    if user is None or user.role not in roles.AUTHORS:
        raise ApiError(403, Messages.not_author)
    if sub is not None and not scopes.is_author(user, sub):
        raise ApiError(403, Messages.not_author)
    if sub is not None and not scopes.can_edit(user, sub):
        raise ApiError(409, Messages.not_editable.format(status=sub.status_label))
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
        checked.require_confirmed()
        # Stored as submitted, with the clerk's confirmations: every reader validates it again
        # (storage.records.stored_data), so what the clerk typed is what the record shows.
        stored = payload
        status = "submitted"
    else:
        stored, status = payload, "draft"
    title = str(stored.get("title") or stored.get("project_name") or kind.name).replace("\n", "")[:200]

    size = len(dumps(stored).encode("utf-8"))
    with get_db().write() as session:
        unit_id = document_unit(session, user, stored)
        if sub is None:
            _check_size(session, user, None, size, status)
            sub = Submission(kind=kind.id, public_id=new_public_id(), created_at=utcnow(), created_by_id=user.id,
                             unit_id=unit_id, status="draft")
            session.add(sub)
            before = ""
        else:
            # Reload inside the write transaction: a reviewer may have acted since it was read.
            sub = scopes.find_submission(session, sub.public_id, user)
            if not scopes.can_edit(user, sub):
                raise ApiError(409, Messages.not_editable.format(status=sub.status_label))
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
        audit.audit(session, action, submission=sub, from_status=before, to_status=status)
        link_review(session, kind, sub, status, settings)  # a submitted review moves its declaration's status
        if status == "submitted":
            session.flush()
            remember(session, sub, settings)  # what the statistics read of it, in the same transaction
        session.refresh(sub)
    return sub


def link_review(session, kind: kinds.Kind, sub: Submission, status: str, settings=None) -> None:
    """Point a submitted review at its declaration and move the declaration's status.

    Called by store_submission inside the transaction that stores the review, so either both
    change or neither does. The declaration must be waiting for review (submitted) — unless this
    very review already moved it and is being corrected — and be one the signed-in reviewer may
    review (service.scopes: scope and role); the move is audited like a reviewer's approve/return. The outcome → status map is the target_review.outcomes
    setting (修改后通过 returns the form by default: the clerk changes it and submits again).
    """
    reviewed_kinds = kind.extra.get("reviews")
    data = sub.data
    if not reviewed_kinds or status != "submitted" or not data.get("declaration_id"):
        return
    user = sessions.current_user()  # None only outside a request (scripts, tests): no scope to apply
    stmt = select(Submission).where(Submission.public_id == data["declaration_id"], Submission.kind.in_(reviewed_kinds))
    if user is not None:
        stmt = scopes.scope_submissions(stmt, user)
    parent = session.scalar(stmt)
    if parent is None:
        raise FieldErrors({"declaration_id": [f"找不到编号为“{data['declaration_id']}”的绩效目标申报表：请核对申报表编号。"]})
    if parent.kind != data.get("declaration_kind"):
        name = kinds.get(parent.kind).name
        raise FieldErrors({"declaration_kind": [f"该编号对应的是{name}，请将被审核的申报表改为“{name}”。"]})
    if user is not None and not scopes.can_review(user, parent):
        raise FieldErrors({"declaration_id": ["只有该申报表所属主管部门或财政局的审核人员可以审核，且不能审核自己填写的申报表。"]})
    if parent.status != "submitted" and sub.parent_id != parent.id:
        raise FieldErrors({"declaration_id": [f"该申报表当前状态为“{parent.status_label}”，只能审核已提交的申报表。"]})
    before, before_version = parent.status, parent.version
    settings = settings if settings is not None else current_settings()
    after = settings["target_review"]["outcomes"][data["outcome"]]
    sub.parent_id = parent.id
    parent.status, parent.updated_at = after, utcnow()
    # The declaration's history shows the transition like a reviewer's approve/return would.
    comment = f"绩效目标审核结论：{OUTCOMES[data['outcome']]}。{data.get('changes') or data.get('opinion', '')}"
    event = audit.audit(session, "approve" if after == "approved" else "return", user=user, submission=parent,
                       from_status=before, to_status=after, comment=comment[:2000])
    if after == "returned":
        event.snapshot_json = parent.data_json  # what the clerk's changes are shown against
    session.flush()  # the caller refreshes `sub` next, which would drop unflushed changes
    remember(session, parent, settings, before=before_version)


def review(public_id: str, action: str, comment: str, user: User | None = None) -> Submission:
    """Apply a reviewer's `action` (return, approve) or add a comment (anyone who can see the
    document). Raises ApiError 404 outside the user's scope, 403 for the wrong role, 409 for the
    wrong status and 422 for a missing comment."""
    user = user or sessions.current_user()
    comment = (comment or "").strip()
    if action not in (*REVIEW_ACTIONS, "comment"):
        raise ApiError(422, errors={"action": [Messages.unknown_action]})
    if len(comment) > MAX_COMMENT:
        raise ApiError(422, errors={"comment": [Messages.comment_long]})
    bad = illegal_characters({"comment": comment})
    if bad:
        raise ApiError(422, errors=bad)
    with get_db().write() as session:
        sub = scopes.find_submission(session, public_id, user)
        if action == "comment":
            if not comment:
                raise ApiError(422, errors={"comment": [Messages.comment_empty]})
            audit.audit(session, "comment", user=user, submission=sub, comment=comment,
                       from_status=sub.status, to_status=sub.status)
            return sub
        if not scopes.can_review(user, sub):
            raise ApiError(403, Messages.not_reviewer)
        before, after = REVIEW_ACTIONS[action]
        if sub.status != before:
            label = AuditEvent.ACTIONS[action]
            raise ApiError(409, Messages.wrong_status.format(status=sub.status_label, action=label))
        if action == "return" and not comment:
            raise ApiError(422, errors={"comment": [Messages.comment_required]})
        before_version = sub.version
        sub.status, sub.updated_at = after, utcnow()
        event = audit.audit(session, action, user=user, submission=sub, from_status=before, to_status=after,
                           comment=comment)
        if action == "return":
            event.snapshot_json = sub.data_json  # what the clerk's changes are shown against
        session.flush()
        remember(session, sub, current_settings(), before=before_version)  # the same data: its row carried over
        return sub


def history(session: Session, sub: Submission) -> list[AuditEvent]:
    """The events of a submission, oldest first (who did what when, with the comments)."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.submission_id == sub.id)
                                .order_by(AuditEvent.at, AuditEvent.id)))


def event_json(event: AuditEvent) -> dict:
    return {"at": event.at.isoformat(), "user": event.username, "action": event.action,
            "action_label": event.action_label, "from_status": event.from_status,
            "to_status": event.to_status, "comment": event.comment}


def record_download(sub: Submission, fmt: str) -> None:
    with get_db().write() as session:
        row = session.get(Submission, sub.id)
        audit.audit(session, "download", submission=row, target=fmt, from_status=row.status, to_status=row.status)
