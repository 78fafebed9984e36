"""Column widths fitted to the content (generators/tables/widths.py), as printed: in the PDF, the
docx printed by LibreOffice and the xlsx printed by Calc, no caption leaves its last character
alone on a line and every figure is printed whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generators.tables import NUMERIC_KINDS, cell_text
from generators.tables import docx as table_docx
from generators.tables import pdf as table_pdf
from generators.tables.widths import CAPTION_KINDS
from kinds import all_kinds, pipeline
from tests.office import print_with_libreoffice
from tests.office.cell_lines import bad_breaks

pytestmark = [pytest.mark.libreoffice, pytest.mark.xdist_group("libreoffice")]

FORM_KINDS = ("monitoring", "department_monitoring", "self_evaluation", "department_self_evaluation",
              "target_declaration", "department_target_declaration", "public_funds_assessment",
              "result_application", "monitoring_summary")
SAMPLES = [(k, s) for k in all_kinds() if k.id in FORM_KINDS for s in k.samples()]


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """name → (captions, figures, {format: printed PDF}) of every form sample."""
    folder = tmp_path_factory.mktemp("cells")
    sheets = []
    context, docx_context = table_pdf._sheet_context, table_docx._sheet_context
    out, office = {}, []
    for kind, path in SAMPLES:
        data = pipeline.validate(kind, json.loads(path.read_text(encoding="utf-8")))
        name = f"{kind.id}__{path.stem}"
        files = {}
        table_pdf._sheet_context = lambda sheet, _seen=sheets: (_seen.append(sheet), context(sheet))[1]
        table_docx._sheet_context = lambda sheet, looks, _seen=sheets: (_seen.append(sheet), docx_context(sheet, looks))[1]
        try:
            pdf = pipeline.render(kind, data, "pdf") if "pdf" in kind.formats else None
            docx = pipeline.render(kind, data, "docx") if "docx" in kind.formats else None
        finally:
            table_pdf._sheet_context, table_docx._sheet_context = context, docx_context
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
        for sheet in sheets:
            for r, _c, cell in sheet.placed():
                if r >= sheet.title_rows and cell.colspan == 1 and cell.value is not None:
                    if cell.kind in CAPTION_KINDS:
                        captions.add(cell_text(cell))
                    elif cell.kind in NUMERIC_KINDS and cell.kind != "number":
                        figures.add(cell_text(cell))
        sheets.clear()
        out[name] = (captions, figures, files)
    by_office = print_with_libreoffice(office, folder / "lo", folder / "profile")
    return {name: (captions, figures, {fmt: (by_office[f] if fmt != "pdf" else f) for fmt, f in files.items()})
            for name, (captions, figures, files) in out.items()}


@pytest.mark.parametrize("name", [f"{k.id}__{s.stem}" for k, s in SAMPLES])
def test_no_caption_leaves_one_character_and_no_figure_is_broken(printed, name):
    captions, figures, files = printed[name]
    assert captions or figures, name  # the model's cells were seen (the PDF builds the same sheets)
    broken = {fmt: bad_breaks(Path(pdf), captions, figures) for fmt, pdf in files.items()}
    assert broken == {fmt: [] for fmt in files}
