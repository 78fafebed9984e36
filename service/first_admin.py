"""The first administrator: from `jxdoc create-admin`, or from JXDOC_ADMIN_USERNAME / JXDOC_ADMIN_PASSWORD at start."""

from __future__ import annotations

import secrets

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from service.audit import audit
from service.database import get_db
from service.passwords import hash_password, password_problems, username_problems
from service.roles import ADMIN
from storage.config import env
from storage.models import (
    User,
    utcnow,
)


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



def bootstrap_admin(app) -> str:
    """Create the first administrator from JXDOC_ADMIN_USERNAME / JXDOC_ADMIN_PASSWORD when none
    exists. Returns what happened, for the run command to print. There is no default password."""
    username = env("ADMIN_USERNAME", "").strip()
    password = env("ADMIN_PASSWORD", "")
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
