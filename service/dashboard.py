"""The finance bureau's 统计 page: for one year, which units have declared, been monitored,
self-evaluated and published (and who is late against the monitoring due dates), the 量化率,
执行率 and 完成率 by department, the grade distribution of the self-evaluations, as tables and
server-rendered SVG charts; and “起草总结报告”, which drafts the yearly report and its 请示 from
the same stored data.

Every figure comes from rules.statistics.compute over storage.records.load_units — the same
numbers the summary report states — computed once for all units and once per department.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from forms.base import FieldErrors
from forms.drafts import SummaryDraftSchema
from generators.charts import bar_chart
from jobs.files import csv_cell
from kinds import get as get_kind
from rules.periods import due_date, parse_period
from rules.rounding import percent
from rules.statistics import PROJECT, SCOPE_LABELS, Statistics, compute
from service.database import get_db
from service.downloads import content_disposition
from service.drafts import summary_drafts
from service.formview import error_links, parse_form, path_label, widgets
from service.gate import roles_required
from service.roles import SEE_ALL
from service.sessions import current_user
from service.settings_store import current_settings
from service.timefmt import local_today
from service.workflow import store_submission
from storage.models import Unit
from storage.records import ALL_KINDS, NotReady, Refused, Unassigned, YearDocuments, load_units, year_documents

bp = Blueprint("dashboard", __name__, url_prefix="/statistics")

NO_DEPARTMENT = "（未归属主管部门）"
DECLARED = ("target_declaration", "department_target_declaration")
MONITORED = ("monitoring", "department_monitoring")
EVALUATED = ("self_evaluation", "department_self_evaluation")
DISCLOSED = ("disclosure",)
PAGE_KINDS = tuple(dict.fromkeys(ALL_KINDS + DECLARED + MONITORED + EVALUATED + DISCLOSED))


@dataclass
class Coverage:
    """One unit's row: what it has filed this year, and the monitoring returns it owes."""

    code: str
    name: str
    department: str
    declared: int = 0
    monitored: int = 0
    evaluated: int = 0
    disclosed: int = 0
    monitored_to: int = 0  # the last month its monitoring covers
    late: list[str] = field(default_factory=list)  # periods past their due date, not filed


def _year() -> int:
    today = local_today(current_app.config["TIMEZONE"])
    try:
        year = int(request.values.get("year", ""))
    except ValueError:
        return today.year - 1 if today.month < 7 else today.year
    return year if 2000 <= year <= 2100 else today.year


def coverage(documents: YearDocuments, year: int, settings: Mapping[str, Any], today: _dt.date) -> list[Coverage]:
    """Every unit known to the service (and every unit named in the year's documents), in code
    order, with what it filed in `year` and which monitoring returns are late."""
    rows: dict[str, Coverage] = {}
    with get_db().read() as session:
        for unit in session.scalars(select(Unit).options(selectinload(Unit.department)).order_by(Unit.code)):
            rows[unit.code] = Coverage(unit.code, unit.name, unit.department.name if unit.department else NO_DEPARTMENT)
    for unit, fact in documents.documents:
        row = rows.get(unit["code"]) or rows.setdefault(unit["code"], Coverage(unit["code"], unit["name"], NO_DEPARTMENT))
        if fact.kind in DECLARED:
            row.declared += 1
        elif fact.kind in MONITORED:
            row.monitored += 1
            row.monitored_to = max(row.monitored_to, fact.period_end)
        elif fact.kind in EVALUATED:
            row.evaluated += 1
        elif fact.kind in DISCLOSED:
            row.disclosed += 1
    for label in settings["monitoring"]["periods"]["due"]:
        if due_date(year, label, settings) < today:
            end = parse_period(label).end_month
            for row in rows.values():
                if row.monitored_to < end:
                    row.late.append(label)
    return sorted(rows.values(), key=lambda r: r.code)


# ------------------------------------------------------------------ the unit list: filtered, paged
#
# 10,000 units' rows made a 4.9 MB page (bench/FIGURES.md): the page shows PAGE_SIZE of them, by
# department, status and a search on name or code, with plain links and a GET form (no script);
# the totals above count all units, and units.csv lists all of them.

PAGE_SIZE = 50
STATUSES = {
    "": "全部",
    "incomplete": "有未提交项",
    "undeclared": "目标未申报",
    "unmonitored": "监控未报",
    "late": "监控逾期",
    "unevaluated": "未自评",
    "undisclosed": "未提交公开材料",
}
_MISSING = {"undeclared": "declared", "unmonitored": "monitored", "unevaluated": "evaluated",
            "undisclosed": "disclosed"}


