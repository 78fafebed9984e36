"""Every sample of the 绩效目标 kinds: the valid ones validate, the invalid ones fail with exactly
their expected Chinese errors (field paths included)."""

from __future__ import annotations

import json

import pytest

import kinds
from kinds import pipeline

KINDS = ("target_declaration", "department_target_declaration", "target_review")


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _cases(invalid: bool):
    return [pytest.param(kind_id, path, id=f"{kind_id}/{path.stem}")
            for kind_id in KINDS
            for path in (kinds.get(kind_id).invalid_samples() if invalid else kinds.get(kind_id).samples())]


@pytest.mark.parametrize("kind_id", KINDS)
def test_each_kind_has_samples(kind_id):
    kind = kinds.get(kind_id)
    assert kind.samples()
    assert len(kind.invalid_samples()) >= 3


@pytest.mark.parametrize(("kind_id", "path"), _cases(False))
def test_valid_sample(kind_id, path):
    data = pipeline.validate(kind_id, _load(path))
    assert data["year"] == 2025

