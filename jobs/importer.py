"""The batch workbook: many units' monitoring rows in one .xlsx, split into one input per unit.

Layout (samples/monitoring/batch_workbook.xlsx; headers in Chinese or as glossary identifiers,
in any order; a header may carry the period, “1-6月执行数”, and the unit “（万元）”):

    参数   年度 | 2024 ; 监控期间 | 1-6月                     (optional; the command line or the
                                                              upload form may set both)
    项目   one row per project: 单位编码, 单位名称, 主管部门, 项目编码, 项目名称, 实施单位, 监控范围,
           年初预算数, 执行数, 全年预计执行数, 财政拨款年初预算数 …, 年初设定目标, 目标执行情况, 自评得分
    指标   one row per indicator: 单位编码, 项目编码 (or 项目名称), 一级指标 … 完成目标可能性, 偏差原因 …
    (department_monitoring: 部门 — one row per unit —, 任务 and 指标 keyed by 单位编码 only)

Reading goes through the hardened reader (generators.tables.reader: size limit, defusedxml-level
XML checks, read-only, bounded rows and columns, formulas refused), streamed row by row: each row
is stored on disk under its unit as soon as it is read (jobs/unitrows.py) and the units are
assembled one at a time afterwards, so memory does not grow with the workbook. Rows are grouped
by 单位编码 only, so a row can reach no unit but its own. Every value keeps where it came from (sheet, row,
column), so a schema error on "indicators.3.improvement" is reported as
工作表“指标”第12行N列（纠偏措施）：… . A row that cannot be given to a unit (no 单位编码) is reported
for the batch; an error in a unit's rows makes only that unit invalid.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openpyxl.utils import get_column_letter

from generators.filenames import safe_filename
from jobs.unitrows import RowStore, UnitStream
from rules.formatting import chinese_date
from rules.periods import PeriodError, normalise_label

MAX_ROWS = 200_000  # rows per sheet of a batch workbook: 10,000 units × 20 indicators
MAX_COLS = 60

FUND_LINES = {"": "annual_total", "年度资金总额": "annual_total", "合计": "annual_total",
              "财政拨款": "fiscal_appropriation", "其他资金": "other_funds", "上年结转资金": "carryover",
              "上年结转": "carryover"}
FUND_AMOUNTS = {"年初预算数": "initial_budget", "调整后预算数": "adjusted_budget", "全年预算数": "adjusted_budget",
                "执行数": "executed", "全年预计执行数": "projected_executed", "预计执行数": "projected_executed"}
FUND_LINE_LABELS = {"annual_total": "", "fiscal_appropriation": "财政拨款", "other_funds": "其他资金", "carryover": "上年结转资金"}

UNIT_COLUMNS = {"单位编码": "unit.code", "单位代码": "unit.code", "单位名称": "unit.name",
                "部门(单位)名称": "unit.name", "部门名称": "unit.name"}
PROJECT_COLUMNS = {
    **UNIT_COLUMNS,
    "主管部门": "department", "主管部门代码": "department_code", "项目编码": "project_code", "项目代码": "project_code",
    "项目名称": "project_name", "实施单位": "implementing_unit", "监控范围": "scope", "资金类别": "scope",
    "年初设定目标": "annual_goal", "年度总体目标": "annual_goal", "目标执行情况": "annual_goal_progress",
    "总体目标执行情况": "annual_goal_progress", "年度总体目标执行情况": "annual_goal_progress",
    "填报人": "filled_by", "联系电话": "phone", "自评得分": "self_evaluation_score",
    "绩效自评得分": "self_evaluation_score",
}
DEPARTMENT_COLUMNS = {k: v for k, v in PROJECT_COLUMNS.items()
                      if v not in ("project_code", "project_name", "implementing_unit", "department_code")}
TASK_COLUMNS = {**UNIT_COLUMNS, "任务名称": "name", "年度主要任务": "name", "完成情况": "progress", "执行情况": "progress"}
INDICATOR_COLUMNS = {
    **UNIT_COLUMNS,
    "项目编码": "project_code", "项目代码": "project_code", "项目名称": "project_name",
    "一级指标": "level1", "二级指标": "level2", "三级指标": "name", "指标名称": "name", "指标性质": "operator",
    "年度指标值": "target_value", "指标值": "target_value", "度量单位": "measure_unit", "计量单位": "measure_unit",
    "执行情况": "actual_value", "实际完成值": "actual_value", "全年预计完成情况": "projected_value",
    "完成目标可能性": "completion_likelihood", "偏差原因": "deviation_causes", "偏差原因分析": "deviation_causes",
    "偏差原因说明": "deviation_reason", "纠偏措施": "improvement", "改进措施": "improvement", "备注": "remark",
    "分值": "weight",
}
# Values read as numbers; everything else reaches the schema as text.
NUMERIC_FIELDS = {"self_evaluation_score", "weight"}


class Messages:
    """User-facing messages of the import (one place, Chinese)."""

    missing_sheet = "找不到工作表“{sheet}”。批量导入的工作簿应包含“{sheets}”工作表（可下载示例工作簿对照）。"
    no_header = "工作表“{sheet}”前5行中找不到表头（应有“单位编码”列）。"
    missing_column = "工作表“{sheet}”缺少“{column}”列。"
    unknown_column = "工作表“{sheet}”第{row}行{col}列：不认识的列名“{header}”，该列未导入。"
    no_unit = "未填写单位编码，无法确定所属单位，本行未导入。"
    name_conflict = "单位编码“{code}”在第{first}行的单位名称为“{first_name}”，本行为“{name}”，请核对。"
    duplicate_project = "项目“{project}”在本单位第{first}行已出现，同一单位的项目不能重复。"
    duplicate_unit = "单位编码“{code}”在第{first}行已出现，每个单位只填一行。"
    no_project = "本单位没有{what}为“{project}”的项目（见工作表“{sheet}”），该指标未导入。"
    no_department_row = "工作表“{sheet}”中没有单位编码为“{code}”的行，本行未导入。"
    no_indicator_project = "请填写项目编码或项目名称，以确定指标所属项目。"
    no_units = "工作簿中没有可生成的单位（工作表“{sheet}”没有数据行）。"
    no_year = "请填写年度（工作表“参数”的“年度”，或在导入时指定）。"
    bad_year = "年度“{value}”不对，应为2000年至2100年之间的年份。"
    no_period = "请填写监控期间，如“1-6月”（工作表“参数”的“监控期间”，或在导入时指定）。"
    no_indicators = "本单位没有绩效指标行（工作表“{sheet}”）。"


@dataclass
class Source:
    sheet: str
    row: int  # 1-based, as Excel shows it
    column: str | None = None  # letter
    header: str | None = None

    def where(self) -> str:
        if self.column:
            return f"工作表“{self.sheet}”第{self.row}行{self.column}列（{self.header}）"
        return f"工作表“{self.sheet}”第{self.row}行"


@dataclass
class UnitInput:
    code: str
    name: str
    seq: int
    forms: list[dict] = field(default_factory=list)
    extras: list[dict] = field(default_factory=list)  # per form: values for the summary only
    # Where each value came from, compactly: per form, field path prefix → [sheet, row] ("" for the
    # form's own row, "indicators.3" for an indicator's); per sheet, field path → [letter, header].
    sources: list[dict[str, list]] = field(default_factory=list)
    columns: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # row errors found while splitting
    output_name: str = ""

    def payload(self) -> dict:
        return {"unit": {"code": self.code, "name": self.name}, "forms": self.forms, "extras": self.extras,
                "sources": self.sources, "columns": self.columns, "errors": self.errors}


@dataclass
class ImportResult:
    year: int | None
    period: str | None
    units: Sequence[UnitInput]  # a list, or a UnitStream assembling them one at a time
    errors: list[str]  # rows of no unit, and problems of the whole workbook
    fatal: list[str] = field(default_factory=list)  # the batch cannot be made at all


class BatchImportError(ValueError):
    def __init__(self, messages: list[str]):
        super().__init__("\n".join(messages))
        self.messages = messages


# --------------------------------------------------------------------------- headers and cells

_PERIOD_IN_HEADER = re.compile(r"\d{1,2}\s*月?\s*(?:-|—|–|~|～|至|到)+\s*\d{1,2}\s*月")
_NOISE = re.compile(r"[\s*＊]|[（(](?:万元|元|%|必填|选填)[)）]")


def normalise_header(value: Any) -> str:
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    text = _NOISE.sub("", text)
    text = _PERIOD_IN_HEADER.sub("", text)
    return text.removeprefix("其中:").removeprefix("其中")


def _fund_path(header: str) -> str | None:
    for amount_label, amount in sorted(FUND_AMOUNTS.items(), key=lambda kv: -len(kv[0])):
        if header.endswith(amount_label):
            line_label = header[: -len(amount_label)]
            if line_label in FUND_LINES:
                return f"funds.{FUND_LINES[line_label]}.{amount}"
    return None


def column_path(header: str, columns: dict[str, str], with_funds: bool) -> str | None:
    """The field path a header names: a Chinese header of `columns`, a fund column, or the
    glossary identifier itself (“funds.annual_total.executed”)."""
    if header in columns:
        return columns[header]
    if header in columns.values():
        return header
    if with_funds:
        if header.startswith("funds.") and header.count(".") == 2:
            line, amount = header.split(".")[1:]
            if line in FUND_LINE_LABELS and amount in FUND_AMOUNTS.values():
                return header
        return _fund_path(header)
    return None


def text_value(value: Any) -> str | None:
    """A cell as text: numbers in plain notation (a code typed as a number stays “101001”)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    if isinstance(value, _dt.date):
        return chinese_date(value)
    text = str(value).strip()
    return text or None


