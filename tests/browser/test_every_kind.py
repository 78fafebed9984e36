"""Issue 17 acceptance: every kind of the registry is filled and submitted in the browser.

For each kind a clerk (the finance bureau for the bureau's kinds) opens the blank form, types the
kind's sample into the page's own controls (adds rows, ticks boxes, picks options), previews
(page images), submits, and the stored document renders with the sample's text in it. The same
again with every optional number of the sample left empty, and a rate typed with “%”. Then a
disclosure batch read from the stored data finds the clerk's report and 自评表s.
"""

from __future__ import annotations

import copy
import io
import json
import re
import subprocess
import zipfile

import pytest
from marshmallow import fields

import kinds
from forms import fields as jf
from forms.base import FieldErrors
from kinds import pipeline
from rules.settings import defaults

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

# The bureau's own documents (公文, summaries, evaluations it commissions, reviews).
BUREAU_KINDS = {"request", "report", "opinion", "notice", "letter", "monitoring_summary", "public_funds_assessment",
                "result_application", "evaluation_report", "department_evaluation_report", "ex_ante_assessment",
                "target_review"}
# The 自评表s first: the 公开 form attaches them.
ORDER = ["self_evaluation", "department_self_evaluation"]
KIND_IDS = ORDER + [k.id for k in kinds.all_kinds() if k.id not in ORDER]
SETTINGS = defaults()


def sample(kind_id: str) -> dict:
    return json.loads(kinds.get(kind_id).samples()[0].read_text(encoding="utf-8"))


def _nested(f):
    nested = f.inner.nested if isinstance(f, fields.List) else f.nested
    return nested() if isinstance(nested, type) else nested


def _is_optional_number(f) -> bool:
    return isinstance(f, jf.Money) and not f.required and f.allow_none


def without_optional_numbers(kind_id: str, data: dict) -> tuple[dict, int]:
    """The sample with every optional number (调整后预算数, 分值, 得分 …) taken out that the kind
    accepts without it, and how many were taken out."""
    kind = kinds.get(kind_id)
    schema = kind.schema_instance(settings=SETTINGS)
    paths: list[tuple] = []

    def walk(schema, node, path):
        for key, value in (node or {}).items():
            f = schema.fields.get(key)
            if f is None or value is None:
                continue
            if _is_optional_number(f):
                paths.append((*path, key))
            elif isinstance(f, fields.Nested) and isinstance(value, dict):
                walk(_nested(f), value, (*path, key))
            elif isinstance(f, fields.List) and isinstance(f.inner, fields.Nested) and isinstance(value, list):
                for i, row in enumerate(value):
                    walk(_nested(f), row, (*path, key, i))

    walk(schema, data, ())
    result, removed = copy.deepcopy(data), 0
    for path in paths:
        trial = copy.deepcopy(result)
        node = trial
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]
        try:
            pipeline.validate(kind, trial, SETTINGS)
        except FieldErrors:
            continue
        result, removed = trial, removed + 1
    return result, removed


# --------------------------------------------------------------------------- filling the page

