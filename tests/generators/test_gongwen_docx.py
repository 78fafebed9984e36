"""The 公文 .docx renderer: the XML it writes, checked element by element."""

from __future__ import annotations

import io
import zipfile

import pytest
from lxml import etree

from generators.gongwen.docx import mark_size_pt, render_docx
from generators.gongwen.model import mark_layout
from tests.generators.conftest import make_doc

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {
    "w": W,
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "wps": "http://schemas.microsoft.com/office/word/2010/wordprocessingShape",
}
TWIPS_PER_MM = 1440 / 25.4
EMU_PER_MM = 36000


def w(name: str) -> str:
    return f"{{{W}}}{name}"


class Package:
    """The parsed parts of a rendered .docx."""

    def __init__(self, data: bytes):
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.raw = {n: self.zip.read(n) for n in self.zip.namelist()}
        self.xml = {n: etree.fromstring(b) for n, b in self.raw.items() if n.endswith((".xml", ".rels"))}
        self.doc = self.xml["word/document.xml"]
        self.body = self.doc.find("w:body", NS)

    def xpath(self, expr: str, part: str = "word/document.xml"):
        return self.xml[part].xpath(expr, namespaces=NS)

    def paragraphs(self):
        """Top-level and table paragraphs of the body, outside text boxes."""
        return [p for p in self.body.iter(w("p")) if not any(a.tag == w("txbxContent") for a in p.iterancestors())]

    def find_paragraph(self, start: str, exact: bool = False):
        for p in self.paragraphs():
            if text(p) == start or (not exact and text(p).startswith(start)):
                return p
        raise AssertionError(f"no paragraph starts with {start!r}")

    def section(self):
        return self.body.find("w:sectPr", NS)


def text(el) -> str:
    """The text of an element, leaving out text boxes anchored in it."""
    return "".join(t.text or "" for t in el.iter(w("t"))
                   if el.tag == w("txbxContent") or not any(a.tag == w("txbxContent") for a in t.iterancestors()))


def attr(el, path: str, name: str):
    found = el.find(path, NS)
    return None if found is None else found.get(w(name))


def run_faces(p) -> list[str]:
    return [r.find("w:rPr/w:rFonts", NS).get(w("eastAsia")) for r in p.findall("w:r", NS)]


@pytest.fixture
def pkg(notice):
    return Package(render_docx(notice))


# --- page set-up ---------------------------------------------------------------------------------

def test_page_size_margins_and_grid(pkg):
    sect = pkg.section()
    size, mar, grid = sect.find("w:pgSz", NS), sect.find("w:pgMar", NS), sect.find("w:docGrid", NS)
    assert (size.get(w("w")), size.get(w("h"))) == ("11906", "16838")  # A4
    top, left, right, bottom = (int(mar.get(w(k))) for k in ("top", "left", "right", "bottom"))
    assert (top, left, bottom) == (2098, 1587, 1984)  # 37, 28, 35 mm
    type_w = 11906 - left - right
    type_h = 16838 - top - bottom
    assert abs(type_w / TWIPS_PER_MM - 156) < 0.05
    assert abs(type_h / TWIPS_PER_MM - 225) < 0.05
    # 22 grid lines fill the type area and a 23rd does not fit.
    pitch = int(grid.get(w("linePitch")))
    assert pitch == 579 and 22 * pitch <= type_h < 23 * pitch
    assert grid.get(w("type")) == "lines"
    # Word's own character pitch for 28 per line, kept for the 指定行和字符网格 dialog.
    char_space = int(grid.get(w("charSpace")))
    assert 28 * (16 + char_space / 4096) <= type_w / 20 < 28 * (16 + (char_space + 1) / 4096) + 0.01


