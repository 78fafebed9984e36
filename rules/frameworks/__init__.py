"""Evaluation frameworks (指标体系框架) as data, their loader/validator and framework scoring.

The frameworks are TOML (or JSON) files next to this module — project_2020 (财预〔2020〕10号
附件2), department_2013 (财预〔2013〕53号), department_sichuan (a local variant), ex_ante
(事前绩效评估) — so a bureau replaces points or items without code: put its own file in the
directory named by settings `scoring.frameworks.directory` (searched first) and/or point
`scoring.frameworks.<kind>` at it.

File shape (points: integers or quoted decimals such as "2.5")::

    id = "project_2020"            title = "…"          kind = "project_evaluation"
    basis = "…"                    note = "…"           points_are_local_default = true
    [variants]                     # optional: variant key → the title used for that variant
    policy = "政策事前绩效评估指标体系"
    [[items]]                      # first level; points sum to 100
    name = "决策"  points = 20  note = "…"  variants = { policy = "…" }
      [[items.items]]              # any depth; children's points sum to the parent's
      …

Items get positional codes "1", "1.2", "1.2.3" (1-based, in file order); scores of a filled
framework are keyed by the codes of its leaves.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from rules.rounding import AMOUNT_LIMIT, HUNDRED, ZERO, quantize, total
from rules.scoring import ex_ante_conclusion, grade, points_text, section, setting_decimal

FRAMEWORKS_DIR = Path(__file__).parent
KINDS = {
    "project_evaluation": "项目支出绩效评价",
    "department_evaluation": "部门整体支出绩效评价",
    "ex_ante_assessment": "事前绩效评估",
}
FULL_POINTS = HUNDRED


class FrameworkError(ValueError):
    """A framework file or a set of framework scores is invalid; `messages` maps paths to
    Chinese messages."""

    def __init__(self, messages: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {'；'.join(v)}" for k, v in messages.items()))
        self.messages = messages


@dataclass(frozen=True)
class FrameworkItem:
    code: str                           # "2.1.3"
    name: str
    points: Decimal
    items: tuple[FrameworkItem, ...] = ()
    note: str = ""

    @property
    def level(self) -> int:
        return self.code.count(".") + 1

    @property
    def is_leaf(self) -> bool:
        return not self.items

    def walk(self):
        yield self
        for child in self.items:
            yield from child.walk()


@dataclass(frozen=True)
class Framework:
    id: str
    title: str
    kind: str
    basis: str
    items: tuple[FrameworkItem, ...]
    points_are_local_default: bool = False
    note: str = ""
    variant: str | None = None
    variants: tuple[tuple[str, str], ...] = ()   # (key, description) available in the file

    def walk(self) -> list[FrameworkItem]:
        """Every item, depth first, in file order."""
        return [node for item in self.items for node in item.walk()]

    def leaves(self) -> list[FrameworkItem]:
        return [node for node in self.walk() if node.is_leaf]

    def item(self, code: str) -> FrameworkItem:
        for node in self.walk():
            if node.code == code:
                return node
        raise KeyError(code)

    @property
    def total_points(self) -> Decimal:
        return total(i.points for i in self.items)


# --------------------------------------------------------------------------- validation

def _points(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return setting_decimal(value)
    except (TypeError, ValueError):
        return None


def validate_framework(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Chinese messages by path ('items.0.items.1.points') for a framework as read from a file."""
    errors: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    for key, label in (("id", "标识（id）"), ("title", "名称（title）")):
        if not isinstance(data.get(key), str) or not data[key].strip():
            add(key, f"须填写框架{label}")
    if data.get("kind") not in KINDS:
        add("kind", f"框架类型（kind）“{data.get('kind') or ''}”无效，应为{'、'.join(KINDS)}之一")
    variants = data.get("variants") or {}
    if not isinstance(variants, Mapping):
        add("variants", "variants须为“变体标识 = 说明”的表")
        variants = {}

    def check(items, path: str, parent_name: str | None, parent_points: Decimal | None) -> None:
        if not isinstance(items, list) or not items:
            add(path, "须至少包含一个指标" if parent_name is None else f"“{parent_name}”的下级指标不能为空")
            return
        seen: set[str] = set()
        sums: list[Decimal] = []
        for i, item in enumerate(items):
            here = f"{path}.{i}"
            if not isinstance(item, Mapping):
                add(here, "指标须为表（name、points）")
                continue
            name = item.get("name")
            if not isinstance(name, str) or not name.strip():
                add(f"{here}.name", "须填写指标名称")
                name = f"第{i + 1}项"
            elif name in seen:
                add(f"{here}.name", f"同一层级下指标名称“{name}”重复")
            seen.add(name)
            points = _points(item.get("points"))
            if points is None:
                add(f"{here}.points", f"“{name}”须填写分值（数值）")
            elif points <= ZERO:
                add(f"{here}.points", f"“{name}”的分值须大于0，实际为{points_text(points)}分")
            else:
                sums.append(points)
            item_variants = item.get("variants") or {}
            if not isinstance(item_variants, Mapping):
                add(f"{here}.variants", "variants须为“变体标识 = 指标名称”的表")
                item_variants = {}
            for key, label in item_variants.items():
                if key not in variants:
                    add(f"{here}.variants", f"变体“{key}”未在框架的variants中声明")
                elif not isinstance(label, str) or not label.strip():
                    add(f"{here}.variants", f"变体“{key}”的指标名称不能为空")
            if "items" in item:
                check(item["items"], f"{here}.items", name, points)
        if len(sums) != len(items):
            return  # a sum over missing points would only repeat the message above
        got = total(sums)
        if parent_name is None and got != FULL_POINTS:
            add(path, f"一级指标分值合计应为{points_text(FULL_POINTS)}分，实际为{points_text(got)}分")
        elif parent_name is not None and parent_points is not None and got != parent_points:
            add(path, f"“{parent_name}”下各项分值合计（{points_text(got)}分）应等于其分值"
                      f"（{points_text(parent_points)}分）")

    check(data.get("items"), "items", None, None)
    return errors


