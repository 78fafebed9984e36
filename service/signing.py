"""Signing and verification for the web app and the API: who may sign, the audit record of every
signed file (its SHA-256, who signed and when), and what a verification answers.

The work itself is below: generators.signing (PAdES with pyHanko, the seal placement) and
storage.seals (the registered organs' keys and seal images under the data directory).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app
from sqlalchemy import select

from generators.signing import SigningError, Verification, sha256, verify_pdf
from kinds.pipeline import Output
from service import audit, roles, sessions
from service.database import get_db
from service.errors import ApiError
from service.timefmt import local_time
from storage import seals
from storage.batches import Batch, BatchItem
from storage.models import AuditEvent, Submission

SIGN_ACTION = "sign"
BATCH_SIGN_ACTION = "batch_sign"  # a disclosure batch that signs every unit's file (target batch:<id>)
SIGNER_ROLES = (roles.FINANCE_BUREAU, roles.ADMIN)
HASH_PREFIX = "sha256:"


def data_dir() -> str:
    return current_app.config["DATA_DIR"]


def may_sign(user) -> bool:
    return user is not None and user.role in SIGNER_ROLES


def require_signer() -> None:
    """Only the finance bureau and administrators sign (checked before anything is rendered)."""
    if not may_sign(sessions.current_user()):
        raise ApiError(403, "只有财政局和管理员可以签章。")


def sign_output(output: Output, kind_id: str, data: Mapping[str, Any], settings: Mapping[str, Any],
                submission: Submission | None = None) -> Output:
    """The rendered PDF signed by the document's organs; the signed file's SHA-256 goes to the
    audit log with the signer and the time."""
    require_signer()
    if not output.filename.endswith(".pdf"):
        raise ApiError(422, "只能对PDF签章。", {"format": ["签章只适用于PDF格式。"]})
    try:
        organs = seals.signing_organs(data_dir(), kind_id, data, settings)
        signed = seals.sign_document(data_dir(), output.content, organs, settings)
    except SigningError as exc:
        raise ApiError(422, str(exc), {"sign": [str(exc)]}) from None
    record_signature(sha256(signed), organs, output.filename, submission)
    return Output(signed, output.filename, output.mimetype)


def record_signature(digest: str, organs: list[str], filename: str, submission: Submission | None = None,
                     user=None) -> None:
    with get_db().write() as session:
        row = session.get(Submission, submission.id) if submission is not None else None
        audit.audit(session, SIGN_ACTION, user=user, submission=row, target=HASH_PREFIX + digest,
                   comment=f"签章机关：{'、'.join(organs)}；文件：{filename}")


def signing_records(digest: str) -> list[dict]:
    """The records of a signed file: when, by whom, which document — a file signed on its own
    (its SHA-256 in the audit log) or a unit's file of a signing batch (its SHA-256 with the
    batch's item, the batch's start in the audit log)."""
    zone = current_app.config["TIMEZONE"]
    out = []
    with get_db().read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == SIGN_ACTION,
                                                          AuditEvent.target == HASH_PREFIX + digest)
                                 .order_by(AuditEvent.at)).all()
        for e in events:
            sub = session.get(Submission, e.submission_id) if e.submission_id else None
            out.append({"at": local_time(e.at, zone, seconds=True), "by": e.username, "comment": e.comment,
                        "document": sub.title if sub is not None else ""})
        for item, batch in session.execute(select(BatchItem, Batch).join(Batch, BatchItem.batch_id == Batch.id)
                                           .where(BatchItem.sha256 == digest)).all():
            started = session.scalar(select(AuditEvent).where(AuditEvent.action == BATCH_SIGN_ACTION,
                                                              AuditEvent.target == f"batch:{batch.public_id}"))
            out.append({"at": local_time(item.updated_at, zone, seconds=True),
                        "by": started.username if started is not None else "",
                        "comment": started.comment if started is not None else f"批次：{batch.title}",
                        "document": f"{batch.title}：{item.unit_code} {item.unit_name}"})
    return out


def verify(pdf: bytes) -> tuple[Verification, list[dict]]:
    """What the public page and the API answer about a file."""
    result = verify_pdf(pdf, seals.registered_certificates(data_dir()))
    return result, signing_records(result.sha256)


def verification_json(result: Verification, records: list[dict]) -> dict:
    return {
        "valid": result.ok,
        "summary": result.summary(),
        "sha256": result.sha256,
        "signatures": [{
            "organ": s.organ, "signer": s.signer, "signed_at": s.signed_at.isoformat() if s.signed_at else None,
            "timestamped": s.timestamped, "intact": s.intact, "valid": s.valid, "covers_whole_file": s.covers_file,
            "unchanged": s.unchanged, "registered": bool(s.organ),
        } for s in result.signatures],
        "records": records,
    }
