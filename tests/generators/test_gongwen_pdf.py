"""The 公文 PDF (weasyprint): fonts, text, and GB/T 9704-2012 positions measured on the output.

Positions come from `pdftotext -bbox` (points, origin top-left) and from page 1 rendered to
pixels with `pdftoppm`. pdftotext boxes run from ascent to descent of the font (FandolFang:
0.88/0.12 em, so its box is the em box; Noto CJK: 1.151/0.286 em), so the em box top of a word
set in a Noto face is yMin + (1.151 − 0.88) × size.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
import subprocess
from dataclasses import dataclass

import pytest
from PIL import Image
from pypdf import PdfReader

from generators.gongwen.model import build
from generators.gongwen.pdf import render_pdf
from rules.settings import defaults

MM = 72 / 25.4
TOP, LEFT, TYPE_W, TYPE_H = 37 * MM, 28 * MM, 156 * MM, 225 * MM
RIGHT, BOTTOM = LEFT + TYPE_W, TOP + TYPE_H
LINE, PITCH = TYPE_H / 22, TYPE_W / 28
NOTO_TOP = 1.151 - 0.88  # ascent above the em box, Noto CJK faces

# A realistic 通知 in our own words: three levels of headings, Latin digits, two attachments
# (one bound with the document), 抄送 and 印发 — two pages of body and an attachment page.
NOTICE = {
    "format": "file",
    "direction": "downward",
    "copy_number": "000318",
    "urgency": "特急",
    "issuer": "临川县财政局",
    "doc_number": "临财绩〔2025〕12号",
    "title": "临川县财政局关于做好2025年度项目支出绩效目标编报工作的通知",
    "addressees": ["县直各预算单位", "各乡镇人民政府"],
    "body": "\n".join([
        "为推进预算和绩效管理一体化，提高绩效目标编报质量，根据县委、县政府关于全面实施预算绩效管理的部署，现就做好2025年度项目支出绩效目标编报工作通知如下。",
        "一、编报范围",
        "县本级安排的全部项目支出均应编报绩效目标，上级转移支付资金由县级分配使用的，一并编报。新增项目未编报绩效目标的，不得纳入项目库，不得安排预算。",
        "二、编报要求",
        "（一）目标要明确具体。绩效目标应当与部门职能和中长期规划相衔接，清晰反映预算资金的预期产出和效果，避免使用笼统、模糊的表述。",
        "（二）指标要细化量化。产出指标包括数量、质量、时效和成本指标，效益指标包括经济、社会、生态效益和可持续影响指标，满意度指标原则上不低于90%。",
        "1.数量指标应与预算测算依据一致，例如培训人次、建设里程、受益户数等。",
        "（1）成本指标以单位成本或总成本表述，不得高于同类项目的平均水平。",
        "（三）审核要从严把关。主管部门对所属单位编报的绩效目标进行初审，县财政局重点审核目标与资金的匹配程度，未通过审核的应当退回修改。",
        "三、时间安排",
        "请各单位于2025年10月31日前完成绩效目标填报，并将纸质材料报送县财政局预算绩效管理股。逾期未报的项目，原则上不予安排下一年度预算。",
        "各单位要高度重视绩效目标编报工作，主要负责人亲自部署，分管负责人具体落实，确保编报工作按时保质完成。编报过程中遇到的问题，请及时与县财政局预算绩效管理股沟通，我们将加强业务指导，共同提高财政资金使用效益。",
    ]),
    "attachments": [
        {"name": "项目支出绩效目标申报表", "title": "", "body": ""},
        {"name": "绩效目标编报常见问题解答", "title": "",
         "body": "一、绩效目标可以只填写定性指标吗\n不可以。每个项目至少应设置一项可量化的产出指标和一项效益指标。\n二、年度中调整预算的项目如何处理\n预算调整幅度超过20%的，应当同步调整绩效目标，并报县财政局备案。"},
    ],
    "seal": True,
    "date": dt.date(2025, 9, 15),
    "annotation": "（联系人：赵磊，联系电话：0794-5558123）",
    "imprint": {"cc": ["县人大常委会预算工作委员会", "县审计局"], "printed_by": "临川县财政局办公室",
                "printed_on": dt.date(2025, 9, 16)},
}

# One long paragraph of plain CJK text: every full line holds exactly 28 characters.
FULL_TEXT = "绩效目标是预算安排的前提和绩效评价的依据" * 90


def make(kind: str = "notice", **changes):
    data = copy.deepcopy(NOTICE)
    data.update(changes)
    return build(kind, data, defaults())


@dataclass(frozen=True)
class Word:
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


def words(pdf: bytes) -> list[Word]:
    out = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    result, page = [], 0
    for line in out.splitlines():
        if "<page " in line:
            page += 1
        m = re.search(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)</word>', line)
        if m:
            result.append(Word(page, *map(float, m.groups()[:4]), m.group(5)))
    return result


def plain_text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return re.sub(r"\s+", "", out)


def page_image(pdf: bytes, page: int = 1, dpi: int = 100) -> Image.Image:
    png = subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", "-"],
                         input=pdf, capture_output=True, check=True).stdout
    return Image.open(io.BytesIO(png)).convert("RGB")


def red_rows(img: Image.Image, dpi: int = 100) -> dict[int, int]:
    """Row → number of red pixels (R > 200, G < 80, B < 80)."""
    rows: dict[int, int] = {}
    px = img.load()
    for y in range(img.height):
        n = sum(1 for x in range(img.width) if (p := px[x, y])[0] > 200 and p[1] < 80 and p[2] < 80)
        if n:
            rows[y] = n
    return rows


def px_to_mm(v: float, dpi: int = 100) -> float:
    return v / dpi * 25.4


@pytest.fixture(scope="module")
def notice_pdf() -> bytes:
    return render_pdf(make())


@pytest.fixture(scope="module")
def letter_pdf() -> bytes:
    return render_pdf(make("letter", format="letter", attachments=[],
                           imprint={"cc": ["县审计局"], "printed_by": "", "printed_on": None}))


@pytest.fixture(scope="module")
def full_pdf() -> bytes:
    return render_pdf(make(body=FULL_TEXT, attachments=[]))


# --- fonts and text ------------------------------------------------------------------------------

MAPPED_FONTS = {"FandolFang", "Noto-Serif-CJK-SC-Bold", "Noto-Serif-CJK-SC", "Noto-Sans-CJK-SC", "AR-PL-KaitiM-GB"}


def test_only_the_mapped_cjk_fonts_are_embedded(notice_pdf):
    out = subprocess.run(["pdffonts", "-"], input=notice_pdf, capture_output=True, check=True).stdout.decode()
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    names = {row[0].split("+", 1)[1] for row in rows}
    # 仿宋 body, 小标宋 mark/title, 黑体 level-1 headings, 楷体 level-2 headings, 宋体 page numbers.
    assert names == MAPPED_FONTS
    assert all(row[-5] == "yes" for row in rows), out  # emb
    assert "dejavu" not in out.lower()


def test_text_is_extractable_in_reading_order(notice_pdf):
    doc = make()
    text = plain_text(notice_pdf)
    order = ["".join(doc.title_lines), doc.addressees, doc.paragraphs[0].text, "一、编报范围",
             doc.paragraphs[-1].text, "附件：1.项目支出绩效目标申报表", "临川县财政局", "2025年9月15日",
             "（联系人：赵磊，联系电话：0794-5558123）", "附件2", "绩效目标编报常见问题解答",
             "抄送：县人大常委会预算工作委员会、县审计局。", "2025年9月16日印发"]
    cursor = 0
    for part in order:  # each part after the previous one
        found = text.find(part, cursor)
        assert found >= 0, f"{part} missing or out of order"
        cursor = found + len(part)
    # Every paragraph comes out whole: no glyph is missing or replaced.
    for p in doc.paragraphs:
        assert (p.heading + p.text) in text
    assert "\ufffd" not in text


def test_pages_are_a4(notice_pdf):
    reader = PdfReader(io.BytesIO(notice_pdf))
    assert len(reader.pages) == 4
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(210 * MM, abs=0.1)
        assert float(page.mediabox.height) == pytest.approx(297 * MM, abs=0.1)


def test_user_markup_is_shown_literally():
    body = '请注意<b>加粗</b>和<a rel="attachment" href="file:///etc/passwd">链接</a>不会生效。'
    pdf = render_pdf(make(body=body, attachments=[]))
    assert re.sub(r"\s+", "", body) in plain_text(pdf)


# --- 版头 ----------------------------------------------------------------------------------------

def test_mark_top_edge_is_35mm_below_the_type_area(notice_pdf):
    mark = next(w for w in words(notice_pdf) if w.text == "临川县财政局文件")
    size = (mark.y1 - mark.y0) / 1.437
    em_top = mark.y0 + NOTO_TOP * size
    assert em_top / MM == pytest.approx(72, abs=0.3)
    assert (mark.x0 + mark.x1) / 2 == pytest.approx(LEFT + TYPE_W / 2, abs=1)
    assert mark.x1 - mark.x0 <= TYPE_W + 0.5  # shrunk to one line
    # The ink of the red characters starts at the same place (within the em box's side bearing).
    rows = red_rows(page_image(notice_pdf))
    assert px_to_mm(min(rows)) == pytest.approx(72, abs=1.5)


def test_number_two_lines_below_the_mark_and_rule_4mm_below_it(notice_pdf):
    ws = words(notice_pdf)
    mark = next(w for w in ws if w.text == "临川县财政局文件")
    number = next(w for w in ws if w.text == "临财绩〔2025〕12号")
    assert (number.x0 + number.x1) / 2 == pytest.approx(LEFT + TYPE_W / 2, abs=1)
    size = (mark.y1 - mark.y0) / 1.437
    mark_em_bottom = mark.y0 + NOTO_TOP * size + size
    # Two blank lines between the mark and the number's line (whose em box is centred in it).
    assert number.y0 - mark_em_bottom == pytest.approx(2 * LINE + (LINE - 16) / 2, abs=0.5)
    img = page_image(notice_pdf)
    rows = red_rows(img)
    wide = [y for y, n in rows.items() if n > 0.95 * TYPE_W / MM / 25.4 * 100]
    assert wide, "no type-area-wide red rule"
    rule_top = px_to_mm(min(wide))
    assert rule_top == pytest.approx(number.y1 / MM + 4, abs=0.5)
    # 156 mm wide, starting at the left edge of the type area.
    y = min(wide)
    xs = [x for x in range(img.width) if (p := img.getpixel((x, y)))[0] > 200 and p[1] < 80]
    assert px_to_mm(max(xs) - min(xs) + 1) == pytest.approx(156, abs=0.5)
    assert px_to_mm(min(xs)) == pytest.approx(28, abs=0.5)


def test_red_only_in_the_header(notice_pdf):
    img = page_image(notice_pdf)
    rows = red_rows(img)
    ws = words(notice_pdf)
    title = next(w for w in ws if w.page == 1 and w.text.startswith("临川县财政局关于"))
    mark_rows = [y for y in rows if 70 <= px_to_mm(y) <= 90]
    assert sum(rows[y] for y in mark_rows) > 2000  # the mark is solid red
    body_rows = [y for y in rows if px_to_mm(y) > title.y0 / MM - 1]
    assert body_rows == []


def test_party_star_breaks_the_rule():
    pdf = render_pdf(make(party_style=True))
    img = page_image(pdf)
    rows = red_rows(img)
    rule_y = max(rows, key=rows.get)
    centre = round((28 + 78) / 25.4 * 100)
    # The rule has a gap around the centre on its own row, filled by the star above and below.
    assert img.getpixel((centre - 12, rule_y))[1] > 200 or img.getpixel((centre + 12, rule_y))[1] > 200
    star_rows = [y for y in rows if abs(y - rule_y) <= 3 and y != rule_y]
    assert star_rows


def test_upward_number_left_and_signer_right():
    doc_pdf = render_pdf(make("request", direction="upward", signers=["周建国", "吴晓梅", "孙立"],
                              title="临川县财政局关于申请绩效评价专项经费的请示"))
    ws = [w for w in words(doc_pdf) if w.page == 1]
    number = next(w for w in ws if w.text == "临财绩〔2025〕12号")
    label = next(w for w in ws if w.text.startswith("签发人"))
    names = [w for w in ws if w.text in ("周建国", "吴晓梅", "孙立")]
    assert number.x0 == pytest.approx(LEFT + PITCH, abs=0.5)  # one character in
    assert max(w.x1 for w in names) == pytest.approx(RIGHT - PITCH, abs=1.5)  # one character from the right
    assert number.y0 == pytest.approx(max(w.y0 for w in names), abs=0.5)  # on the last signer line
    assert label.y0 < number.y0


def test_joint_issue_stacks_names_with_suffix_on_the_right():
    pdf = render_pdf(make(joint_issuers=["临川县审计局"]))
    ws = [w for w in words(pdf) if w.page == 1]
    first = next(w for w in ws if w.text == "临川县财政局")
    second = next(w for w in ws if w.text == "临川县审计局")
    suffix = next(w for w in ws if w.text == "文件")
    size = (first.y1 - first.y0) / 1.437
    assert second.y0 - first.y0 == pytest.approx(1.1 * size, abs=0.2)  # stacked rows
    assert first.x0 == pytest.approx(second.x0, abs=0.5) and first.x1 == pytest.approx(second.x1, abs=0.5)
    assert suffix.x0 > first.x1
    assert (suffix.y0 + suffix.y1) / 2 == pytest.approx((first.y0 + second.y1) / 2, abs=2)


# --- 主体 ----------------------------------------------------------------------------------------

def test_full_page_has_22_lines_of_28_characters(full_pdf):
    lines = [w for w in words(full_pdf) if w.page == 2 and w.y0 < BOTTOM]
    assert len(lines) == 22
    tops = [w.y0 for w in lines]
    pitches = [b - a for a, b in zip(tops, tops[1:], strict=False)]
    assert all(p == pytest.approx(LINE, abs=0.05) for p in pitches)
    # The em box of line 1 where Word puts it: the baseline at 80 % of the line (geometry.baseline_in_line).
    assert tops[0] == pytest.approx(TOP + 0.8 * LINE - 0.88 * 16, abs=0.1)
    assert lines[-1].y1 <= BOTTOM
    for w in lines:
        assert len(w.text) == 28
        assert w.x0 == pytest.approx(LEFT, abs=0.01)
        assert w.x1 - w.x0 == pytest.approx(TYPE_W, abs=0.5 * MM)


def test_body_paragraphs_indent_two_characters(notice_pdf):
    ws = words(notice_pdf)
    first = next(w for w in ws if w.text.startswith("为推进预算"))
    second = next(w for w in ws if w.y0 > first.y0 and w.page == first.page)
    assert first.x0 - LEFT == pytest.approx(2 * PITCH, abs=0.3)
    assert second.x0 == pytest.approx(LEFT, abs=0.1)


def test_signature_and_date_by_right_indent(notice_pdf):
    doc = make()
    ws = words(notice_pdf)
    date = next(w for w in ws if w.text == "2025年9月15日")
    name = next(w for w in ws if w.text == "临川县财政局" and w.page == date.page and w.y0 < date.y0)
    assert RIGHT - date.x1 == pytest.approx(doc.signature[-1].right_chars * PITCH, abs=1.5)
    assert RIGHT - name.x1 == pytest.approx(doc.signature[0].right_chars * PITCH, abs=1.5)
    assert date.y0 - name.y0 == pytest.approx(LINE, abs=0.2)


def test_attachment_note_hangs_after_the_label(notice_pdf):
    ws = words(notice_pdf)
    first = next(w for w in ws if w.text.startswith("附件：1."))
    name1 = next(w for w in ws if w.text == "项目支出绩效目标申报表")
    number2 = next(w for w in ws if w.text == "2.")
    name2 = next(w for w in ws if w.text == "绩效目标编报常见问题解答" and w.page == first.page)
    assert first.x0 - LEFT == pytest.approx(2 * PITCH, abs=0.3)
    assert name2.x0 == pytest.approx(name1.x0, abs=0.3)
    assert number2.x1 == pytest.approx(first.x1, abs=0.5)
    assert name2.y0 - name1.y0 == pytest.approx(LINE, abs=0.1)  # one line each, no gaps


def test_long_attachment_name_continues_under_the_name():
    long_name = "临川县2025年度县级部门项目支出绩效目标编报范围、审核要点和常见问题汇编"
    pdf = render_pdf(make(attachments=[{"name": long_name, "title": "", "body": ""}]))
    ws = words(pdf)
    first = next(w for w in ws if w.text.startswith("附件："))
    rest = next(w for w in ws if w.page == first.page and w.y0 > first.y0 and long_name.endswith(w.text))
    assert rest.y0 - first.y0 == pytest.approx(LINE, abs=0.1)
    assert rest.x0 == pytest.approx(first.x0 + 3 * PITCH, abs=0.3)  # under the name, after “附件：”


def test_attachment_starts_a_new_page_with_label_and_title(notice_pdf):
    ws = words(notice_pdf)
    label = next(w for w in ws if w.text == "附件2")
    title = next(w for w in ws if w.page == label.page and w.text == "绩效目标编报常见问题解答")
    assert label.x0 == pytest.approx(LEFT, abs=0.1)
    size = (label.y1 - label.y0) / 1.448  # 黑体: Noto Sans CJK
    # On line 1, its baseline at 80 % of the line as a 仿宋 line's (Word's rule, whatever the face).
    assert label.y0 + (1.160 - 0.88) * size == pytest.approx(TOP + 0.8 * LINE - 0.88 * 16, abs=0.1)
    title_size = (title.y1 - title.y0) / 1.437
    title_em_top = title.y0 + NOTO_TOP * title_size
    line3_em_top = TOP + 2 * LINE + 0.8 * LINE - 0.88 * 22  # the baseline at 80 % of line 3
    assert title_em_top == pytest.approx(line3_em_top, abs=0.2)
    assert (title.x0 + title.x1) / 2 == pytest.approx(LEFT + TYPE_W / 2, abs=1)


# --- 版记 and 页码 ---------------------------------------------------------------------------------

def test_imprint_sits_at_the_bottom_of_the_last_page(notice_pdf):
    ws = words(notice_pdf)
    last = max(w.page for w in ws)
    printed_by = next(w for w in ws if w.text == "临川县财政局办公室")
    printed_on = next(w for w in ws if w.text == "2025年9月16日印发")
    cc = next(w for w in ws if w.text.startswith("抄送："))
    assert printed_by.page == printed_on.page == cc.page == last
    assert printed_by.x0 == pytest.approx(LEFT + 14, abs=0.3)  # one 4号 character in
    assert printed_on.x1 == pytest.approx(RIGHT - 14, abs=0.5)
    assert printed_on.y0 == pytest.approx(printed_by.y0, abs=0.1)
    assert cc.y0 < printed_by.y0
    assert printed_by.y1 - printed_by.y0 == pytest.approx(14, abs=0.1)  # 4号
    # The last thick rule ends on the bottom edge of the type area.
    img = page_image(notice_pdf, last)
    px = img.load()
    dark = [y for y in range(img.height) if sum(1 for x in range(100, img.width - 100, 10) if px[x, y][0] < 100) > 40]
    assert px_to_mm(max(dark) + 1) == pytest.approx(262, abs=0.5)
    assert printed_by.y1 < BOTTOM


def test_page_numbers_right_on_odd_left_on_even_7mm_below(notice_pdf):
    ws = words(notice_pdf)
    for page in (1, 2, 3, 4):
        marks = sorted((w for w in ws if w.page == page and w.y0 > BOTTOM), key=lambda w: w.x0)
        assert "".join(w.text for w in marks) == f"—{page}—"
        em_top = marks[0].y0 + NOTO_TOP * (marks[0].y1 - marks[0].y0) / 1.437
        assert (em_top - BOTTOM) / MM == pytest.approx(7, abs=0.3)
        if page % 2:
            assert RIGHT - marks[-1].x1 == pytest.approx(PITCH, abs=0.5)
        else:
            assert marks[0].x0 - LEFT == pytest.approx(PITCH, abs=0.5)


# --- 信函格式 ------------------------------------------------------------------------------------

def test_letter_format(letter_pdf):
    ws = words(letter_pdf)
    pages = max(w.page for w in ws)
    assert pages >= 2
    assert not [w for w in ws if w.page == 1 and w.y0 > BOTTOM]  # no number on page 1
    assert "".join(w.text for w in sorted((w for w in ws if w.page == 2 and w.y0 > BOTTOM), key=lambda w: w.x0)) == "—2—"
    mark = next(w for w in ws if w.text == "临川县财政局")
    size = (mark.y1 - mark.y0) / 1.437
    assert (mark.y0 + NOTO_TOP * size) / MM == pytest.approx(30, abs=0.3)
    number = next(w for w in ws if w.text == "临财绩〔2025〕12号")
    assert number.x1 == pytest.approx(RIGHT, abs=0.5)  # flush right
    assert not any(w.text.endswith("印发") for w in ws)
    # Red double lines: 170 mm long, the upper pair 4 mm below the mark, the lower pair ending
    # 20 mm above the bottom edge of the page.
    img = page_image(letter_pdf)
    rows = red_rows(img)
    long_rows = sorted(y for y, n in rows.items() if n > 0.95 * 170 / 25.4 * 100)
    assert long_rows
    assert px_to_mm(long_rows[0]) == pytest.approx((mark.y0 + NOTO_TOP * size + size) / MM + 4, abs=0.5)
    assert px_to_mm(long_rows[-1] + 1) == pytest.approx(297 - 20, abs=0.5)
    groups = [y for i, y in enumerate(long_rows) if i == 0 or y - long_rows[i - 1] > 1]
    assert len(groups) == 4  # thick, thin / thin, thick