# --------------------------------------------------------------------------- loading

def _build(items, prefix: str, variant: str | None) -> tuple[FrameworkItem, ...]:
    out = []
    for i, item in enumerate(items, start=1):
        code = f"{prefix}{i}"
        name = item["name"]
        if variant:  # an item without a label for this variant keeps its own name
            name = (item.get("variants") or {}).get(variant) or name
        out.append(FrameworkItem(
            code=code,
            name=name.strip(),
            points=setting_decimal(item["points"]),
            items=_build(item.get("items") or [], f"{code}.", variant),
            note=item.get("note", ""),
        ))
    return tuple(out)


def framework_from_data(data: Mapping[str, Any], variant: str | None = None) -> Framework:
    """Validate raw framework data (e.g. an uploaded file) and build a Framework."""
    errors = validate_framework(data)
    variants = data.get("variants") or {}
    if variant is not None and variant not in variants:
        errors.setdefault("variants", []).append(f"框架“{data.get('title', '')}”没有变体“{variant}”")
    if errors:
        raise FrameworkError(errors)
    title = data["title"].strip()
    if variant:
        title = variants[variant].strip()
    return Framework(
        id=data["id"].strip(),
        title=title,
        kind=data["kind"],
        basis=data.get("basis", ""),
        items=_build(data["items"], "", variant),
        points_are_local_default=bool(data.get("points_are_local_default", False)),
        note=data.get("note", ""),
        variant=variant,
        variants=tuple(variants.items()),
    )


def read_framework_file(path: str | Path) -> dict:
    path = Path(path)
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _search_dirs(settings) -> list[Path]:
    extra = (section(settings).get("frameworks") or {}).get("directory") or ""
    return ([Path(extra)] if extra else []) + [FRAMEWORKS_DIR]


def framework_path(name: str, settings=None) -> Path:
    """The file for a framework name: the bureau's directory first, then the built-in files."""
    for directory in _search_dirs(settings):
        for suffix in (".toml", ".json"):
            candidate = directory / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(f"framework {name!r} not found in {[str(d) for d in _search_dirs(settings)]}")


