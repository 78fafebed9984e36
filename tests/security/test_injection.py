"""Issue 9.1: markup typed into any text field of any kind reaches the docx as literal text —
no field code, no lost or extra paragraph, a well-formed document.xml."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from lxml import etree

import kinds
from forms.base import FieldErrors
from kinds import pipeline
from rules.settings import defaults

INJECTION = ('</w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/><w:instrText>INCLUDEPICTURE "\\\\evil\\x.png"'
             '</w:instrText><w:fldChar w:fldCharType="end"/></w:r><w:r><w:t><select>&amp;')
# For fields bounded below the full text's length (a unit or project name): the same attack, shorter.
SHORT_INJECTION = '</w:t></w:r><w:r><w:instrText>INCLUDEPICTURE "\\\\e\\x"</w:instrText><select>&amp;'
# Same widths, no markup: the control document must break lines exactly like the injected one.
_DISARM = str.maketrans({"<": "(", ">": ")", '"': "'", "&": "+", "/": "|", "\\": "|"})
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _string_paths(value, path=()):
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _string_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _string_paths(v, (*path, i))


def _set(payload, path, text):
    node = payload
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = node[path[-1]] + text


def _inject(payload, kind):
    """Append the injection to every string field that still validates with it (the short one
    where the full one is too long), and the disarmed stand-in of the same length to a control."""
    accepted = []
    for path in _string_paths(payload):
        for text in (INJECTION, SHORT_INJECTION):
            trial = json.loads(json.dumps(payload))
            _set(trial, path, text)
            try:
                pipeline.validate(kind, trial)
            except FieldErrors:
                continue
            accepted.append((path, text))
            break
    injected, control = json.loads(json.dumps(payload)), json.loads(json.dumps(payload))
    for path, text in accepted:
        _set(injected, path, text)
        _set(control, path, text.translate(_DISARM))
    return injected, control, [path for path, _ in accepted]


def _document(docx: bytes):
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        return etree.fromstring(zf.read("word/document.xml"))


DOCX_KINDS = [k.id for k in kinds.all_kinds() if "docx" in k.renderers and k.samples()]


@pytest.mark.parametrize("kind_id", DOCX_KINDS)
def test_markup_in_every_text_field_stays_literal(kind_id):
    kind = kinds.get(kind_id)
    payload = json.loads(kind.samples()[0].read_text(encoding="utf-8"))
    injected, control, paths = _inject(payload, kind)
    assert paths, "no text field accepted the test text"
    settings = defaults()
    root = _document(pipeline.produce(kind, injected, "docx", settings).content)
    ctrl = _document(pipeline.produce(kind, control, "docx", settings).content)
    assert len(root.findall(f".//{W}fldChar")) == len(ctrl.findall(f".//{W}fldChar"))
    assert len(root.findall(f".//{W}instrText")) == len(ctrl.findall(f".//{W}instrText"))
    assert len(root.findall(f".//{W}p")) == len(ctrl.findall(f".//{W}p"))
    text = "".join(t.text or "" for t in root.iter(f"{W}t"))
    ctrl_text = "".join(t.text or "" for t in ctrl.iter(f"{W}t"))
    # Each field shows the markup as typed, exactly where the control shows its stand-in.
    assert text.count("<select>&amp;") == ctrl_text.count("(select)+amp;") >= 1
    assert text.count('INCLUDEPICTURE "') == ctrl_text.count("INCLUDEPICTURE '") >= 1
