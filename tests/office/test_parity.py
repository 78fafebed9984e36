"""Every sample as the clerk gets it: its docx printed by LibreOffice (project fontconfig) against
the project's own PDF, and its xlsx printed by Calc and by Gnumeric (tests/office/gnumeric.py), the
second engine, which lays columns out as Excel and WPS do.

All samples of all kinds are rendered and converted once per session, in one LibreOffice run.
"""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from kinds import all_kinds, pipeline
from tests.office import XLSX_ENGINES, print_office_files

pytestmark = [pytest.mark.libreoffice, pytest.mark.xdist_group("libreoffice")]

MM_PER_PT = 25.4 / 72
TYPE_TOP_MM, TYPE_BOTTOM_MM = 37.0, 262.0


@dataclass
class Sample:
    kind: str
    name: str
    files: dict[str, Path]  # format → file
    printed: dict[str, Path]  # engine (writer for the docx, calc and gnumeric for the xlsx) → its PDF


def _samples() -> list[tuple[str, Path]]:
    return [(k.id, s) for k in all_kinds() for s in k.samples()]


SAMPLES = _samples()


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> dict[str, Sample]:
    folder = tmp_path_factory.mktemp("parity")
    out: dict[str, Sample] = {}
    office = []
    for kind_id, path in SAMPLES:
        kind = next(k for k in all_kinds() if k.id == kind_id)
        data = pipeline.validate(kind, json.loads(path.read_text(encoding="utf-8")))
        name = f"{kind_id}__{path.stem}"
        files = {}
        for fmt in kind.formats:
            if fmt not in ("docx", "xlsx", "pdf"):
                continue
            file = folder / (f"{name}.{fmt}" if fmt == "pdf" else f"{name}-{fmt}.{fmt}")
            file.write_bytes(pipeline.render(kind, data, fmt))
            files[fmt] = file
            if fmt != "pdf":
                office.append(file)
        out[name] = Sample(kind_id, name, files, {})
    printed = print_office_files(office, folder)
    for sample in out.values():
        for engine, by_file in printed.items():
            for fmt in ("docx", "xlsx"):
                if sample.files.get(fmt) in by_file:
                    sample.printed[engine] = by_file[sample.files[fmt]]
    return out


def pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def page_lines(pdf: Path, page: int) -> list[str]:
    """The text lines of a page within the type area, top to bottom, without spaces (word boxes
    from pdftotext -bbox grouped by their top edge)."""
    return [text for _, text in placed_lines(pdf, page)]


def placed_lines(pdf: Path, page: int) -> list[tuple[float, str]]:
    """(top in mm, text) of the lines of a page within the type area, top to bottom."""
    html = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          check=True, capture_output=True, text=True).stdout
    rows: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', html):
        x0, y0, y1 = float(m.group(1)), float(m.group(2)) * MM_PER_PT, float(m.group(3)) * MM_PER_PT
        if TYPE_TOP_MM - 1 <= y0 and y1 <= TYPE_BOTTOM_MM + 1:
            row = next((r for r in rows if abs(r - y0) < 2.5), round(y0, 1))
            rows.setdefault(row, []).append((x0, m.group(4)))
    return [(y, "".join(t for _, t in sorted(ws))) for y, ws in sorted(rows.items())]


def ids(pairs):
    return [f"{k}/{p.stem}" for k, p in pairs]


FORMATS = {k.id: set(k.formats) for k in all_kinds()}
DOCX_AND_PDF = [(k, p) for k, p in SAMPLES if {"docx", "pdf"} <= FORMATS[k]]


@pytest.mark.parametrize("kind, path", DOCX_AND_PDF, ids=ids(DOCX_AND_PDF))
def test_docx_printed_by_libreoffice_has_the_pages_of_the_pdf(rendered, kind, path):
    sample = rendered[f"{kind}__{path.stem}"]
    assert pages(sample.printed["writer"]) == pages(sample.files["pdf"])


def test_no_pdf_font_falls_back_to_a_custom_encoding(rendered):
    """A glyph missing from every face makes weasyprint embed a font with a Custom encoding
    (and draw a box); every character of every sample must be in the embedded faces."""
    for sample in rendered.values():
        if "pdf" not in sample.files:
            continue
        fonts = subprocess.run(["pdffonts", str(sample.files["pdf"])], check=True, capture_output=True,
                               text=True).stdout.splitlines()[2:]
        assert fonts, sample.name
        assert not [f for f in fonts if " Custom " in f], (sample.name, fonts)


GONGWEN = [(k, p) for k, p in SAMPLES if k in ("request", "report", "opinion", "notice", "letter")]


