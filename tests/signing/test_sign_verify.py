"""Signed 公文 are valid for poppler's pdfsig (an independent client) and for `jxdoc verify`;
one changed byte makes both say invalid."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.signing.conftest import render_pdf, sample

OFFICIAL = ["request", "report", "opinion", "notice", "letter"]


def pdfsig(path: Path) -> str:
    # pdfsig exits non-zero for an invalid signature; its report is what is checked.
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout


def jxdoc(runner, *args):
    from service.cli import main

    return runner.invoke(main, list(args), catch_exceptions=False)


def changed_byte(pdf: bytes) -> bytes:
    """One byte of the page content changed (inside the signed range, before the signature)."""
    data = bytearray(pdf)
    start = pdf.index(b"stream", len(pdf) // 3) + 20
    data[start] ^= 0x01
    return bytes(data)


@pytest.mark.parametrize("kind", OFFICIAL)
def test_signed_sample_valid_for_pdfsig_and_jxdoc_verify(kind, tmp_path, register, settings, runner):
    data = sample(kind)
    organs = register(data)
    unsigned = tmp_path / "unsigned.pdf"
    unsigned.write_bytes(render_pdf(kind, data, settings))
    signed = tmp_path / "signed.pdf"
    result = jxdoc(runner, "sign", str(unsigned), "-o", str(signed))
    assert result.exit_code == 0, result.output
    report = pdfsig(signed)
    assert "Signature is Valid." in report
    assert report.count("Signature is Valid.") == len(organs)
    assert report.count("Total document signed") == 1  # the last; the earlier ones cover their revision
    for organ in organs:
        assert f"Signer Certificate Common Name: {organ}" in report

    verdict = jxdoc(runner, "verify", str(signed))
    assert verdict.exit_code == 0, verdict.output
    assert "签名有效" in verdict.output and all(organ in verdict.output for organ in organs)
    assert re.search(r"于 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", verdict.output)

    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(changed_byte(signed.read_bytes()))
    report = pdfsig(tampered)
    assert "Signature is Valid." not in report
    assert re.search(r"Signature Validation: (Digest Mismatch|Signature is Invalid)", report)
    verdict = jxdoc(runner, "verify", str(tampered))
    assert verdict.exit_code == 1
    assert "签名无效" in verdict.output
