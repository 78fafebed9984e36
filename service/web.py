"""HTML pages: the kinds, one form per kind with errors beside the fields, downloads, drafts."""

from __future__ import annotations

import datetime as _dt
from collections import OrderedDict

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from marshmallow import fields
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

import kinds
from forms.base import CONFIRMATIONS, FieldErrors, UnconfirmedWarnings
from generators.declaration import validation_lists
from kinds import pipeline
from rules.formatting import chinese_date
from rules.library import default_library
from service import audit, render_limits, scopes, workflow
from service.database import get_db
from service.downloads import file_response
from service.errors import ApiError
from service.formview import Option, error_links, parse_confirmations, parse_form, path_label, placed, widgets
from service.preview import Preview, page_images
from service.roles import DELETED
from service.scopes import find_submission, scope_submissions
from service.sessions import current_user
from service.settings_store import current_settings
from service.timefmt import local_today
from storage.models import ApiToken, Submission, Unit
from storage.records import COUNTED_STATUSES, valid_stored

bp = Blueprint("web", __name__)


@bp.app_template_filter("kind_name")
def kind_name(kind_id: str) -> str:
    """A kind's Chinese name (an unknown id is shown as it is)."""
    try:
        return kinds.get(kind_id).name
    except kinds.UnknownKind:
        return kind_id


@bp.app_template_filter("status_label")
def status_label(status: str | None) -> str:
    return {**Submission.STATUSES, DELETED: "已删除"}.get(status or "", status or "（无）")


@bp.app_context_processor
def _navigation():
    def holds_api_token() -> bool:
        """The menu's API link is for those who hold a token; the rest use the pages."""
        user = current_user()
        if user is None:
            return False
        with get_db().read() as session:
            return session.scalar(select(func.count()).select_from(ApiToken).where(
                ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))) > 0

    return {"holds_api_token": holds_api_token}


def due_items(settings, today: _dt.date | None = None) -> list[dict]:
    """The monitoring returns of this budget year and when each is due (rules.periods), soonest
    first, with the days left (negative when late)."""
    from rules.periods import due_date

    today = today or _dt.date.today()
    items = []
    for label in settings["monitoring"]["periods"]["due"]:
        due = due_date(today.year, label, settings)
        items.append({"period": label, "year": today.year, "due": due, "days": (due - today).days,
                      "due_text": chinese_date(due)})
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


# The year a new form of these kinds is usually about: next year's budget is declared, last
# year's spending evaluated and published; the rest (monitoring, 公文) are about this year.
YEAR_OFFSET = {"target_declaration": 1, "department_target_declaration": 1, "self_evaluation": -1,
               "department_self_evaluation": -1, "self_evaluation_report": -1, "disclosure": -1}


def unit_values(kind: kinds.Kind, schema, user, today: _dt.date) -> dict:
    """A new form starts with what the service knows: the year, and the clerk's unit and its
    主管部门 in the fields named for them (by their labels: 主管部门, 实施单位, 单位名称 …)."""
    values: dict = {}
    if "year" in schema.fields:
        values["year"] = today.year + YEAR_OFFSET.get(kind.id, 0)
    if user is None or user.unit_id is None:
        return values
    with get_db().read() as session:
        unit = session.scalar(select(Unit).options(joinedload(Unit.department)).where(Unit.id == user.unit_id))
        department = unit.department.name if unit.department else ""
    for key, f in schema.fields.items():
        label = f.metadata.get("label", "")
        if isinstance(f, fields.Nested) and set(_nested_keys(f)) >= {"code", "name"} and "单位" in label:
            values[key] = {"code": unit.code, "name": unit.name}
        elif key == "unit_code":
            values[key] = unit.code
        elif not isinstance(f, fields.String):
            continue
        elif label == "主管部门" and department:
            values[key] = department
        elif key in ("unit", "implementing_unit") or label in ("部门（单位）名称", "实施单位", "单位名称"):
            values[key] = unit.name
    return values


def _nested_keys(f) -> list[str]:
    nested = f.nested() if isinstance(f.nested, type) else f.nested
    return list(nested.fields)


def _stored_warnings(kind: kinds.Kind, sub: Submission, settings) -> list[dict]:
    """The warnings of a document being fixed (returned, or a draft that kept confirmations),
    with its stored confirmations and explanations ticked and filled in, so the clerk does not
    type them again; a warning whose figure changed since has another key and stays unticked."""
    if CONFIRMATIONS not in sub.data:
        return []
    try:
        context = workflow.submission_context(kind, sub.data, current_user(), sub)
        return pipeline.check(kind, sub.data, settings, context).warnings
    except FieldErrors:
        return []


