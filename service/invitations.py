"""One-time invitation links: a new account's first password, or a reset of a forgotten one."""

from __future__ import annotations

import datetime as _dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth_messages import Messages
from service.errors import ApiError
from service.sessions import token_hash
from storage.models import (
    Invitation,
    User,
    utcnow,
)

INVITATION_DAYS = 7


def _void_invitations(db_session: Session, user_id: int, now: _dt.datetime) -> None:
    for inv in db_session.scalars(select(Invitation).where(Invitation.user_id == user_id,
                                                           Invitation.used_at.is_(None))):
        inv.used_at = now


def new_invitation(db_session: Session, user: User, created_by: User | None) -> str:
    """A one-time link token for `user` (a new account, or a reset of a forgotten password). Only
    the newest link works: the ones sent before it are void."""
    _void_invitations(db_session, user.id, utcnow())
    token = secrets.token_urlsafe(32)
    db_session.add(Invitation(token_hash=token_hash(token), user_id=user.id,
                              created_by_id=created_by.id if created_by else None, created_at=utcnow(),
                              expires_at=utcnow() + _dt.timedelta(days=INVITATION_DAYS)))
    return token


def open_invitation(db_session: Session, token: str) -> Invitation:
    inv = db_session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if inv is None or inv.used_at is not None or inv.expires_at < utcnow() or not inv.user.active:
        raise ApiError(404, Messages.invitation_invalid)
    return inv


def use_invitation(db_session: Session, token: str) -> Invitation:
    """Open the link for its one use, inside the caller's write transaction; every other link of
    its user dies with it (an older reset link must not set the password again later)."""
    inv = open_invitation(db_session, token)
    _void_invitations(db_session, inv.user_id, utcnow())
    return inv