def test_body_runs_fit_28_characters_per_line(pkg):
    sect = pkg.section()
    mar = sect.find("w:pgMar", NS)
    type_w = 11906 - int(mar.get(w("left"))) - int(mar.get(w("right")))
    body_runs = pkg.xpath("//w:r[w:rPr/w:sz/@w:val='32' and w:t]")
    assert body_runs
    spacings = {r.find("w:rPr/w:spacing", NS).get(w("val")) for r in body_runs}
    assert spacings == {"-5"}
    assert 28 * (320 - 5) <= type_w < 29 * (320 - 5)


def test_every_line_is_exact(pkg):
    spacing = pkg.xpath("//w:pPr/w:spacing")
    assert spacing and all(s.get(w("lineRule")) == "exact" for s in spacing)
    # Off the document grid, every paragraph: Word ignores the grid for exact lines, LibreOffice
    # would centre a snapped line's font in it instead of putting its baseline at 80 %.
    assert all(attr(p, "w:pPr/w:snapToGrid", "val") == "0" for p in pkg.paragraphs())
    body = [p for p in pkg.paragraphs() if p.find("w:pPr/w:ind[@w:firstLineChars='200']", NS) is not None]
    assert body and all(attr(p, "w:pPr/w:spacing", "line") == "579" for p in body)


# --- fonts ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fixture", ["notice", "letter", "upward", "joint", "party"])
def test_every_run_names_its_fonts_and_no_theme_fonts(request, fixture):
    pkg = Package(render_docx(request.getfixturevalue(fixture)))
    for name in ("word/document.xml", "word/footer1.xml", "word/footer2.xml", "word/footer3.xml"):
        runs = pkg.xpath("//w:r[not(w:drawing) and not(mc:AlternateContent)]".replace(
            "mc:AlternateContent", "*[local-name()='AlternateContent']"), name)
        for r in runs:
            fonts = r.find("w:rPr/w:rFonts", NS)
            assert fonts is not None, etree.tostring(r)
            for key in ("ascii", "hAnsi", "eastAsia", "cs"):
                assert fonts.get(w(key)), (key, etree.tostring(r))
    for name, root in pkg.xml.items():
        for el in root.iter():
            assert not [k for k in el.attrib if "Theme" in k or "theme" in k.split("}")[-1]], (name, el.tag)
    assert not [n for n in pkg.raw if "theme" in n]
    assert b"theme" not in pkg.raw["[Content_Types].xml"]


def test_default_style_is_sanhao_fangsong(pkg):
    normal = pkg.xpath("//w:style[@w:styleId='Normal']", "word/styles.xml")[0]
    assert attr(normal, "w:rPr/w:rFonts", "eastAsia") == "仿宋_GB2312"
    assert attr(normal, "w:rPr/w:sz", "val") == "32"
    assert attr(normal, "w:pPr/w:widowControl", "val") == "0"  # no widow control: always 22 lines


# --- 版头 -----------------------------------------------------------------------------------------

def test_header_lines_and_mark(pkg, notice):
    first = pkg.paragraphs()[:2]
    assert [text(p) for p in first] == ["000123", "加急"]
    assert run_faces(first[0]) == ["仿宋_GB2312"] and run_faces(first[1]) == ["黑体"]
    mark = pkg.find_paragraph("江夏市财政局文件")
    run = mark.find("w:r", NS)
    assert attr(run, "w:rPr/w:color", "val") == "FF0000"
    assert attr(run, "w:rPr/w:rFonts", "eastAsia") == "方正小标宋简体"
    assert attr(mark, "w:pPr/w:jc", "val") == "center"
    size = int(attr(run, "w:rPr/w:sz", "val")) / 2
    assert size == mark_size_pt(notice, _geometry(notice))
    assert 22 <= size <= 42


def _geometry(doc):
    from generators.gongwen.docx import geometry

    return geometry(doc)[0]


@pytest.mark.parametrize("issuer, expected", [("江夏市财政局", 42.0), ("江夏市预算绩效管理工作领导小组", 442.2 / 17), ("江夏市预算绩效管理工作领导小组办公室", 22.0)])
def test_mark_shrinks_to_one_line(settings, issuer, expected):
    doc = make_doc(settings, issuer=issuer)
    size = mark_size_pt(doc, _geometry(doc))
    assert size == pytest.approx(expected, abs=0.5)
    assert size * len(issuer + "文件") <= 442.2 or size == 22.0  # never below mark.min_pt