@dataclass
class _Table:
    sheet: str
    header_row: int  # 1-based
    paths: dict[int, str]  # column index (0-based) → path
    headers: dict[int, str]

    def source(self, row: int, path: str) -> Source:
        for col, p in self.paths.items():
            if p == path:
                return Source(self.sheet, row, get_column_letter(col + 1), self.headers[col])
        return Source(self.sheet, row)

    def has(self, path: str) -> bool:
        return path in self.paths.values()

    def columns(self) -> dict[str, list[str]]:
        """path → [column letter, header]: where each field of a row of this sheet is."""
        return {path: [get_column_letter(col + 1), self.headers[col]] for col, path in self.paths.items()}


Rows = Iterator[tuple[int, list[Any]]]  # (Excel row number, values), blank rows left out


def _table(sheet: str, rows: Iterable[list[Any]], columns: dict[str, str], with_funds: bool,
           errors: list[str]) -> tuple[_Table, Rows]:
    """The sheet's header (within its first 5 rows) and an iterator over the rows after it."""
    stream = iter(rows)
    head = list(itertools.islice(stream, 5))
    for index, row in enumerate(head):
        headers = [normalise_header(v) for v in row]
        paths = {i: column_path(h, columns, with_funds) for i, h in enumerate(headers) if h}
        if "unit.code" in paths.values():
            known = {i: p for i, p in paths.items() if p}
            for i, p in paths.items():
                if p is None:
                    errors.append(Messages.unknown_column.format(sheet=sheet, row=index + 1,
                                                                 col=get_column_letter(i + 1), header=row[i]))
            body = ((index + 2 + n, r) for n, r in enumerate(itertools.chain(head[index + 1:], stream))
                    if any(text_value(v) is not None for v in r))
            return _Table(sheet, index + 1, known, {i: str(row[i]).strip() for i in known}), body
    raise BatchImportError([Messages.no_header.format(sheet=sheet)])


