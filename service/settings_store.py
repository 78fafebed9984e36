"""The settings in force: defaults, then the deployment's settings file (JXDOC_SETTINGS_FILE),
then what the administrator saved in the browser (table saved_settings, one row per section).

The merged settings are validated by rules.settings.load_settings and kept per process; each
request compares a cheap version stamp of the saved rows (count, latest change), so a change
saved in one gunicorn worker is in force in every worker from their next request.

The administrator's pages (service.admin) are generated from the defaults: every leaf key of a
section becomes a field of the type of its default (text, number, yes/no, a list one item a
line; tables of rows as JSON). Validator messages start with the key path they concern
("execution.explain_below_percent须…", "weights：…"), which is how each lands beside its field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app, g, has_request_context

from forms.settings import FORM_VALIDATORS
from generators.gongwen.geometry import imprint_page_problem, indent_char_problem
from rules.settings import (
    SettingsError,
    Validator,
    deep_merge,
    default_values,
    read_override_file,
    thaw,
)
from rules.settings import load_settings as load_rule_settings

# The 红头 a bureau prints on its documents: offered as the defaults of new 公文 forms.
LETTERHEAD_DEFAULTS = {"issuer": "", "issuer_code": "", "issuer_mark": ""}


def validate_letterhead(section: Mapping[str, Any]) -> list[str]:
    problems = []
    issuer = section.get("issuer", "")
    if not isinstance(issuer, str) or len(issuer) > 40:
        problems.append("issuer：发文机关名称不能超过40个字。")
    code = section.get("issuer_code", "")
    if not isinstance(code, str) or len(code) > 20 or re.search(r"[〔〕\[\]（）()【】\d\s]", code or ""):
        problems.append("issuer_code：机关代字只写代字本身（如“青财绩”），不含年份、括号和序号，不超过20个字。")
    mark = section.get("issuer_mark", "")
    if not isinstance(mark, str) or len(mark) > 80:
        problems.append("issuer_mark：发文机关标志不能超过80个字。")
    return problems



def validate_layout_choices(section: Mapping[str, Any]) -> list[str]:
    """What the 红头 page lets an administrator type: colours and font names. (Page geometry is
    the renderers' business; only plainly impossible values are refused here.)"""
    problems = []
    for key, value in (section.get("colors") or {}).items():
        if not isinstance(value, str) or not re.fullmatch(r"[0-9A-Fa-f]{6}", value):
            problems.append(f"colors.{key}：颜色应写成6位十六进制RGB，如 FF0000（红）。")
    for key, value in (section.get("fonts") or {}).items():
        if not isinstance(value, str) or not value.strip() or len(value) > 40 or re.search(r"[<>\"&;{}]", value):
            problems.append(f"fonts.{key}：请填写字体名称（不超过40个字，不含 < > \" & ; {{ }}）。")
    for table in ("mark", "rule", "page", "sizes", "letter", "imprint", "page_number"):
        for key, value in (section.get(table) or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                problems.append(f"{table}.{key}：不能为负数。")
    numbers = section.get("page_number") or {}
    for problem in (indent_char_problem(numbers.get("indent_char", "body")),
                    imprint_page_problem(numbers.get("imprint_page", "numbered"))):
        if problem:
            problems.append(problem)
    mark = section.get("mark") or {}
    if isinstance(mark.get("min_pt"), (int, float)) and isinstance(mark.get("max_pt"), (int, float)) \
            and mark["min_pt"] > mark["max_pt"]:
        problems.append("mark.min_pt：最小字号不能大于最大字号。")
    return problems


# Every section the service's settings hold, checked explicitly (nothing registers on import).
SERVICE_VALIDATORS: Mapping[str, Validator] = {
    **FORM_VALIDATORS,
    "letterhead": validate_letterhead,
    "layout": validate_layout_choices,
}


def load_settings(*overrides: Mapping | None) -> Mapping[str, Any]:
    """The settings loader of the service, the CLI and anything above them: every section checked."""
    return load_rule_settings(*overrides, validators=SERVICE_VALIDATORS)


def _file_override(app) -> dict | None:
    path = app.config.get("SETTINGS_FILE")
    return read_override_file(path) if path else None


def init_app(app) -> None:
    base = {"letterhead": dict(LETTERHEAD_DEFAULTS)}
    override = _file_override(app)
    app.extensions["jxdoc.settings_base"] = (base, override)
    app.extensions["jxdoc.settings"] = load_settings(base, override)
    app.extensions["jxdoc.settings_version"] = None


def _saved_rows(app) -> tuple[tuple, dict]:
    from sqlalchemy import func, select
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from service.database import get_db
    from storage.models import SavedSettings

    try:
        with get_db(app).read() as session:
            version = tuple(session.execute(select(func.count(), func.max(SavedSettings.updated_at))).one())
            if version == tuple(app.extensions.get("jxdoc.settings_version") or ()):
                return version, {}
            rows = {row.section: json.loads(row.values_json) for row in session.scalars(select(SavedSettings))}
    except (OperationalError, ProgrammingError):
        return (0, None), {}  # the database is not migrated yet (CLI before `db upgrade`)
    return version, rows


def current_override() -> dict:
    """The settings in force as one override of the defaults, JSON-safe: for work done outside
    the request (a document the batch runner renders, jobs.work.settings_for), so that it looks
    exactly as the request would have made it."""
    from sqlalchemy import select

    from service.database import get_db
    from storage.models import SavedSettings

    base, override = current_app.extensions["jxdoc.settings_base"]
    merged = deep_merge(base, override or {})
    with get_db().read() as session:
        for row in session.scalars(select(SavedSettings)):
            merged = deep_merge(merged, {row.section: json.loads(row.values_json)})
    return json.loads(json.dumps(merged, ensure_ascii=False, default=str))


def current_settings() -> Mapping[str, Any]:
    app = current_app
    if has_request_context() and "jxdoc_settings" in g:
        return g.jxdoc_settings
    version, rows = _saved_rows(app)
    if version != app.extensions.get("jxdoc.settings_version"):
        base, override = app.extensions["jxdoc.settings_base"]
        try:
            settings = load_settings(base, override, rows)
        except SettingsError:
            # Saved values that no longer pass (new rules after an upgrade): keep documents
            # working on the file settings and say so in the log; the admin page shows the errors.
            app.logger.exception("saved settings are invalid; using defaults and the settings file")
            settings = load_settings(base, override)
        app.extensions["jxdoc.settings"] = settings
        app.extensions["jxdoc.settings_version"] = version
    settings = app.extensions["jxdoc.settings"]
    if has_request_context():
        g.jxdoc_settings = settings
    return settings


# ---------------------------------------------------------------------------------- pages


PAGES: dict[str, dict[str, Any]] = {
    "letterhead": {
        "title": "红头",
        "help": "发文机关名称、机关代字、发文机关标志，以及红头的颜色、字体和版头尺寸。",
        "parts": [("letterhead", ""), ("layout", "colors"), ("layout", "fonts"), ("layout", "mark"),
                  ("layout", "rule")],
    },
    "layout": {
        "title": "版式",
        "help": "GB/T 9704—2012 版式：页面、字号、信函格式、版记、页码、署名。",
        "parts": [("layout", "page"), ("layout", "sizes"), ("layout", "letter"), ("layout", "imprint"),
                  ("layout", "page_number"), ("layout", "signature"), ("layout", "title")],
    },
    "official": {"title": "公文规则", "help": "各文种的标题文种、请示和报告的规则、行文方向。",
                 "parts": [("official", "")]},
    "declaration": {"title": "绩效目标申报规则", "help": "指标层级、量化率、满意度、申报表金额核对。",
                    "parts": [("declaration", ""), ("target_declaration", "")]},
    "target_review": {"title": "绩效目标审核", "help": "审核的四项标准及分值、审核结论。",
                      "parts": [("target_review", "")]},
    "monitoring": {"title": "运行监控", "help": "执行率口径、完成率算法、监控期间的截止日期。",
                   "parts": [("monitoring", "")]},
    "scoring": {"title": "评分规则（权重、阈值）", "help": "自评表一级指标权重、定性档次、等级分数线。",
                "parts": [("scoring", "")]},
    "public_funds": {"title": "公用经费考核", "help": "基础和绩效公用经费比例、兑现规则。",
                     "parts": [("public_funds", "")]},
    "signing": {"title": "签章与归档", "help": "电子签名级别和时间戳服务、默认签章机关、批量公开是否签章和生成PDF/A、"
                                            "印章尺寸与位置（印章和证书在“印章与签名证书”页面登记）。",
                "parts": [("signing", "")]},
}

for _spec in PAGES.values():
    _spec["sections"] = sorted({section for section, _ in _spec["parts"]})

LABELS = {
    "letterhead.issuer": "发文机关名称",
    "letterhead.issuer_code": "机关代字",
    "letterhead.issuer_mark": "发文机关标志（每行一个机关，留空则用发文机关名称）",
    "layout.colors.red": "红色（红头、分隔线，十六进制RGB）",
    "layout.colors.black": "黑色（正文，十六进制RGB）",
    "layout.fonts.xiaobiaosong": "标题字体（小标宋）",
    "layout.fonts.fangsong": "正文字体（仿宋）",
    "layout.fonts.heiti": "一级标题字体（黑体）",
    "layout.fonts.kaiti": "二级标题字体（楷体）",
    "layout.fonts.songti": "宋体",
    "layout.fonts.latin": "西文字体",
    "layout.mark.top_offset_mm": "发文机关标志上边缘距版心上边缘（毫米）",
    "layout.mark.letter_top_mm": "信函格式标志上边缘距页面上边缘（毫米）",
    "layout.mark.max_pt": "发文机关标志最大字号（磅）",
    "layout.mark.min_pt": "发文机关标志最小字号（磅）",
    "layout.mark.char_scale": "发文机关标志字符横向缩放",
    "layout.mark.joint_suffix_gap_chars": "联合发文机关名称与“文件”的间距（字）",
    "layout.rule.gap_mm": "分隔线距发文字号（毫米）",
    "layout.rule.thickness_pt": "分隔线粗细（磅）",
    "layout.rule.star": "党的机关分隔线中的符号",
    "layout.rule.star_pt": "分隔线中五角星的直径（磅）",
    "layout.rule.star_gap_pt": "分隔线在五角星两侧断开的距离（磅）",
    "layout.page_number.offset_mm": "页码一字线上距版心下边缘（毫米）",
    "layout.page_number.indent_chars": "单页码居右、双页码居左空几个字",
    "layout.page_number.indent_char": "页码缩进的“字”：body（正文三号字）或 number（页码四号字）",
    "layout.page_number.imprint_page": "版记单独成页时：numbered（照常编页码）或 unnumbered（不编页码）",
    "layout.letter.first_line_gap_em": "信函格式首行距上双线（三号字高的倍数，标准为7/8）",
    "scoring.weights.execution": "预算执行率权重",
    "scoring.weights.output": "产出指标权重",
    "scoring.weights.benefit": "效益指标权重",
    "scoring.weights.satisfaction": "满意度指标权重",
    "scoring.execution.explain_below_percent": "执行率低于此百分比须说明原因",
    "scoring.indicator.over_achievement_percent": "超额完成须说明的百分比",
    "declaration.indicators.min_quantified_ratio": "量化指标最低占比",
    "monitoring.periods.default_due_day": "未单独设置的期间：次月第几日截止",
    "public_funds.base_percent": "基础公用经费比例（%）",
    "public_funds.performance_percent": "绩效公用经费比例（%）",
    "public_funds.threshold_score": "门槛分数",
    "target_review.rules.approve_min_score": "“通过”所需最低总分",
    "signing.signature.level": "签名级别（B-B，或配合时间戳服务的 B-T）",
    "signing.signature.timestamp_url": "时间戳服务地址（RFC 3161，B-T 必填）",
    "signing.signature.reason": "签名理由",
    "signing.signature.location": "签名地点",
    "signing.signature.organ": "默认签章机关（表格、公开文件等无署名的文件；留空则用唯一登记的机关）",
    "signing.batches.sign": "批量公开时对每个单位的PDF签章",
    "signing.batches.pdfa": "批量公开时生成PDF/A-2b（归档）",
    "signing.seal.diameter_mm": "印章直径（毫米）",
    "signing.seal.date_below_centre_mm": "成文日期中心在印章中心以下（毫米）",
    "signing.seal.horizontal_offset_mm": "印章中心相对成文日期中心右移（毫米，负数左移）",
    "signing.seal.joint_gap_mm": "联合行文印章间距（毫米，须大于0）",
    "signing.upload.max_kb": "印章图片大小上限（KB）",
    "signing.upload.min_px": "印章图片最小边长（像素）",
    "signing.upload.max_px": "印章图片最大边长（像素）",
}


@dataclass
class Field:
    name: str  # "section.path.to.key"
    label: str
    type: str  # text, number, bool, lines, json
    value: Any
    errors: list[str] = field(default_factory=list)
    group: str = ""

    @property
    def id(self) -> str:
        return "s-" + re.sub(r"[^A-Za-z0-9_-]", "_", self.name)


def _defaults() -> dict:
    values = default_values()
    values["letterhead"] = dict(LETTERHEAD_DEFAULTS)
    return values


def _leaves(value: Any, path: str) -> list[tuple[str, Any]]:
    if isinstance(value, Mapping):
        out = []
        for key, sub in value.items():
            out += _leaves(sub, f"{path}.{key}" if path else str(key))
        return out
    return [(path, value)]


def _part_leaves(defaults: dict, section: str, sub: str) -> list[tuple[str, Any]]:
    node = defaults.get(section, {})
    if sub:
        node = node.get(sub, {})
    return [(f"{section}.{sub + '.' if sub else ''}{path}", value) for path, value in _leaves(node, "")]


def _kind_of(default: Any) -> str:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, (int, float)):
        return "number"
    if isinstance(default, list):
        return "json" if any(isinstance(item, (dict, list)) for item in default) else "lines"
    return "text"


def _get(tree: Mapping, dotted: str) -> Any:
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _display(kind: str, value: Any) -> Any:
    if kind == "bool":
        return bool(value)
    if kind == "lines":
        return "\n".join(str(v) for v in (value or []))
    if kind == "json":
        return json.dumps(thaw(value), ensure_ascii=False, indent=1)
    return "" if value is None else str(value)


def form_fields(page: str, posted: Mapping[str, str] | None, errors: Mapping[str, list[str]]) -> list[Field]:
    """The fields of a settings page with the values in force (or those just posted)."""
    defaults = _defaults()
    in_force = current_settings()
    out = []
    for section, sub in PAGES[page]["parts"]:
        for name, default in _part_leaves(defaults, section, sub):
            kind = _kind_of(default)
            if posted is not None:
                value = posted.get(name, "") if kind != "bool" else posted.get(name) == "true"
            else:
                value = _display(kind, _get(in_force, name))
            group = name.rsplit(".", 1)[0] if "." in name.split(".", 1)[1] else section
            out.append(Field(name=name, label=LABELS.get(name, name.split(".", 1)[1]), type=kind, value=value,
                             errors=list(errors.get(name, [])), group=group))
    return out


class Messages:
    number = "应为数字。"
    integer = "应为整数。"
    json = "应为JSON格式的表格（与默认值的写法相同）：{error}"
    too_long = "内容过长。"


def _parse(section: str, kind: str, default: Any, raw: str) -> Any:
    raw = raw.strip() if isinstance(raw, str) else raw
    if len(str(raw)) > 20000:
        raise ValueError(Messages.too_long)
    if kind == "bool":
        return raw in ("true", "on", "1")
    if kind == "number":
        try:
            number = Decimal(raw.replace(",", ""))
        except InvalidOperation:
            raise ValueError(Messages.number) from None
        if not number.is_finite():
            raise ValueError(Messages.number)
        if number == number.to_integral_value():
            return int(number)
        if section == "layout" or isinstance(default, float):
            return float(number)  # page geometry goes to the renderers as numbers
        return str(number)  # rules keep fractional values as exact decimal strings
    if kind == "lines":
        items = [line.strip() for line in raw.splitlines() if line.strip()]
        if default and all(isinstance(v, int) and not isinstance(v, bool) for v in default):
            try:
                return [int(i) for i in items]
            except ValueError:
                raise ValueError(Messages.integer) from None
        return items
    if kind == "json":
        try:
            return json.loads(raw or "[]")
        except json.JSONDecodeError as exc:
            raise ValueError(Messages.json.format(error=exc.msg)) from None
    return raw


def _set(tree: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _saved_all() -> dict[str, dict]:
    from sqlalchemy import select

    from service.database import get_db
    from storage.models import SavedSettings

    with get_db().read() as session:
        return {row.section: json.loads(row.values_json) for row in session.scalars(select(SavedSettings))}


def _place(message: str, names: list[str]) -> str | None:
    """The field a validator message is about: the one whose key path (or the longest part of
    it) the message starts with; a message about a whole table goes to the table's first field."""
    best: tuple[int, str] | None = None
    for name in names:
        head = name.split(".", 1)[1].split(".")
        for depth in range(len(head), 0, -1):
            prefix = ".".join(head[:depth])
            rest = message[len(prefix):len(prefix) + 1]
            if message.startswith(prefix) and not re.match(r"[A-Za-z0-9_]", rest):
                if best is None or depth > best[0]:
                    best = (depth, name)
                break
    return best[1] if best else None


def save_form(page: str, form: Mapping[str, str], user) -> dict[str, list[str]]:
    """Parse, validate (with everything else in force) and save one page; the field errors or {}."""
    from forms.base import illegal_characters
    from service import audit
    from service.database import get_db
    from storage.models import SavedSettings, utcnow

    defaults = _defaults()
    errors: dict[str, list[str]] = {}
    new: dict[str, dict] = {}
    names: list[str] = []
    for section, sub in PAGES[page]["parts"]:
        for name, default in _part_leaves(defaults, section, sub):
            names.append(name)
            kind = _kind_of(default)
            raw = form.get(name, "") if kind != "bool" else form.get(name, "false")
            if kind != "bool":
                bad = illegal_characters({name: raw})
                if bad:
                    errors.update(bad)
                    continue
            try:
                value = _parse(section, kind, default, raw)
            except ValueError as exc:
                errors[name] = [str(exc)]
                continue
            _set(new.setdefault(section, {}), name.split(".", 1)[1], value)
    if errors:
        return errors
    saved = _saved_all()
    candidate = {section: deep_merge(saved.get(section, {}), values) for section, values in new.items()}
    for section, values in candidate.items():
        # Whole tables given as JSON replace the saved ones instead of merging item by item.
        for name in names:
            if name.startswith(section + ".") and _kind_of(_get(defaults, name)) in ("json", "lines"):
                _set(values, name.split(".", 1)[1], _get(new[section], name.split(".", 1)[1]))
    base, override = current_app.extensions["jxdoc.settings_base"]
    try:
        load_settings(base, override, {**saved, **candidate})
    except SettingsError as exc:
        for section, messages in exc.messages.items():
            section_names = [n for n in names if n.startswith(section + ".")]
            for message in messages:
                target = _place(message, section_names) if section_names else None
                errors.setdefault(target or "_page", []).append(message if target or not section_names
                                                                else f"{section}：{message}")
        return errors
    with get_db().write() as session:
        from sqlalchemy import select

        for section, values in candidate.items():
            row = session.scalar(select(SavedSettings).where(SavedSettings.section == section))
            if row is None:
                row = SavedSettings(section=section)
                session.add(row)
            row.values_json = json.dumps(values, ensure_ascii=False, sort_keys=True)
            row.updated_at, row.updated_by_id = utcnow(), user.id if user else None
        audit.audit(session, "settings_save", user=user, target=f"settings:{page}",
                   comment=json.dumps(new, ensure_ascii=False)[:2000])
    if has_request_context():
        g.pop("jxdoc_settings", None)
    return {}


def reset(page: str, user) -> None:
    """Forget what was saved on this page: defaults and the settings file apply again."""
    from sqlalchemy import select

    from service import audit
    from service.database import get_db
    from storage.models import SavedSettings, utcnow

    with get_db().write() as session:
        for section, sub in PAGES[page]["parts"]:
            row = session.scalar(select(SavedSettings).where(SavedSettings.section == section))
            if row is None:
                continue
            values = json.loads(row.values_json)
            if sub:
                values.pop(sub, None)
            if not sub or not values:
                session.delete(row)
                session.flush()
            else:
                row.values_json = json.dumps(values, ensure_ascii=False, sort_keys=True)
                row.updated_at, row.updated_by_id = utcnow(), user.id if user else None
        audit.audit(session, "settings_reset", user=user, target=f"settings:{page}")
    if has_request_context():
        g.pop("jxdoc_settings", None)