def test_doc_number_centred_with_red_rule(pkg):
    number = pkg.find_paragraph("江财绩〔2024〕7号")
    assert attr(number, "w:pPr/w:jc", "val") == "center"
    shapes = number.xpath(".//wps:wsp", namespaces=NS)
    assert len(shapes) == 1
    ext = shapes[0].find("wps:spPr/a:xfrm/a:ext", NS)
    assert abs(int(ext.get("cx")) / EMU_PER_MM - 156) < 0.05  # type-area wide
    assert int(ext.get("cy")) == 12700  # 1 pt
    assert shapes[0].find("wps:spPr/a:solidFill/a:srgbClr", NS).get("val") == "FF0000"
    assert not pkg.xpath("//a:prstGeom[@prst='star5']")


def test_party_star_on_the_rule(party):
    pkg = Package(render_docx(party))
    stars = pkg.xpath("//wps:wsp[wps:spPr/a:prstGeom/@prst='star5']")
    assert len(stars) == 1
    assert stars[0].find("wps:spPr/a:solidFill/a:srgbClr", NS).get("val") == "FF0000"
    anchors = pkg.xpath("//wp:anchor")
    xs = {a.find("wp:docPr", NS).get("name"): int(a.find("wp:positionH/wp:posOffset", NS).text) for a in anchors}
    widths = {a.find("wp:docPr", NS).get("name"): int(a.find("wp:extent", NS).get("cx")) for a in anchors}
    centre = 1587 * 635 + 8844 * 635 / 2
    assert abs(xs["五角星"] + widths["五角星"] / 2 - centre) < 2  # centred on the rule


def test_upward_layout_with_signers(upward):
    pkg = Package(render_docx(upward))
    first = pkg.find_paragraph("签发人：")
    assert text(first) == "签发人：王明　李强"
    assert run_faces(first) == ["仿宋_GB2312", "楷体_GB2312"]
    last = pkg.find_paragraph("江财绩〔2024〕7号")
    assert text(last) == "江财绩〔2024〕7号赵敏"  # the number shares the last signer line
    assert attr(last, "w:pPr/w:ind", "left") == "315"  # one character in
    assert attr(last, "w:pPr/w:jc", "val") is None
    tabs = [int(t.get(w("pos"))) for t in last.findall("w:pPr/w:tabs/w:tab", NS)]
    first_left = int(attr(first, "w:pPr/w:ind", "left"))
    assert tabs == [first_left, first_left + 4 * 315]  # the names line up under the first name
    # “签发人：王明　李强” (9 characters) ends one character from the right.
    assert first_left + 9 * 315 == pytest.approx(8844 - 315, abs=2)


def test_joint_mark_stacks_names_with_wenjian_centred(joint):
    pkg = Package(render_docx(joint))
    table = pkg.body.find("w:tbl", NS)
    rows = table.findall("w:tr", NS)
    assert [text(r.find("w:tc", NS)) for r in rows] == ["江夏市财政局", "江夏市审计局"]
    suffix = [r.findall("w:tc", NS)[1] for r in rows]
    assert attr(suffix[0], "w:tcPr/w:vMerge", "val") == "restart"
    assert suffix[1].find("w:tcPr/w:vMerge", NS) is not None and attr(suffix[1], "w:tcPr/w:vMerge", "val") is None
    assert text(suffix[0]) == "文件"
    cols = [int(c.get(w("w"))) for c in table.findall("w:tblGrid/w:gridCol", NS)]
    assert cols == [int(tc.find("w:tcPr/w:tcW", NS).get(w("w"))) for tc in rows[0].findall("w:tc", NS)]
    # Placed where the shared geometry puts the pieces: the table indented to the names' left
    # edge, “文件” indented in its column to its x and dropped to its em box top (vertically
    # centred on the two names: half a row).
    mark = mark_layout(joint)
    indent = int(attr(table, "w:tblPr/w:tblInd", "w"))
    assert indent == round(mark.names[0].x.twips) and indent + sum(cols) <= 8844
    wenjian = suffix[0].find("w:p", NS)
    assert indent + cols[0] + int(attr(wenjian, "w:pPr/w:ind", "left")) == round(mark.suffix.x.twips)
    assert int(attr(wenjian, "w:pPr/w:spacing", "before")) == round(mark.suffix.em_top.twips)
    assert mark.suffix.em_top.pt == pytest.approx(mark.size.pt * 1.1 / 2)


