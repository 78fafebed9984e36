"""Load the stored submissions of a year as the plain per-unit records rules.statistics takes.

Only submitted or approved documents count: a draft may be half filled. Documents are grouped by
the unit they are stored under (Submission.unit); one stored under no unit is not counted (the
统计 page lists it), never counted for a unit its data merely names. A self-evaluation's total score is recomputed by its
kind's prepare step (rules.scoring), because the stored data holds what was filled, not scores.

A submission stores its input as submitted (“1,280.50”, “(三)” …, with the clerk's confirmations);
every reader of stored documents goes through `stored_data`, which validates it again through its
kind's schema, so nothing downstream reads unvalidated input. Older rows, stored in the normalised
form, validate the same way (tests/kinds/test_stored.py).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from rules.monitoring import MonitoringInputError, fund_execution
from rules.statistics import DEPARTMENT, PROJECT
from storage import facts as stored_facts
from storage.batches import DONE, EXCLUDED, PROBLEMS, Batch, BatchItem
from storage.db import Database
from storage.models import Submission, Unit, dumps


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
    from forms.base import FieldErrors

    try:
        return _validated(sub.kind, sub.data, settings)[1]
    except FieldErrors as exc:
        raise StoredInvalid(sub, exc.errors) from None


def _validated(kind_id: str, stored: Mapping[str, Any], settings=None, schemas: dict | None = None) -> tuple[dict, dict]:
    """(validated data with the kind's computed figures, its normalised form) of a stored input;
    FieldErrors when it no longer validates. `schemas` keeps one schema instance per kind for a
    reader of many documents."""
    import kinds
    from kinds import pipeline

    kind = kinds.get(kind_id)
    schema = None
    if schemas is not None:
        schema = schemas.get(kind_id) or schemas.setdefault(kind_id, kind.schema_instance(settings=settings))
    data = pipeline.validate(kind, stored, settings, schema=schema)
    return data, normalised(kind, data, settings, schema)


def normalised(kind, data: Mapping[str, Any], settings=None, schema=None) -> dict:
    """Validated data as stored readers and the API see it: the schema's dump, JSON-safe (money as
    decimal strings)."""
    schema = schema if schema is not None else kind.schema_instance(settings=settings)
    return json.loads(dumps(schema.dump(data)))


def of_year(sub: Submission, year: int) -> bool:
    """Whether a stored document may be of `year`, read cheaply before it is validated (the
    validated year is checked again by the reader)."""
    return _raw_year(sub.data) == str(year)


def _raw_year(data: Mapping[str, Any]) -> str:
    return str(data.get("year", "")).strip()


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


def _score(kind_id: str, data: Mapping[str, Any], settings) -> Any:
    """The total of a self-evaluation: its kind's prepare step computed it from the inputs."""
    if isinstance(data.get("scoring"), Mapping):
        return data["scoring"].get("total")
    from kinds import pipeline

    return pipeline.validate(kind_id, data, settings)["scoring"]["total"]


def _review_score(kind_id: str, data: Mapping[str, Any], settings) -> Any:
    """A review's total: stored data keeps the criteria scores, the kind's prepare adds the total."""
    if data.get("total_score") is not None or data.get("score") is not None:
        return data.get("total_score", data.get("score"))
    from kinds import pipeline

    return pipeline.validate(kind_id, data, settings)["total_score"]


def _period_end(data: Mapping[str, Any]) -> int:
    from rules.periods import PeriodError, parse_period

    try:
        return parse_period(data.get("period") or "1-12月").end_month
    except PeriodError:
        return 0


@dataclass(frozen=True)
class Facts:
    """One stored document as the statistics and the 统计 page read it, taken from its data
    validated again: its year, the unit it names, a monitoring form's period and project, and its
    entry in its unit's record (`list_name`, `record`; rules.statistics input)."""

    kind: str
    year: str
    claim: dict | None
    period_end: int = 0
    project: str | None = None
    list_name: str | None = None
    record: dict | None = None


