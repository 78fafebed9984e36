"""Table-grid layouts of the 绩效目标申报表 (official-forms D.2, D.3), filled and blank, and the
way back from a workbook's cell values to a payload.

One builder per form serves three uses, so the filled form, the blank form and the importer can
never disagree about where a value sits:

* filled (`blank=False`): the official look — level-1 and level-2 captions merged over their
  groups, the department's 合计 computed and locked;
* blank (`blank=True`): the same rows with no merges inside the indicator blocks, every entry cell
  unlocked and keyed, `blank_form.*_rows` empty rows per block;
* import model: the blank layout with as many rows per block as the uploaded file has (counted
  from the merged caption in column A, which grows when a clerk inserts rows), read with
  generators.tables.read_grid. A merged group caption of a filled file lands on its first row;
  `payload_from_values` fills it down, which also accepts clerks who write a caption once.

Column A holds the section captions; B–H the indicator table: 一级指标 | 二级指标 | 三级指标 |
指标性质 | 指标值 | 度量单位 | 指标解释. Other rows span those columns as the official form does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from generators.grid import Cell, Column, Sheet, Workbook
from rules.indicators import OPERATORS, TREE_LABELS, TREES
from rules.rounding import total

PROJECT_TITLE = "项目支出绩效目标申报表"
DEPARTMENT_TITLE = "部门（单位）整体支出绩效目标申报表"
PROJECT_SHEET = "项目支出绩效目标申报表"
DEPARTMENT_SHEET = "部门整体支出绩效目标申报表"

COLUMNS = (14, 10, 12, 20, 8, 11, 9, 18)  # A fits 主管部门及代码 on one line
INDICATOR_HEADERS = ("一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "指标解释")
INDICATOR_FIELDS = ("level1", "level2", "name", "operator", "target_value", "measure_unit", "explanation")
INDICATOR_VALIDATIONS = {"level1": "level1", "level2": "level2", "operator": "operator", "measure_unit": "measure_unit"}
BLOCK_CAPTIONS = {"midterm": "中期绩效指标", "annual": "年度绩效指标"}
TASK_CAPTION = "年度主要任务"
DEPARTMENT_INDICATOR_CAPTION = "年度绩效指标"
FUND_ROWS = (("total", "资金总额"), ("fiscal_appropriation", "　其中：财政拨款"), ("other_funds", "　　　　其他资金"))

NOTES = (
    "填报说明：1.金额单位为万元，保留两位小数；财政拨款与其他资金之和应等于资金总额。",
    "2.定量指标在“指标性质”栏选择≥、≤或=，“指标值”栏只填数字（时效指标可填日期，如12月31日），单位填在“度量单位”栏；"
    "无法量化的指标选择“定性”，指标值填写分级表述（如好、较好、一般）。",
    "3.一级指标、二级指标相同的行可只在第一行填写；空行导入时自动忽略。",
)


def _tree(data: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    tree = str(data.get("tree") or settings["declaration"]["tree"])
    return tree if tree in TREES else "2020"


def validation_lists(tree: str, settings: Mapping[str, Any]) -> dict[str, list[str]]:
    """The blank workbook's drop-down lists (the web form offers the same ones); an unknown or
    empty `tree` is the settings' default."""
    captions = TREES[_tree({"tree": tree}, settings)]
    choices = settings["target_declaration"]["choices"]
    return {
        "level1": list(captions),
        "level2": list(dict.fromkeys(c for level2 in captions.values() for c in level2)),
        "operator": list(OPERATORS),
        "measure_unit": list(choices["measure_units"]),
        "tree": list(TREE_LABELS.values()),
        "project_attribute": list(choices["project_attributes"]),
    }


def _year_text(year: Any) -> str:
    return f"（{year}年度）" if year else "（　　　　年度）"