# --- 主体 -----------------------------------------------------------------------------------------

def test_title(pkg):
    lines = [p for p in pkg.paragraphs() if p.xpath("w:r/w:rPr/w:sz[@w:val='44']", namespaces=NS)][:2]
    assert [text(p) for p in lines] == ["江夏市财政局关于开展2024年度", "部门整体支出绩效自评工作的通知"]
    for p in lines:
        assert attr(p, "w:pPr/w:jc", "val") == "center"
        assert set(run_faces(p)) == {"方正小标宋简体"}


def test_title_note_in_fangsong_as_in_the_pdf(settings):
    pkg = Package(render_docx(make_doc(settings, title_note="2024年2月26日江夏市财政局党组会议通过")))
    note = pkg.find_paragraph("（2024年2月26日")
    assert attr(note, "w:pPr/w:jc", "val") == "center" and run_faces(note) == ["仿宋_GB2312"]


@pytest.mark.parametrize("start, faces", [
    ("一、自评范围", ["黑体"]),
    ("（一）加强组织领导。", ["楷体_GB2312", "仿宋_GB2312"]),
    ("1.数据口径统一。", ["仿宋_GB2312"]),
    ("（1）佐证材料", ["仿宋_GB2312"]),
    ("为贯彻落实", ["仿宋_GB2312"]),
])
def test_heading_faces_and_first_line_indent(pkg, start, faces):
    p = pkg.find_paragraph(start)
    assert list(dict.fromkeys(run_faces(p))) == faces  # levels 3 and 4 stay in 仿宋 throughout
    assert attr(p, "w:pPr/w:ind", "firstLineChars") == "200"
    assert attr(p, "w:pPr/w:ind", "firstLine") == "630"


def test_addressees_flush_left_after_a_blank_line(pkg):
    paragraphs = pkg.paragraphs()
    p = pkg.find_paragraph("市直各部门、各区财政局：")
    assert p.find("w:pPr/w:ind", NS) is None
    assert text(paragraphs[paragraphs.index(p) - 1]) == ""


def test_attachment_note(pkg):
    first = pkg.find_paragraph("附件：1.部门整体支出绩效自评表")
    second = pkg.find_paragraph("2.部门整体支出绩效自评报告提纲")
    assert (attr(first, "w:pPr/w:ind", "leftChars"), attr(first, "w:pPr/w:ind", "hangingChars")) == ("500", "300")
    assert attr(second, "w:pPr/w:ind", "leftChars") == "500" and attr(second, "w:pPr/w:ind", "hangingChars") is None


def test_signature_right_indents(pkg, notice):
    for line in notice.signature:
        p = pkg.find_paragraph(line.text, exact=True)
        assert attr(p, "w:pPr/w:jc", "val") == "right"
        assert int(attr(p, "w:pPr/w:ind", "rightChars")) == round(line.right_chars * 100)
        assert int(attr(p, "w:pPr/w:ind", "right")) == int(line.right_chars * 315)
    # Sealed: three blank lines of room above the names; the 附注 on the line after the date.
    paragraphs = pkg.paragraphs()
    name = paragraphs.index(pkg.find_paragraph(notice.signature[0].text, exact=True))
    assert [text(p) for p in paragraphs[name - 3:name]] == ["", "", ""]
    date = paragraphs.index(pkg.find_paragraph(notice.signature[-1].text, exact=True))
    annotation = paragraphs[date + 1]
    assert text(annotation) == "（联系人：王明，联系电话：0000-1234567）"
    assert attr(annotation, "w:pPr/w:ind", "firstLineChars") == "200"


