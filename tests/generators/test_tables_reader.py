"""The hardened xlsx reader: round trips, refusals of hostile packages, cell errors in Chinese."""

from __future__ import annotations

import datetime as dt
import io
import struct
import time
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from generators.grid import Cell, Column, Sheet, Workbook
from generators.tables.reader import (
    CellError,
    Limits,
    Messages,
    XlsxImportError,
    inspect_package,
    read_grid,
    read_workbook,
)
from generators.tables.xlsx import render_xlsx
from rules.rounding import quantize
from tests.generators.tables_sample import INJECTIONS, self_evaluation_workbook


@pytest.fixture(scope="module")
def book():
    return self_evaluation_workbook()


@pytest.fixture(scope="module")
def data(book):
    return render_xlsx(book)


def replace_part(data: bytes, name: str, content: bytes) -> bytes:
    """The package with one member replaced (or added)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info.filename, src.read(info.filename))
        dst.writestr(name, content)
    return out.getvalue()


def part(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(name)


def expected_keys(sheet: Sheet) -> dict:
    """What read_grid must return: each keyed cell's model value in the kind's import form."""
    out = {}
    for _r, _c, cell in sheet.placed():
        if cell.key is None:
            continue
        v = cell.value
        if cell.kind in ("money", "score") and isinstance(v, Decimal):
            v = quantize(v, 2)
        elif isinstance(v, str) and not v.strip():
            v = None
        out[cell.key] = v
    return out


def openpyxl_book(rows: list[list], title: str = "监控表") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- round trips ---------------------------------------------------------------------------------

def test_read_grid_round_trips_every_keyed_cell(book, data):
    for sheet in book.sheets:
        assert read_grid(data, sheet) == expected_keys(sheet)


def test_round_trip_keeps_formula_like_text_exactly(book, data):
    values = read_grid(data, book.sheets[0])
    for key, text in INJECTIONS.items():
        assert values[key] == text
    assert values["filled_on"] == dt.date(2024, 7, 1)
    assert values["beneficiaries"] == 12350 and isinstance(values["beneficiaries"], int)
    assert values["funds.total.adjusted"] == Decimal("1250.50")
    assert str(values["funds.total.adjusted"]) == "1250.50"


def test_read_workbook_returns_visible_sheets_as_rows(data):
    sheets = read_workbook(data)
    assert list(sheets) == ["自评表", "资金明细"]  # the hidden list sheet is not read
    rows = sheets["自评表"]
    assert rows[0][0] == "项目支出绩效自评表"
    assert rows[6][:4] == [None, "年度资金总额", None, Decimal("1200.0")]
    assert rows[6][7] == Decimal("0.9495")
    assert rows[4][5] == INJECTIONS["implementer"]
    assert len(rows) == 23 and all(len(r) == 9 for r in rows)
    assert "下拉选项" in read_workbook(data, include_hidden=True)


def test_filled_form_values_are_converted_by_kind(book, data):
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["自评表"]
    ws["D7"] = 1234.56          # money typed as a float
    ws["E7"] = "2,000.5"        # money typed as text
    ws["B21"] = dt.datetime(2024, 8, 2)
    ws["F21"] = 12000.0
    out = io.BytesIO()
    wb.save(out)
    values = read_grid(out.getvalue(), book.sheets[0])
    assert values["funds.total.initial"] == Decimal("1234.56") and str(values["funds.total.initial"]) == "1234.56"
    assert values["funds.total.adjusted"] == Decimal("2000.50")
    assert values["filled_on"] == dt.date(2024, 8, 2)
    assert values["beneficiaries"] == 12000 and isinstance(values["beneficiaries"], int)


# --- cell errors ---------------------------------------------------------------------------------

def test_cell_errors_name_sheet_row_and_column(book, data):
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["自评表"]
    ws["D8"] = 1000.001
    ws["F7"] = 12.345
    ws["B4"] = "=1+1"           # openpyxl stores this as a formula
    ws["D7"] = "一千二"
    ws["B21"] = "七月一日"
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(XlsxImportError) as caught:
        read_grid(out.getvalue(), book.sheets[0])
    assert caught.value.messages == [
        "工作表“自评表”第4行B列：该单元格是公式，请改为填写数值。",
        "工作表“自评表”第7行D列：请填写数值。",
        "工作表“自评表”第7行F列：金额最多保留两位小数。",
        "工作表“自评表”第8行D列：金额最多保留两位小数。",
        "工作表“自评表”第21行B列：请填写日期，如2024年7月1日。",
    ]
    assert caught.value.errors[0] == CellError("自评表", 4, "B", Messages.formula)


def test_formula_is_refused_not_its_cached_value():
    data = openpyxl_book([["项目", "金额"], ["甲", 1], ["乙", 2], *[[None, None]] * 8, [None, None, "=SUM(B2:B3)"]])
    with pytest.raises(XlsxImportError) as caught:
        read_workbook(data)
    assert caught.value.messages == ["工作表“监控表”第12行C列：该单元格是公式，请改为填写数值。"]


@pytest.mark.parametrize("value, expected", [
    (0.1, Decimal("0.10")),
    (1234.5, Decimal("1234.50")),
    (42948.3, Decimal("42948.30")),
    (99999999999.99, Decimal("99999999999.99")),
    (7, Decimal("7.00")),
    ("1,234.56", Decimal("1234.56")),
    (None, None),
])
def test_money_cells_are_exact_decimals(value, expected):
    data = openpyxl_book([["金额"], [value]])
    rows = read_workbook(data, money=lambda sheet, row, col: row > 1)["监控表"]
    got = rows[1][0] if len(rows) > 1 else None
    assert got == expected and (got is None or str(got) == str(expected))


@pytest.mark.parametrize("value, message", [
    (0.125, Messages.money_places),
    (1.005, Messages.money_places),
    ("12.345", Messages.money_places),
    ("约100", Messages.not_number),
])
def test_money_cells_refuse_more_than_two_decimals(value, message):
    data = openpyxl_book([["金额"], [value]])
    with pytest.raises(XlsxImportError) as caught:
        read_workbook(data, money=lambda sheet, row, col: row > 1)
    assert caught.value.messages == [f"工作表“监控表”第2行A列：{message}"]


def test_binary_noise_of_excel_is_refused_as_money():
    # Excel writes 17 significant digits: 0.1+0.2 is stored as 0.30000000000000004
    data = openpyxl_book([["金额"], [1]])
    sheet = part(data, "xl/worksheets/sheet1.xml").replace(b"<v>1</v>", b"<v>0.30000000000000004</v>")
    with pytest.raises(XlsxImportError) as caught:
        read_workbook(replace_part(data, "xl/worksheets/sheet1.xml", sheet), money=lambda s, r, c: r == 2)
    assert caught.value.messages == ["工作表“监控表”第2行A列：金额最多保留两位小数。"]


def test_error_values_and_booleans_are_cell_errors():
    data = openpyxl_book([["#DIV/0!", True]])
    with pytest.raises(XlsxImportError) as caught:
        read_workbook(data)
    assert caught.value.messages == ["工作表“监控表”第1行A列：单元格是错误值#DIV/0!，请改为填写数值或文字。",
                                     "工作表“监控表”第1行B列：请填写文字或数值，不要填写逻辑值。"]


def test_inserted_row_is_caught_by_the_layout_check(book, data):
    wb = openpyxl.load_workbook(io.BytesIO(data))
    wb["自评表"].insert_rows(6)
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(XlsxImportError) as caught:
        read_grid(out.getvalue(), book.sheets[0])
    assert caught.value.messages[0].startswith("工作表“自评表”第6行A列：此处应为“项目资金（万元）”，实际为“”")


def test_missing_sheet():
    sheet = Sheet(name="申报表", columns=[Column(10)])
    sheet.add(Cell("x", "text", key="x"))
    with pytest.raises(XlsxImportError, match="找不到工作表“申报表”"):
        read_grid(openpyxl_book([["x"]]), sheet)


def test_error_list_is_capped():
    data = openpyxl_book([[f"=A{i}"] for i in range(2, 300)])
    with pytest.raises(XlsxImportError) as caught:
        read_workbook(data, limits=Limits(max_errors=10))
    assert len(caught.value.errors) == 10
    assert "仅列出前10处" in caught.value.message


# --- refusals of the package ---------------------------------------------------------------------

def test_refuses_files_over_max_bytes(data):
    with pytest.raises(XlsxImportError, match="超过了"):
        read_workbook(data, max_bytes=len(data) - 1)


@pytest.mark.parametrize("blob, message", [
    (b"", Messages.empty),
    (b"not a zip at all" * 10, Messages.not_xlsx),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, Messages.ole),
])
def test_refuses_what_is_not_an_xlsx(blob, message):
    with pytest.raises(XlsxImportError) as caught:
        read_workbook(blob)
    assert caught.value.messages == [message]


def test_refuses_a_zip_bomb_from_the_central_directory(data):
    bomb = replace_part(data, "xl/worksheets/sheet1.xml", b"\0" * (100 * 1024 * 1024))
    assert len(bomb) < 1024 * 1024  # 100 MB of zeros deflate to about 100 KB
    start = time.perf_counter()
    with pytest.raises(XlsxImportError, match="解压后过大"):
        read_workbook(bomb)
    assert time.perf_counter() - start < 1  # refused before anything is inflated


def test_refuses_a_bomb_whose_directory_lies_about_the_size(data):
    big = replace_part(data, "xl/worksheets/sheet1.xml", b"<a>" + b" " * (30 * 1024 * 1024) + b"</a>")
    # patch the central directory's uncompressed size of that member down to 1 KB
    with zipfile.ZipFile(io.BytesIO(big)) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    blob = bytearray(big)
    pos = 0
    while True:
        pos = blob.index(b"PK\x01\x02", pos)
        name_len = struct.unpack_from("<H", blob, pos + 28)[0]
        if blob[pos + 46:pos + 46 + name_len] == info.filename.encode():
            struct.pack_into("<I", blob, pos + 24, 1024)
            break
        pos += 4
    with pytest.raises(XlsxImportError):
        read_workbook(bytes(blob))


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE worksheet [\n<!ENTITY a "aaaaaaaaaa">\n'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">\n'
    b'<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">\n]>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>&d;</t></is></c></row></sheetData></worksheet>'
)


@pytest.mark.parametrize("name, content", [
    ("xl/worksheets/sheet1.xml", BILLION_LAUGHS),
    ("xl/worksheets/sheet1.xml", BILLION_LAUGHS.decode().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
     .encode("utf-16")),
    ("xl/workbook.xml", b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>'),
    ("[Content_Types].xml", b'<!DOCTYPE Types [<!ENTITY e SYSTEM "http://169.254.169.254/">]><Types>&e;</Types>'),
    ("xl/styles.xml", b'<?xml version="1.0"?>\n<!DOCTYPE s [<!ENTITY % p SYSTEM "http://x/">%p;]><s/>'),
])
def test_refuses_doctype_and_entities_in_any_part(data, name, content):
    with pytest.raises(XlsxImportError) as caught:
        read_workbook(replace_part(data, name, content))
    assert caught.value.messages == [Messages.dtd.format(part=name)]


def dimension_sheet(dimension: str, rows: int, cols: int = 3, start: int = 1) -> bytes:
    body = b"".join(
        b'<row r="%d">' % r + b"".join(b'<c r="%s%d"><v>1</v></c>' % (openpyxl.utils.get_column_letter(c).encode(), r)
                                       for c in range(1, cols + 1)) + b"</row>"
        for r in range(start, start + rows))
    return (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<dimension ref="%s"/><sheetData>' % dimension.encode() + body + b"</sheetData></worksheet>")


def test_refuses_a_sheet_claiming_the_whole_grid_without_laying_it_out(data):
    hostile = replace_part(data, "xl/worksheets/sheet1.xml", dimension_sheet("A1:XFD1048576", rows=20000))
    start = time.perf_counter()
    with pytest.raises(XlsxImportError) as caught:
        read_workbook(hostile, max_rows=1000, max_cols=50)
    assert time.perf_counter() - start < 2
    assert caught.value.messages == [
        "工作表“自评表”声明的区域为A1:XFD1048576，超过导入上限（1000行×50列）。请删除多余的行列后再导入。"]


def test_refuses_rows_beyond_the_bound_even_with_an_honest_looking_dimension(data):
    hostile = replace_part(data, "xl/worksheets/sheet1.xml", dimension_sheet("A1:C3", rows=5000))
    with pytest.raises(XlsxImportError) as caught:
        read_workbook(hostile, max_rows=1000)
    assert caught.value.messages == ["工作表“自评表”超过1000行的导入上限。请删除多余的行或拆分后再导入。"]


def test_refuses_one_far_away_row_without_yielding_the_gap(data):
    hostile = replace_part(data, "xl/worksheets/sheet1.xml", dimension_sheet("A1:C1", rows=1, start=1_000_000))
    start = time.perf_counter()
    with pytest.raises(XlsxImportError, match="超过1000行"):
        read_workbook(hostile, max_rows=1000)
    assert time.perf_counter() - start < 1


def test_refuses_columns_beyond_the_bound(data):
    hostile = replace_part(data, "xl/worksheets/sheet1.xml", dimension_sheet("A1:C2", rows=2, cols=78))
    with pytest.raises(XlsxImportError, match="超过50列"):
        read_workbook(hostile, max_cols=50)


def test_refuses_damaged_parts(data):
    with pytest.raises(XlsxImportError, match="文件内容已损坏（xl/worksheets/sheet1.xml）"):
        read_workbook(replace_part(data, "xl/worksheets/sheet1.xml", b"<worksheet><sheetData>"))


def test_refuses_an_extreme_compression_ratio(data):
    # 5 MB of one repeated row deflates several hundred times; within the absolute cap, above the ratio
    row = b'<row><c t="inlineStr"><is><t>a</t></is></c></row>'
    sheet = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             + row * (5 * 1024 * 1024 // len(row)) + b"</sheetData></worksheet>")
    with pytest.raises(XlsxImportError, match="压缩比异常"):
        inspect_package(replace_part(data, "xl/worksheets/sheet1.xml", sheet), Limits(max_rows=10**6))


def test_a_workbook_written_by_openpyxl_itself_passes_the_scan():
    data = openpyxl_book([["项目", "金额"], ["甲", 1.5]])
    stats = inspect_package(data)
    assert stats["xl/worksheets/sheet1.xml"].rows == 2 and stats["xl/worksheets/sheet1.xml"].cols == 2


def test_renderer_output_round_trips_at_scale():
    from bench.tables import big_sheet
    sheet = big_sheet(200)
    data = render_xlsx(Workbook(title="汇总", sheets=[sheet]))
    values = read_grid(data, sheet, limits=Limits(max_rows=5000))
    assert values == expected_keys(sheet)
    assert len(values) == 200 * 8
