"""Who is asking, and what may they see: sign-in, sessions, API tokens, roles and scopes.

Every request passes one gate (`init_app` registers it): a route is closed unless its view is
marked `@public`. The gate finds the user from the session cookie or from an
`Authorization: Bearer <token>` header, answers 401 (API) or a redirect to the sign-in page (pages)
when there is none, and 403 when the view is marked `@roles_required(...)` for other roles.
Blueprints written elsewhere get the same gate without changing a line; their roles can be set
in `BLUEPRINT_ROLES` / `ENDPOINT_ROLES` below or with the decorators in their own module.

How a view uses it (batches, library, … do the same)::

    from service.auth import current_user, roles_required, scope_submissions, find_submission

    @bp.get("/batches/<public_id>/download")
    @roles_required("finance_bureau", "admin")       # 403 for other signed-in roles
    def download(public_id):
        user = current_user()                          # never None behind the gate
        ...

    with get_db().read() as session:
        rows = session.scalars(scope_submissions(select(Submission), current_user())).all()
        sub = find_submission(session, public_id)      # 404 unless the user may see it

A unit's documents are found by (public_id, the user's scope): a foreign id answers 404, exactly
as an id that does not exist, so ids cannot be probed. The unit of a new document is the
signed-in clerk's unit, never a value from the request body or an uploaded file.

Cookie-authenticated JSON requests that change something must carry the session's CSRF token in
an `X-CSRFToken` header (the pages put it in `<meta name="csrf-token">`); bearer-token requests
need none, because a browser never adds that header on its own.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import os
import secrets
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, g, has_request_context, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from service.database import get_db
from service.errors import ApiError
from storage.models import (
    ROLES,
    ApiToken,
    AuditEvent,
    Invitation,
    LoginAttempt,
    Submission,
    Unit,
    User,
    UserSession,
    utcnow,
)

UNIT_CLERK, DEPARTMENT_REVIEWER, FINANCE_BUREAU, ADMIN = "unit_clerk", "department_reviewer", "finance_bureau", "admin"
REVIEWERS = (DEPARTMENT_REVIEWER, FINANCE_BUREAU)
SEE_ALL = (FINANCE_BUREAU, ADMIN)
AUTHORS = (UNIT_CLERK, DEPARTMENT_REVIEWER, FINANCE_BUREAU)  # may store documents
DELETED = "deleted"  # a draft its author deleted: kept for the audit log's sake, shown nowhere

# Roles for routes in modules this layer does not own. A view's own @roles_required wins.
BLUEPRINT_ROLES: dict[str, tuple[str, ...]] = {
    # Statistics over every unit's stored data: the bureau's view, not a unit's.
    "drafts": SEE_ALL,
}
ENDPOINT_ROLES: dict[str, tuple[str, ...]] = {}

TOKEN_PREFIX = "jxd_"  # noqa: S105 - a marker, not a secret
INVITATION_DAYS = 7
TOKEN_DAYS = 90  # the lifetime of API tokens made before they had one (JXDOC_API_TOKEN_DAYS for new ones)
MIN_PASSWORD_LENGTH = 10

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

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class Messages:
    """Every message this module shows, in one place."""

    bad_credentials = "用户名或密码不正确。"
    rate_limited = "登录失败次数过多，请{seconds}秒后再试。"
    inactive = "该账号已停用，请联系管理员。"
    password_short = f"密码至少需要{MIN_PASSWORD_LENGTH}个字符。"
    password_long = "密码不能超过128个字符。"  # noqa: S105
    password_username = "密码不能包含用户名。"  # noqa: S105
    password_simple = "密码过于简单：请混合使用字母、数字或符号，不要用重复或连续的字符。"  # noqa: S105
    password_mismatch = "两次输入的密码不一致。"  # noqa: S105
    wrong_role = "您的角色（{role}）不能进行此操作。"
    invitation_invalid = "邀请链接无效或已过期，请联系管理员重新发送。"
    token_invalid = "API令牌无效、已过期或已吊销。"  # noqa: S105
    token_pages = "API令牌只能用于 /api/ 接口；网页请登录后使用。"  # noqa: S105
    admin_session = "管理员操作需要登录会话，不能使用API令牌。"


# ---------------------------------------------------------------------------------- passwords


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


def _user_from_session(db_session: Session) -> User | None:
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


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


TOKEN_TOUCH_INTERVAL = _dt.timedelta(minutes=1)


def token_expiry(row: ApiToken) -> _dt.datetime:
    return row.expires_at or row.created_at + _dt.timedelta(days=TOKEN_DAYS)


def _user_from_token(db_session: Session, header: str) -> User:
    """The token's user, for /api/ only: a token is a script's key to the API, never a way into
    the pages (where it could mint more tokens or act as an administrator)."""
    if not _is_api():
        raise ApiError(401, Messages.token_pages)
    token = header[7:].strip()
    row = db_session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token),
                                                   ApiToken.revoked_at.is_(None)))
    user = db_session.get(User, row.user_id) if row is not None else None
    if user is None or not user.active or token_expiry(row) <= utcnow():
        raise ApiError(401, Messages.token_invalid)
    # Only a token last used over a minute ago is touched (a write): see _touch_token.
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


def public(view: Callable) -> Callable:
    """Open to anonymous visitors (sign-in page, invitation link, static files)."""
    view._jxdoc_public = True  # type: ignore[attr-defined]
    return view


def login_required(view: Callable) -> Callable:
    """Any signed-in user. The gate already requires it for every non-public route; the
    decorator states it where a reader looks, and keeps working if a view is moved."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_user() is None:
            return _unauthenticated()
        return view(*args, **kwargs)

    return wrapper


