"""Passwords: argon2id hashes, the strength rules, user names, and setting a new one."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.auth_messages import MIN_PASSWORD_LENGTH, Messages
from storage.models import (
    ApiToken,
    User,
    UserSession,
    utcnow,
)


def hasher() -> PasswordHasher:
    """argon2id with the library's RFC 9106 defaults; tests may ask for a cheap profile (the
    parameters are stored in each hash, so verification works either way)."""
    app = current_app
    ph = app.extensions.get("jxdoc.hasher")
    if ph is None:
        if app.config.get("PASSWORD_HASH_FAST"):
            ph = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        else:
            ph = PasswordHasher()
        app.extensions["jxdoc.hasher"] = ph
    return ph


def hash_password(password: str) -> str:
    return hasher().hash(password)


def _dummy_hash() -> str:
    # Verified against when the user name is unknown, so both cases take the same time.
    app = current_app
    if "jxdoc.dummy_hash" not in app.extensions:
        app.extensions["jxdoc.dummy_hash"] = hasher().hash(secrets.token_hex(16))
    return app.extensions["jxdoc.dummy_hash"]


def verify_password(user: User | None, password: str) -> bool:
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    try:
        hasher().verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return user is not None and bool(user.password_hash)


COMMON_PASSWORDS = {"password", "password1", "password123", "1234567890", "qwertyuiop", "12345678910",
                    "abc1234567", "a123456789", "1q2w3e4r5t", "admin12345", "iloveyou12", "0123456789"}


def password_problems(password: str, username: str = "") -> list[str]:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(Messages.password_short)
    if len(password) > 128:
        problems.append(Messages.password_long)
    if username and username.lower() in password.lower():
        problems.append(Messages.password_username)
    lowered = password.lower()
    digits = "01234567890123456789"
    letters = "abcdefghijklmnopqrstuvwxyz"
    if (len(set(password)) < 4 or lowered in COMMON_PASSWORDS or lowered in digits or lowered in letters
            or lowered in "qwertyuiopasdfghjklzxcvbnm"):
        problems.append(Messages.password_simple)
    return problems


# ---------------------------------------------------------------------------------- sessions


def set_password(db_session: Session, user: User, password: str) -> None:
    """A new password signs out every session of this user and revokes her API tokens (whoever
    had the old password could have made one)."""
    user.password_hash = hash_password(password)
    user.session_nonce = secrets.token_hex(16)
    now = utcnow()
    db_session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    for row in db_session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        row.revoked_at = now


# ---------------------------------------------------------------------------------- first admin


def username_problems(username: str) -> list[str]:
    import re

    if not re.fullmatch(r"[A-Za-z0-9_.@-]{3,60}", username or ""):
        return ["用户名应为3至60个字母、数字或 _ . @ -。"]
    return []
