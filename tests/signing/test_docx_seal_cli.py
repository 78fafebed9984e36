"""`jxdoc render --seal`: the registered seals drawn into a 公文's docx (offices that print and
stamp), one per organ; an unregistered organ or a PDF is refused in Chinese."""

from __future__ import annotations

import io
import json
import zipfile

from click.testing import CliRunner

from tests.signing.conftest import sample

WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"


def _render(tmp_path, kind, data, suffix="docx"):
    from service.cli import main

    source = tmp_path / "in.json"
    source.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    out = tmp_path / f"out.{suffix}"
    result = CliRunner().invoke(main, ["render", kind, str(source), "-o", str(out), "--seal"], catch_exceptions=False)
    return result, out


def test_render_seal_puts_each_registered_seal_into_the_docx(register, seal_image, tmp_path):
    from lxml import etree

    data = sample("opinion")
    organs = register(data)
    result, out = _render(tmp_path, "opinion", data)
    assert result.exit_code == 0, result.output
    package = zipfile.ZipFile(io.BytesIO(out.read_bytes()))
    body = etree.fromstring(package.read("word/document.xml"))
    pictures = [a for a in body.iter(WP + "anchor") if a.find(WP + "positionV").get("relativeFrom") == "paragraph"]
    assert len(pictures) == len(organs) == 2
    assert [package.read(n) for n in package.namelist() if n.startswith("word/media/")] == [seal_image] * 2


def test_render_seal_refuses_an_unregistered_organ_and_a_pdf(data_dir, tmp_path):
    data = sample("request")
    result, out = _render(tmp_path, "request", data)
    assert result.exit_code == 2 and "没有登记印章" in result.output and not out.exists()
    result, out = _render(tmp_path, "request", data, "pdf")
    assert result.exit_code == 2 and "只用于公文的 .docx" in result.output and not out.exists()
