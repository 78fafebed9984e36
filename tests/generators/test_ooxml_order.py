"""Every sample's docx and xlsx as strict consumers read them: Word and Excel check the order of
the children the OOXML schemas declare as sequences and “repair” (or refuse) a file that breaks
it; LibreOffice and WPS read any order, so the office tests alone would not notice.

The sequences are ECMA-376 Part 1's (transitional schemas, wml.xsd and sml.xsd): the element
names of each complex type in their schema order, names of one xsd:choice sharing a place. A run's
properties follow the sequence of the first edition (EG_RPrBase became a choice in ISO/IEC 29500
transitional; Word 2007 still reads the sequence, and the order costs nothing). Elements the check
does not know (another namespace, a part of the schema not listed) are not judged. The samples were
also validated in full against the schemas with lxml's XMLSchema when this check was written (the
README's fidelity section); the lists keep that true without shipping the schemas.

Besides the order, what Excel repairs a workbook for: count attributes that disagree with the
elements counted, rows or cells out of order or a cell whose reference is not in its row, and
print names (_xlnm.Print_Titles, _xlnm.Print_Area) pointing at another sheet than their own.
"""

from __future__ import annotations

import json
import re
import zipfile
from io import BytesIO

import pytest
from lxml import etree

from kinds import all_kinds, pipeline

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"

_RPR = ("ins del moveFrom moveTo rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow "
        "emboss imprint noProof snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u "
        "effect bdr shd fitText vertAlign rtl cs em lang eastAsianLayout specVanish oMath rPrChange")
_BORDERS = "top start|left bottom end|right insideH insideV tl2br tr2bl"
_MARGINS = "top start|left bottom end|right"

# parent tag → its children in schema order ("a|b": one place, either of them)
WML = {
    "pPr": "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd "
           "tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
           "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc "
           "textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange",
    "rPr": _RPR,
    "tblPr": "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc "
             "tblCellSpacing tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption tblDescription "
             "tblPrChange",
    # CT_TrPrBase is a choice: its properties in any order, then the revision marks
    "trPr": "cnfStyle|divId|gridBefore|gridAfter|wBefore|wAfter|cantSplit|trHeight|tblHeader|tblCellSpacing|jc|hidden "
            "ins del trPrChange",
    "tcPr": "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection tcFitText vAlign "
            "hideMark headers cellIns|cellDel|cellMerge tcPrChange",
    "sectPr": "headerReference|footerReference footnotePr endnotePr type pgSz pgMar paperSrc pgBorders lnNumType "
              "pgNumType cols formProt vAlign noEndnote titlePg textDirection bidi rtlGutter docGrid "
              "printerSettings sectPrChange",
    "tblBorders": _BORDERS,
    "tcBorders": _BORDERS,
    "pBdr": "top left bottom right between bar",
    "tblCellMar": _MARGINS,
    "tcMar": _MARGINS,
    "docDefaults": "rPrDefault pPrDefault",
    "style": "name aliases basedOn next link autoRedefine hidden uiPriority semiHidden unhideWhenUsed qFormat "
             "locked personal personalCompose personalReply rsid pPr rPr tblPr trPr tcPr tblStylePr",
}
# parent tag → the child that must come first when present
WML_FIRST = {"p": "pPr", "r": "rPr", "tc": "tcPr", "tbl": "tblPr"}

