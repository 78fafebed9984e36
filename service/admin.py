"""The administrator's pages: accounts (created here, activated by an invitation link), units
and their supervising departments, the 红头 and rule settings, custom docx templates, and the
audit log. Every route is for the `admin` role only."""

from __future__ import annotations

import json
import secrets

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

import kinds
from forms.base import FieldErrors
from service import audit, invitations, passwords, roles, settings_store
from service.database import get_db
from service.errors import ApiError
from service.gate import roles_required
from service.roles import ADMIN
from service.sessions import current_user
from storage.models import ROLES, AuditEvent, Department, DocTemplate, SavedSettings, Unit, User, utcnow

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE = 200


class Messages:
    username_taken = "用户名“{name}”已被使用。"
    role_unknown = "请选择角色。"
    unit_required = "单位填报人员必须选择所属单位。"
    department_required = "主管部门审核人员必须选择主管部门。"
    code_taken = "编码“{code}”已被使用。"
    code_format = "编码应为1至40个字母、数字或 _ -。"
    name_required = "请填写名称。"
    name_long = "名称不能超过100个字。"
    self_deactivate = "不能停用自己的账号。"


def _invite_url(token: str) -> str:
    return url_for("account.accept_invitation", token=token, _external=True)


@bp.get("/")
@roles_required(ADMIN)
def index():
    with get_db().read() as session:
        counts = {
            "users": session.scalar(select(func.count()).select_from(User)),
            "units": session.scalar(select(func.count()).select_from(Unit)),
            "departments": session.scalar(select(func.count()).select_from(Department)),
            "templates": session.scalar(select(func.count()).select_from(DocTemplate)),
        }
    return render_template("admin/index.html", counts=counts)


# ---------------------------------------------------------------------------------- accounts


def _org_lists(session):
    units = session.scalars(select(Unit).order_by(Unit.code)).all()
    departments = session.scalars(select(Department).order_by(Department.code)).all()
    return units, departments


@bp.route("/users", methods=["GET", "POST"])
@roles_required(ADMIN)
def users():
    """List accounts; POST creates one and shows its invitation link (valid 7 days, one use)."""
    errors: dict[str, list[str]] = {}
    form = request.form if request.method == "POST" else {}
    invite = None
    status = 200
    if request.method == "POST":
        username = form.get("username", "").strip()
        role = form.get("role", "")
        if passwords.username_problems(username):
            errors["username"] = passwords.username_problems(username)
        if role not in ROLES:
            errors["role"] = [Messages.role_unknown]
        unit_id = _int(form.get("unit_id"))
        department_id = _int(form.get("department_id"))
        if role == roles.UNIT_CLERK and unit_id is None:
            errors["unit_id"] = [Messages.unit_required]
        if role == roles.DEPARTMENT_REVIEWER and department_id is None:
            errors["department_id"] = [Messages.department_required]
        display_name = form.get("display_name", "").strip()[:100]
        if not errors:
            with get_db().write() as session:
                if session.scalar(select(User).where(func.lower(User.username) == username.lower())):
                    errors["username"] = [Messages.username_taken.format(name=username)]
                elif unit_id is not None and role == roles.UNIT_CLERK and session.get(Unit, unit_id) is None:
                    errors["unit_id"] = [Messages.unit_required]
                elif (department_id is not None and role == roles.DEPARTMENT_REVIEWER
                      and session.get(Department, department_id) is None):
                    errors["department_id"] = [Messages.department_required]
                else:
                    user = User(username=username, display_name=display_name, role=role, active=True,
                                unit_id=unit_id if role == roles.UNIT_CLERK else None,
                                department_id=department_id if role == roles.DEPARTMENT_REVIEWER else None,
                                password_hash=None, session_nonce=secrets.token_hex(16), created_at=utcnow())
                    session.add(user)
                    session.flush()
                    token = invitations.new_invitation(session, user, current_user())
                    audit.audit(session, "user_create", target=f"user:{username}", comment=ROLES[role])
                    invite = {"username": username, "url": _invite_url(token)}
        if errors:
            status = 422
        else:
            status = 201
            form = {}
    with get_db().read() as session:
        rows = session.scalars(select(User).order_by(User.role, User.username)).all()
        units, departments = _org_lists(session)
    return render_template("admin/users.html", rows=rows, units=units, departments=departments, errors=errors,
                           form=form, invite=invite, roles=ROLES), status


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@bp.post("/users/<int:user_id>")
@roles_required(ADMIN)
def update_user(user_id: int):
    """action=deactivate | activate | invite (a new one-time link, e.g. for a forgotten password)."""
    action = request.form.get("action", "")
    invite = None
    with get_db().write() as session:
        user = session.get(User, user_id)
        if user is None:
            raise ApiError(404)
        if action in ("deactivate", "activate"):
            if user.id == current_user().id and action == "deactivate":
                raise ApiError(409, Messages.self_deactivate)
            user.active = action == "activate"
            user.session_nonce = secrets.token_hex(16)  # signs the user out at once
            audit.audit(session, "user_update", target=f"user:{user.username}", comment=action)
        elif action == "invite":
            token = invitations.new_invitation(session, user, current_user())
            audit.audit(session, "invite", target=f"user:{user.username}")
            invite = _invite_url(token)
        else:
            raise ApiError(422, errors={"action": ["操作只能是 deactivate、activate 或 invite。"]})
    if invite:
        flash(f"请把这个一次性链接发给 {user.username}（7天内有效）：{invite}")
    else:
        flash(f"账号 {user.username} 已{'启用' if action == 'activate' else '停用'}。")
    return redirect(url_for("admin.users"))


