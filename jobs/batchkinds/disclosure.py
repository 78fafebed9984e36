"""The 绩效信息公开 batch: one item per unit, one PDF per published unit, the index and the manifest.

Where the items come from:

* the service's stored data (`from_stored`): for a year, every unit's submitted or approved
  `disclosure` document (its 部门整体支出绩效自评报告), `department_self_evaluation` table and
  `self_evaluation` tables, grouped by unit as storage.records groups them;
* a JSON file (`from_payloads`): a list of payloads of the `disclosure` kind (samples/disclosure).

Units the finance bureau keeps out of publication (涉密 …) are given when the batch is started
(`parse_exclusions`: “单位编码 原因” per line, or a list/mapping); they become items that are
validated like the others and end `excluded` with their reason — listed in the index, no PDF.

The work of one item (`process_item`, in a pool process or a Celery worker) validates the
payload with the `disclosure` kind, renders the unit's PDF (generators.disclosure) and writes it
atomically; a unit with errors ends `invalid` with Chinese messages naming the unit and the field,
and the others go on. The finishing step (`finish`) writes 目录.xlsx, 目录.html and 清单.csv from
the items, reading them in pages. Leases, retries, resume and the streamed zip are the runner's.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forms.base import FieldErrors, NestingTooDeep
from forms.base import load_json as load_bounded_json
from generators.tables.render import render_workbook
from jobs import archive
from jobs.batchkinds import BatchKind, register
from jobs.files import MANIFEST, UNITS_DIR, csv_cell, write_atomically, write_csv, write_output
from jobs.importer import ImportResult, unique_output_name
from jobs.runner import batch_key, create_batch
from storage.batches import DONE, EXCLUDED, MISSING, PROBLEMS, Batch

KIND = "disclosure"
FMT = "pdf"
FORMATS = ("pdf", "ofd")  # a batch's unit files: PDF, or OFD written from the same PDF's pages
INDEX_XLSX, INDEX_HTML = "目录.xlsx", "目录.html"
MANIFEST_HEADER = ["序号", "单位编码", "单位名称", "状态", "文件", "页数", "公开文件", "说明"]
STORED_KINDS = ("disclosure", "department_self_evaluation", "self_evaluation")
MAX_REASON = 100
_CODE = re.compile(r"^[0-9A-Za-z_-]{1,30}$")
_SEPARATOR = re.compile(r"[\s,，、;；:：]+")


class Messages:
    """User-facing messages of the disclosure batch (one place, Chinese)."""

    exclusion_line = "不公开单位第{n}行“{line}”：请按“单位编码 原因”填写，如“399001 涉密”。"
    exclusion_code = "不公开单位第{n}行：单位编码“{code}”只能含字母、数字、下划线和连字符（最多30个字符）。"
    exclusion_reason = "不公开单位第{n}行：不公开原因最多{limit}个字。"
    exclusion_duplicate = "不公开单位第{n}行：单位编码“{code}”重复。"
    exclusion_shape = "不公开单位应为“单位编码 原因”的文本（每行一个），或 [{\"unit_code\": …, \"reason\": …}] 列表。"
    exclusion_unknown = "不公开单位“{code}”在{where}中找不到，已忽略。"
    no_year = "请填写年度（如 2023）。"
    bad_year = "年度“{value}”不对，应为2000年至2100年之间的年份。"
    not_a_list = "JSON文件应为单位列表：[{\"year\": 2023, \"unit\": \"…\", \"unit_code\": \"…\", \"report\": {…}}, …]。"
    bad_json = "文件不是有效的JSON（第{line}行第{col}列）：{error}"
    not_an_object = "第{n}个单位不是JSON对象，未导入。"
    no_unit = "第{n}个单位没有单位编码（unit_code）和单位名称（unit），未导入。"
    duplicate_unit = "第{n}个单位的单位编码“{key}”与第{first}个重复，未导入。"
    no_units = "没有可生成的单位：{where}。"
    no_stored_units = "{year}年度没有已提交或已审核的自评材料"
    no_report = ("未找到本单位已提交（或已审核）的{year}年度部门整体支出绩效自评报告（“绩效自评结果公开文件”），"
                 "请单位填报并提交后重新生成。")
    no_material = "未提交材料：本单位没有已提交（或已审核）的{year}年度自评报告和自评表，请单位填报并提交后重新生成。"
    unit_prefix = "单位“{code} {name}”"
    summary = "共{total}家单位：生成公开文件{published}家（共{pages}页），不予公开{excluded}家"
    problems = "；另有{count}家单位材料有误或生成失败，未生成公开文件，详见清单"
    missing = "；{count}家单位未提交材料"
    title = "{year}年度绩效信息公开"
    ofd_signing = "OFD公开文件暂不支持电子签章：请关闭批量签章，或选择生成PDF。"


# --------------------------------------------------------------------------- exclusions

def parse_exclusions(value: Any) -> tuple[dict[str, str], list[str]]:
    """Units kept out of publication → ({unit code: reason}, Chinese errors).

    Text: one unit per line, “单位编码 原因” (space, tab, comma or colon between; blank lines and
    lines starting with # are skipped). Or a list of {"unit_code", "reason"} or [code, reason],
    or a mapping code → reason."""
    if value is None or value == "":
        return {}, []
    if isinstance(value, Mapping):
        pairs = [(str(k), "" if v is None else str(v)) for k, v in value.items()]
    elif isinstance(value, str):
        pairs = []
        for raw in value.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                pairs.append(None)
                continue
            parts = _SEPARATOR.split(line, maxsplit=1)
            pairs.append((parts[0], parts[1].strip() if len(parts) > 1 else ""))
    elif isinstance(value, list):
        pairs = []
        for entry in value:
            if isinstance(entry, Mapping):
                pairs.append((str(entry.get("unit_code") or entry.get("code") or ""), str(entry.get("reason") or "")))
            elif isinstance(entry, list | tuple) and len(entry) == 2:
                pairs.append((str(entry[0]), str(entry[1])))
            else:
                return {}, [Messages.exclusion_shape]
    else:
        return {}, [Messages.exclusion_shape]
    found: dict[str, str] = {}
    errors: list[str] = []
    for n, pair in enumerate(pairs, 1):
        if pair is None:
            continue
        code, reason = pair[0].strip(), pair[1].strip()
        if not code or not reason:
            errors.append(Messages.exclusion_line.format(n=n, line=f"{code} {reason}".strip()))
        elif not _CODE.match(code):
            errors.append(Messages.exclusion_code.format(n=n, code=code))
        elif len(reason) > MAX_REASON:
            errors.append(Messages.exclusion_reason.format(n=n, limit=MAX_REASON))
        elif code in found:
            errors.append(Messages.exclusion_duplicate.format(n=n, code=code))
        else:
            found[code] = reason
    return found, errors


def parse_year(value: Any) -> tuple[int | None, list[str]]:
    if value in (None, ""):
        return None, [Messages.no_year]
    try:
        year = int(str(value).replace("年度", "").replace("年", "").strip())
    except ValueError:
        return None, [Messages.bad_year.format(value=value)]
    if not 2000 <= year <= 2100:
        return None, [Messages.bad_year.format(value=value)]
    return year, []


# --------------------------------------------------------------------------- items

@dataclass
class DisclosureUnit:
    """The input of one item: the unit's `disclosure` payload, and problems found while it was
    put together (shown with the schema's errors)."""

    code: str
    name: str
    seq: int
    data: dict
    errors: list[str] = field(default_factory=list)
    missing_report: bool = False
    no_material: bool = False  # a unit in scope that filed nothing: its item ends 未提交材料
    output_name: str = ""

    def payload(self) -> dict:
        return {"unit": {"code": self.code, "name": self.name}, "data": self.data, "errors": self.errors,
                "missing_report": self.missing_report, "no_material": self.no_material}


def _excluded_payload(year: int | None, name: str, code: str, reason: str) -> dict:
    return {"year": year, "unit": name, "unit_code": code, "excluded": True, "exclusion_reason": reason}


def _finish_units(units: list[DisclosureUnit], exclusions: Mapping[str, str], known: Mapping[str, str],
                  errors: list[str], year: int | None, where: str) -> None:
    """Apply the exclusions (a code with no unit yet becomes an excluded item when `known` names
    it), then number the items and give them their file names."""
    by_code = {u.code: u for u in units}
    for code, reason in exclusions.items():
        unit = by_code.get(code)
        if unit is not None:
            unit.data = _excluded_payload(unit.data.get("year", year), unit.name, code, reason)
            unit.errors, unit.missing_report = [], False
        elif code in known:
            units.append(DisclosureUnit(code, known[code], 0, _excluded_payload(year, known[code], code, reason)))
        else:
            errors.append(Messages.exclusion_unknown.format(code=code, where=where))
    taken: set[str] = set()
    for seq, unit in enumerate(units):
        unit.seq = seq
        unit.output_name = unique_output_name(f"{unit.code}_{unit.name}" if unit.code != unit.name else unit.name,
                                              taken, FMT)


def from_payloads(payloads: Any, exclusions: Mapping[str, str] | None = None, year: int | None = None) -> ImportResult:
    """Items from a list of `disclosure` payloads (the CLI's JSON file, an API body), in order.
    The batch's year: `year`, else the year most of the payloads give."""
    if isinstance(payloads, Mapping) and isinstance(payloads.get("units"), list):
        payloads = payloads["units"]
    if not isinstance(payloads, list):
        return ImportResult(year, None, [], [], [Messages.not_a_list])
    errors: list[str] = []
    units: list[DisclosureUnit] = []
    first: dict[str, int] = {}
    for n, entry in enumerate(payloads, 1):
        if not isinstance(entry, Mapping):
            errors.append(Messages.not_an_object.format(n=n))
            continue
        code = str(entry.get("unit_code") or "").strip()
        name = str(entry.get("unit") or "").strip()
        key = code or name
        if not key:
            errors.append(Messages.no_unit.format(n=n))
            continue
        if key in first:
            errors.append(Messages.duplicate_unit.format(n=n, key=key, first=first[key]))
            continue
        first[key] = n
        data = dict(entry)
        if year is not None:
            data.setdefault("year", year)
        units.append(DisclosureUnit(key[:40], (name or code)[:100], 0, data))
    if year is None:
        years = Counter(u.data.get("year") for u in units if isinstance(u.data.get("year"), int))
        year = years.most_common(1)[0][0] if years else None
    fatal = [] if year is not None or not units else [Messages.no_year]
    _finish_units(units, exclusions or {}, {}, errors, year, "JSON文件")
    if not units:
        fatal.append(Messages.no_units.format(where="JSON文件中没有单位"))
    return ImportResult(year, None, units, errors, fatal)


def load_json(data: bytes) -> tuple[Any, list[str]]:
    try:
        return load_bounded_json(data.decode("utf-8-sig")), []
    except NestingTooDeep as exc:
        return None, [exc.message]
    except UnicodeDecodeError:
        return None, [Messages.bad_json.format(line=1, col=1, error="不是UTF-8编码")]
    except json.JSONDecodeError as exc:
        return None, [Messages.bad_json.format(line=exc.lineno, col=exc.colno, error=exc.msg)]


def from_stored(db, year: int, exclusions: Mapping[str, str] | None = None) -> ImportResult:
    """Items from the service's stored submissions of `year` (submitted or approved), one per
    unit, in unit-code order; a submission counts for the unit it is stored under (its clerk's, or
    one in its author's scope: service.api.document_unit), never for a unit its data names. A unit's newest `disclosure` document gives the report; its
    `department_self_evaluation` and `self_evaluation` documents give the tables (a unit that
    filed no separate table keeps the tables of its `disclosure` document)."""
    from sqlalchemy import select

    from forms.base import CONFIRMATIONS
    from storage.models import Unit
    from storage.records import StoredInvalid, counted_submissions, of_year, stored_data, unit_of

    groups: dict[str, dict[str, Any]] = {}
    with db.read() as session:
        for sub in counted_submissions(session, STORED_KINDS):
            if not of_year(sub, year):
                continue
            try:
                data = stored_data(sub)
            except StoredInvalid:
                # It fails today's checks: handed on as stored, so that the unit's item, which
                # validates its whole payload, refuses it with the fields named (never published).
                data = {k: v for k, v in sub.data.items() if k != CONFIRMATIONS}
            if str(data.get("year", "")) != str(year):
                continue
            unit = unit_of(sub)
            entry = groups.setdefault(unit["code"], {"unit": unit, "disclosure": None, "department": None,
                                                     "projects": []})
            if sub.kind == "disclosure":
                entry["disclosure"] = data  # the newest one counts (submissions in id order)
            elif sub.kind == "department_self_evaluation":
                entry["department"] = data
            else:
                entry["projects"].append(data)
        wanted = [c for c in (exclusions or {}) if c not in groups]
        known = dict(session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(wanted))).all()) if wanted else {}
        # Every registered unit is in scope: one that filed nothing is listed as 未提交材料,
        # so the bureau sees who is missing (unless nobody filed anything: no batch at all).
        silent = session.execute(select(Unit.code, Unit.name).where(Unit.code.not_in(list(groups)))
                                 .order_by(Unit.code)).all() if groups else []
    units: list[DisclosureUnit] = []
    for code, name in silent:
        if code in (exclusions or {}):
            continue
        unit = DisclosureUnit(code[:40], name[:100], 0, {"year": year, "unit": name, "unit_code": code, "report": None,
                                                         "department_evaluation": None, "project_evaluations": []})
        unit.errors.append(Messages.no_material.format(year=year))
        unit.missing_report = unit.no_material = True
        units.append(unit)
    for code in sorted(groups):
        entry = groups[code]
        own = entry["disclosure"] or {}
        payload = {
            "year": year, "unit": entry["unit"]["name"], "unit_code": entry["unit"]["code"],
            "report": own.get("report"),
            "department_evaluation": entry["department"] if entry["department"] is not None
            else own.get("department_evaluation"),
            "project_evaluations": entry["projects"] or own.get("project_evaluations") or [],
        }
        unit = DisclosureUnit(code[:40], entry["unit"]["name"][:100], 0, payload)
        if not payload["report"]:
            unit.errors.append(Messages.no_report.format(year=year))
            unit.missing_report = True
        units.append(unit)
    units.sort(key=lambda u: u.code)
    errors: list[str] = []
    _finish_units(units, exclusions or {}, known, errors, year, f"{year}年度的单位")
    fatal = [] if units else [Messages.no_units.format(where=Messages.no_stored_units.format(year=year))]
    return ImportResult(year, None, units, errors, fatal)