def facts(kind_id: str, stored: Mapping[str, Any], settings=None, schemas: dict | None = None,
          condense: bool = False) -> Facts:
    """The Facts of a stored input; FieldErrors when it no longer validates. With `condense`, the
    record is rules.statistics.condensed (the figures compute derives, not the long lists)."""
    from rules.statistics import condensed

    validated, data = _validated(kind_id, stored, settings, schemas)
    list_name = record = None
    if kind_id in DECLARATION_KINDS:
        list_name, record = "declarations", {**data, "scope": DECLARATION_KINDS[kind_id]}
    elif kind_id in MONITORING_KINDS:
        list_name, record = "monitoring", data
    elif kind_id in SELF_EVALUATION_KINDS:
        list_name = "self_evaluations"
        record = {"scope": SELF_EVALUATION_KINDS[kind_id], "project_name": data.get("project_name"),
                  "score": _score(kind_id, validated, settings)}
    elif kind_id in REVIEW_KINDS:
        list_name = "reviews"
        record = {"project_name": data.get("project_name"), "score": _review_score(kind_id, validated, settings)}
    if condense and record is not None:
        record = condensed(list_name, record, settings)
    return Facts(kind=kind_id, year=_raw_year(data), claim=claimed_unit(data),
                 period_end=_period_end(data) if kind_id in ("monitoring", "department_monitoring") else 0,
                 project=(data.get("project_code") or data.get("project_name")) if kind_id in MONITORING_KINDS else None,
                 list_name=list_name, record=record)


def unit_of(sub: Submission) -> dict[str, str]:
    """The unit a stored document belongs to: its unit row (never one its data merely names)."""
    return {"code": sub.unit.code, "name": sub.unit.name}


def group(documents: Iterable[tuple[dict[str, str], Facts]]) -> list[dict]:
    """Per-unit records (rules.statistics input) of (unit, facts) of one year's documents, in order."""
    units: dict[str, dict] = {}
    latest: dict[tuple[str, Any], tuple[int, int]] = {}  # (unit, project) → (period end, index)
    for unit, fact in documents:
        if fact.list_name is None:
            continue
        entry = units.setdefault(unit["code"], {"unit": unit, "declarations": [], "monitoring": [],
                                                "self_evaluations": [], "reviews": []})
        if fact.list_name == "monitoring":
            # A project is monitored several times a year (1-6月, 1-9月): the latest period counts.
            seen = latest.get((unit["code"], fact.project))
            if seen is None:
                latest[(unit["code"], fact.project)] = (fact.period_end, len(entry["monitoring"]))
                entry["monitoring"].append(fact.record)
            elif fact.period_end > seen[0]:
                latest[(unit["code"], fact.project)] = (fact.period_end, seen[1])
                entry["monitoring"][seen[1]] = fact.record
        else:
            entry[fact.list_name].append(fact.record)
    return list(units.values())


def group_records(subs: Iterable[Submission], year: int, settings=None) -> list[dict]:
    """Per-unit records (rules.statistics input) of the given submissions of `year`, whole; a
    document stored under no unit is not counted (as year_documents leaves it out)."""
    from forms.base import FieldErrors

    found = []
    schemas: dict = {}
    for sub in subs:
        if sub.unit is None:
            continue
        data = sub.data
        if _raw_year(data) != str(year):
            continue
        try:
            fact = facts(sub.kind, data, settings, schemas)
        except FieldErrors:
            continue  # left out of figures: it cannot be counted reliably
        if fact.year == str(year):
            found.append((unit_of(sub), fact))
    return group(found)


def counted_submissions(session: Session, kinds: Iterable[str]) -> list[Submission]:
    """The submitted or approved documents of `kinds` stored under a unit (the unit they belong
    to, never one their data merely names), with their units, oldest first."""
    stmt = (select(Submission).options(selectinload(Submission.unit))
            .where(Submission.kind.in_(tuple(kinds)), Submission.status.in_(COUNTED_STATUSES),
                   Submission.unit_id.is_not(None))
            .order_by(Submission.id))
    return list(session.scalars(stmt).all())


# ------------------------------------------------------------------ a year's documents, cached
#
# Validating a stored document costs 2–6 ms (bench/FIGURES.md): a county of 10,000 units files some
# 45,000 a year. What the statistics take from each (Facts, condensed) is kept in the database
# (storage.facts, the document_facts table: written where a document's status changes, and by the
# reader for documents it had to validate) and, in front of it, per process, keyed by the
# document's public id and version (raised by every change: a save, a return, a resubmission, a
# review) and by the settings it was validated under, so a page, in any worker and after a
# restart, validates only documents no one has validated as they are now. The entries in memory
# are pickled: nothing a reader does to a record can change what the next reader gets.

FACTS_CACHE_BYTES = 64 * 2**20
_MISS_BATCH = 500


