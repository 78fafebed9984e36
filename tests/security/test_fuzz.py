"""Fuzzing (issue 9 item 11): the JSON API against its own OpenAPI document, and the xlsx import
path against mutated workbooks. Bounded and derandomised, so a CI run is short and repeatable.

API: schemathesis generates requests for every operation of /api/openapi.json (valid bodies and
bodies that break the schema), sent in-process to the WSGI app with the API token of a signed-in
user — the finance bureau and unit A's clerk. No answer may be a 5xx, and every 4xx JSON answer
is the project's envelope {"code", "status", "message", "errors"} with a Chinese message. Bodies
from the schema rarely pass the cross-field rules, so rendering is also fuzzed from each kind's
sample with one leaf replaced by a hostile value, in every format.

xlsx: the hardened reader, the batch importer (and the batch item work on the units a mutated row
reaches) and POST /api/v1/forms/<kind>/import get the batch sample workbook and the blank and
sample-filled declaration forms with edited cells, edited XML parts or damaged bytes
(tests/security/fuzz_xlsx.py). Each returns data or the project's own error with Chinese messages.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile

import openpyxl
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from service.openapi import build_spec
from tests.conftest import ROOT, World, load_sample
from tests.security import fuzz_xlsx as fx

pytestmark = pytest.mark.slow

CJK = re.compile(r"[\u4e00-\u9fff]")
API_EXAMPLES = 20  # per operation, role and generation mode

FUZZ_SETTINGS = settings(
    max_examples=API_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI failures reproduce
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


def _cases() -> list:
    """(operation label, generation mode, role) triples. Negative data only where there is an
    input to break (a body or parameters; GET /api/v1/kinds has none). The documents operations
    answer every signed-in user alike, so they run once, as unit A's clerk; the submissions
    (stored per unit, written only by authors) and the kinds run as the clerk and the bureau."""
    out = []
    for path, item in build_spec()["paths"].items():
        roles = ("clerk_a",) if path.startswith("/api/v1/documents/") else ("clerk_a", "bureau")
        for method, operation in item.items():
            label = f"{method.upper()} {path}"
            modes = [GenerationMode.POSITIVE]
            if operation.get("requestBody") or operation.get("parameters"):
                modes.append(GenerationMode.NEGATIVE)
            out += [pytest.param(label, mode, who, id=f"{label}-{mode.value}-{who}") for mode in modes for who in roles]
    return out


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """One app for the module (a fresh one per operation would cost a second each), its
    schemathesis schema, and a bearer token per role."""
    from service import create_app
    from service.sessions import create_api_token
    from storage.migrate import upgrade
    from storage.models import User

    tmp = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{tmp / 'fuzz.sqlite3'}"
    upgrade(url)
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp), "DATABASE_URL": url, "SECRET_KEY": "test",
                      "WTF_CSRF_ENABLED": True, "PASSWORD_HASH_FAST": True})
    world = World(app)
    tokens = {}
    with app.app_context():
        db = app.extensions["jxdoc.db"]
        with db.write() as session:
            for who in ("bureau", "clerk_a"):
                tokens[who] = create_api_token(session, session.get(User, world.users[who]), f"fuzz {who}")
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    yield schema, tokens
    app.extensions["jxdoc.db"].dispose()


def assert_envelope(response) -> None:
    """A 4xx JSON answer is the one error envelope, with a Chinese message."""
    if not 400 <= response.status_code < 500:
        return
    content_type = (response.headers.get("content-type") or [""])[0]  # lowercase keys, list values
    assert content_type.startswith("application/json"), (response.status_code, content_type, response.text[:300])
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"code", "status", "message", "errors", "error_count", "warnings"}, body
    assert body["code"] == response.status_code, body
    assert isinstance(body["status"], str) and body["status"], body
    assert isinstance(body["message"], str) and CJK.search(body["message"]), body
    assert isinstance(body["errors"], dict), body


@pytest.mark.parametrize(("label", "mode", "who"), _cases())
def test_api_operation_never_fails_on_the_server(api, label, mode, who):
    schema, tokens = api
    operation = schema.find_operation_by_label(label)
    assert operation is not None, label
    headers = {"Authorization": f"Bearer {tokens[who]}"}

    @FUZZ_SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error], headers=headers)
        assert_envelope(response)

    run()


# --------------------------------------------------------------------------- the xlsx import path

XLSX_EXAMPLES = 100  # per test
XLSX_SETTINGS = settings(FUZZ_SETTINGS, max_examples=XLSX_EXAMPLES)
BATCH_SAMPLE = ROOT / "samples" / "monitoring" / "batch_workbook.xlsx"
FORM_KINDS = ("target_declaration", "department_target_declaration")


def _form_seeds() -> dict[str, bytes]:
    """Per blank-form kind: the blank form, and the form generated from the kind's sample."""
    import kinds
    from generators import declaration as layout
    from generators.tables.xlsx import render_xlsx
    from kinds import pipeline
    from rules.settings import defaults

    seeds = {}
    for kind_id in FORM_KINDS:
        seeds[f"{kind_id}:blank"] = render_xlsx(layout.blank_workbook(kind_id, defaults()))
        seeds[f"{kind_id}:sample"] = pipeline.produce(kinds.get(kind_id), load_sample(kind_id), "xlsx", defaults()).content
    return seeds