def test_attachment_page(pkg):
    label = pkg.find_paragraph("附件2")
    assert label.find("w:pPr/w:pageBreakBefore", NS) is not None
    assert run_faces(label) == ["黑体"]
    paragraphs = pkg.paragraphs()
    i = paragraphs.index(label)
    assert text(paragraphs[i + 1]) == "" and text(paragraphs[i + 2]) == "部门整体支出绩效自评报告提纲"
    assert attr(paragraphs[i + 2].find("w:r", NS), "w:rPr/w:sz", "val") == "44"


# --- 版记 -----------------------------------------------------------------------------------------

def test_imprint_floats_at_the_bottom_with_rules(pkg):
    table = pkg.body.findall("w:tbl", NS)[-1]
    pos = table.find("w:tblPr/w:tblpPr", NS)
    assert (pos.get(w("vertAnchor")), pos.get(w("tblpYSpec"))) == ("margin", "bottom")
    borders = table.find("w:tblPr/w:tblBorders", NS)
    assert attr(borders, "w:top", "sz") == "8" and attr(borders, "w:bottom", "sz") == "8"
    assert attr(borders, "w:insideH", "sz") == "6"
    assert [c.get(w("w")) for c in table.findall("w:tblGrid/w:gridCol", NS)] == ["8844"]
    cc, printed = table.findall("w:tr", NS)
    cc_p = cc.find(".//w:p", NS)
    assert text(cc_p) == "抄送：市审计局、市人大常委会预算工作委员会。"
    assert (attr(cc_p, "w:pPr/w:ind", "left"), attr(cc_p, "w:pPr/w:ind", "hanging"), attr(cc_p, "w:pPr/w:ind", "right")) == ("1120", "840", "280")
    assert attr(cc.find(".//w:r", NS), "w:rPr/w:sz", "val") == "28"
    printed_p = printed.find(".//w:p", NS)
    assert text(printed_p) == "江夏市财政局办公室2024年2月27日印发"
    assert printed_p.find(".//w:tab", NS) is not None
    assert attr(printed_p, "w:pPr/w:tabs/w:tab", "val") == "right"
    assert attr(printed_p, "w:pPr/w:tabs/w:tab", "pos") == str(8844 - 280)


# --- page numbers -----------------------------------------------------------------------------------

def test_page_number_footers(pkg):
    assert pkg.xpath("//w:evenAndOddHeaders", "word/settings.xml")
    refs = {r.get(w("type")): r.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
            for r in pkg.section().findall("w:footerReference", NS)}
    assert refs == {"default": "rIdFooterOdd", "even": "rIdFooterEven"}
    assert pkg.section().find("w:titlePg", NS) is None
    odd, even = (pkg.xml[f"word/footer{n}.xml"].find("w:p", NS) for n in (1, 2))
    for p in (odd, even):
        assert text(p) == "— 1 —"
        assert [f.get(w("fldCharType")) for f in p.iter(w("fldChar"))] == ["begin", "separate", "end"]
        assert "".join(t.text for t in p.iter(w("instrText"))).strip() == "PAGE"
        assert set(run_faces(p)) == {"宋体"}
        assert {r.find("w:rPr/w:rFonts", NS).get(w("ascii")) for r in p.findall("w:r", NS)} == {"宋体"}
        assert {attr(r, "w:rPr/w:sz", "val") for r in p.findall("w:r", NS)} == {"28"}
    # One character of the grid in (156 mm / 28, 315.8 twips), as the PDF.
    assert (attr(odd, "w:pPr/w:jc", "val"), attr(odd, "w:pPr/w:ind", "right")) == ("right", "316")
    assert (attr(even, "w:pPr/w:jc", "val"), attr(even, "w:pPr/w:ind", "left")) == ("left", "316")
    # Top of the number 7 mm below the type area: footer distance + a 1.1 em line = 35 − 7 mm.
    footer = int(attr(pkg.section(), "w:pgMar", "footer"))
    line = int(attr(odd, "w:pPr/w:spacing", "line"))
    assert line == 308
    assert abs((footer + line) / TWIPS_PER_MM - 28) < 0.05


