"""The flow every document takes: validate → prepare (rules) → render → named output.

The web, the API, the CLI and the batch runner all call these functions; none of them knows
about HTTP, argv or queues.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, is_dataclass
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError

from forms.base import CONFIRMATIONS, FieldErrors, UnconfirmedWarnings, flatten_errors, money_values, read_confirmations
from generators.filenames import safe_filename
from kinds import MIME_TYPES, Kind, UnknownFormat, get
from rules.plausibility import FigureWarning, magnitude
from rules.settings import defaults


@dataclass(frozen=True)
class Output:
    content: bytes
    filename: str  # Chinese name, safe for a file system and a header
    mimetype: str


def _kind(kind: str | Kind) -> Kind:
    return kind if isinstance(kind, Kind) else get(kind)


def validate(kind: str | Kind, payload: Any, settings: Mapping[str, Any] | None = None, schema=None) -> dict:
    """Validated plain data of `kind`, with computed values added; FieldErrors on bad input.
    `schema`: an instance of the kind's schema built with the same settings, for a reader that
    validates many documents (a schema keeps nothing of what it loaded; building one costs more
    than a short document's load)."""
    kind = _kind(kind)
    settings = settings if settings is not None else defaults()
    if not isinstance(payload, Mapping):
        raise FieldErrors({"_schema": ["提交的内容应为一个JSON对象（一组字段）。"]})
    try:
        schema = schema if schema is not None else kind.schema_instance(settings=settings)
        data = schema.load(without_computed(kind, payload))
    except ValidationError as exc:
        raise FieldErrors(flatten_errors(exc.messages)) from None
    if kind.prepare is not None:
        data = kind.prepare(data, settings)
    return data


def without_computed(kind: Kind, payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """The payload without the kind's computed block: figures are never typed, so a document
    stored with them (as the service kept them before storing the input as submitted) validates
    to the same figures again."""
    out = {k: v for k, v in payload.items() if k != CONFIRMATIONS}
    for path in kind.computed:
        *parents, last = path.split(".")
        node = out
        for part in parents:
            child = node.get(part) if isinstance(node, dict) else None
            if not isinstance(child, Mapping):
                node = None
                break
            node[part] = child = dict(child)
            node = child
        if isinstance(node, dict):
            node.pop(last, None)
    return out


def plain(value: Any) -> Any:
    """JSON-ready: Decimal as its exact text, dates in ISO form, dataclasses and mappings as
    objects, tuples as lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def computed(kind: str | Kind, data: Mapping[str, Any]) -> dict:
    """The figures the kind's prepare step added to validated `data` (scores, rates, totals,
    grades), nested as in the data and JSON-ready."""
    kind = _kind(kind)
    out: dict = {}
    for path in kind.computed:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node.get(part) if isinstance(node, Mapping) else None
        if not isinstance(node, Mapping) or last not in node:
            continue
        target = out
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = plain(node[last])
    return out


def render(kind: str | Kind, data: dict, fmt: str, settings: Mapping[str, Any] | None = None,
           archival: bool = False, seals: Mapping[str, bytes] | None = None) -> bytes:
    """The file's bytes; `archival` makes a PDF PDF/A-2b; `seals` (organ → seal PNG) draws a 公文's
    seals into its docx for offices that print and stamp."""
    kind = _kind(kind)
    if fmt not in kind.renderers:
        raise UnknownFormat(kind, fmt)
    settings = settings if settings is not None else defaults()
    if seals and fmt == "docx" and kind.group == "公文":
        return kind.renderers[fmt](data, settings, seals=seals)
    if not (archival and fmt == "pdf"):
        return kind.renderers[fmt](data, settings)
    from generators.pdf import archival as pdf_archival  # weasyprint only when a PDF is made

    with pdf_archival():
        return kind.renderers[fmt](data, settings)


@dataclass(frozen=True)
class Checked:
    """Validated data with its warnings, each {key, path, code, message, confirmed, explanation}."""

    data: dict
    warnings: list[dict]

    @property
    def unconfirmed(self) -> list[dict]:
        return [w for w in self.warnings if not w["confirmed"]]

    def require_confirmed(self) -> dict:
        """The data, or UnconfirmedWarnings when a warning has not been confirmed."""
        if self.unconfirmed:
            raise UnconfirmedWarnings(self.warnings)
        return self.data


def warnings_of(kind: Kind, data: dict, settings: Mapping[str, Any],
                context: Mapping[str, Any] | None = None) -> list[FigureWarning]:
    """The warnings of validated `data`: an amount implausible for its unit (every kind, from its
    Money fields) and the kind's own checks (执行数 > 预算数, a rate far from last period's…)."""
    schema = kind.schema_instance(settings=settings)
    found: list[FigureWarning] = []
    for unit in ("万元", "元"):
        amounts = [(path, label, value) for path, label, u, value in money_values(schema, data) if u == unit]
        found.extend(magnitude(amounts, kind.id, settings, unit))
    if kind.warnings is not None:
        found.extend(kind.warnings(data, settings, context or {}))
    return found


def check(kind: str | Kind, payload: Any, settings: Mapping[str, Any] | None = None,
          context: Mapping[str, Any] | None = None) -> Checked:
    """Validate, then list the warnings with whether the payload's `confirmations` confirm them.
    `context` carries what the payload cannot (the previous period's figures of the project)."""
    kind = _kind(kind)
    settings = settings if settings is not None else defaults()
    confirmations = read_confirmations(payload)
    data = validate(kind, payload, settings)
    listed = []
    for warning in warnings_of(kind, data, settings, context):
        confirmed = warning.key in confirmations
        listed.append({**warning.as_dict(), "confirmed": confirmed,
                       "explanation": confirmations.get(warning.key, "") if confirmed else ""})
    return Checked(data, listed)


def produce(kind: str | Kind, payload: Any, fmt: str, settings: Mapping[str, Any] | None = None,
            archival: bool = False, confirmed: bool = False, seals: Mapping[str, bytes] | None = None) -> Output:
    """Validate and render in one step (API and CLI). A warning not confirmed in the payload stops
    it (UnconfirmedWarnings) unless `confirmed` says the document was already accepted (a stored
    submission)."""
    kind = _kind(kind)
    if fmt not in kind.renderers:
        raise UnknownFormat(kind, fmt)
    return output(kind, accepted(kind, payload, settings, confirmed), fmt, settings, archival, seals)


def accepted(kind: str | Kind, payload: Any, settings: Mapping[str, Any] | None = None,
             confirmed: bool = False) -> dict:
    """The validated data of a document that may be produced: every warning confirmed in the
    payload, or `confirmed` (a stored submission already accepted)."""
    checked = check(kind, payload, settings)
    return checked.data if confirmed else checked.require_confirmed()


def output(kind: Kind, data: dict, fmt: str, settings: Mapping[str, Any] | None = None,
           archival: bool = False, seals: Mapping[str, bytes] | None = None) -> Output:
    content = render(kind, data, fmt, settings, archival, seals)
    return Output(content, safe_filename(kind.download_base(data), fmt), MIME_TYPES[fmt])
