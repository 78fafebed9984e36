"""A submission is stored as the clerk typed it; every reader of stored documents (statistics,
the disclosure batch) validates it again through its kind's schema (storage.records.stored_data)."""

from __future__ import annotations

import re
from decimal import Decimal as D

from jobs.batchkinds import disclosure as batch_disclosure
from kinds import pipeline
from storage.models import Submission
from storage.records import load_units
from tests.conftest import load_sample


def typed_table() -> dict:
    """The 自评表 sample with a thousands separator, as a hurried clerk types it."""
    payload = load_sample("self_evaluation")
    payload["budget"]["fiscal_appropriation"]["adjusted_budget"] = "1,220.50"
    payload["budget"]["annual_total"]["adjusted_budget"] = "1,280.50"
    payload["budget"]["fiscal_appropriation"]["executed"] = "1,200"
    payload["budget"]["annual_total"]["executed"] = "1,253.60"
    return payload


def typed_report() -> dict:
    body = load_sample("disclosure")["report"]["body"].replace("（三）满意度情况", "(三)满意度情况")
    assert "(三)满意度情况" in body
    return {"year": 2023, "unit": "青溪县水利局", "report": {"title": "", "body": body}}


def submit(client, kind: str, data: dict) -> dict:
    resp = client.post("/api/v1/submissions", json={"kind": kind, "data": data, "action": "submit"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_stored_as_typed_and_read_validated(app, client):
    table, report = submit(client, "self_evaluation", typed_table()), submit(client, "disclosure", typed_report())
    db = app.extensions["jxdoc.db"]
    with db.read() as session:
        rows = {s.kind: s.data for s in session.query(Submission)}
    # What is stored is the input as submitted.
    assert rows["self_evaluation"] == typed_table() and rows["disclosure"] == typed_report()
    assert client.get(f"/api/v1/submissions/{table['id']}").get_json()["data"] == typed_table()
    assert "(三)满意度情况" in client.get(f"/api/v1/submissions/{report['id']}").get_json()["data"]["report"]["body"]

    # Statistics read the validated figures: 1,253.60 of 1,280.50 万元, scored as the form scores it.
    expected = pipeline.validate("self_evaluation", typed_table())
    annual = expected["budget"]["annual_total"]
    assert (annual["adjusted_budget"], annual["executed"]) == (D("1280.50"), D("1253.60"))
    units = load_units(db, 2023)
    assert [e["score"] for u in units for e in u["self_evaluations"]] == [expected["scoring"]["total"]]

    # The disclosure batch publishes the normalised document: amounts read, headings as set.
    imported = batch_disclosure.from_stored(db, 2023)
    (unit,) = [u for u in imported.units if not u.errors]
    assert unit.data["project_evaluations"][0]["budget"]["annual_total"]["adjusted_budget"] == "1280.50"
    assert "（三）满意度情况" in unit.data["report"]["body"] and "(三)" not in unit.data["report"]["body"]
    assert unit.data["project_evaluations"][0]["budget"]["fiscal_appropriation"]["executed"] == "1200.00"


def test_the_disclosure_form_attaches_the_validated_table(client):
    """The 公开 form attaches the unit's stored 自评表 as validated again: normalised amounts, and
    not the clerk's confirmations of that table, which the 公开 document does not know."""
    confirmed = over_budget_table()
    warnings = client.post("/api/v1/documents/self_evaluation/validate", json=confirmed).get_json()["warnings"]
    submit(client, "self_evaluation", {**confirmed, "confirmations": {w["key"]: "" for w in warnings}})
    page = client.get("/forms/disclosure").get_data(as_text=True)
    option = re.search(r'name="project_evaluations" value="([^"]+)" checked', page).group(1)
    report = typed_report()
    resp = client.post("/forms/disclosure", data={
        "csrf_token": "", "action": "submit", "year": "2023", "unit": report["unit"],
        "report.title": "", "report.body": report["report"]["body"], "project_evaluations": ["", option]})
    assert resp.status_code == 302, re.findall(r'class="field-error"[^>]*>([^<]*)', resp.get_data(as_text=True))
    stored = [s for s in client.get("/api/v1/submissions").get_json() if s["kind"] == "disclosure"]
    data = client.get(f"/api/v1/submissions/{stored[0]['id']}").get_json()["data"]
    assert data["project_evaluations"][0]["budget"]["annual_total"]["executed"] == "1353.60"
    assert "confirmations" not in data["project_evaluations"][0]


def over_budget_table() -> dict:
    payload = typed_table()
    payload["budget"]["fiscal_appropriation"]["executed"] = "1,300"
    payload["budget"]["annual_total"]["executed"] = "1,353.60"
    return payload