# --- 信函格式 -----------------------------------------------------------------------------------------

def test_letter_format(letter):
    pkg = Package(render_docx(letter))
    assert "文件" not in "".join(text(p) for p in pkg.doc.iter(w("p")))
    sect = pkg.section()
    assert sect.find("w:titlePg", NS) is not None
    refs = {r.get(w("type")) for r in sect.findall("w:footerReference", NS)}
    assert refs == {"first", "default", "even"}
    first_footer = pkg.xml["word/footer3.xml"]
    assert text(first_footer) == "" and first_footer.find(".//w:fldChar", NS) is None
    anchors = pkg.xpath("//wp:anchor")
    names = [a.find("wp:docPr", NS).get("name") for a in anchors]
    assert names == ["发文机关标志", "上双线粗", "上双线细", "下双线细", "下双线粗"]
    by_name = dict(zip(names, anchors, strict=True))
    for name in names[1:]:
        a = by_name[name]
        assert abs(int(a.find("wp:extent", NS).get("cx")) / EMU_PER_MM - 170) < 0.05
        assert abs(int(a.find("wp:positionH/wp:posOffset", NS).text) / EMU_PER_MM - 20) < 0.05  # centred
    mark = by_name["发文机关标志"]
    assert abs(int(mark.find("wp:positionV/wp:posOffset", NS).text) / EMU_PER_MM - 30) < 0.05
    assert text(mark.find(".//w:txbxContent", NS)) == "江夏市财政局"
    bottom = by_name["下双线粗"]
    y = int(bottom.find("wp:positionV/wp:posOffset", NS).text) + int(bottom.find("wp:extent", NS).get("cy"))
    assert abs(y / EMU_PER_MM - (297 - 20)) < 0.05
    # 发文字号 flush right on the first line under the double line; no 版记 rules.
    first = pkg.find_paragraph("000123")
    assert text(first) == "000123江财绩〔2024〕7号"
    assert attr(first, "w:pPr/w:tabs/w:tab", "val") == "right"
    imprint = pkg.body.findall("w:tbl", NS)[-1]
    assert attr(imprint, "w:tblPr/w:tblBorders/w:top", "val") == "nil"
    assert text(imprint) == "抄送：市审计局。"


# --- safety and determinism ---------------------------------------------------------------------------

EVIL = '</w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/> <select> & "x" \x0c'


def test_user_text_cannot_inject_markup(settings):
    plain = Package(render_docx(make_doc(settings, body="甲" * len(EVIL), title="关于" + "乙" * 12 + "的通知")))
    evil = Package(render_docx(make_doc(settings, body=EVIL, title="关于<select>&amp;的通知", addressees=["<w:p/>"])))
    assert not evil.xpath("//w:fldChar") and not evil.xpath("//w:instrText")
    assert len(evil.paragraphs()) == len(plain.paragraphs())
    texts = [text(p) for p in evil.paragraphs()]
    assert EVIL.replace("\x0c", "").strip() in texts
    assert "<w:p/>：" in texts
    assert "".join(t for t in texts if "select" in t and "的通知" in t) == "关于<select>&amp;的通知"


def test_output_is_deterministic(notice):
    assert render_docx(notice) == render_docx(notice)


def test_python_docx_opens_it(pkg, notice):
    import docx

    document = docx.Document(io.BytesIO(render_docx(notice)))
    assert any(p.text == "一、自评范围" for p in document.paragraphs)
    assert document.sections[0].page_width == 11906 * 635
