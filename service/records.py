"""Load the stored submissions of a year as the plain per-unit records rules.statistics takes.

Only submitted or approved documents count: a draft may be half filled. Documents are grouped by
the unit they belong to (Submission.unit), or by the unit named in their data when the
submission is not linked to a unit row. A self-evaluation's total score is recomputed by its
kind's prepare step (rules.scoring), because the stored data holds what was filled, not scores.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from rules.statistics import DEPARTMENT, PROJECT
from service.db import Database
from service.models import Submission

COUNTED_STATUSES = ("submitted", "approved")
DECLARATION_KINDS = {"target_declaration": PROJECT, "department_target_declaration": DEPARTMENT}
MONITORING_KINDS = ("monitoring",)
SELF_EVALUATION_KINDS = {"self_evaluation": PROJECT, "department_self_evaluation": DEPARTMENT}
REVIEW_KINDS = ("target_review",)
ALL_KINDS = (*DECLARATION_KINDS, *MONITORING_KINDS, *SELF_EVALUATION_KINDS, *REVIEW_KINDS)


def _unit_of(sub: Submission, data: Mapping[str, Any]) -> dict[str, str]:
    if sub.unit is not None:
        return {"code": sub.unit.code, "name": sub.unit.name}
    name = data.get("unit") or data.get("implementing_unit") or data.get("department") or "未注明单位"
    return {"code": str(data.get("unit_code") or name), "name": str(name)}


def _score(sub: Submission, data: dict, settings) -> Any:
    """The total of a self-evaluation, recomputed by its kind (stored data keeps only inputs)."""
    if isinstance(data.get("scoring"), Mapping):
        return data["scoring"].get("total")
    from kinds import pipeline

    return pipeline.validate(sub.kind, data, settings)["scoring"]["total"]


def group_records(subs: Iterable[Submission], year: int, settings=None) -> list[dict]:
    """Per-unit records (rules.statistics input) of the given submissions of `year`."""
    units: dict[str, dict] = {}
    for sub in subs:
        data = sub.data
        if str(data.get("year", "")) != str(year):
            continue
        unit = _unit_of(sub, data)
        entry = units.setdefault(unit["code"], {"unit": unit, "declarations": [], "monitoring": [],
                                                "self_evaluations": [], "reviews": []})
        if sub.kind in DECLARATION_KINDS:
            entry["declarations"].append({**data, "scope": DECLARATION_KINDS[sub.kind]})
        elif sub.kind in MONITORING_KINDS:
            entry["monitoring"].append(data)
        elif sub.kind in SELF_EVALUATION_KINDS:
            entry["self_evaluations"].append({"scope": SELF_EVALUATION_KINDS[sub.kind],
                                              "project_name": data.get("project_name"),
                                              "score": _score(sub, data, settings)})
        elif sub.kind in REVIEW_KINDS:
            entry["reviews"].append({"project_name": data.get("project_name"),
                                     "score": data.get("score", data.get("total_score"))})
    return list(units.values())


def load_units(db: Database, year: int, settings=None, disclosure: Mapping[str, Mapping] | None = None) -> list[dict]:
    """The per-unit records of `year` from the database. `disclosure` maps a unit code to its
    {required, published, reason}, when the caller knows who published (the disclosure batch)."""
    with db.read() as session:
        subs = session.scalars(
            select(Submission)
            .options(selectinload(Submission.unit))
            .where(Submission.kind.in_(ALL_KINDS), Submission.status.in_(COUNTED_STATUSES))
            .order_by(Submission.id)
        ).all()
        units = group_records(subs, year, settings)
    for entry in units:
        info = (disclosure or {}).get(entry["unit"]["code"])
        if info is not None:
            entry["disclosure"] = dict(info)
    return units
