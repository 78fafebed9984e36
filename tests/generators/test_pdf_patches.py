"""The PDF speed-ups replace private functions of weasyprint, tinyhtml5 and pydyf: they run only on
the versions they were written for, and a new version fails here until they are reviewed."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
import zlib
from pathlib import Path

import pytest

from generators import pdf

ROOT = Path(__file__).resolve().parents[2]


def test_the_patched_libraries_are_the_installed_and_pinned_versions():
    installed = {name: importlib.metadata.version(name) for name in pdf.PATCHED_VERSIONS}
    assert installed == pdf.PATCHED_VERSIONS, (
        "a patched library changed version: review generators/pdf.py's patches against it, then update "
        "PATCHED_VERSIONS and the pins in pyproject.toml")
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = dict(re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", d).groups() for d in dependencies if "==" in d)
    assert {name: pins.get(name) for name in pdf.PATCHED_VERSIONS} == pdf.PATCHED_VERSIONS


def test_another_version_is_refused_with_a_clear_error():
    with pytest.raises(pdf.PatchedVersionError) as refused:
        pdf.check_version("weasyprint", "71.0")
    message = str(refused.value)
    assert "weasyprint 70.0" in message and "weasyprint 71.0" in message and "PATCHED_VERSIONS" in message
    pdf.check_version("pydyf", pdf.PATCHED_VERSIONS["pydyf"])  # the pinned one passes


def test_every_patch_is_installed_once():
    import pydyf
    from tinyhtml5 import inputstream
    from weasyprint.pdf import fonts

    assert {library for library, _install in pdf.PATCHES} == set(pdf.PATCHED_VERSIONS)
    assert getattr(fonts.Font.subset, "_jxdoc_cached", False)
    assert getattr(fonts.get_hb_object_data, "_jxdoc_cached", False)
    assert getattr(inputstream.HTMLUnicodeInputStream.chars_until, "_jxdoc_cached", False)
    assert isinstance(pydyf.zlib, pdf._CappedZlib) and pydyf.zlib.level == pdf.PDF_DEFLATE_LEVEL
    patched = (fonts.Font.subset, inputstream.HTMLUnicodeInputStream.chars_until, pydyf.zlib)
    pdf.install_patches()  # a second call changes nothing
    assert (fonts.Font.subset, inputstream.HTMLUnicodeInputStream.chars_until, pydyf.zlib) == patched
    assert pydyf.zlib.compress(b"x" * 100) == zlib.compress(b"x" * 100, pdf.PDF_DEFLATE_LEVEL)
