"""GB/T 9704-2012 7.3.5.5 and 7.4/7.5 at a page's end, in the PDF and in the docx as LibreOffice
prints it: 请示 and 通知 whose body is swept line by line past a page's foot (N filler paragraphs of
two lines, then a short or a long last paragraph), so that the 署名, the 成文日期 and the 版记 land
on every line near the page end.

For each case both files have the same pages; no page holds only the signature block; a page
holding only the 版记 is numbered as page_number.imprint_page says and follows a page without room for it; lines set closer
than the grid stay within `[signature] tight_pitch_ratio`; and a page whose lines are set closer
holds the signature (the closer pitch is there to keep it on the page). The old layout failed:
with 11 fillers the 版记 stood alone on page 3 under “— 3 —”, with 12 the 署名 went over with
one line, and a docx whose long last paragraph ended a page left LibreOffice moving the whole
paragraph or nothing.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from generators.gongwen import fit
from generators.gongwen import geometry as shared
from generators.gongwen.geometry import line_pitch
from generators.gongwen.model import build
from kinds import get, pipeline
from rules.settings import defaults
from tests.office import print_with_libreoffice

pytestmark = [pytest.mark.libreoffice, pytest.mark.xdist_group("libreoffice")]

MM_PER_PT = 25.4 / 72
TYPE_TOP, TYPE_BOTTOM = 37 / MM_PER_PT, 262 / MM_PER_PT  # points from the page's top
FILLER = "为加强预算绩效管理，提高财政资金使用效益，现就有关事项请示如下。"  # two lines
SHORT = "妥否，请批示。"
LONG = "本项目资金" + "按照预算绩效管理的要求，逐项落实绩效目标，" * 6 + "妥否，请批示。"
ISSUER, DATE = "青溪县财政局", re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")
NUMBER = re.compile(r"^—\s*\d+\s*—$")
IMPRINT = re.compile(r"(^抄送：|印发$)")


@dataclass(frozen=True)
class Case:
    kind: str
    fillers: int
    last: str
    cc: bool = False
    sealed: bool = True
    fillers_text: tuple[str, ...] = ()  # other paragraphs instead of the fillers (headings and prose)

    @property
    def name(self) -> str:
        mixed = f"M{zlib.crc32(''.join(self.fillers_text).encode()) % 10000}" if self.fillers_text else ""
        return f"{self.kind}{self.fillers}{mixed}{'L' if self.last == LONG else 'S'}{'C' if self.cc else ''}{'' if self.sealed else 'U'}"

    def payload(self) -> dict:
        payload = json.loads(get(self.kind).samples()[0].read_text(encoding="utf-8"))
        payload["attachments"] = []
        payload["body"] = "\n".join([*(self.fillers_text or [FILLER] * self.fillers), self.last])
        payload["signature"] = [ISSUER]
        payload["seal"] = self.sealed
        if self.cc:
            payload.setdefault("imprint", {})["cc"] = ["青州市财政局", "县人大常委会预算工作委员会"]
        return payload


def _mixed(count: int, seed: int) -> list[Case]:
    """Bodies of the sample 请示's headings and paragraphs in random order and number (runs of
    headings kept with what follows, paragraphs of one to six lines), sealed or not, with or
    without 抄送: the estimate's page breaks against the engines'."""
    sample = json.loads(get("request").samples()[0].read_text(encoding="utf-8"))
    paragraphs = [p for p in (sample["body"] + "\n" + sample["attachments"][0]["body"]).splitlines()
                  if p.strip() and p != SHORT]
    rng, cases = random.Random(seed), []
    for _ in range(count):
        kind, body = rng.choice(["request", "notice"]), tuple(rng.sample(paragraphs, rng.randint(3, 14)))
        sealed = rng.random() < 0.7
        cases.append(Case(kind, 0, SHORT, cc=rng.random() < 0.5, sealed=sealed, fillers_text=body))
    return cases


# The sweeps put the signature block on every line of page 2's last third (and of page 1 for 0–2).
CASES = ([Case("request", n, SHORT) for n in range(0, 15)]
         + [Case("notice", n, SHORT, cc=True) for n in (0, 1, 10, 11, 12, 13)]
         + [Case("request", n, SHORT, cc=True, sealed=False) for n in (1, 11, 12, 13)]
         + [Case("request", n, LONG) for n in (0, 8, 9, 10, 11)]
         + _mixed(16, 11) + _mixed(36, 7)[20:])  # (where runs of headings moved the page ends)


@dataclass(frozen=True)
class Line:
    top: float  # points from the page's top
    bottom: float
    text: str
    body_top: float | None  # the top of its words in the page's commonest word height (仿宋), if any


def page_lines(pdf: Path) -> list[list[Line]]:
    """Each page's text lines (word boxes of pdftotext -bbox grouped by their top), top down. A
    face's word boxes start at its own ascent (黑体 and 楷体 higher than 仿宋), so the lines' pitch
    is measured on the words of the page's commonest height."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    out = []
    for page in html.split("<page ")[1:]:
        words = [(float(m.group(1)), float(m.group(2)), float(m.group(3)), m.group(4)) for m in
                 re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', page)]
        heights = [round(b - t, 1) for _, t, b, _ in words]
        common = max(set(heights), key=heights.count) if heights else 0.0
        rows: dict[float, list[tuple[float, float, float, str]]] = {}
        for x, top, bottom, text in words:
            row = next((r for r in rows if abs(r - top) < 5), top)  # (one line's faces: within 5 pt)
            rows.setdefault(row, []).append((x, top, bottom, text))
        lines = []
        for ws in rows.values():
            tops = [t for _, t, b, _ in ws if abs(b - t - common) < 0.2]
            lines.append(Line(min(t for _, t, _, _ in ws), max(b for _, _, b, _ in ws),
                              "".join(w[3] for w in sorted(ws)), min(tops) if tops else None))
        out.append(sorted(lines, key=lambda line: line.top))
    return out


@pytest.fixture(scope="session")
def printed(tmp_path_factory) -> dict[str, tuple[list[list[Line]], list[list[Line]]]]:
    """case name → (the PDF's pages, the LibreOffice-printed docx's pages); one soffice run."""
    folder = tmp_path_factory.mktemp("signature-fit")
    docx = []
    for case in CASES:
        (folder / f"{case.name}.pdf").write_bytes(pipeline.produce(case.kind, case.payload(), "pdf").content)
        path = folder / f"{case.name}-docx.docx"
        path.write_bytes(pipeline.produce(case.kind, case.payload(), "docx").content)
        docx.append(path)
    prints = print_with_libreoffice(docx, folder / "lo", folder / "profile")
    return {c.name: (page_lines(folder / f"{c.name}.pdf"), page_lines(prints[path])) for c, path in zip(CASES, docx, strict=True)}


def _body(page: list[Line]) -> list[Line]:
    """The lines of the body text on a page: not the 署名, date, 附注, 版记 or page number."""
    return [x for x in page if TYPE_TOP - 3 <= x.top and x.bottom <= TYPE_BOTTOM + 3 and x.text != ISSUER
            and not DATE.match(x.text) and not x.text.startswith("（联系人") and not IMPRINT.search(x.text)]


def _imprint_only(page: list[Line]) -> bool:
    return all(IMPRINT.search(x.text) or NUMBER.match(x.text) for x in page)


def _numbered(page: list[Line]) -> bool:
    return any(NUMBER.match(x.text) and x.top > TYPE_BOTTOM for x in page)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_signature_block_and_imprint_at_a_page_end(printed, case):
    settings = defaults()
    grid = line_pitch(settings["layout"]).pt
    ratio = float(settings["layout"]["signature"]["tight_pitch_ratio"])
    doc = build(case.kind, pipeline.validate(get(case.kind), case.payload()), settings)
    closer = fit.ending(doc).fit
    for label, pages in zip(("pdf", "docx"), printed[case.name], strict=True):
        where = (case.name, label)
        dated = [i for i, page in enumerate(pages) if any(DATE.match(x.text) for x in page)]
        assert len(dated) == 1, where
        signed = pages[dated[0]]
        # 7.3.5: the 署名 and date share their page with body text, and are not split.
        assert _body(signed), (where, "署名 and date alone")
        if closer:  # the closer lines keep it with the paragraphs before the last, not carried over
            assert len(_body(signed)) > len(fit.paragraph_lines(doc.paragraphs[-1], 28)), (where, "carried over")
        assert any(x.text == ISSUER for x in signed), where
        for i, page in enumerate(pages):
            if _imprint_only(page):
                # 7.4/7.5: a page of the 版记 alone is numbered as the setting says (by default in
                # order: 7.5 lets it go unnumbered only after blank pages), and the page before had no room.
                assert _numbered(page) == shared.imprint_page_numbered(settings["layout"]), (where, i + 1)
                above = pages[i - 1]
                imprint_top = min(x.top for x in page if IMPRINT.search(x.text))
                assert max(x.bottom for x in above if x.bottom <= TYPE_BOTTOM) > imprint_top - grid, (where, i + 1)
            else:
                assert _numbered(page) or (i == 0 and case.kind == "letter"), (where, i + 1)
            # Lines set closer than the grid: within the limit, and only where the signature is.
            # (a line's box starts at its first glyph's ascent: in LibreOffice's print a line opening
            # in 楷体 or 黑体 stands up to 2 pt higher, so the pitch is the gaps' median)
            body = [x.body_top for x in _body(page) if x.body_top is not None]  # 仿宋 text, not the title
            gaps = sorted(b - a for a, b in zip(body, body[1:], strict=False))
            if not gaps:
                continue
            pitch = gaps[len(gaps) // 2]
            assert pitch > grid * ratio - 0.3 and gaps[0] > grid * ratio - 2, (where, i + 1, gaps)
            if pitch < grid - 0.1:
                assert i == dated[0], (where, i + 1, "closer lines without the signature")
    pdf, docx = printed[case.name]
    assert len(docx) == len(pdf), case.name


def test_the_sweep_reaches_every_decision():
    """The cases above do hit each way a page can end (so the test above checks them all): fits
    as set, lines set closer, lines carried over, the 版记 on a page of its own, a long last
    paragraph split."""
    endings = []
    for case in CASES:
        doc = build(case.kind, pipeline.validate(get(case.kind), case.payload()), defaults())
        end = fit.ending(doc)
        endings.append((bool(end.fit), end.imprint_page, bool(fit.split_tail(doc))))
    assert (False, False, False) in endings
    assert any(f for f, _, _ in endings)
    assert any(i for _, i, _ in endings)
    assert any(s for _, _, s in endings)