@pytest.fixture(scope="module")
def seeds() -> dict[str, bytes]:
    return {"batch": BATCH_SAMPLE.read_bytes(), **_form_seeds()}


@pytest.fixture(scope="module")
def shapes(seeds) -> dict[str, dict[str, tuple[int, int]]]:
    return {name: fx.workbook_shape(data) for name, data in seeds.items()}


def assert_chinese(messages) -> None:
    assert messages, "an error without a message"
    for message in messages:
        assert isinstance(message, str) and CJK.search(message), message


@st.composite
def damage(draw, seeds: dict[str, bytes], names: list[str]) -> tuple[str, str, list]:
    """(seed name, "parts" | "bytes", edits): small, so a failing example prints readably."""
    name = draw(st.sampled_from(names))
    if draw(st.booleans()):
        return name, "parts", draw(fx.part_edits(sorted(fx.package_parts(seeds[name]))))
    return name, "bytes", draw(st.lists(fx.byte_edit, min_size=1, max_size=4))


def damaged(seeds: dict[str, bytes], case: tuple[str, str, list]) -> bytes:
    name, level, edits = case
    apply = fx.apply_part_edits if level == "parts" else fx.apply_byte_edits
    return apply(seeds[name], edits)


def test_reader_on_damaged_packages_returns_rows_or_a_chinese_error(seeds):
    from generators.tables.reader import XlsxImportError, read_workbook

    @XLSX_SETTINGS
    @given(case=damage(seeds, sorted(seeds)))
    def run(case):
        data = damaged(seeds, case)
        try:
            book = read_workbook(data, include_hidden=True)
        except XlsxImportError as exc:
            assert_chinese(exc.messages)
            return
        assert isinstance(book, dict)

    run()


def _touched_units(result, edits) -> list:
    rows = {(sheet, row) for sheet, row, _col, _value in edits}
    return [u for u in result.units
            if any((s[0], s[1]) in rows for sources in u.sources for s in sources.values())]


def test_batch_importer_on_edited_cells_splits_or_refuses_in_chinese(seeds, shapes, tmp_path_factory):
    """Every unit a mutated row reaches is then worked on as a batch item: done or invalid (with
    Chinese messages), never `error` (the runner's status for an unexpected exception)."""
    from jobs import importer
    from jobs.work import process_item

    out_dir = str(tmp_path_factory.mktemp("batch-fuzz"))

    @XLSX_SETTINGS
    @given(edits=fx.cell_edits(shapes["batch"]))
    def run(edits):
        data = fx.apply_cell_edits(seeds["batch"], edits)
        try:
            result = importer.read_batch_workbook(data, "monitoring")
        except importer.BatchImportError as exc:
            assert_chinese(exc.messages)
            return
        for message in result.errors + result.fatal:
            assert_chinese([message])
        if result.fatal:
            return
        for n, unit in enumerate(_touched_units(result, edits)[:3]):
            item = {"id": n, "output_name": unit.output_name, "payload": unit.payload()}
            outcome = process_item("monitoring", "xlsx", item, out_dir)
            assert outcome["status"] in ("done", "invalid", "excluded"), outcome
            if outcome["status"] == "invalid":
                assert_chinese(outcome["errors"])

    run()


def test_batch_importer_on_damaged_packages_refuses_in_chinese(seeds):
    from jobs import importer

    @XLSX_SETTINGS
    @given(case=damage(seeds, ["batch"]))
    def run(case):
        try:
            result = importer.read_batch_workbook(damaged(seeds, case), "monitoring")
        except importer.BatchImportError as exc:
            assert_chinese(exc.messages)
            return
        for message in result.errors + result.fatal:
            assert_chinese([message])

    run()