# ---------------------------------------------------------------------------------- units


@bp.route("/units", methods=["GET", "POST"])
@roles_required(ADMIN)
def units():
    """Departments (主管部门) and units (预算单位) with the department that supervises each."""
    import re

    errors: dict[str, list[str]] = {}
    form = request.form if request.method == "POST" else {}
    status = 200
    if request.method == "POST":
        what = form.get("what")
        code, name = form.get("code", "").strip(), form.get("name", "").strip()
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", code):
            errors["code"] = [Messages.code_format]
        if not name:
            errors["name"] = [Messages.name_required]
        elif len(name) > 100:
            errors["name"] = [Messages.name_long]
        from forms.base import illegal_characters

        errors.update(illegal_characters({"name": name}))
        department_id = _int(form.get("department_id"))
        if not errors:
            with get_db().write() as session:
                model = Department if what == "department" else Unit
                if session.scalar(select(model).where(model.code == code)):
                    errors["code"] = [Messages.code_taken.format(code=code)]
                elif model is Unit:
                    if department_id is not None and session.get(Department, department_id) is None:
                        department_id = None
                    session.add(Unit(code=code, name=name, department_id=department_id))
                    audit.audit(session, "unit_create", target=f"unit:{code}", comment=name)
                else:
                    session.add(Department(code=code, name=name))
                    audit.audit(session, "department_create", target=f"department:{code}", comment=name)
        status = 422 if errors else 201
        if not errors:
            form = {}
    with get_db().read() as session:
        unit_rows, departments = _org_lists(session)
        for unit in unit_rows:
            _ = unit.department  # loaded before the session closes
    return render_template("admin/units.html", units=unit_rows, departments=departments, errors=errors,
                           form=form), status


# ---------------------------------------------------------------------------------- audit


@bp.get("/audit")
@roles_required(ADMIN)
def audit_log():
    action = request.args.get("action", "")
    stmt = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(AUDIT_PAGE)
    if action in AuditEvent.ACTIONS:
        stmt = stmt.where(AuditEvent.action == action)
    with get_db().read() as session:
        rows = session.scalars(stmt).all()
    return render_template("admin/audit.html", rows=rows, actions=AuditEvent.ACTIONS, action=action)


# ---------------------------------------------------------------------------------- settings


@bp.get("/settings")
@roles_required(ADMIN)
def settings_index():
    with get_db().read() as session:
        saved = {row.section: row for row in session.scalars(select(SavedSettings))}
    return render_template("admin/settings_index.html", pages=settings_store.PAGES, saved=saved)


@bp.route("/settings/<page>", methods=["GET", "POST"])
@roles_required(ADMIN)
def settings_page(page: str):
    """One settings page (红头, or one rule family): every key a field, validated by
    rules.settings.load_settings before it is saved; errors appear beside their fields."""
    if page not in settings_store.PAGES:
        raise ApiError(404)
    spec = settings_store.PAGES[page]
    errors: dict[str, list[str]] = {}
    posted: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if request.form.get("action") == "reset":
            settings_store.reset(page, current_user())
            flash(f"“{spec['title']}”已恢复为默认值。")
            return redirect(url_for("admin.settings_page", page=page))
        posted = {k: v for k, v in request.form.items() if k not in ("csrf_token", "action")}
        errors = settings_store.save_form(page, request.form, current_user())
        if not errors:
            flash(f"“{spec['title']}”已保存，新生成的文档即按新设置。")
            return redirect(url_for("admin.settings_page", page=page))
        status = 422
    fields = settings_store.form_fields(page, posted if posted else None, errors)
    return render_template("admin/settings.html", page=page, spec=spec, fields=fields, errors=errors), status


