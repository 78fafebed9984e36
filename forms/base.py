"""The base schema every document kind uses, and the flattening of errors to field paths."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validates_schema

from rules.prose import heading_problems, normalise_headings, placeholder_message, placeholders
from rules.settings import defaults

# marshmallow's own messages, in Chinese, for the fields of our schemas only: BaseSchema gives each
# field it binds the Chinese text of every message the field did not set itself, so marshmallow's
# classes (and any other user of marshmallow in the process) keep their own.
CHINESE_MESSAGES: dict[type, dict[str, str]] = {
    fields.Field: {"required": "必填。", "null": "不能为空。", "validator_failed": "内容不符合要求。"},
    fields.String: {"invalid": "请输入文字。", "invalid_utf8": "不是有效的UTF-8文字。"},
    fields.Boolean: {"invalid": "请选择“是”或“否”。"},
    fields.Number: {"invalid": "请输入数字。", "too_large": "数字过大。"},
    fields.Integer: {"invalid": "请输入整数。", "too_large": "数字过大。"},
    fields.List: {"invalid": "请输入一组内容。"},
    fields.Nested: {"type": "格式不对，应为一组字段。"},
    fields.Mapping: {"invalid": "格式不对，应为一组字段。"},
    fields.Dict: {"invalid": "格式不对，应为一组字段。"},
    fields.Date: {"invalid": "日期格式不对。", "format": "日期格式不对。"},
}


def _marshmallow_defaults(field_class: type) -> dict[str, str]:
    """The messages a field of this class has from its classes (what marshmallow merges)."""
    messages: dict[str, str] = {}
    for cls in reversed(field_class.__mro__):
        messages.update(getattr(cls, "default_error_messages", {}))
    return messages


def chinese_messages(field: fields.Field) -> None:
    """Give `field` (and the fields inside a list or mapping) the Chinese text of marshmallow's
    own messages it has not replaced: a message set by our field classes or by the field's own
    `error_messages` stays as it is."""
    inherited = _marshmallow_defaults(type(field))
    for cls in reversed(type(field).__mro__):
        for key, text in CHINESE_MESSAGES.get(cls, {}).items():
            own = getattr(cls, "default_error_messages", {}).get(key)
            if field.error_messages.get(key) == own == inherited.get(key):
                field.error_messages[key] = text
    for inner in (getattr(field, "inner", None), getattr(field, "key_field", None), getattr(field, "value_field", None)):
        if isinstance(inner, fields.Field):
            chinese_messages(inner)


class BaseSchema(Schema):
    """Unknown fields are an error (a typo must not silently drop data)."""

    class Meta:
        unknown = RAISE

    error_messages = {
        "unknown": "不认识的字段。",
        "type": "格式不对，应为一个JSON对象。",
    }

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        chinese_messages(field_obj)


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested {field: {0: {sub: [...]}}} → {"field.0.sub": [...]}; whole-object
    errors (`_schema`) keep the parent path, or "_schema" at the top."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                path = prefix or "_schema"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            for sub_path, msgs in flatten_errors(value, path).items():
                flat.setdefault(sub_path, []).extend(msgs)
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            flat.setdefault(prefix or "_schema", []).extend(messages)
        else:
            for item in messages:
                for sub_path, msgs in flatten_errors(item, prefix).items():
                    flat.setdefault(sub_path, []).extend(msgs)
    else:
        flat.setdefault(prefix or "_schema", []).append(str(messages))
    return flat


class FieldErrors(ValidationError):
    """Validation failure with messages already flattened to field paths."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


class SettingsSchema(BaseSchema):
    """A schema whose rules read bureau settings (thresholds, required phrases…).

    Every document kind's schema is one, so the checks on running text (rules.prose) apply to all
    of them here: placeholders (“X个”, “××”) are refused and headings typed with half-width
    brackets (“(三)”) are written the standard way (“（三）”), in every multi-line text."""

    def __init__(self, *args, settings=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.settings = settings if settings is not None else defaults()

    @validates_schema(skip_on_field_errors=False)
    def _check_prose(self, data, **kwargs):
        errors: dict[str, list[str]] = {}
        for node, key, path in prose_fields(self, data):
            text = node[key]
            found = placeholders(text, self.settings)
            problems = heading_problems(text, self.settings) + ([placeholder_message(found)] if found else [])
            if problems:
                errors[path] = problems
        if errors:
            raise ValidationError(nest_errors(errors))

    @post_load
    def _normalise_prose(self, data, **kwargs):
        for node, key, _path in prose_fields(self, data):
            node[key] = normalise_headings(node[key], self.settings)
        return data


def loaded_fields(schema: Schema, data: Any, prefix: str = "", *, into_settings_schemas: bool = True):
    """(container, name, path, field) of every leaf field present in loaded `data`, through nested
    schemas and lists of them (optionally not into a nested SettingsSchema, which runs its own
    checks)."""
    if not isinstance(data, dict):
        return
    for name, field in schema.fields.items():
        if name not in data or field.dump_only:
            continue
        value, path = data[name], f"{prefix}{name}"
        nested = field if isinstance(field, fields.Nested) else (
            field.inner if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested) else None)
        if nested is None:
            yield data, name, path, field
        elif into_settings_schemas or not isinstance(nested.schema, SettingsSchema):
            if nested is field:
                yield from loaded_fields(field.schema, value, f"{path}.", into_settings_schemas=into_settings_schemas)
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    yield from loaded_fields(nested.schema, item, f"{path}.{i}.",
                                             into_settings_schemas=into_settings_schemas)


