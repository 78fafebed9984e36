"""Database tables. Document data is stored as JSON text exactly as the schema dumps it: money as
decimal strings and dates as ISO strings, so nothing passes through a float (SQLite would store a
Numeric column as one) and reloading gives back equal Decimals."""

from __future__ import annotations

import datetime as _dt
import json
import secrets
from decimal import Decimal

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None)


def public_id() -> str:
    """Opaque, unguessable identifier used in URLs instead of row numbers."""
    return secrets.token_urlsafe(16)


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default, sort_keys=True)


class Base(DeclarativeBase):
    pass


class Department(Base):
    """主管部门: supervises units."""

    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    units: Mapped[list[Unit]] = relationship(back_populates="department")


class Unit(Base):
    """预算单位."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    department: Mapped[Department | None] = relationship(back_populates="units")


class Submission(Base):
    """A document a user filled: a draft to reopen, or a submitted/reviewed form."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("public_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), default=public_id, index=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # A review (target_review …) points at the submission it reviews.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    data_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # Who created it: documents without a unit (a reviewer's own) stay visible to their author.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Raised by every save; a save names the version it started from, so two editors of one draft
    # cannot overwrite each other unnoticed (409 naming both versions).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    size: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # bytes of data_json (UTF-8)
    unit: Mapped[Unit | None] = relationship()
    # SQLAlchemy raises the version with every UPDATE and adds `WHERE version = <read>`: a write
    # racing another (PostgreSQL, READ COMMITTED) fails with StaleDataError instead of winning.
    __mapper_args__ = {"version_id_col": version}

    STATUSES = {"draft": "草稿", "submitted": "已提交", "returned": "退回修改", "approved": "已审核"}

    @property
    def data(self) -> dict:
        return json.loads(self.data_json)

    @data.setter
    def data(self, value: dict) -> None:
        self.data_json = dumps(value)
        self.size = len(self.data_json.encode("utf-8"))

    @property
    def status_label(self) -> str:
        return self.STATUSES.get(self.status, self.status)


# ---------------------------------------------------------------------------- accounts and audit
#
# Accounts, roles and the audit trail (issue 7). Kept beside Submission so Alembic's env imports
# them with the rest of the metadata.

ROLES = {
    "unit_clerk": "单位填报人员",
    "department_reviewer": "主管部门审核人员",
    "finance_bureau": "财政局审核人员",
    "admin": "系统管理员",
}


class User(Base):
    """A person who signs in. A unit clerk belongs to one unit, a department reviewer to one
    department; the finance bureau and administrators see everything."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(30), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    # NULL until the invitation is accepted: an account never has a password someone else chose.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Stored in the session cookie and compared on every request; changing it (new password,
    # deactivation) signs the user out everywhere, which a signed cookie alone cannot do.
    session_nonce: Mapped[str] = mapped_column(String(40), default=lambda: secrets.token_hex(16))
    created_at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[_dt.datetime | None] = mapped_column(DateTime)
    unit: Mapped[Unit | None] = relationship(lazy="joined")
    department: Mapped[Department | None] = relationship(lazy="joined")

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    @property
    def label(self) -> str:
        return self.display_name or self.username


class Invitation(Base):
    """A one-time link with which a new (or reset) account sets its own password."""

    __tablename__ = "invitations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[_dt.datetime] = mapped_column(DateTime)
    used_at: Mapped[_dt.datetime | None] = mapped_column(DateTime)
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class ApiToken(Base):
    """A bearer token for scripts. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[_dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[_dt.datetime | None] = mapped_column(DateTime)
    expires_at: Mapped[_dt.datetime | None] = mapped_column(DateTime)  # NULL: made before tokens expired


class UserSession(Base):
    """A signed-in browser. The cookie carries a random id whose hash is this row: signing out
    deletes it, so a copied cookie dies with the session; it expires after SESSION_HOURS."""

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[_dt.datetime] = mapped_column(DateTime)


class LoginAttempt(Base):
    """Failed sign-ins, counted per user name and per address. In the database (not in memory)
    so the limit holds across gunicorn workers and restarts."""

    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class AuditEvent(Base):
    """Who did what when. Events of a submission (saved, submitted, returned with a comment,
    approved, downloaded) are its history; the rest (sign-ins, accounts, settings, templates)
    form the administrator's audit log. Never updated or deleted by the application."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str] = mapped_column(String(60), default="")  # kept readable if the user changes
    action: Mapped[str] = mapped_column(String(40), index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    from_status: Mapped[str] = mapped_column(String(20), default="")
    to_status: Mapped[str] = mapped_column(String(20), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    # A return keeps the document's data as the reviewer returned it, so the resubmitted
    # document's page can show what the clerk changed since (service/changes.py).
    snapshot_json: Mapped[str | None] = mapped_column(Text, nullable=True)

    ACTIONS = {
        "create": "新建", "save": "保存草稿", "delete": "删除草稿", "submit": "提交", "return": "退回修改", "approve": "审核通过",
        "comment": "批注", "download": "下载", "login": "登录", "login_failed": "登录失败", "logout": "退出",
        "user_create": "创建账号", "user_update": "修改账号", "invite": "发出邀请", "invite_accept": "设置密码",
        "password_change": "修改密码", "token_create": "创建API令牌", "token_revoke": "吊销API令牌",
        "unit_create": "新建单位", "department_create": "新建主管部门", "settings_save": "保存设置",
        "settings_reset": "恢复默认设置", "template_upload": "上传模板", "template_delete": "删除模板",
        "admin_create": "创建管理员", "sign": "签章", "batch_sign": "批量签章", "seal_register": "登记印章", "seal_remove": "删除印章",
    }

    @property
    def action_label(self) -> str:
        return self.ACTIONS.get(self.action, self.action)


class SavedSettings(Base):
    """Settings the administrator saved in the browser, one row per section, applied over the
    defaults and the deployment's settings file."""

    __tablename__ = "saved_settings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section: Mapped[str] = mapped_column(String(60), unique=True)
    values_json: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DocTemplate(Base):
    """A docx template uploaded by the administrator for one kind; checked at upload (known
    variables only) and rendered in a sandboxed subprocess."""

    __tablename__ = "doc_templates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), default=public_id, unique=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    name: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    variables_json: Mapped[str] = mapped_column(Text, default="[]")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow)


class RenderQuota(Base):
    """Documents a user renders inside requests (service.render_limits): renders in flight (their
    slots come back by `busy_until` should a worker die) and PDF pages in the current hour."""

    __tablename__ = "render_quotas"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    window_start: Mapped[_dt.datetime] = mapped_column(DateTime)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    in_flight: Mapped[int] = mapped_column(Integer, default=0)
    busy_until: Mapped[_dt.datetime | None] = mapped_column(DateTime, nullable=True)


class DocumentFacts(Base):
    """What the statistics take from one stored document (storage.records.Facts, its record
    condensed; or the messages that refused it; or only the year its input names), as its
    `version` validated under the settings with digest `settings_digest` by the code with digest
    `code_digest` (storage.facts.code_digest). One row per submission: a row of another version or
    digest is stale, never read, and replaced by the next writer. Kept in the database so that
    every worker, and the first page after a restart, reads it instead of validating again."""

    __tablename__ = "document_facts"
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    settings_digest: Mapped[str] = mapped_column(String(64))
    code_digest: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10))  # facts, refused, year
    year: Mapped[str] = mapped_column(String(40), default="")  # as the stored input names it
    body_json: Mapped[str | None] = mapped_column(Text, nullable=True)
