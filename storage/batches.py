"""Batch tables. The database, not a queue or a process, is the truth about every item: its status,
how often it was tried and who holds it until when (the lease). A worker that dies leaves its
items `running` with a lease that expires; any worker then takes them again. Keys are unique, so
a batch created twice or an item inserted twice cannot duplicate anything."""

from __future__ import annotations

import datetime as _dt
import json

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, dumps, public_id, utcnow

# Item states. `invalid` (the unit's rows have errors), `missing` (a unit in scope that filed
# nothing: the disclosure batch), `failed` (rendering kept failing) and `excluded` (a unit kept out
# of publication, with its reason: nothing to render) are final like `done`; only `pending` and
# `running` with an expired lease are ever claimed.
PENDING, RUNNING, DONE, INVALID, FAILED, EXCLUDED = "pending", "running", "done", "invalid", "failed", "excluded"
MISSING = "missing"
FINAL = (DONE, INVALID, MISSING, FAILED, EXCLUDED)
PROBLEMS = (INVALID, MISSING, FAILED)  # final without a file, with messages saying why
ITEM_LABELS = {PENDING: "等待中", RUNNING: "生成中", DONE: "已生成", INVALID: "填报有误", MISSING: "未提交材料",
               FAILED: "生成失败", EXCLUDED: "不予公开"}
# Batch states: `running` until every item is final, then `finalising` while the summary and
# the manifest are written, then `done`.
BATCH_LABELS = {"running": "生成中", "finalising": "汇总中", "done": "已完成"}


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("public_id"), UniqueConstraint("key"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), default=public_id)
    # sha256 of kind, format, parameters and the uploaded bytes: the same upload started twice is
    # the same batch.
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(60))
    fmt: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200), default="")
    source_name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    params_json: Mapped[str] = mapped_column(Text, default="{}")
    # Rows of the workbook that belong to no unit (no 单位编码 …), in Chinese with sheet/row/column.
    errors_json: Mapped[str] = mapped_column(Text, default="[]")
    summary_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[_dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # The one embedded driver of the batch (jobs.runner.take_driver): every web worker that answers
    # a progress poll would otherwise start its own render pool for it.
    driver_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    driver_expires_at: Mapped[_dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # Who started it, for a document rendered in the background (jobs/batchkinds/document.py): only its owner
    # sees it. None for the bureau's batches.
    owner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Units that had failed and were put back to work because this batch was started again
    # (jobs.runner.find_batch); not stored.
    retried = 0

    @property
    def params(self) -> dict:
        return json.loads(self.params_json)

    @property
    def errors(self) -> list[str]:
        return json.loads(self.errors_json)

    @property
    def summary(self) -> dict:
        return json.loads(self.summary_json)

    @property
    def status_label(self) -> str:
        return BATCH_LABELS.get(self.status, self.status)


class BatchItem(Base):
    """One unit of a batch: its rows (payload), and after work its result or its errors."""

    __tablename__ = "batch_items"
    __table_args__ = (
        UniqueConstraint("batch_id", "key"),
        Index("ix_batch_items_claim", "batch_id", "status", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))  # the unit code: one item per unit
    seq: Mapped[int] = mapped_column(Integer)  # order of first appearance in the workbook
    unit_code: Mapped[str] = mapped_column(String(40))
    unit_name: Mapped[str] = mapped_column(String(100))
    output_name: Mapped[str] = mapped_column(String(200))  # file name inside the batch directory
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_expires_at: Mapped[_dt.datetime | None] = mapped_column(DateTime, nullable=True)
    payload_json: Mapped[str] = mapped_column(Text, default="{}")
    result_json: Mapped[str] = mapped_column(Text, default="{}")
    errors_json: Mapped[str] = mapped_column(Text, default="[]")
    size: Mapped[int] = mapped_column(Integer, default=0)
    # SHA-256 of the unit file as written: checked with `size` before the file goes into a zip.
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Set back by an infrastructure fault (a full disk): not claimed again before this time, and
    # the attempt not counted.
    retry_at: Mapped[_dt.datetime | None] = mapped_column(DateTime, nullable=True)
    updated_at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    @property
    def errors(self) -> list[str]:
        return json.loads(self.errors_json)

    @property
    def result(self) -> dict:
        return json.loads(self.result_json)

    @property
    def status_label(self) -> str:
        return ITEM_LABELS.get(self.status, self.status)


__all__ = ["Batch", "BatchItem", "dumps", "PENDING", "RUNNING", "DONE", "INVALID", "MISSING", "FAILED", "EXCLUDED", "FINAL",
           "PROBLEMS"]
