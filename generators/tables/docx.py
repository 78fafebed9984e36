"""Word (.docx) rendering of the table-grid model.

`render_docx(workbook)` puts each Sheet in its own section (landscape when the sheet is): the
title rows become centred paragraphs above the table, the table follows the grid exactly
(w:gridSpan across, w:vMerge down), its header rows repeat on every page (w:tblHeader), and the
notes follow as paragraphs. Column widths are Column.width shares of the type width, written in
w:tblGrid/w:gridCol (WPS lays tables out from the grid) and in each cell's w:tcW (Word prefers
those), and the table layout is fixed so neither application re-measures the columns.

Values are shown with the same rules as the PDF (generators/tables.cell_text: money 1,234.50,
percent 73.17%, dates 2024年7月1日). Every run names its faces (w:rFonts with w:eastAsia), and the
styles part has no theme, so Word and WPS use the faces of settings["layout"]["fonts"].

The package is built by generators/docx_package.DocxTemplate from templates/official/tables/docx:
every part but word/document.xml and docProps/core.xml is rendered once per font set and cached;
all text goes through Jinja autoescaping.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from generators.docx_package import DocxTemplate
from generators.grid import Sheet, Workbook
from generators.tables import cell_align, cell_text, edges, layout, owners, parts
from generators.tables.widths import fitted_widths, whole_parts

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "official" / "tables" / "docx"

TWIPS_PER_MM = 1440 / 25.4
A4 = (11906, 16838)  # twips
SIDE_MM = 20
TOP_MM = 25
BOTTOM_MM = 22

# Half-points: title 小二 (18 pt), subtitle and notes 小四/五号, table text 五号 (10.5 pt).
TITLE_SZ = 36
SUBTITLE_SZ = 24
BODY_SZ = 21
NOTE_SZ = 21
KEPT_ROWS = 2  # the table's last rows kept with its notes
FOOTER_SZ = 28  # 四号, as the 公文 page numbers
HEADER_FILL = "F2F2F2"

DEFAULT_FONTS = {
    "xiaobiaosong": "方正小标宋简体",
    "fangsong": "仿宋_GB2312",
    "heiti": "黑体",
    "kaiti": "楷体_GB2312",
    "songti": "宋体",
    "latin": "Times New Roman",
}
# Faces Word may substitute when the _GB2312/方正 face is not installed (fontTable altName).
ALT_NAMES = {"仿宋_GB2312": "仿宋", "楷体_GB2312": "楷体", "方正小标宋简体": "宋体"}

# Which face each kind of text uses.
KIND_FACE = {"title": "xiaobiaosong", "subtitle": "kaiti", "header": "heiti", "note": "fangsong"}
BODY_FACE = "fangsong"

JC = {"left": "left", "center": "center", "right": "right"}


def _mm(value: float) -> int:
    return round(value * TWIPS_PER_MM)


@lru_cache(maxsize=1)
def _package() -> DocxTemplate:
    return DocxTemplate(TEMPLATE_DIR, dynamic=("word/document.xml", "docProps/core.xml"))


class _Looks:
    """Run and paragraph properties rendered once per distinct combination (Markup)."""

    def __init__(self, fonts: Mapping[str, str]):
        self.fonts = fonts
        self.macros = _package().macros("word/_macros.xml.j2")
        self._rpr: dict[tuple, Markup] = {}
        self._ppr: dict[tuple, Markup] = {}
        self._tcpr: dict[tuple, Markup] = {}

    def rpr(self, role: str, sz: int, bold: bool) -> Markup:
        key = (role, sz, bold)
        found = self._rpr.get(key)
        if found is None:
            # the macro's output is template markup with its values autoescaped
            found = self._rpr[key] = Markup(self.macros.rpr(self.fonts[role], self.fonts["latin"], sz, bold))  # noqa: S704
        return found

    def ppr(self, jc: str, before: int = 0, after: int = 0, tabs: tuple = (), keep: bool = False) -> Markup:
        key = (jc, before, after, tabs, keep)
        found = self._ppr.get(key)
        if found is None:
            found = self._ppr[key] = Markup(self.macros.ppr(JC.get(jc, "left"), before, after,  # noqa: S704
                                                            [list(t) for t in tabs], keep))
        return found


    def tcpr(self, w: int, span: int, vmerge: str | None, shade: str | None) -> Markup:
        key = (w, span, vmerge, shade)
        found = self._tcpr.get(key)
        if found is None:
            found = self._tcpr[key] = Markup(self.macros.tcpr(w, span, vmerge, shade))  # noqa: S704
        return found


def _paragraphs(text: str, ppr: Markup, rpr: Markup) -> list[dict[str, Any]]:
    """One paragraph per line of text, each split at tabs."""
    return [{"ppr": ppr, "rpr": rpr, "segments": line.split("\t")} for line in text.split("\n")]


def _grid(sheet: Sheet, total: int) -> list[int]:
    """Column widths in twips, in proportion to the fitted widths (generators/tables/widths.py),
    summing exactly to `total`."""
    return whole_parts(fitted_widths(sheet), total)


def _section(sheet: Sheet) -> dict[str, Any]:
    short, long = A4
    page_w, page_h = (long, short) if sheet.landscape else (short, long)
    return {"page_w": page_w, "page_h": page_h, "landscape": sheet.landscape, "top": _mm(TOP_MM),
            "bottom": _mm(BOTTOM_MM), "side": _mm(SIDE_MM)}


def _sheet_context(sheet: Sheet, looks: _Looks) -> dict[str, Any]:
    section = _section(sheet)
    width = section["page_w"] - 2 * section["side"]
    grid = _grid(sheet, width)
    placed, height = layout(sheet)
    owner = owners(placed, height, sheet.width)

    titles: list[dict[str, Any]] = []
    for r in range(min(sheet.title_rows, height)):
        starts = [p for p in placed if p.row == r]
        if not starts:
            continue
        first = starts[0].cell
        role = "title" if first.kind == "title" else "subtitle"
        sz = TITLE_SZ if role == "title" else SUBTITLE_SZ
        rpr = looks.rpr(KIND_FACE[role] if first.kind in KIND_FACE else BODY_FACE, sz, first.bold)
        after = 120 if role == "title" else 60
        if len(starts) == 1:
            titles += _paragraphs(cell_text(first), looks.ppr(cell_align(first), 0, after), rpr)
        else:
            # Several cells on one title line (填报单位 … 单位：万元): tab stops spread them over the
            # type width as the merged cells spread them in the xlsx.
            texts = [cell_text(p.cell).replace("\n", " ").replace("\t", " ") for p in starts]
            if len(texts) == 2:
                tabs, joined = (("right", width),), "\t".join(texts)
            elif len(texts) == 3:
                tabs, joined = (("center", width // 2), ("right", width)), "\t".join(texts)
            else:
                tabs, joined = (), "　　".join(texts)
            titles.append({"ppr": looks.ppr("left", 0, after, tabs), "rpr": rpr, "segments": joined.split("\t")})

    # One Word table per part (generators.tables.parts): a later part starts at an indicator
    # block's captions, which are its header rows (w:tblHeader, repeated on every page). A span
    # that crosses a part's or its header's edge restarts there as an empty merged cell.
    # The notes and the 填报人 line stay together and with the table's last rows (keep with next
    # on their paragraphs, which Word and LibreOffice apply to a table row as a whole): no page
    # holds only the 总分 row and the notes, as the PDF keeps them (.notes: break-before: avoid).
    bounds = edges(sheet, height)
    kept_from = height - KEPT_ROWS if sheet.notes else height
    tables: list[dict[str, Any]] = []
    for part in parts(sheet, height):
        rows: list[dict[str, Any]] = []
        for r in range(part.start, part.stop):
            keep = r >= max(kept_from, part.header_end)
            rows.append(_row(sheet, looks, grid, owner, bounds, r, r < part.header_end, keep))
        tables.append({"rows": rows})
    note_rpr = looks.rpr(KIND_FACE["note"], NOTE_SZ, False)
    notes: list[dict[str, Any]] = []
    for i, note in enumerate(sheet.notes):
        notes += _paragraphs(note, looks.ppr("left", 80 if i == 0 else 0, keep=True), note_rpr)
    if notes:  # the last line keeps with nothing after it
        notes[-1] = {**notes[-1], "ppr": looks.ppr("left", 80 if len(notes) == 1 else 0)}
    if not notes:  # Word wants a paragraph after a table before the section ends
        notes = [{"ppr": looks.ppr("left"), "rpr": note_rpr, "segments": [""]}]
    return {"titles": titles, "tables": tables, "grid": grid, "width": width, "notes": notes, "section": section}


def _row(sheet: Sheet, looks: _Looks, grid: list[int], owner: list, bounds: list[int], r: int,
         header: bool, keep: bool = False) -> dict[str, Any]:
    """Row r of the table: cells with their spans, a span cut at the edges in `bounds`; `keep`
    keeps it on the page of the next row."""
    cells: list[dict[str, Any]] = []
    c = 0
    while c < sheet.width:
        p = owner[r][c]
        if p is None:  # a position no cell covers: an empty cell keeps the grid whole
            cells.append({"w": grid[c], "span": 1, "vmerge": None, "shade": None,
                          "paras": [{"ppr": looks.ppr("left", keep=keep), "rpr": looks.rpr(BODY_FACE, BODY_SZ, False),
                                     "segments": [""]}]})
            c += 1
            continue
        cell = p.cell
        span = cell.colspan
        w = sum(grid[p.col:p.col + span])
        # the rows of this cell's span that lie in the same piece as row r
        top = max([b for b in bounds if b <= r] + [p.row])
        bottom = min(b for b in bounds if b > r)
        last = min(p.row + cell.rowspan, bottom)
        merged = last - top > 1
        if p.row < sheet.title_rows:
            # a title cell whose rowspan reaches into the table: its text is above the table
            cells.append({"w": w, "span": span, "vmerge": None, "shade": None,
                          "paras": [{"ppr": looks.ppr("left", keep=keep), "rpr": looks.rpr(BODY_FACE, BODY_SZ, False),
                                     "segments": [""]}]})
        elif p.row == r:
            face = KIND_FACE.get(cell.kind, BODY_FACE) if cell.kind == "header" else BODY_FACE
            rpr = looks.rpr(face, BODY_SZ, cell.bold)
            cells.append({
                "w": w, "span": span,
                "vmerge": "restart" if merged else None,
                "shade": HEADER_FILL if cell.kind == "header" else None,
                "paras": _paragraphs(cell_text(cell), looks.ppr(cell_align(cell), keep=keep), rpr),
            })
        else:
            # continuation of a cell from a row above (restarted, empty, at a cut edge)
            cells.append({"w": w, "span": span, "vmerge": ("restart" if merged else None) if top == r else "continue",
                          "shade": HEADER_FILL if cell.kind == "header" else None,
                          "paras": [{"ppr": looks.ppr(cell_align(cell), keep=keep), "rpr": looks.rpr(BODY_FACE, BODY_SZ, False),
                                     "segments": [""]}]})
        c = p.col + span
    for cell in cells:
        cell["tcpr"] = looks.tcpr(cell["w"], cell["span"], cell["vmerge"], cell["shade"])
    height_pt = sheet.row_heights.get(r)
    return {"cells": cells, "header": header, "height": round(height_pt * 20) if height_pt else None}


def _fonts(fonts: Mapping[str, str] | None) -> dict[str, str]:
    merged = dict(DEFAULT_FONTS)
    if fonts:
        merged.update({k: str(v) for k, v in fonts.items() if k in DEFAULT_FONTS})
    return merged


def _shared(fonts: Mapping[str, str], looks: _Looks) -> dict[str, Any]:
    table = []
    for role in ("fangsong", "xiaobiaosong", "heiti", "kaiti", "songti"):
        name = fonts[role]
        if name not in (f["name"] for f in table):
            table.append({"name": name, "alt": ALT_NAMES.get(name), "charset": "86", "family": "roman"})
    table.append({"name": fonts["latin"], "alt": None, "charset": "00", "family": "roman"})
    return {"latin": fonts["latin"], "body_face": fonts[BODY_FACE], "body_sz": BODY_SZ, "font_table": table,
            "footer_rpr": looks.rpr(BODY_FACE, FOOTER_SZ, False)}


def render_docx(workbook: Workbook, fonts: Mapping[str, str] | None = None) -> bytes:
    """The .docx bytes of a Workbook. `fonts` is settings["layout"]["fonts"] (defaults: GB/T 9704 faces)."""
    faces = _fonts(fonts)
    looks = _Looks(faces)
    sheets = [_sheet_context(sheet, looks) for sheet in workbook.sheets]
    if not sheets:
        raise ValueError("a workbook without sheets has no document")
    shared = _shared(faces, looks)
    meta = workbook.meta or {}
    core = {"title": workbook.title, "subject": str(meta.get("unit") or ""), "creator": str(meta.get("author") or "jxdoc")}
    return _package().build(
        {"word/document.xml": {"sheets": sheets, "last_section": sheets[-1]["section"]}, "docProps/core.xml": core},
        shared=shared,
        key=json.dumps(faces, sort_keys=True, ensure_ascii=False),
    )


__all__ = ["render_docx"]
