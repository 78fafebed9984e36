"""HTML pages: the kinds, one form per kind with errors beside the fields, downloads, drafts."""

from __future__ import annotations

from collections import OrderedDict

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import select

import kinds
from forms.base import FieldErrors
from kinds import pipeline
from service.api import store_submission
from service.db import get_db
from service.downloads import file_response
from service.formview import parse_form, widgets
from service.models import Submission
from service.settings_store import current_settings

bp = Blueprint("web", __name__)


@bp.get("/")
def index():
    groups: OrderedDict[str, list] = OrderedDict()
    for kind in kinds.all_kinds():
        groups.setdefault(kind.group, []).append(kind)
    with get_db().read() as session:
        recent = session.scalars(select(Submission).order_by(Submission.updated_at.desc()).limit(20)).all()
    return render_template("index.html", groups=groups, recent=recent)


def _load_draft(public_id: str, kind: kinds.Kind) -> Submission:
    with get_db().read() as session:
        sub = session.scalar(select(Submission).where(Submission.public_id == public_id, Submission.kind == kind.id))
    if sub is None:
        abort(404)
    return sub


@bp.route("/forms/<kind_id>", methods=["GET", "POST"])
def form(kind_id: str):
    kind = kinds.get(kind_id)
    settings = current_settings()
    schema = kind.schema_instance(settings=settings)
    draft_id = request.values.get("draft", "")
    values: dict = {}
    errors: dict[str, list[str]] = {}
    status = 200
    message = ""
    if request.method == "GET":
        if draft_id:
            values = _load_draft(draft_id, kind).data
        elif request.args.get("sample") and kind.samples():
            import json

            values = json.loads(kind.samples()[0].read_text(encoding="utf-8"))
    else:
        values = parse_form(request.form, schema)
        action = request.form.get("action", "docx")
        try:
            if action in ("save", "submit"):
                sub = _load_draft(draft_id, kind) if draft_id else None
                sub = store_submission(kind, values, action, sub)
                return redirect(url_for("web.form", kind_id=kind.id, draft=sub.public_id, saved=action))
            if action not in kind.formats:
                abort(400)
            return file_response(pipeline.produce(kind, values, action, settings))
        except FieldErrors as exc:
            errors, status = exc.errors, 422
            message = "提交的内容有误，请按红色提示修改后再试。"
    saved = {"save": "草稿已保存。", "submit": "已提交。"}.get(request.args.get("saved", ""), "")
    return render_template(
        "form.html", kind=kind, widgets=widgets(schema, values, errors), errors=errors,
        message=message, saved=saved, draft_id=draft_id,
        other_errors={k: v for k, v in errors.items() if k == "_schema"},
    ), status


@bp.get("/samples/<kind_id>.<fmt>")
def sample_document(kind_id: str, fmt: str):
    import json

    kind = kinds.get(kind_id)
    if not kind.samples():
        abort(404)
    payload = json.loads(kind.samples()[0].read_text(encoding="utf-8"))
    return file_response(pipeline.produce(kind, payload, fmt, current_settings()))
