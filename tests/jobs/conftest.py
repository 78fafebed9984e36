"""Fixtures of the batch tests: a migrated database of its own, job settings with short leases,
and a real Redis server for the Celery path."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from tests.servers import redis_server


@pytest.fixture
def job_db(tmp_path):
    from storage.db import Database
    from storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade(url)
    db = Database(url)
    yield db
    db.dispose()


@pytest.fixture
def job_config(job_db, tmp_path):
    from jobs.runner import JobConfig

    return JobConfig(database_url=job_db.url, data_dir=str(tmp_path / "data"), lease_seconds=2, chunk=4,
                     processes=1, max_attempts=3)


@pytest.fixture
def redis_url(tmp_path):
    """A real redis-server on a free port, without persistence. Missing binary: the fixture
    fails with the message of tests.servers (the set-up installs redis-server)."""
    with redis_server(tmp_path) as url:
        yield url


def workbook(sheets: dict[str, list[list]], formula: bool = False) -> bytes:
    """An .xlsx with the given sheets and rows (first row: headers). Text starting with “=” is
    stored as text, as a clerk's typed-in text cell is (formulas are tested with `formula=`)."""
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith("=") and not formula:
                    cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
