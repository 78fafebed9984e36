"""The indicator library (指标库): typical indicators to pick from when filling a declaration.

Data, not code. `rules/library_data/` ships the 11 common categories (common.csv) and a few
sector libraries (sectors/*.csv); a bureau adds its own CSV or xlsx files there or lists them
in the `declaration.library.extra_paths` setting. Each file is a table whose header uses the
glossary identifiers

    sector, category, level1, level2, name, operator, target_value, measure_unit, explanation

or the Chinese captions (行业, 类别, 一级指标, 二级指标, 三级指标, 指标性质, 指标值, 度量单位,
指标解释); `sector` is optional ("" = the common library). The value may also be written in one
cell (指标值 "≥500人次" with 指标性质 left blank). level1/level2 may use either indicator tree
and short captions; they are stored as full captions. CSV files are UTF-8 (a BOM is fine);
files Excel saved as GB18030/GBK are read too.

Search is a character-bigram inverted index, because Chinese has no spaces to split words on
and bigrams match most two-character words; single-character queries use a unigram index.
Every keyword must match at least half of its bigrams somewhere in the entry. Ranking: how many
query bigrams an entry covers, then whole keywords found in the name, then bigrams in the name,
then in category/sector/level2, then in the explanation, then the shorter name. With `prefer`
(the project's category, the declaration's 项目类型), entries of that category or sector come
before all others, each group ranked as above.
"""

from __future__ import annotations

import csv
import functools
import heapq
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from rules.indicators import Indicator, normalise_level1, normalise_level2, split_value
from rules.operators import normalise_operator
from rules.settings_files import defaults

LIBRARY_DIR = Path(__file__).with_name("library_data")
FILE_SUFFIXES = (".csv", ".xlsx")

COMMON_CATEGORIES = (
    "基础建设类", "补助救助类", "信息化建设类", "设备购置类", "检查核查类", "监测检测类",
    "课题研究类", "科研推广类", "宣传展览类", "培训会议类", "因公出国类",
)

FIELDS = ("sector", "category", "level1", "level2", "name", "operator", "target_value",
          "measure_unit", "explanation")
FIELD_LABELS = {"sector": "行业", "category": "类别", "level1": "一级指标", "level2": "二级指标",
                "name": "三级指标", "operator": "指标性质", "target_value": "指标值",
                "measure_unit": "度量单位", "explanation": "指标解释"}
# Header captions seen in local templates (official-forms D.3, D.4) → glossary identifiers.
HEADER_ALIASES = {
    **{f: f for f in FIELDS},
    **{v: k for k, v in FIELD_LABELS.items()},
    "领域": "sector", "行业领域": "sector", "分类": "category", "指标类别": "category",
    "项目类别": "category", "指标名称": "name", "年度指标值": "target_value",
    "计量单位": "measure_unit", "单位": "measure_unit", "指标说明": "explanation",
}
REQUIRED_FIELDS = ("level1", "level2", "name")

# Bounds for uploaded workbooks: a library sheet is a few thousand rows of nine columns.
MAX_ROWS = 20000
MAX_COLUMNS = 30

_NAME, _CATEGORY, _EXPLANATION = 1, 2, 4