SML = {
    "worksheet": "sheetPr dimension sheetViews sheetFormatPr cols sheetData sheetCalcPr sheetProtection "
                 "protectedRanges scenarios autoFilter sortState dataConsolidate customSheetViews mergeCells "
                 "phoneticPr conditionalFormatting dataValidations hyperlinks printOptions pageMargins pageSetup "
                 "headerFooter rowBreaks colBreaks customProperties cellWatches ignoredErrors smartTags drawing "
                 "legacyDrawing legacyDrawingHF drawingHF picture oleObjects controls webPublishItems tableParts "
                 "extLst",
    "styleSheet": "numFmts fonts fills borders cellStyleXfs cellXfs cellStyles dxfs tableStyles colors extLst",
    "workbook": "fileVersion fileSharing workbookPr workbookProtection bookViews sheets functionGroups "
                "externalReferences definedNames calcPr oleSize customWorkbookViews pivotCaches smartTagPr "
                "smartTagTypes webPublishing fileRecoveryPr webPublishObjects extLst",
    "sheetPr": "tabColor outlinePr pageSetUpPr",
    "sheetView": "pane selection pivotSelection extLst",
    "xf": "alignment protection extLst",
    "border": "start end left right top bottom diagonal vertical horizontal",
    "patternFill": "fgColor bgColor",
    "dataValidation": "formula1 formula2",
    "c": "f v is extLst",
    "headerFooter": "oddHeader oddFooter evenHeader evenFooter firstHeader firstFooter",
}
# count attribute → the children it counts
SML_COUNTED = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
               "mergeCells", "dataValidations", "rowBreaks", "colBreaks", "sst")


def _places(spec: dict[str, str], ns: str) -> dict[str, dict[str, int]]:
    return {ns + parent: {ns + name: place for place, names in enumerate(seq.split()) for name in names.split("|")}
            for parent, seq in spec.items()}


WML_PLACES, SML_PLACES = _places(WML, W), _places(SML, S)


def out_of_order(root, places: dict[str, dict[str, int]], first: dict[str, str] | None = None) -> list[str]:
    """Each element whose known children break its sequence, as 'parent: a after b'."""
    found = []
    first = {W + p: W + c for p, c in (first or {}).items()}
    for element in root.iter(*places, *first):
        children = [c for c in element if isinstance(c.tag, str)]
        order = places.get(element.tag)
        if order is not None:
            known = [(order[c.tag], c.tag) for c in children if c.tag in order]
            for (p1, t1), (p2, t2) in zip(known, known[1:], strict=False):
                if p2 < p1:
                    found.append(f"{etree.QName(element).localname}: {etree.QName(t2).localname} after "
                                 f"{etree.QName(t1).localname}")
        lead = first.get(element.tag)
        if lead is not None and any(c.tag == lead for c in children[1:]):
            found.append(f"{etree.QName(element).localname}: {etree.QName(lead).localname} not first")
    return found


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def workbook_faults(data: bytes) -> list[str]:
    """What Excel would repair in an xlsx: sequence order, counts, row and cell order, print names."""
    found = []
    with zipfile.ZipFile(BytesIO(data)) as z:
        parts = {name: etree.fromstring(z.read(name)) for name in z.namelist()
                 if name.startswith("xl/") and name.endswith(".xml")}
    for name, root in parts.items():
        found += [f"{name}: {f}" for f in out_of_order(root, SML_PLACES)]
        for tag in SML_COUNTED:
            for element in root.iter(S + tag):
                count = len([c for c in element if isinstance(c.tag, str)])
                for attr in ("count", "manualBreakCount"):
                    if element.get(attr) is not None and int(element.get(attr)) != count:
                        found.append(f"{name}: {tag} {attr}={element.get(attr)}, {count} children")
        last_row = 0
        for row in root.iter(S + "row"):
            r = int(row.get("r"))
            if r <= last_row:
                found.append(f"{name}: row {r} after row {last_row}")
            last_row, last_col = r, 0
            for cell in row.iter(S + "c"):
                m = re.fullmatch(r"([A-Z]+)(\d+)", cell.get("r"))
                if m is None or int(m.group(2)) != r or _col(m.group(1)) <= last_col:
                    found.append(f"{name}: cell {cell.get('r')} in row {r} after column {last_col}")
                    continue
                last_col = _col(m.group(1))
    book = parts["xl/workbook.xml"]
    sheets = [s.get("name") for s in book.iter(S + "sheet")]
    for defined in book.iter(S + "definedName"):
        if defined.get("name", "").startswith("_xlnm.Print_"):
            local = defined.get("localSheetId")
            sheet = sheets[int(local)] if local is not None and int(local) < len(sheets) else None
            quoted = "'" + (sheet or "").replace("'", "''") + "'!"
            refs = defined.text.split(",")
            if sheet is None or not all(ref.startswith((quoted, f"{sheet}!")) for ref in refs):
                found.append(f"workbook: {defined.get('name')} {defined.text} not on sheet {local}")
    return found


