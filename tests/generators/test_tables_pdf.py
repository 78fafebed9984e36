"""PDF rendering of the grid model: extracted text, page geometry, repeated headers, fonts."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from lxml import html as lxml_html
from pypdf import PdfReader

from bench.tables import big_sheet
from generators import pdf as pdfkit
from generators.grid import Cell, Column, Sheet, Workbook
from generators.tables.pdf import render_html, render_pdf
from tests.generators.tables_sample import HYPERLINK, INJECTIONS, self_evaluation_workbook

A4_SHORT, A4_LONG = 595.28, 841.89


def pdftotext(data: bytes, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def pages_text(data: bytes) -> list[str]:
    return pdftotext(data, "-layout").split("\f")[:-1]


@pytest.fixture(scope="module")
def data():
    return render_pdf(self_evaluation_workbook())


@pytest.fixture(scope="module")
def pages(data):
    return pages_text(data)


def assert_in_order(text: str, items: list[str]) -> None:
    pos = 0
    for item in items:
        found = text.find(item, pos)
        assert found >= 0, f"{item!r} missing after position {pos}"
        pos = found + len(item)


def test_captions_and_values_in_reading_order(pages):
    assert len(pages) == 2
    assert_in_order(pages[0], [
        "项目支出绩效自评表", "（2024年度）", "填报单位：江夏市教育局", "单位：万元",
        "项目名称", "农村义务教育学生营养改善计划", "主管部门", "江夏市教育局", "实施单位", HYPERLINK,
        "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分",
        "年度资金总额", "1,200.00", "1,250.50", "1,187.30", "10.00", "94.95%", "9.49",
        "其中：当年财政拨款", "1,000.00", "1,000.00", "980.25", "—", "98.03%", "—",
        "预期目标", "实际完成情况", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值",
        "受益学生人数", "≥12000人", "12350人", "20.00", "20.00",
        "资金拨付及时率", "≥95%", "90%", "15.00", "12.50", "@SUM(A1)",
        "学生家长满意度", "≥90%", "93.17%",
        "总分", "100.00", "93.99", "填报日期", "2024年7月1日", "受益人数", "12350",
        "填报说明：金额单位为万元", "填报人：王明",
    ])
    assert_in_order(pages[1], ["项目资金明细表", "资金来源", "金额", "占比", "财政拨款", "1,000.00", "80.00%",
                               "其他资金", "250.50", "20.00%"])


def test_user_text_is_text(pages):
    assert INJECTIONS["indicators.3.deviation"] in pages[0]  # "-2+3 <b>&amp;</b>" literally
    assert "＋1 超额完成" in pages[0]


def test_page_sizes_follow_each_sheet(data):
    reader = PdfReader(io.BytesIO(data))
    sizes = [(round(float(p.mediabox.width), 1), round(float(p.mediabox.height), 1)) for p in reader.pages]
    assert sizes == [(round(A4_LONG, 1), round(A4_SHORT, 1)), (round(A4_SHORT, 1), round(A4_LONG, 1))]
    assert reader.metadata.title == "农村义务教育学生营养改善计划绩效自评表"


def test_page_numbers(pages):
    for number, page in enumerate(pages, start=1):
        assert re.search(rf"—\s*{number}\s*—", page)


def test_fonts_are_the_mapped_cjk_faces(data):
    reader = PdfReader(io.BytesIO(data))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    joined = " ".join(names)
    assert "Fandol" in joined  # 仿宋_GB2312 → FandolFang (body)
    assert "Noto-Sans-CJK-SC" in joined  # 黑体 → Noto Sans CJK SC (header cells)
    assert "Noto-Serif-CJK-SC-Bold" in joined  # 方正小标宋简体 (title) → Noto Serif CJK SC Bold
    assert "KaitiM" in joined  # 楷体_GB2312 (subtitles) → AR PL KaitiM GB


def test_header_rows_repeat_on_every_page():
    sheet = big_sheet(30)
    data = render_pdf(Workbook(title="汇总", sheets=[sheet]))
    pages = pages_text(data)
    assert len(pages) >= 3
    for page in pages:
        assert_in_order(page, ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "得分", "偏差原因"])
    assert "部门项目支出绩效自评汇总表" in pages[0]
    assert all("部门项目支出绩效自评汇总表" not in p for p in pages[1:])  # the title is not a header row
    assert "第30单位" in pages[-1]
    units = [int(n) for n in re.findall(r"第(\d+)单位", "".join(pages))]
    assert units == list(range(1, 31))  # every unit once, in order


def test_a_span_crossing_from_head_into_body_is_continued():
    sheet = Sheet(name="表", columns=[Column(10), Column(10), Column(10)], header_rows=1)
    sheet.add(Cell("跨行表头", "header", rowspan=2), Cell("甲", "header"), Cell("乙", "header"))
    sheet.add(Cell("1", "text"), Cell("2", "text"))
    doc = lxml_html.fromstring(render_html(Workbook(title="t", sheets=[sheet])))
    head = doc.xpath("//table[@class='grid']/thead/tr")
    body = doc.xpath("//table[@class='grid']/tbody/tr")
    assert [(c.tag, c.get("rowspan"), c.text) for c in head[0]] == [("th", None, "跨行表头"), ("th", None, "甲"), ("th", None, "乙")]
    assert [(c.get("class"), c.text) for c in body[0]] == [("cont", None), ("l", "1"), ("l", "2")]
    assert_in_order(pages_text(render_pdf(Workbook(title="t", sheets=[sheet])))[0], ["跨行表头", "甲", "乙", "1", "2"])


def test_rowspans_and_colspans_in_the_html():
    doc = lxml_html.fromstring(render_html(self_evaluation_workbook()))
    cells = {c.text_content(): c for c in doc.xpath("//table[@class='grid']//*[self::td or self::th]")}
    assert cells["项目资金（万元）"].get("rowspan") == "5"
    assert cells["绩效指标"].get("rowspan") == "7"
    assert cells["农村义务教育学生营养改善计划"].get("colspan") == "8"
    assert cells["总分"].get("colspan") == "6"
    assert cells["年初预算数"].tag == "th"
    thead = doc.xpath("//section[1]//thead/tr")
    assert len(thead) == 2 and thead[0][0].text == "项目名称"


def test_markup_in_values_is_escaped_and_nothing_is_fetched():
    sheet = Sheet(name="表", columns=[Column(20)], notes=['<link rel="attachment" href="file:///etc/passwd">'])
    sheet.add(Cell('<img src="file:///etc/passwd"><script>x</script>', "text"))
    fetcher = pdfkit.SafeURLFetcher()
    data = render_pdf(Workbook(title="<b>t</b>", sheets=[sheet]), url_fetcher=fetcher)
    text = pdftotext(data)
    assert '<img src="file:///etc/passwd"><script>x</script>' in text
    assert '<link rel="attachment"' in text
    assert fetcher.requested == []


def test_a_table_broken_across_pages_is_closed_and_reopened():
    """A grid without header rows that runs onto a second page inside a merged cell (a group of
    rows under one 类别) is closed by a rule across its whole width under the last row on the
    first page, and opened by one over the first row on the next; rows are not split."""
    from tests import raster

    sheet = Sheet(name="长表", columns=[Column(10), Column(10), Column(30), Column(12)])
    for n in range(1, 61):
        group = [Cell(f"第{(n - 1) // 30 + 1}类", "text", rowspan=30)] if n % 30 == 1 else []
        sheet.add(*group, Cell(f"{n}", "text"), Cell(f"第{n}项工作完成情况说明", "text"), Cell(f"{n}.00", "number"))
    data = render_pdf(Workbook(title="长表", sheets=[sheet]))
    shots = raster.pages(data)
    assert len(shots) >= 2
    first, second = shots[0], shots[1]
    full = first.dark(min(first.rules(0.3)))  # the table's top rule: its whole width
    bottom = max(first.rules(0.3))
    assert first.dark(bottom) >= full - 2  # the last rule on the page spans the merged cell too
    margin = 18 * 72 / 25.4  # the bottom margin, where the page number is, in pixels
    assert max(first.inked(0, int(first.height - margin))) <= bottom + 1  # nothing of the table below it
    top = min(second.rules(0.3))
    assert second.dark(top) >= full - 2 and min(second.inked(0, second.height)) >= top - 1
    texts = pages_text(data)
    numbers = [int(n) for t in texts for n in re.findall(r"第(\d+)项", t)]
    assert numbers == list(range(1, 61))  # every row whole, on one page, in order
