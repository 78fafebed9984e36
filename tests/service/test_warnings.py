"""Warnings beside errors, shown the same way by the API, the web form and the command line;
confirmed warnings kept with the document and shown to the reviewer."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kinds import pipeline
from service.cli import main
from tests.conftest import load_sample, login


def over_budget() -> dict:
    """A 自评表 whose 执行数 exceeds its 全年预算数 on two rows (the sums still agree)."""
    payload = load_sample("self_evaluation")
    payload["budget"]["fiscal_appropriation"]["executed"] = "900"
    payload["budget"]["annual_total"]["executed"] = "953.60"
    return payload


# A warning's key names its field, its check and (a digest of) the figures it states.
OVER_KEY, SUB_KEY = (w["key"] for w in pipeline.check("self_evaluation", over_budget()).warnings)
assert OVER_KEY.startswith("budget.annual_total.executed:over_budget:")
assert SUB_KEY.startswith("budget.fiscal_appropriation.executed:over_budget:")


def test_api_validate_lists_warnings_beside_the_data(client):
    body = client.post("/api/v1/documents/self_evaluation/validate", json=over_budget()).get_json()
    assert [(w["key"], w["confirmed"]) for w in body["warnings"]] == [(OVER_KEY, False), (SUB_KEY, False)]
    assert body["warnings"][0]["message"].startswith("年度资金总额的执行数953.60万元大于预算数920.00万元（执行率103.65%）")
    assert body["computed"]["scoring"]["total"]


def test_api_render_and_submit_refuse_unconfirmed_warnings(client):
    resp = client.post("/api/v1/documents/self_evaluation?format=xlsx", json=over_budget())
    body = resp.get_json()
    assert resp.status_code == 422 and body["errors"] == {} and body["error_count"] == 0
    assert body["message"].startswith("有需要核对的数字")
    assert [w["key"] for w in body["warnings"]] == [OVER_KEY, SUB_KEY]
    resp = client.post("/api/v1/submissions", json={"kind": "self_evaluation", "data": over_budget(), "action": "submit"})
    assert resp.status_code == 422 and len(resp.get_json()["warnings"]) == 2
    assert client.get("/api/v1/submissions").get_json() == []
    # an error envelope always has the warnings list
    bad = client.post("/api/v1/documents/self_evaluation/validate", json={**over_budget(), "year": "x"}).get_json()
    assert bad["warnings"] == [] and "year" in bad["errors"]


def test_confirmed_warnings_are_stored_and_shown_to_the_reviewer(app, world, client):
    payload = {**over_budget(), "confirmations": {OVER_KEY: "追加预算60万元，批复尚未录入。", SUB_KEY: ""}}
    resp = client.post("/api/v1/submissions", json={"kind": "self_evaluation", "data": payload, "action": "submit"})
    assert resp.status_code == 201, resp.get_json()
    sub = resp.get_json()
    assert sub["data"]["confirmations"] == {OVER_KEY: "追加预算60万元，批复尚未录入。", SUB_KEY: ""}
    reviewer = login(app, world, "reviewer")
    got = reviewer.get(f"/api/v1/submissions/{sub['id']}").get_json()
    assert [(w["key"], w["confirmed"], w["explanation"]) for w in got["warnings"]] == [
        (OVER_KEY, True, "追加预算60万元，批复尚未录入。"), (SUB_KEY, True, "")]
    page = reviewer.get(f"/submissions/{sub['id']}").get_data(as_text=True)
    assert "填报单位已核对的数字" in page and "已确认，说明：追加预算60万元，批复尚未录入。" in page
    assert "已确认（未说明原因）" in page
    # the stored document downloads without asking again
    assert reviewer.get(f"/api/v1/submissions/{sub['id']}/document?format=xlsx").data[:2] == b"PK"


def test_web_form_asks_and_takes_the_confirmation(client):
    form = {"csrf_token": "", "action": "xlsx"}

    def post(extra):
        data = {**form, **flat(over_budget()), **extra}
        return client.post("/forms/self_evaluation", data=data)

    resp = post({})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "需要核对的数字" in page
    assert f'name="confirm" value="{OVER_KEY}"' in page and f'name="explain:{OVER_KEY}"' in page
    assert "年度资金总额的执行数953.60万元大于预算数920.00万元" in page
    resp = post({"confirm": [OVER_KEY, SUB_KEY], f"explain:{OVER_KEY}": "追加预算"})
    assert resp.status_code == 200 and resp.data[:2] == b"PK"


def flat(payload, prefix=""):
    """A nested payload as the form posts it (dotted names)."""
    out = {}
    if isinstance(payload, dict):
        for key, value in payload.items():
            out.update(flat(value, f"{prefix}{key}."))
    elif isinstance(payload, list):
        for i, value in enumerate(payload):
            out.update(flat(value, f"{prefix}{i}."))
    else:
        out[prefix[:-1]] = "" if payload is None else str(payload).lower() if isinstance(payload, bool) else str(payload)
    return out


def test_cli_prints_warnings_like_errors(tmp_path):
    source = tmp_path / "in.json"
    source.write_text(json.dumps(over_budget(), ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out.xlsx"
    result = CliRunner().invoke(main, ["render", "self_evaluation", str(source), "-o", str(out)])
    assert result.exit_code == 1 and not out.exists()
    assert "有需要核对的数字" in result.output
    assert "  budget.annual_total.executed：年度资金总额的执行数953.60万元大于预算数920.00万元" in result.output
    assert f"  {OVER_KEY}" in result.output
    source.write_text(json.dumps({**over_budget(), "confirmations": [OVER_KEY, SUB_KEY]}, ensure_ascii=False),
                      encoding="utf-8")
    result = CliRunner().invoke(main, ["render", "self_evaluation", str(source), "-o", str(out)])
    assert result.exit_code == 0 and out.read_bytes()[:2] == b"PK"


def test_validate_and_submit_compare_with_the_units_previous_period(client):
    """The rate check reads the unit's stored earlier period of the same project."""
    earlier = load_sample("monitoring")  # 1-6月, 执行率 55.74 %
    earlier["period"] = "1-3月"
    earlier["funds"]["annual_total"]["executed"] = "1200.00"  # 95.24 % by March
    earlier["funds"]["fiscal_appropriation"]["executed"] = "1100.00"
    earlier["funds"]["other_funds"]["executed"] = "100.00"
    resp = client.post("/api/v1/submissions", json={"kind": "monitoring", "data": earlier, "action": "submit"})
    assert resp.status_code == 201, resp.get_json()
    body = client.post("/api/v1/documents/monitoring/validate", json=load_sample("monitoring")).get_json()
    assert [(w["path"], w["code"]) for w in body["warnings"]] == [("funds.annual_total.executed", "rate_fell")]
    assert "低于上期（1-3月）的95.24%" in body["warnings"][0]["message"]
    resp = client.post("/api/v1/submissions", json={"kind": "monitoring", "data": load_sample("monitoring"),
                                                    "action": "submit"})
    assert resp.status_code == 422 and resp.get_json()["warnings"][0]["code"] == "rate_fell"