def start(db, imported: ImportResult, *, source: str, title: str = "", source_name: str = "",
          settings_override: Mapping[str, Any] | None = None, fmt: str = FMT):
    """Create (or find) the batch of these items: keyed by the items themselves, so starting the
    same batch again — the same stored documents and exclusions, or the same file — is the same
    batch, never a duplicate. (batch, created)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown disclosure format {fmt!r}")
    for unit in imported.units:  # the unit files take the batch's format: <code>_<name>.ofd
        if unit.output_name and fmt != FMT:
            unit.output_name = f"{unit.output_name.rsplit('.', 1)[0]}.{fmt}"
    content = json.dumps({"units": [u.payload() for u in imported.units], "errors": imported.errors},
                         sort_keys=True, ensure_ascii=False, default=str).encode()
    params = {"source": source, "settings_override": settings_override or None}
    key = batch_key(KIND, fmt, {"year": imported.year, **params}, content)
    return create_batch(db, KIND, fmt, imported, key=key,
                        title=title or Messages.title.format(year=imported.year), source_name=source_name,
                        params=params)


# --------------------------------------------------------------------------- one item

def _label(field_obj) -> str:
    """A field's label without its long hint: “报告正文（一、（一）…）” → “报告正文”."""
    label = str(field_obj.metadata.get("label") or field_obj.name or "")
    head, sep, hint = label.partition("（")
    return head if sep and len(hint) > 6 else label