def _load_draft(public_id: str, kind: kinds.Kind) -> Submission:
    with get_db().read() as session:
        return find_submission(session, public_id, kind=kind.id)


def attach_sources(schema) -> dict[str, list[Option]]:
    """The documents a form may attach (the 公开 form's 自评表s): the signed-in user's own unit's
    submitted or approved documents of each kind a field names, newest first."""
    wanted = {f.metadata["attach"] for f in schema.fields.values() if f.metadata.get("attach")}
    if not wanted:
        return {}
    user = current_user()
    stmt = scope_submissions(select(Submission), user).where(
        Submission.kind.in_(wanted), Submission.status.in_(COUNTED_STATUSES))
    if user is not None and user.unit_id is not None:
        stmt = stmt.where(Submission.unit_id == user.unit_id)
    sources: dict[str, list[Option]] = {kind: [] for kind in wanted}
    with get_db().read() as session:
        # Attached as validated again (normalised, without the clerk's confirmations of that
        # document); one that no longer validates is not offered.
        for sub, data in valid_stored(session.scalars(stmt.order_by(Submission.updated_at.desc())), current_settings()):
            year = f"{data['year']}年度 · " if data.get("year") else ""
            sources[sub.kind].append(Option(sub.public_id, f"{sub.title}（{year}{sub.status_label}）", data))
    return sources


def attach_defaults(schema, values: dict, sources: dict[str, list[Option]]) -> dict:
    """A form that has not chosen yet attaches the unit's documents: all of a list, the newest of one."""
    out = dict(values)
    for key, f in schema.fields.items():
        options = sources.get(f.metadata.get("attach", ""), [])
        if options and key not in out:
            out[key] = [o.data for o in options] if isinstance(f, fields.List) else options[0].data
    return out


@bp.route("/forms/<kind_id>", methods=["GET", "POST"])
def form(kind_id: str):
    kind = kinds.get(kind_id)
    settings = current_settings()
    schema = kind.schema_instance(settings=settings)
    draft_id = request.values.get("draft", "")
    sources = attach_sources(schema)
    version = request.values.get("version", "")  # of the draft as this page read it
    values: dict = {}
    errors: dict[str, list[str]] = {}
    warnings: list[dict] = []
    status = 200
    message = ""
    preview = None
    if request.method == "GET":
        if draft_id:
            sub = _load_draft(draft_id, kind)
            if not scopes.can_edit(current_user(), sub):
                # Submitted or approved, or someone else's: read it on its own page.
                return redirect(url_for("submissions.show", public_id=sub.public_id))
            values, version = sub.data, str(sub.version)
            warnings = _stored_warnings(kind, sub, settings)
        elif request.args.get("sample") and kind.samples():
            import json

            values = json.loads(kind.samples()[0].read_text(encoding="utf-8"))
        else:
            today = local_today(current_app.config["TIMEZONE"])
            values = {**unit_values(kind, schema, current_user(), today), **letterhead_values(schema, settings)}
        values = attach_defaults(schema, values, sources)
    else:
        values = parse_form(request.form, schema, sources)
        confirmations = parse_confirmations(request.form)
        if confirmations:
            values[CONFIRMATIONS] = confirmations
        action = request.form.get("action", "docx")
        try:
            if action in ("save", "submit"):
                sub = _load_draft(draft_id, kind) if draft_id else None
                sub = workflow.store_submission(kind, values, action, sub, int(version) if version.isdigit() else None)
                if action == "submit":
                    flash("已提交，等待审核。")
                    return redirect(url_for("submissions.show", public_id=sub.public_id))
                return redirect(url_for("web.form", kind_id=kind.id, draft=sub.public_id, saved=action))
            if action == "preview":
                preview = _preview(kind, values, settings)
            elif action not in kind.formats:
                abort(400)
            else:
                return file_response(render_limits.produce(kind, values, action, settings))
        except FieldErrors as exc:
            errors, status = exc.errors, 422
            message = ("内容有误，不能预览和下载，请按红色提示修改后再试。" if action == "preview"
                       else "提交的内容有误，请按红色提示修改后再试。")
        except UnconfirmedWarnings as exc:
            warnings, status, message = exc.warnings, 422, exc.message
        except ApiError as exc:
            if exc.code not in (409, 413, 422):
                raise
            # A newer version saved elsewhere, too large, no version: the page keeps what was typed
            # and says why in the summary above the form.
            status, message, errors = exc.code, "未能保存。", {"_schema": [exc.message]}
    saved = {"save": "草稿已保存。", "submit": "已提交。"}.get(request.args.get("saved", ""), "")
    returned = _return_comment(draft_id) if draft_id else ""
    return render_form(kind, schema, values, errors, sources=sources, draft_id=draft_id, version=version,
                       status=status, message=message, saved=saved, preview=preview, warnings=warnings, returned=returned,
                       unsaved=request.method == "POST")