@pytest.fixture(scope="module")
def import_client(api):
    """The blank-form import over HTTP, as unit A's clerk with an API token."""
    schema, tokens = api
    client = schema.app.test_client()
    return client, {"Authorization": f"Bearer {tokens['clerk_a']}"}


def assert_import_answer(response, kind_id: str) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code == 200:
        assert response.get_json()["kind"] == kind_id
        return
    assert response.status_code in (400, 413, 422), response.status_code
    body = response.get_json()
    assert set(body) == {"code", "status", "message", "errors", "error_count", "warnings"} and CJK.search(body["message"]), body
    for messages in body["errors"].values():
        assert_chinese(messages)


def _form_edits(shapes):
    return st.sampled_from([n for n in sorted(shapes) if n != "batch"]).flatmap(
        lambda name: st.tuples(st.just(name), fx.cell_edits(shapes[name])))


def test_form_import_on_edited_cells_answers_data_or_chinese_errors(seeds, shapes, import_client):
    client, headers = import_client

    @XLSX_SETTINGS
    @given(case=_form_edits(shapes))
    def run(case):
        name, edits = case
        kind_id = name.split(":")[0]
        data = fx.apply_cell_edits(seeds[name], edits)
        response = client.post(f"/api/v1/forms/{kind_id}/import", data=data, headers=headers,
                               content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        assert_import_answer(response, kind_id)

    run()


def test_form_import_on_damaged_packages_answers_chinese_errors(seeds, import_client):
    client, headers = import_client
    names = [n for n in sorted(seeds) if n != "batch"]

    @XLSX_SETTINGS
    @given(case=damage(seeds, names))
    def run(case):
        kind_id = case[0].split(":")[0]
        response = client.post(f"/api/v1/forms/{kind_id}/import", data=damaged(seeds, case), headers=headers,
                               content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        assert_import_answer(response, kind_id)

    run()


# --------------------------------------------------------------------------- what the fuzzers found
# Each was a 500 (or an exception other than the project's own) before its fix.

def test_a_budget_row_that_is_not_an_object_is_a_422_on_that_row(client):
    """rules.scoring read a refused 其中 row (a string) as a mapping: AttributeError, a 500."""
    data = load_sample("self_evaluation")
    data["budget"]["carryover"] = "abc"
    response = client.post("/api/v1/documents/self_evaluation/validate", json=data)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"budget.carryover": ["格式不对，应为一个JSON对象。"]}


def _with_cell_xml(data: bytes, part: str, cell_xml: bytes) -> bytes:
    """The package with the first cell of `part` replaced by `cell_xml`."""
    parts = fx.package_parts(data)
    parts[part] = re.sub(rb"<c r=\"A1\"[^>]*?(/>|>.*?</c>)", cell_xml, parts[part], count=1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize("cell_xml", [
    b'<c r="A1" t="n"><v>abc</v></c>',  # a number cell holding text
    b'<c r="A1" t="s"><v>99999</v></c>',  # a shared string that does not exist
    b'<c r="A1" t="d"><v>not a date</v></c>',
    b'<c r="A1"><v>nan</v></c>',
    b'<c r="ZZZZ1"><v>1</v></c>',  # a column beyond XFD
], ids=["text-in-number", "shared-string-index", "bad-date", "nan", "column-beyond-xfd"])
def test_a_cell_openpyxl_cannot_parse_is_a_damaged_sheet(cell_xml):
    """openpyxl parses a read-only sheet while it is iterated, after load_workbook: its
    ValueError/IndexError escaped the reader (a 500 on import, a crashed batch upload)."""
    from generators.tables.reader import XlsxImportError, read_workbook
    from jobs import importer

    data = _with_cell_xml(BATCH_SAMPLE.read_bytes(), "xl/worksheets/sheet2.xml", cell_xml)
    message = "文件内容已损坏（工作表“项目”），请用 Excel 或 WPS 重新保存后再导入。"
    with pytest.raises(XlsxImportError) as caught:
        read_workbook(data)
    assert caught.value.messages == [message]
    with pytest.raises(importer.BatchImportError) as refused:
        importer.read_batch_workbook(data, "monitoring")
    assert refused.value.messages == [message]


def test_a_damaged_cell_in_a_form_upload_is_a_400(client):
    data = _with_cell_xml(_form_seeds()["target_declaration:blank"], "xl/worksheets/sheet1.xml",
                          b'<c r="A1" t="n"><v>abc</v></c>')
    response = client.post("/api/v1/forms/target_declaration/import", data=data,
                           content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response.status_code == 400
    body = response.get_json()
    assert body["message"] == "文件内容已损坏（工作表“项目支出绩效目标申报表”），请用 Excel 或 WPS 重新保存后再导入。"
    assert body["errors"] == {"file": [body["message"]]}


def test_a_broken_deflate_stream_is_a_damaged_part():
    """zlib.error is none of the exceptions the package scan caught: it escaped the reader."""
    from generators.tables.reader import XlsxImportError, read_workbook

    data = bytearray(BATCH_SAMPLE.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/worksheets/sheet2.xml")
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    data[start:start + 64] = bytes([0x04]) + b"\xff" * 63  # a deflate block of the reserved type 3
    with pytest.raises(XlsxImportError) as caught:
        read_workbook(bytes(data))
    assert caught.value.messages == ["文件内容已损坏（xl/worksheets/sheet2.xml），请用 Excel 或 WPS 重新保存后再导入。"]


def test_numbers_beyond_decimal_precision_are_cell_errors_or_text():
    """quantize() raised InvalidOperation for 10^30 in a money, score or text cell."""
    from generators.grid import Cell, Column, Sheet
    from generators.tables.reader import CellError, Messages, XlsxImportError, read_grid

    sheet = Sheet(name="表", columns=[Column(10)] * 3)
    sheet.add(Cell(None, "money", key="money"), Cell(None, "score", key="score"), Cell(None, "text", key="text"))
    book = openpyxl.Workbook()
    book.active.title = "表"
    book.active.append([10**30, 10**30, 10**30])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(XlsxImportError) as caught:
        read_grid(out.getvalue(), sheet)
    assert caught.value.errors == [CellError("表", 1, "A", Messages.money_too_large),
                                   CellError("表", 1, "B", Messages.number_too_large)]
    sheet.rows[0][:2] = [Cell(None, "text"), Cell(None, "text")]
    assert read_grid(out.getvalue(), sheet) == {"text": "1" + "0" * 30}


# --------------------------------------------------------------------------- samples, one value changed
# Schema-generated bodies almost never pass the cross-field rules, so rendering is reached from the
# kinds' samples instead: one leaf of a valid sample replaced by a hostile value, in every format.

SAMPLE_EXAMPLES = 25  # per kind
JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=60),
    st.sampled_from(fx.TRICKY_TEXT + fx.FORMULAS + ["", "0", "-1", "99999999999999.99", "2024-02-30", "1-13月"]),
    st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)


def _leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path


def _replaced(value, path, new):
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replaced(value[head], rest, new)
    return copy


def _kind_ids() -> list[str]:
    import kinds

    return [k.id for k in kinds.all_kinds()]


@pytest.mark.parametrize("kind_id", _kind_ids())
def test_render_of_a_sample_with_one_hostile_value_never_fails(api, kind_id):
    import kinds

    schema, tokens = api
    client = schema.app.test_client()
    headers = {"Authorization": f"Bearer {tokens['clerk_a']}"}
    sample = load_sample(kind_id)
    leaves = list(_leaves(sample))

    @settings(FUZZ_SETTINGS, max_examples=SAMPLE_EXAMPLES)
    @given(path=st.sampled_from(leaves), value=JSON_VALUES, fmt=st.sampled_from(kinds.get(kind_id).formats))
    def run(path, value, fmt):
        response = client.post(f"/api/v1/documents/{kind_id}?format={fmt}", json=_replaced(sample, path, value),
                               headers=headers)
        assert response.status_code < 500, response.get_data(as_text=True)[:300]
        if response.status_code != 200:
            assert_envelope(_Answer(response))

    run()


class _Answer:
    """A Flask test response with the attributes assert_envelope reads (schemathesis's Response)."""

    def __init__(self, response):
        self.status_code = response.status_code
        self.headers = {"content-type": [response.headers.get("Content-Type", "")]}
        self.text = response.get_data(as_text=True)
        self.json = response.get_json


@pytest.mark.parametrize("score", [1e300, 10**40, "-1e30"])
def test_a_framework_score_beyond_any_band_is_a_422(client, score):
    """rules.frameworks quantized 1e300 before comparing it with the leaf's points: InvalidOperation."""
    data = load_sample("department_evaluation_report")
    data["scores"]["1.1.2"] = score
    response = client.post("/api/v1/documents/department_evaluation_report/validate", json=data)
    assert response.status_code == 422
    assert response.get_json()["errors"]["scores.1.1.2"] == ["“绩效指标明确性”（1.1.2）的得分应在0分至2分之间"]