def document_faults(data: bytes) -> list[str]:
    """Sequence order of the WordprocessingML parts of a docx."""
    found = []
    with zipfile.ZipFile(BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("word/") and name.endswith(".xml"):
                found += [f"{name}: {f}" for f in out_of_order(etree.fromstring(z.read(name)), WML_PLACES, WML_FIRST)]
    return found


SAMPLES = [(k, s) for k in all_kinds() for s in k.samples() if {"docx", "xlsx"} & set(k.formats)]


@pytest.mark.parametrize("kind, path", SAMPLES, ids=[f"{k.id}/{s.stem}" for k, s in SAMPLES])
def test_docx_and_xlsx_elements_are_in_schema_order(kind, path):
    data = pipeline.validate(kind, json.loads(path.read_text(encoding="utf-8")))
    found = {}
    if "docx" in kind.formats:
        found["docx"] = document_faults(pipeline.render(kind, data, "docx"))
    if "xlsx" in kind.formats:
        found["xlsx"] = workbook_faults(pipeline.render(kind, data, "xlsx"))
    assert found == {fmt: [] for fmt in found}


def test_the_checks_catch_what_word_and_excel_would_repair():
    """Each check fails on the fault it is there for (so an empty list above means something)."""
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    doc = etree.fromstring(
        f'<w:document {w}><w:body><w:p><w:pPr><w:autoSpaceDE/><w:overflowPunct/></w:pPr>'
        '<w:r><w:t>x</w:t><w:rPr><w:sz/><w:b/></w:rPr></w:r></w:p>'
        '<w:tbl><w:tblPr><w:tblBorders><w:left/><w:top/></w:tblBorders><w:tblW/><w:tblStyle/></w:tblPr>'
        '<w:tr><w:trPr><w:tblHeader/><w:cantSplit/></w:trPr><w:tc><w:p/><w:tcPr><w:vAlign/><w:tcW/></w:tcPr></w:tc></w:tr>'
        '</w:tbl><w:sectPr><w:pgMar/><w:pgSz/></w:sectPr></w:body></w:document>')
    assert sorted(out_of_order(doc, WML_PLACES, WML_FIRST)) == sorted([
        "pPr: overflowPunct after autoSpaceDE", "r: rPr not first", "rPr: b after sz",
        "tblBorders: top after left", "tblPr: tblW after tblBorders", "tblPr: tblStyle after tblW",
        "tc: tcPr not first", "tcPr: tcW after vAlign", "sectPr: pgSz after pgMar"])  # trPr: any order

    s = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("xl/workbook.xml", f'<workbook {s}><sheets><sheet name="表"/></sheets><workbookPr/>'
                   '<definedNames><definedName name="_xlnm.Print_Titles" localSheetId="0">其他!$1:$2'
                   '</definedName></definedNames></workbook>')
        z.writestr("xl/worksheets/sheet1.xml", f'<worksheet {s}><sheetData><row r="2"><c r="B2"/><c r="A2"/></row>'
                   '<row r="1"><c r="A3"/></row></sheetData><pageMargins/><printOptions/>'
                   '<mergeCells count="2"><mergeCell ref="A1:B1"/></mergeCells></worksheet>')
    assert sorted(workbook_faults(buffer.getvalue())) == sorted([
        "xl/workbook.xml: workbook: workbookPr after sheets",
        "workbook: _xlnm.Print_Titles 其他!$1:$2 not on sheet 0",
        "xl/worksheets/sheet1.xml: worksheet: mergeCells after printOptions",
        "xl/worksheets/sheet1.xml: worksheet: printOptions after pageMargins",
        "xl/worksheets/sheet1.xml: mergeCells count=2, 1 children",
        "xl/worksheets/sheet1.xml: cell A2 in row 2 after column 2",
        "xl/worksheets/sheet1.xml: row 1 after row 2",
        "xl/worksheets/sheet1.xml: cell A3 in row 1 after column 0"])