def prose_fields(schema: Schema, data: Any):
    """(container, key, path) of every multi-line text in loaded `data` — but not inside a nested
    SettingsSchema, which checks its own."""
    from forms.fields import Text

    for node, name, path, field in loaded_fields(schema, data, into_settings_schemas=False):
        if isinstance(field, Text) and field.multiline and isinstance(node[name], str) and node[name]:
            yield node, name, path


def nest_errors(flat: dict[str, list[str]]) -> dict:
    """{"indicators.0.improvement": [...]} → {"indicators": {0: {"improvement": [...]}}}, the shape
    marshmallow merges with field errors (flatten_errors flattens it back)."""
    tree: dict = {}
    for path, messages in flat.items():
        node = tree
        parts = [int(p) if p.isdigit() else p for p in path.split(".")]
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node.setdefault(parts[-1], []).extend(messages)
    return tree


def illegal_characters(payload: Any, prefix: str = "") -> dict[str, list[str]]:
    """Field paths of every string in a raw payload holding a character XML cannot carry.

    Drafts are stored without full validation (a clerk may save half a form), but never with
    such characters: they would make the saved draft impossible to render later.
    """
    from forms.fields import Text, illegal_xml_char

    found: dict[str, list[str]] = {}
    if isinstance(payload, str):
        bad = illegal_xml_char(payload)
        if bad is not None:
            found[prefix or "_schema"] = [Text.default_error_messages["illegal_char"].format(code=ord(bad))]
    elif isinstance(payload, dict):
        for key, value in payload.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(key, str) and illegal_xml_char(key) is not None:
                found[path] = ["字段名含有非法字符。"]
            found.update(illegal_characters(value, path))
    elif isinstance(payload, list):
        for i, value in enumerate(payload):
            found.update(illegal_characters(value, f"{prefix}.{i}" if prefix else str(i)))
    return found


# ------------------------------------------------------------------------- JSON from outside

MAX_JSON_DEPTH = 64  # the deepest document kind nests 5 levels; a few dozen is generous


class NestingTooDeep(ValueError):
    """JSON nested deeper than MAX_JSON_DEPTH: refused before anything walks it recursively
    (the parser itself, illegal_characters, marshmallow would end in a RecursionError)."""

    def __init__(self, limit: int = MAX_JSON_DEPTH):
        self.message = f"JSON内容嵌套过深：对象和数组最多嵌套{limit}层。"
        super().__init__(self.message)


def depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests objects/arrays more than `limit` deep (iteratively: no recursion
    to run out of)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def load_json(text: str | bytes, **kwargs: Any) -> Any:
    """json.loads for text from outside: NestingTooDeep (a ValueError) instead of a RecursionError
    or a value too deep for the code that walks it."""
    import json

    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise NestingTooDeep() from None
    if depth_exceeds(value):
        raise NestingTooDeep()
    return value


def money_values(schema: Schema, data: Any):
    """(path, label, unit, value) of every amount (a Money field, not a Score) in loaded `data`: what
    a magnitude check reads, with the names a clerk sees."""
    from forms.fields import Money, Score

    for node, name, path, field in loaded_fields(schema, data):
        if isinstance(field, Money) and not isinstance(field, Score) and node[name] is not None:
            yield path, field.label, field.unit, node[name]


# The payload key under which a clerk confirms warnings: {warning key: explanation ("" = confirmed
# without a word)}, or a list of warning keys. Kept with the document as submitted.
CONFIRMATIONS = "confirmations"


class UnconfirmedWarnings(Exception):
    """Valid input with warnings not yet confirmed: `warnings` as pipeline.check lists them."""

    message = "有需要核对的数字：请逐条核对，确认无误的勾选“已核对”（可说明原因），改正有误的，然后再提交。"

    def __init__(self, warnings: list[dict]):
        super().__init__(self.message)
        self.warnings = warnings


def read_confirmations(payload: Any) -> dict[str, str]:
    """The confirmations of a payload as {key: explanation}; FieldErrors when malformed."""
    from forms.fields import illegal_xml_char

    raw = payload.get(CONFIRMATIONS) if isinstance(payload, dict) else None
    if raw is None:
        return {}
    if isinstance(raw, list) and all(isinstance(k, str) for k in raw):
        raw = dict.fromkeys(raw, "")
    if not isinstance(raw, dict) or len(raw) > 1000 or not all(
            isinstance(k, str) and isinstance(v, str | None) for k, v in raw.items()):
        raise FieldErrors({CONFIRMATIONS: ["应为一组“提示编号: 说明”（说明可以为空）。"]})
    out = {}
    for key, text in raw.items():
        text = (text or "").strip()
        if len(text) > 500 or len(key) > 300:
            raise FieldErrors({CONFIRMATIONS: ["说明不能超过500个字。"]})
        if illegal_xml_char(text) is not None:
            raise FieldErrors({CONFIRMATIONS: ["说明含有不能写入文档的字符，请删除后重新输入。"]})
        out[key] = text
    return out
