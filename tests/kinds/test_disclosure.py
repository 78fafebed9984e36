"""绩效信息公开: per-unit PDFs (fonts embedded, text extractable, outline, unit name and page
number on every page), excluded units in the index with their reason, the zip of a batch."""

from __future__ import annotations

import copy
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

import kinds
from forms.base import FieldErrors
from generators.disclosure import page_count, write_archive
from kinds import pipeline
from rules.settings import defaults

KIND = "disclosure"
SAMPLE = kinds.get(KIND).sample_dir / "water_bureau_2023.json"
REPORT_TITLE = "青溪县水利局2023年度部门整体支出绩效自评报告"
TABLE_TITLE = "项目支出绩效自评表（青溪县农村饮水安全巩固提升工程）"


def sample() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pdf_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("disclosure") / "unit.pdf"
    path.write_bytes(pipeline.produce(KIND, sample(), "pdf").content)
    return path


def pdftotext(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", *pages, str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def fonts(path: Path) -> list[list[str]]:
    """pdffonts rows: name, type…, emb, sub, uni (the last columns before the object id)."""
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


def test_every_font_is_embedded(pdf_path):
    rows = fonts(pdf_path)
    assert rows
    for row in rows:
        emb, sub, uni = row[-5], row[-4], row[-3]
        assert (emb, uni) == ("yes", "yes"), row
        assert sub == "yes", row  # subsets: a portal PDF carries only the glyphs it uses


def test_chinese_text_is_extractable(pdf_path):
    text = re.sub(r"\s", "", pdftotext(pdf_path))
    assert REPORT_TITLE in text
    assert "农村自来水普及率提高到93.5%" in text
    assert TABLE_TITLE in text
    assert "青溪县农村饮水安全巩固提升工程" in text


def test_unit_name_and_page_number_on_every_page(pdf_path):
    reader = PdfReader(pdf_path)
    total = len(reader.pages)
    assert total >= 2 and page_count(pdf_path.read_bytes()) == total
    for number in range(1, total + 1):
        text = re.sub(r"\s", "", pdftotext(pdf_path, number))
        assert "青溪县水利局" in text, number
        if number == 1:  # named once above the title (青溪县水利局2023年度…), not again in a header
            assert text.index(REPORT_TITLE) == len("青溪县水利局"), text[:60]
        # the footer reads “第 N 页　共 M 页”; pdftotext may emit its two halves apart
        assert f"第{number}页" in text and f"共{total}页" in text, number


def test_outline_has_a_bookmark_per_document_and_section(pdf_path):
    outline = PdfReader(pdf_path).outline
    top = [item for item in outline if not isinstance(item, list)]
    assert [b.title for b in top] == [REPORT_TITLE, TABLE_TITLE]
    sections = next(item for item in outline if isinstance(item, list))
    assert [b.title for b in sections][:2] == ["一、部门基本情况", "二、绩效自评工作开展情况"]
    reader = PdfReader(pdf_path)
    assert reader.get_destination_page_number(top[1]) >= 1  # the table starts on its own page


def test_excluded_unit_has_no_file():
    with pytest.raises(FieldErrors) as exc:
        pipeline.produce(KIND, {"year": 2023, "unit": "青溪县国家保密局", "excluded": True,
                                "exclusion_reason": "涉密"}, "pdf")
    assert exc.value.errors == {"excluded": ["该单位不予公开（涉密），不生成公开文件。"]}


def batch_units() -> list[dict]:
    settings = defaults()
    base = sample()
    units = []
    for i, name in enumerate(("青溪县水利局", "青溪县农业农村局", "青溪县林业局")):
        data = copy.deepcopy(base)
        data.update(unit=name, unit_code=f"31800{i + 1}")
        data["project_evaluations"] = data["project_evaluations"] * (i + 1)  # 1, 2 and 3 tables
        units.append(pipeline.validate(KIND, data, settings))
    units.insert(2, pipeline.validate(KIND, {"year": 2023, "unit": "青溪县国家保密局", "unit_code": "399001",
                                             "excluded": True, "exclusion_reason": "涉密"}, settings))
    return units


@pytest.mark.parametrize("processes", [1, 2])
def test_batch_zip_holds_the_pdfs_and_the_index(processes):
    buffer = io.BytesIO()
    rows = write_archive(batch_units(), buffer, defaults(), 2023, processes=processes)
    archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    names = archive.namelist()
    assert names == ["318001_青溪县水利局.pdf", "318002_青溪县农业农村局.pdf", "318003_青溪县林业局.pdf",
                     "目录.xlsx", "目录.html"]
    assert [r.unit for r in rows] == ["青溪县水利局", "青溪县农业农村局", "青溪县国家保密局", "青溪县林业局"]
    for row in rows:
        if row.published:
            assert len(PdfReader(io.BytesIO(archive.read(row.filename))).pages) == row.pages
    assert [len(r.documents) for r in rows] == [2, 3, 0, 4]  # the report and one entry per table

    sheet = load_workbook(io.BytesIO(archive.read("目录.xlsx"))).worksheets[0]
    table = [r for r in sheet.iter_rows(values_only=True)]
    header = table.index(next(r for r in table if r[0] == "序号"))
    body = table[header + 1:]
    assert [r[2] for r in body] == [r.unit for r in rows]
    secret = body[2]
    assert (secret[1], secret[3], secret[5], secret[6], secret[7]) == ("399001", "否", None, "", "涉密")
    assert body[0][5] == rows[0].pages and body[0][6] == "318001_青溪县水利局.pdf"
    assert "共4家单位，公开3家，不公开1家" in table[1][0]

    page = archive.read("目录.html").decode("utf-8")
    assert '<a href="318002_青溪县农业农村局.pdf">' in page
    assert "<td>青溪县国家保密局</td>" in page and "<td>涉密</td>" in page


def test_rendered_page_count_is_the_pdfs():
    """A batch records weasyprint's page count rather than parsing each PDF again."""
    from generators.disclosure import render_unit

    payload = sample()
    payload["project_evaluations"] = payload["project_evaluations"] * 2  # one more landscape table
    rendered = render_unit(pipeline.validate(KIND, payload, defaults()), defaults())
    assert rendered.pages == page_count(rendered.data) == len(PdfReader(io.BytesIO(rendered.data)).pages)
    assert rendered.pages > page_count(pipeline.produce(KIND, sample(), "pdf").content)


def test_tables_are_closed_and_reopened_at_page_breaks(pdf_path):
    """Where a 自评表 runs onto the next page (inside the merged 绩效指标 cells), the last rule of
    the one page and the first of the next cross the whole table; rows are never split."""
    from tests import raster

    pdf = pdf_path.read_bytes()
    shots = raster.pages(pdf)
    continued = 0
    for number, shot in enumerate(shots, start=1):
        rules = shot.rules(0.3)
        if not rules:
            continue  # a page of the report
        widest = max(shot.dark(y) for y in rules)
        assert shot.dark(min(rules)) >= widest - 2, f"第{number}页表格上端没有封闭"
        assert shot.dark(max(rules)) >= widest - 2, f"第{number}页表格下端没有封闭"
        if "自评表" not in pdftotext(pdf_path, number):
            continued += 1
    assert continued >= 1  # the sample's project table does run onto a second page
    # the row of 群众饮水安全保障水平 (three lines in its 实际完成值 cell) is on one page, whole
    pages = [pdftotext(pdf_path, n) for n in range(1, len(shots) + 1)]
    assert [n for n, text in enumerate(pages) if "季节性送水" in text] == [
        n for n, text in enumerate(pages) if "群众饮水安全保障水平\n" in text]


def test_every_page_of_a_table_has_its_column_captions(pdf_path):
    """A 自评表's indicators run onto the next page under their captions (一级指标…得分), as
    the form's own PDF repeats them (Sheet.captions)."""
    texts = [pdftotext(pdf_path, n) for n in range(1, page_count(pdf_path.read_bytes()) + 1)]
    tables = [t for t in texts if "偏差原因" in t]  # the pages of the 自评表s
    continued = [t for t in tables if TABLE_TITLE not in t]
    assert continued  # the sample's project table runs onto another page
    for text in continued:
        assert all(caption in text for caption in ("一级指标", "二级指标", "三级指标", "分值", "得分")), text[:200]
