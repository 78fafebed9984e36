"""绩效信息公开: one PDF per unit, an index of the batch (xlsx and HTML), and the zip of it all.

Each unit's PDF holds its 部门整体支出绩效自评报告, its 部门整体支出绩效自评表 (when filed) and its
项目支出绩效自评表s, in one HTML document rendered once by weasyprint (generators/pdf.py: bundled
fonts only, embedded as subsets; nothing fetched from outside). One render per unit rather than one
per table and a merge: the page counter, the running header and the outline then come from the
layout engine itself —

* the unit's name on every page: a running string (`string-set`) shown in the top margin from page
  2 on (page 1 names it above the title);
* “第 N 页 共 M 页” at the foot of every page;
* bookmarks (the PDF outline): one per document (h1), and one per level-1 heading of the report
  (h2), so a reader of the portal can jump to a project's table.

Tables are the evaluation kinds' own grids (generators.evaluation, generators.grid), shown with
the shared cell texts of generators.tables, so a published table reads like the filed one.

`write_archive` writes a whole batch to a zip file object unit by unit (and, with processes > 1,
renders units in worker processes), keeping only the index rows in memory, so 10,000 units work
within a flat memory budget.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from generators.filenames import safe_stem
from generators.grid import Cell, Column, Sheet, Workbook
from generators.tables import cell_text

STYLESHEET = """
@page {
  size: A4;
  margin: 25mm 20mm 22mm 20mm;
  @top-center { content: string(unit); font-family: "黑体"; font-size: 10pt; color: #333; }
  @bottom-center { content: "第 " counter(page) " 页　共 " counter(pages) " 页"; font-family: "宋体"; font-size: 9pt; }
}
/* Page 1 names the unit above the title (the .unit line that sets the string): no header there. */
@page :first { @top-center { content: none; } }
/* The 自评表 is a 9-column form: landscape pages keep its captions on one line. */
@page table { size: A4 landscape; margin: 20mm 20mm 18mm 20mm; }
section.table { page: table; }
html { font-family: "仿宋_GB2312"; font-size: 12pt; line-height: 1.6; }
.unit { string-set: unit content(); font-family: "黑体"; font-size: 11pt; text-align: right; margin: 0 0 4mm 0; }
h1 { bookmark-level: 1; font-family: "方正小标宋简体"; font-size: 18pt; font-weight: normal; text-align: center;
     margin: 4mm 0 3mm 0; line-height: 1.35; }
h1.table-title { font-size: 15pt; }
h2 { bookmark-level: 2; font-family: "黑体"; font-size: 12pt; font-weight: normal; margin: 2mm 0 0 0; text-indent: 2em; }
p { margin: 0; text-indent: 2em; text-align: justify; }
p.level2 { font-family: "楷体"; }
p.sub { text-indent: 0; text-align: center; font-size: 11pt; margin-bottom: 2mm; }
p.note { text-indent: 0; font-size: 9pt; margin-top: 1.5mm; }
section.doc + section.doc { break-before: page; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; font-size: 9pt; line-height: 1.3; }
td, th { border: 0.5pt solid #000; padding: 1mm 1.2mm; vertical-align: middle; overflow-wrap: anywhere; }
th { font-family: "黑体"; font-weight: normal; background: #f2f2f2; }
tr { break-inside: avoid; }
/* A table that runs onto another page is closed at the foot of the one and opened at the head of
   the next: weasyprint repeats a table's thead and tfoot on every page, and these rows are a rule. */
tr.rule td { height: 0; padding: 0; font-size: 0; line-height: 0; border-width: 0; }
thead tr.rule td { border-bottom-width: 0.5pt; }
tfoot tr.rule td { border-top-width: 0.5pt; }
.l { text-align: left; } .c { text-align: center; } .r { text-align: right; } .b { font-weight: bold; }
/* A span cut at a part's captions continues as an empty cell without a top rule; a later part
   joins the one above without a double rule. */
td.cont { border-top: none; }
table.part { margin-top: -0.5pt; }
"""

_HEADINGS = (
    (1, re.compile(r"^[一二三四五六七八九十百]+、")),
    (2, re.compile(r"^（[一二三四五六七八九十百]+）")),
)


@dataclass(frozen=True)
class Document:
    """One document of a unit's PDF: the outline entry and what the index lists."""

    title: str
    kind: str  # report, department_table, project_table


@dataclass
class UnitResult:
    """One row of the index: a published unit's file, or an excluded unit with its reason."""

    index: int
    unit_code: str
    unit: str
    filename: str = ""
    pages: int = 0
    size: int = 0
    documents: list[str] = field(default_factory=list)
    reason: str = ""  # why the unit is not published; "" when it is

    @property
    def published(self) -> bool:
        return not self.reason


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def report_title(data: Mapping[str, Any]) -> str:
    report = data.get("report") or {}
    return report.get("title") or f"{data['unit']}{data['year']}年度部门整体支出绩效自评报告"


def file_stem(data: Mapping[str, Any]) -> str:
    """The member name of a unit's PDF: code first so the portal's listing sorts by code."""
    code = data.get("unit_code") or ""
    return safe_stem(f"{code}_{data['unit']}" if code else data["unit"], limit=160, default="unit")


def documents(data: Mapping[str, Any]) -> list[Document]:
    docs = [Document(report_title(data), "report")]
    if data.get("department_evaluation"):
        docs.append(Document(f"{data['unit']}部门整体支出绩效自评表", "department_table"))
    for table in data.get("project_evaluations") or []:
        docs.append(Document(f"项目支出绩效自评表（{table['project_name']}）", "project_table"))
    return docs


# ------------------------------------------------------------------------------ HTML


def _report_html(data: Mapping[str, Any]) -> str:
    parts = [f'<section class="doc"><h1>{esc(report_title(data))}</h1>']
    for raw in str(data["report"]["body"]).splitlines():
        line = raw.strip()
        if not line:
            continue
        level = next((lvl for lvl, pattern in _HEADINGS if pattern.match(line)), 0)
        if level == 1:
            parts.append(f"<h2>{esc(line)}</h2>")
        elif level == 2:
            parts.append(f'<p class="level2">{esc(line)}</p>')
        else:
            parts.append(f"<p>{esc(line)}</p>")
    parts.append("</section>")
    return "".join(parts)


def _row_html(row: Mapping[str, Any]) -> str:
    out = []
    for c in row["cells"]:
        spans = (f' colspan="{c["colspan"]}"' if c["colspan"] > 1 else "") + (
            f' rowspan="{c["rowspan"]}"' if c["rowspan"] > 1 else "")
        # A class per alignment, not an inline style: weasyprint parses every style attribute anew.
        out.append(f'<{c["tag"]}{spans} class="{c["cls"]}">{esc(c["text"]).replace(chr(10), "<br>")}</{c["tag"]}>')
    return "<tr>" + "".join(out) + "</tr>"


def sheet_html(sheet: Sheet, heading: str) -> str:
    """A grid sheet as an HTML table under `heading` (the sheet's own title row is replaced by it;
    its subtitles stay); header rows repeat on each page as <thead>."""
    from generators.tables.pdf import sheet_rows  # weasyprint's module only when a PDF is made

    parts = [f'<section class="doc table"><h1 class="table-title">{esc(heading)}</h1>']
    for row in sheet.rows[: sheet.title_rows]:
        texts = [cell_text(c) for c in row if c.kind == "subtitle" and cell_text(c)]
        if texts:
            parts.append(f'<p class="sub">{"　".join(esc(t) for t in texts)}</p>')
    total = sum(c.width for c in sheet.columns) or 1
    cols = "".join(f'<col style="width:{c.width * 100 / total:.2f}%">' for c in sheet.columns)
    span = len(sheet.columns)
    # One table per part, as the form's own PDF: an indicator block's captions are its thead.
    for n, grid in enumerate(sheet_rows(sheet)[1]):
        parts.append(f'<table class="{"part" if n else "first"}"><colgroup>{cols}</colgroup><thead>')
        parts.extend(_row_html(row) for row in grid["head"])
        if not grid["head"]:
            parts.append(f'<tr class="rule"><td colspan="{span}"></td></tr>')
        parts.append(f'</thead><tfoot><tr class="rule"><td colspan="{span}"></td></tr></tfoot><tbody>')
        parts.extend(_row_html(row) for row in grid["body"])
        parts.append("</tbody></table>")
    parts.extend(f'<p class="note">{esc(note)}</p>' for note in sheet.notes)
    parts.append("</section>")
    return "".join(parts)


def unit_html(data: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    from generators.evaluation import self_evaluation_workbook

    docs = documents(data)
    parts = ['<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
             f"<title>{esc(data['unit'])}{data['year']}年度绩效自评公开材料</title></head><body>",
             f'<p class="unit">{esc(data["unit"])}</p>', _report_html(data)]
    tables: list[Workbook] = []
    if data.get("department_evaluation"):
        tables.append(self_evaluation_workbook(data["department_evaluation"], settings, department=True))
    for table in data.get("project_evaluations") or []:
        tables.append(self_evaluation_workbook(table, settings))
    for doc, book in zip(docs[1:], tables, strict=True):
        for sheet in book.sheets:
            parts.append(sheet_html(sheet, doc.title))
    parts.append("</body></html>")
    return "".join(parts)


def _stylesheet():
    from generators.pdf import compile_css

    return compile_css(STYLESHEET)


def render_unit(data: Mapping[str, Any], settings: Mapping[str, Any]):
    """The PDF of one published unit (validated, prepared `disclosure` data) and its page count,
    as generators.pdf.RenderedPdf."""
    from generators.pdf import render_pdf

    if data.get("excluded"):
        raise ValueError(f"{data['unit']}不予公开（{data.get('exclusion_reason')}），不生成公开文件。")
    return render_pdf(unit_html(data, settings), [_stylesheet()], metadata={
        "title": f"{data['unit']}{data['year']}年度绩效自评公开材料", "author": data["unit"]})


def render_unit_pdf(data: Mapping[str, Any], settings: Mapping[str, Any]) -> bytes:
    return render_unit(data, settings).data


def page_count(pdf: bytes) -> int:
    """Pages of a PDF file (for checks: a rendered PDF comes with its count, render_unit).
    weasyprint packs objects into compressed object streams, so the page tree is read with pypdf
    rather than searched for in the bytes."""
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def unit_result(index: int, data: Mapping[str, Any], settings: Mapping[str, Any]) -> tuple[UnitResult, bytes | None]:
    """The index row of a unit and its PDF (None for an excluded unit)."""
    row = UnitResult(index=index, unit_code=data.get("unit_code") or "", unit=data["unit"])
    if data.get("excluded"):
        row.reason = data.get("exclusion_reason") or "不予公开"
        return row, None
    pdf, row.pages = render_unit(data, settings)
    row.filename = f"{file_stem(data)}.pdf"
    row.size = len(pdf)
    row.documents = [d.title for d in documents(data)]
    return row, pdf


# ------------------------------------------------------------------------------ index


def index_workbook(rows: list[UnitResult], year: int, title: str = "") -> Workbook:
    title = title or f"{year}年度绩效自评结果公开文件目录"
    widths = [Column(6, "number"), Column(12), Column(28), Column(10), Column(46), Column(8, "number"), Column(36),
              Column(20)]
    sheet = Sheet(name="公开目录", columns=widths, landscape=True)
    sheet.add(Cell(title, "title", colspan=len(widths)))
    published = sum(r.published for r in rows)
    sheet.add(Cell(f"共{len(rows)}家单位，公开{published}家，不公开{len(rows) - published}家；"
                   f"页数合计{sum(r.pages for r in rows)}页", "subtitle", colspan=len(widths), align="left"))
    sheet.title_rows = 2
    sheet.add(*(Cell(h, "header") for h in ("序号", "单位编码", "单位名称", "是否公开", "公开文件", "页数", "文件名",
                                             "不公开原因")))
    sheet.header_rows = 1
    for r in rows:
        sheet.add(Cell(r.index + 1, "number"), Cell(r.unit_code, "text", align="center"), Cell(r.unit, "text"),
                  Cell("是" if r.published else "否", "text", align="center"), Cell("\n".join(r.documents), "text"),
                  Cell(r.pages if r.published else None, "number"), Cell(r.filename, "text"), Cell(r.reason, "text"))
    return Workbook(title=title, sheets=[sheet])


def index_html(rows: list[UnitResult], year: int, title: str = "") -> str:
    """A self-contained page for the portal: links to each PDF beside it in the archive."""
    title = title or f"{year}年度绩效自评结果公开文件目录"
    out = ['<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
           f"<title>{esc(title)}</title>",
           "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
           "td,th{border:1px solid #999;padding:4px 8px;vertical-align:top}th{background:#eee}"
           "td.n{text-align:right}</style></head><body>",
           f"<h1>{esc(title)}</h1><table><thead><tr><th>序号</th><th>单位编码</th><th>单位名称</th><th>公开文件</th>"
           "<th>页数</th><th>文件</th><th>不公开原因</th></tr></thead><tbody>"]
    for r in rows:
        link = f'<a href="{esc(r.filename)}">{esc(r.filename)}</a>' if r.published else ""
        docs = "<br>".join(esc(d) for d in r.documents)
        out.append(f'<tr><td class="n">{r.index + 1}</td><td>{esc(r.unit_code)}</td><td>{esc(r.unit)}</td>'
                   f'<td>{docs}</td><td class="n">{r.pages if r.published else ""}</td><td>{link}</td>'
                   f"<td>{esc(r.reason)}</td></tr>")
    out.append("</tbody></table></body></html>")
    return "".join(out)


# ------------------------------------------------------------------------------ batch


def _render_one(args: tuple[int, Mapping[str, Any], Mapping[str, Any] | None]) -> tuple[UnitResult, bytes | None]:
    index, data, settings = args
    if settings is None:
        from rules.settings import defaults

        settings = defaults()
    return unit_result(index, data, settings)


def _results(units: Iterable[Mapping[str, Any]], settings, processes: int) -> Iterator[tuple[UnitResult, bytes | None]]:
    jobs = ((i, u, None if processes > 1 else settings) for i, u in enumerate(units))
    if processes <= 1:
        yield from map(_render_one, jobs)
        return
    import multiprocessing

    # Worker processes use the default settings; frozen settings mappings do not pickle, and a
    # batch with bureau overrides runs in-process (processes=1) or through the job runner.
    ctx = multiprocessing.get_context("forkserver")
    with ctx.Pool(processes) as pool:
        yield from pool.imap(_render_one, jobs, chunksize=4)


def write_archive(units: Iterable[Mapping[str, Any]], out: BinaryIO, settings: Mapping[str, Any], year: int,
                  processes: int = 1) -> list[UnitResult]:
    """Write every unit's PDF and the index (目录.xlsx, 目录.html) into a zip on `out`; return the
    index rows. `units` are validated, prepared `disclosure` data (an iterable, consumed once)."""
    from generators.tables.xlsx import render_xlsx

    rows: list[UnitResult] = []
    seen: set[str] = set()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for row, pdf in _results(units, settings, processes):
            if pdf is not None:
                name = row.filename
                if name in seen:  # two units with one name and no code: keep both files
                    name = row.filename = f"{name[:-4]}_{row.index + 1}.pdf"
                seen.add(name)
                # PDFs are compressed streams already: store them, deflating again gains nothing.
                archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), pdf)
            rows.append(row)
        archive.writestr(_info("目录.xlsx"), render_xlsx(index_workbook(rows, year)), compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(_info("目录.html"), index_html(rows, year).encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
    return rows


def _info(name: str) -> zipfile.ZipInfo:
    return zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))


def archive_bytes(units: Iterable[Mapping[str, Any]], settings: Mapping[str, Any], year: int) -> bytes:
    buffer = io.BytesIO()
    write_archive(units, buffer, settings, year)
    return buffer.getvalue()
