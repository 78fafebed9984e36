"""HTML forms generated from the marshmallow schemas of the registry.

`widgets(schema, values, errors)` walks a schema's declared fields and returns a tree the
`form.html` macros render: text inputs, text areas, selects, check boxes, repeatable lists of
texts (主送机关, 签发人, 抄送 …) and repeatable groups of fields (附件, 指标 …). Field names are dotted
paths ("attachments.0.name"), the same paths the error envelope uses, so each message lands
beside its field. `parse_form` turns the posted pairs back into the nested payload.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, fields, validate
from werkzeug.datastructures import MultiDict

from forms import fields as jf


@dataclass
class Widget:
    name: str  # dotted path
    label: str
    type: str  # text, textarea, select, checkbox, date, money, list, group, object
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

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-")


def _choices(f: fields.Field) -> list[tuple[str, str]]:
    labels = f.metadata.get("choices", {})
    for v in f.validators:
        if isinstance(v, validate.OneOf):
            return [(str(c), labels.get(c, c) or "（无）") for c in v.choices]
    return []


def _schema_of(f: fields.Nested) -> Schema:
    nested = f.nested
    return nested() if isinstance(nested, type) else nested


def _errors_under(errors: dict[str, list[str]], name: str) -> list[str]:
    return errors.get(name, [])


def widgets(schema: Schema, values: dict | None, errors: dict[str, list[str]], prefix: str = "") -> list[Widget]:
    values = values if isinstance(values, dict) else {}
    out: list[Widget] = []
    for key, f in schema.fields.items():
        if f.dump_only:
            continue
        name = f"{prefix}{key}"
        label = f.metadata.get("label", key)
        value = values.get(key)
        common = dict(name=name, label=label, errors=_errors_under(errors, name), required=f.required,
                      help=f.metadata.get("help", ""), group=f.metadata.get("group", ""),
                      autocomplete=f.metadata.get("autocomplete", ""))
        if isinstance(f, fields.Nested):
            out.append(Widget(type="object", children=widgets(_schema_of(f), value, errors, name + "."), **common))
        elif isinstance(f, fields.List) and isinstance(f.inner, fields.Nested):
            rows = value if isinstance(value, list) else []
            inner = _schema_of(f.inner)
            children = [widgets(inner, row, errors, f"{name}.{i}.") for i, row in enumerate(rows)]
            template = widgets(inner, {}, {}, f"{name}.__index__.")
            out.append(Widget(type="group", children=children, template=template, **common))
        elif isinstance(f, jf.TextList) or isinstance(f, fields.List):
            items = value if isinstance(value, list) else ([] if value in (None, "") else [value])
            item_errors = {i: errors.get(f"{name}.{i}", []) for i in range(len(items))}
            w = Widget(type="list", children=[str(v) for v in items], **common)
            w.errors = w.errors + [m for i, msgs in item_errors.items() for m in msgs]
            out.append(w)
        elif isinstance(f, fields.Boolean):
            default = f.load_default if isinstance(f.load_default, bool) else False
            checked = default if value is None else value in (True, "true", "on", "1")
            out.append(Widget(type="checkbox", value=checked, **common))
        elif _choices(f):
            out.append(Widget(type="select", value="" if value is None else str(value), choices=_choices(f), **common))
        elif isinstance(f, jf.ChineseDate):
            out.append(Widget(type="date", value="" if value is None else str(value), placeholder="2024年7月1日", **common))
        elif isinstance(f, jf.Money):
            out.append(Widget(type="money", value="" if value is None else str(value), placeholder="0.00", **common))
        elif isinstance(f, jf.Text) and f.multiline:
            out.append(Widget(type="textarea", value="" if value is None else str(value), **common))
        else:
            out.append(Widget(type="text", value="" if value is None else str(value), **common))
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


def _set(tree: dict, parts: list[str], value: Any) -> None:
    node: Any = tree
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        key: Any = int(part) if part.isdigit() else part
        if isinstance(node, dict):
            if last:
                node[key] = value
            else:
                node = node.setdefault(key, {})
    return None


def _listify(node: Any) -> Any:
    """Dicts whose keys are all integers become lists in index order; empty groups are dropped."""
    if isinstance(node, dict):
        converted = {k: _listify(v) for k, v in node.items()}
        if converted and all(isinstance(k, int) for k in converted):
            items = [converted[k] for k in sorted(converted)]
            return [item for item in items if not _blank(item)]
        return converted
    return node


def _blank(item: Any) -> bool:
    if isinstance(item, dict):
        return all(_blank(v) for v in item.values())
    if isinstance(item, list):
        return all(_blank(v) for v in item)
    return item in ("", None, "false")


# Posted by the page itself, not fields of the document: the CSRF token, the pressed button and
# the id of the draft being edited.
CONTROL_NAMES = ("csrf_token", "action", "draft")


def parse_form(form: MultiDict, schema: Schema) -> dict:
    """Posted pairs → nested payload. A check box posts a hidden "false" before its "true", so
    the last value wins; the template row of repeatable groups ("__index__") is ignored."""
    tree: dict = {}
    for name in form.keys():
        if name in CONTROL_NAMES or "__index__" in name:
            continue
        values = form.getlist(name)
        _set(tree, name.split("."), values[-1] if values else "")
    payload = _listify(tree)
    _coerce_booleans(schema, payload)
    return payload


def _coerce_booleans(schema: Schema, payload: dict) -> None:
    for key, f in schema.fields.items():
        if key not in payload:
            continue
        if isinstance(f, fields.Boolean):
            payload[key] = payload[key] in ("true", "on", "1", True)
        elif isinstance(f, fields.Nested) and isinstance(payload[key], dict):
            _coerce_booleans(_schema_of(f), payload[key])
        elif isinstance(f, fields.List) and isinstance(f.inner, fields.Nested) and isinstance(payload[key], list):
            for row in payload[key]:
                if isinstance(row, dict):
                    _coerce_booleans(_schema_of(f.inner), row)