def _walk(schema_class, parts: list[str]) -> list[str]:
    """Labels along a field path inside a schema: indicators.2.actual_value → 绩效指标第3行, 实际完成值."""
    from marshmallow import fields as mf

    labels: list[str] = []
    schema = schema_class
    while parts:
        name = parts.pop(0)
        declared = getattr(schema, "_declared_fields", {}) if schema is not None else {}
        field_obj = declared.get(name)
        if field_obj is None:
            labels.append(name)
            schema = None
            continue
        label = _label(field_obj)
        if isinstance(field_obj, mf.List) and parts and parts[0].isdigit():
            label += f"第{int(parts.pop(0)) + 1}行"
            field_obj = field_obj.inner
        labels.append(label)
        nested = getattr(field_obj, "nested", None) if isinstance(field_obj, mf.Nested) else None
        schema = nested if isinstance(nested, type) else type(nested) if nested is not None else None
    return labels


def describe(errors: Mapping[str, list[str]], data: Mapping[str, Any], unit: Mapping[str, str]) -> list[str]:
    """Schema errors of a unit's payload → Chinese lines naming the unit, the document and the
    field: 单位“318003 青溪县林业局”：项目支出绩效自评表（…），绩效指标第3行，实际完成值：必填。"""
    from forms.disclosure import DisclosureSchema
    from forms.self_evaluation import DepartmentSelfEvaluationSchema, SelfEvaluationSchema

    same = unit["code"] == unit["name"]  # a unit of a JSON file with a name and no code
    prefix = Messages.unit_prefix.format(code="" if same else unit["code"], name=unit["name"]).replace("“ ", "“")
    lines = []
    for path, messages in errors.items():
        parts = [] if path == "_schema" else path.split(".")
        if parts[:1] == ["project_evaluations"] and len(parts) > 1 and parts[1].isdigit():
            index = int(parts[1])
            tables = data.get("project_evaluations") or []
            table = tables[index] if index < len(tables) and isinstance(tables[index], Mapping) else {}
            name = table.get("project_name")
            labels = [f"项目支出绩效自评表（{name}）" if name else f"第{index + 1}张项目支出绩效自评表",
                      *_walk(SelfEvaluationSchema, parts[2:])]
        elif parts[:1] == ["department_evaluation"]:
            labels = ["部门整体支出绩效自评表", *_walk(DepartmentSelfEvaluationSchema, parts[1:])]
        else:
            labels = _walk(DisclosureSchema, parts)
        where = "，".join(labels)
        for message in messages:
            lines.append(f"{prefix}：{where}：{message}" if where else f"{prefix}：{message}")
    return lines


