"""The OFD output drawn by an independent renderer — ofd.js (npm, installed by `npm ci` from the
repository's package.json) in Debian's Chromium — against poppler's rendering of the PDF of the
same document, page by page at the same resolution (192 dpi: ofd.js at 96 px per inch, Chromium
at device scale 2; pdftoppm -r 192).

A pixel differs when its colour is more than 64 levels (of 255, in some channel) away from every
pixel within one pixel of it in the other picture: anti-aliasing (poppler snaps thin rules to
whole pixels, Chromium blends them) is not a difference, a missing or moved glyph, rule or
picture is. Each page must differ in under 2 % of its pixels. The red issuer mark and the red rule
of every 公文 must be at the same place within 0.5 mm.

Chromium resolves the fonts ofd.js names through the project's fontconfig, as LibreOffice does in
the office tests: ofd.js 0.2.6 draws text with the named family and places every character at
the OFD's DeltaX positions. (ofd.js 1.x draws the embedded glyphs, but through a closed core that
refuses to run without a licence key.)
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageFilter

import kinds
from generators.pdf import FONTS_CONF, ROOT
from kinds import pipeline
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

OFD_JS = ROOT / "node_modules" / "ofd.js" / "lib" / "ofd.umd.min.js"
DPI = 192
TOLERANCE = 64
MAX_DIFFERING = 0.02
MM = DPI / 25.4  # pixels per millimetre
SAMPLES = [(k.id, s) for k in kinds.all_kinds() if "pdf" in k.formats for s in k.samples()]
GONGWEN = {"request", "report", "opinion", "notice", "letter"}

RENDER = """([b64]) => new Promise((resolve, reject) => {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0)).buffer;
    ofd.parseOfdDocument({ofd: bytes, success(docs) {
        ofd.setPageScale(96 / 25.4);  // CSS pixels per millimetre
        const root = document.getElementById('root');
        root.replaceChildren();
        ofd.renderOfdByScale(docs[0]).forEach((div, i) => {
            div.id = 'page' + i; div.style.margin = '0 0 8px 0'; root.appendChild(div);
        });
        resolve(root.children.length);
    }, fail(error) { reject(String(error)); }});
})"""


@pytest.fixture(scope="module")
def ofd_page():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run the set-up script (it installs Debian's chromium)")
    if not OFD_JS.exists():
        pytest.fail(f"{OFD_JS} is missing: run the set-up script (npm ci installs package.json)")
    env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, env=env)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, device_scale_factor=2)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.set_content('<html><body style="margin:0;background:#888"><div id="root"></div></body></html>')
            page.add_script_tag(path=str(OFD_JS))
            page.js_errors = errors
            yield page
        finally:
            browser.close()


def ofd_rasters(page, package: bytes) -> list[Image.Image]:
    count = page.evaluate(RENDER, [base64.b64encode(package).decode()])
    return [Image.open(io.BytesIO(page.locator(f"#page{i}").screenshot())).convert("RGB") for i in range(count)]


def pdf_rasters(pdf: bytes) -> list[Image.Image]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(path), str(Path(tmp) / "p")], check=True)
        return [Image.open(p).convert("RGB") for p in sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(p.stem[2:]))]


def _outside(a: Image.Image, b: Image.Image) -> Image.Image:
    """Pixels of `a` further than TOLERANCE from every pixel of `b` within one pixel (255 = so)."""
    low, high = b.filter(ImageFilter.MinFilter(3)), b.filter(ImageFilter.MaxFilter(3))
    beyond = ImageChops.lighter(ImageChops.subtract(low, a, 1, -TOLERANCE), ImageChops.subtract(a, high, 1, -TOLERANCE))
    r, g, bl = beyond.split()
    return ImageChops.lighter(ImageChops.lighter(r, g), bl).point(lambda v: 255 if v else 0)


def differing(a: Image.Image, b: Image.Image) -> float:
    """The share of pixels that differ (see the module's note), on the pages' common area."""
    w, h = min(a.width, b.width), min(a.height, b.height)
    a, b = a.crop((0, 0, w, h)), b.crop((0, 0, w, h))
    both = ImageChops.lighter(_outside(a, b), _outside(b, a))
    return both.histogram()[255] / (w * h)


def red_parts(img: Image.Image) -> tuple[tuple[int, int, int, int], int]:
    """(box of the red mark above the rule, the red rule's middle row), in pixels."""
    w, h = img.size
    px = img.load()
    rows: dict[int, list[int]] = {}
    for y in range(h // 2):
        xs = [x for x in range(0, w) if (p := px[x, y])[0] > 180 and p[1] < 110 and p[2] < 110]
        if xs:
            rows[y] = xs
    rule = [y for y, xs in rows.items() if len(xs) > 0.4 * w]
    assert rule, "a red rule"
    mark = {y: xs for y, xs in rows.items() if y < rule[0] - 3}
    assert mark, "a red mark above the rule"
    box = (min(min(xs) for xs in mark.values()), min(mark), max(max(xs) for xs in mark.values()), max(mark))
    return box, (rule[0] + rule[-1]) // 2


@pytest.mark.parametrize(("kind_id", "sample"), SAMPLES, ids=[f"{k}-{s.stem}" for k, s in SAMPLES])
def test_ofd_pages_look_like_the_pdf_pages(ofd_page, kind_id, sample):
    kind = kinds.get(kind_id)
    data = pipeline.validate(kind, json.loads(sample.read_text(encoding="utf-8")))
    pdf = pipeline.render(kind, data, "pdf")
    package = pipeline.render(kind, data, "ofd")
    drawn, expected = ofd_rasters(ofd_page, package), pdf_rasters(pdf)
    assert not ofd_page.js_errors
    assert len(drawn) == len(expected) > 0
    for number, (ours, theirs) in enumerate(zip(drawn, expected, strict=True), 1):
        assert abs(ours.width - theirs.width) <= 2 and abs(ours.height - theirs.height) <= 2, f"第{number}页大小"
        share = differing(ours, theirs)
        assert share < MAX_DIFFERING, f"第{number}页有{share:.2%}的像素不同"
    if kind_id in GONGWEN:
        (mark, rule), (their_mark, their_rule) = red_parts(drawn[0]), red_parts(expected[0])
        assert abs(rule - their_rule) <= 0.5 * MM, "红色分隔线"
        for ours, theirs in zip(mark, their_mark, strict=True):
            assert abs(ours - theirs) <= 0.5 * MM, f"红色发文机关标志 {mark} / {their_mark}"