class _Builder:
    """Row helpers that know whether they build the filled or the blank form."""

    def __init__(self, sheet: Sheet, blank: bool):
        self.sheet, self.blank = sheet, blank

    def entry(self, data: Mapping[str, Any] | None, path: str, kind: str = "text", colspan: int = 1,
              rowspan: int = 1, validation: str | None = None, align: str | None = None) -> Cell:
        """A cell holding the value at `path` (dotted) — empty in the blank form."""
        value = None if self.blank or data is None else _get(data, path)
        if kind == "text" and value is not None and not isinstance(value, str):
            value = _plain(value)
        return Cell(value, kind, colspan=colspan, rowspan=rowspan, editable=True, key=path,
                    validation=validation, align=align)

    def indicator_block(self, caption: str, path: str, rows: list[Mapping[str, Any]], count: int) -> None:
        """The caption cell in column A over a header row and `count` indicator rows; the header
        row is repeated on every page the block runs onto."""
        self.sheet.captions.append((len(self.sheet.rows), 1))
        self.sheet.add(Cell(caption, "label", rowspan=count + 1),
                       *(Cell(h, "header") for h in INDICATOR_HEADERS))
        if self.blank:
            for i in range(count):
                self.sheet.add(*(self.entry(None, f"{path}.{i}.{f}", validation=INDICATOR_VALIDATIONS.get(f),
                                            align="center" if f in ("operator", "measure_unit") else None)
                                 for f in INDICATOR_FIELDS))
            return
        spans1 = _runs([r.get("level1") for r in rows])
        spans2 = _runs([(r.get("level1"), r.get("level2")) for r in rows])
        for i, row in enumerate(rows):
            cells = []
            if i in spans1:
                cells.append(Cell(row.get("level1") or None, "label", rowspan=spans1[i], editable=True,
                                  key=f"{path}.{i}.level1", validation="level1"))
            if i in spans2:
                cells.append(Cell(row.get("level2") or None, "label", rowspan=spans2[i], editable=True,
                                  key=f"{path}.{i}.level2", validation="level2"))
            for f in INDICATOR_FIELDS[2:]:
                cells.append(self.entry(rows[i], f, validation=INDICATOR_VALIDATIONS.get(f),
                                        align="center" if f in ("operator", "measure_unit") else None))
                cells[-1].key = f"{path}.{i}.{f}"
            self.sheet.add(*cells)


def _runs(values: list[Any]) -> dict[int, int]:
    """{first index: length} of each run of equal consecutive values."""
    runs: dict[int, int] = {}
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[start]:
            runs[start] = i - start
            start = i
    return runs