class FactsCache:
    """Least recently used (key → pickled entry), bounded by bytes."""

    def __init__(self, limit: int = FACTS_CACHE_BYTES):
        self.limit, self.size = limit, 0
        self._entries: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple):
        with self._lock:
            blob = self._entries.get(key)
            if blob is None:
                return None
            self._entries.move_to_end(key)
        return pickle.loads(blob)  # noqa: S301 - written by this process, never read from outside

    def put(self, key: tuple, value) -> None:
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            old = self._entries.pop(key, None)
            self.size += len(blob) - (len(old) if old is not None else 0)
            self._entries[key] = blob
            while self.size > self.limit and self._entries:
                _, dropped = self._entries.popitem(last=False)
                self.size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.size = 0

    def __len__(self) -> int:
        return len(self._entries)


FACTS_CACHE = FactsCache()


@dataclass(frozen=True)
class Refused:
    """A counted document that no longer validates under the current settings: left out of the
    figures, and listed so that its unit can be asked to correct it."""

    public_id: str
    kind: str
    title: str
    unit: dict
    errors: dict


class NotReady(Exception):
    """The time a request may spend validating ran out before every document of the year was
    read: what was validated is kept, and the next request goes on from there."""

    def __init__(self, done: int, total: int):
        super().__init__(f"{done} of {total} stored documents read")
        self.done, self.total = done, total

    @property
    def message(self) -> str:
        return (f"统计数据正在准备：已核对{self.done:,}份，共{self.total:,}份已提交的文档（每份都按现行设置重新校验）。"
                "请稍后再试，已核对的不会重复核对。")


@dataclass(frozen=True)
class Unassigned:
    """A counted document stored under no unit (written by a reviewer or the bureau naming no
    registered unit, or before units were recorded and not by a clerk: migration 0009): left out
    of the figures, never counted for a unit its data merely names, and listed."""

    public_id: str
    kind: str
    title: str
    claim: dict | None  # the unit its data names, if any


@dataclass
class YearDocuments:
    """The counted documents of a year: (unit, facts) in submission order, those refused, and
    those stored under no unit."""

    documents: list[tuple[dict[str, str], Facts]]
    refused: list[Refused]
    unassigned: list[Unassigned] = field(default_factory=list)