def fill(page, schema, data: dict, prefix: str = "") -> None:
    """Type `data` into the form through its controls, as a clerk would."""
    for key, value in data.items():
        f = schema.fields[key]
        name = f"{prefix}{key}"
        if value is None or f.metadata.get("attach"):
            continue  # attached documents: the page chooses the unit's own (checked by the caller)
        if isinstance(f, fields.Nested):
            fill(page, _nested(f), value, name + ".")
        elif isinstance(f, fields.List) and isinstance(f.inner, fields.Nested):
            box = page.locator(f'fieldset.group[data-path="{name}"]')
            for i, row in enumerate(value):
                while box.locator(":scope > .rows > .row").count() <= i:
                    box.locator(":scope > button.add-row").click()
                fill(page, _nested(f), row, f"{name}.{i}.")
        elif isinstance(f, fields.Dict):
            for code, text in value.items():
                page.locator(f'[name="{name}.{code}"]').fill(str(text))
        elif isinstance(f, fields.List):
            items = value if isinstance(value, list) else str(value).splitlines()
            for i, item in enumerate(items):
                item_input = page.locator(f'input[name="{name}.{i}"]')
                if item_input.count() == 0:
                    page.locator(f'.list[data-path="{name}"] > button.add-item').click()
                item_input.fill(str(item))
        elif isinstance(f, fields.Boolean):
            page.locator(f'input[type=checkbox][name="{name}"]').set_checked(bool(value))
        elif f.metadata.get("multiple"):
            labels = f.metadata["choices"]
            items = value if isinstance(value, list) else re.split("[、，,]", value)
            for item in items:
                page.locator(f'fieldset.checks[data-path="{name}"] label.check',
                             has_text=labels.get(item, item)).locator("input").check()
        else:
            control = page.locator(f'[name="{name}"]')
            text = repr(value) if isinstance(value, float) else str(value)
            if control.evaluate("el => el.tagName") == "SELECT":
                values = control.locator("option").evaluate_all("os => os.map(o => o.value)")
                control.select_option(value=text) if text in values else control.select_option(label=text)
            else:
                control.fill(text)