def _get(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if isinstance(node, list):
            node = node[int(part)] if part.isdigit() and int(part) < len(node) else None
        elif isinstance(node, Mapping):
            node = node.get(part)
        else:
            return None
    return node


def _plain(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


# ------------------------------------------------------------------------------ project form


def project_sheet(data: Mapping[str, Any] | None, settings: Mapping[str, Any], blank: bool = False,
                  counts: Mapping[str, int] | None = None) -> Sheet:
    """项目支出绩效目标申报表. `counts` (blank layouts only) overrides the empty rows per block."""
    data = data or {}
    tree = _tree(data, settings)
    sheet = Sheet(PROJECT_SHEET, [Column(w) for w in COLUMNS], title_rows=2, header_rows=1,
                  validations=validation_lists(tree, settings), protect=True)
    b = _Builder(sheet, blank)
    sheet.add(Cell(PROJECT_TITLE, "title", colspan=8))
    year = Cell(_year_text(None if blank else data.get("year")), "subtitle", colspan=8, editable=True, key="year")
    sheet.add(year)
    sheet.add(Cell("项目名称", "label"), b.entry(data, "project_name", colspan=7))
    sheet.add(Cell("主管部门及代码", "label"), b.entry(data, "department", colspan=2),
              b.entry(data, "department_code", align="center"),
              Cell("实施单位", "label"), b.entry(data, "implementing_unit", colspan=3))
    sheet.add(Cell("项目属性", "label"), b.entry(data, "project_attribute", colspan=3, validation="project_attribute"),
              Cell("项目期", "label"), b.entry(data, "project_period", colspan=3))
    tree_cell = b.entry(data, "tree", colspan=3, validation="tree")
    if not blank:
        tree_cell.value = TREE_LABELS[tree]
    sheet.add(Cell("项目类型", "label"), b.entry(data, "project_type", colspan=3),
              Cell("指标体系", "label"), tree_cell)
    for n, (funds, label) in enumerate((("midterm_funds", "中期"), ("annual_funds", "年度"))):
        for m, (field, caption) in enumerate(FUND_ROWS):
            cells = [Cell("项目资金\n（万元）", "label", rowspan=6)] if n == m == 0 else []
            text = f"{label}{caption}" if field == "total" else caption
            sheet.add(*cells, Cell(text, "label", colspan=3, align="left"),
                      b.entry(data, f"{funds}.{field}", "money", colspan=4))
    sheet.add(Cell("总体目标", "label", rowspan=2), Cell("中期目标", "header", colspan=3),
              Cell("年度目标", "header", colspan=4))
    sheet.add(b.entry(data, "midterm_goal", colspan=3), b.entry(data, "annual_goal", colspan=4))
    blocks = data.get("indicators") or {}
    for block in ("midterm", "annual"):
        rows = list(blocks.get(block) or [])
        count = _block_count(settings, block, counts) if blank else len(rows)
        b.indicator_block(BLOCK_CAPTIONS[block], f"indicators.{block}", rows, max(count, 1) if blank else count)
    sheet.add(Cell("项目负责人", "label"), b.entry(data, "project_lead", colspan=3),
              Cell("联系电话", "label"), b.entry(data, "phone", colspan=3))
    sheet.notes = list(NOTES)
    return sheet


def _block_count(settings: Mapping[str, Any], block: str, counts: Mapping[str, int] | None) -> int:
    if counts and block in counts:
        return counts[block]
    return settings["target_declaration"]["blank_form"][f"{block}_rows"]


def project_workbook(data: Mapping[str, Any], settings: Mapping[str, Any]) -> Workbook:
    return Workbook(f"{data.get('project_name', '')}{PROJECT_TITLE}", [project_sheet(data, settings)],
                    meta={"unit": data.get("implementing_unit", "")})


# ------------------------------------------------------------------------------ department form


def department_sheet(data: Mapping[str, Any] | None, settings: Mapping[str, Any], blank: bool = False,
                     counts: Mapping[str, int] | None = None) -> Sheet:
    """部门（单位）整体支出绩效目标申报表."""
    data = data or {}
    tree = _tree(data, settings)
    sheet = Sheet(DEPARTMENT_SHEET, [Column(w) for w in COLUMNS], title_rows=2, header_rows=1,
                  validations=validation_lists(tree, settings), protect=True)
    b = _Builder(sheet, blank)
    sheet.add(Cell(DEPARTMENT_TITLE, "title", colspan=8))
    sheet.add(Cell(_year_text(None if blank else data.get("year")), "subtitle", colspan=8, editable=True, key="year"))
    sheet.add(Cell("部门（单位）名称", "label"), b.entry(data, "department", colspan=7))
    tree_cell = b.entry(data, "tree", colspan=3, validation="tree")
    if not blank:
        tree_cell.value = TREE_LABELS[tree]
    sheet.add(Cell("部门（单位）代码", "label"), b.entry(data, "department_code", colspan=3),
              Cell("指标体系", "label"), tree_cell)
    sheet.add(Cell("职能职责概述", "label"), b.entry(data, "responsibilities", colspan=7))
    tasks = list(data.get("tasks") or [])
    count = (counts or {}).get("tasks", settings["target_declaration"]["blank_form"]["task_rows"]) if blank else len(tasks)
    sheet.add(Cell(TASK_CAPTION, "label", rowspan=count + 2), Cell("任务名称", "header", colspan=2),
              Cell("主要内容", "header", colspan=3), Cell("预算金额（万元）", "header", colspan=2))
    for i in range(count):
        sheet.add(b.entry(data, f"tasks.{i}.name", colspan=2), b.entry(data, f"tasks.{i}.content", colspan=3),
                  b.entry(data, f"tasks.{i}.amount", "money", colspan=2))
    amounts = [t.get("amount") for t in tasks if t.get("amount") is not None]
    # Computed, so locked: the sum is never typed (blank form: filled in when imported).
    sheet.add(Cell("合计", "label", colspan=5),
              Cell(None if blank or not amounts else total(amounts), "money", colspan=2))
    sheet.add(Cell("年度部门整体支出预算\n（万元）", "label", rowspan=2), Cell("资金总额", "header", colspan=2),
              Cell("财政拨款", "header", colspan=3), Cell("其他资金", "header", colspan=2))
    sheet.add(b.entry(data, "funds.total", "money", colspan=2),
              b.entry(data, "funds.fiscal_appropriation", "money", colspan=3),
              b.entry(data, "funds.other_funds", "money", colspan=2))
    sheet.add(Cell("年度总体目标", "label"), b.entry(data, "annual_goal", colspan=7))
    rows = list(data.get("indicators") or [])
    count = (counts or {}).get("indicators", settings["target_declaration"]["blank_form"]["annual_rows"]) if blank else len(rows)
    b.indicator_block(DEPARTMENT_INDICATOR_CAPTION, "indicators", rows, count)
    sheet.add(Cell("填报人", "label"), b.entry(data, "contact", colspan=3),
              Cell("联系电话", "label"), b.entry(data, "phone", colspan=3))
    sheet.notes = [NOTES[0].replace("财政拨款与其他资金之和应等于资金总额。",
                                    "财政拨款与其他资金之和应等于资金总额，各项任务金额合计不超过资金总额。"), *NOTES[1:]]
    return sheet


def department_workbook(data: Mapping[str, Any], settings: Mapping[str, Any]) -> Workbook:
    return Workbook(f"{data.get('department', '')}{DEPARTMENT_TITLE}", [department_sheet(data, settings)],
                    meta={"unit": data.get("department", "")})


# ------------------------------------------------------------------------------ blank forms and import

SHEETS = {"target_declaration": project_sheet, "department_target_declaration": department_sheet}
TITLES = {"target_declaration": PROJECT_TITLE, "department_target_declaration": DEPARTMENT_TITLE}
# Caption in column A whose merged height gives the rows of each repeated block, and the rows of
# that height that are not data (the header; the tasks also have their 合计).
BLOCKS = {
    "target_declaration": {"midterm": (BLOCK_CAPTIONS["midterm"], 1), "annual": (BLOCK_CAPTIONS["annual"], 1)},
    "department_target_declaration": {"tasks": (TASK_CAPTION, 2), "indicators": (DEPARTMENT_INDICATOR_CAPTION, 1)},
}


def blank_workbook(kind_id: str, settings: Mapping[str, Any], tree: str | None = None) -> Workbook:
    """The empty form a clerk fills offline and imports back."""
    sheet = SHEETS[kind_id]({"tree": tree} if tree else None, settings, blank=True)
    return Workbook(f"{TITLES[kind_id]}（空白表）", [sheet])


def import_sheet(kind_id: str, settings: Mapping[str, Any], counts: Mapping[str, int]) -> Sheet:
    """The layout an uploaded workbook is read with: the blank form with the file's row counts."""
    return SHEETS[kind_id](None, settings, blank=True, counts=counts)


def block_counts(kind_id: str, column_a: list[Any]) -> dict[str, int]:
    """Rows per repeated block from the values of column A. A block's caption is merged down
    over its rows, so the rows below it read empty until the next caption; a clerk who inserts
    rows inside a block extends that merge, and the count follows. Missing captions are left out."""
    texts = [re.sub(r"\s+", "", str(v)) if v is not None else "" for v in column_a]
    found: dict[str, int] = {}
    for block, (caption, extra) in BLOCKS[kind_id].items():
        if caption not in texts:
            continue
        start = texts.index(caption)
        end = next((i for i in range(start + 1, len(texts)) if texts[i]), len(texts))
        found[block] = max(end - start - extra, 0)
    return found


_YEAR = re.compile(r"(\d{4})")
_TEXT_FIELDS_NUMERIC_OK = ("target_value",)


def payload_from_values(kind_id: str, values: Mapping[str, Any]) -> dict:
    """The nested payload of a form from {cell key: value} (see `rows_from_values`)."""
    return rows_from_values(kind_id, values)[0]


def rows_from_values(kind_id: str, values: Mapping[str, Any]) -> tuple[dict, dict[str, list[int]]]:
    """(payload, row map) from {cell key: value}: blanks left out (the schema supplies defaults),
    empty rows dropped, merged or omitted group captions filled down, numbers in text cells turned
    into the text a clerk sees. The row map gives, per repeated block ("indicators.annual",
    "tasks" …), the sheet row number of each payload item, so an error on item 2 can point at
    the row the clerk filled even when blank rows came before it."""
    payload: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if key == "year":
            match = _YEAR.search(str(value))
            value = int(match.group(1)) if match else str(value)
        elif isinstance(value, float | int | Decimal) and not isinstance(value, bool) and not _money_key(key):
            value = _number_text(value)
        _set(payload, key.split("."), value)
    rows: dict[str, list[int]] = {}
    _listify(payload, "", rows)
    if kind_id == "target_declaration":
        blocks = payload.get("indicators") or {}
        for block in ("midterm", "annual"):
            if block in blocks:
                blocks[block] = _fill_down(blocks[block])
    else:
        if "indicators" in payload:
            payload["indicators"] = _fill_down(payload["indicators"])
    return payload, rows


def _money_key(key: str) -> bool:
    return key.endswith((".total", ".fiscal_appropriation", ".other_funds", ".amount"))


def _number_text(value: float | int | Decimal) -> str:
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if number == number.to_integral_value():
        return format(number.quantize(Decimal(1)), "f")
    return format(number.normalize(), "f")


def _set(tree: dict, parts: list[str], value: Any) -> None:
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _listify(node: dict, prefix: str, rows: dict[str, list[int]]) -> None:
    """Dicts keyed by row numbers become lists in row order (the row numbers are sparse after
    blank rows were left out); `rows` records the numbers of each list."""
    for key, value in list(node.items()):
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            _listify(value, path + ".", rows)
            if value and all(k.isdigit() for k in value):
                order = sorted(value, key=int)
                node[key] = [value[k] for k in order]
                rows[path] = [int(k) for k in order]


def _fill_down(rows: list[dict]) -> list[dict]:
    """Level captions left blank take the row above's (a merged group, or written once)."""
    out: list[dict] = []
    previous: dict = {}
    for row in rows:
        row = dict(row)
        if not row.get("level1") and previous.get("level1"):
            row["level1"] = previous["level1"]
            if not row.get("level2") and previous.get("level2"):
                row["level2"] = previous["level2"]
        elif not row.get("level2") and previous.get("level2") and row.get("level1") == previous.get("level1"):
            row["level2"] = previous["level2"]
        out.append(row)
        previous = row
    return out


def cell_labels(sheet: Sheet) -> dict[str, tuple[int, int, str]]:
    """{key: (row, column, caption)} of every keyed cell, 0-based. The caption is the label to
    the left in the same row, else the column header above (indicator, task and fund rows)."""
    grid = sheet.matrix()
    labels: dict[str, tuple[int, int, str]] = {}
    headers: dict[int, str] = {}
    for r, c, cell in sheet.placed():
        if cell.kind == "header":
            for dc in range(cell.colspan):
                headers[c + dc] = str(cell.value)
        if cell.key is None:
            continue
        left = next((grid[r][k] for k in range(c - 1, -1, -1)
                     if grid[r][k] is not None and grid[r][k].key is None), None)
        if cell.key == "year":
            caption = "年度"
        elif left is not None and left.kind == "label" and not _ROW_KEY.search(cell.key):
            caption = str(left.value)
        else:
            caption = headers.get(c, cell.key)
        labels[cell.key] = (r, c, caption.strip("\u3000 "))
    return labels


_ROW_KEY = re.compile(r"\.\d+\.")


# ------------------------------------------------------------------------------ reading a workbook

SHEET_NAMES = {"target_declaration": PROJECT_SHEET, "department_target_declaration": DEPARTMENT_SHEET}


def read_declaration(kind_id: str, content: bytes, settings: Mapping[str, Any]):
    """(payload, locate) from an uploaded workbook of this form, blank-filled or generated.

    `locate(errors)` turns the schema's {path: [messages]} into the same paths with messages that
    name the sheet, row, column and caption ("工作表“…”第31行F列（指标值）：…"), so a clerk
    finds the cell to fix. Raises generators.tables.XlsxImportError (messages already located)
    when the file cannot be read or its captions are not where the form puts them.
    """
    from generators.tables.reader import Messages, XlsxImportError, read_grid, read_workbook

    name = SHEET_NAMES[kind_id]
    sheets = read_workbook(content)
    if name not in sheets:
        raise XlsxImportError(Messages.missing_sheet.format(sheet=name))
    column_a = [row[0] if row else None for row in sheets[name]]
    sheet = import_sheet(kind_id, settings, block_counts(kind_id, column_a))
    payload, rows = rows_from_values(kind_id, read_grid(content, sheet))
    labels = cell_labels(sheet)
    captions = {caption: r for r, _c, cell in sheet.placed() if cell.kind == "label" and cell.rowspan > 1
                for caption in [str(cell.value)]}

    def where(path: str) -> str:
        key = _sheet_key(path, rows)
        if key in labels:
            r, c, caption = labels[key]
            return f"工作表“{name}”第{r + 1}行{_letter(c)}列（{caption}）"
        block = _BLOCK_OF.get(path)
        if block in captions:
            return f"工作表“{name}”第{captions[block] + 1}行起（{block}）"
        inside = sorted(v[0] for k, v in labels.items() if k.startswith(key + "."))
        if inside:
            return f"工作表“{name}”第{inside[0] + 1}行"
        return f"工作表“{name}”"

    def locate(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
        return {path: [f"{where(path)}：{m}" for m in messages] for path, messages in errors.items()}

    return payload, locate


_BLOCK_OF = {"indicators.midterm": BLOCK_CAPTIONS["midterm"], "indicators.annual": BLOCK_CAPTIONS["annual"],
             "indicators": DEPARTMENT_INDICATOR_CAPTION, "tasks": TASK_CAPTION}


def _sheet_key(path: str, rows: Mapping[str, list[int]]) -> str:
    """The cell key of a payload path: item numbers replaced by the sheet row numbers."""
    for prefix, numbers in rows.items():
        if path.startswith(prefix + "."):
            index, _, rest = path[len(prefix) + 1:].partition(".")
            if index.isdigit() and int(index) < len(numbers):
                return f"{prefix}.{numbers[int(index)]}" + (f".{rest}" if rest else "")
    return path


def _letter(col: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(col + 1)
