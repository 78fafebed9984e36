"""Database tables. Document data is stored as JSON text exactly as the schema dumps it: money as
decimal strings and dates as ISO strings, so nothing passes through a float (SQLite would store a
Numeric column as one) and reloading gives back equal Decimals."""

from __future__ import annotations

import datetime as _dt
import json
import secrets
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
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
    unit: Mapped[Unit | None] = relationship()

    STATUSES = {"draft": "草稿", "submitted": "已提交", "returned": "退回修改", "approved": "已审核"}

    @property
    def data(self) -> dict:
        return json.loads(self.data_json)

    @data.setter
    def data(self, value: dict) -> None:
        self.data_json = dumps(value)

    @property
    def status_label(self) -> str:
        return self.STATUSES.get(self.status, self.status)
