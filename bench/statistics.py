"""The bureau's 统计 page and the yearly 总结报告 draft over a county's stored documents:
python -m bench.statistics [--quick] [--units N]

Builds a SQLite database the way the service does (Alembic migrations, storage.models rows: one
主管部门 per 50 units, the units, a 财政局 account and one invited clerk per unit) with N units
(10,000; 1,000 with --quick), each holding the submitted documents the 统计 page reads, made from
the samples with the unit, project name and figures varied: a 绩效目标申报表 (every tenth unit a
部门整体 one), two 执行监控表 (1-6月 and 1-9月), a 自评表 (部门整体 for every tenth unit), a
绩效目标审核表 for every fourth unit and a 绩效信息公开 document for every fifth.

Then, in a fresh process (its peak memory is its own), measures what a bureau user waits for:

    page data   service.dashboard.page_data — what GET /statistics computes before rendering:
                the coverage of every unit and the figures overall and per department
    page        GET /statistics?year= through the Flask test client, signed in as the bureau
    draft data  storage.records.load_units + rules.statistics.compute — what 起草总结报告
                (the page's form, POST /api/v1/drafts/summary, jxdoc draft summary-report) reads

each cold (the first request after the process started, without the request's time budget
STATISTICS_BUDGET_S, which would split it over several requests) and warm (the next one), in wall and CPU
time. The first process finds no facts stored (as after the upgrade that added the table, or a
settings change): its cold page validates every document and writes what it found to the
document_facts table. Then a second fresh process (a restarted service, another worker) measures
the same steps again: its cold page reads the table. Both give, with seconds per 1,000 stored documents, the process's peak RSS (VmHWM) after each step and
the peak of Python allocations (tracemalloc) of one warm page-data call. Every document must be
counted: the run fails when a figure leaves one out. CPU time is the comparable figure on a
shared machine; the load average is printed with it.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from bench.documents import peak_rss_kb

YEAR = 2024
UNITS_FULL, UNITS_QUICK = 10_000, 1000
UNITS_PER_DEPARTMENT = 50
_AMOUNT = re.compile(r"^\d+\.\d\d$")
# Blocks of money whose amounts add up (total = parts): scaled by a whole factor, they still do.
_MONEY_BLOCKS = ("budget", "funds", "annual_funds", "midterm_funds", "tasks")


def _sample(kind_id: str) -> dict:
    import kinds

    return json.loads(kinds.get(kind_id).samples()[0].read_text(encoding="utf-8"))


def _scaled(value, factor: int):
    if isinstance(value, dict):
        return {k: _scaled(v, factor) for k, v in value.items()}
    if isinstance(value, list):
        return [_scaled(v, factor) for v in value]
    if isinstance(value, str) and _AMOUNT.match(value):
        return str(Decimal(value) * factor)
    return value


def _vary(payload: dict, n: int) -> dict:
    """The sample with its money scaled (sums kept) and its executed amounts lowered a little."""
    out = copy.deepcopy(payload)
    out["year"] = YEAR
    factor = 1 + n % 3
    for key in _MONEY_BLOCKS:
        if key in out and isinstance(out[key], (dict, list)):
            out[key] = _scaled(out[key], factor)
    lines = out.get("budget") if isinstance(out.get("budget"), dict) else out.get("funds")
    if isinstance(lines, dict) and "annual_total" in lines and "fiscal_appropriation" in lines:
        cut = Decimal(n % 37)  # 万元 less executed: execution rates and scores differ per unit
        for line in ("annual_total", "fiscal_appropriation"):
            if _AMOUNT.match(str(lines[line].get("executed") or "")):
                lines[line]["executed"] = str(max(Decimal(lines[line]["executed"]) - cut, Decimal("0.00")))
    return out


def unit_documents(n: int, code: str, name: str, templates: dict[str, dict]) -> list[tuple[str, dict]]:
    """(kind, data) of the documents unit number `n` has submitted this year."""
    project = f"{name}{('农村饮水安全巩固提升', '基层卫生人员能力提升培训', '农村公路安全生命防护', '高标准农田建设')[n % 4]}项目"
    docs: list[tuple[str, dict]] = []
    if n % 10 == 9:  # a department's own 部门整体 documents
        declaration = _vary(templates["department_target_declaration"], n)
        declaration.update(department=name, department_code=code)
        evaluation = _vary(templates["department_self_evaluation"], n)
        evaluation.update(unit=name, unit_code=code, department=name)
        docs += [("department_target_declaration", declaration), ("department_self_evaluation", evaluation)]
    else:
        declaration = _vary(templates["target_declaration"], n)
        declaration.update(project_name=project, implementing_unit=name)
        evaluation = _vary(templates["self_evaluation"], n)
        evaluation.update(project_name=project, implementing_unit=name)
        evaluation["budget"].update(deviation_reason="部分工程款按合同约定次年结算。", improvement="加快工程结算进度。")
        # The first indicator's actual value (target ≥ 45 公里) moves the score and the grade.
        evaluation["indicators"][0]["actual_value"] = str(30 + n % 21)
        if 30 + n % 21 < 45:
            evaluation["indicators"][0].update(deviation_reason="部分村组管网因征地推迟开工。",
                                               improvement="次年一季度完成剩余管网建设。")
        docs += [("target_declaration", declaration), ("self_evaluation", evaluation)]
    for period, date in (("1-6月", "2024年7月8日"), ("1-9月", "2024年10月9日")):
        monitoring = _vary(templates["monitoring"], n)
        monitoring.update(period=period, date=date, unit={"code": code, "name": name}, project_name=project,
                          project_code=f"QX{YEAR}-{code}", implementing_unit=name)
        docs.append(("monitoring", monitoring))
    if n % 4 == 0:
        review = _vary(templates["target_review"], n)
        review.update(project_name=project, unit=name)
        docs.append(("target_review", review))
    if n % 5 == 0:
        disclosure = _vary(templates["disclosure"], n)
        disclosure.update(unit=name, unit_code=code)
        docs.append(("disclosure", disclosure))
    return docs


def build(path: Path, units: int) -> dict:
    """A migrated database with `units` units and their submitted documents; counts and seconds."""
    from sqlalchemy import insert

    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import Department, Submission, Unit, User, dumps, public_id, utcnow

    started = time.perf_counter()
    url = f"sqlite:///{path}"
    upgrade(url)
    db = Database(url)
    kinds_used = ("target_declaration", "department_target_declaration", "self_evaluation",
                  "department_self_evaluation", "monitoring", "target_review", "disclosure")
    templates = {k: _sample(k) for k in kinds_used}
    documents = 0
    with db.write() as session:
        departments = [Department(code=f"D{d:03d}", name=f"青溪县第{d + 1}主管部门")
                       for d in range((units + UNITS_PER_DEPARTMENT - 1) // UNITS_PER_DEPARTMENT)]
        session.add_all(departments)
        session.flush()
        session.add(User(username="bureau", display_name="财政局绩效股", role="finance_bureau", active=True))
        for start in range(0, units, 1000):
            rows = [Unit(code=f"{100000 + n}", name=f"青溪县第{n + 1}预算单位",
                         department_id=departments[n // UNITS_PER_DEPARTMENT].id)
                    for n in range(start, min(units, start + 1000))]
            session.add_all(rows)
            session.flush()
            # Clerks as the administrator invites them: no password until the invitation is used.
            clerks = [User(username=f"clerk{unit.code}", display_name=f"填报员{unit.code}", role="unit_clerk",
                           unit_id=unit.id, active=True) for unit in rows]
            session.add_all(clerks)
            session.flush()
            values = []
            for n, unit, clerk in zip(range(start, start + len(rows)), rows, clerks, strict=True):
                for kind_id, data in unit_documents(n, unit.code, unit.name, templates):
                    text = dumps(data)
                    now = utcnow()
                    values.append({"public_id": public_id(), "kind": kind_id, "unit_id": unit.id,
                                   "created_by_id": clerk.id, "status": "approved" if n % 3 == 0 else "submitted",
                                   "title": str(data.get("project_name") or data.get("unit") or kind_id)[:200],
                                   "data_json": text, "size": len(text.encode("utf-8")), "version": 2,
                                   "created_at": now, "updated_at": now})
            session.execute(insert(Submission), values)
            documents += len(values)
    db.dispose()
    return {"units": units, "documents": documents, "build_s": round(time.perf_counter() - started, 1),
            "db_mb": round(path.stat().st_size / 2**20, 1)}


def _check_submittable() -> None:
    """The generated documents of a few units pass the submit check (pipeline.check, warnings
    confirmed): what the database holds is what a clerk could have submitted. (All of them are
    counted by the measured figures, which run() checks.)"""
    from kinds import pipeline

    templates = {k: _sample(k) for k in ("target_declaration", "department_target_declaration", "self_evaluation",
                                         "department_self_evaluation", "monitoring", "target_review", "disclosure")}
    for n in (0, 1, 4, 9, 20, 36, 39):  # every kind; the largest cut from the smallest budget
        for kind_id, data in unit_documents(n, f"{100000 + n}", f"青溪县第{n + 1}预算单位", templates):
            checked = pipeline.check(kind_id, data)
            checked.require_confirmed()


def _measure(url: str, documents: int) -> dict:
    """In this (fresh) process: the page's data, the page, and the draft's data, cold then warm."""
    import tracemalloc

    from jobs.work import init_worker
    from rules.settings import defaults  # noqa: F401 - imported before the clock starts
    from rules.statistics import compute
    from service import create_app
    from service.dashboard import page_data
    from service.sessions import open_session
    from storage.models import User
    from storage.records import FACTS_CACHE, load_units

    # As in a gunicorn worker of the service (service/wsgi.py): the collector's thresholds.
    init_worker()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "DATA_DIR": str(Path(url.removeprefix("sqlite:///")).parent)})
    db = app.extensions["jxdoc.db"]
    result: dict = {"documents": documents, "rss_start_mb": round(peak_rss_kb() / 1024, 1)}

    def timed(name: str, call) -> object:
        wall, cpu = time.perf_counter(), time.process_time()
        value = call()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        result[name] = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                        "cpu_s_per_1000_docs": round(cpu * 1000 / documents, 3),
                        "peak_rss_mb": round(peak_rss_kb() / 1024, 1)}
        print(f"  {name}: {wall:.2f} s, CPU {cpu:.2f} s, peak RSS {peak_rss_kb() / 1024:.0f} MB", file=sys.stderr,
              flush=True)
        return value

    with app.app_context():
        from service.settings_store import current_settings

        settings = current_settings()
        data = timed("page_data_cold", lambda: page_data(YEAR, settings))
        timed("page_data_warm", lambda: page_data(YEAR, settings))
        counted = sum(r.declared + r.monitored + r.evaluated + r.disclosed for r in data.rows)
        reviews = sum(len(u.get("reviews") or []) for u in data.units)
        result["counted"] = counted + reviews
        result["refused"] = len(data.refused)
        units = timed("draft_data", lambda: compute(load_units(db, YEAR, settings), settings))
        result["units_covered"] = units.units_covered
        result["cache_entries"], result["cache_mb"] = len(FACTS_CACHE), round(FACTS_CACHE.size / 2**20, 1)
        with db.write() as session:
            user = session.query(User).filter_by(username="bureau").one()
            sid = open_session(session, user)
            uid, nonce = user.id, user.session_nonce
    client = app.test_client()
    with client.session_transaction() as session:
        session["uid"], session["nonce"], session["sid"] = uid, nonce, sid

    def page() -> int:
        response = client.get(f"/statistics?year={YEAR}")
        assert response.status_code == 200, response.status_code
        return len(response.get_data())

    result["page_bytes"] = timed("page", page)
    # Last: tracing allocations costs memory of its own, which the peaks above must not include.
    with app.app_context():
        tracemalloc.start()
        page_data(YEAR, settings)
        result["page_data_warm"]["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
    result["rss_end_mb"] = round(peak_rss_kb() / 1024, 1)
    db.dispose()
    return result


def run(units: int, keep: Path | None = None) -> dict:
    """Build the database here, measure in a fresh process; the figures as a dict."""
    base = keep or Path(tempfile.mkdtemp(prefix=f"jxdoc-statistics-{units}-"))
    base.mkdir(parents=True, exist_ok=True)
    path = base / "bench.sqlite3"
    if path.exists():
        path.unlink()
    _check_submittable()
    print(f"统计：建库 {units:,} 单位 …", file=sys.stderr, flush=True)
    built = build(path, units)
    load_before = os.getloadavg()
    runs = []
    for label in ("首次（无已存事实）", "重启后（读事实表）"):
        print(f"统计：{label} …", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, "-m", "bench.statistics", "--child", f"sqlite:///{path}",
                               "--documents", str(built["documents"])], capture_output=True, text=True, check=False)
        sys.stderr.write(done.stderr)
        if done.returncode:
            raise RuntimeError(f"measuring failed ({done.returncode})")
        measured = json.loads(done.stdout.strip().splitlines()[-1])
        if measured["counted"] != built["documents"] or measured["refused"]:
            raise RuntimeError(f"{built['documents']} documents stored, {measured['counted']} counted, "
                               f"{measured['refused']} refused")
        runs.append(measured)
    measured, restarted = runs
    return {**built, **measured, "after_restart": restarted, "db_mb_after": round(path.stat().st_size / 2**20, 1),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()], "cores": os.cpu_count(), "dir": str(base)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.statistics", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{UNITS_QUICK:,} units instead of {UNITS_FULL:,}")
    parser.add_argument("--units", type=int, default=None, help="number of units")
    parser.add_argument("--keep", default=None, help="directory to keep the database in")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--documents", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_measure(args.child, args.documents), ensure_ascii=False))
        return 0
    units = args.units or (UNITS_QUICK if args.quick else UNITS_FULL)
    result = run(units, Path(args.keep) if args.keep else None)
    print(summary(result))
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def summary(result: dict) -> str:
    def line(name: str, label: str, result: dict = result) -> str:
        step = result[name]
        return (f"{label}: {step['wall_s']:.2f} s，CPU {step['cpu_s']:.2f} s"
                f"（{step['cpu_s_per_1000_docs']:.3f} s/千份），峰值内存 {step['peak_rss_mb']:.0f} MB")

    return "\n".join([
        f"{result['units']:,} 单位，{result['documents']:,} 份文档（库 {result['db_mb']} MB，建库 {result['build_s']} s）；"
        f"负载 {result['loadavg_before'][0]} → {result['loadavg_after'][0]}（{result['cores']} 核）",
        line("page_data_cold", "统计页数据（冷）"), line("page_data_warm", "统计页数据（热）"),
        line("page", "统计页 GET（含渲染）"), line("draft_data", "总结报告数据"),
        f"热态统计页数据 tracemalloc 峰值 {result['page_data_warm']['tracemalloc_peak_mb']} MB；"
        f"进程起始 {result['rss_start_mb']} MB，结束 {result['rss_end_mb']} MB；"
        f"缓存 {result['cache_entries']:,} 份 {result['cache_mb']} MB；统计页 {result['page_bytes'] / 2**20:.1f} MB HTML",
        f"重启后（新进程，事实表已填，库 {result['db_mb_after']} MB）：",
        line("page_data_cold", "  统计页数据（冷）", result["after_restart"]),
        line("page_data_warm", "  统计页数据（热）", result["after_restart"]),
        line("page", "  统计页 GET（含渲染）", result["after_restart"]),
    ])


if __name__ == "__main__":
    sys.exit(main())
