"""Migrations upgrade a database that holds documents (made at the revision before them)."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import inspect, select, text

from storage.db import Database
from storage.migrate import alembic_config, upgrade
from tests.conftest import load_sample

YEAR = 2024


def _database_at(tmp_path, revision: str) -> tuple[str, Database]:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url, revision)
    return url, Database(url)


def _insert_document(db: Database, kind: str, data: dict, unit_id, created_by, status: str = "submitted") -> None:
    with db.write() as session:
        session.execute(text(
            "INSERT INTO submissions (public_id, kind, title, unit_id, status, data_json, created_at, updated_at,"
            " created_by_id, version, size) VALUES (:pid, :kind, '', :unit, :status, :data, '2024-07-01', '2024-07-01',"
            " :by, 3, 0)"), {"pid": f"doc-{kind}-{unit_id}-{created_by}", "kind": kind, "unit": unit_id,
                             "status": status, "data": json.dumps(data, ensure_ascii=False), "by": created_by})


def _unit_and_clerk(db: Database, code: str, name: str, role: str = "unit_clerk") -> tuple[int, int]:
    with db.write() as session:
        session.execute(text("INSERT INTO units (code, name) VALUES (:c, :n)"), {"c": code, "n": name})
        unit = session.scalar(text("SELECT id FROM units WHERE code = :c"), {"c": code})
        session.execute(text("INSERT INTO users (username, display_name, role, unit_id, active, session_nonce,"
                             " created_at) VALUES (:u, :u, :r, :unit, 1, 'n', '2024-01-01')"),
                        {"u": f"clerk{code}", "r": role, "unit": unit if role == "unit_clerk" else None})
        user = session.scalar(text("SELECT id FROM users WHERE username = :u"), {"u": f"clerk{code}"})
    return unit, user


def test_0008_adds_the_facts_table_to_a_database_holding_documents(tmp_path):
    from rules.settings import defaults
    from storage.models import DocumentFacts
    from storage.records import year_documents

    url, db = _database_at(tmp_path, "0007")
    unit, clerk = _unit_and_clerk(db, "A001", "青溪县第一中学")
    _insert_document(db, "target_declaration", {**load_sample("target_declaration"), "year": YEAR}, unit, clerk)
    assert "document_facts" not in inspect(db.engine).get_table_names()
    db.dispose()
    upgrade(url)
    db = Database(url)
    try:
        assert "document_facts" in inspect(db.engine).get_table_names()
        documents = year_documents(db, YEAR, ("target_declaration",), defaults(), cache=None)
        assert [(unit["code"], fact.kind) for unit, fact in documents.documents] == [("A001", "target_declaration")]
        with db.read() as session:
            (row,) = session.scalars(select(DocumentFacts)).all()
        assert (row.version, row.state, row.year) == (3, "facts", str(YEAR))
    finally:
        db.dispose()
    command.downgrade(alembic_config(url), "0007")
    db = Database(url)
    try:
        assert "document_facts" not in inspect(db.engine).get_table_names()
    finally:
        db.dispose()


def test_0009_gives_documents_without_a_unit_their_clerks_unit(tmp_path):
    """A database made at 0007 holding documents stored before units were recorded: a clerk's
    takes her unit (whatever unit its data names), the bureau's stays without one; the statistics
    count the first under its stored unit and list the second, counted for no unit."""
    from rules.settings import defaults
    from storage.records import year_documents

    url, db = _database_at(tmp_path, "0007")
    unit_a, clerk = _unit_and_clerk(db, "A001", "青溪县第一中学")
    unit_b, bureau = _unit_and_clerk(db, "B001", "青溪县人民医院", role="finance_bureau")
    declaration = {**load_sample("target_declaration"), "year": YEAR, "implementing_unit": "青溪县人民医院"}
    _insert_document(db, "target_declaration", declaration, None, clerk)
    _insert_document(db, "target_declaration", declaration, None, bureau)
    _insert_document(db, "target_declaration", {**declaration, "implementing_unit": "青溪县第一中学"}, unit_b, clerk,
                     status="approved")  # stored under a unit already: kept
    db.dispose()
    upgrade(url)
    db = Database(url)
    try:
        with db.read() as session:
            stored = session.execute(text("SELECT created_by_id, unit_id FROM submissions ORDER BY id")).all()
        assert [tuple(r) for r in stored] == [(clerk, unit_a), (bureau, None), (clerk, unit_b)]
        documents = year_documents(db, YEAR, ("target_declaration",), defaults(), cache=None)
        assert [u["code"] for u, _ in documents.documents] == ["A001", "B001"]
        (left,) = documents.unassigned
        assert left.public_id == f"doc-target_declaration-None-{bureau}" and left.claim["name"] == "青溪县人民医院"
    finally:
        db.dispose()
