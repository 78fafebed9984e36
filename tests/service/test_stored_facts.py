"""What the statistics take from each document is kept in the database (document_facts): written
in the transaction that submits, returns, approves or reviews a document, filled by the reader
for documents without a current row, and read back by any process instead of validating again.
The figures read from the table always equal a recount that validates every document now."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select, update

from rules.settings import load_settings
from rules.statistics import compute
from storage import facts as stored_facts
from storage import records
from storage.models import DocumentFacts, SavedSettings, Submission
from tests.conftest import load_sample, login
from tests.service.test_dashboard import YEAR, _totals, _uncached_figures, resubmit_with_more_executed, stored  # noqa: F401 - stored: a fixture

STRICT = {"declaration": {"indicators": {"min_quantified_ratio": "0.95"}}}


@pytest.fixture
def validations(monkeypatch):
    """How many times a stored document is validated (kinds.pipeline.validate)."""
    from kinds import pipeline

    calls = []
    real = pipeline.validate

    def counted(*args, **kwargs):
        calls.append(args[0] if isinstance(args[0], str) else args[0].id)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "validate", counted)
    return calls


def _rows(app) -> dict[int, tuple]:
    with app.extensions["jxdoc.db"].read() as session:
        return {r.submission_id: (r.version, r.settings_digest, r.code_digest, r.state)
                for r in session.scalars(select(DocumentFacts))}


def _counted(app) -> dict[int, int]:
    with app.extensions["jxdoc.db"].read() as session:
        return dict(session.execute(select(Submission.id, Submission.version)
                                    .where(Submission.status.in_(records.COUNTED_STATUSES))).all())


def _from_table(app, settings, validations) -> tuple:
    """The year's figures as a new process reads them (no cache in memory), and how many
    documents it validated to get them."""
    records.FACTS_CACHE.clear()
    before = len(validations)
    with app.app_context():
        units = records.load_units(app.extensions["jxdoc.db"], YEAR, settings)
    return compute(units, settings), len(validations) - before


def _settings(app) -> dict:
    from service.settings_store import current_settings

    with app.test_request_context():
        return current_settings()


def _current(app) -> None:
    """Every counted document has a row of its version, the settings in force and the code."""
    key = records.settings_key(_settings(app))
    rows = _rows(app)
    for sid, version in _counted(app).items():
        assert rows[sid][:3] == (version, key, stored_facts.code_digest()), sid


def test_each_change_writes_the_facts_and_the_table_equals_a_recount(stored, bureau_client, world, validations):  # noqa: F811
    app = stored
    settings = _settings(app)
    _current(app)  # written by the submits, before any page was seen
    figures, validated = _from_table(app, settings, validations)
    assert validated == 0 and figures == _uncached_figures(app)

    clerk, reviewer = login(app, world, "clerk_a"), login(app, world, "reviewer")
    mine = {s["kind"]: s for s in clerk.get("/api/v1/submissions").get_json()}
    response = bureau_client.post(f"/api/v1/submissions/{mine['monitoring']['id']}/review",
                                  json={"action": "return", "comment": "请核对执行数。"})
    assert response.status_code == 200, response.get_json()
    figures, validated = _from_table(app, settings, validations)
    assert validated == 0 and figures == _uncached_figures(app) and figures.monitoring is None

    resubmit_with_more_executed(clerk, mine["monitoring"]["id"])
    _current(app)
    figures, validated = _from_table(app, settings, validations)
    assert validated == 0 and figures == _uncached_figures(app)
    assert str(figures.monitoring.overall.execution_rate).startswith("0.7936")  # 1,000.00 of 1,260.00

    # The department's reviewer approves the declaration by a 审核表 (stored with its facts, and
    # the declaration's status moved, its row carried over), the bureau approves the 自评表.
    review = {**load_sample("target_review"), "declaration_id": mine["target_declaration"]["id"],
              "outcome": "approved", "year": YEAR, "unit": "青溪县第一中学"}  # stored under unit A
    response = reviewer.post("/api/v1/submissions", json={"kind": "target_review", "action": "submit", "data": review})
    assert response.status_code == 201, response.get_json()
    response = bureau_client.post(f"/api/v1/submissions/{mine['self_evaluation']['id']}/review",
                                  json={"action": "approve", "comment": ""})
    assert response.status_code == 200, response.get_json()
    _current(app)
    figures, validated = _from_table(app, settings, validations)
    assert validated == 0 and figures == _uncached_figures(app) and figures.reviews.count == 1

    # A setting that refuses both declarations: the first page validates again under it and
    # keeps what it found (refusals too); the next process reads all of it from the table.
    with app.extensions["jxdoc.db"].write() as session:
        session.add(SavedSettings(section="declaration", updated_at=dt.datetime(2030, 1, 1),
                                  values_json='{"indicators": {"min_quantified_ratio": "0.95"}}'))
    strict = _settings(app)
    assert str(strict["declaration"]["indicators"]["min_quantified_ratio"]) == "0.95"
    html = bureau_client.get(f"/statistics?year={YEAR}").get_data(as_text=True)
    assert _totals(html)["coverage.declared"] == "0" and 'data-refused-count="2"' in html
    _current(app)
    assert sorted(state for *_, state in _rows(app).values()).count("refused") == 2
    figures, validated = _from_table(app, strict, validations)
    assert validated == 0 and figures == _uncached_figures(app, load_settings(STRICT)) and "project" not in figures.indicators


def test_a_fresh_process_serves_the_page_without_validating(stored, bureau_client, world, validations):  # noqa: F811
    """A restarted service (a new app on the same database, nothing in memory) shows the same
    page from the table."""
    from service import create_app

    app = stored
    first = bureau_client.get(f"/statistics?year={YEAR}")
    assert first.status_code == 200
    records.FACTS_CACHE.clear()
    before = len(validations)
    fresh = create_app({**{k: app.config[k] for k in ("DATA_DIR", "DATABASE_URL", "SECRET_KEY")}, "TESTING": True,
                        "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_FAST": True})
    try:
        second = login(fresh, world, "bureau").get(f"/statistics?year={YEAR}")
        assert second.status_code == 200
        assert len(validations) == before
        assert _totals(second.get_data(as_text=True)) == _totals(first.get_data(as_text=True))
    finally:
        fresh.extensions["jxdoc.db"].dispose()


def test_stale_rows_are_replaced_never_read(stored, bureau_client, validations):  # noqa: F811
    """Rows of an older version, or from other code, are not read (their bodies here would fail
    if they were) and are overwritten by the reader with the current ones."""
    app = stored
    db = app.extensions["jxdoc.db"]
    ids = sorted(_counted(app))
    with db.write() as session:
        session.execute(update(DocumentFacts).where(DocumentFacts.submission_id == ids[0])
                        .values(version=DocumentFacts.version - 1, body_json='{"bogus": 1}'))
        session.execute(update(DocumentFacts).where(DocumentFacts.submission_id == ids[1])
                        .values(code_digest="0" * 64, body_json='{"bogus": 1}'))
        session.execute(delete(DocumentFacts).where(DocumentFacts.submission_id == ids[2]))
    figures, validated = _from_table(app, _settings(app), validations)
    assert validated == 3 and figures == _uncached_figures(app)
    _current(app)
    assert _from_table(app, _settings(app), validations)[1] == 0


def test_the_bodies_read_back_equal():
    """Decimals and tuples survive the JSON of a row: what the table gives back equals what the
    validation made."""
    from decimal import Decimal

    value = {"a": Decimal("1.50"), "b": (1, "x", Decimal("0")), "c": [{"d": None, "e": True}]}
    assert stored_facts.decode(stored_facts.encode(value)) == value
    with pytest.raises(TypeError):
        stored_facts.encode({"f": 1.5})


@pytest.mark.slow
@pytest.mark.postgres
def test_the_facts_on_postgresql(tmp_path, validations):
    """The same upsert on PostgreSQL: written by a submit, filled by the reader, and a reader's
    row of an older version never overwrites a newer one."""
    from service import create_app
    from storage.migrate import upgrade
    from tests.conftest import World
    from tests.servers import postgres_server

    with postgres_server() as url:
        upgrade(url)
        app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "DATABASE_URL": url, "SECRET_KEY": "test",
                          "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_FAST": True})
        db = app.extensions["jxdoc.db"]
        try:
            world = World(app)
            response = login(app, world, "clerk_a").post("/api/v1/submissions", json={
                "kind": "target_declaration", "action": "submit",
                "data": {**load_sample("target_declaration"), "year": YEAR}})
            assert response.status_code == 201, response.get_json()
            _current(app)
            settings = _settings(app)
            figures, validated = _from_table(app, settings, validations)
            assert validated == 0 and figures.indicators["project"].declarations == 1
            with db.write() as session:
                session.execute(delete(DocumentFacts))
            figures, validated = _from_table(app, settings, validations)
            assert validated == 1 and figures == _uncached_figures(app, settings)
            _current(app)
            (sid, version) = next(iter(_counted(app).items()))
            with db.write() as session:
                stored_facts.store(session, [{"submission_id": sid, "version": version - 1, "settings_digest": "x",
                                              "state": "year", "year": "1999", "body_json": None}])
            _current(app)
        finally:
            db.dispose()