@pytest.mark.parametrize("kind, path", GONGWEN, ids=ids(GONGWEN))
def test_gongwen_page_one_breaks_lines_at_the_same_characters(rendered, kind, path):
    sample = rendered[f"{kind}__{path.stem}"]
    docx, pdf = page_lines(sample.printed["writer"], 1), page_lines(sample.files["pdf"], 1)
    assert len(pdf) >= 8  # number, title, addressees and body lines
    assert docx == pdf
    # and from the 发文字号 down the lines lie at the same heights: the title on the same grid line
    # (the mark's box is left out: the two engines report a big glyph's ascent differently)
    def heights(pdf):
        lines = placed_lines(pdf, 1)
        start = next(i for i, (_, text) in enumerate(lines) if "〔" in text)
        return [y for y, _ in lines[start:]]

    # (2 mm: a word box's top is the face's ascent, which the engines report differently for 黑体;
    # a line is 10.2 mm)
    assert heights(sample.printed["writer"]) == pytest.approx(heights(sample.files["pdf"]), abs=2.0)


FORMS = [(k, p) for k, p in SAMPLES if k in ("monitoring", "department_monitoring", "self_evaluation",
                                              "department_self_evaluation", "target_declaration",
                                              "department_target_declaration")]


def page_text(pdf: Path, page: int) -> str:
    return re.sub(r"\s+", "", subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
                                             check=True, capture_output=True, text=True).stdout)


@pytest.mark.parametrize("kind, path", FORMS, ids=ids(FORMS))
def test_every_page_of_indicators_has_the_column_captions(rendered, kind, path):
    """Page 2 of a form is not a grid of values without labels: the PDF, the docx printed by
    LibreOffice and the xlsx printed by Calc and by Gnumeric repeat the indicator captions on it."""
    sample = rendered[f"{kind}__{path.stem}"]
    # (a declaration's xlsx has no print titles: each of its two blocks starts a page under its
    # own captions, generators/tables/xlsx_pages.py)
    printed = [sample.files["pdf"], sample.printed["writer"], *(sample.printed[e] for e in XLSX_ENGINES)]
    for pdf in printed:
        count = pages(pdf)
        assert count >= 2, pdf.name  # the samples run onto a second page
        for page in range(2, count + 1):
            assert "三级指标" in page_text(pdf, page), (pdf.name, page)


def manual_breaks(xlsx: Path) -> tuple[list[int], list[tuple[int, int, float]]]:
    """The first sheet's manual row breaks (the 1-based rows ending a page) and vertical merges
    that hold a label (first and last 1-based rows, height in points: a row without one is 15 pt;
    the empty rest of a label cut at the captions' end may be cut by a page)."""
    with zipfile.ZipFile(xlsx) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    breaks = [int(b) for b in re.findall(r'<brk id="(\d+)"', xml)]
    heights = {int(r): float(h) for r, h in re.findall(r'<row r="(\d+)" ht="([\d.]+)"', xml)}
    ws = openpyxl.load_workbook(xlsx).worksheets[0]
    merges = [(m.min_row, m.max_row) for m in ws.merged_cells.ranges
              if m.max_row > m.min_row and ws.cell(m.min_row, m.min_col).value not in (None, "")]
    return breaks, [(a, b, sum(heights.get(r, 15.0) for r in range(a, b + 1))) for a, b in merges]


@pytest.mark.parametrize("engine", XLSX_ENGINES)
@pytest.mark.parametrize("kind, path", FORMS, ids=ids(FORMS))
def test_xlsx_printed_starts_pages_only_where_the_xlsx_breaks_them(rendered, kind, path, engine):
    """Calc and Gnumeric print the form on one page more than its manual breaks (they add none
    of their own, so they slice no merged group: the rows fit the pages xlsx_pages reckons with,
    Gnumeric's the narrow ones Excel's column widths make), and no break falls inside a merged
    group short enough for a page (产出指标, 效益指标 under their 一级指标 label; 400 pt is under a
    landscape page at the scale the forms print, and the 绩效指标 label down a whole block is
    taller)."""
    sample = rendered[f"{kind}__{path.stem}"]
    breaks, merges = manual_breaks(sample.files["xlsx"])
    assert pages(sample.printed[engine]) == len(breaks) + 1
    for end in breaks:
        inside = [(a, b) for a, b, height in merges if a <= end < b and height < 400]
        assert not inside, (end, inside)
    # and no page ends on the captions (the print titles) with no indicator under them
    with zipfile.ZipFile(sample.files["xlsx"]) as z:
        titles = re.search(r'Print_Titles" localSheetId="0">[^<]*!\$\d+:\$(\d+)<', z.read("xl/workbook.xml").decode())
    assert titles is None or int(titles.group(1)) not in breaks, (titles.group(0), breaks)


XLSX = [(k, p) for k, p in SAMPLES if "xlsx" in FORMATS[k]]


@pytest.mark.parametrize("kind, path", XLSX, ids=ids(XLSX))
def test_gnumeric_prints_the_xlsx_on_the_pages_calc_does(rendered, kind, path):
    sample = rendered[f"{kind}__{path.stem}"]
    assert pages(sample.printed["gnumeric"]) == pages(sample.printed["calc"])