def form_suggestions(kind: kinds.Kind, values: dict) -> dict[str, list[str]]:
    """The lists a declaration form offers while typing: the blank workbook's drop-down lists of
    free-text fields (一级/二级指标, 度量单位), and
    for 项目类型 the library's categories and sectors (the autocomplete ranks the chosen one's
    entries first)."""
    if not kind.extra.get("blank_form"):
        return {}
    settings = current_settings()
    lists = validation_lists(str(values.get("tree") or ""), settings)
    for fixed in ("operator", "project_attribute"):  # selects on the form (their fields' choices)
        lists.pop(fixed)
    library = default_library(settings)
    lists["project_type"] = list(dict.fromkeys([*library.categories(), *library.sectors()]))
    return lists


def render_form(kind: kinds.Kind, schema, values: dict, errors: dict[str, list[str]], *, sources=None,
                draft_id: str = "", version: str = "", status: int = 200, message: str = "", saved: str = "", preview=None,
                warnings=(), import_errors=(), returned: str = "", unsaved: bool = False):
    """The form page of `kind` with `values`, each error beside its field and in the summary at
    the top (import errors too, by sheet, row and column); the reviewer's comment of a returned
    document above it all."""
    tree = widgets(schema, values, errors, sources=sources)
    shown = placed(tree)  # errors of paths without a widget go above the form, never lost
    return render_template(
        "form.html", kind=kind, widgets=tree, errors=errors, error_links=error_links(tree),
        message=message, saved=saved, draft_id=draft_id,
        version=version or (_draft_version(draft_id) if draft_id else ""), preview=preview, warnings=list(warnings),
        unsaved=unsaved, import_errors=list(import_errors), returned=returned,
        can_delete=bool(draft_id) and _is_plain_draft(draft_id),
        suggestions=form_suggestions(kind, values),
        other_errors={path_label(schema, k): v for k, v in errors.items() if k not in shown},
    ), status


def _draft_version(public_id: str) -> str:
    """The version a page showing this draft saves from (the `version` of a save, issue 16) when
    the caller did not read one: the draft's current version."""
    with get_db().read() as session:
        sub = session.scalar(scope_submissions(select(Submission), current_user()).where(Submission.public_id == public_id))
        return str(sub.version) if sub is not None else ""


def _is_plain_draft(public_id: str) -> bool:
    with get_db().read() as session:
        sub = session.scalar(scope_submissions(select(Submission), current_user()).where(Submission.public_id == public_id))
        return sub is not None and sub.status == "draft" and scopes.can_edit(current_user(), sub)


def _return_comment(public_id: str) -> str:
    """The reviewer's latest comment when the document was returned for changes."""
    with get_db().read() as session:
        sub = session.scalar(scope_submissions(select(Submission), current_user()).where(Submission.public_id == public_id))
        if sub is None or sub.status != "returned":
            return ""
        events = [e for e in workflow.history(session, sub) if e.action == "return" and e.comment]
        return events[-1].comment if events else ""


@bp.post("/forms/<kind_id>/drafts/<public_id>/delete")
def delete_draft(kind_id: str, public_id: str):
    """删除草稿: only a draft never submitted, only by its author. It leaves every list; its
    history stays in the audit log."""
    kind = kinds.get(kind_id)
    user = current_user()
    with get_db().write() as session:
        sub = find_submission(session, public_id, user, kind=kind.id)
        if sub.status != "draft" or not scopes.can_edit(user, sub):
            abort(409)
        audit.audit(session, "delete", submission=sub, from_status=sub.status, to_status=DELETED)
        sub.status = DELETED
    flash(f"草稿“{sub.title}”已删除。")
    return redirect(url_for("web.index"))


def _preview(kind: kinds.Kind, values: dict, settings):
    """The document as it would be filed: page images of its PDF, or (a kind without a PDF)
    only the check that it is complete. FieldErrors when it is not."""
    if "pdf" not in kind.formats:
        pipeline.validate(kind, values, settings)
        return Preview([], 0)
    return page_images(render_limits.produce(kind, values, "pdf", settings).content)


@bp.get("/samples/<kind_id>.<fmt>")
def sample_document(kind_id: str, fmt: str):
    import json

    kind = kinds.get(kind_id)
    if not kind.samples():
        abort(404)
    payload = json.loads(kind.samples()[0].read_text(encoding="utf-8"))
    return file_response(pipeline.produce(kind, payload, fmt, current_settings()))
