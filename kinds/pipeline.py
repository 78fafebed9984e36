"""The flow every document takes: validate → prepare (rules) → render → named output.

The web, the API, the CLI and the batch runner all call these functions; none of them knows
about HTTP, argv or queues.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError

from forms.base import FieldErrors, flatten_errors
from generators.filenames import safe_filename
from kinds import MIME_TYPES, Kind, UnknownFormat, get
from rules.settings import defaults


@dataclass(frozen=True)
class Output:
    content: bytes
    filename: str  # Chinese name, safe for a file system and a header
    mimetype: str


def _kind(kind: str | Kind) -> Kind:
    return kind if isinstance(kind, Kind) else get(kind)


def validate(kind: str | Kind, payload: Any, settings: Mapping[str, Any] | None = None) -> dict:
    """Validated plain data of `kind`, with computed values added; FieldErrors on bad input."""
    kind = _kind(kind)
    settings = settings if settings is not None else defaults()
    if not isinstance(payload, Mapping):
        raise FieldErrors({"_schema": ["提交的内容应为一个JSON对象（一组字段）。"]})
    try:
        data = kind.schema_instance(settings=settings).load(payload)
    except ValidationError as exc:
        raise FieldErrors(flatten_errors(exc.messages)) from None
    if kind.prepare is not None:
        data = kind.prepare(data, settings)
    return data


def render(kind: str | Kind, data: dict, fmt: str, settings: Mapping[str, Any] | None = None) -> bytes:
    kind = _kind(kind)
    if fmt not in kind.renderers:
        raise UnknownFormat(kind, fmt)
    return kind.renderers[fmt](data, settings if settings is not None else defaults())


def produce(kind: str | Kind, payload: Any, fmt: str, settings: Mapping[str, Any] | None = None) -> Output:
    """Validate and render in one step (API and CLI)."""
    kind = _kind(kind)
    if fmt not in kind.renderers:
        raise UnknownFormat(kind, fmt)
    data = validate(kind, payload, settings)
    return output(kind, data, fmt, settings)


def output(kind: Kind, data: dict, fmt: str, settings: Mapping[str, Any] | None = None) -> Output:
    content = render(kind, data, fmt, settings)
    return Output(content, safe_filename(kind.download_base(data), fmt), MIME_TYPES[fmt])
