"""Smoke test of the 公文 samples: every valid sample validates and fills two pages, every invalid
sample fails with exactly its expected errors. (The full sample test over all kinds lives elsewhere.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kinds import pipeline

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
KINDS = ("request", "report", "opinion", "notice", "letter")
MIN_BODY_CHARS = 1300  # two A4 pages at 22 lines × 28 characters, after the 版头 on page 1


def _load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _cases(sub: str):
    return [
        pytest.param(kind, path, id=f"{kind}/{path.stem}")
        for kind in KINDS
        for path in sorted((SAMPLES / kind / sub).glob("*.json"))
    ]


@pytest.mark.parametrize(("kind", "path"), _cases("."))
def test_valid_sample(kind, path):
    data = pipeline.validate(kind, _load(path))
    body_chars = len(re.sub(r"\s", "", data["body"]))
    assert body_chars >= MIN_BODY_CHARS, f"body has {body_chars} characters"

