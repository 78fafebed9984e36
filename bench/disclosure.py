"""A disclosure batch of N units (default 1,000) through the batch runner: pages per second, ms
per page, peak memory.

    .venv/bin/python -m bench.disclosure [--units 1000] [--processes N] [--no-verify] [--keep DIR]

Units are `disclosure` payloads made from samples/disclosure: each with its 部门整体支出绩效自评报告
and 1 to 3 项目支出绩效自评表s; every 50th unit is excluded (涉密) as the finance bureau excludes
units when it starts a batch. The batch runs the production path: items in a SQLite database in
a temp directory (jobs.batchkinds.disclosure.from_payloads + start), the embedded runner (jobs.runner.drive)
rendering in a process pool of `processes` (default: one per core) with validation in the
workers, the finishing step (目录.xlsx, 目录.html, 清单.csv), then the zip streamed to disk
(jobs.archive.write_zip). Reported:

* wall time (create, drive, zip), pages, pages per second, and ms per page — overall and *warm*
  (after every worker has delivered its first chunk, so process start and font loading are
  left out); the issue-8 target is ≤ 35 ms per page warm with every core busy;
* CPU ms per page (all processes), which says how far more cores would go;
* peak RSS of this process and of the largest worker.

With verification on (default), every PDF of the zip is then checked: fonts embedded (pdffonts)
and the unit's Chinese name extractable (pdftotext), and the count of PDFs equals the count of
published units in the index.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import kinds
from bench.documents import peak_rss_kb

SURNAMES = "青溪县"
BUREAUS = ("教育局", "公安局", "民政局", "司法局", "财政局", "人力资源和社会保障局", "自然资源局", "住房和城乡建设局",
           "交通运输局", "水利局", "农业农村局", "商务局", "文化和旅游局", "卫生健康委员会", "应急管理局", "审计局",
           "市场监督管理局", "统计局", "医疗保障局", "林业局")


def make_payloads(count: int) -> tuple[list[dict], dict[str, str]]:
    """Raw `disclosure` payloads of `count` units (validated by the runner's workers, as in
    production), and the exclusions {unit code: reason} the bureau gives when it starts."""
    base = json.loads(kinds.get("disclosure").samples()[0].read_text(encoding="utf-8"))
    table = base["project_evaluations"][0]
    payloads, exclusions = [], {}
    for i in range(count):
        name = f"{SURNAMES}{BUREAUS[i % len(BUREAUS)]}第{i // len(BUREAUS) + 1}分局"
        payload = copy.deepcopy(base)
        if i % 50 == 49:
            payload.update(unit=name, unit_code=f"9{i:06d}")
            exclusions[payload["unit_code"]] = "涉密"
        else:
            payload.update(unit=name, unit_code=f"3{i:06d}")
            payload["project_evaluations"] = [
                {**copy.deepcopy(table), "project_name": f"{table['project_name']}（{k + 1}标段）"} for k in range(i % 3 + 1)]
        payloads.append(payload)
    return payloads, exclusions


class Descendants:
    """Peak RSS and CPU time of this process's descendants (the forkserver and its pool workers are
    not our direct children, so getrusage(RUSAGE_CHILDREN) cannot see them): /proc is sampled
    from a thread every 0.2 s. Linux only, like the rest of the deployment."""

    def __init__(self):
        import threading

        self.peak_kb = 0
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _loop(self):
        tick = os.sysconf("SC_CLK_TCK")
        while not self._stop.wait(0.2):
            parents: dict[int, int] = {}
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    parents[int(entry)] = int(fields[1])
            mine, frontier = set(), {os.getpid()}
            while frontier:
                frontier = {pid for pid, ppid in parents.items() if ppid in frontier and pid not in mine}
                mine |= frontier
            for pid in mine:
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                self.cpu[pid] = (int(fields[11]) + int(fields[12])) / tick

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


def run(count: int, processes: int, keep: Path | None, verify: bool, sign: bool = False) -> dict:
    from jobs import archive, runner
    from jobs.batchkinds import disclosure as batch
    from storage.db import Database
    from storage.migrate import upgrade

    payloads, exclusions = make_payloads(count)
    out_dir = keep or Path(tempfile.mkdtemp(prefix="jxdoc-disclosure-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{out_dir / 'jobs.sqlite3'}"
    upgrade(url)
    db = Database(url)
    cfg = runner.JobConfig(database_url=url, data_dir=str(out_dir / "data"), processes=processes)
    override = None
    if sign:  # every unit's PDF signed by an organ registered now (bench.signing), as the bureau setting does
        from bench.signing import register_organ

        register_organ(cfg.data_dir)
        override = {"signing": {"batches": {"sign": True}}}
    path = out_dir / "disclosure.zip"
    stamps: list[tuple[float, int]] = []  # (time, pages finished so far) after each chunk

    def pages_so_far() -> int:
        from sqlalchemy import text

        with db.read() as session:
            return int(session.execute(text(
                "SELECT COALESCE(SUM(json_extract(result_json, '$.pages')), 0) FROM batch_items "
                "WHERE batch_id = :b AND status = 'done'"), {"b": job.id}).scalar())

    cpu0 = os.times()
    start = time.perf_counter()
    try:
        with Descendants() as workers:
            runner.warm_pool(cfg.pool_size)  # the pool starts while the items are created, as in jxdoc batch
            imported = batch.from_payloads(payloads, exclusions)
            job, _ = batch.start(db, imported, source="json", title="bench", settings_override=override)
            created = time.perf_counter()
            runner.drive(db, cfg, job, progress=lambda state: stamps.append((time.perf_counter(), pages_so_far())))
            driven = time.perf_counter()
            job = runner.get_batch(db, job.public_id)
            archive.write_zip(db, job, cfg.data_dir, path)
        wall = time.perf_counter() - start
        cpu1 = os.times()
        rows, problems = batch.index_rows(db, job)
    finally:
        db.dispose()
    pages = sum(r.pages for r in rows)
    published = [r for r in rows if r.published]
    # Warm: from the time every worker has delivered its first chunk (the processes-th progress
    # report) to the last rendered chunk.
    k = min(max(processes, 1), len(stamps) - 1)
    warm_time = stamps[-1][0] - stamps[k - 1][0] if stamps else 0
    warm_pages = stamps[-1][1] - stamps[k - 1][1] if stamps else 0
    drive_s = driven - created
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system) + workers.cpu_seconds
    result = {
        "units": count,
        "published": len(published),
        "excluded": len(rows) - len(published),
        "problems": problems,
        "processes": cfg.pool_size,
        "pages": pages,
        "wall_s": round(wall, 2),
        "create_s": round(created - start, 2),
        "drive_s": round(drive_s, 2),
        "zip_s": round(wall - (driven - start), 2),
        "pages_per_s": round(pages / drive_s, 2) if drive_s else None,
        "ms_per_page": round(wall * 1000 / pages, 1) if pages else None,
        "warm_ms_per_page": round(warm_time * 1000 / warm_pages, 1) if warm_pages else None,
        "cpu_ms_per_page": round(cpu * 1000 / pages, 1) if pages else None,
        "zip_mb": round(path.stat().st_size / 2**20, 1),
        "peak_rss_mb": round(peak_rss_kb() / 1024, 1),
        "peak_worker_rss_mb": round(workers.peak_kb / 1024, 1),
        "target_warm_ms_per_page": 35,
    }
    if verify:
        result.update(verify_zip(path, rows))
    result["zip"] = str(path)
    return result


def verify_zip(path: Path, rows) -> dict:
    """Every PDF: fonts embedded and the unit's name extractable."""
    problems = []
    with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory() as tmp:
        pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
        names = {r.filename: r.unit for r in rows if r.published}
        for member in pdfs:
            target = Path(tmp) / "unit.pdf"
            target.write_bytes(archive.read(member))
            fonts = subprocess.run(["pdffonts", str(target)], capture_output=True, text=True, check=True).stdout
            lines = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
            if not lines or any(line[-5] != "yes" for line in lines):
                problems.append(f"{member}: font not embedded")
            text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-l", "1", str(target), "-"], capture_output=True,
                                  check=True).stdout.decode("utf-8")
            if names.get(member, "?") not in "".join(text.split()):
                problems.append(f"{member}: unit name not extractable")
    return {"pdfs": len(pdfs), "pdfs_expected": sum(r.published for r in rows), "verify_problems": problems[:20],
            "verified_ok": not problems and len(pdfs) == sum(r.published for r in rows)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", type=Path, default=None, help="directory to keep the zip in")
    parser.add_argument("--no-verify", dest="verify", action="store_false")
    parser.add_argument("--sign", action="store_true", help="sign every unit's PDF (a key made for the run)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.units, args.processes, args.keep, args.verify, args.sign), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    sys.exit(main())
