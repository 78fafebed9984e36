"""The indicator library API (指标库), the blank declaration forms and their import, and the link
between a target review and the declaration it reviews.

    GET  /api/v1/library/indicators?q=&category=&level1=&sector=&project_type=&tree=&limit=   search
    GET  /api/v1/library/categories                                  categories, sectors, trees
    GET  /api/v1/forms/<kind>/blank.xlsx?tree=                       blank form to fill offline
    POST /api/v1/forms/<kind>/import                                 filled xlsx → validated data
    GET  /api/v1/submissions/<id>/reviews                            reviews of a declaration
    GET  /forms/<kind>/blank.xlsx, POST /forms/<kind>/import         the same for the web form

Only this module knows HTTP; the search is rules.library, the layouts and the reading back are
generators.declaration.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, request, url_for
from sqlalchemy import select

import kinds
from forms.base import FieldErrors
from generators import declaration as layout
from kinds import pipeline
from kinds.pipeline import Output
from rules.indicators import TREE_LABELS, TREES, convert_tree, tree_id
from rules.library import default_library
from service import scopes, workflow
from service.database import get_db
from service.downloads import file_response
from service.errors import ApiError
from service.extensions import csrf
from service.settings_store import current_settings
from storage.models import Submission
from storage.records import normalised

bp = Blueprint("library", __name__)

MAX_LIMIT = 100
MAX_QUERY = 100
MAX_UPLOAD = 5 * 1024 * 1024  # a filled form is tens of kilobytes


# ------------------------------------------------------------------------------ search


def _limit() -> int:
    raw = request.args.get("limit", "20").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(422, errors={"limit": [f"limit 应为1至{MAX_LIMIT}之间的整数。"]})
    return int(raw)


def _tree_arg() -> str | None:
    raw = request.args.get("tree", "").strip()
    if not raw:
        return None
    try:
        return tree_id(raw)
    except ValueError as exc:
        raise ApiError(422, errors={"tree": [f"{exc}。"]}) from None


def entry_json(entry, tree: str | None = None) -> dict:
    """A library entry as the form needs it; with `tree`, its captions placed in that tree."""
    indicator = entry.indicator()
    if tree is not None:
        try:
            indicator = convert_tree(indicator, tree)
        except ValueError:
            pass
    return {"name": entry.name, "level1": indicator.level1, "level2": indicator.level2,
            "operator": entry.operator, "target_value": entry.target_value,
            "measure_unit": entry.measure_unit, "value_text": entry.value_text,
            "explanation": entry.explanation, "category": entry.category, "sector": entry.sector}


@bp.get("/api/v1/library/indicators")
def search_indicators():
    query = request.args.get("q", "")
    if len(query) > MAX_QUERY:
        raise ApiError(422, errors={"q": [f"检索词不能超过{MAX_QUERY}个字。"]})
    limit, tree = _limit(), _tree_arg()
    sector = request.args.get("sector")
    library = default_library(current_settings())
    found = library.search(query, category=request.args.get("category") or None,
                           level1=request.args.get("level1") or None, limit=limit,
                           sector=sector if sector else None,
                           prefer=request.args.get("project_type", "")[:MAX_QUERY] or None)
    return jsonify({"query": query, "count": len(found), "results": [entry_json(e, tree) for e in found]})


@bp.get("/api/v1/library/categories")
def library_categories():
    library = default_library(current_settings())
    return jsonify({"categories": library.categories(), "sectors": library.sectors(),
                    "trees": {key: {"label": TREE_LABELS[key], "levels": {k: list(v) for k, v in tree.items()}}
                              for key, tree in TREES.items()}})


# ------------------------------------------------------------------------------ blank forms and import


def _form_kind(kind_id: str) -> kinds.Kind:
    kind = kinds.get(kind_id)
    if not kind.extra.get("blank_form"):
        raise ApiError(404, f"“{kind.name}”没有空白表。")
    return kind


def _blank_output(kind: kinds.Kind) -> Output:
    from generators.tables.xlsx import render_xlsx

    tree = _tree_arg()
    content = render_xlsx(layout.blank_workbook(kind.id, current_settings(), tree))
    return Output(content, f"{kind.name}（空白表）.xlsx", kinds.MIME_TYPES["xlsx"])


def _uploaded() -> bytes:
    upload = request.files.get("file")
    content = upload.read(MAX_UPLOAD + 1) if upload is not None else request.get_data(cache=False)
    if not content:
        raise ApiError(422, "请上传填好的xlsx文件。", {"file": ["请上传填好的xlsx文件。"]})
    if len(content) > MAX_UPLOAD:
        raise ApiError(413)
    return content


def _read(kind: kinds.Kind, content: bytes):
    """(payload, locate) of an upload; an unreadable file or a moved caption is a 400 whose
    errors list every problem with its sheet, row and column."""
    from generators.tables.reader import XlsxImportError

    try:
        return layout.read_declaration(kind.id, content, current_settings())
    except XlsxImportError as exc:
        raise ApiError(400, exc.message, {"file": exc.messages}) from None


def _import(kind: kinds.Kind, content: bytes) -> dict:
    """The validated data of a workbook; FieldErrors whose messages name sheet, row and column."""
    settings = current_settings()
    payload, located = _read(kind, content)
    try:
        data = pipeline.validate(kind, payload, settings)
    except FieldErrors as exc:
        raise FieldErrors(located(exc.errors)) from None
    return normalised(kind, data, settings)


@bp.get("/api/v1/forms/<kind_id>/blank.xlsx")
def blank_form_api(kind_id: str):
    return file_response(_blank_output(_form_kind(kind_id)))


@bp.post("/api/v1/forms/<kind_id>/import")
@csrf.exempt  # JSON API: a file body, no cookie-authenticated form (as the api blueprint)
def import_form_api(kind_id: str):
    kind = _form_kind(kind_id)
    return jsonify({"kind": kind.id, "data": _import(kind, _uploaded())})


@bp.get("/forms/<kind_id>/blank.xlsx")
def blank_form_web(kind_id: str):
    return file_response(_blank_output(_form_kind(kind_id)))


@bp.post("/forms/<kind_id>/import")
def import_form_web(kind_id: str):
    """Read the upload into the draft being edited (or a new draft) and show it on the form.
    A file that cannot be read leaves the draft as it was; its problems (sheet, row, column)
    are listed at the top of the form. Values the schema rejects are kept in the draft and
    listed the same way, with the field's Chinese name and the value read."""
    from service.web import render_form

    kind = _form_kind(kind_id)
    draft_id = request.form.get("draft", "")
    sub = None
    if draft_id:
        with get_db().read() as session:
            sub = scopes.find_submission(session, draft_id, kind=kind.id)
    settings = current_settings()
    schema = kind.schema_instance(settings=settings)
    try:
        payload, located = _read(kind, _uploaded())
    except ApiError as exc:
        values = sub.data if sub is not None else {}
        messages = [m for ms in (exc.errors or {}).values() for m in ms] or [exc.message]
        return render_form(kind, schema, values, {}, draft_id=draft_id, status=exc.code, import_errors=messages)
    posted = request.form.get("version", "")  # the draft's version as the page showed it
    sub = workflow.store_submission(kind, payload, "save", sub,
                           int(posted) if posted.isdigit() else (sub.version if sub is not None else None))
    try:
        pipeline.validate(kind, payload, settings)
    except FieldErrors as exc:
        messages = [m for ms in located(exc.errors).values() for m in ms]
        return render_form(kind, schema, payload, exc.errors, draft_id=sub.public_id, status=422,
                           import_errors=messages, saved="已导入并保存为草稿，请按提示修改。")
    return redirect(url_for("web.form", kind_id=kind.id, draft=sub.public_id, saved="save"))


# ------------------------------------------------------------------------------ reviews


@bp.get("/api/v1/submissions/<public_id>/reviews")
def declaration_reviews(public_id: str):
    """The reviews of a declaration, newest first, so the clerk sees the opinions to act on."""
    with get_db().read() as session:
        parent = scopes.find_submission(session, public_id)  # 404 outside the user's scope
        # Reviews are written by reviewers, outside the clerk's unit: whoever sees the
        # declaration sees the opinions on it.
        rows = session.scalars(select(Submission).where(Submission.parent_id == parent.id)
                               .order_by(Submission.updated_at.desc(), Submission.id.desc())).all()
        return jsonify({"id": parent.public_id, "status": parent.status, "status_label": parent.status_label,
                        "reviews": [{"id": r.public_id, "kind": r.kind, "status": r.status,
                                     "updated_at": r.updated_at.isoformat(), "data": r.data} for r in rows]})
