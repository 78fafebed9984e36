"""Batch benchmark: a workbook of N units → N per-unit 执行监控表 + summary + manifest in one zip.

    python -m bench.monitoring_batch                 # 100 and 1,000 units
    python -m bench.monitoring_batch --huge          # also 10,000 units
    python -m bench.monitoring_batch --units 1000 --projects 1-3 --processes 2 --format xlsx

Each size runs in a fresh process (so peak memory is that run's own) with the embedded runner
and its process pool; the time is from the uploaded bytes to the zip on disk (import, batch
creation, rendering, summary, manifest, zip) — interpreter start and the database migration are
reported apart. Peak RSS is reported for the runner process and for the largest pool process.
Target (issue 4): 1,000 units in ≤ 10 s on 2 cores; memory flat from 100 to 10,000 units.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.documents import peak_rss_kb

TARGET_SECONDS_1000 = 10.0


def _run(units: int, projects: tuple[int, int], processes: int, fmt: str, keep: Path | None) -> dict:
    """One measured batch in this process (called in a child by main)."""
    from jobs import archive, importer, runner
    from jobs.samples import batch_workbook
    from storage.db import Database
    from storage.migrate import upgrade

    base = keep or Path(tempfile.mkdtemp(prefix=f"jxdoc-batch-{units}-"))
    generated = batch_workbook(units, seed=units, projects_per_unit=projects)
    url = f"sqlite:///{base / 'bench.sqlite3'}"
    start = time.perf_counter()
    upgrade(url)
    migrate_s = time.perf_counter() - start
    db = Database(url)
    cfg = runner.JobConfig(database_url=url, data_dir=str(base / "data"), processes=processes, chunk=8)
    phases = {}
    t0 = time.perf_counter()
    runner.warm_pool(cfg.pool_size)
    imported = importer.read_batch_workbook(generated.data, "monitoring", fmt=fmt)
    phases["import_s"] = time.perf_counter() - t0
    t = time.perf_counter()
    batch, _ = runner.create_batch(db, "monitoring", fmt, imported, key=f"bench-{units}-{time.time()}")
    projects_count, workbook_bytes = generated.projects, len(generated.data)
    del imported, generated  # as in the service: the upload and its import end with the request
    phases["create_s"] = time.perf_counter() - t
    t = time.perf_counter()
    runner.drive(db, cfg, batch)
    phases["render_s"] = time.perf_counter() - t
    t = time.perf_counter()
    size = archive.write_zip(db, runner.get_batch(db, batch.public_id), cfg.data_dir, base / "out.zip")
    phases["zip_s"] = time.perf_counter() - t
    total = time.perf_counter() - t0
    state = runner.counts(db, batch.id)
    # Pool processes are the forkserver's children, not ours: read their peak RSS and CPU time
    # from /proc while they live.
    child_rss, child_cpu = 0.0, 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in runner.pool_processes():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        hwm = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
        child_rss = max(child_rss, hwm / 1024)
        child_cpu += (int(stat[11]) + int(stat[12])) / ticks
    own_cpu = time.process_time()
    return {
        "units": units,
        "projects": projects_count,
        "format": fmt,
        "processes": cfg.pool_size,
        "cores": os.cpu_count(),
        "done": state["done"],
        "zip_bytes": size,
        "workbook_bytes": workbook_bytes,
        "seconds": round(total, 2),
        "ms_per_unit": round(total * 1000 / units, 1),
        **{k: round(v, 2) for k, v in phases.items()},
        "migrate_s": round(migrate_s, 2),
        "peak_rss_mb": round(peak_rss_kb() / 1024, 1),  # VmHWM: ru_maxrss would include the parent's
        "peak_child_rss_mb": round(child_rss, 1),
        "cpu_s": round(own_cpu + child_cpu, 2),  # all processes: comparable on a busy machine
        "dir": str(base),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, action="append", help="sizes to run (default 100 and 1000)")
    parser.add_argument("--huge", action="store_true", help="also run 10,000 units")
    parser.add_argument("--projects", default="1-1", help="projects per unit, e.g. 1-3 (default 1: one table per unit)")
    parser.add_argument("--processes", type=int, default=0, help="pool size (default: one per core)")
    parser.add_argument("--format", default="xlsx", choices=["xlsx", "docx", "pdf"])
    parser.add_argument("--keep", default=None, help="directory to keep the outputs in (one run)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    low, _, high = args.projects.partition("-")
    projects = (int(low), int(high or low))
    if args.child:
        result = _run(args.units[0], projects, args.processes, args.format, Path(args.keep) if args.keep else None)
        print(json.dumps(result, ensure_ascii=False))
        return 0
    sizes = args.units or [100, 1000]
    if args.huge:
        sizes.append(10_000)
    results = []
    for units in sizes:
        command = [sys.executable, "-m", "bench.monitoring_batch", "--child", "--units", str(units),
                   "--projects", args.projects, "--processes", str(args.processes), "--format", args.format]
        if args.keep:
            command += ["--keep", args.keep]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            print(done.stderr, file=sys.stderr)
            return done.returncode
        result = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(result)
        print(f"{units:>6} 单位 {result['projects']:>6} 表  {result['seconds']:>7.2f} s  "
              f"{result['ms_per_unit']:>6.1f} ms/单位  导入 {result['import_s']:.2f} s  生成 {result['render_s']:.2f} s  "
              f"zip {result['zip_s']:.2f} s  CPU {result['cpu_s']:.1f} s  峰值内存 主进程 {result['peak_rss_mb']} MB / 子进程 {result['peak_child_rss_mb']} MB"
              f"  ({result['processes']} 进程, {result['cores']} 核)")
    for result in results:
        if result["units"] == 1000:
            verdict = "达标" if result["seconds"] <= TARGET_SECONDS_1000 else "未达标"
            print(f"1,000 单位目标 ≤ {TARGET_SECONDS_1000:.0f} s（2核）：{result['seconds']:.2f} s，{verdict}")
    print(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
