"""A tiny, generic writer of .docx packages, shared by every Word output.

A .docx is a zip of XML parts. Almost all of them (content types, relationships, styles, settings,
font table) are the same for every document of a template, so `DocxTemplate` renders them once
per process and keeps them as bytes; per document only the parts that carry content
(word/document.xml, footers) are rendered from Jinja2 templates compiled once. Autoescaping is on
for every part, so user text can never become markup: `<`, `&` and friends reach Word as
characters. Nothing here builds XML by concatenating user text.

Usage:

    package = DocxTemplate(Path("templates/official/gongwen"))
    data = package.build({"word/document.xml": context}, shared=context)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from generators.ziparchive import Member, write_zip

# Parts whose names end with this suffix in the template folder are Jinja templates; the suffix is
# dropped in the package. Templates whose file name starts with "_" are macro libraries for the
# others, not parts. Every other file is copied verbatim.
TEMPLATE_SUFFIX = ".j2"

_XML_1_0_ILLEGAL = {c: None for c in (*range(0, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF)}


def xml_text(value: Any) -> Markup:
    """User text made safe for a w:t element: XML-escaped and without the control characters
    XML 1.0 forbids (a stray form feed would make Word refuse the whole file)."""
    return escape(str(value).translate(_XML_1_0_ILLEGAL))


@dataclass(frozen=True)
class Part:
    """A rendered part: its name in the package and its bytes."""

    name: str
    data: bytes

    def member(self) -> Member:
        return Member.compress(self.name, self.data)


def _environment(folder: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,  # XML parts: escape everything that is not explicitly Markup
        undefined=jinja2.StrictUndefined,  # a misspelt variable is a bug, not an empty string
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
    )
    env.filters["t"] = xml_text
    return env


class DocxTemplate:
    """The parts of one docx template folder.

    `dynamic` names the templates rendered per document; every other part (static files and
    templates rendered with the `shared` context) is rendered once and cached as bytes, so a
    document costs one or two template renders plus the zip.
    """

    def __init__(self, folder: Path, dynamic: Iterable[str] = ("word/document.xml",)):
        self.folder = Path(folder)
        self.env = _environment(self.folder)
        self.dynamic = frozenset(dynamic)
        self._templates: dict[str, jinja2.Template] = {}
        self._static: dict[Any, tuple[Part, ...]] = {}
        self._members: dict[Any, tuple[Member, ...]] = {}  # static parts deflated once
        self._lock = threading.Lock()
        self._names = sorted(
            p.relative_to(self.folder).as_posix() for p in self.folder.rglob("*") if p.is_file()
        )

    def template(self, part: str) -> jinja2.Template:
        """The compiled template of a part (compiled on first use, then cached)."""
        tpl = self._templates.get(part)
        if tpl is None:
            tpl = self.env.get_template(part + TEMPLATE_SUFFIX)
            self._templates[part] = tpl
        return tpl

    def macros(self, name: str) -> Any:
        """The macros of a template (e.g. a "_macros.xml.j2" library) as callables returning Markup;
        renderers use them to pre-render markup shared by many elements once."""
        return self.env.get_template(name).module

    def render(self, part: str, context: Mapping[str, Any]) -> bytes:
        return self.template(part).render(context).encode("utf-8")

    def static_parts(self, key: Any, shared: Mapping[str, Any]) -> tuple[Part, ...]:
        """Every non-dynamic part, rendered once per `key` (e.g. a hash of the settings in use)."""
        parts = self._static.get(key)
        if parts is not None:
            return parts
        with self._lock:
            parts = self._static.get(key)
            if parts is None:
                out = []
                for name in self._names:
                    if name.endswith(TEMPLATE_SUFFIX) and name.rsplit("/", 1)[-1].startswith("_"):
                        continue
                    if name.endswith(TEMPLATE_SUFFIX):
                        part = name[: -len(TEMPLATE_SUFFIX)]
                        if part in self.dynamic:
                            continue
                        out.append(Part(part, self.render(part, shared)))
                    else:
                        out.append(Part(name, (self.folder / name).read_bytes()))
                parts = tuple(out)
                if len(self._static) > 32:  # settings change rarely; never grow without bound
                    self._static.clear()
                    self._members.clear()
                self._static[key] = parts
                self._members[key] = tuple(p.member() for p in parts)
        return parts

    def build(self, contexts: Mapping[str, Mapping[str, Any]], shared: Mapping[str, Any], key: Any = None,
              extra: Iterable[Part] = ()) -> bytes:
        """The package: cached static parts plus each dynamic part rendered with its context.
        `extra` parts (pictures, and a relationships part that names them) are added as given and
        replace a static part of the same name."""
        missing = self.dynamic - contexts.keys()
        if missing:
            raise ValueError(f"no context for dynamic parts {sorted(missing)}")
        static = self._members.get(key)
        if static is None:  # first document with these settings (or the cache was just cleared)
            static = self._members.get(key) or tuple(p.member() for p in self.static_parts(key, shared))
        extra = list(extra)
        replaced = {p.name for p in extra}
        members = [m for m in static if m.name not in replaced] if replaced else list(static)
        members.extend(p.member() for p in extra)
        members.extend(Member.compress(name, self.render(name, ctx)) for name, ctx in contexts.items())
        return _zip_members(members)


def _zip_members(members: list[Member]) -> bytes:
    """[Content_Types].xml first, as some readers expect, then by name."""
    return write_zip(sorted(members, key=lambda m: (m.name != "[Content_Types].xml", m.name)))


def zip_parts(parts: Iterable[Part]) -> bytes:
    """Zip rendered parts with deflate (each compressed now; static ones are cached by `build`)."""
    return _zip_members([p.member() for p in parts])
