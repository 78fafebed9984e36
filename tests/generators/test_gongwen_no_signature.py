"""A document adopted at a meeting: its 题注 gives the date, and it may have no 落款 (per document)."""

from __future__ import annotations

import io
import json
import subprocess
import tempfile
from pathlib import Path

import pytest
from docx import Document as WordDocument

from forms.base import FieldErrors
from kinds import get, pipeline

NOTE = "2024年3月1日县委常委会会议通过"


def _payload(**changes):
    payload = json.loads(get("opinion").samples()[0].read_text(encoding="utf-8"))
    payload.update(title_note=NOTE, no_signature=True, seal=False, annotation="")
    payload.update(changes)
    return payload


def _pdf_text(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.pdf"
        path.write_bytes(data)
        return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_without_signature_the_date_appears_once_in_the_title_note():
    payload = _payload()
    date = pipeline.validate("opinion", payload)["date"]
    written = f"{date.year}年{date.month}月{date.day}日"
    text = _pdf_text(pipeline.produce("opinion", payload, "pdf").content)
    assert NOTE in text.replace("\n", "")
    assert written not in text  # no 成文日期 below the text
    word = WordDocument(io.BytesIO(pipeline.produce("opinion", payload, "docx").content))
    paragraphs = [p.text for p in word.paragraphs]
    assert f"（{NOTE}）" in paragraphs and written not in paragraphs


def test_with_signature_by_default():
    payload = _payload(no_signature=False, seal=True)
    date = pipeline.validate("opinion", payload)["date"]
    assert f"{date.year}年{date.month}月{date.day}日" in _pdf_text(pipeline.produce("opinion", payload, "pdf").content)


@pytest.mark.parametrize(("changes", "field"), [({"title_note": ""}, "no_signature"), ({"seal": True}, "seal")])
def test_no_signature_needs_a_title_note_and_no_seal(changes, field):
    with pytest.raises(FieldErrors) as caught:
        pipeline.validate("opinion", _payload(**changes))
    assert field in caught.value.errors and "不署名" in "".join(caught.value.errors[field])