def click_and_wait(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def document_text(data: bytes, fmt: str) -> str:
    if fmt == "pdf":  # poppler reads every font the PDFs embed (pypdf misreads a custom-encoded CID font)
        return flat(subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if n.endswith(".xml")]
        return flat(re.sub(r"<[^>]+>", "", "".join(archive.read(n).decode("utf-8") for n in names)))


def landmark(data: dict) -> str:
    """A text of the sample the rendered document must show."""
    for key in ("project_name", "title", "unit", "department", "area", "region", "finance_bureau"):
        value = data.get(key)
        if isinstance(value, dict):
            value = value.get("name")
        if isinstance(value, str) and value.strip():
            return flat(value)[:14]
    raise AssertionError(f"no landmark text in {sorted(data)}")


def submit_from_page(actor, kind_id: str, data: dict, tmp_path, label: str) -> str:
    """Fill, preview, submit; the stored document renders. Returns the submission's url."""
    kind = kinds.get(kind_id)
    page = actor("bureau" if kind_id in BUREAU_KINDS else "clerk_a")
    page.goto(f"/forms/{kind_id}")
    assert page.inner_text("h1") == kind.name
    fill(page, kind.schema_instance(settings=SETTINGS), data)

    click_and_wait(page, page.get_by_role("button", name="预览", exact=True))
    assert page.locator("#error-summary").count() == 0, page.inner_text("#error-summary")
    preview = page.locator("section.preview")
    if "pdf" in kind.formats:
        assert preview.locator("img").count() >= 1
        assert preview.locator("img").first.evaluate("img => img.naturalWidth") > 300
    else:
        assert "内容完整" in preview.inner_text()
    page.screenshot(path=str(tmp_path / f"{kind_id}-{label}-preview.png"), full_page=False)

    click_and_wait(page, page.get_by_role("button", name="提交", exact=True))
    match = re.search(r"/submissions/([^/?#]+)$", page.url)
    summary = page.inner_text("#error-summary") if page.locator("#error-summary").count() else ""
    assert match, f"{kind_id}: not submitted: {summary}"
    assert page.inner_text("#status").strip() == "已提交"
    url = f"/submissions/{match.group(1)}"

    fmt = "pdf" if "pdf" in kind.formats else kind.formats[0]
    response = page.context.request.get(f"{url}/download.{fmt}")
    assert response.status == 200, (kind_id, response.status)
    assert landmark(data) in document_text(response.body(), fmt), (kind_id, landmark(data))
    assert page.js_errors == [], page.js_errors
    return url


@pytest.mark.parametrize("kind_id", KIND_IDS)
def test_kind_filled_and_submitted_from_its_sample(kind_id, actor, live_server, tmp_path):
    submit_from_page(actor, kind_id, sample(kind_id), tmp_path, "sample")


OPTIONAL_NUMBER_KINDS = [k for k in KIND_IDS if without_optional_numbers(k, sample(k))[1]]


@pytest.mark.parametrize("kind_id", OPTIONAL_NUMBER_KINDS)
def test_kind_submitted_with_optional_numbers_empty(kind_id, actor, live_server, tmp_path):
    data, removed = without_optional_numbers(kind_id, sample(kind_id))
    assert removed
    submit_from_page(actor, kind_id, data, tmp_path, "sparse")


def test_rate_typed_with_percent_sign_and_causes_ticked(actor, live_server, tmp_path):
    """监控表: 96.4% typed for a % indicator, empty 调整后预算数 and 分值, two causes ticked; the
    document is stored as typed and its validated data holds the number and both causes."""
    data = sample("monitoring")
    row = next(r for r in data["indicators"] if "%" in str(r.get("target_value")))
    row["actual_value"] = "96.4%"
    for line in data["funds"].values():
        line.pop("adjusted_budget", None)
    for r in data["indicators"]:
        r.pop("weight", None)
    unsure = next(r for r in data["indicators"] if r.get("completion_likelihood") != "确定能")
    unsure["deviation_causes"] = ["经费保障", "人员保障"]
    url = submit_from_page(actor, "monitoring", data, tmp_path, "percent")
    with live_server.app.app_context():
        from storage.models import Submission
        from storage.records import stored_data

        with live_server.app.extensions["jxdoc.db"].read() as session:
            submission = session.query(Submission).filter_by(public_id=url.rsplit("/", 1)[1]).one()
            typed, stored = submission.data, stored_data(submission)
    assert next(r for r in typed["indicators"] if r["name"] == row["name"])["actual_value"] == "96.4%"
    got = next(r for r in stored["indicators"] if r["name"] == row["name"])
    assert got["actual_value"] == "96.4"
    assert all(line.get("adjusted_budget") is None for line in stored["funds"].values())
    assert all(r.get("weight") is None for r in stored["indicators"])
    got = next(r for r in stored["indicators"] if r["name"] == unsure["name"])
    assert got["deviation_causes"] == ["funding", "staffing"]


def test_disclosure_batch_from_stored_data_finds_the_clerks_tables(actor, live_server, tmp_path):
    """After the clerk submitted her 自评表s and 公开 material through the pages, the disclosure
    batch read from stored data publishes her unit with its report and tables."""
    from jobs.batchkinds import disclosure as disclosure_batch

    for kind_id in ("self_evaluation", "department_self_evaluation"):
        submit_from_page(actor, kind_id, sample(kind_id), tmp_path, "batch")
    clerk = actor("clerk_a")
    clerk.goto("/forms/disclosure")
    attached = clerk.locator('fieldset.checks[data-path="project_evaluations"] input[type=checkbox]')
    assert attached.count() >= 1 and all(attached.nth(i).is_checked() for i in range(attached.count()))
    assert clerk.locator('select[name="department_evaluation"]').input_value()  # the newest, chosen
    submit_from_page(actor, "disclosure", sample("disclosure"), tmp_path, "batch")

    with live_server.app.app_context():
        imported = disclosure_batch.from_stored(live_server.app.extensions["jxdoc.db"], 2023)
    unit = next(u for u in imported.units if u.code == "A001")
    silent = next(u for u in imported.units if u.code == "B001")  # filed nothing: listed all the same
    assert silent.errors and silent.errors[0].startswith("未提交材料")
    payload = unit.data
    assert payload["report"]["body"].startswith("一、部门基本情况")
    assert payload["department_evaluation"] and payload["project_evaluations"]
    pdf = pipeline.produce("disclosure", payload, "pdf", SETTINGS).content
    text = document_text(pdf, "pdf")
    assert flat(sample("self_evaluation")["project_name"]) in text
    assert "部门整体支出绩效自评表" in text
