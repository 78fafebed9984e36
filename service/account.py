"""Pages of one's own account: sign in and out, accept an invitation (set the password), change
the password, API tokens for scripts."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from service import audit, gate, invitations, passwords, sessions, signin
from service.auth_messages import Messages
from service.database import get_db
from service.gate import public
from service.sessions import current_user
from storage.models import ApiToken, User, utcnow

bp = Blueprint("account", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    next_url = gate.safe_next(request.values.get("next"))
    if current_user() is not None and request.method == "GET":
        return redirect(next_url)
    error, status, username, retry_after = "", 200, "", 0
    if request.method == "POST":
        username = request.form.get("username", "")
        password = request.form.get("password", "")
        try:
            user = signin.authenticate(username, password)
        except signin.RateLimited as exc:
            error, status, retry_after = exc.message, 429, exc.seconds
        except ValueError as exc:
            error, status = str(exc), 401
        else:
            sessions.login_user(user)
            return redirect(next_url)
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return render_template("account/login.html", error=error, username=username,
                           next=request.values.get("next", "")), status, headers


@bp.post("/logout")
def logout():
    user = current_user()
    with get_db().write() as session:
        audit.audit(session, "logout", user=user)
    sessions.logout_user()
    return redirect(url_for("account.login"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):
    errors: dict[str, list[str]] = {}
    with get_db().read() as session:
        inv = invitations.open_invitation(session, token)
        user = inv.user
    status = 200
    if request.method == "POST":
        password = request.form.get("password", "")
        problems = passwords.password_problems(password, user.username)
        if password != request.form.get("password2", ""):
            errors["password2"] = [Messages.password_mismatch]
        if problems:
            errors["password"] = problems
        if not errors:
            with get_db().write() as session:
                inv = invitations.use_invitation(session, token)  # again inside the transaction: one use only
                row = session.get(User, inv.user_id)
                passwords.set_password(session, row, password)
                audit.audit(session, "invite_accept", user=row, target=f"user:{row.username}")
            sessions.login_user(row)
            flash("密码已设置，欢迎使用。")
            return redirect(url_for("web.index"))
        status = 422
    return render_template("account/invite.html", user=user, errors=errors), status


@bp.route("/account", methods=["GET", "POST"])
def account():
    user = current_user()
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        old = request.form.get("old_password", "")
        new = request.form.get("password", "")
        if not passwords.verify_password(user, old):
            errors["old_password"] = ["当前密码不正确。"]
        problems = passwords.password_problems(new, user.username)
        if problems:
            errors["password"] = problems
        if new != request.form.get("password2", ""):
            errors["password2"] = [Messages.password_mismatch]
        if not errors:
            with get_db().write() as session:
                row = session.get(User, user.id)
                passwords.set_password(session, row, new)
                audit.audit(session, "password_change", user=row, target=f"user:{row.username}")
            sessions.login_user(row)  # this session stays; every other one is signed out
            flash("密码已修改；其他设备上的登录已失效。")
            return redirect(url_for("account.account"))
        status = 422
    with get_db().read() as session:
        tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                 .order_by(ApiToken.created_at.desc())).all()
    return render_template("account/account.html", errors=errors, tokens=tokens, new_token=None), status


@bp.post("/account/tokens")
def create_token():
    user = current_user()
    name = request.form.get("name", "").strip()[:100] or "脚本"
    with get_db().write() as session:
        token = sessions.create_api_token(session, user, name, current_app.config["API_TOKEN_DAYS"])
        audit.audit(session, "token_create", target=f"token:{name}")
    with get_db().read() as session:
        tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                 .order_by(ApiToken.created_at.desc())).all()
    # Shown once, in the response to this post; only the hash is stored.
    return render_template("account/account.html", errors={}, tokens=tokens, new_token=token), 201


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    user = current_user()
    with get_db().write() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
        if row is None:
            from service.errors import ApiError

            raise ApiError(404)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.audit(session, "token_revoke", target=f"token:{row.name}")
    flash("API令牌已吊销。")
    return redirect(url_for("account.account"))
