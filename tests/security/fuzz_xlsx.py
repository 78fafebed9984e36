"""Hypothesis strategies that turn a real workbook into a hostile one, for tests/security/test_fuzz.py.

Three levels, each starting from a file jxdoc itself produced or ships:

    cell_edits     what a clerk (or a script) can type: text with control characters (written as
                   Excel's _xHHHH_ escapes, which openpyxl cannot store raw), formulas, text that
                   looks like a formula or a number (“NaN”, “1e309”, “１２３”), huge and non-finite
                   numbers, dates, times, booleans, blanks — at cells of the used range
    part_edits     what a damaged or crafted file holds: an XML part with a slice deleted,
                   duplicated or replaced by markup fragments (cells of every type with values that
                   do not fit it, a DOCTYPE, references beyond XFD, broken entities), or a part
                   dropped — re-zipped, so the zip itself is sound
    byte_edits     what a truncated or corrupted upload is: bytes flipped, inserted or cut anywhere
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell

FORMULAS = ["=1+1", "=SUM(A1:A3)", "=A1", "=1/0", "==", '=HYPERLINK("http://example.invalid","x")',
            "=cmd|' /C calc'!A0", "=INDIRECT(\"A1\")", "+1+1", "-1+1", "@SUM(1)"]
TRICKY_TEXT = ["NaN", "nan", "-NaN", "Infinity", "-inf", "1e309", "-1e309", "1E-400", "0x1F", "1_000",
               "１２３", "１２３．４５", "1,234.567", "1，234.5", "-0", "+0.00", "—", "-", "－", "%", "12%", "12％",
               "2024年2月30日", "2024-13-01", "0000-00-00", "9999年99月99日", "\u200b", "\ufeff", " ", "\t",
               "_x0000_", "_x001F_", "_xD800_", "=", "≥", "≤90%", "定性", "确定能", "\U0001f600", "A" * 600,
               "中" * 2100]

def _escaped(text: str) -> str:
    """Characters openpyxl refuses to store, as Excel writes them (_x0001_)."""
    return ILLEGAL_CHARACTERS_RE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


cell_values = st.one_of(
    st.none(),
    st.text(max_size=40).map(lambda t: ("text", _escaped(t))),
    st.sampled_from(TRICKY_TEXT).map(lambda t: ("text", t)),
    st.sampled_from(FORMULAS).map(lambda t: ("formula", t)),
    st.sampled_from(FORMULAS).map(lambda t: ("text", t)),  # typed as text: not a formula
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False).filter(lambda d: abs(d.adjusted()) < 300),
    st.dates(min_value=dt.date(1900, 3, 1)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1)),
    st.times(),
    st.booleans(),
)


@st.composite
def cell_edits(draw, shape: dict[str, tuple[int, int]], max_edits: int = 8) -> list[tuple[str, int, int, object]]:
    """[(sheet, row, column, value)] within each sheet's used range plus one row and column."""
    sheets = sorted(shape)
    edits = []
    for _ in range(draw(st.integers(1, max_edits))):
        sheet = draw(st.sampled_from(sheets))
        rows, cols = shape[sheet]
        edits.append((sheet, draw(st.integers(1, rows + 1)), draw(st.integers(1, cols + 1)), draw(cell_values)))
    return edits


def workbook_shape(data: bytes) -> dict[str, tuple[int, int]]:
    book = load_workbook(io.BytesIO(data))
    try:
        return {ws.title: (ws.max_row, ws.max_column) for ws in book.worksheets}
    finally:
        book.close()


def apply_cell_edits(data: bytes, edits) -> bytes:
    book = load_workbook(io.BytesIO(data))
    for sheet, row, col, value in edits:
        cell = book[sheet].cell(row=row, column=col)
        if isinstance(cell, MergedCell):
            continue  # the inside of a merged range holds no value of its own
        if isinstance(value, tuple):
            how, text = value
            cell.value = text
            if how == "text" and text.startswith("="):
                cell.data_type = "s"
        elif isinstance(value, Decimal):
            cell.value = float(value)
        else:
            cell.value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- package level -------------------------------------------------------------------------------