def settings_key(settings) -> str:
    """A digest of the settings a document is validated under (a changed setting re-validates)."""
    from rules.settings import defaults

    def plain(value):
        if isinstance(value, Mapping):
            return dict(value)
        if isinstance(value, set | frozenset):
            return sorted(value, key=repr)
        if isinstance(value, Decimal | _dt.date):
            return str(value)
        raise TypeError(f"settings hold a {type(value).__name__}")

    text = json.dumps(settings if settings is not None else defaults(), default=plain, sort_keys=True,
                      ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _entry_of(state: str, year: str, body: str | None) -> tuple:
    """A cache entry from a document_facts row (storage.facts)."""
    if state == "facts":
        return ("facts", year, Facts(**stored_facts.decode(body)))
    if state == "refused":
        value = stored_facts.decode(body)
        return ("refused", year, (value["errors"], value["claim"]))
    return ("year", year, None)


def _row_of(sid: int, version: int, fingerprint: str, entry: tuple) -> dict:
    what, year, value = entry
    if what == "facts":
        body = stored_facts.encode(asdict(value))
    elif what == "refused":
        body = stored_facts.encode({"errors": value[0], "claim": value[1]})
    else:
        body = None
    return {"submission_id": sid, "version": version, "settings_digest": fingerprint, "state": what,
            "year": year[:40], "body_json": body}


def _entry(kind_id: str, stored: Mapping[str, Any], settings, schemas: dict, wanted: str | None) -> tuple:
    """What the statistics keep of a stored input: its facts, the messages refusing it, or (when
    its input names a year other than `wanted`) only that year, not validated until asked for."""
    from forms.base import FieldErrors

    raw = _raw_year(stored)
    if wanted is not None and raw != wanted:
        return ("year", raw, None)
    try:
        return ("facts", raw, facts(kind_id, stored, settings, schemas, condense=True))
    except FieldErrors as exc:
        return ("refused", raw, (exc.errors, claimed_unit(stored)))


def remember(session: Session, sub: Submission, settings=None, before: int | None = None) -> None:
    """Write the facts of `sub` as it is now in this (write) transaction, flushed: called where a
    document's status changes, so the statistics find them without validating it. `before`, the
    version it had when its data last changed (a review moves only its status): its row, when
    current, is carried over instead of validating again."""
    fingerprint = settings_key(settings)
    if before is not None:
        found = stored_facts.current_rows(session, {sub.id: before}, fingerprint).get(sub.id)
        if found is not None:
            entry = _entry_of(*found)
            stored_facts.store(session, [_row_of(sub.id, sub.version, fingerprint, entry)])
            return
    entry = _entry(sub.kind, sub.data, settings, {}, None)
    stored_facts.store(session, [_row_of(sub.id, sub.version, fingerprint, entry)])


def _unknown(entry: tuple | None, wanted: str) -> bool:
    """Unknown, or known only by the year its input names, which is the one asked for now."""
    return entry is None or (entry[0] == "year" and entry[1] == wanted)


def year_documents(db: Database, year: int, kinds: Iterable[str], settings=None,
                   cache: FactsCache | None = FACTS_CACHE, budget: float | None = None) -> YearDocuments:
    """Every submitted or approved document of `kinds` whose data is of `year`, validated again,
    or as an earlier validation of the same version under the same settings and code left it: in
    this process's cache, else in the document_facts table (storage.facts). The rows are read
    without their data; only documents neither knows are loaded and validated, a batch at a time,
    and each batch's facts are written to the table as soon as it is validated, so that no
    worker validates them again. With a `budget` (seconds), NotReady once that much time went on
    validating and documents remain unread (at least one batch is validated)."""
    deadline = time.monotonic() + budget if budget is not None else None
    fingerprint = settings_key(settings)
    wanted = str(year)
    documents: list[tuple[dict[str, str], Facts]] = []
    refused: list[Refused] = []
    unassigned: list[Unassigned] = []
    schemas: dict = {}
    with db.read() as session:
        # One dict per unit, shared by its documents' records (read only, like the records).
        stored_units = {uid: {"code": code, "name": name}
                        for uid, code, name in session.execute(select(Unit.id, Unit.code, Unit.name))}
        rows = session.execute(
            select(Submission.id, Submission.public_id, Submission.version, Submission.kind, Submission.unit_id,
                   Submission.title)
            .where(Submission.kind.in_(tuple(kinds)), Submission.status.in_(COUNTED_STATUSES))
            .order_by(Submission.id)).all()
    for start in range(0, len(rows), _MISS_BATCH):
        chunk = rows[start:start + _MISS_BATCH]
        entries = {row.id: cache.get((row.public_id, row.version, fingerprint)) if cache is not None else None
                   for row in chunk}
        missing = [row for row in chunk if _unknown(entries[row.id], wanted)]
        validated: list = []
        if missing:
            with db.read() as session:
                found = stored_facts.current_rows(session, {row.id: row.version for row in missing}, fingerprint)
                for row in missing:
                    if row.id in found:
                        entries[row.id] = _entry_of(*found[row.id])
                        if cache is not None:
                            cache.put((row.public_id, row.version, fingerprint), entries[row.id])
                validated = [row for row in missing if _unknown(entries[row.id], wanted)]
                if validated:
                    texts = dict(session.execute(select(Submission.id, Submission.data_json)
                                                 .where(Submission.id.in_([row.id for row in validated]))).all())
        if validated:
            for row in validated:
                entries[row.id] = _entry(row.kind, json.loads(texts[row.id]), settings, schemas, wanted)
            with db.write() as session:
                stored_facts.store(session, [_row_of(row.id, row.version, fingerprint, entries[row.id])
                                             for row in validated])
            if cache is not None:
                for row in validated:
                    cache.put((row.public_id, row.version, fingerprint), entries[row.id])
            if deadline is not None and time.monotonic() > deadline and start + _MISS_BATCH < len(rows):
                raise NotReady(start + len(chunk), len(rows))
        for row in chunk:
            what, raw, value = entries[row.id]
            if raw != wanted or (what == "facts" and value.year != wanted):
                continue
            unit = stored_units.get(row.unit_id)
            if unit is None:
                claim = value[1] if what == "refused" else value.claim
                unassigned.append(Unassigned(row.public_id, row.kind, row.title, claim))
            elif what == "refused":
                refused.append(Refused(row.public_id, row.kind, row.title, unit, value[0]))
            else:
                documents.append((unit, value))
    return YearDocuments(documents, refused, unassigned)


def load_units(db: Database, year: int, settings=None, disclosure: Mapping[str, Mapping] | None = None,
               documents: YearDocuments | None = None, budget: float | None = None) -> list[dict]:
    """The per-unit records of `year` from the database, each document condensed
    (rules.statistics.condensed). `disclosure` maps a unit code to its {required, published,
    reason}, when the caller knows who published (the disclosure batch); `documents`, when the
    caller has read the year already (the 统计 page); `budget` as year_documents takes it."""
    if documents is None:
        documents = year_documents(db, year, ALL_KINDS, settings, budget=budget)
    units = group(documents.documents)
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
