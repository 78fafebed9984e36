"""The parts of an .xlsx package (SpreadsheetML, ECMA-376), written from plain plans with lxml.

generators/tables/xlsx.py turns the grid model into `SheetPlan`s and a list of looks; this module
turns those into the package's XML parts and the zip. Escaping is lxml's: no XML is built from
strings. Parts that are the same for every workbook (theme, app properties, relationships, content
types for a number of sheets) and the styles of a set of looks are deflated once per process and
copied into each archive as raw bytes (generators/ziparchive.py), as the docx engine does.

Element order follows the schema's sequences (CT_Worksheet: sheetPr, dimension, sheetViews,
sheetFormatPr, cols, sheetData, sheetProtection, mergeCells, dataValidations, printOptions,
pageMargins, pageSetup, headerFooter), which Excel insists on.
"""

from __future__ import annotations

import datetime as _dt
import functools
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from lxml import etree
from openpyxl.styles.numbers import BUILTIN_FORMATS_REVERSE
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.writer.theme import theme_xml

from generators.ziparchive import Member, write_zip

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"

_M = f"{{{MAIN}}}"
_RID = f"{{{DOC_REL}}}id"

THEME_PART = "xl/theme/theme1.xml"
STYLES_PART = "xl/styles.xml"
WORKBOOK_PART = "xl/workbook.xml"

# Looks: (kind, bold, align, editable, quoted, number format, bordered). kind "list" is a cell
# of the hidden drop-down list sheet: the default look, with quotePrefix when `quoted`.
Look = tuple[str, bool, str | None, bool, bool, str | None, bool]

TITLE_PT, SUBTITLE_PT, BODY_PT, NOTE_PT = 18, 11, 11, 10.5
HEADER_FILL_RGB = "FFF2F2F2"
GB2312_CHARSET = "134"  # tells Excel the face is a Simplified Chinese one


