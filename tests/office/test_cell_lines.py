"""Column widths fitted to the content (generators/tables/widths.py), as printed: in the PDF, the
docx printed by LibreOffice and the xlsx printed by Calc and by Gnumeric, no caption
leaves its last character alone on a line and every figure is printed whole. The same of the tables in the reports' bodies
(generators/gongwen/tables.py), where no text cell leaves its last character alone either."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from pathlib import Path

import pytest

from generators.gongwen import docx as gongwen_docx
from generators.gongwen import pdf as gongwen_pdf
from generators.gongwen.model import TableBlock
from generators.gongwen.tables import WHOLE_KINDS
from generators.tables import NUMERIC_KINDS, cell_text
from generators.tables import docx as table_docx
from generators.tables import pdf as table_pdf
from generators.tables.widths import CAPTION_KINDS, value_figures
from kinds import all_kinds, pipeline
from tests.office import XLSX_ENGINES, print_office_files
from tests.office.cell_lines import bad_breaks

pytestmark = [pytest.mark.libreoffice, pytest.mark.xdist_group("libreoffice")]

FORM_KINDS = ("monitoring", "department_monitoring", "self_evaluation", "department_self_evaluation",
              "target_declaration", "department_target_declaration", "public_funds_assessment",
              "result_application", "monitoring_summary")
# Every kind whose body holds tables (generators/evaluation.py Body.table).
REPORT_KINDS = ("self_evaluation_report", "evaluation_report", "department_evaluation_report",
                "ex_ante_assessment")
SAMPLES = [(k, s) for k in all_kinds() if k.id in FORM_KINDS + REPORT_KINDS for s in k.samples()]


@contextmanager
def _tables_seen(seen: list):
    """(sheet, the kinds of cell kept whole) of every table the renderers draw, appended to
    `seen`: the forms' sheets and the tables in the reports' bodies."""
    context, docx_context = table_pdf._sheet_context, table_docx._sheet_context
    report_pdf, report_docx = gongwen_pdf.render_pdf, gongwen_docx.render_docx

    def body_tables(doc):
        seen.extend((b.sheet, WHOLE_KINDS) for b in doc.paragraphs if isinstance(b, TableBlock))

    table_pdf._sheet_context = lambda sheet: (seen.append((sheet, CAPTION_KINDS)), context(sheet))[1]
    table_docx._sheet_context = lambda sheet, looks: (seen.append((sheet, CAPTION_KINDS)), docx_context(sheet, looks))[1]
    gongwen_pdf.render_pdf = lambda doc, *a, **kw: (body_tables(doc), report_pdf(doc, *a, **kw))[1]
    gongwen_docx.render_docx = lambda doc, *a, **kw: (body_tables(doc), report_docx(doc, *a, **kw))[1]
    try:
        yield
    finally:
        table_pdf._sheet_context, table_docx._sheet_context = context, docx_context
        gongwen_pdf.render_pdf, gongwen_docx.render_docx = report_pdf, report_docx


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """name → (captions, figures, {"pdf" or the engine that printed the docx/xlsx: its PDF}) of
    every form and report sample."""
    folder = tmp_path_factory.mktemp("cells")
    sheets: list = []
    out, office = {}, []
    for kind, path in SAMPLES:
        data = pipeline.validate(kind, json.loads(path.read_text(encoding="utf-8")))
        name = f"{kind.id}__{path.stem}"
        files = {}
        with _tables_seen(sheets):
            pdf = pipeline.render(kind, data, "pdf") if "pdf" in kind.formats else None
            docx = pipeline.render(kind, data, "docx") if "docx" in kind.formats else None
        if pdf is not None:
            (folder / f"{name}.pdf").write_bytes(pdf)
            files["pdf"] = folder / f"{name}.pdf"
        for fmt in ("docx", "xlsx"):
            if fmt in kind.formats:
                file = folder / f"{name}-{fmt}.{fmt}"
                file.write_bytes(docx if fmt == "docx" else pipeline.render(kind, data, fmt))
                office.append(file)
                files[fmt] = file
        captions, figures = set(), set()
        for sheet, whole in sheets:
            for r, _c, cell in sheet.placed():
                if r >= sheet.title_rows and cell.colspan == 1 and cell.value is not None:
                    text = cell_text(cell)
                    if cell.kind in whole:
                        captions.add(text)
                    elif cell.kind in NUMERIC_KINDS and cell.kind != "number":
                        figures.add(text)
                    # a short value cell's figures with their units (≤14.5万元/公里)
                    figures.update(re.sub(r"\s+", "", f.group(0)) for f in value_figures(text))
        sheets.clear()
        out[name] = (captions, figures, files)
    by_engine = print_office_files(office, folder)

    def prints(files: dict[str, Path]) -> dict[str, Path]:
        found = {"pdf": files["pdf"]} if "pdf" in files else {}
        for engine, by_file in by_engine.items():
            for f in files.values():
                if f in by_file:
                    found[engine] = by_file[f]
        return found

    return {name: (captions, figures, prints(files)) for name, (captions, figures, files) in out.items()}


@pytest.mark.parametrize("name", [f"{k.id}__{s.stem}" for k, s in SAMPLES])
def test_no_caption_leaves_one_character_and_no_figure_is_broken(printed, name):
    captions, figures, files = printed[name]
    assert captions or figures, name  # the model's cells were seen (the PDF builds the same sheets)
    # (a caption's last character is not alone, in the reports' tables and the xlsx nor with only
    # the punctuation closing it: 项目资金（万/元）; the xlsx's as Gnumeric wraps it, where Excel and WPS
    # would, a little earlier still, the narrow end of the band xlsx_widths fits to, padding
    # included; Calc the wide end)
    report = name.split("__")[0] in REPORT_KINDS
    broken = {fmt: bad_breaks(Path(pdf), captions, figures, kinsoku=report or fmt in XLSX_ENGINES)
              for fmt, pdf in files.items()}
    assert broken == {fmt: [] for fmt in files}
