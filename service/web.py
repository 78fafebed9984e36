"""HTML pages: the kinds, one form per kind with errors beside the fields, downloads, drafts."""

from __future__ import annotations

import datetime as _dt
from collections import OrderedDict

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

import kinds
from forms.base import FieldErrors
from kinds import pipeline
from service import auth
from service.api import store_submission
from service.auth import current_user, find_submission, scope_submissions
from service.database import get_db
from service.downloads import file_response
from service.formview import parse_form, placed, widgets
from service.settings_store import current_settings
from service.timefmt import local_today
from storage.models import Submission

bp = Blueprint("web", __name__)


def due_items(settings, today: _dt.date | None = None) -> list[dict]:
    """The monitoring returns of this budget year and when each is due (rules.periods), soonest
    first, with the days left (negative when late)."""
    from rules.periods import due_date

    today = today or _dt.date.today()
    items = []
    for label in settings["monitoring"]["periods"]["due"]:
        due = due_date(today.year, label, settings)
        items.append({"period": label, "year": today.year, "due": due, "days": (due - today).days,
                      "due_text": f"{due.year}年{due.month}月{due.day}日"})
    return sorted(items, key=lambda i: (i["days"] < 0, abs(i["days"])))


@bp.get("/")
def index():
    """The dashboard: what is due, what waits for me, recent documents, and the kinds to fill."""
    user = current_user()
    groups: OrderedDict[str, list] = OrderedDict()
    for kind in kinds.all_kinds():
        groups.setdefault(kind.group, []).append(kind)
    with get_db().read() as session:
        scoped = scope_submissions(select(Submission).options(joinedload(Submission.unit)), user)
        recent = session.scalars(scoped.order_by(Submission.updated_at.desc()).limit(20)).all()
        counts = dict(session.execute(
            scope_submissions(select(Submission.status, func.count()).group_by(Submission.status), user)).all())
    return render_template("index.html", groups=groups, recent=recent, counts=counts,
                           due=due_items(current_settings(), local_today(current_app.config["TIMEZONE"])))


def letterhead_values(schema, settings) -> dict:
    """A new form starts with the bureau's 红头 (admin settings) where the kind has those fields."""
    letterhead = settings.get("letterhead", {})
    return {key: letterhead[key] for key in ("issuer", "issuer_mark")
            if letterhead.get(key) and key in schema.fields}


def _load_draft(public_id: str, kind: kinds.Kind) -> Submission:
    with get_db().read() as session:
        return find_submission(session, public_id, kind=kind.id)


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
            sub = _load_draft(draft_id, kind)
            if not auth.can_edit(current_user(), sub):
                # Submitted or approved, or someone else's: read it on its own page.
                return redirect(url_for("submissions.show", public_id=sub.public_id))
            values = sub.data
        elif request.args.get("sample") and kind.samples():
            import json

            values = json.loads(kind.samples()[0].read_text(encoding="utf-8"))
        else:
            values = letterhead_values(schema, settings)
    else:
        values = parse_form(request.form, schema)
        action = request.form.get("action", "docx")
        try:
            if action in ("save", "submit"):
                sub = _load_draft(draft_id, kind) if draft_id else None
                sub = store_submission(kind, values, action, sub)
                if action == "submit":
                    flash("已提交，等待审核。")
                    return redirect(url_for("submissions.show", public_id=sub.public_id))
                return redirect(url_for("web.form", kind_id=kind.id, draft=sub.public_id, saved=action))
            if action not in kind.formats:
                abort(400)
            return file_response(pipeline.produce(kind, values, action, settings))
        except FieldErrors as exc:
            errors, status = exc.errors, 422
            message = "提交的内容有误，请按红色提示修改后再试。"
    saved = {"save": "草稿已保存。", "submit": "已提交。"}.get(request.args.get("saved", ""), "")
    tree = widgets(schema, values, errors)
    shown = placed(tree)  # errors of paths without a widget go above the form, never lost
    return render_template(
        "form.html", kind=kind, widgets=tree, errors=errors,
        message=message, saved=saved, draft_id=draft_id,
        other_errors={k: v for k, v in errors.items() if k not in shown},
    ), status


@bp.get("/samples/<kind_id>.<fmt>")
def sample_document(kind_id: str, fmt: str):
    import json

    kind = kinds.get(kind_id)
    if not kind.samples():
        abort(404)
    payload = json.loads(kind.samples()[0].read_text(encoding="utf-8"))
    return file_response(pipeline.produce(kind, payload, fmt, current_settings()))