def process_item(kind_id: str, item: Mapping[str, Any], fmt: str, out_dir: str,
                 settings: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one unit's payload, render its PDF and write it (atomically, under its fixed
    name). An excluded unit is validated (its reason) and rendered not at all."""
    from generators import disclosure as layout
    from generators.pdf import archival
    from generators.signing import SigningError
    from kinds import pipeline

    payload = item["payload"]
    data, unit = payload["data"], payload["unit"]
    errors = list(payload.get("errors") or [])
    if payload.get("no_material"):
        return {"id": item["id"], "status": MISSING, "errors": errors}
    validated = None
    try:
        validated = pipeline.validate(KIND, data, settings)
    except FieldErrors as exc:
        found = dict(exc.errors)
        if payload.get("missing_report"):
            found.pop("report", None)  # said already, with where the report should come from
        errors += describe(found, data, unit)
    if errors:
        return {"id": item["id"], "status": "invalid", "errors": errors}
    if validated.get("excluded"):
        return {"id": item["id"], "status": "excluded", "result": {"reason": validated["exclusion_reason"]}}
    options = settings["signing"]["batches"]
    if fmt == "ofd" and options["sign"]:
        return {"id": item["id"], "status": "invalid", "errors": [Messages.ofd_signing]}
    with archival(bool(options["pdfa"]) and fmt == FMT):
        pdf, pages = layout.render_unit(validated, settings)
    if fmt == "ofd":
        from generators import ofd
        from kinds import doc_info, get

        try:
            pdf = ofd.from_pdf(pdf, doc_info(get(KIND), validated))
        except ofd.Unsupported as exc:
            return {"id": item["id"], "status": "invalid", "errors": [f"未能生成OFD：{exc}"]}
    elif options["sign"]:
        try:
            pdf = sign_unit_pdf(pdf, out_dir, settings)
        except SigningError as exc:
            return {"id": item["id"], "status": "invalid", "errors": [f"未能签章：{exc}"]}
    written = write_output(Path(out_dir) / item["output_name"], pdf)
    return {"id": item["id"], "status": "done", **written,
            "result": {"pages": pages, "documents": [d.title for d in layout.documents(validated)]}}


def sign_unit_pdf(pdf: bytes, out_dir: str, settings: Mapping[str, Any]) -> bytes:
    """A unit's file signed by the bureau's default organ. `out_dir` is the batch's units folder,
    DATA_DIR/batches/<id>/units (jobs.files.units_dir): the registered keys are in that DATA_DIR,
    which a pool process or a Celery worker on a shared directory both see."""
    from storage import seals

    data_dir = Path(out_dir).resolve().parents[2]
    return seals.sign_document(data_dir, pdf, [seals.default_organ(data_dir, settings)], settings)


# --------------------------------------------------------------------------- finishing

def index_rows(db, batch: Batch) -> tuple[list, int]:
    """The index rows (published and excluded units, in item order) and the count of units with
    problems (left out of the index: the manifest lists them)."""
    from generators.disclosure import UnitResult

    rows: list[UnitResult] = []
    problems = 0
    for item in archive.items(db, batch.id):
        if item.status == DONE:
            result = item.result
            rows.append(UnitResult(index=len(rows), unit_code=item.unit_code, unit=item.unit_name,
                                   filename=f"{UNITS_DIR}/{item.output_name}", pages=int(result.get("pages") or 0),
                                   size=item.size, documents=list(result.get("documents") or [])))
        elif item.status == EXCLUDED:
            rows.append(UnitResult(index=len(rows), unit_code=item.unit_code, unit=item.unit_name,
                                   reason=item.result.get("reason") or "不予公开"))
        else:
            problems += 1
    return rows, problems


def manifest_rows(db, batch: Batch) -> Iterable[list[str]]:
    yield MANIFEST_HEADER
    for n, item in enumerate(archive.items(db, batch.id), 1):
        result = item.result
        done = item.status == DONE
        if item.status == EXCLUDED:
            note = result.get("reason") or ""
        elif item.status in PROBLEMS:
            note = "\n".join(item.errors)
        else:
            note = ""
        yield [str(n), csv_cell(item.unit_code), csv_cell(item.unit_name), item.status_label,
               f"{UNITS_DIR}/{item.output_name}" if done else "", str(result.get("pages") or "") if done else "",
               csv_cell("\n".join(result.get("documents") or [])) if done else "", csv_cell(note)]
    for message in batch.errors:
        yield ["", "", "", "未导入", "", "", "", csv_cell(message)]


def finish(db, batch: Batch, directory: Path) -> dict:
    """目录.xlsx and 目录.html (generators.disclosure: units, documents, pages, file names, and the
    excluded units with their reasons) and 清单.csv; returns what the progress page shows."""
    from generators import disclosure as layout

    rows, problems = index_rows(db, batch)
    year = batch.params.get("year")
    write_atomically(directory / INDEX_XLSX, render_workbook(layout.index_workbook(rows, year), "xlsx"))
    write_atomically(directory / INDEX_HTML, layout.index_html(rows, year))
    write_csv(directory / MANIFEST, manifest_rows(db, batch))
    published = [r for r in rows if r.published]
    pages = sum(r.pages for r in published)
    text = Messages.summary.format(total=len(rows) + problems, published=len(published), pages=pages,
                                   excluded=len(rows) - len(published))
    missing = sum(1 for item in archive.items(db, batch.id) if item.status == MISSING)
    problems -= missing
    text += (Messages.problems.format(count=problems) if problems else "")
    text += (Messages.missing.format(count=missing) if missing else "") + "。"
    return {"text": text, "published": len(published), "excluded": len(rows) - len(published),
            "problems": problems, "missing": missing, "pages": pages}


register(BatchKind(KIND, process_item, finish, (INDEX_XLSX, INDEX_HTML, MANIFEST),
                   "各单位公开文件（PDF）、目录和清单", preload=("kinds", "generators.disclosure")))
