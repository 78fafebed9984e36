"""The document_facts table (storage.models.DocumentFacts): what the statistics took from each
stored document, read back instead of validating the document again.

A row answers only for the document's version, the settings it was validated under
(storage.records.settings_key) and the code that validated and condensed it (`code_digest`); a
row that differs in any of them is stale: never read, and overwritten by the next writer.

The code digest is a hash of FACTS_FORMAT (raised by hand when the row's shape changes), the
marshmallow version, and every file of the packages a document's validation and condensing run
through (forms/, kinds/, rules/ — schemas, prepare steps, scoring, the statistics' condensing
— and this module and storage/records.py). So a deploy that changes any of them re-validates each
document once, shared by all workers, instead of serving figures from code no longer running;
one that changes only generators, jobs or the service keeps the rows.

Bodies are JSON, never pickles (a database row is not trusted with code execution); Decimals
and tuples are tagged so that a body reads back equal to what was written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import lru_cache
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import DocumentFacts

FACTS_FORMAT = 1
ROOT = Path(__file__).resolve().parent.parent
CODE_PACKAGES = ("forms", "kinds", "rules")
CODE_FILES = ("storage/facts.py", "storage/records.py")


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the code behind a row (module docstring)."""
    digest = hashlib.sha256(f"{FACTS_FORMAT}\0{package_version('marshmallow')}".encode())
    files = [p for package in CODE_PACKAGES for p in (ROOT / package).rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    files += [ROOT / name for name in CODE_FILES]
    for path in sorted(files):
        digest.update(b"\0" + path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _tagged(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, tuple):
        return {"$tuple": [_tagged(v) for v in value]}
    if isinstance(value, list):
        return [_tagged(v) for v in value]
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("facts keys must be strings")
        return {k: _tagged(v) for k, v in value.items()}
    if value is None or isinstance(value, str | bool | int):
        return value
    raise TypeError(f"facts hold a {type(value).__name__}")


def _untagged(obj: dict) -> Any:
    if len(obj) == 1:
        if "$decimal" in obj:
            return Decimal(obj["$decimal"])
        if "$tuple" in obj:
            return tuple(obj["$tuple"])
    return obj


def encode(value: Any) -> str:
    return json.dumps(_tagged(value), ensure_ascii=False, separators=(",", ":"))


def decode(text: str) -> Any:
    return json.loads(text, object_hook=_untagged)


def current_rows(session: Session, versions: Mapping[int, int], settings_digest: str) -> dict[int, tuple]:
    """{submission id: (state, year, body_json)} of the current rows of the submissions
    `versions` maps to their version."""
    if not versions:
        return {}
    t = DocumentFacts
    stmt = select(t.submission_id, t.version, t.state, t.year, t.body_json).where(
        t.submission_id.in_(list(versions)), t.settings_digest == settings_digest, t.code_digest == code_digest())
    return {sid: (state, year, body) for sid, version, state, year, body in session.execute(stmt)
            if versions[sid] == version}


def store(session: Session, rows: Iterable[Mapping[str, Any]]) -> None:
    """Write rows {submission_id, version, settings_digest, state, year, body_json} over whatever
    the submissions had, unless a newer version was written meanwhile (a reader that validated
    version 2 does not overwrite the row a submit wrote for version 3)."""
    values = [{**row, "code_digest": code_digest()} for row in rows]
    if not values:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(DocumentFacts)
    table = DocumentFacts.__table__
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.submission_id],
        set_={name: stmt.excluded[name] for name in
              ("version", "settings_digest", "code_digest", "state", "year", "body_json")},
        where=table.c.version <= stmt.excluded.version)
    session.execute(stmt, values)
