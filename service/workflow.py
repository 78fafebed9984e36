"""The review workflow: 草稿 → 已提交 → 退回修改 / 已审核, with comments and history.

    draft ──submit──▶ submitted ──approve──▶ approved
      ▲                  │
      └──── returned ◀───┘ return (a comment is required)
              │
              └──submit──▶ submitted …

The author side (save, submit) goes through `service.api.store_submission`; the reviewer side
(return, approve) and comments through `review()`. Each step writes an AuditEvent in the same
transaction, so the history can never disagree with the status.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import auth
from service.database import get_db
from service.errors import ApiError
from storage.models import AuditEvent, Submission, User, utcnow

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


def review(public_id: str, action: str, comment: str, user: User | None = None) -> Submission:
    """Apply a reviewer's `action` (return, approve) or add a comment (anyone who can see the
    document). Raises ApiError 404 outside the user's scope, 403 for the wrong role, 409 for the
    wrong status and 422 for a missing comment."""
    user = user or auth.current_user()
    comment = (comment or "").strip()
    if action not in (*REVIEW_ACTIONS, "comment"):
        raise ApiError(422, errors={"action": [Messages.unknown_action]})
    if len(comment) > MAX_COMMENT:
        raise ApiError(422, errors={"comment": [Messages.comment_long]})
    from forms.base import illegal_characters

    bad = illegal_characters({"comment": comment})
    if bad:
        raise ApiError(422, errors=bad)
    with get_db().write() as session:
        sub = auth.find_submission(session, public_id, user)
        if action == "comment":
            if not comment:
                raise ApiError(422, errors={"comment": [Messages.comment_empty]})
            auth.audit(session, "comment", user=user, submission=sub, comment=comment,
                       from_status=sub.status, to_status=sub.status)
            return sub
        if not auth.can_review(user, sub):
            raise ApiError(403, Messages.not_reviewer)
        before, after = REVIEW_ACTIONS[action]
        if sub.status != before:
            label = AuditEvent.ACTIONS[action]
            raise ApiError(409, Messages.wrong_status.format(status=sub.status_label, action=label))
        if action == "return" and not comment:
            raise ApiError(422, errors={"comment": [Messages.comment_required]})
        sub.status, sub.updated_at = after, utcnow()
        auth.audit(session, action, user=user, submission=sub, from_status=before, to_status=after, comment=comment)
        session.flush()
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
        auth.audit(session, "download", submission=row, target=fmt, from_status=row.status, to_status=row.status)