def _set(tree: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _record(table: _Table, values: list[Any]) -> dict:
    """The nested values of one row; blank cells are left out."""
    record: dict = {}
    for col, path in table.paths.items():
        raw = values[col] if col < len(values) else None
        if path.startswith("funds.") or path in NUMERIC_FIELDS:
            value = raw if isinstance(raw, Decimal | int) else text_value(raw)
        else:
            value = text_value(raw)
        if value is not None:
            _set(record, path, value)
    return record


def _unit_key(record: dict) -> tuple[str | None, str]:
    unit = record.get("unit") or {}
    return unit.get("code"), unit.get("name") or ""


# --------------------------------------------------------------------------- parameters

def _parameters(rows: Iterable[list[Any]] | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for row in rows or []:
        if len(row) >= 2 and text_value(row[0]) and text_value(row[1]):
            found[normalise_header(row[0])] = text_value(row[1])
    return found


def _year_and_period(params: dict[str, str], year: Any, period: Any, fatal: list[str]) -> tuple[int | None, str | None]:
    raw_year = year if year not in (None, "") else params.get("年度") or params.get("year")
    raw_period = period if period not in (None, "") else params.get("监控期间") or params.get("period")
    parsed_year = None
    if raw_year in (None, ""):
        fatal.append(Messages.no_year)
    else:
        try:
            parsed_year = int(str(raw_year).replace("年", "").replace("年度", "").strip())
            if not 2000 <= parsed_year <= 2100:
                raise ValueError
        except ValueError:
            fatal.append(Messages.bad_year.format(value=raw_year))
            parsed_year = None
    parsed_period = None
    if raw_period in (None, ""):
        fatal.append(Messages.no_period)
    else:
        try:
            parsed_period = normalise_label(str(raw_period))
        except PeriodError as exc:
            fatal.append(exc.message)
    return parsed_year, parsed_period


# --------------------------------------------------------------------------- splitting by unit

def _sheet_name(book: Mapping[str, Any], names: Iterable[str]) -> str | None:
    normal = {unicodedata.normalize("NFKC", k).strip(): k for k in book}
    for name in names:
        if name in normal:
            return normal[name]
    return None


def _sheet(book: Mapping[str, Iterable[list[Any]]], names: Iterable[str]) -> Iterable[list[Any]] | None:
    name = _sheet_name(book, names)
    return None if name is None else book[name]


Record = tuple[int, dict]  # (Excel row number, nested values)


def _unit_from_rows(table: _Table, rows: list[Record], code: str, seq: int, one_row_per_unit: bool) -> UnitInput:
    """The unit of `code` from its rows of the main sheet (projects, or its one 部门 row)."""
    first, first_name = rows[0][0], _unit_key(rows[0][1])[1]
    unit = UnitInput(code=code, name=first_name or code, seq=seq)
    project_rows: dict[str, int] = {}
    for number, record in rows:
        _, name = _unit_key(record)
        if name and first_name and name != first_name:
            unit.errors.append(f"{table.source(number, 'unit.name').where()}："
                               + Messages.name_conflict.format(code=code, first=first, first_name=first_name, name=name))
            continue
        if one_row_per_unit and unit.forms:
            unit.errors.append(f"{table.source(number, 'unit.code').where()}：" +
                               Messages.duplicate_unit.format(code=code, first=first))
            continue
        if not one_row_per_unit:
            key = record.get("project_code") or record.get("project_name") or ""
            if key and key in project_rows:
                unit.errors.append(f"{table.source(number, 'project_name').where()}：" +
                                   Messages.duplicate_project.format(project=key, first=project_rows[key]))
                continue
            project_rows[key] = number
        extras = {k: record.pop(k) for k in ("self_evaluation_score",) if k in record}
        unit.forms.append(record)
        unit.extras.append(extras)
        unit.sources.append({"": [table.sheet, number]})
    return unit


def _attach_rows(table: _Table, unit: UnitInput, rows: list[Record], field_name: str, by_project: bool,
                 main_sheet: str) -> None:
    """The unit's indicator (or task) rows into its form — and project — by key."""
    counters: dict[int, int] = {}
    for number, record in rows:
        record.pop("unit", None)
        index = 0
        if by_project:
            project_code, project_name = record.pop("project_code", None), record.pop("project_name", None)
            if not project_code and not project_name:
                unit.errors.append(f"{table.source(number, 'project_code').where()}：{Messages.no_indicator_project}")
                continue
            matches = [i for i, f in enumerate(unit.forms)
                       if (project_code and f.get("project_code") == project_code)
                       or (not project_code and f.get("project_name") == project_name)]
            if not matches:
                what, value = ("编码", project_code) if project_code else ("名称", project_name)
                path = "project_code" if project_code else "project_name"
                unit.errors.append(f"{table.source(number, path).where()}："
                                   + Messages.no_project.format(what=what, project=value, sheet=main_sheet))
                continue
            index = matches[0]
        elif not unit.forms:
            continue
        position = counters.get(index, 0)
        counters[index] = position + 1
        unit.forms[index].setdefault(field_name, []).append(record)
        unit.sources[index][f"{field_name}.{position}"] = [table.sheet, number]


def _coded(table: _Table, rows: Rows, errors: list[str]) -> Iterator[tuple[int, str, dict]]:
    """(row number, unit code, record) of each row; a row without 单位编码 is reported instead."""
    for number, values in rows:
        record = _record(table, values)
        code, _ = _unit_key(record)
        if not code:
            errors.append(f"{table.source(number, 'unit.code').where()}：{Messages.no_unit}")
            continue
        yield number, code, record


def split_workbook(book: Mapping[str, Iterable[list[Any]]], kind: str, *, year: Any = None, period: Any = None,
                   fmt: str = "xlsx") -> ImportResult:
    """The rows of a workbook (sheet name → rows of values, read lazily), split into one input
    per unit (see the module docstring).

    The sheets are read once, in order — the main sheet, then 任务, then 指标 — and each row goes
    to disk grouped by its unit (jobs/unitrows.py) as soon as it is read; rows that belong to no
    unit are reported then. `ImportResult.units` assembles the units one at a time from there."""
    errors: list[str] = []
    fatal: list[str] = []
    params = _parameters(_sheet(book, ("参数", "parameters")))
    parsed_year, parsed_period = _year_and_period(params, year, period, fatal)
    department = kind == "department_monitoring"
    main_names = ("部门", "单位", "departments") if department else ("项目", "projects")
    main = _sheet_name(book, main_names)
    indicators = _sheet_name(book, ("指标", "indicators"))
    missing = [names[0] for names, found in ((main_names, main), (("指标",), indicators)) if found is None]
    if missing:
        sheets = "”“".join([main_names[0], "指标"])
        raise BatchImportError([Messages.missing_sheet.format(sheet=s, sheets=sheets) for s in missing])
    store = RowStore()
    seqs: dict[str, int] = {}  # unit code → order of first appearance on the main sheet
    main_table, rows = _table(main, book[main], DEPARTMENT_COLUMNS if department else PROJECT_COLUMNS, True, errors)
    for number, code, record in _coded(main_table, rows, errors):
        store.add(seqs.setdefault(code, len(seqs)), 0, number, record)
    if not seqs:
        fatal.append(Messages.no_units.format(sheet=main))
    attached: list[tuple[_Table, str, bool]] = []  # (table, field, by project) in sheet order 1, 2…
    sources_of = [(_sheet_name(book, ("任务", "tasks")), TASK_COLUMNS, "tasks")] if department else []
    sources_of.append((indicators, INDICATOR_COLUMNS, "indicators"))
    for name, known, field_name in sources_of:
        if name is None:
            continue
        table, rows = _table(name, book[name], known, False, errors)
        attached.append((table, field_name, not department and field_name == "indicators"))
        for number, code, record in _coded(table, rows, errors):
            seq = seqs.get(code)
            if seq is None:
                errors.append(f"{table.source(number, 'unit.code').where()}："
                              + Messages.no_department_row.format(sheet=main, code=code))
                continue
            store.add(seq, len(attached), number, record)
    codes = list(seqs)
    del seqs
    columns = {table.sheet: table.columns() for table in (main_table, *(t for t, _, _ in attached))}

    def assemble() -> Iterator[UnitInput]:
        taken: set[str] = set()
        for seq, rows in store.groups():
            by_sheet: dict[int, list[Record]] = {}
            for sheet, number, record in rows:
                by_sheet.setdefault(sheet, []).append((number, record))
            unit = _unit_from_rows(main_table, by_sheet[0], codes[seq], seq, one_row_per_unit=department)
            for order, (table, field_name, by_project) in enumerate(attached, start=1):
                _attach_rows(table, unit, by_sheet.get(order, []), field_name, by_project, main)
            _complete(unit, parsed_year, parsed_period, department, indicators)
            unit.columns = columns
            unit.output_name = unique_output_name(f"{unit.code}_{unit.name}", taken, fmt)
            yield unit

    return ImportResult(parsed_year, parsed_period, UnitStream(store, len(codes), assemble), errors, fatal)


def _complete(unit: UnitInput, year: int | None, period: str | None, department: bool, indicators: str) -> None:
    """What every form of the unit gets from the batch: year, period, the unit, defaults."""
    for form, sources in zip(unit.forms, unit.sources, strict=True):
        if year is not None:
            form["year"] = year
        if period is not None:
            form["period"] = period
        form["unit"] = {"code": unit.code, "name": unit.name}
        if not department:
            form.setdefault("implementing_unit", unit.name)
            form.setdefault("department", unit.name)
        if not form.get("indicators"):
            row = sources[""][1]
            unit.errors.append(f"工作表“{sources[''][0]}”第{row}行：" +
                               Messages.no_indicators.format(sheet=indicators))


def unique_output_name(base: str, taken: set[str], fmt: str = "xlsx") -> str:
    """safe_filename of `base`, made unique (case-insensitively, for file systems that fold case)
    among the names already given."""
    name = safe_filename(base, fmt)
    stem = name.rsplit(".", 1)[0]
    n = 2
    while name.lower() in taken:
        name = f"{stem}_{n}.{fmt}"
        n += 1
    taken.add(name.lower())
    return name


class _Sheets(Mapping[str, Iterable[list[Any]]]):
    """A StreamedBook as the mapping split_workbook reads: each lookup streams the sheet anew."""

    def __init__(self, book):
        self._book = book
        self._names = book.sheet_names

    def __getitem__(self, name: str) -> Iterable[list[Any]]:
        if name not in self._names:
            raise KeyError(name)
        return self._book.rows(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def read_batch_workbook(data: bytes, kind: str, *, year: Any = None, period: Any = None,
                        max_bytes: int | None = None, fmt: str = "xlsx") -> ImportResult:
    """Read an uploaded batch workbook through the hardened reader and split it by unit, row by
    row. Raises BatchImportError (Chinese messages) when the file cannot be used at all."""
    from generators.tables.reader import XlsxImportError, open_workbook

    try:
        with open_workbook(data, max_bytes=max_bytes, max_rows=MAX_ROWS, max_cols=MAX_COLS) as book:
            result = split_workbook(_Sheets(book), kind, year=year, period=period, fmt=fmt)
            book.raise_errors()
    except XlsxImportError as exc:
        raise BatchImportError(exc.messages) from None
    return result