def roles_required(*roles: str) -> Callable[[Callable], Callable]:
    """Only these roles; other signed-in users get 403, anonymous ones 401/redirect."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                return _unauthenticated()
            if user.role not in roles:
                raise ApiError(403, Messages.wrong_role.format(role=user.role_label))
            _refuse_token_for_admin(roles)
            return view(*args, **kwargs)

        wrapper._jxdoc_roles = tuple(roles)  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _refuse_token_for_admin(roles: Iterable[str]) -> None:
    """An administrator's actions (accounts, settings, templates) need a signed-in session: a
    leaked token must not be able to create administrators."""
    if set(roles) == {ADMIN} and g.get("jxdoc_auth") == "token":
        raise ApiError(403, Messages.admin_session)


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _unauthenticated():
    if _is_api():
        raise ApiError(401)
    return redirect(url_for("account.login", next=_safe_next(request.full_path)))


def _safe_next(target: str | None) -> str:
    """Only a path on this site: `//evil.example` or `https://…` would be an open redirect."""
    if not target:
        return ""
    target = target.rstrip("?")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return ""
    return target


def safe_next(target: str | None) -> str:
    return _safe_next(target) or url_for("web.index")


def _gate():
    g.jxdoc_user = None
    endpoint = request.endpoint
    view = current_app.view_functions.get(endpoint) if endpoint else None
    if view is None or endpoint == "static":  # 404/405 answered by Flask itself; static files
        return None
    header = request.headers.get("Authorization", "")
    with get_db().read() as db_session:
        if header[:7].lower() == "bearer ":
            user = _user_from_token(db_session, header)
            g.jxdoc_auth = "token"
        else:
            user = _user_from_session(db_session)
            g.jxdoc_auth = "session" if user else None
            if user is None and session.get("uid") is not None:
                session.clear()  # deactivated, password changed elsewhere, or a stale cookie
    g.jxdoc_user = user
    if getattr(view, "_jxdoc_public", False):
        return None
    if user is None:
        return _unauthenticated()
    if g.jxdoc_auth == "session" and _is_api() and request.method not in SAFE_METHODS:
        _protect_cookie_api()
    roles = _route_roles(endpoint, view)
    if roles is not None and user.role not in roles:
        raise ApiError(403, Messages.wrong_role.format(role=user.role_label))
    if roles is not None:
        _refuse_token_for_admin(roles)
    _check_submission_in_scope(user)
    if g.get("jxdoc_token_id"):
        _touch_token(g.jxdoc_token_id)
    return None


def _check_submission_in_scope(user: User) -> None:
    """Defence in depth: any route that names a submission (`…/submissions/<public_id>…`),
    whoever wrote its view, answers 404 before the view runs when the id is not in scope."""
    public_id = (request.view_args or {}).get("public_id")
    if public_id is None or "/submissions/<public_id>" not in request.url_rule.rule:
        return
    with get_db().read() as db_session:
        find_submission(db_session, public_id, user)


def _route_roles(endpoint: str, view: Callable) -> tuple[str, ...] | None:
    if hasattr(view, "_jxdoc_roles"):
        return None  # the decorator checks, with the view's own message
    if endpoint in ENDPOINT_ROLES:
        return ENDPOINT_ROLES[endpoint]
    blueprint = endpoint.rpartition(".")[0]
    return BLUEPRINT_ROLES.get(blueprint)


def _protect_cookie_api() -> None:
    """A browser sends the session cookie with any request to this site, even one a foreign page
    starts; only our own pages can read the CSRF token to put it in a header."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    from service.extensions import csrf

    csrf.protect()


