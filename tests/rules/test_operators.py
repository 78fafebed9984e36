"""One operator reader for every form: a spelling one form accepts, all accept, with the same
meaning (issue 15: “≧” and “==” were scored by the 自评表 and refused by the 监控表)."""

import copy

import pytest

from kinds import pipeline
from rules.operators import normalise_operator
from tests.conftest import load_sample

SPELLINGS = [("≥", "≥"), ("≧", "≥"), (">=", "≥"), ("＞＝", "≥"), ("> =", "≥"), (">", "≥"), ("不低于", "≥"),
             ("≤", "≤"), ("≦", "≤"), ("<=", "≤"), ("＜", "≤"), ("不超过", "≤"),
             ("=", "="), ("==", "="), ("＝", "="), ("等于", "="), ("定性", "定性")]


@pytest.mark.parametrize("written, meant", SPELLINGS)
def test_every_spelling_reads_the_same(written, meant):
    assert normalise_operator(written) == meant


@pytest.mark.parametrize("written", ["", None, "约", "≥≥", "大约"])
def test_unknown_or_blank(written):
    assert normalise_operator(written) is None


@pytest.mark.parametrize("written", ["≧", "==", ">=", "＞＝", "不低于"])
@pytest.mark.parametrize("kind, rows", [
    ("self_evaluation", lambda p: p["indicators"]),
    ("monitoring", lambda p: p["indicators"]),
    ("department_monitoring", lambda p: p["indicators"]),
    ("target_declaration", lambda p: p["indicators"]["annual"]),
])
def test_every_form_accepts_the_same_spellings(kind, rows, written):
    sample = load_sample(kind)
    row = next(r for r in rows(sample) if r.get("operator") == "≥")
    index = rows(sample).index(row)
    changed = copy.deepcopy(sample)
    rows(changed)[index]["operator"] = written
    meant = normalise_operator(written)
    if meant != "≥":  # “==”: the row now asks for exactly the target; still a valid form
        rows(sample)[index]["operator"] = meant
        if "actual_value" in row:
            rows(changed)[index]["actual_value"] = rows(sample)[index]["actual_value"] = row["target_value"]
    got = pipeline.validate(kind, changed)
    expected = pipeline.validate(kind, sample)
    assert pipeline.computed(kind, got) == pipeline.computed(kind, expected)


@pytest.mark.parametrize("written", ["≧", "==", "≦", "不低于"])
def test_the_rule_modules_read_operators_alike(written):
    """The scoring and monitoring rules, called on rows that did not pass a form (the batch
    importer's rows, stored data), read the same spellings."""
    from rules import monitoring, scoring

    assert scoring.normalize_operator(written) == normalise_operator(written)
    row = {"name": "培训人次", "operator": written, "target_value": "100", "measure_unit": "人次",
           "actual_value": "100", "completion_likelihood": "certain"}
    assert monitoring.check_monitoring_indicators([row]) == {}
    assert monitoring.target_completion_rate([row]) == 1
