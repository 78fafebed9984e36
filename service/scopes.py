"""What a signed-in user may see and do: the documents in her scope, and the author's and reviewer's rights."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.errors import ApiError
from service.roles import DELETED, DEPARTMENT_REVIEWER, FINANCE_BUREAU, REVIEWERS, SEE_ALL, UNIT_CLERK
from service.sessions import current_user
from storage.models import (
    Submission,
    Unit,
    User,
)


def scope_submissions(stmt, user: User | None):
    """`stmt` (a select over Submission) restricted to what `user` may see."""
    if user is None:
        return stmt.where(False)
    stmt = stmt.where(Submission.status != DELETED)  # a deleted draft is gone for everyone
    if user.role in REVIEWERS:
        # A unit's draft is its own until submitted: reviewers see their own drafts only.
        stmt = stmt.where(or_(Submission.status != "draft", Submission.created_by_id == user.id))
    if user.role in SEE_ALL:
        return stmt
    if user.role == UNIT_CLERK:
        if user.unit_id is None:
            return stmt.where(Submission.created_by_id == user.id)
        return stmt.where(Submission.unit_id == user.unit_id)
    if user.role == DEPARTMENT_REVIEWER:
        units = select(Unit.id).where(Unit.department_id == user.department_id)
        if user.department_id is None:
            return stmt.where(Submission.created_by_id == user.id)
        return stmt.where(or_(Submission.unit_id.in_(units), Submission.created_by_id == user.id))
    return stmt.where(False)


def find_submission(db_session: Session, public_id: str, user: User | None = None, kind: str | None = None) -> Submission:
    """The submission with this id in the user's scope; 404 otherwise (also for foreign ids)."""
    from sqlalchemy.orm import joinedload

    user = user if user is not None else current_user()
    stmt = select(Submission).options(joinedload(Submission.unit)).where(Submission.public_id == public_id)
    if kind is not None:
        stmt = stmt.where(Submission.kind == kind)
    sub = db_session.scalar(scope_submissions(stmt, user))
    if sub is None:
        raise ApiError(404)
    return sub


def unit_in_scope(user: User, unit: Unit) -> bool:
    """Whether `user` may act for `unit`: her own unit (a clerk), a unit of her department (a
    department reviewer), any unit (the finance bureau, administrators)."""
    if user.role in SEE_ALL:
        return True
    if user.role == UNIT_CLERK:
        return user.unit_id == unit.id
    if user.role == DEPARTMENT_REVIEWER:
        return user.department_id is not None and unit.department_id == user.department_id
    return False


def is_author(user: User, sub: Submission) -> bool:
    """The author side: the unit's clerk; another author of a unit's document while the unit is
    in her scope; the author of a document without a unit."""
    if sub.unit_id is not None:
        if user.role == UNIT_CLERK:
            return user.unit_id == sub.unit_id
        return sub.created_by_id == user.id and sub.unit is not None and unit_in_scope(user, sub.unit)
    return sub.created_by_id == user.id


def can_edit(user: User, sub: Submission) -> bool:
    """Its author, while it is a draft or was returned for changes."""
    return sub.status in ("draft", "returned") and is_author(user, sub)


def can_review(user: User, sub: Submission) -> bool:
    """Reviewers act on documents in their scope that they did not write themselves."""
    if user.role not in REVIEWERS or sub.created_by_id == user.id:
        return False
    if user.role == FINANCE_BUREAU:
        return True
    return sub.unit is not None and sub.unit.department_id == user.department_id