def _xml(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


@dataclass
class SheetPlan:
    """One worksheet as the XML holds it: rows in order as (1-based row, height in points or None,
    cells), each cell (column, style id, type "s"/"n"/None, text). `rows` may be a generator that
    fills `merges` and `validations` as it runs: they are written after the rows."""

    name: str
    rows: Iterable[tuple[int, float | None, list[tuple[int, int, str | None, str | None]]]] = ()
    widths: list[float] = field(default_factory=list)
    merges: list[str] = field(default_factory=list)
    validations: list[tuple[str, str]] = field(default_factory=list)  # (formula1, sqref)
    last_row: int = 1
    last_col: int = 1
    hidden: bool = False
    protect: bool = False
    landscape: bool = False
    fit_width: bool = False
    repeat_rows: tuple[int, int] | None = None  # (first, last) 1-based rows repeated on each printed page
    print_rows: int = 0  # the print area's last row (0: none)
    printable: bool = True  # margins, page set-up and footer (not for the hidden list sheet)
    # 0-based rows that start a printed page, asked for once the rows are written (xlsx_pages)
    row_breaks: Callable[[], list[int]] | None = None


# --------------------------------------------------------------------------- the sheet

VALIDATION_ERROR_TITLE = "输入有误"
VALIDATION_ERROR = "请从下拉列表中选择。"
FOOTER = "&C&10第 &P 页，共 &N 页"
# Inches: 2 cm left/right, 2.5 cm top/bottom, header/footer 1 cm.
MARGINS = {"left": "0.79", "right": "0.79", "top": "0.98", "bottom": "0.98", "header": "0.39", "footer": "0.39"}
A4 = "9"


def _number(value: float) -> str:
    return f"{value:g}" if float(value) != int(value) else str(int(value))


class _Deflating:
    """A file for lxml's xmlfile that deflates what it is given as it comes: the XML of a big
    sheet is never held whole, only its compressed form."""

    def __init__(self, level: int = 6):
        self._deflater = zlib.compressobj(level, zlib.DEFLATED, -15)
        self._chunks: list[bytes] = []
        self.crc = 0
        self.size = 0

    def write(self, data: bytes) -> None:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        self._chunks.append(self._deflater.compress(data))

    def member(self, name: str) -> Member:
        self._chunks.append(self._deflater.flush())
        return Member(name, self.crc, self.size, b"".join(self._chunks))


def sheet_member(index: int, plan: SheetPlan) -> Member:
    """The part of the `index`th sheet (1-based; the first is the one selected). Written
    incrementally (lxml's xmlfile): each row's element tree is built, written, deflated and
    dropped, so a 10,000-row summary never exists as one tree."""
    selected = index == 1
    out = _Deflating()
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration(standalone=True)
        # As openpyxl does: the default namespace declared once on the root and the elements
        # written without one, so no row repeats the declaration.
        with xf.element("worksheet", xmlns=MAIN):
            for element in _head(plan, selected):
                xf.write(element)
            with xf.element("sheetData"):
                for row in _rows(plan):
                    xf.write(row)
            for element in _tail(plan):
                xf.write(element)
    return out.member(f"xl/worksheets/sheet{index}.xml")


def _element(tag: str, attrs: Mapping[str, str] | None = None):
    return etree.Element(tag, attrs or {})


def _head(plan: SheetPlan, selected: bool) -> Iterator:
    sub = etree.SubElement
    if plan.fit_width:
        pr = _element("sheetPr")
        sub(pr, "pageSetUpPr", {"fitToPage": "1"})
        yield pr
    yield _element("dimension", {"ref": f"A1:{get_column_letter(plan.last_col)}{plan.last_row}"})
    view = {"workbookViewId": "0"}
    if plan.printable:
        view["showGridLines"] = "0"
    if selected:
        view["tabSelected"] = "1"
    views = _element("sheetViews")
    sub(views, "sheetView", view)
    yield views
    yield _element("sheetFormatPr", {"baseColWidth": "8", "defaultRowHeight": "15"})
    if plan.widths:
        cols = _element("cols")
        for i, width in enumerate(plan.widths, start=1):
            n = str(i)
            sub(cols, "col", {"min": n, "max": n, "width": _number(width), "customWidth": "1"})
        yield cols


def _tail(plan: SheetPlan) -> Iterator:
    sub = etree.SubElement
    if plan.protect:
        # formatRows/formatColumns "0": clerks may still resize rows and columns to read long text.
        yield _element("sheetProtection", {"sheet": "1", "formatRows": "0", "formatColumns": "0"})
    if plan.merges:
        merges = _element("mergeCells", {"count": str(len(plan.merges))})
        for ref in plan.merges:
            sub(merges, "mergeCell", {"ref": ref})
        yield merges
    if plan.validations:
        dvs = _element("dataValidations", {"count": str(len(plan.validations))})
        for formula, sqref in plan.validations:
            dv = sub(dvs, "dataValidation", {
                "type": "list", "allowBlank": "1", "showErrorMessage": "1",
                "errorTitle": VALIDATION_ERROR_TITLE, "error": VALIDATION_ERROR, "sqref": sqref})
            sub(dv, "formula1").text = formula
        yield dvs
    if plan.printable:
        yield _element("printOptions", {"horizontalCentered": "1"})
        yield _element("pageMargins", MARGINS)
        setup = {"paperSize": A4, "orientation": "landscape" if plan.landscape else "portrait"}
        if plan.fit_width:
            setup.update(fitToWidth="1", fitToHeight="0")  # one page wide, as many pages as the rows need
        yield _element("pageSetup", setup)
        footer = _element("headerFooter")
        sub(footer, "oddFooter").text = FOOTER
        yield footer
        breaks = plan.row_breaks() if plan.row_breaks is not None else []
        if breaks:
            element = _element("rowBreaks", {"count": str(len(breaks)), "manualBreakCount": str(len(breaks))})
            for row in breaks:
                sub(element, "brk", {"id": str(row), "max": "16383", "man": "1"})
            yield element


def _rows(plan: SheetPlan) -> Iterator:
    """The row elements — the hot loop of big sheets: plain locals, attribute dicts, lxml's C
    builder."""
    sub = etree.SubElement
    letters = [get_column_letter(i) for i in range(1, plan.last_col + 1)]
    sids: dict[int, str] = {}
    for row_idx, height, cells in plan.rows:
        r = str(row_idx)
        row_el = etree.Element("row", {"r": r} if height is None else
                               {"r": r, "ht": _number(height), "customHeight": "1"})
        for col, sid, t, text in cells:
            s = sids.get(sid)
            if s is None:
                s = sids[sid] = str(sid)
            attrs = {"r": letters[col - 1] + r}
            if sid:
                attrs["s"] = s
            if t is None:
                sub(row_el, "c", attrs)
            elif t == "n":
                sub(sub(row_el, "c", attrs), "v").text = text
            else:
                attrs["t"] = "inlineStr"
                t_el = sub(sub(sub(row_el, "c", attrs), "is"), "t")
                t_el.text = text
                if text != text.strip():
                    t_el.set(XML_SPACE, "preserve")
        yield row_el


# --------------------------------------------------------------------------- styles

def _number_format_ids(order: Sequence[Look]) -> dict[str, int]:
    ids: dict[str, int] = {}
    custom = 164  # the first id Excel leaves to workbooks
    for look in order:
        fmt = look[5]
        if fmt and fmt not in ids:
            builtin = BUILTIN_FORMATS_REVERSE.get(fmt)
            if builtin is None:
                builtin, custom = custom, custom + 1
            ids[fmt] = builtin
    return ids


SONGTI_KINDS = frozenset({"title", "subtitle", "header"})  # cells set in 宋体; the others in 仿宋


def font_size(kind: str) -> float:
    """The size in points of a cell of `kind`."""
    return TITLE_PT if kind == "title" else SUBTITLE_PT if kind == "subtitle" else NOTE_PT if kind == "note" else BODY_PT


def _font(look: Look, faces: Mapping[str, str]) -> tuple[str, float, bool] | None:
    kind, bold = look[0], look[1]
    if kind == "list":
        return None  # the default font
    face = faces["songti"] if kind in SONGTI_KINDS else faces["fangsong"]
    return face, font_size(kind), bold or kind == "title" or kind == "header"


def styles_member(faces: Mapping[str, str], order: Sequence[Look]) -> Member:
    """xl/styles.xml of the looks in `order` (xf id i + 1 for order[i]; 0 is the default)."""
    return _styles_member(tuple(sorted(faces.items())), tuple(order))


@functools.lru_cache(maxsize=256)  # a process renders a few dozen form layouts, not thousands
def _styles_member(faces_items: tuple, order: tuple) -> Member:
    faces = dict(faces_items)
    sub = etree.SubElement
    root = etree.Element(_M + "styleSheet", nsmap={None: MAIN})
    formats = _number_format_ids(order)
    custom = [(fmt, i) for fmt, i in formats.items() if i >= 164]
    if custom:
        numfmts = sub(root, _M + "numFmts", {"count": str(len(custom))})
        for fmt, i in custom:
            sub(numfmts, _M + "numFmt", {"numFmtId": str(i), "formatCode": fmt})
    fonts: list[tuple[str, float, bool]] = []
    font_ids = [0 if (f := _font(look, faces)) is None else _index(fonts, f) + 1 for look in order]
    fonts_el = sub(root, _M + "fonts", {"count": str(len(fonts) + 1)})
    default = sub(fonts_el, _M + "font")  # Excel's default: column widths are measured in its digits
    sub(default, _M + "sz", {"val": "11"})
    sub(default, _M + "color", {"theme": "1"})
    sub(default, _M + "name", {"val": "Calibri"})
    sub(default, _M + "family", {"val": "2"})
    sub(default, _M + "scheme", {"val": "minor"})
    for face, size, bold in fonts:
        font = sub(fonts_el, _M + "font")
        if bold:
            sub(font, _M + "b", {"val": "1"})
        sub(font, _M + "sz", {"val": _number(size)})
        sub(font, _M + "name", {"val": face})
        if not face.isascii():
            sub(font, _M + "charset", {"val": GB2312_CHARSET})
    fills = sub(root, _M + "fills", {"count": "3"})
    sub(sub(fills, _M + "fill"), _M + "patternFill", {"patternType": "none"})
    sub(sub(fills, _M + "fill"), _M + "patternFill", {"patternType": "gray125"})  # required second fill
    solid = sub(sub(fills, _M + "fill"), _M + "patternFill", {"patternType": "solid"})
    sub(solid, _M + "fgColor", {"rgb": HEADER_FILL_RGB})
    sub(solid, _M + "bgColor", {"rgb": HEADER_FILL_RGB})
    borders = sub(root, _M + "borders", {"count": "2"})
    empty = sub(borders, _M + "border")
    box = sub(borders, _M + "border")
    for side in ("left", "right", "top", "bottom", "diagonal"):
        sub(empty, _M + side)
        edge = sub(box, _M + side, {"style": "thin"} if side != "diagonal" else {})
        if side != "diagonal":
            sub(edge, _M + "color", {"rgb": "FF000000"})
    style_xfs = sub(root, _M + "cellStyleXfs", {"count": "1"})
    sub(style_xfs, _M + "xf", {"numFmtId": "0", "fontId": "0", "fillId": "0", "borderId": "0"})
    xfs = sub(root, _M + "cellXfs", {"count": str(len(order) + 1)})
    sub(xfs, _M + "xf", {"numFmtId": "0", "fontId": "0", "fillId": "0", "borderId": "0", "xfId": "0"})
    for look, font_id in zip(order, font_ids, strict=True):
        kind, _bold, align, editable, quoted, fmt, bordered = look
        attrs = {"numFmtId": str(formats.get(fmt, 0) if fmt else 0), "fontId": str(font_id),
                 "fillId": "2" if kind == "header" else "0", "borderId": "1" if bordered else "0", "xfId": "0"}
        if fmt:
            attrs["applyNumberFormat"] = "1"
        if font_id:
            attrs["applyFont"] = "1"
        if kind == "header":
            attrs["applyFill"] = "1"
        if bordered:
            attrs["applyBorder"] = "1"
        if quoted:
            attrs["quotePrefix"] = "1"
        if kind != "list":
            attrs["applyAlignment"] = "1"
        if editable:
            attrs["applyProtection"] = "1"
        xf = sub(xfs, _M + "xf", attrs)
        if kind != "list":
            sub(xf, _M + "alignment", {"horizontal": align or "left", "vertical": "center", "wrapText": "1"})
        if editable:
            sub(xf, _M + "protection", {"locked": "0"})
    cell_styles = sub(root, _M + "cellStyles", {"count": "1"})
    sub(cell_styles, _M + "cellStyle", {"name": "Normal", "xfId": "0", "builtinId": "0"})
    return Member.compress(STYLES_PART, _xml(root))


def _index(items: list, item) -> int:
    try:
        return items.index(item)
    except ValueError:
        items.append(item)
        return len(items) - 1


# --------------------------------------------------------------------------- the package

def _relationships(targets: Sequence[tuple[str, str]]) -> bytes:
    root = etree.Element(f"{{{PKG_REL}}}Relationships", nsmap={None: PKG_REL})
    for i, (kind, target) in enumerate(targets, start=1):
        etree.SubElement(root, f"{{{PKG_REL}}}Relationship", {"Id": f"rId{i}", "Type": kind, "Target": target})
    return _xml(root)


_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


@functools.lru_cache(maxsize=1)
def _fixed_members() -> tuple[Member, ...]:
    """Parts every workbook shares, deflated once per process."""
    app = etree.Element("{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}Properties",
                        nsmap={None: "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"})
    etree.SubElement(app, "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}Application"
                     ).text = "jxdoc"
    root_rels = _relationships([
        (_OFFICE + "officeDocument", WORKBOOK_PART),
        ("http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties", "docProps/core.xml"),
        (_OFFICE + "extended-properties", "docProps/app.xml"),
    ])
    return (Member.compress("_rels/.rels", root_rels), Member.compress("docProps/app.xml", _xml(app)),
            Member.compress(THEME_PART, theme_xml.encode("utf-8")))


@functools.lru_cache(maxsize=16)
def _sheet_count_members(count: int) -> tuple[Member, Member]:
    """[Content_Types].xml and the workbook's relationships for `count` sheets."""
    types = etree.Element(f"{{{CONTENT_TYPES}}}Types", nsmap={None: CONTENT_TYPES})
    sub = etree.SubElement
    sub(types, f"{{{CONTENT_TYPES}}}Default",
        {"Extension": "rels", "ContentType": "application/vnd.openxmlformats-package.relationships+xml"})
    sub(types, f"{{{CONTENT_TYPES}}}Default", {"Extension": "xml", "ContentType": "application/xml"})
    overrides = [
        ("/" + WORKBOOK_PART, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
        ("/" + STYLES_PART, "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"),
        ("/" + THEME_PART, "application/vnd.openxmlformats-officedocument.theme+xml"),
        ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
        ("/docProps/app.xml", "application/vnd.openxmlformats-officedocument.extended-properties+xml"),
        *((f"/xl/worksheets/sheet{i}.xml", _SHEET_TYPE) for i in range(1, count + 1)),
    ]
    for part, content_type in overrides:
        sub(types, f"{{{CONTENT_TYPES}}}Override", {"PartName": part, "ContentType": content_type})
    rels = _relationships([
        *((_OFFICE + "worksheet", f"worksheets/sheet{i}.xml") for i in range(1, count + 1)),
        (_OFFICE + "styles", "styles.xml"),
        (_OFFICE + "theme", "theme/theme1.xml"),
    ])
    return Member.compress("[Content_Types].xml", _xml(types)), Member.compress("xl/_rels/workbook.xml.rels", rels)


def workbook_part(plans: Sequence[SheetPlan]) -> bytes:
    sub = etree.SubElement
    root = etree.Element(_M + "workbook", nsmap={None: MAIN, "r": DOC_REL})
    sub(root, _M + "workbookPr")
    sub(sub(root, _M + "bookViews"), _M + "workbookView", {"activeTab": "0"})
    sheets = sub(root, _M + "sheets")
    for i, plan in enumerate(plans, start=1):
        attrs = {"name": plan.name, "sheetId": str(i)}
        if plan.hidden:
            attrs["state"] = "hidden"
        attrs[_RID] = f"rId{i}"
        sub(sheets, _M + "sheet", attrs)
    names = []
    for i, plan in enumerate(plans):
        quoted = quote_sheetname(plan.name)
        if plan.repeat_rows:
            first, last = plan.repeat_rows
            names.append(("_xlnm.Print_Titles", i, f"{quoted}!${first}:${last}"))
        if plan.print_rows and plan.last_col:
            names.append(("_xlnm.Print_Area", i, f"{quoted}!$A$1:${get_column_letter(plan.last_col)}${plan.print_rows}"))
    if names:
        defined = sub(root, _M + "definedNames")
        for name, sheet, value in names:
            sub(defined, _M + "definedName", {"name": name, "localSheetId": str(sheet)}).text = value
    sub(root, _M + "calcPr", {"calcId": "124519", "fullCalcOnLoad": "1"})
    return _xml(root)


def core_part(title: str, subject: str | None, creator: str, now: _dt.datetime | None = None) -> bytes:
    cp = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
    dc, dcterms = "http://purl.org/dc/elements/1.1/", "http://purl.org/dc/terms/"
    xsi = "http://www.w3.org/2001/XMLSchema-instance"
    root = etree.Element(f"{{{cp}}}coreProperties", nsmap={"cp": cp, "dc": dc, "dcterms": dcterms, "xsi": xsi})
    sub = etree.SubElement
    sub(root, f"{{{dc}}}title").text = title
    if subject:
        sub(root, f"{{{dc}}}subject").text = subject
    sub(root, f"{{{dc}}}creator").text = creator
    sub(root, f"{{{cp}}}lastModifiedBy").text = "jxdoc"
    stamp = (now or _dt.datetime.now(_dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for name in ("created", "modified"):
        sub(root, f"{{{dcterms}}}{name}", {f"{{{xsi}}}type": "dcterms:W3CDTF"}).text = stamp
    return _xml(root)


def package(plans: Sequence[SheetPlan], sheets: Sequence[Member], styles: Member, core: bytes) -> bytes:
    """The .xlsx bytes: the shared parts copied, the workbook's own parts deflated now. The sheet
    parts come written (sheet_member), since only then are the looks and print areas known."""
    types, workbook_rels = _sheet_count_members(len(plans))
    root_rels, app, theme = _fixed_members()
    members = [types, root_rels, app, Member.compress("docProps/core.xml", core),
               Member.compress(WORKBOOK_PART, workbook_part(plans)), workbook_rels, styles, theme, *sheets]
    return write_zip(members)


__all__ = ["SONGTI_KINDS", "Look", "SheetPlan", "core_part", "font_size", "package", "sheet_member", "styles_member", "workbook_part"]
