"""Fixtures of the signing tests: a CA and organ certificates made now, seal images drawn now,
organs registered in a temporary data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pki import issue, make_ca, seal_png

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "印章-test-2024"  # noqa: S105 - protects a key made for this test run


@pytest.fixture(scope="session")
def ca():
    return make_ca()


@pytest.fixture(scope="session")
def bureau_cert(ca):
    return issue(ca, "青溪县财政局")


@pytest.fixture(scope="session")
def settings():
    import kinds
    from rules.settings import defaults

    kinds.all_kinds()
    return defaults()


@pytest.fixture(scope="session")
def seal_image():
    return seal_png()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    path = tmp_path / "data"
    monkeypatch.setenv("JXDOC_DATA_DIR", str(path))
    return path


@pytest.fixture
def registered(data_dir, bureau_cert, seal_image, settings):
    """青溪县财政局 registered with a PKCS#12 key."""
    from storage import seals

    return seals.register(data_dir, "青溪县财政局", seal_image, settings, p12=bureau_cert.p12(PASSWORD),
                          password=PASSWORD, registered_by="test")


def sample(kind: str, name: str | None = None) -> dict:
    folder = ROOT / "samples" / kind
    path = folder / f"{name}.json" if name else sorted(folder.glob("*.json"))[0]
    return json.loads(path.read_text("utf-8"))


def render_pdf(kind: str, data: dict, settings, archival: bool = False) -> bytes:
    from kinds import pipeline

    return pipeline.produce(kind, data, "pdf", settings, archival=archival).content


@pytest.fixture
def register(data_dir, ca, seal_image, settings):
    """register(data) -> the document's signing organs, each registered with its own key."""
    from generators.gongwen.model import signing_organs
    from storage import seals

    def run(data: dict) -> list[str]:
        organs = signing_organs(data)
        for organ in organs:
            if seals.find(data_dir, organ) is None:
                seals.register(data_dir, organ, seal_image, settings, p12=issue(ca, organ).p12(PASSWORD),
                               password=PASSWORD, registered_by="test")
        return organs

    return run
