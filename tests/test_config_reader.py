"""One configuration reader: no module of the packages but storage/config.py reads a JXDOC_*
environment variable. Found from the source with ast: any use of `os.environ`/`os.getenv` is a
read unless it sets a variable (`os.environ[...] = ...`, for a child process) or names a constant
that is not ours (FONTCONFIG_FILE, PATH: other programs' variables)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("rules", "forms", "generators", "kinds", "storage", "jobs", "service")
READER = Path("storage/config.py")


def _key(node: ast.AST) -> str | None:
    """The constant name a use of the environment reads, if it names one."""
    parent = getattr(node, "parent", None)
    if isinstance(parent, ast.Subscript) and parent.value is node:
        if isinstance(parent.ctx, ast.Store):
            return "set"
        arg = parent.slice
    elif isinstance(parent, ast.Attribute) and isinstance(getattr(parent, "parent", None), ast.Call):
        call = parent.parent
        arg = call.args[0] if call.args else None
    elif isinstance(parent, ast.Call) and parent.func is node:  # os.getenv(...)
        arg = parent.args[0] if parent.args else None
    else:
        return None
    return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None


def environment_reads(source: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            child.parent = node  # type: ignore[attr-defined]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [(node.lineno, f"from os import {a.name}") for a in node.names if a.name in ("environ", "getenv")]
        is_env = (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os"
                  and node.attr in ("environ", "getenv"))
        if not is_env:
            continue
        key = _key(node)
        if key == "set" or (key is not None and not key.startswith("JXDOC_")):
            continue
        found.append((node.lineno, key or "os." + node.attr))
    return found


def test_only_the_configuration_module_reads_the_environment():
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if rel == READER:
                continue
            offenders += [f"{rel}:{line}: {what}" for line, what in environment_reads(path.read_text("utf-8"))]
    assert offenders == []


def test_the_check_sees_each_way_of_reading():
    source = '''
import os
from os import environ
a = os.environ.get("JXDOC_X")
b = os.environ["JXDOC_Y"]
c = os.getenv("JXDOC_Z")
env = os.environ
d = os.environ.get(f"JXDOC_{a}")
os.environ["JXDOC_FRONT_PROXY"] = "1"
e = os.environ.get("FONTCONFIG_FILE")
'''
    assert sorted(line for line, _ in environment_reads(source)) == [3, 4, 5, 6, 7, 8]