def test_a_returned_document_keeps_its_confirmations_until_the_figure_changes(app, world, client):
    explanation = "追加预算60万元，批复尚未录入。"
    payload = {**over_budget(), "confirmations": {OVER_KEY: explanation, SUB_KEY: ""}}
    sub = client.post("/api/v1/submissions", json={"kind": "self_evaluation", "data": payload, "action": "submit"})
    pid = sub.get_json()["id"]
    bureau = login(app, world, "bureau")
    assert bureau.post(f"/api/v1/submissions/{pid}/review", json={"action": "return", "comment": "请补充"}).status_code == 200
    # The API's stored form and the web form both carry the confirmations and their 说明.
    assert client.get(f"/api/v1/submissions/{pid}").get_json()["data"]["confirmations"] == payload["confirmations"]
    page = client.get(f"/forms/self_evaluation?draft={pid}").get_data(as_text=True)
    assert f'name="confirm" value="{OVER_KEY}" checked' in page and f'name="confirm" value="{SUB_KEY}" checked' in page
    assert f'name="explain:{OVER_KEY}" value="{explanation}"' in page
    # The clerk changes the 执行数: the warning states another figure and is asked again.
    changed = over_budget()
    changed["budget"]["fiscal_appropriation"]["executed"] = "910"
    changed["budget"]["annual_total"]["executed"] = "963.60"
    version = client.get(f"/api/v1/submissions/{pid}").get_json()["version"]
    resp = client.post("/forms/self_evaluation", data={
        "csrf_token": "", "action": "submit", "draft": pid, "version": str(version), **flat(changed),
        "confirm": [OVER_KEY, SUB_KEY], f"explain:{OVER_KEY}": explanation})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "年度资金总额的执行数963.60万元大于预算数920.00万元" in page
    assert 'checked>' not in page.split('id="warnings"')[1].split("</fieldset>")[0]
