"""Shared fixtures: an app on its own temporary database, its client, and the CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app(tmp_path):
    from service import create_app
    from service.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    upgrade(url)
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "DATABASE_URL": url, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["jxdoc.db"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner():
    return CliRunner()


def load_sample(kind_id: str, name: str | None = None) -> dict:
    import kinds

    paths = kinds.get(kind_id).samples()
    if name:
        paths = [p for p in paths if p.stem == name]
    return json.loads(paths[0].read_text(encoding="utf-8"))