@dataclass(frozen=True)
class UnitFilter:
    """What the unit list shows: a department (its name), a status (STATUSES), a search text."""

    department: str = ""
    status: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> UnitFilter:
        status = (args.get("status") or "").strip()
        return cls(department=(args.get("department") or "").strip()[:100],
                   status=status if status in STATUSES else "", q=(args.get("q") or "").strip()[:100])

    def __bool__(self) -> bool:
        return bool(self.department or self.status or self.q)

    def keeps(self, row: Coverage) -> bool:
        if self.department and row.department != self.department:
            return False
        if self.q and self.q.casefold() not in row.name.casefold() and self.q.casefold() not in row.code.casefold():
            return False
        if self.status == "late":
            return bool(row.late)
        if self.status == "incomplete":
            return bool(row.late) or not all(getattr(row, k) for k in _MISSING.values())
        if self.status in _MISSING:
            return not getattr(row, _MISSING[self.status])
        return True

    def args(self) -> dict[str, str]:
        return {k: v for k, v in (("department", self.department), ("status", self.status), ("q", self.q)) if v}


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def unit_page(rows: list[Coverage], wanted: UnitFilter, number: int, size: int = PAGE_SIZE) -> dict:
    """The rows `wanted` keeps, page `number` of them (the last when past it), and the counts."""
    kept = [r for r in rows if wanted.keeps(r)] if wanted else rows
    pages = max(1, -(-len(kept) // size))
    number = min(number, pages)
    start = (number - 1) * size
    return {"rows": kept[start:start + size], "matched": len(kept), "page": number, "pages": pages,
            "first": start + 1 if kept else 0, "last": min(start + size, len(kept))}


CSV_HEADER = ("单位代码", "单位名称", "主管部门", "目标申报（份）", "运行监控（份）", "监控截至月份", "逾期未报监控",
              "绩效自评（份）", "信息公开材料")


def units_csv(rows: list[Coverage]) -> str:
    """Every unit's row as CSV for Excel and WPS: UTF-8 with a BOM, every cell quoted, no cell
    read as a formula (jobs.files.csv_cell)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow([csv_cell(v) for v in (
            r.code, r.name, r.department, r.declared, r.monitored, f"{r.monitored_to}月" if r.monitored_to else "",
            "、".join(r.late), r.evaluated, "已提交" if r.disclosed else "未提交")])
    return buffer.getvalue()


def _department_of(units: list[dict], departments: Mapping[str, str]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for entry in units:
        groups.setdefault(departments.get(entry["unit"]["code"], NO_DEPARTMENT), []).append(entry)
    return dict(sorted(groups.items()))


def department_rows(stats_by_department: Mapping[str, Statistics]) -> list[dict]:
    """量化率 (project declarations, pooled), 执行率 and 完成率 (monitoring) per department."""
    rows = []
    for name, stats in stats_by_department.items():
        indicators = stats.indicators.get(PROJECT)
        overall = stats.monitoring.overall if stats.monitoring else None
        rows.append({
            "department": name, "units": stats.units,
            "quantified_ratio": percent(indicators.pooled_quantified_ratio) if indicators else None,
            "execution_rate": percent(overall.execution_rate) if overall else None,
            "completion_rate": percent(overall.target_completion_rate) if overall else None,
        })
    return rows


def _shown(value) -> str:
    return "—" if value is None else f"{value}%"


def charts(figures: dict, departments: list[dict]) -> dict[str, Markup]:
    """The page's SVG charts (generators.charts escapes every label)."""
    out: dict[str, Markup] = {}
    for key, title in (("execution_rate", "各部门预算执行率"), ("completion_rate", "各部门绩效目标完成率"),
                       ("quantified_ratio", "各部门三级指标量化率")):
        bars = [(row["department"], row[key], _shown(row[key])) for row in departments]
        if bars:
            out[key] = Markup(bar_chart(title, bars, maximum=100))  # noqa: S704 - escaped by bar_chart
    for scope, evaluation in figures["self_evaluations"].items():
        grades = evaluation["grades"]
        bars = [(g["label"], g["count"], f"{g['count']}个（{g['share']}%）") for g in grades]
        out[f"grades_{scope}"] = Markup(bar_chart(f"{SCOPE_LABELS[scope]}自评等级分布", bars,  # noqa: S704
                                                  maximum=max([g["count"] for g in grades] + [1]), colour="#b36b00"))
    return out


def _draft_defaults(year: int, settings: Mapping[str, Any]) -> dict:
    letterhead = settings.get("letterhead", {})
    issuer = letterhead.get("issuer") or ""
    return {"year": year, "issuer": issuer, "region": issuer.removesuffix("财政局")}


@bp.route("", methods=["GET"])
@roles_required(*SEE_ALL)
def index():
    return _page(_year(), {}, None, 200)


@dataclass
class PageData:
    """What the 统计 page shows for a year, before it is rendered."""

    rows: list[Coverage]
    units: list[dict]
    stats: Statistics
    by_department: dict[str, Statistics]
    refused: list[Refused] = field(default_factory=list)  # no longer valid: left out, listed
    unassigned: list[Unassigned] = field(default_factory=list)  # stored under no unit: left out, listed


def page_data(year: int, settings: Mapping[str, Any], today: _dt.date | None = None,
              budget: float | None = None) -> PageData:
    """The page's coverage rows and figures (overall and per department) for `year`; NotReady
    when `budget` seconds of validating did not read every document."""
    today = today or local_today(current_app.config["TIMEZONE"])
    db = get_db()
    documents = year_documents(db, year, PAGE_KINDS, settings, budget=budget)
    rows = coverage(documents, year, settings, today)
    units = load_units(db, year, settings, documents=documents)
    by_department = {name: compute(group, settings) for name, group in
                     _department_of(units, {r.code: r.department for r in rows}).items()}
    return PageData(rows, units, compute(units, settings), by_department, documents.refused, documents.unassigned)


SHOWN_REFUSED = 200  # listed on the page; the count says how many more


def refused_rows(refused: list[Refused], settings: Mapping[str, Any], limit: int = SHOWN_REFUSED) -> list[dict]:
    """The documents left out of the figures, with their fields' labels and first messages."""
    out = []
    for doc in refused[:limit]:
        kind = get_kind(doc.kind)
        schema = kind.schema_instance(settings=settings)
        problems = [f"{path_label(schema, path)}：{messages[0]}" for path, messages in list(doc.errors.items())[:3]]
        out.append({"public_id": doc.public_id, "title": doc.title, "kind_name": kind.name,
                    "unit": doc.unit["name"], "problems": problems})
    return out


def unassigned_rows(unassigned: list[Unassigned], limit: int = SHOWN_REFUSED) -> list[dict]:
    """The documents stored under no unit, with the unit their data names, if any."""
    return [{"public_id": doc.public_id, "title": doc.title, "kind_name": get_kind(doc.kind).name,
             "claim": (doc.claim or {}).get("name") or (doc.claim or {}).get("code") or ""}
            for doc in unassigned[:limit]]


def _budget() -> float:
    return float(current_app.config["STATISTICS_BUDGET_S"])


def _preparing(year: int, exc: NotReady, drafting: bool = False):
    """The page while the year's documents are still being validated: how far, and a reload of
    the 统计 page in 5 s (the Refresh header: a GET, also after the 起草 form's POST)."""
    page = render_template("dashboard/preparing.html", year=year, message=exc.message, done=exc.done,
                           total=exc.total, drafting=drafting)
    response = current_app.make_response((page, 503))
    response.headers["Retry-After"] = "5"
    response.headers["Refresh"] = f"5; url={url_for('dashboard.index', year=year)}"
    return response


def _page(year: int, draft_errors: dict, draft_values: dict | None, status: int):
    settings = current_settings()
    today = local_today(current_app.config["TIMEZONE"])
    try:
        data = page_data(year, settings, today, _budget())
    except NotReady as exc:
        return _preparing(year, exc)
    rows, figures = data.rows, data.stats.as_dict()
    departments = department_rows(data.by_department)
    totals = {key: sum(1 for r in rows if getattr(r, key)) for key in ("declared", "monitored", "evaluated", "disclosed")}
    schema = SummaryDraftSchema(settings=settings)
    draft_form = widgets(schema, draft_values if draft_values is not None else _draft_defaults(year, settings),
                         draft_errors)
    due = [{"period": label, "due": due_date(year, label, settings)} for label in settings["monitoring"]["periods"]["due"]]
    wanted = UnitFilter.from_args(request.args)
    listed = unit_page(rows, wanted, _page_number(request.args.get("page")))
    return render_template(
        "dashboard/index.html", year=year, rows=rows, totals=totals, wanted=wanted, listed=listed,
        statuses=STATUSES, department_names=sorted({r.department for r in rows}), figures=figures, departments=departments,
        charts=charts(figures, departments), scope_labels=SCOPE_LABELS, due=due, today=today,
        draft_form=draft_form, draft_errors=error_links(draft_form) if draft_errors else [],
        late=sum(1 for r in rows if r.late),
        refused=refused_rows(data.refused, settings), refused_count=len(data.refused),
        unassigned=unassigned_rows(data.unassigned), unassigned_count=len(data.unassigned),
    ), status


@bp.get("/units.csv")
@roles_required(*SEE_ALL)
def units_download():
    """Every unit's row of the 统计 page (not only the page shown) as a CSV file."""
    year = _year()
    settings = current_settings()
    try:
        data = page_data(year, settings, budget=_budget())
    except NotReady as exc:
        return _preparing(year, exc)
    response = Response(units_csv(data.rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = content_disposition(f"{year}年度各单位填报情况.csv")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/draft-summary")
@roles_required(*SEE_ALL)
def draft_summary():
    """起草总结报告: the report and its 请示 from the stored data, saved as two drafts the bureau
    edits and submits in their own forms."""
    settings = current_settings()
    schema = SummaryDraftSchema(settings=settings)
    values = parse_form(request.form, schema)
    year = _year()
    try:
        result = summary_drafts(values, settings, lambda y: load_units(get_db(), y, settings, budget=_budget()))
    except FieldErrors as exc:
        return _page(year, exc.errors, values, 422)
    except NotReady as exc:
        return _preparing(year, exc, drafting=True)
    user = current_user()
    report = store_submission(get_kind("report"), result["report"], "save")
    store_submission(get_kind("request"), result["request"], "save")
    flash(f"已起草{values.get('year', year)}年度总结报告及其请示（{user.label}的草稿），请核对后提交。"
          "请示草稿在“文档”中。")
    return redirect(url_for("web.form", kind_id="report", draft=report.public_id))
