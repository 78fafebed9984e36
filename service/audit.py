"""The audit log: one event per change, in the change's own transaction."""

from __future__ import annotations

from flask import has_request_context
from sqlalchemy.orm import Session

from service.sessions import client_ip, current_user
from storage.models import (
    AuditEvent,
    Submission,
    User,
    utcnow,
)


def audit(db_session: Session, action: str, *, user: User | None = None, submission: Submission | None = None,
          target: str = "", from_status: str = "", to_status: str = "", comment: str = "") -> AuditEvent:
    """Add an audit event to the caller's transaction, so the event and the change commit together."""
    user = user if user is not None else (current_user() if has_request_context() else None)
    event = AuditEvent(
        at=utcnow(), user_id=user.id if user else None, username=(user.username if user else "")[:60],
        action=action, submission_id=submission.id if submission is not None else None, target=target[:200],
        from_status=from_status, to_status=to_status, comment=comment,
        ip=client_ip() if has_request_context() else "",
    )
    db_session.add(event)
    return event


# ---------------------------------------------------------------------------------- sign-in