def _touch_token(token_id: int) -> None:
    # At most once a minute per token: a busy script should not turn every read into a write
    # (on SQLite each write transaction takes the database's one write lock).
    now = utcnow()
    with get_db().write() as db_session:
        row = db_session.get(ApiToken, token_id)
        if row is not None and (row.last_used_at is None or now - row.last_used_at > TOKEN_TOUCH_INTERVAL):
            row.last_used_at = now


# ---------------------------------------------------------------------------------- scopes


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


# ---------------------------------------------------------------------------------- audit


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


def admin_exists(db_session: Session) -> bool:
    return bool(db_session.scalar(select(exists().where(User.role == ADMIN, User.active.is_(True)))))


def create_admin(username: str, password: str, display_name: str = "") -> User:
    """Create an administrator (the first one, or another). Raises ValueError with Chinese
    messages for a taken name or a weak password."""
    username = username.strip()
    problems = username_problems(username) + password_problems(password, username)
    if problems:
        raise ValueError("；".join(problems))
    with get_db().write() as db_session:
        if db_session.scalar(select(User).where(func.lower(User.username) == username.lower())):
            raise ValueError(f"用户名“{username}”已被使用。")
        user = User(username=username, display_name=display_name or "系统管理员", role=ADMIN,
                    password_hash=hash_password(password), active=True, session_nonce=secrets.token_hex(16),
                    created_at=utcnow())
        db_session.add(user)
        db_session.flush()
        audit(db_session, "admin_create", user=user, target=f"user:{username}")
    return user


def username_problems(username: str) -> list[str]:
    import re

    if not re.fullmatch(r"[A-Za-z0-9_.@-]{3,60}", username or ""):
        return ["用户名应为3至60个字母、数字或 _ . @ -。"]
    return []


def bootstrap_admin(app) -> str:
    """Create the first administrator from JXDOC_ADMIN_USERNAME / JXDOC_ADMIN_PASSWORD when none
    exists. Returns what happened, for the run command to print. There is no default password."""
    username = os.environ.get("JXDOC_ADMIN_USERNAME", "").strip()
    password = os.environ.get("JXDOC_ADMIN_PASSWORD", "")
    with app.app_context():
        try:
            with get_db().read() as db_session:
                if admin_exists(db_session):
                    return "exists"
        except (OperationalError, ProgrammingError):
            return "unmigrated"  # `jxdoc serve` migrates, then calls this again
        if not (username and password):
            return "missing"
        try:
            create_admin(username, password)
        except IntegrityError:
            return "exists"  # another worker created it at the same moment
        except ValueError as exc:
            app.logger.error("JXDOC_ADMIN_USERNAME/JXDOC_ADMIN_PASSWORD: %s", exc)
            return f"invalid:{exc}"
        return "created"


SIGN_IN_HELP = (
    "尚无管理员账号。请先创建第一个管理员，然后用它登录并为各单位创建账号：\n"
    "  jxdoc create-admin --username admin            （按提示输入密码）\n"
    "或在首次启动前设置环境变量 JXDOC_ADMIN_USERNAME 和 JXDOC_ADMIN_PASSWORD（密码至少10个字符）。\n"
    "系统没有默认密码。"
)


# ---------------------------------------------------------------------------------- wiring


def init_app(app) -> None:
    app.session_interface = SessionInterface()
    # Set, not setdefault: Flask's own default (31 days) is always there.
    app.config["PERMANENT_SESSION_LIFETIME"] = _dt.timedelta(hours=app.config["SESSION_HOURS"])
    app.before_request(_gate)

    @app.after_request
    def _auth_headers(response):
        if response.status_code == 401 and request.path.startswith("/api/"):
            response.headers.setdefault("WWW-Authenticate", 'Bearer realm="jxdoc"')
        if current_user() is not None:
            # Pages of a signed-in user are personal: no shared cache may keep them.
            response.headers.setdefault("Cache-Control", "no-store")
            response.vary.add("Cookie")
        return response

    @app.context_processor
    def _inject_user():
        return {"current_user": current_user(), "ROLES": ROLES, "token_expiry": token_expiry, "utcnow": utcnow}


def iter_roles() -> Iterable[tuple[str, str]]:
    return ROLES.items()