@pytest.mark.parametrize("kind, path", XLSX, ids=ids(XLSX))
def test_every_cell_of_the_xlsx_is_printed_whole(rendered, kind, path):
    """Rows tall enough for their wrapped text: Gnumeric draws no line of a cell that its row
    cuts off, so each cell's text, in the order the engine draws it (pdftotext -raw), is whole in
    the printed sheet. (Calc exports a cut-off line clipped but present, so its print cannot show
    this; Gnumeric wraps in Excel's narrower columns, the harder case.)"""
    sample = rendered[f"{kind}__{path.stem}"]
    texts = cell_texts(sample.files["xlsx"])
    assert len(texts) > 10  # the sheet's cells were read
    printed = raw_text(sample.printed["gnumeric"])
    assert [t for t in texts if t not in printed] == []


def raw_text(pdf: Path, page: int | None = None) -> str:
    """The text of a PDF (or one page) in the order it is drawn, without white space: a table
    cell's lines stay together."""
    pages_arg = ["-f", str(page), "-l", str(page)] if page else []
    return re.sub(r"\s+", "", subprocess.run(["pdftotext", "-raw", *pages_arg, str(pdf), "-"],
                                             check=True, capture_output=True, text=True).stdout)


def print_titles(xlsx: Path) -> list[list[str]]:
    """For each sheet with print titles, the texts of its print-title rows."""
    book = openpyxl.load_workbook(xlsx)
    found = []
    for sheet in book.worksheets:
        rows = sheet.print_title_rows  # "12:13"
        if rows:
            first, last = (int(r.strip("$")) for r in rows.split(":"))
            found.append([re.sub(r"\s+", "", c.value) for row in sheet.iter_rows(min_row=first, max_row=last)
                          for c in row if isinstance(c.value, str) and c.value.strip()])
    return found


@pytest.mark.parametrize("engine", XLSX_ENGINES)
@pytest.mark.parametrize("kind, path", XLSX, ids=ids(XLSX))
def test_every_printed_page_of_the_xlsx_has_its_column_captions(rendered, kind, path, engine):
    """Each page after the first holds, whole, the print-title rows of a sheet of the workbook; a
    sheet without print titles (a declaration's two indicator blocks) starts each block's page
    under the block's own captions (三级指标)."""
    sample = rendered[f"{kind}__{path.stem}"]
    titles = print_titles(sample.files["xlsx"]) or [["三级指标"]]
    assert all(titles)
    pdf = sample.printed[engine]
    for page in range(2, pages(pdf) + 1):
        text = raw_text(pdf, page)
        assert any(all(t in text for t in sheet) for sheet in titles), (page, titles)


def cell_texts(xlsx: Path) -> list[str]:
    """The text of every text cell of the xlsx's printed sheets, without white space."""
    book = openpyxl.load_workbook(xlsx)
    return [re.sub(r"\s+", "", cell.value) for sheet in book.worksheets if sheet.sheet_state == "visible"
            for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str) and cell.value.strip()]


FOOTER = re.compile(r"^(—\d+—|第\d+页，?共\d+页)$")
IMPRINT = re.compile(r"^(抄送：|.*印发$)")  # a 版记 page of its own is allowed (GB/T 9704 7.4)
DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日$")
HEADING = re.compile(r"^([一二三四五六七八九十]+、|（[一二三四五六七八九十]+）)")
NOTE = re.compile(r"^(注|填报人|填报说明|说明|需说明|(项目|部门)负责人|\d+[.．]|.*完成率)")
# A table's repeated captions and its total row over the notes are no table either
CAPTIONS_OR_TOTAL = re.compile(r"^(.*一级指标.*三级指标|总分|合计)")


def lonely(pdf: Path, page: int) -> str | None:
    """What a page holds if it holds only a signature block, a heading or a table's notes."""
    text = subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          check=True, capture_output=True, text=True).stdout
    lines = [re.sub(r"\s+", "", line) for line in text.splitlines()]
    lines = [line for line in lines if line and not FOOTER.match(line) and not IMPRINT.match(line)]
    if lines and len(lines) <= 3 and DATE.search(lines[-1]) and all(len(line) <= 24 for line in lines):
        return "署名和成文日期"
    if len(lines) == 1 and HEADING.match(lines[0]):
        return "标题"
    if lines and all(NOTE.match(line) or CAPTIONS_OR_TOTAL.match(line) for line in lines) \
            and any(NOTE.match(line) for line in lines):
        return "表格注释"
    return None


def test_no_page_holds_only_a_signature_a_heading_or_notes(rendered):
    found = []
    for sample in rendered.values():
        for pdf in (sample.files.get("pdf"), *sample.printed.values()):
            if pdf is None:
                continue
            for page in range(1, pages(pdf) + 1):
                if (what := lonely(pdf, page)) is not None:
                    found.append((pdf.name, page, what))
    assert not found
