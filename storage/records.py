"""Load the stored submissions of a year as the plain per-unit records rules.statistics takes.

Only submitted or approved documents count: a draft may be half filled. Documents are grouped by
the unit they belong to (Submission.unit), or by the unit named in their data when the
submission is not linked to a unit row. A self-evaluation's total score is recomputed by its
kind's prepare step (rules.scoring), because the stored data holds what was filled, not scores.

A submission stores its input as submitted (“1,280.50”, “(三)” …, with the clerk's confirmations);
every reader of stored documents goes through `stored_data`, which validates it again through its
kind's schema, so nothing downstream reads unvalidated input. Older rows, stored in the normalised
form, validate the same way (tests/kinds/test_stored.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from rules.monitoring import MonitoringInputError, fund_execution
from rules.statistics import DEPARTMENT, PROJECT
from storage.batches import DONE, EXCLUDED, PROBLEMS, Batch, BatchItem
from storage.db import Database
from storage.models import Submission, dumps


class StoredInvalid(ValueError):
    """A stored document that no longer validates (settings changed since it was submitted):
    `errors` maps field paths to Chinese messages, as FieldErrors does."""

    def __init__(self, sub: Submission, errors: Mapping[str, list[str]]):
        super().__init__(f"{sub.kind} {sub.public_id}: {dict(errors)}")
        self.submission, self.errors = sub, dict(errors)


def stored_data(sub: Submission, settings=None) -> dict:
    """The validated data of a stored document in its normalised, JSON-safe form (amounts as
    Decimal strings, headings “（三）”…): its stored input re-validated through its kind's schema.
    StoredInvalid when it no longer validates."""
    import kinds
    from forms.base import FieldErrors
    from kinds import pipeline

    kind = kinds.get(sub.kind)
    try:
        data = pipeline.validate(kind, sub.data, settings)
    except FieldErrors as exc:
        raise StoredInvalid(sub, exc.errors) from None
    return normalised(kind, data, settings)


def normalised(kind, data: Mapping[str, Any], settings=None) -> dict:
    """Validated data as stored readers and the API see it: the schema's dump, JSON-safe (money as
    decimal strings)."""
    return json.loads(dumps(kind.schema_instance(settings=settings).dump(data)))


def of_year(sub: Submission, year: int) -> bool:
    """Whether a stored document may be of `year`, read cheaply before it is validated (the
    validated year is checked again by the reader)."""
    return str(sub.data.get("year", "")).strip() == str(year)


def valid_stored(subs: Iterable[Submission], settings=None) -> Iterable[tuple[Submission, dict]]:
    """(submission, stored_data) of each document that still validates; one that does not is
    left out of figures (it cannot be counted reliably) and must be fixed by its unit."""
    for sub in subs:
        try:
            yield sub, stored_data(sub, settings)
        except StoredInvalid:
            continue

COUNTED_STATUSES = ("submitted", "approved")
DECLARATION_KINDS = {"target_declaration": PROJECT, "department_target_declaration": DEPARTMENT}
MONITORING_KINDS = ("monitoring",)
SELF_EVALUATION_KINDS = {"self_evaluation": PROJECT, "department_self_evaluation": DEPARTMENT}
REVIEW_KINDS = ("target_review",)
ALL_KINDS = (*DECLARATION_KINDS, *MONITORING_KINDS, *SELF_EVALUATION_KINDS, *REVIEW_KINDS)


def claimed_unit(data: Mapping[str, Any]) -> dict[str, str] | None:
    """The unit a document's data names ({code, name}; code "" when it names none), or None. Only
    a claim: the unit a document belongs to is its stored unit (service.api.document_unit decides it)."""
    unit = data.get("unit")
    if isinstance(unit, Mapping) and (unit.get("code") or unit.get("name")):  # monitoring forms: {code, name}
        return {"code": str(unit.get("code") or "").strip(), "name": str(unit.get("name") or "").strip()}
    name = unit or data.get("implementing_unit") or data.get("department")
    code = data.get("unit_code")
    if not (name or code):
        return None
    return {"code": str(code or "").strip(), "name": str(name or "").strip()}


def unit_of(sub: Submission, data: Mapping[str, Any]) -> dict[str, str]:
    """The unit a stored document belongs to: its unit row, else the unit its data names."""
    if sub.unit is not None:
        return {"code": sub.unit.code, "name": sub.unit.name}
    claim = claimed_unit(data) or {"code": "", "name": "未注明单位"}
    name = claim["name"] or claim["code"]
    return {"code": claim["code"] or name, "name": name}


def _score(sub: Submission, data: dict, settings) -> Any:
    """The total of a self-evaluation, recomputed by its kind (stored data keeps only inputs)."""
    if isinstance(data.get("scoring"), Mapping):
        return data["scoring"].get("total")
    from kinds import pipeline

    return pipeline.validate(sub.kind, data, settings)["scoring"]["total"]


def _review_score(sub: Submission, data: dict, settings) -> Any:
    """A review's total: stored data keeps the criteria scores, the kind's prepare adds the total."""
    if data.get("total_score") is not None or data.get("score") is not None:
        return data.get("total_score", data.get("score"))
    from kinds import pipeline

    return pipeline.validate(sub.kind, data, settings)["total_score"]


def _period_end(data: Mapping[str, Any]) -> int:
    from rules.periods import PeriodError, parse_period

    try:
        return parse_period(data.get("period") or "1-12月").end_month
    except PeriodError:
        return 0


def group_records(subs: Iterable[Submission], year: int, settings=None) -> list[dict]:
    """Per-unit records (rules.statistics input) of the given submissions of `year`."""
    units: dict[str, dict] = {}
    for sub, data in valid_stored((s for s in subs if of_year(s, year)), settings):
        if str(data.get("year", "")) != str(year):
            continue
        unit = unit_of(sub, data)
        entry = units.setdefault(unit["code"], {"unit": unit, "declarations": [], "monitoring": [],
                                                "self_evaluations": [], "reviews": []})
        if sub.kind in DECLARATION_KINDS:
            entry["declarations"].append({**data, "scope": DECLARATION_KINDS[sub.kind]})
        elif sub.kind in MONITORING_KINDS:
            # A project is monitored several times a year (1-6月, 1-9月): the latest period counts.
            key = data.get("project_code") or data.get("project_name")
            same = [i for i, m in enumerate(entry["monitoring"])
                    if (m.get("project_code") or m.get("project_name")) == key]
            if not same:
                entry["monitoring"].append(data)
            elif _period_end(data) > _period_end(entry["monitoring"][same[0]]):
                entry["monitoring"][same[0]] = data
        elif sub.kind in SELF_EVALUATION_KINDS:
            entry["self_evaluations"].append({"scope": SELF_EVALUATION_KINDS[sub.kind],
                                              "project_name": data.get("project_name"),
                                              "score": _score(sub, data, settings)})
        elif sub.kind in REVIEW_KINDS:
            entry["reviews"].append({"project_name": data.get("project_name"),
                                     "score": _review_score(sub, data, settings)})
    return list(units.values())


def counted_submissions(session: Session, kinds: Iterable[str], stored_unit: bool = False) -> list[Submission]:
    """The submitted or approved documents of `kinds`, with their units, oldest first; with
    `stored_unit`, only those stored under a unit (the unit they belong to, never one their data
    merely names: what a public disclosure is built from)."""
    stmt = (select(Submission).options(selectinload(Submission.unit))
            .where(Submission.kind.in_(tuple(kinds)), Submission.status.in_(COUNTED_STATUSES))
            .order_by(Submission.id))
    if stored_unit:
        stmt = stmt.where(Submission.unit_id.is_not(None))
    return list(session.scalars(stmt).all())


def load_units(db: Database, year: int, settings=None, disclosure: Mapping[str, Mapping] | None = None) -> list[dict]:
    """The per-unit records of `year` from the database. `disclosure` maps a unit code to its
    {required, published, reason}, when the caller knows who published (the disclosure batch)."""
    with db.read() as session:
        units = group_records(counted_submissions(session, ALL_KINDS), year, settings)
    if disclosure is None:
        disclosure = disclosure_results(db, year)
    for entry in units:
        info = disclosure.get(entry["unit"]["code"])
        if info is not None:
            entry["disclosure"] = dict(info)
    return units


def disclosure_results(db: Database, year: int) -> dict[str, dict]:
    """What the stored 绩效信息公开 batches of `year` say of each unit, the newest batch winning:
    {code: {required, published, reason}} — published when its file was generated, not required
    when it was excluded (with the reason), required but not published when its material was
    refused. A unit no batch named has no entry: the statistics then state nothing of it."""
    results: dict[str, dict] = {}
    with db.read() as session:
        batches = session.scalars(select(Batch).where(Batch.kind == "disclosure").order_by(Batch.id)).all()
        for batch in batches:
            if str(batch.params.get("year")) != str(year):
                continue
            for item in session.scalars(select(BatchItem).where(BatchItem.batch_id == batch.id)):
                if item.status == EXCLUDED:
                    data = json.loads(item.payload_json or "{}").get("data") or {}
                    reason = str(data.get("exclusion_reason") or "").strip() or "其他原因"
                    results[item.unit_code] = {"required": False, "published": False, "reason": reason}
                elif item.status == DONE:
                    results[item.unit_code] = {"required": True, "published": True}
                elif item.status in PROBLEMS:  # required, not published (未提交材料 too)
                    results[item.unit_code] = {"required": True, "published": False}
    return results


def previous_period(session, kind: str, data: Mapping[str, Any], unit_id: int | None,
                    exclude_id: int | None = None, settings=None) -> dict | None:
    """{period, execution_rate} of the latest earlier monitoring period of the same project (or
    department) and year that the unit submitted, for the warning on a rate far from it; None when
    there is none or `kind` is not a monitoring kind."""
    if kind not in ("monitoring", "department_monitoring") or unit_id is None:
        return None
    end = _period_end(data)
    key = (data.get("project_code") or data.get("project_name")) if kind == "monitoring" else None
    best: tuple[int, dict] | None = None
    stmt = select(Submission).where(Submission.kind == kind, Submission.unit_id == unit_id,
                                    Submission.status.in_(COUNTED_STATUSES))
    for _sub, earlier in valid_stored((s for s in session.scalars(stmt) if s.id != exclude_id), settings):
        if str(earlier.get("year", "")) != str(data.get("year", "")):
            continue
        if key is not None and (earlier.get("project_code") or earlier.get("project_name")) != key:
            continue
        earlier_end = _period_end(earlier)
        if not 0 < earlier_end < end or (best is not None and earlier_end <= best[0]):
            continue
        try:
            rate = fund_execution(earlier.get("funds") or {}, settings)["annual_total"].execution_rate
        except (MonitoringInputError, KeyError, TypeError, ValueError, ArithmeticError):
            continue
        if rate is not None:
            best = (earlier_end, {"period": earlier.get("period"), "execution_rate": rate})
    return best[1] if best else None
