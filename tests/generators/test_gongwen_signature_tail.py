"""GB/T 9704-2012 7.3.5.5: a 请示 whose long last paragraph ends at a page's foot does not leave the
署名 and 成文日期 alone on the last page: both formats set the paragraph's last two lines as a
paragraph of their own kept with the signature (gongwen/fit.split_tail), so they go over with it."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest

from kinds import get, pipeline
from tests.office import print_with_libreoffice

LAST = "本项目资金" + "按照预算绩效管理的要求，逐项落实绩效目标，" * 6 + "妥否，请批示。"
FILLER = "为加强预算绩效管理，提高财政资金使用效益，现就有关事项请示如下。"
# Filler paragraphs (two lines each) that end the long last paragraph at page 2's foot, measured:
# without carrying lines over, page 3 held only the 署名, the date and the 附注 for 10 to 12.
CASES = [10, 11, 12]


def _payload(filler: int) -> dict:
    payload = json.loads(get("request").samples()[0].read_text(encoding="utf-8"))
    payload["attachments"] = []
    payload["body"] = "\n".join([FILLER] * filler + [LAST])
    return payload


def _pages(pdf: bytes) -> list[list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
    return [[line.strip() for line in page.splitlines() if line.strip()] for page in text.split("\f")[:-1]]


def _body_lines_before_signature(page: list[str]) -> int:
    return page.index("青溪县财政局")


@pytest.mark.parametrize("filler", CASES)
def test_pdf_carries_two_lines_of_a_long_last_paragraph_with_the_signature(filler):
    pages = _pages(pipeline.produce("request", _payload(filler), "pdf").content)
    signed = next(p for p in pages if "青溪县财政局" in p and "2024年3月11日" in p)
    assert _body_lines_before_signature(signed) >= 2, signed
    assert signed[_body_lines_before_signature(signed) - 1].endswith("妥否，请批示。")


def test_libreoffice_docx_never_leaves_the_signature_alone(tmp_path):
    files = []
    for filler in CASES:
        path = tmp_path / f"request{filler}.docx"
        path.write_bytes(pipeline.produce("request", _payload(filler), "docx").content)
        files.append(path)
    printed = print_with_libreoffice(files, tmp_path / "out", tmp_path / "profile")
    for filler, path in zip(CASES, files, strict=True):
        pages = _pages(printed[path].read_bytes())
        signed = next(p for p in pages if "青溪县财政局" in p and "2024年3月11日" in p)
        assert _body_lines_before_signature(signed) >= 2, (filler, signed)
        # Same page count as the PDF.
        assert len(pages) == len(_pages(pipeline.produce("request", _payload(filler), "pdf").content))
