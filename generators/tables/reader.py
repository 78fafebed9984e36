"""Hardened reading of uploaded .xlsx files (batch imports and filled-in blank forms).

An upload is untrusted bytes. Before openpyxl sees them, `inspect_package` checks, in order:

1. the size of the upload (`Limits.max_bytes`);
2. the zip central directory: member count, encryption, compression method, duplicate names, and
   the sum of the declared uncompressed sizes against an absolute cap and against
   `max_ratio` × the upload's size (zip bombs). zipfile never inflates a member beyond its
   declared size, so the declared sizes bound what any later reader can inflate;
3. every XML part, streamed through expat in 64 KiB pieces: a DOCTYPE or ENTITY declaration is
   refused the moment the parser meets it (before any entity could be defined, let alone
   expanded: billion laughs, external entities). Parsing, not searching for "<!DOCTYPE", so no
   encoding trick (UTF-16, a declared UTF-7) hides one;
4. in the same pass, each worksheet's claimed <dimension> and the row and column of every
   <row>/<c>: the scan stops at the first one beyond `max_rows`/`max_cols`, so a sheet claiming
   A1:XFD1048576 or holding a cell at row 1,000,000 is refused without ever being laid out;
5. and the shared strings: their number (each <si>, and the count the part claims) and the
   part's inflated size, which openpyxl would otherwise hold in memory whole before the first
   cell (a few MB of upload can hold millions of strings).

Then openpyxl reads in read-only mode, and only the rectangle the scan saw (openpyxl pads every
row to the claimed dimension, and yields every missing row up to a claimed one, if asked to read
an open range). Formulas are not trusted: the file is read with data_only=False and a formula
cell is an error for the clerk to replace by its value, never its cached result (which the
uploader controls). Floats from cells become Decimal(repr(float)) — the shortest repr is the
number Excel displays — and money with more than two decimals is refused, not rounded.

Errors name the sheet, the row and the column letter in Chinese:
    工作表“监控表”第12行C列：金额最多保留两位小数。
Cell errors are collected in one pass (up to Limits.max_errors) and raised together.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.parsers import expat

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from generators.grid import Sheet
from generators.tables import layout
from rules.formatting import chinese_date
from rules.rounding import AMOUNT_LIMIT

Value = str | Decimal | int | _dt.date | None

MiB = 1024 * 1024
CHUNK = 64 * 1024
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Limits:
    """What an upload may be. The defaults fit every form jxdoc produces with a wide margin."""

    max_bytes: int = 20 * MiB  # the upload itself
    max_uncompressed: int = 200 * MiB  # all parts inflated
    max_ratio: int = 100  # inflated ÷ upload; Excel's own files stay below 30
    max_members: int = 2000
    max_rows: int = 10_000
    max_cols: int = 200
    max_errors: int = 100  # cell errors reported before the reader stops collecting
    # openpyxl reads every shared string into a list before the first cell, as Python objects far
    # larger than the compressed upload (bench/FIGURES.md). A form has a
    # few hundred; 10,000 rows × 200 columns of distinct text would still be far below this.
    max_shared_strings: int = 100_000
    max_shared_strings_bytes: int = 16 * MiB  # the sharedStrings part inflated


class Messages:
    """Every user-facing message of the reader, in one place (marshmallow style)."""

    too_big = "文件大小为{size}，超过了{limit}的上限。请删除无关内容或拆分后再导入。"
    empty = "文件是空的，请选择填写好的 .xlsx 文件。"
    not_xlsx = "文件不是有效的 Excel（.xlsx）文件。请用 Excel 或 WPS 打开后另存为 .xlsx 再导入。"
    ole = "文件是旧版 .xls 格式或已加密。请取消密码，并用 Excel 或 WPS 另存为 .xlsx 后再导入。"
    encrypted = "文件已加密，请取消密码后再导入。"
    damaged = "文件内容已损坏（{part}），请用 Excel 或 WPS 重新保存后再导入。"
    too_many_parts = "文件包含的部件过多（{count}个），已拒绝导入。请用 Excel 或 WPS 重新保存后再导入。"
    bomb = "文件解压后过大（{size}，压缩比异常），已拒绝导入。请删除无关内容，用 Excel 或 WPS 重新保存后再导入。"
    dtd = "文件中含有不允许的 XML 声明（DOCTYPE/ENTITY，位于{part}），已拒绝导入。请用 Excel 或 WPS 重新保存后再导入。"
    dimension = "工作表“{sheet}”声明的区域为{ref}，超过导入上限（{rows}行×{cols}列）。请删除多余的行列后再导入。"
    too_many_rows = "工作表“{sheet}”超过{rows}行的导入上限。请删除多余的行或拆分后再导入。"
    too_many_cols = "工作表“{sheet}”超过{cols}列的导入上限。请删除多余的列后再导入。"
    shared_strings = ("文件中的共享字符串（不同的文字）过多（超过{count}个或{size}），已拒绝导入。"
                      "请删除无关内容，用 Excel 或 WPS 重新保存后再导入。")
    missing_sheet = "找不到工作表“{sheet}”。请使用系统下载的空白表填写，不要修改工作表名称。"
    too_many_errors = "错误较多，仅列出前{count}处。"
    cell_errors = "文件中有{count}处错误。"
    # cell messages (prefixed with 工作表“…”第N行X列：)
    formula = "该单元格是公式，请改为填写数值。"
    error_value = "单元格是错误值{value}，请改为填写数值或文字。"
    boolean = "请填写文字或数值，不要填写逻辑值。"
    not_number = "请填写数值。"
    money_places = "金额最多保留两位小数。"
    money_too_large = "金额过大（不能超过10万亿）。"
    number_too_large = "数值过大，请核对。"
    score_places = "分值最多保留两位小数。"
    not_date = "请填写日期，如2024年7月1日。"
    datetime = "请只填写日期，不要填写时间。"
    layout = "此处应为“{expected}”，实际为“{actual}”。请使用系统下载的空白表填写，不要增删行列。"


@dataclass(frozen=True)
class CellError:
    sheet: str
    row: int  # 1-based, as Excel shows it
    column: str  # column letter
    message: str

    def __str__(self) -> str:
        return f"工作表“{self.sheet}”第{self.row}行{self.column}列：{self.message}"


class XlsxImportError(ValueError):
    """An upload refused as a whole (`message`) or for cell errors (`errors`). The service maps it
    to HTTP 400 with `messages` as the error list."""

    def __init__(self, message: str | None = None, errors: list[CellError] | None = None):
        self.errors = list(errors or [])
        self.message = message or Messages.cell_errors.format(count=len(self.errors))
        super().__init__(self.message if not self.errors else "\n".join([self.message, *map(str, self.errors)]))

    @property
    def messages(self) -> list[str]:
        return [str(e) for e in self.errors] if self.errors else [self.message]


# --- the package scan ----------------------------------------------------------------------------

@dataclass
class PartStats:
    """What the scan saw of a worksheet part."""

    rows: int = 0  # highest row index met
    cols: int = 0  # highest column index met
    dimension: str | None = None
    exceeded: tuple[str, str] | None = None  # (message name, detail) when the scan stopped early


class _Refused(Exception):
    pass


class _Stop(Exception):
    """Raised inside expat handlers to stop scanning a worksheet at the bound."""


_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")


def _parse_ref(ref: str) -> tuple[int, int] | None:
    """(row, column) of "C12"; None when it is not a cell reference."""
    m = _REF.match(ref.strip())
    if not m:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def _size_text(n: int) -> str:
    return f"{n / MiB:.1f} MB" if n >= MiB / 10 else f"{max(n // 1024, 1)} KB"


def _looks_like_xml(head: bytes) -> bool:
    """Whether a member is XML (so a parser would read it) rather than an image or binary."""
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00<", b"<\x00")):
        return True
    return head.lstrip(b" \t\r\n").startswith(b"<")


def inspect_package(data: bytes, limits: Limits = Limits()) -> dict[str, PartStats]:
    """Checks 1–4 of the module docstring; the worksheet statistics by part name."""
    if not data:
        raise XlsxImportError(Messages.empty)
    if len(data) > limits.max_bytes:
        raise XlsxImportError(Messages.too_big.format(size=_size_text(len(data)), limit=_size_text(limits.max_bytes)))
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE: .xls, or an encrypted .xlsx
        raise XlsxImportError(Messages.ole)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise XlsxImportError(Messages.not_xlsx) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise XlsxImportError(Messages.too_many_parts.format(count=len(infos)))
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            raise XlsxImportError(Messages.damaged.format(part="重复的部件"))
        declared = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise XlsxImportError(Messages.encrypted)
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise XlsxImportError(Messages.damaged.format(part=info.filename))
            declared += info.file_size
        if declared > limits.max_uncompressed or declared > limits.max_ratio * len(data):
            raise XlsxImportError(Messages.bomb.format(size=_size_text(declared)))
        if "[Content_Types].xml" not in names:
            raise XlsxImportError(Messages.not_xlsx)
        stats: dict[str, PartStats] = {}
        for info in infos:
            if info.is_dir():
                continue
            part = _scan_part(archive, info, limits)
            if part is not None:
                stats[info.filename] = part
    return stats


def _scan_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> PartStats | None:
    """Stream one member through expat. PartStats for a worksheet, None for other parts."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_args):
        raise _Refused(info.filename)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse

    state = {"root": None, "row": 0, "col": 0, "strings": 0}
    stats = PartStats()

    def too_many_strings() -> XlsxImportError:
        return XlsxImportError(Messages.shared_strings.format(count=limits.max_shared_strings,
                                                              size=_size_text(limits.max_shared_strings_bytes)))

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(" ", 1)[-1]
        if state["root"] is None:
            state["root"] = local
            if local == "sst":
                claimed = max((int(v) for k, v in attrs.items() if k in ("count", "uniqueCount") and v.isdigit()),
                              default=0)
                if claimed > limits.max_shared_strings:
                    raise too_many_strings()
            return
        if state["root"] == "sst":
            if local == "si":
                state["strings"] += 1
                if state["strings"] > limits.max_shared_strings:
                    raise too_many_strings()
            return
        if state["root"] != "worksheet":
            return
        if local == "row":
            ref = attrs.get("r")
            row = int(ref) if ref and ref.isdigit() else state["row"] + 1
            state["row"], state["col"] = row, 0
            if row > limits.max_rows:
                stats.exceeded = ("too_many_rows", str(row))
                raise _Stop
            stats.rows = max(stats.rows, row)
        elif local == "c":
            parsed = _parse_ref(attrs.get("r", ""))
            col = parsed[1] if parsed else state["col"] + 1
            state["col"] = col
            if col > limits.max_cols:
                stats.exceeded = ("too_many_cols", get_column_letter(min(col, 18278)))
                raise _Stop
            stats.cols = max(stats.cols, col)
        elif local == "dimension":
            ref = attrs.get("ref", "")
            stats.dimension = ref
            last = _parse_ref(ref.split(":")[-1])
            if last and (last[0] > limits.max_rows or last[1] > limits.max_cols):
                stats.exceeded = ("dimension", ref[:40])
                raise _Stop

    parser.StartElementHandler = start
    try:
        with archive.open(info) as member:
            head = member.read(CHUNK)
            if not _looks_like_xml(head):
                return None
            chunk, read = head, 0
            while chunk:
                read += len(chunk)
                if state["root"] == "sst" and read > limits.max_shared_strings_bytes:
                    raise too_many_strings()
                parser.Parse(chunk, False)
                chunk = member.read(CHUNK)
            parser.Parse(b"", True)
    except _Stop:
        pass
    except _Refused as exc:
        raise XlsxImportError(Messages.dtd.format(part=exc.args[0])) from None
    except XlsxImportError:
        raise  # a bound met (shared strings): a ValueError, but not a damaged file
    except (expat.ExpatError, zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        # broken deflate streams, CRC mismatches and declared sizes that lie all end here
        raise XlsxImportError(Messages.damaged.format(part=info.filename)) from exc
    return stats if state["root"] == "worksheet" else None


# --- reading -------------------------------------------------------------------------------------

@dataclass
class _Reader:
    limits: Limits
    errors: list[CellError] = field(default_factory=list)
    truncated: bool = False

    def error(self, sheet: str, row: int, col: int, message: str) -> None:
        if len(self.errors) >= self.limits.max_errors:
            self.truncated = True
            return
        self.errors.append(CellError(sheet, row, get_column_letter(col), message))

    def raise_errors(self) -> None:
        if self.errors:
            message = Messages.cell_errors.format(count=len(self.errors))
            if self.truncated:
                message += Messages.too_many_errors.format(count=len(self.errors))
            raise XlsxImportError(message, self.errors)


def _open(data: bytes, limits: Limits):
    stats = inspect_package(data, limits)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about features it drops (extensions, unknown parts); not our concern
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except XlsxImportError:
        raise
    except Exception as exc:  # openpyxl raises KeyError, TypeError… on a malformed package
        raise XlsxImportError(Messages.damaged.format(part="工作簿结构")) from exc
    return book, stats


def _checked_stats(ws, stats: Mapping[str, PartStats], limits: Limits) -> PartStats:
    part = stats.get(ws._worksheet_path.lstrip("/"))
    if part is None:  # a sheet whose part is not XML: openpyxl would fail on it
        raise XlsxImportError(Messages.damaged.format(part=ws.title))
    if part.exceeded:
        name, detail = part.exceeded
        template = getattr(Messages, name)
        raise XlsxImportError(template.format(sheet=ws.title, ref=detail, rows=limits.max_rows, cols=limits.max_cols))
    return part


def _cells(ws, part: PartStats, max_row: int | None = None, max_col: int | None = None) -> Iterator[tuple]:
    """Rows of read-only cells within the rectangle the scan saw (never the claimed dimension)."""
    rows = part.rows if max_row is None else min(part.rows, max_row)
    cols = part.cols if max_col is None else min(part.cols, max_col)
    if rows < 1 or cols < 1:
        return iter(())
    return _parsed(ws.title, ws.iter_rows(min_row=1, max_row=rows, min_col=1, max_col=cols))


def _parsed(title: str, rows: Iterator[tuple]) -> Iterator[tuple]:
    """The rows of a read-only sheet, which openpyxl parses only while they are iterated: a cell
    it cannot parse (t="n" holding text, a shared-string index out of range, a date that is none,
    a column beyond XFD) raises here, not in load_workbook."""
    try:
        yield from rows
    except Exception as exc:  # ValueError, IndexError, KeyError… of openpyxl's cell parser
        raise XlsxImportError(Messages.damaged.format(part=f"工作表“{title}”")) from exc


def _raw_value(cell, sheet: str, reader: _Reader) -> tuple[bool, Any]:
    """(ok, value) of a read-only cell: numbers as int/Decimal, dates as date, blank None."""
    value, data_type = cell.value, cell.data_type
    if value is None:
        return True, None
    if data_type == "f":
        reader.error(sheet, cell.row, cell.column, Messages.formula)
        return False, None
    if data_type == "e":
        reader.error(sheet, cell.row, cell.column, Messages.error_value.format(value=str(value)[:20]))
        return False, None
    if isinstance(value, bool):
        reader.error(sheet, cell.row, cell.column, Messages.boolean)
        return False, None
    if isinstance(value, float):
        try:
            number = Decimal(repr(value))
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            reader.error(sheet, cell.row, cell.column, Messages.not_number)
            return False, None
        return True, number
    if isinstance(value, int):
        return True, value
    if isinstance(value, _dt.datetime):
        if value.time() != _dt.time(0, 0):
            reader.error(sheet, cell.row, cell.column, Messages.datetime)
            return False, None
        return True, value.date()
    if isinstance(value, (_dt.date, _dt.time, _dt.timedelta)):
        if isinstance(value, _dt.date):
            return True, value
        reader.error(sheet, cell.row, cell.column, Messages.not_date)
        return False, None
    # Text is kept as typed (a leading tab or space is part of it); only blank text is None.
    # Excel stores characters XML cannot carry as _xHHHH_ (ECMA-376 ST_Xstring) and openpyxl
    # leaves the escape as it is: decode it, so that the schema sees — and refuses, naming the
    # field — the control character the clerk really typed.
    text = unescape_xstring(str(value))
    return True, text if text.strip() else None


_NUMBER_TEXT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


_XSTRING_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape_xstring(text: str) -> str:
    """ECMA-376 ST_Xstring: `_x0001_` is U+0001, `_x005F_` a literal underscore."""
    return _XSTRING_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _number(value: Any) -> Decimal | None:
    """A number from a cell value (numeric, or text like "1,234.50"); None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip().replace("，", ",")
        if _NUMBER_TEXT.match(text):
            return Decimal(text.replace(",", ""))
    return None


def money_value(value: Any) -> tuple[Decimal | None, str | None]:
    """(Decimal with 2 places, None) or (None, message). Blank → (None, None)."""
    if value is None or value in ("—", "-", "－"):
        return None, None
    number = _number(value)
    if number is None:
        return None, Messages.not_number
    if abs(number) >= AMOUNT_LIMIT:  # and quantize would raise InvalidOperation beyond 28 digits
        return None, Messages.money_too_large
    if number != number.quantize(CENT):
        return None, Messages.money_places
    return number.quantize(CENT), None


def _convert(kind: str, value: Any) -> tuple[Value, str | None]:
    """A cell value as the grid kind expects it: (value, None) or (None, message)."""
    if value is None:
        return None, None
    if kind == "money":
        return money_value(value)
    if kind in ("score", "number", "percent"):
        if value in ("—", "-", "－"):
            return None, None
        if kind == "percent" and isinstance(value, str) and value.strip().endswith(("%", "％")):
            number = _number(value.strip()[:-1])
            if number is not None:
                return number / 100, None
        number = _number(value)
        if number is None:
            return None, Messages.not_number
        if kind == "score":
            if abs(number) >= AMOUNT_LIMIT:
                return None, Messages.number_too_large
            if number != number.quantize(CENT):
                return None, Messages.score_places
            return number.quantize(CENT), None
        if kind == "number" and number == number.to_integral_value():
            return int(number), None
        return number, None
    if kind == "date":
        if isinstance(value, _dt.date):
            return value, None
        parsed = parse_date(str(value))
        return (parsed, None) if parsed else (None, Messages.not_date)
    # text-like kinds: numbers typed into a text cell come back as their text
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value != value.to_integral_value() else f"{value.to_integral_value():f}", None
    if isinstance(value, _dt.date):
        return chinese_date(value), None
    return str(value), None


_DATE = re.compile(r"^(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?$")


def parse_date(text: str) -> _dt.date | None:
    """2024年7月1日, 2024-07-01, 2024/7/1 or 2024.7.1 → date; None otherwise."""
    m = _DATE.match(text.strip())
    if not m:
        return None
    try:
        return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


class StreamedBook:
    """An opened upload, read sheet by sheet and row by row (see `open_workbook`).

    `rows(title)` yields one list of values per row from row 1 (blank rows included) within the
    rectangle the scan saw; cell errors are collected as they are met and raised together by
    `raise_errors()`, once the caller has read what it needs. Memory is bounded by a row, not by
    the sheet: a 10,000-unit batch workbook is never held as Python values all at once."""

    def __init__(self, book, stats: Mapping[str, PartStats], limits: Limits, money, include_hidden: bool):
        self._book, self._stats, self._limits, self._money = book, stats, limits, money
        self._reader = _Reader(limits)
        self._sheets = {ws.title: ws for ws in book.worksheets if ws.sheet_state == "visible" or include_hidden}

    @property
    def sheet_names(self) -> list[str]:
        return list(self._sheets)

    def rows(self, title: str) -> Iterator[list[Value]]:
        ws = self._sheets[title]
        part = _checked_stats(ws, self._stats, self._limits)
        reader, money = self._reader, self._money
        for cells in _cells(ws, part):
            row_values: list[Value] = []
            for cell in cells:
                if cell.value is None or not hasattr(cell, "row"):  # EmptyCell padding
                    row_values.append(None)
                    continue
                ok, value = _raw_value(cell, ws.title, reader)
                if ok and money is not None and money(ws.title, cell.row, cell.column):
                    value, message = money_value(value)
                    if message:
                        reader.error(ws.title, cell.row, cell.column, message)
                row_values.append(value if ok else None)
            yield row_values

    def raise_errors(self) -> None:
        self._reader.raise_errors()


@contextmanager
def open_workbook(
    data: bytes,
    *,
    max_bytes: int | None = None,
    max_rows: int | None = None,
    max_cols: int | None = None,
    max_ratio: int | None = None,
    limits: Limits | None = None,
    money: Callable[[str, int, int], bool] | None = None,
    include_hidden: bool = False,
) -> Iterator[StreamedBook]:
    """The upload checked (`inspect_package`) and opened read-only, for streaming its rows.
    `money(sheet, row, col)` (1-based) marks the cells to be read as money: Decimal with at most
    2 places. Raises XlsxImportError."""
    limits = _limits(limits, max_bytes=max_bytes, max_rows=max_rows, max_cols=max_cols, max_ratio=max_ratio)
    book, stats = _open(data, limits)
    try:
        yield StreamedBook(book, stats, limits, money, include_hidden)
    finally:
        book.close()


def read_workbook(data: bytes, **options: Any) -> dict[str, list[list[Value]]]:
    """Every visible sheet as rows of values (1 list per row from row 1, trailing blank rows
    dropped); the options are `open_workbook`'s. Raises XlsxImportError."""
    result: dict[str, list[list[Value]]] = {}
    with open_workbook(data, **options) as book:
        for title in book.sheet_names:
            rows = list(book.rows(title))
            while rows and all(v is None for v in rows[-1]):
                rows.pop()
            result[title] = rows
        book.raise_errors()
    return result


def read_grid(data: bytes, sheet: Sheet, *, limits: Limits | None = None, check_layout: bool = True) -> dict[str, Value]:
    """{cell.key: value} of a sheet that render_xlsx produced from `sheet` and a clerk filled in.

    Positions come from the same grid model, so the form round-trips. Values are converted by
    the cell's kind (money: Decimal with ≤ 2 places; percent: the ratio; date: datetime.date).
    With `check_layout`, header and label captions must be where the model put them, which
    catches inserted or deleted rows before any value is taken from the wrong cell.
    """
    limits = limits or Limits()
    book, stats = _open(data, limits)
    reader = _Reader(limits)
    result: dict[str, Value] = {}
    try:
        if sheet.name not in book.sheetnames:
            raise XlsxImportError(Messages.missing_sheet.format(sheet=sheet.name))
        ws = book[sheet.name]
        part = _checked_stats(ws, stats, limits)
        placed, height = layout(sheet)
        grid: dict[tuple[int, int], Any] = {}
        for cells in _cells(ws, part, height, sheet.width):
            for cell in cells:
                if hasattr(cell, "row") and cell.value is not None:
                    grid[(cell.row, cell.column)] = cell
        for r0, c0, model in placed:
            row, col = r0 + 1, c0 + 1
            xl = grid.get((row, col))
            if check_layout and model.kind in ("header", "label") and isinstance(model.value, str):
                expected = _normal(model.value)
                actual = _normal(xl.value) if xl is not None and isinstance(xl.value, str) else ""
                if expected != actual:
                    reader.error(sheet.name, row, col, Messages.layout.format(expected=expected, actual=actual[:30]))
                continue
            if model.key is None:
                continue
            ok, value = _raw_value(xl, sheet.name, reader) if xl is not None else (True, None)
            if not ok:
                continue
            converted, message = _convert(model.kind, value)
            if message:
                reader.error(sheet.name, row, col, message)
                continue
            result[model.key] = converted
    finally:
        book.close()
    reader.raise_errors()
    return result


def _normal(text: Any) -> str:
    return re.sub(r"\s+", "", str(text)) if text is not None else ""


def _limits(base: Limits | None, **overrides: int | None) -> Limits:
    limits = base or Limits()
    changes = {k: v for k, v in overrides.items() if v is not None}
    return replace(limits, **changes) if changes else limits


__all__ = ["CellError", "Limits", "Messages", "PartStats", "StreamedBook", "XlsxImportError", "inspect_package",
           "money_value", "open_workbook", "parse_date", "read_grid", "read_workbook"]