# ---------------------------------------------------------------------------------- templates


@bp.route("/templates", methods=["GET", "POST"])
@roles_required(ADMIN)
def templates():
    """Custom docx templates: each checked at upload (size, package, known variables only)."""
    from service import doctemplates

    errors: dict[str, list[str]] = {}
    status = 200
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        kind_id = form.get("kind", "")
        name = form.get("name", "").strip()[:100]
        upload = request.files.get("file")
        content = upload.read(doctemplates.MAX_TEMPLATE_BYTES + 1) if upload is not None else b""
        try:
            kind = kinds.get(kind_id)
        except kinds.UnknownKind as exc:
            errors["kind"] = [str(exc)]
            kind = None
        if not name:
            errors["name"] = [Messages.name_required]
        if kind is not None:
            problems, variables = doctemplates.check_upload(kind, content)
            errors.update(problems)
        if not errors:
            with get_db().write() as session:
                session.add(DocTemplate(kind=kind.id, name=name, content=content,
                                        variables_json=json.dumps(sorted(variables), ensure_ascii=False),
                                        uploaded_by_id=current_user().id, uploaded_at=utcnow()))
                audit.audit(session, "template_upload", target=f"template:{kind.id}:{name}")
            flash(f"模板“{name}”已上传，{kind.name}的页面上会出现“按模板下载”。")
            return redirect(url_for("admin.templates"))
        status = 422
    with get_db().read() as session:
        rows = session.scalars(select(DocTemplate).order_by(DocTemplate.kind, DocTemplate.name)).all()
    return render_template("admin/templates.html", rows=rows, kinds=kinds.all_kinds(), errors=errors, form=form,
                           limit_kb=doctemplates.MAX_TEMPLATE_BYTES // 1024,
                           kind_names={k.id: k.name for k in kinds.all_kinds()}), status


@bp.post("/templates/<template_id>/delete")
@roles_required(ADMIN)
def delete_template(template_id: str):
    with get_db().write() as session:
        tpl = session.scalar(select(DocTemplate).where(DocTemplate.public_id == template_id))
        if tpl is None:
            raise ApiError(404)
        audit.audit(session, "template_delete", target=f"template:{tpl.kind}:{tpl.name}")
        session.delete(tpl)
    flash("模板已删除。")
    return redirect(url_for("admin.templates"))


# ---------------------------------------------------------------------------------- seals


@bp.route("/seals", methods=["GET", "POST"])
@roles_required(ADMIN)
def seals():
    """The issuing organs' seal images and signing keys: registered here (checked at upload),
    kept under the data directory, never shown again."""
    from service.signing import data_dir
    from storage import seals as registry

    errors: dict[str, list[str]] = {}
    status = 200
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        image = request.files.get("seal_image")
        p12 = request.files.get("p12")
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        p12_bytes = p12.read(limit) if p12 is not None and p12.filename else None
        pkcs11 = None
        if form.get("key_kind") == "pkcs11":
            p12_bytes = None
            pkcs11 = {"library": form.get("pkcs11_library", ""), "token_label": form.get("token_label", ""),
                      "key_label": form.get("key_label", ""), "pin": form.get("pin", "")}
        try:
            organ = registry.register(data_dir(), form.get("organ", ""),
                                      image.read(limit) if image is not None and image.filename else b"",
                                      settings_store.current_settings(), p12=p12_bytes,
                                      password=form.get("password", ""), pkcs11=pkcs11,
                                      registered_by=current_user().username)
        except FieldErrors as exc:
            errors = exc.errors
            status = 422
        else:
            with get_db().write() as session:
                audit.audit(session, "seal_register", target=f"organ:{organ.name}"[:200],
                           comment=f"证书 {organ.subject}，指纹 {organ.fingerprint}")
            flash(f"已登记“{organ.name}”的印章和签名证书。")
            return redirect(url_for("admin.seals"))
    return render_template("admin/seals.html", organs=registry.organs(data_dir()), errors=errors,
                           form={k: v for k, v in form.items() if k not in ("password", "pin")},
                           upload=settings_store.current_settings()["signing"]["upload"]), status


@bp.post("/seals/remove")
@roles_required(ADMIN)
def remove_seal():
    from service.signing import data_dir
    from storage import seals as registry

    organ = request.form.get("organ", "")
    if not registry.remove(data_dir(), organ):
        raise ApiError(404)
    with get_db().write() as session:
        audit.audit(session, "seal_remove", target=f"organ:{organ}"[:200])
    flash(f"已删除“{organ}”的印章和签名证书。")
    return redirect(url_for("admin.seals"))
