"""The child process that checks and renders administrators' docx templates.

Run only by service.doctemplates as `python -I service/template_sandbox.py check|render`, with the
template and context as JSON on stdin and the result on stdout, under a wall-clock timeout and
CPU/memory limits set by the parent. The template language is Jinja in an
ImmutableSandboxedEnvironment with autoescape: attributes starting with "_" (the way out through
`cycler.__init__.__globals__`), mutating methods and oversized ranges are refused by the sandbox,
and the usual globals (cycler, joiner, namespace, lipsum, dict) are removed. What a template
may still do — loop for ever — is stopped by the parent's time limit, which kills this process.

Run by path in isolated mode it imports neither Flask nor the application (not even the
`service` package), so it starts fast and holds no secret key or database connection.
"""

from __future__ import annotations

import base64
import io
import json
import sys

from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range

ALLOWED_GLOBALS = {"range"}
FORBIDDEN_NODES = (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)
# docxtpl renders these core properties as templates too; a template may not use them (they are
# refused at upload and, should one get through, never rendered: see render).
PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")
JINJA_MARKS = ("{{", "{%", "{#")
FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"


def make_env() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(autoescape=True)
    env.globals.clear()
    env.globals["range"] = safe_range
    return env


def _source(content: bytes) -> str:
    """The Jinja source docxtpl renders: the body, the headers and footers and the footnotes,
    patched."""
    from docx import Document
    from docx.oxml import parse_xml
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(io.BytesIO(content))
    doc = Document(io.BytesIO(content))
    xml = tpl.patch_xml(tpl.xml_to_string(doc._element.body))
    for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
        for rel in doc._part.rels.values():
            if rel.reltype == uri and rel.target_part.blob:
                xml += tpl.patch_xml(tpl.xml_to_string(parse_xml(rel.target_part.blob)))
    for part in doc.part.package.parts:
        if part.content_type == FOOTNOTES:
            xml += tpl.patch_xml(part.blob.decode("utf-8"))
    return xml


def _templated_properties(content: bytes) -> list[str]:
    from docx import Document

    props = Document(io.BytesIO(content)).core_properties
    return [name for name in PROPERTIES if any(mark in (getattr(props, name) or "") for mark in JINJA_MARKS)]


def check(content: bytes) -> dict:
    from jinja2 import TemplateSyntaxError, meta

    env = make_env()
    try:
        ast = env.parse(_source(content))
    except TemplateSyntaxError as exc:
        return {"problems": [f"模板语法有误（第{exc.lineno}行附近）：{exc.message}"], "variables": []}
    problems = []
    if _templated_properties(content):
        problems.append("模板的文档属性（标题、主题、作者、备注等）中不能含有模板语法（{{ }}、{% %}、{# #}），"
                        "请在Word的“文件→信息→属性”中删除后重新上传。")
    if next(ast.find_all(FORBIDDEN_NODES), None) is not None:
        problems.append("模板不能引用其他模板（extends、include、import）。")
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
        if isinstance(name, str) and name.startswith("_"):
            problems.append(f"模板不能访问以下划线开头的属性：{name}")
    return {"problems": sorted(set(problems)), "variables": sorted(meta.find_undeclared_variables(ast))}


def render(content: bytes, context: dict) -> bytes:
    from docxtpl import DocxTemplate

    class Template(DocxTemplate):
        def render_properties(self, context, jinja_env=None) -> None:
            pass  # kept as written: properties are no template (refused at upload)

    tpl = Template(io.BytesIO(content))
    tpl.render(context, jinja_env=make_env(), autoescape=True)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def _limit_self(cpu_seconds: int, memory_bytes: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main() -> int:
    mode = sys.argv[1]
    _limit_self(int(sys.argv[2]), int(sys.argv[3]))
    request = json.load(sys.stdin)
    content = base64.b64decode(request["template"])
    try:
        if mode == "check":
            result = check(content)
        else:
            result = {"docx": base64.b64encode(render(content, request.get("context") or {})).decode()}
    except Exception as exc:  # reported to the parent as a message; nothing here is trusted
        result = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