def load_framework(name: str | Path | None = None, *, kind: str | None = None,
                   variant: str | None = None, settings=None) -> Framework:
    """Load and validate a framework by name ('project_2020'), by file path, or by kind
    (the file named in settings scoring.frameworks.<kind>). FrameworkError when invalid."""
    if name is None:
        if kind not in KINDS:
            raise ValueError(f"give a framework name or one of the kinds {list(KINDS)}")
        name = section(settings)["frameworks"][kind]
    path = Path(name) if isinstance(name, Path) or Path(str(name)).suffix else framework_path(name, settings)
    return framework_from_data(read_framework_file(path), variant)


def list_frameworks(settings=None) -> list[dict[str, str]]:
    """id, title, kind and path of each framework file found (bureau files shadow built-ins)."""
    found: dict[str, dict[str, str]] = {}
    for directory in _search_dirs(settings):
        for path in sorted(directory.glob("*.toml")) + sorted(directory.glob("*.json")):
            if path.stem in found:
                continue
            try:
                data = read_framework_file(path)
            except (OSError, ValueError):
                continue
            found[path.stem] = {"id": str(data.get("id", path.stem)), "title": str(data.get("title", "")),
                                "kind": str(data.get("kind", "")), "path": str(path)}
    return list(found.values())


# --------------------------------------------------------------------------- scoring a filled framework

def validate_framework_scores(framework: Framework, scores: Mapping[str, Any]) -> dict[str, list[str]]:
    """Chinese messages keyed 'scores.<code>': every leaf scored, 0 ≤ score ≤ points, no strays."""
    errors: dict[str, list[str]] = {}
    leaves = {leaf.code: leaf for leaf in framework.leaves()}
    for code, leaf in leaves.items():
        raw = scores.get(code)
        path = f"scores.{code}"
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            errors.setdefault(path, []).append(f"“{leaf.name}”（{code}）未评分")
            continue
        value = _points(raw)
        if value is None:
            errors.setdefault(path, []).append(f"“{leaf.name}”（{code}）的得分不是数值")
            continue
        if abs(value) >= AMOUNT_LIMIT:  # far outside every band, and beyond what quantize can hold
            errors.setdefault(path, []).append(
                f"“{leaf.name}”（{code}）的得分应在0分至{points_text(leaf.points)}分之间")
            continue
        value = quantize(value)
        if value < ZERO or value > leaf.points:
            errors.setdefault(path, []).append(
                f"“{leaf.name}”（{code}）的得分应在0分至{points_text(leaf.points)}分之间，"
                f"实际为{points_text(value)}分")
    for code in scores:
        if code not in leaves:
            errors.setdefault(f"scores.{code}", []).append(f"框架中没有末级指标“{code}”")
    return errors


def score_framework(framework: Framework, scores: Mapping[str, Any], settings=None) -> dict:
    """Totals of a filled framework. `scores` maps leaf codes to the evaluator's scores.

    Leaf scores are taken at 2 dp (half-up); parents are exact sums of their children, so the
    printed sheet adds up. Every item carries its rating (优/良/中/差 as a percentage of its
    points). Returns {"framework", "title", "items": [{code, name, level, points, score,
    grade, grade_label}], "dimensions": [first-level items only], "total", "grade",
    "grade_label"} plus "conclusion"/"conclusion_label" for 事前绩效评估. FrameworkError when a
    score is missing, not a number, negative or above the item's points.
    """
    errors = validate_framework_scores(framework, scores)
    if errors:
        raise FrameworkError(errors)

    rows: list[dict] = []

    def visit(item: FrameworkItem) -> Decimal:
        row = {"code": item.code, "name": item.name, "level": item.level, "points": item.points}
        rows.append(row)
        if item.is_leaf:
            value = quantize(_points(scores[item.code]))
        else:
            value = total(visit(child) for child in item.items)
        key, label = grade(value, settings, points=item.points)
        row.update(score=value, grade=key, grade_label=label)
        return value

    grand = total(visit(item) for item in framework.items)
    key, label = grade(grand, settings)
    result = {
        "framework": framework.id,
        "title": framework.title,
        "items": rows,
        "dimensions": [r for r in rows if r["level"] == 1],
        "total": grand,
        "grade": key,
        "grade_label": label,
    }
    if framework.kind == "ex_ante_assessment":
        result["conclusion"], result["conclusion_label"] = ex_ante_conclusion(grand, settings)
    return result
