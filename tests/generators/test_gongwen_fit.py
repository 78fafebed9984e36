"""The page-end estimate both 公文 renderers apply (generators/gongwen/fit.py): its title line is
the renderers' own, its lines break as the engines break them, and its decisions reach the docx
and the PDF alike (the printed pages are checked in tests/office/test_signature_fit.py)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace

import pytest

from generators.gongwen import fit, pdf
from generators.gongwen.docx import document_context
from generators.gongwen.model import Paragraph, TableBlock
from rules.settings_files import thaw
from tests.generators.conftest import make_doc

FILLER = "为加强预算绩效管理，提高财政资金使用效益，现就有关事项请示如下。"
VARIANTS = [{}, {"format": "letter"}, {"direction": "upward", "signers": ["甲", "乙", "丙"]},
            {"joint_issuers": ["江夏市审计局"]}, {"copy_number": "", "urgency": ""},
            {"format": "letter", "urgency": "", "copy_number": ""}, {"party_style": True}]


@pytest.mark.parametrize("changes", VARIANTS, ids=[str(v) for v in VARIANTS])
def test_title_line_is_where_the_pdf_puts_the_title(settings, changes):
    doc = make_doc(settings, **changes)
    g = pdf.geometry(doc)
    _, height = (pdf._letter_banner if doc.format == "letter" else pdf._file_banner)(doc, g)
    assert fit.title_line(doc) == round(height / fit.shared.line_pitch(settings["layout"]).pt)


def test_lines_break_as_the_engines_break_them():
    # 26 characters after the indent, then 28; a closing mark never starts a line (the character
    # before it goes down with it), an opening one never ends one, a number is never cut.
    assert fit.break_lines("一" * 26 + "二" * 28 + "三", 26, 28) == ["一" * 26, "二" * 28, "三"]
    assert fit.break_lines("一" * 26 + "。二", 26, 28) == ["一" * 25, "一。二"]
    assert fit.break_lines("一" * 25 + "（二）", 26, 28) == ["一" * 25, "（二）"]
    assert fit.break_lines("一" * 24 + "86453.27万元", 26, 28) == ["一" * 24, "86453.27万元"]
    assert fit.break_lines("一" * 22 + "12.5%", 26, 28) == ["一" * 22 + "12.5%"]  # 2.5 wide


PROSE = [
    "坚持“花钱必问效、无效必问责”，对评价结果为“中”及以下的项目，按照“谁使用、谁负责”的原则，逐项提出“整改清单”，"
    "并在“预算一体化系统”中跟踪落实，确保“问题不解决不销号”。",
    "截至9月底，纳入监控的398个项目预算数78926.40万元，执行数57214.65万元，预算执行率72.49%。对执行率明显偏低"
    "（低于时序进度20个百分点）、绩效目标可能无法按期实现的23个项目，已督促主管部门分析原因并落实纠偏措施。",
    "（一）绩效目标管理全面覆盖。2023年，县级96家预算单位编报项目支出绩效目标412个，涉及资金86453.27万元，"
    "一般公共预算和政府性基金预算项目实现全覆盖；《青溪县项目支出绩效评价管理实施细则》同步印发。",
]


def test_predicted_lines_are_the_pdfs(settings, tmp_path):
    """The lines break_lines predicts are those the PDF prints (quotes, numbers, brackets, headings)."""
    doc = make_doc(settings, "request", body="\n".join([*PROSE, "妥否，请批示。"]), attachments=[])
    path = tmp_path / "a.pdf"
    path.write_bytes(pdf.render_pdf(doc))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    printed = [re.sub(r"\s+", "", line) for line in text.splitlines()]
    for p in doc.paragraphs[:len(PROSE)]:
        lines = fit.paragraph_lines(p, 28)
        at = printed.index(lines[0])
        assert printed[at:at + len(lines)] == lines


def test_a_long_last_paragraph_is_cut_where_its_last_two_lines_begin(settings):
    last = "本项目资金" + "按照预算绩效管理的要求，逐项落实绩效目标，" * 6 + "妥否，请批示。"
    doc = make_doc(settings, "request", body="\n".join([FILLER, last]), attachments=[])
    head, tail = fit.split_tail(doc)
    assert head.text + tail.text == last
    lines = fit.paragraph_lines(doc.paragraphs[-1], 28)
    assert tail.text == "".join(lines[-2:])
    # Both renderers: the tail a paragraph of its own, not indented, kept with the signature.
    html = pdf.render_html(doc)
    assert re.search(r'<p class="p tail"[^>]*>' + re.escape(tail.text) + "</p>", html)
    blocks = document_context(doc)["blocks"]
    texts = ["".join(r["t"] for r in b.get("runs", [])) for b in blocks]
    at = texts.index(tail.text)
    assert "<w:keepNext/>" in blocks[at]["ppr"] and "firstLine" not in blocks[at]["ppr"]
    assert texts[at - 1] == head.text and "firstLine" in blocks[at - 1]["ppr"]
    # a short last paragraph is kept whole instead
    assert fit.split_tail(make_doc(settings, "request", body=FILLER, attachments=[])) is None


def _request(settings, fillers: int):
    return make_doc(settings, "request", body="\n".join([FILLER] * fillers + ["妥否，请批示。"]), attachments=[],
                    imprint={"printed_by": "江夏市财政局办公室", "printed_on": None, "cc": []}, signature=[])


def test_closer_lines_from_the_page_the_body_ends_on_in_both_formats(settings):
    fitted = [n for n in range(0, 24) if fit.ending(_request(settings, n)).fit]
    assert fitted  # the sweep reaches the case
    doc = _request(settings, fitted[0])
    end = fit.ending(doc)
    ratio = float(settings["layout"]["signature"]["tight_pitch_ratio"])
    grid = fit.shared.line_pitch(settings["layout"])
    assert grid.pt * ratio <= end.fit.pitch.pt < grid.pt
    twips = round(end.fit.pitch.twips)
    # PDF: the blocks from `first` on, the 署名's gap and lines in the closer pitch
    html = pdf.render_html(doc)
    closer = f"line-height:{end.fit.pitch.pt:.3f}pt"
    assert html.count(closer) == len(doc.paragraphs) - end.fit.first + 1  # + the signature block
    # docx: the same blocks and every signature line in exact lines of that many twips, off the grid
    paragraphs = [b for b in document_context(doc)["blocks"] if "ppr" in b]
    exact = [b for b in paragraphs if f'w:line="{twips}"' in b["ppr"]]
    gap = fit.shared.signature_gap_lines(settings["layout"], doc.sealed)
    signature = sum(1 + s.blank_before for s in doc.signature) + (1 if doc.annotation else 0)
    assert len(exact) == len(doc.paragraphs) - end.fit.first + gap + signature
    assert all('<w:snapToGrid w:val="0"/>' in b["ppr"] for b in exact)


def _last_page_text(pdf_bytes: bytes) -> str:
    pages = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf_bytes, check=True,
                           capture_output=True).stdout.decode("utf-8").split("\f")
    return [p for p in pages if p.strip()][-1]


@pytest.mark.parametrize("choice", ["numbered", "unnumbered"])
def test_a_lone_imprint_page_is_numbered_as_the_setting_says_in_both_formats(settings, choice):
    """7.5 lets a 版记 page go unnumbered only after blank pages: by default it keeps its number
    (“— 3 —”); page_number.imprint_page = "unnumbered" takes it off, in the PDF and the docx."""
    settings = thaw(settings)
    settings["layout"]["page_number"]["imprint_page"] = choice
    alone = [n for n in range(0, 24) if fit.ending(_request(settings, n)).imprint_page]
    assert alone
    doc = _request(settings, alone[0])
    assert '<div class="imprint-page">' in pdf.render_html(doc)
    last = _last_page_text(pdf.render_pdf(doc))
    assert "江夏市财政局办公室" in last and "妥否" not in last  # the 版记 (its 印发机关) alone
    assert bool(re.search(r"—\s*\d+\s*—", last)) == (choice == "numbered"), last
    context = document_context(doc)
    assert sum("section_break" in b for b in context["blocks"]) == 1
    # unnumbered: the last section's footers are the empty first-page one; numbered: odd/even
    assert context["bare_last"] == (choice == "unnumbered")
    assert context["last_section"]["title_page"] is False
    assert not fit.ending(_request(settings, 5)).imprint_page
    assert '<div class="imprint-page">' not in pdf.render_html(_request(settings, 5))


def test_a_wrong_imprint_page_choice_is_refused_in_chinese(settings):
    settings = thaw(settings)
    settings["layout"]["page_number"]["imprint_page"] = "否"
    with pytest.raises(ValueError, match="page_number.imprint_page：版记单独成页时的页码应为"):
        fit.shared.imprint_page_numbered(settings["layout"])


def test_reports_with_tables_are_not_estimated(settings):
    doc = make_doc(settings, "request", body=FILLER, attachments=[])
    with_table = replace(doc, paragraphs=(TableBlock(sheet=None), Paragraph(0, "", FILLER * 20)))
    assert fit.ending(with_table) == fit.Ending()
    assert fit.ending(replace(doc, paragraphs=(Paragraph(0, "", FILLER * 20),))) != fit.Ending()


def test_a_heading_keeps_only_with_its_own_content_not_with_the_next_heading():
    # One-line items numbered as headings (“（一）按同类工程中标价重新测算管材费用。”) are kept
    # with what follows only when it is their content: a chain of siblings kept together moved
    # the 事前评估报告's whole last section and its signature onto a new page, leaving page 4
    # half empty, in the PDF and the docx alike.
    from generators.gongwen.model import parse_body

    body = parse_body("四、相关建议\n（一）重新测算管材费用。\n（二）据实调整受益人口目标。\n"
                      "（三）开工前完成征地协调。\n五、其他需要说明的问题\n无。\n六、附则\n（一）总体要求\n说明文字。")
    keeps = [p.keeps_with_next(28) for p in body]
    assert keeps == [True, False, False, False, True, False, True, True, False]
