"""Who is asking, and what may they see: sign-in, sessions, API tokens, roles and scopes.

Every request passes one gate (`init_app` registers it): a route is closed unless its view is
marked `@public`. The gate finds the user from the session cookie or from an
`Authorization: Bearer <token>` header, answers 401 (API) or a redirect to the sign-in page (pages)
when there is none, and 403 when the view is marked `@roles_required(...)` for other roles.
Blueprints written elsewhere get the same gate without changing a line; their roles can be set
in `BLUEPRINT_ROLES` / `ENDPOINT_ROLES` below or with the decorators in their own module.

How a view uses it (batches, library, … do the same)::

    from service.gate import roles_required
    from service.scopes import find_submission, scope_submissions
    from service.sessions import current_user

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
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for

from service.auth_messages import Messages
from service.database import get_db
from service.errors import ApiError
from service.roles import ADMIN, SEE_ALL
from service.scopes import find_submission
from service.sessions import (
    SessionInterface,
    current_user,
    is_api,
    token_expiry,
    touch_token,
    user_from_session,
    user_from_token,
)
from storage.models import (
    ROLES,
    User,
    utcnow,
)

# Roles for routes in modules this layer does not own. A view's own @roles_required wins.
BLUEPRINT_ROLES: dict[str, tuple[str, ...]] = {
    # Statistics over every unit's stored data: the bureau's view, not a unit's.
    "drafts": SEE_ALL,
}
ENDPOINT_ROLES: dict[str, tuple[str, ...]] = {}

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


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


def _unauthenticated():
    if is_api():
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
            user = user_from_token(db_session, header)
            g.jxdoc_auth = "token"
        else:
            user = user_from_session(db_session)
            g.jxdoc_auth = "session" if user else None
            if user is None and session.get("uid") is not None:
                session.clear()  # deactivated, password changed elsewhere, or a stale cookie
    g.jxdoc_user = user
    if getattr(view, "_jxdoc_public", False):
        return None
    if user is None:
        return _unauthenticated()
    if g.jxdoc_auth == "session" and is_api() and request.method not in SAFE_METHODS:
        _protect_cookie_api()
    roles = _route_roles(endpoint, view)
    if roles is not None and user.role not in roles:
        raise ApiError(403, Messages.wrong_role.format(role=user.role_label))
    if roles is not None:
        _refuse_token_for_admin(roles)
    _check_submission_in_scope(user)
    if g.get("jxdoc_token_id"):
        touch_token(g.jxdoc_token_id)
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
