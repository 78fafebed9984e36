"""Every kind's samples, from the registry: each kind has a valid sample and at least three invalid
ones; every valid sample validates and renders in each of the kind's formats; every invalid sample
fails with exactly the errors it expects. Per-kind test modules keep only what is particular to
their kind."""

from __future__ import annotations

import json

import pytest

import kinds
from forms.base import FieldErrors
from kinds import pipeline

MAGIC = {"docx": b"PK", "xlsx": b"PK", "ofd": b"PK", "pdf": b"%PDF-", "html": b"<"}


def _cases(invalid: bool):
    return [pytest.param(kind, path, id=f"{kind.id}/{path.stem}") for kind in kinds.all_kinds()
            for path in (kind.invalid_samples() if invalid else kind.samples())]


@pytest.mark.parametrize("kind", kinds.all_kinds(), ids=lambda k: k.id)
def test_each_kind_has_samples(kind):
    assert kind.samples(), f"no valid sample for {kind.id}"
    assert len(kind.invalid_samples()) >= 3, f"fewer than 3 invalid samples for {kind.id}"


@pytest.mark.parametrize(("kind", "path"), _cases(invalid=False))
def test_valid_sample_validates_and_renders_in_every_format(kind, path):
    data = pipeline.validate(kind, json.loads(path.read_text(encoding="utf-8")))
    for fmt in kind.formats:
        content = pipeline.render(kind, data, fmt)
        assert content.startswith(MAGIC[fmt]) and len(content) > 1000, (fmt, content[:20])


@pytest.mark.parametrize(("kind", "path"), _cases(invalid=True))
def test_invalid_sample_gives_exactly_its_errors(kind, path):
    case = json.loads(path.read_text(encoding="utf-8"))
    assert set(case) == {"description", "input", "expected_errors"}
    with pytest.raises(FieldErrors) as exc:
        pipeline.validate(kind, case["input"])
    assert exc.value.errors == case["expected_errors"]
