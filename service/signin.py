"""Sign-in: credentials checked, failures slowed down per account and address."""

from __future__ import annotations

import datetime as _dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.audit import audit
from service.auth_messages import Messages
from service.database import get_db
from service.passwords import hash_password, hasher, verify_password
from service.sessions import client_ip
from storage.models import (
    LoginAttempt,
    User,
    utcnow,
)

# Sign-in failures slow down the next try instead of locking the account: a lock is a weapon
# anyone can aim at any account (or, by address, at a whole office behind one NAT). Failures are
# counted over LOGIN_WINDOW; past `free` failures each try waits 2^(n - free) seconds after the
# last failure, up to `cap`. One address guessing one account is slowed hardest; guesses spread
# over many addresses, or over many accounts from one address, cost their owners at most a
# short wait.
LOGIN_WINDOW = _dt.timedelta(minutes=15)
DELAY_PAIR = (3, 300)  # (free, cap seconds): one address, one account
DELAY_ACCOUNT = (10, 30)  # one account, any address
DELAY_ADDRESS = (30, 30)  # one address, any account


class RateLimited(Exception):
    def __init__(self, seconds: int):
        super().__init__(Messages.rate_limited.format(seconds=seconds))
        self.message = str(self)
        self.seconds = seconds


def _delay(failures: int, rule: tuple[int, int]) -> int:
    free, cap = rule
    return 0 if failures < free else min(cap, 2 ** (failures - free))


def login_wait(db_session: Session, key: str, ip: str) -> int:
    """Seconds before (`key`, `ip`) may try to sign in again (0: now); see DELAY_PAIR."""
    now = utcnow()
    since = now - LOGIN_WINDOW
    wait = 0.0
    for where, rule in (((LoginAttempt.username == key, LoginAttempt.ip == ip), DELAY_PAIR),
                        ((LoginAttempt.username == key,), DELAY_ACCOUNT),
                        ((LoginAttempt.ip == ip,), DELAY_ADDRESS)):
        count, last = db_session.execute(select(func.count(), func.max(LoginAttempt.at))
                                         .where(LoginAttempt.at >= since, *where)).one()
        delay = _delay(count, rule)
        if delay and last is not None:
            wait = max(wait, (last + _dt.timedelta(seconds=delay) - now).total_seconds())
    return int(wait) + (1 if wait % 1 else 0)


def authenticate(username: str, password: str) -> User:
    """The user these credentials belong to, or an error: RateLimited while an earlier failure's
    delay runs (the password is not even tried), ValueError(bad credentials) otherwise.

    The failures are rows in the database: every gunicorn worker counts the same ones."""
    username = username.strip()[:60]
    key = username.lower()
    ip = client_ip()
    db = get_db()
    with db.read() as db_session:
        wait = login_wait(db_session, key, ip)
        if wait > 0:
            raise RateLimited(wait)
        user = db_session.scalar(select(User).where(func.lower(User.username) == key))
    ok = verify_password(user, password)
    if not ok or user is None or not user.active:
        with db.write() as db_session:  # committed before the refusal is raised
            db_session.add(LoginAttempt(username=key, ip=ip, at=utcnow()))
            audit(db_session, "login_failed", user=user, target=username)
        raise ValueError(Messages.inactive if ok and user is not None else Messages.bad_credentials)
    with db.write() as db_session:
        db_session.execute(delete(LoginAttempt).where(LoginAttempt.username == key))
        row = db_session.get(User, user.id)
        row.last_login_at = utcnow()
        if hasher().check_needs_rehash(row.password_hash):
            row.password_hash = hash_password(password)
        audit(db_session, "login", user=row)
        db_session.flush()
        return row
