"""The PDF pipeline fetches only bundled assets and never embeds files.

`SafeURLFetcher` records every URL weasyprint asks for, so each case asserts what was asked and
that nothing outside the bundled folders was served; the PDFs are checked for embedded files.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import subprocess

import pytest
from pypdf import PdfReader

from generators.gongwen.model import build
from generators.gongwen.pdf import render_pdf
from generators.pdf import TEMPLATES_DIR, RefusedURL, SafeURLFetcher, compile_css, html_to_pdf
from rules.settings import defaults

HOSTILE_URLS = [
    "file:///etc/passwd",
    "file:///etc/hostname",
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:8000/admin",
    "http://localhost/",
    "http://[::1]/",
    "https://example.com/style.css",
    "ftp://example.com/x.png",
    "data:text/css,body{color:red}",
    "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'><image href='http://169.254.169.254/'/></svg>",
    (TEMPLATES_DIR / "official" / "gongwen.html").as_uri(),  # a template, not an asset
    (TEMPLATES_DIR / "official" / "fonts" / "fonts.conf").as_uri(),
    TEMPLATES_DIR.as_uri() + "/official/../../rules/defaults/layout.toml",
    TEMPLATES_DIR.as_uri() + "/../pyproject.toml",
    "file://otherhost" + str(TEMPLATES_DIR / "x.css"),
]


def has_embedded_files(pdf: bytes) -> bool:
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    names = root.get("/Names")
    if names is not None and "/EmbeddedFiles" in names.get_object():
        return True
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            if annot.get_object().get("/Subtype") == "/FileAttachment":
                return True
    return b"/EmbeddedFile" in pdf or b"/FileAttachment" in pdf


def text_of(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_fetcher_refuses_everything_but_bundled_assets(url):
    fetcher = SafeURLFetcher()
    with pytest.raises(RefusedURL):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_fetcher_serves_assets_inside_its_roots_only(tmp_path):
    root = tmp_path / "assets"
    root.mkdir()
    (root / "a.css").write_text("p { color: black }", encoding="utf-8")
    (tmp_path / "secret.css").write_text("p { color: red }", encoding="utf-8")
    (root / "link.css").symlink_to(tmp_path / "secret.css")  # a symlink out of the root
    fetcher = SafeURLFetcher(roots=[root])
    response = fetcher.fetch((root / "a.css").as_uri())
    assert response.read() == b"p { color: black }"
    assert response.content_type == "text/css"
    for url in ((tmp_path / "secret.css").as_uri(), (root / "link.css").as_uri(), (root / "missing.css").as_uri()):
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 3


def test_hostile_html_fetches_nothing_and_attaches_nothing():
    # Raw, unescaped HTML as if a template had been compromised: every way HTML can make
    # weasyprint fetch or attach something.
    html = f"""<html><head>
      <link rel="stylesheet" href="http://127.0.0.1:8000/x.css">
      <link rel="attachment" href="file:///etc/passwd" title="passwd">
      <style>@import url("http://169.254.169.254/latest/meta-data/");
             body {{ background: url("file:///etc/hostname") }}
             @font-face {{ font-family: x; src: url("http://localhost/x.woff") }}</style>
    </head><body>
      <p>正文内容</p>
      <a rel="attachment" href="file:///etc/passwd" download="passwd">附件</a>
      <img src="http://169.254.169.254/latest/meta-data/iam">
      <img src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'%3E%3Cimage href='file:///etc/passwd'/%3E%3C/svg%3E">
      <object data="file:///etc/passwd"></object>
      <iframe src="{(TEMPLATES_DIR / 'official' / 'gongwen.html').as_uri()}"></iframe>
    </body></html>"""
    fetcher = SafeURLFetcher()
    pdf = html_to_pdf(html, [compile_css("@page { size: A4 }")], url_fetcher=fetcher)
    assert fetcher.requested, "the spy saw no request: the test would prove nothing"
    assert fetcher.refused == fetcher.requested  # everything asked for was refused
    assert "http://169.254.169.254/latest/meta-data/" in fetcher.requested
    assert not has_embedded_files(pdf)
    text = text_of(pdf)
    assert "正文内容" in text
    assert "root:" not in text


def test_attachments_option_is_ignored():
    fetcher = SafeURLFetcher()
    pdf = html_to_pdf('<p>x</p><link rel="attachment" href="file:///etc/passwd">', url_fetcher=fetcher)
    assert not has_embedded_files(pdf)


def test_user_text_in_a_document_is_escaped_and_fetches_nothing():
    hostile = ('<link rel="attachment" href="file:///etc/passwd">'
               '<a rel="attachment" href="file:///etc/passwd">点此</a>'
               '<img src="http://169.254.169.254/">'
               '<style>@import url(http://127.0.0.1/)</style>')
    data = {
        "format": "file", "direction": "downward", "issuer": "临川县财政局<b>", "doc_number": "临财绩〔2025〕1号",
        "title": "关于<script>alert(1)</script>的通知", "addressees": ['<a href="http://localhost/">各单位</a>'],
        "body": "正文第一段。" + hostile + "\n第二段。", "date": dt.date(2025, 1, 2),
        "annotation": hostile, "imprint": {"cc": [hostile], "printed_by": "办公室", "printed_on": dt.date(2025, 1, 2)},
    }
    doc = build("notice", copy.deepcopy(data), defaults())
    fetcher = SafeURLFetcher()
    pdf = render_pdf(doc, url_fetcher=fetcher)
    assert fetcher.requested == []  # the template itself needs nothing from outside
    assert not has_embedded_files(pdf)
    flat = "".join(text_of(pdf).split())
    assert "".join(hostile.split()) in flat  # shown literally
    assert "关于<script>alert(1)</script>的通知" in flat
    assert "临川县财政局<b>" in flat
