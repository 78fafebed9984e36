"""The registry of document kinds: one place that says, for each kind, its schema, templates,
samples and output formats. Every interface (web, API, CLI, batch) is driven by it.

Adding a kind means adding its schema module under forms/, its templates and samples, and one
`register(Kind(...))` call in a module of this package; the modules are discovered on import.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from forms.base import FieldErrors
from generators import ofd

ROOT = Path(__file__).resolve().parent.parent
SAMPLES_DIR = ROOT / "samples"

Renderer = Callable[[dict, Mapping[str, Any]], bytes]

MIME_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "ofd": ofd.MIME_TYPE,
    "html": "text/html; charset=utf-8",
    "zip": "application/zip",
}


class UnknownKind(LookupError):
    def __init__(self, kind_id: str, known: list[str]):
        self.kind_id, self.known = kind_id, known
        super().__init__(f"没有“{kind_id}”这种文档。可用的文档种类：{'、'.join(known)}")


class UnknownFormat(LookupError):
    def __init__(self, kind: Kind, fmt: str):
        self.kind, self.fmt = kind, fmt
        super().__init__(f"“{kind.name}”不能生成 {fmt} 格式，可用的格式：{'、'.join(kind.formats)}")


@dataclass(frozen=True)
class Kind:
    id: str
    name: str  # Chinese name shown to users
    group: str  # section of the index page: 公文, 绩效目标, 运行监控, 绩效评价, 信息公开
    schema: type  # marshmallow schema class (a forms.base.SettingsSchema)
    renderers: Mapping[str, Renderer]  # format → render(data, settings) -> bytes
    templates: tuple[str, ...] = ()  # files under templates/official/ the renderers read
    description: str = ""
    # Rules applied after validation that add computed values (scores, rates, totals).
    prepare: Callable[[dict, Mapping[str, Any]], dict] | None = None
    # Where prepare puts its figures (dotted paths): what `validate` answers as the computed block,
    # and what a payload may carry back (a stored document) without being typed.
    computed: tuple[str, ...] = ()
    # The kind's own warnings over prepared data: check(data, settings, context) -> [FigureWarning]
    # (amounts implausible for their unit are checked for every kind by the pipeline).
    warnings: Callable[[dict, Mapping[str, Any], Mapping[str, Any]], list] | None = None
    # Base of the download file name from the data (no extension).
    filename: Callable[[dict], str] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(self.renderers)

    @property
    def sample_dir(self) -> Path:
        return SAMPLES_DIR / self.id

    def samples(self) -> list[Path]:
        return sorted(self.sample_dir.glob("*.json"))

    def invalid_samples(self) -> list[Path]:
        return sorted((self.sample_dir / "invalid").glob("*.json"))

    def schema_instance(self, settings=None, **kwargs):
        return self.schema(settings=settings, **kwargs)

    def download_base(self, data: Mapping[str, Any]) -> str:
        if self.filename is not None:
            return self.filename(dict(data))
        title = str(data.get("title") or "").replace("\n", "")
        return title or self.name


_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日|(\d{4})-(\d{2})-(\d{2})")


def doc_info(kind: Kind, data: Mapping[str, Any]) -> ofd.DocInfo:
    """The facts an OFD's DocInfo carries: title, issuer (or unit), kind, date and 发文字号."""
    title = kind.download_base(data)
    issuer = next((str(data[k]) for k in ("issuer", "unit_name", "unit", "department", "evaluator")
                   if isinstance(data.get(k), str) and data.get(k)), "")
    date = str(data.get("date") or data.get("report_date") or "")
    found = _DATE.search(date)
    iso = ""
    if found:
        y, m, d = (g for g in found.groups() if g is not None)
        iso = f"{int(y):04d}-{int(m):02d}-{int(d):02d}"
    custom = (("发文字号", str(data.get("doc_number") or "")), ("成文日期", date), ("文种", kind.name))
    return ofd.DocInfo(title=title, author=issuer, subject=kind.name, date=iso, custom=custom)


def _ofd_renderer(kind: Kind) -> Renderer:
    pdf = kind.renderers["pdf"]

    def render(data: dict, settings: Mapping[str, Any]) -> bytes:
        try:
            return ofd.from_pdf(pdf(data, settings), doc_info(kind, data))
        except ofd.Unsupported as exc:  # the clerk's answer: which part OFD cannot carry
            raise FieldErrors({"format": [f"未能生成OFD：{exc}"]}) from None

    render.__name__ = f"render_{kind.id}_ofd"
    return render


_registry: dict[str, Kind] = {}
_discovered = False


def register(kind: Kind) -> Kind:
    if kind.id in _registry:
        raise ValueError(f"kind {kind.id!r} registered twice")
    if "pdf" in kind.renderers and "ofd" not in kind.renderers:
        # Every kind that lays out a PDF also gives OFD, written from that PDF's pages.
        kind = replace(kind, renderers={**kind.renderers, "ofd": _ofd_renderer(kind)})
    _registry[kind.id] = kind
    return kind


def import_members(package: str, path, skip: tuple[str, ...] = ()) -> None:
    """Import every public module of a registry package, each of which registers its members
    (this package's kinds, jobs/batchkinds' batch kinds)."""
    for info in pkgutil.iter_modules(path):
        if not info.name.startswith("_") and info.name not in skip:
            importlib.import_module(f"{package}.{info.name}")


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    import_members(__name__, __path__, skip=("pipeline",))


def all_kinds() -> list[Kind]:
    _discover()
    return list(_registry.values())


def get(kind_id: str) -> Kind:
    _discover()
    try:
        return _registry[kind_id]
    except KeyError:
        raise UnknownKind(kind_id, sorted(_registry)) from None
