"""HTML forms generated from the marshmallow schemas of the registry.

`widgets(schema, values, errors)` walks a schema's declared fields and returns a tree the
`form.html` macros render: text inputs, text areas, selects, check boxes (one, or a set for a
multi-value field such as 偏差原因), repeatable lists of texts (主送机关, 签发人, 抄送 …),
repeatable groups of fields (附件, 指标 …), keyed entries (a framework's 末级指标 scores) and
stored documents to attach (the 公开 form's 自评表s). Field names are dotted paths
("attachments.0.name"), the same paths the error envelope uses, so each message lands beside its
field. `parse_form` turns the posted pairs back into the nested payload, walking the same schema:
an optional field left empty is left out (its default applies — never 0, never an error), an
optional group whose inputs are all empty is left out, and chosen documents become their data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, fields, validate
from werkzeug.datastructures import MultiDict

from forms import fields as jf


@dataclass
class Option:
    """A stored document the form may attach: its opaque id, what the clerk reads, its data."""

    id: str
    label: str
    data: dict


# kind id → the documents of that kind the signed-in user may attach (service.web finds them).
Sources = Mapping[str, list[Option]]


@dataclass
class Widget:
    name: str  # dotted path
    label: str
    type: str  # text, textarea, select, checkbox, checks, date, money, score, list, group, object, attach
    value: Any = ""
    errors: list[str] = field(default_factory=list)
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    children: list[Any] = field(default_factory=list)  # object: [Widget]; group: [[Widget]]; list: [str]
    template: list[Widget] = field(default_factory=list)  # group: blank row for “添加”
    help: str = ""
    group: str = ""
    placeholder: str = ""
    autocomplete: str = ""  # schema metadata "autocomplete" (e.g. "indicator": the 指标库 search)
    multiple: bool = False  # attach: several documents (check boxes) or one (a select)
    suggest: str = ""  # schema metadata "suggest": the name of a list offered while typing (a datalist)

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-")


def _choices(f: fields.Field) -> list[tuple[str, str]]:
    """(value, label) of a field with a fixed list: a OneOf validator, or metadata "choices"
    (value → label) on a field that also takes the labels themselves (完成目标可能性 …)."""
    labels = f.metadata.get("choices", {})
    for v in f.validators:
        if isinstance(v, validate.OneOf):
            return [(str(c), labels.get(c, c) or "（无）") for c in v.choices]
    return [(str(k), str(v)) for k, v in labels.items()]


def _choice_value(f: fields.Field, value: Any) -> str:
    """The option a stored value selects: its key, also when the label itself was stored."""
    text = "" if value is None else str(value)
    for key, label in _choices(f):
        if text == label:
            return key
    return text


def _schema_of(f: fields.Nested) -> Schema:
    nested = f.nested
    return nested() if isinstance(nested, type) else nested


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _scalar(f: fields.Field, common: dict, value: Any) -> Widget:
    if isinstance(f, fields.Boolean):
        default = f.load_default if isinstance(f.load_default, bool) else False
        checked = default if value is None else value in (True, "true", "on", "1")
        return Widget(type="checkbox", value=checked, **common)
    if f.metadata.get("multiple") and _choices(f):
        items = value if isinstance(value, list) else [v for v in _text(value).replace("，", "、").split("、") if v]
        return Widget(type="checks", value=[_choice_value(f, v) for v in items], choices=_choices(f), **common)
    if _choices(f):
        choices = _choices(f)
        if (not f.required or value in (None, "")) and "" not in dict(choices):
            choices = [("", "（未选择）")] + choices
        if value not in (None, "") and _choice_value(f, value) not in dict(choices):
            choices = choices + [(str(value), str(value))]  # as stored (an import's “>=”): never lost
        return Widget(type="select", value=_choice_value(f, value), choices=choices, **common)
    if isinstance(f, jf.ChineseDate):
        return Widget(type="date", value=_text(value), placeholder="2024年7月1日", **common)
    if isinstance(f, jf.Score):  # points, not money: no 大写
        return Widget(type="score", value=_text(value), **common)
    if isinstance(f, jf.Money):
        return Widget(type="money", value=_text(value), placeholder="0.00" if f.required else "可不填", **common)
    if isinstance(f, jf.Text) and f.multiline:
        return Widget(type="textarea", value=_text(value), **common)
    if isinstance(value, list):  # a multi-value field kept as one line: 、-separated, round-trips
        value = "、".join(str(v) for v in value)
    return Widget(type="text", value=_text(value), **common)


def _chosen(options: list[Option], values: list[Any]) -> list[str]:
    """The ids of the options whose data the stored values are (each option once: the same
    table filed twice is two options)."""
    chosen: list[str] = []
    for same in (lambda a, b: a == b, lambda a, b: _identity(a) == _identity(b)):
        for value in values:
            for option in options:
                if option.id not in chosen and isinstance(value, dict) and same(option.data, value):
                    chosen.append(option.id)
                    break
        if chosen:
            return chosen
    return chosen


def _identity(data: dict) -> tuple:
    """What names a table whose stored form differs from the one attached (normalised on submit)."""
    return (data.get("project_name") or data.get("unit"), str(data.get("year", "")))


def widgets(schema: Schema, values: dict | None, errors: dict[str, list[str]], prefix: str = "",
            sources: Sources | None = None) -> list[Widget]:
    values = values if isinstance(values, dict) else {}
    sources = sources or {}
    out: list[Widget] = []
    for key, f in schema.fields.items():
        if f.dump_only:
            continue
        name = f"{prefix}{key}"
        value = values.get(key)
        common = dict(name=name, label=f.metadata.get("label", key), errors=errors.get(name, []),
                      required=f.required, help=f.metadata.get("help", ""), group=f.metadata.get("group", ""),
                      autocomplete=f.metadata.get("autocomplete", ""), suggest=f.metadata.get("suggest", ""))
        attach = f.metadata.get("attach")
        if attach:
            options = sources.get(attach, [])
            many = isinstance(f, fields.List)
            chosen = _chosen(options, (value or []) if many else [value])
            out.append(Widget(type="attach", multiple=many, value=chosen,
                              choices=[(o.id, o.label) for o in options], **common))
        elif isinstance(f, fields.Nested):
            out.append(Widget(type="object", children=widgets(_schema_of(f), value, errors, name + ".", sources), **common))
        elif isinstance(f, fields.List) and isinstance(f.inner, fields.Nested):
            rows = value if isinstance(value, list) else []
            inner = _schema_of(f.inner)
            children = [widgets(inner, row, errors, f"{name}.{i}.", sources) for i, row in enumerate(rows)]
            template = widgets(inner, {}, {}, f"{name}.__index__.", sources)
            out.append(Widget(type="group", children=children, template=template, **common))
        elif isinstance(f, fields.List):
            items = value if isinstance(value, list) else ([] if value in (None, "") else [value])
            w = Widget(type="list", children=[str(v) for v in items], **common)
            w.errors = w.errors + [m for i in range(len(items)) for m in errors.get(f"{name}.{i}", [])]
            out.append(w)
        elif isinstance(f, fields.Dict) and hasattr(schema, "entries"):
            entries = schema.entries(key, values)  # [(key, label, "score" | "textarea")]
            got = value if isinstance(value, dict) else {}
            children = [Widget(name=f"{name}.{k}", label=label, type=kind, value=_text(got.get(k)),
                               errors=errors.get(f"{name}.{k}", [])) for k, label, kind in entries]
            out.append(Widget(type="object", children=children, **common))
        else:
            out.append(_scalar(f, common, value))
    return out


def placed(widgets_: list[Widget]) -> set[str]:
    """The error paths the form shows beside a widget: every widget's own name, and the items of
    lists (whose messages the list widget gathers)."""
    names: set[str] = set()
    for w in widgets_:
        names.add(w.name)
        if w.type == "object":
            names |= placed(w.children)
        elif w.type == "group":
            for row in w.children:
                names |= placed(row)
        elif w.type == "list":
            names |= {f"{w.name}.{i}" for i in range(len(w.children))}
    return names


def error_links(widgets_: list[Widget], trail: str = "") -> list[tuple[str, str, str]]:
    """(input id, where in Chinese, message) of every error shown on the form, in page order,
    for the summary at the top of a refused form."""
    out: list[tuple[str, str, str]] = []
    for w in widgets_:
        where = f"{trail}{w.label}"
        if w.errors:
            target = w.id if w.type not in ("object", "group", "list", "checks", "attach") else w.id + "-legend"
            out += [(target, where, m) for m in w.errors]
        if w.type == "object":
            out += error_links(w.children, where + " · ")
        elif w.type == "group":
            for i, row in enumerate(w.children):
                out += error_links(row, f"{where} 第{i + 1}行 · ")
    return out


# Posted by the page itself, not fields of the document: the CSRF token, the pressed button,
# the id of the draft being edited and its version.
CONTROL_NAMES = ("csrf_token", "action", "draft", "version")
_MISSING = object()


# A warning is confirmed on the form by a check box named CONFIRM whose value is the warning's
# key, with its explanation in a field named EXPLAIN + key (keys hold dots, which name nesting;
# parse_form reads only the schema's fields, so neither reaches the document's data).
CONFIRM, EXPLAIN = "confirm", "explain:"


def parse_confirmations(form: MultiDict) -> dict[str, str]:
    """{warning key: explanation} of the warnings the clerk ticked."""
    return {key: form.get(EXPLAIN + key, "") for key in form.getlist(CONFIRM) if key}


def parse_form(form: MultiDict, schema: Schema, sources: Sources | None = None) -> dict:
    """Posted pairs → nested payload, read field by field along the schema. A check box posts a
    hidden "false" before its "true", so the last value wins; a set of check boxes posts a hidden
    "" first, so none checked is an empty list; the template row of repeatable groups
    ("__index__") is ignored."""
    raw = {name: form.getlist(name) for name in form.keys()
           if name not in CONTROL_NAMES and "__index__" not in name}
    by_id = {o.id: o.data for options in (sources or {}).values() for o in options}
    return _parse(schema, raw, "", by_id)


def _parse(schema: Schema, raw: dict[str, list[str]], prefix: str, by_id: dict[str, dict]) -> dict:
    out: dict = {}
    for key, f in schema.fields.items():
        if f.dump_only:
            continue
        value = _parse_field(schema, key, f, raw, prefix + key, by_id)
        if value is not _MISSING:
            out[key] = value
    return out


def _under(raw: dict, name: str) -> list[str]:
    head = name + "."
    return [k[len(head):] for k in raw if k.startswith(head)]


def _last(raw: dict, name: str) -> str:
    values = raw.get(name) or [""]
    return values[-1]


def _parse_field(schema: Schema, key: str, f: fields.Field, raw: dict, name: str, by_id: dict) -> Any:
    if f.metadata.get("attach"):
        if name not in raw:
            return _MISSING
        ids = [v for v in raw[name] if v]
        if isinstance(f, fields.List):
            return [by_id[i] for i in ids if i in by_id]
        return by_id.get(ids[-1]) if ids else _MISSING
    if isinstance(f, fields.Nested):
        if not _under(raw, name):
            return _MISSING
        sub = _parse(_schema_of(f), raw, name + ".", by_id)
        return _MISSING if not f.required and _blank(sub) else sub
    if isinstance(f, fields.List) and isinstance(f.inner, fields.Nested):
        indices = sorted({int(rest.split(".", 1)[0]) for rest in _under(raw, name) if rest.split(".", 1)[0].isdigit()})
        rows = [_parse(_schema_of(f.inner), raw, f"{name}.{i}.", by_id) for i in indices]
        return [row for row in rows if not _blank(row)]
    if isinstance(f, fields.List):
        if name in raw:  # one text, one item a line
            return _last(raw, name)
        indices = sorted(int(rest) for rest in _under(raw, name) if rest.isdigit())
        items = [_last(raw, f"{name}.{i}").strip() for i in indices]
        return [item for item in items if item] if indices else _MISSING
    if isinstance(f, fields.Dict):
        entries = {rest: _last(raw, f"{name}.{rest}") for rest in _under(raw, name)}
        return {k: v for k, v in entries.items() if v.strip()}
    if name not in raw:
        return _MISSING
    if isinstance(f, fields.Boolean):
        return _last(raw, name) in ("true", "on", "1")
    if f.metadata.get("multiple") and _choices(f):
        return [v for v in raw[name] if v]
    value = _last(raw, name)
    if not value.strip() and not f.required:
        return _MISSING  # an empty optional field takes its default (None, "", [])
    return value


def _blank(item: Any) -> bool:
    """Nothing typed: empty texts and lists; a check box alone (a default such as 加盖印章) does
    not make a record."""
    if isinstance(item, dict):
        return all(_blank(v) for v in item.values())
    if isinstance(item, list):
        return all(_blank(v) for v in item)
    return item in ("", None) or isinstance(item, bool)


def path_label(schema: Schema, path: str) -> str:
    """An error path in Chinese, by the fields' labels (“indicators.2.weight” → “年度绩效指标 ·
    第3行 · 分值”); what no field names (a framework's code) is kept as written."""
    if path == "_schema":
        return path
    out: list[str] = []
    parts = path.split(".")
    current: Schema | None = schema
    for i, part in enumerate(parts):
        f = current.fields.get(part) if current is not None else None
        if f is None:
            if not part.isdigit():
                out.append(".".join(parts[i:]))
                break
            out.append(f"第{int(part) + 1}行")
            continue
        out.append(f.metadata.get("label", part))
        current = None
        if isinstance(f, fields.Nested):
            current = _schema_of(f)
        elif isinstance(f, fields.List) and isinstance(f.inner, fields.Nested):
            current = _schema_of(f.inner)
    return " · ".join(out)
