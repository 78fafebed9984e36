"""Who is asking: the session cookie with its server-side row, and API tokens (a script's key to /api/)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import secrets

from flask import current_app, g, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.auth_messages import Messages
from service.database import get_db
from service.errors import ApiError
from storage.models import (
    ApiToken,
    User,
    UserSession,
    utcnow,
)

TOKEN_PREFIX = "jxd_"  # noqa: S105 - a marker, not a secret
TOKEN_DAYS = 90  # the lifetime of API tokens made before they had one (JXDOC_API_TOKEN_DAYS for new ones)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, marked Secure whenever the request came over HTTPS (or
    JXDOC_SESSION_COOKIE_SECURE=1), so a deployment behind TLS needs no extra setting."""

    def get_cookie_secure(self, app) -> bool:
        if app.config.get("SESSION_COOKIE_SECURE"):
            return True
        return has_request_context() and request.is_secure


def client_ip() -> str:
    return (request.remote_addr or "")[:64]


def current_user() -> User | None:
    """The signed-in user of this request (None only on public routes)."""
    return g.get("jxdoc_user")


def session_lifetime() -> _dt.timedelta:
    return _dt.timedelta(hours=current_app.config["SESSION_HOURS"])


def open_session(db_session: Session, user: User) -> str:
    """A server-side session row for `user`; returns the id the cookie carries (only its hash is
    stored). The user's expired rows go at the same time."""
    now = utcnow()
    db_session.execute(delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at < now))
    sid = secrets.token_urlsafe(32)
    db_session.add(UserSession(sid_hash=token_hash(sid), user_id=user.id, created_at=now,
                               expires_at=now + session_lifetime()))
    return sid


def login_user(user: User) -> None:
    # A fresh session on sign-in: nothing an attacker planted before survives (fixation).
    old_sid = session.get("sid")
    session.clear()
    with get_db().write() as db_session:
        if isinstance(old_sid, str):
            db_session.execute(delete(UserSession).where(UserSession.sid_hash == token_hash(old_sid)))
        sid = open_session(db_session, user)
    session["uid"] = user.id
    session["nonce"] = user.session_nonce
    session["sid"] = sid
    session.permanent = True
    g.jxdoc_user = user


def logout_user() -> None:
    """End this session on the server too: a copy of the cookie is worth nothing afterwards."""
    sid = session.get("sid")
    if isinstance(sid, str):
        with get_db().write() as db_session:
            db_session.execute(delete(UserSession).where(UserSession.sid_hash == token_hash(sid)))
    session.clear()
    g.pop("jxdoc_user", None)


def user_from_session(db_session: Session) -> User | None:
    uid, nonce, sid = session.get("uid"), session.get("nonce"), session.get("sid")
    if not isinstance(uid, int) or not isinstance(nonce, str) or not isinstance(sid, str):
        return None
    row = db_session.scalar(select(UserSession).where(UserSession.sid_hash == token_hash(sid)))
    if row is None or row.user_id != uid or row.expires_at <= utcnow():
        return None
    user = db_session.get(User, uid)
    if user is None or not user.active or not secrets.compare_digest(user.session_nonce, nonce):
        return None
    return user




def is_api() -> bool:
    return request.path.startswith("/api/")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


TOKEN_TOUCH_INTERVAL = _dt.timedelta(minutes=1)


def token_expiry(row: ApiToken) -> _dt.datetime:
    return row.expires_at or row.created_at + _dt.timedelta(days=TOKEN_DAYS)


def user_from_token(db_session: Session, header: str) -> User:
    """The token's user, for /api/ only: a token is a script's key to the API, never a way into
    the pages (where it could mint more tokens or act as an administrator)."""
    if not is_api():
        raise ApiError(401, Messages.token_pages)
    token = header[7:].strip()
    row = db_session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token),
                                                   ApiToken.revoked_at.is_(None)))
    user = db_session.get(User, row.user_id) if row is not None else None
    if user is None or not user.active or token_expiry(row) <= utcnow():
        raise ApiError(401, Messages.token_invalid)
    # Only a token last used over a minute ago is touched (a write): see touch_token.
    stale = row.last_used_at is None or utcnow() - row.last_used_at > TOKEN_TOUCH_INTERVAL
    g.jxdoc_token_id = row.id if stale else None
    return user


def create_api_token(db_session: Session, user: User, name: str, days: int = TOKEN_DAYS) -> str:
    """A new token for `user`, valid `days`; only its hash is kept, so the caller shows it once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    db_session.add(ApiToken(user_id=user.id, name=name[:100], token_hash=token_hash(token), prefix=token[:10],
                            created_at=now, expires_at=now + _dt.timedelta(days=days)))
    return token


# ---------------------------------------------------------------------------------- the gate


def touch_token(token_id: int) -> None:
    # At most once a minute per token: a busy script should not turn every read into a write
    # (on SQLite each write transaction takes the database's one write lock).
    now = utcnow()
    with get_db().write() as db_session:
        row = db_session.get(ApiToken, token_id)
        if row is not None and (row.last_used_at is None or now - row.last_used_at > TOKEN_TOUCH_INTERVAL):
            row.last_used_at = now


# ---------------------------------------------------------------------------------- scopes