class LibraryImportError(ValueError):
    """Rows that could not be read; `errors` maps "file:row.field" to Chinese messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {'；'.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class LibraryEntry:
    """One library row. Captions are full ("产出指标"); `source` is "file:row"."""

    category: str
    level1: str
    level2: str
    name: str
    operator: str
    target_value: str
    measure_unit: str = ""
    explanation: str = ""
    sector: str = ""
    source: str = ""

    def indicator(self, weight: Decimal | None = None) -> Indicator:
        return Indicator(self.level1, self.level2, self.name, self.operator, self.target_value,
                         self.measure_unit, weight, self.explanation)

    @property
    def value_text(self) -> str:
        return self.indicator().value_text

    def as_dict(self) -> dict[str, str]:
        return {f: getattr(self, f) for f in (*FIELDS, "source")}


# ------------------------------------------------------------------------------ reading


def _cell_text(value: Any) -> str:
    """A cell as text. Spreadsheet floats go through repr() so 0.95 stays "0.95"; whole numbers
    lose the ".0" Excel adds."""
    if value is None:
        return ""
    if isinstance(value, float):
        number = Decimal(repr(value))
        return format(number.quantize(Decimal(1)) if number == number.to_integral() else number, "f")
    return str(value).strip()


def _header(cells: Sequence[Any]) -> list[str | None]:
    names = []
    for cell in cells:
        key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", _cell_text(cell))).lower()
        names.append(HEADER_ALIASES.get(key))
    return names


def _level_pair(level1: str, level2: str) -> tuple[str, str] | None:
    """Full captions for a pair written in either tree (2020 first: most libraries use it)."""
    for tree in ("2020", "2021"):
        caption1 = normalise_level1(level1, tree)
        caption2 = normalise_level2(level1, level2, tree) if caption1 else None
        if caption2:
            return caption1, caption2
    return None


def parse_table(rows: Iterable[Sequence[Any]], source: str) -> list[LibraryEntry]:
    """Entries from a table whose first non-empty row is the header. Raises LibraryImportError
    listing every bad row; blank rows are skipped."""
    errors: dict[str, list[str]] = {}
    entries: list[LibraryEntry] = []
    header: list[str | None] | None = None
    for number, cells in enumerate(rows, start=1):
        texts = [_cell_text(c) for c in cells]
        if not any(texts):
            continue
        if header is None:
            header = _header(texts)
            missing = [FIELD_LABELS[f] for f in REQUIRED_FIELDS if f not in header]
            if missing:
                raise LibraryImportError({source: [
                    f"第{number}行表头缺少{'、'.join(missing)}列：请使用"
                    f"{'、'.join(FIELD_LABELS[f] for f in FIELDS)}（或对应英文标识）作为表头"]})
            continue
        row = {f: t for f, t in zip(header, texts, strict=False) if f}
        entry = _entry(row, f"{source}:{number}", errors)
        if entry is not None:
            entries.append(entry)
    if errors:
        raise LibraryImportError(errors)
    return entries


def _entry(row: Mapping[str, str], where: str, errors: dict[str, list[str]]) -> LibraryEntry | None:
    problems_before = len(errors)
    for f in REQUIRED_FIELDS:
        if not row.get(f):
            errors.setdefault(f"{where}.{f}", []).append(f"{FIELD_LABELS[f]}为空：请填写{FIELD_LABELS[f]}")
    pair = None
    if row.get("level1") and row.get("level2"):
        pair = _level_pair(row["level1"], row["level2"])
        if pair is None:
            errors.setdefault(f"{where}.level2", []).append(
                f"“{row['level1']}/{row['level2']}”不是指标体系中的一级/二级指标：请按产出指标/数量指标"
                "这样的写法填写")
    operator, target, unit = split_value(row.get("operator"), row.get("target_value"),
                                         row.get("measure_unit"))
    if not operator:
        errors.setdefault(f"{where}.target_value", []).append("指标性质和指标值均为空：请至少填写其中一项")
    else:
        try:
            Indicator("", "", "", operator, target, unit)
        except ValueError:
            errors.setdefault(f"{where}.operator", []).append(f"指标性质“{operator}”无法识别：请填写≥、≤、=或定性")
    if len(errors) > problems_before or pair is None:
        return None
    sector = row.get("sector", "")
    return LibraryEntry(category=row.get("category") or sector, level1=pair[0], level2=pair[1],
                        name=row["name"], operator=normalise_operator(operator),
                        target_value=target, measure_unit=unit,
                        explanation=row.get("explanation", ""), sector=sector, source=where)


def _read_csv(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")  # what Excel writes for "CSV" on a Chinese Windows
    return list(csv.reader(io.StringIO(text)))


def _read_xlsx(path: Path) -> list[tuple[str, list[list[Any]]]]:
    """(sheet title, rows) of every non-empty sheet, bounded to MAX_ROWS × MAX_COLUMNS."""
    from openpyxl import load_workbook  # imported here: only uploads and bureau files need it

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = []
        for sheet in workbook.worksheets:
            rows = [list(cells) for cells in
                    sheet.iter_rows(max_row=MAX_ROWS, max_col=MAX_COLUMNS, values_only=True)]
            if any(_cell_text(c) for cells in rows for c in cells):
                sheets.append((sheet.title, rows))
        return sheets
    finally:
        workbook.close()


def read_file(path: str | Path) -> list[LibraryEntry]:
    """Entries of one CSV or xlsx file (every sheet of a workbook has its own header row).
    Sources are "file:row" or "file[sheet]:row", with the row number a spreadsheet shows.
    Raises LibraryImportError listing every bad row."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return parse_table(_read_csv(path), path.name)
    if suffix != ".xlsx":
        raise LibraryImportError({path.name: [f"不支持的文件类型“{path.suffix}”：请使用CSV或xlsx文件"]})
    sheets = _read_xlsx(path)
    entries: list[LibraryEntry] = []
    errors: dict[str, list[str]] = {}
    for title, rows in sheets:
        source = path.name if len(sheets) == 1 else f"{path.name}[{title}]"
        try:
            entries += parse_table(rows, source)
        except LibraryImportError as exc:
            errors.update(exc.errors)
    if errors:
        raise LibraryImportError(errors)
    return entries


