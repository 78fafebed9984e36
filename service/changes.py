"""What a clerk changed in a returned document before submitting it again, field by field.

A return's audit event keeps the document's data as the reviewer returned it
(AuditEvent.snapshot_json); the resubmitted document's page compares that with its data now and
lists each changed field by its Chinese label (nested rows as “第N行”), old value → new value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema

from service.formview import path_label
from storage.models import AuditEvent


@dataclass(frozen=True)
class Change:
    label: str  # “年度绩效指标 · 第3行 · 指标值”
    old: str
    new: str


def _leaves(value: Any, prefix: str, out: dict[str, Any]) -> dict[str, Any]:
    """Flatten nested data to dotted paths (“indicators.midterm.2.name”); a list of plain values
    (a multi-value field, a list of 主送机关) is one leaf."""
    if isinstance(value, dict):
        for key, item in value.items():
            _leaves(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        for i, item in enumerate(value):
            _leaves(item, f"{prefix}.{i}", out)
    else:
        out[prefix] = value
    return out


def _shown(value: Any) -> str:
    if value in (None, "", []):
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(_shown(v) for v in value)
    return str(value)


def changes(schema: Schema, before: dict, after: dict) -> list[Change]:
    """The fields whose values differ between `before` and `after`, in the form's order (the
    schema's fields; rows in their order); keys the schema does not declare (the clerk's
    confirmations of warnings) are left out."""
    old, new = _leaves(before, "", {}), _leaves(after, "", {})
    order = {name: i for i, name in enumerate(schema.fields)}
    paths = [p for p in dict.fromkeys([*new, *old]) if p.split(".", 1)[0] in order]
    paths.sort(key=lambda p: order[p.split(".", 1)[0]])  # stable: within a field, the data's order
    out = []
    for path in paths:
        a, b = old.get(path), new.get(path)
        if _shown(a) != _shown(b):
            out.append(Change(path_label(schema, path), _shown(a), _shown(b)))
    return out


def since_return(schema: Schema, events: list[AuditEvent], data: dict) -> list[Change] | None:
    """The changes since the last return that kept a snapshot, or None when the document was
    never returned (or was returned before snapshots were kept)."""
    returns = [e for e in events if e.action == "return" and e.snapshot_json]
    if not returns:
        return None
    return changes(schema, json.loads(returns[-1].snapshot_json), data)
