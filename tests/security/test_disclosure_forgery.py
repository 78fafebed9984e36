"""Issue 16, finding 1: a department reviewer replaced another department's unit's public disclosure
by submitting a `disclosure` whose data named that unit; the batch took the unit from the payload
and the newest document won.

Now a document's unit is the stored submission's unit: a clerk's is her unit, another author's is
the unit her payload names only when that unit is in her scope (else 403, nothing stored), and the
disclosure batch reads units from the stored unit, never from the payload.
"""

from __future__ import annotations

import copy

from tests.conftest import load_sample, login

YEAR = 2023
FORGED = "本单位决定将全部预算资金用于购置豪华轿车。"


def _disclosure(unit: str, code: str, text: str = "") -> dict:
    data = copy.deepcopy(load_sample("disclosure"))
    data.update({"year": YEAR, "unit": unit, "unit_code": code})
    data["report"]["body"] = data["report"]["body"].replace("青溪县水利局", unit) + text
    return data


def _submit(client, data):
    return client.post("/api/v1/submissions", json={"kind": "disclosure", "action": "submit", "data": data})


def _subs(app):
    from storage.models import Submission

    with app.extensions["jxdoc.db"].read() as session:
        return [(s.kind, s.unit_id, s.created_by_id) for s in session.query(Submission).order_by(Submission.id)]


def test_a_reviewer_cannot_file_for_another_departments_unit(app, world):
    clerk_b, reviewer = login(app, world, "clerk_b"), login(app, world, "reviewer")
    assert _submit(clerk_b, _disclosure("青溪县人民医院", "B001")).status_code == 201
    resp = _submit(reviewer, _disclosure("青溪县人民医院", "B001", FORGED))
    assert resp.status_code == 403
    assert "青溪县人民医院" in resp.get_json()["message"]
    assert _subs(app) == [("disclosure", world.unit_b, world.users["clerk_b"])]
    # nor by saving a draft, nor by naming the unit by its name only
    data = _disclosure("青溪县人民医院", "", FORGED)
    del data["unit_code"]
    resp = reviewer.post("/api/v1/submissions", json={"kind": "disclosure", "action": "save", "data": data})
    assert resp.status_code == 403
    assert len(_subs(app)) == 1


def test_the_batch_publishes_the_units_own_text(app, world):
    from jobs.batchkinds import disclosure
    from storage.models import Submission

    clerk_b = login(app, world, "clerk_b")
    assert _submit(clerk_b, _disclosure("青溪县人民医院", "B001")).status_code == 201
    # a forged row as the old code stored it: no unit, the payload naming unit B (newest)
    db = app.extensions["jxdoc.db"]
    with db.write() as session:
        sub = Submission(kind="disclosure", unit_id=None, status="submitted", title="x",
                         created_by_id=world.users["reviewer"])
        sub.data = _disclosure("青溪县人民医院", "B001", FORGED)
        session.add(sub)
    imported = disclosure.from_stored(db, YEAR, {})
    (unit_b,) = [u for u in imported.units if u.code == "B001"]  # every registered unit is listed
    assert FORGED not in unit_b.data["report"]["body"] and "青溪县人民医院" in unit_b.data["report"]["body"]
    assert unit_b.data["unit"] == "青溪县人民医院"
    assert all(FORGED not in str(u.data) for u in imported.units)


def test_a_reviewer_may_file_for_a_unit_in_her_department_and_keep_editing_it(app, world):
    reviewer = login(app, world, "reviewer")
    data = _disclosure("青溪县第一中学", "A001")
    resp = reviewer.post("/api/v1/submissions", json={"kind": "disclosure", "action": "save", "data": data})
    assert resp.status_code == 201
    assert _subs(app) == [("disclosure", world.unit_a, world.users["reviewer"])]
    body = resp.get_json()
    resp = reviewer.put(f"/api/v1/submissions/{body['id']}",
                        json={"action": "submit", "data": data, "version": body["version"]})
    assert resp.status_code == 200 and resp.get_json()["status"] == "submitted"
    # and cannot move it to another department's unit
    other = login(app, world, "reviewer")
    resp = other.post("/api/v1/submissions", json={"kind": "disclosure", "action": "save",
                                                   "data": _disclosure("青溪县第一中学", "A001")})
    sub_id = resp.get_json()["id"]
    resp = other.put(f"/api/v1/submissions/{sub_id}", json={
        "action": "save", "data": _disclosure("青溪县人民医院", "B001"), "version": resp.get_json()["version"]})
    assert resp.status_code == 403


def test_a_clerks_document_is_her_units_whatever_it_names(app, world):
    clerk_a = login(app, world, "clerk_a")
    assert _submit(clerk_a, _disclosure("青溪县人民医院", "B001", FORGED)).status_code == 201
    assert _subs(app) == [("disclosure", world.unit_a, world.users["clerk_a"])]