def library_files(paths: Iterable[str | Path] | str | Path) -> list[Path]:
    """The data files named by `paths`: files as given, directories searched recursively in
    sorted order. Hidden files and Excel lock files (~$…) are skipped."""
    if isinstance(paths, str | Path):
        paths = [paths]
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in FILE_SUFFIXES
                            and not p.name.startswith((".", "~$")) and p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise LibraryImportError({str(path): ["找不到指标库文件或目录：请检查路径"]})
    return found


# ------------------------------------------------------------------------------ search

_SPLIT = re.compile(r"[\W_]+")


def _runs(text: str) -> list[str]:
    """Lower-case NFKC text cut at spaces and punctuation; grams never cross a cut."""
    return [r for r in _SPLIT.split(unicodedata.normalize("NFKC", text).lower()) if r]


def _index_grams(text: str) -> set[str]:
    grams: set[str] = set()
    for run in _runs(text):
        grams.update(run)
        grams.update(run[i:i + 2] for i in range(len(run) - 1))
    return grams


def _query_grams(run: str) -> set[str]:
    return {run} if len(run) == 1 else {run[i:i + 2] for i in range(len(run) - 1)}


def _category_key(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "").removesuffix("类")


class IndicatorLibrary:
    """Library entries with a bigram index. Build with `load(paths)` or `add(entries)`."""

    def __init__(self, entries: Iterable[LibraryEntry] = ()):
        self.entries: list[LibraryEntry] = []
        self._postings: dict[str, list[tuple[int, int]]] = {}
        self._names: list[str] = []
        self.add(entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)

    def add(self, entries: Iterable[LibraryEntry]) -> IndicatorLibrary:
        for entry in entries:
            eid = len(self.entries)
            self.entries.append(entry)
            self._names.append("".join(_runs(entry.name)))
            masks: dict[str, int] = {}
            for mask, text in ((_NAME, entry.name),
                               (_CATEGORY, f"{entry.category} {entry.sector} {entry.level2}"),
                               (_EXPLANATION, entry.explanation)):
                for gram in _index_grams(text):
                    masks[gram] = masks.get(gram, 0) | mask
            for gram, mask in masks.items():
                self._postings.setdefault(gram, []).append((eid, mask))
        return self

    def load(self, paths: Iterable[str | Path] | str | Path) -> IndicatorLibrary:
        """Read every file (see `library_files`); all or nothing: on any bad row nothing is added
        and LibraryImportError lists every problem of every file."""
        errors: dict[str, list[str]] = {}
        loaded: list[LibraryEntry] = []
        for path in library_files(paths):
            try:
                loaded += read_file(path)
            except LibraryImportError as exc:
                errors.update(exc.errors)
        if errors:
            raise LibraryImportError(errors)
        return self.add(loaded)

    def categories(self) -> list[str]:
        return list(dict.fromkeys(e.category for e in self.entries))

    def sectors(self) -> list[str]:
        return list(dict.fromkeys(e.sector for e in self.entries if e.sector))

    def _filter(self, category: str | None, level1: str | None, sector: str | None):
        """A predicate on entry ids, or None when nothing is filtered.

        category matches with or without the trailing 类; level1 accepts short captions, and
        "成本指标" also finds the 产出指标/成本指标 rows of the 2020 tree.
        """
        checks = []
        if category:
            key = _category_key(category)
            checks.append(lambda e: _category_key(e.category) == key)
        if level1:
            caption = normalise_level1(level1, "2021") or normalise_level1(level1, "2020") or level1
            if caption == "成本指标":
                checks.append(lambda e: e.level1 == caption or e.level2 == caption)
            else:
                checks.append(lambda e: e.level1 == caption)
        if sector is not None:
            checks.append(lambda e: e.sector == sector)
        if not checks:
            return None
        return lambda eid: all(check(self.entries[eid]) for check in checks)

    def _preferred(self, prefer: str | None):
        """0 for an entry of the project's category (by category, with or without 类, or by
        sector), 1 for any other; None when no category is given."""
        key = _category_key(prefer)
        if not key:
            return None
        return lambda eid: 0 if key in (_category_key(self.entries[eid].category),
                                        _category_key(self.entries[eid].sector)) else 1

    def search(self, query: str = "", category: str | None = None, level1: str | None = None,
               limit: int = 20, sector: str | None = None, prefer: str | None = None) -> list[LibraryEntry]:
        """Entries matching `query` (keywords separated by spaces), best first; entries of the
        `prefer` category (the project's) before the others.

        Every keyword must match, but a keyword of several characters needs only half of its
        bigrams, so "培训人数" still finds "培训人次". An empty query lists the filtered entries
        in library order (the preferred category's first).
        """
        accept = self._filter(category, level1, sector)
        rank = self._preferred(prefer)
        terms = _runs(query or "")
        if not terms:
            ids = (i for i in range(len(self.entries)) if accept is None or accept(i))
            if rank is not None:
                return [self.entries[i] for i in heapq.nsmallest(limit, ids, key=lambda i: (rank(i), i))]
            return [self.entries[i] for i, _ in zip(ids, range(limit), strict=False)]
        # Each distinct gram gets a bit; an entry's hits are an int mask, so "every term at least
        # half covered" is a popcount per term.
        bits: dict[str, int] = {}
        term_masks = []
        for term in terms:
            mask = 0
            for gram in _query_grams(term):
                mask |= bits.setdefault(gram, 1 << len(bits))
            term_masks.append((mask, (mask.bit_count() + 1) // 2))
        hits: dict[int, int] = {}
        in_name: dict[int, int] = {}
        in_category: dict[int, int] = {}
        in_explanation: dict[int, int] = {}
        for gram, bit in bits.items():
            for eid, mask in self._postings.get(gram, ()):
                hits[eid] = hits.get(eid, 0) | bit
                if mask & _NAME:
                    in_name[eid] = in_name.get(eid, 0) + 1
                if mask & _CATEGORY:
                    in_category[eid] = in_category.get(eid, 0) + 1
                if mask & _EXPLANATION:
                    in_explanation[eid] = in_explanation.get(eid, 0) + 1
        names = self._names

        def matches(eid: int) -> bool:
            found = hits[eid]
            return all((found & mask).bit_count() >= need for mask, need in term_masks) and (
                accept is None or accept(eid))

        def key(eid: int):
            name = names[eid]
            whole = sum(1 for t in terms if t in name)
            return (rank(eid) if rank is not None else 0, -hits[eid].bit_count(), -whole, -in_name.get(eid, 0), -in_category.get(eid, 0),
                    -in_explanation.get(eid, 0), len(name), eid)

        candidates = (eid for eid in hits if matches(eid))
        return [self.entries[eid] for eid in heapq.nsmallest(limit, candidates, key=key)]


# ------------------------------------------------------------------------------ default


@functools.lru_cache(maxsize=8)
def _cached(paths: tuple[str, ...]) -> IndicatorLibrary:
    return IndicatorLibrary().load([Path(p) for p in paths])


def default_library(settings: Mapping[str, Any] | None = None) -> IndicatorLibrary:
    """The shipped library plus `declaration.library.extra_paths`, read once per process (per
    distinct path list). Treat it as read-only: it is shared."""
    extra = (settings if settings is not None else defaults())["declaration"]["library"]["extra_paths"]
    return _cached((str(LIBRARY_DIR), *(str(p) for p in extra)))
