"""What the service stores re-validates: for every kind, the stored (normalised) form of a sample,
even one that still carries the computed block, validates to the same data and figures."""

from __future__ import annotations

import json

import pytest

import kinds
from kinds import pipeline
from rules.settings import deep_merge, defaults
from storage.models import dumps


def stored_form(kind, data) -> dict:
    return json.loads(dumps(kind.schema_instance(settings=defaults()).dump(data)))


@pytest.mark.parametrize("kind", [k for k in kinds.all_kinds() if k.samples()], ids=lambda k: k.id)
def test_stored_form_validates_to_the_same_figures(kind):
    data = pipeline.validate(kind, json.loads(kind.samples()[0].read_text("utf-8")))
    stored = stored_form(kind, data)
    again = pipeline.validate(kind, stored)
    assert stored_form(kind, again) == stored
    assert pipeline.computed(kind, again) == pipeline.computed(kind, data)
    # A stored document that kept its computed figures (typed by nobody) validates the same.
    with_figures = deep_merge(stored, json.loads(dumps(pipeline.computed(kind, data))))
    assert pipeline.computed(kind, pipeline.validate(kind, with_figures)) == pipeline.computed(kind, data)