FRAGMENTS = [
    b"", b"<", b">", b'"', b"&", b"&amp", b"&#0;", b"&#x1;", b"&bogus;", b"]]>", b"<![CDATA[x]]>",
    b'<!DOCTYPE x [<!ENTITY a "aaaa">]>', b"<?xml version='1.0' encoding='utf-7'?>",
    b'<c r="A1" t="n"><v>abc</v></c>', b'<c r="A1" t="s"><v>99999</v></c>', b'<c r="A1" t="s"><v>-1</v></c>',
    b'<c r="A1" t="d"><v>not a date</v></c>', b'<c r="A1" t="b"><v>2</v></c>', b'<c r="A1" t="e"><v>#N/A</v></c>',
    b'<c r="A1" t="str"><v></v></c>', b'<c r="A1"><f>1+1</f><v>2</v></c>', b'<c r="A1" s="9999"><v>1</v></c>',
    b'<c r="A1"><v>1e999</v></c>', b'<c r="A1"><v>nan</v></c>', b'<c r="ZZZZ1"><v>1</v></c>',
    b'<c r="XFD1048576"><v>1</v></c>', b'<c r="A0"><v>1</v></c>', b'<c r="1A"><v>1</v></c>', b'<c><v>1</v></c>',
    b'<row r="0">', b'<row r="-5">', b'<row r="99999999">', b'<row r="abc">', b'<dimension ref="A1:XFD1048576"/>',
    b'<dimension ref="garbage"/>', b'<mergeCell ref="A1:ZZZZ9"/>', b'<mergeCell ref="B2:A1"/>',
    b'<sheet name="x" sheetId="1" r:id="rId99"/>', b'state="hidden"', b'state="veryHidden"',
    b'<si><t>\xff\xfe</t></si>', b"\x00", b"\xe4\xb8", b"\xef\xbb\xbf",
]

part_edit = st.one_of(
    st.tuples(st.just("drop")),
    st.tuples(st.just("splice"), st.floats(0, 1), st.integers(0, 200), st.sampled_from(FRAGMENTS)),
    st.tuples(st.just("splice"), st.floats(0, 1), st.integers(0, 50), st.binary(max_size=20)),
    st.tuples(st.just("duplicate"), st.floats(0, 1), st.integers(1, 400)),
)


@st.composite
def part_edits(draw, names: list[str], max_edits: int = 3) -> list[tuple[str, tuple]]:
    return [(draw(st.sampled_from(names)), draw(part_edit)) for _ in range(draw(st.integers(1, max_edits)))]


def package_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def apply_part_edits(data: bytes, edits) -> bytes:
    parts = package_parts(data)
    for name, edit in edits:
        if name not in parts:
            continue
        content = parts[name]
        if edit[0] == "drop":
            del parts[name]
            continue
        at = int(edit[1] * len(content))
        if edit[0] == "splice":
            content = content[:at] + edit[3] + content[at + edit[2]:]
        else:  # duplicate a slice in place
            content = content[:at + edit[2]] + content[at:]
        parts[name] = content
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


byte_edit = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.floats(0, 1), st.integers(1, 4096)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("truncate"), st.floats(0, 1)),
)


def apply_byte_edits(data: bytes, edits) -> bytes:
    buf = bytearray(data)
    for edit in edits:
        at = min(int(edit[1] * len(buf)), max(len(buf) - 1, 0))
        if not buf:
            break
        if edit[0] == "flip":
            buf[at] ^= edit[2]
        elif edit[0] == "cut":
            del buf[at:at + edit[2]]
        elif edit[0] == "insert":
            buf[at:at] = edit[2]
        else:
            del buf[at:]
    return bytes(buf)
