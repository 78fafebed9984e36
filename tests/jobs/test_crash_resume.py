"""Killing the worker with SIGKILL at random points of a 500-unit batch, then restarting it, ends
with exactly 500 outputs, no temp files and a valid zip — with the embedded runner (a `jxdoc
batch` process with its render pool) and with Celery workers on a real Redis.

The whole process group is killed, pool and worker children included, as when a machine or a
container dies. Leases are 2 s so that the restarted worker takes the dead one's items quickly.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jobs import archive, files, importer, runner
from jobs.samples import batch_workbook
from storage.batches import Batch, BatchItem
from storage.db import Database
from storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
UNITS = 500


def _env(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "JXDOC_DATA_DIR": str(tmp_path / "data"), "JXDOC_DATABASE_URL": url,
            "JXDOC_JOB_LEASE_SECONDS": "2", "JXDOC_JOB_CHUNK": "4", "PYTHONUNBUFFERED": "1", **extra}


def _done(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(BatchItem).where(BatchItem.status == "done")) or 0


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(30)


def _wait_for(db: Database, proc: subprocess.Popen | None, target: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _done(db) >= target or (proc is not None and proc.poll() is not None):
            return
        time.sleep(0.05)
    raise AssertionError(f"{target} units were not done within {timeout} s (done: {_done(db)})")


def _check_outcome(db: Database, data_dir: Path, zip_path: Path) -> None:
    with db.read() as session:
        batch = session.scalar(select(Batch))
        items = list(session.scalars(select(BatchItem)))
    assert batch.status == "done" and len(items) == UNITS
    assert {i.status for i in items} == {"done"}
    assert sum(i.attempts for i in items) > UNITS, "no kill landed while items were being worked on"
    directory = files.batch_dir(data_dir, batch.public_id)
    assert not [p for p in directory.rglob("*") if p.name.endswith(".tmp")]
    units = sorted(p.name for p in (directory / files.UNITS_DIR).iterdir())
    assert units == sorted(i.output_name for i in items)
    with zipfile.ZipFile(zip_path) as z:
        assert z.testzip() is None
        members = [n for n in z.namelist() if n.startswith(f"{files.UNITS_DIR}/")]
        assert len(members) == len(set(members)) == UNITS
        assert z.read(files.MANIFEST).decode("utf-8-sig").count("已生成") == UNITS
        assert {"汇总表.xlsx", "汇总说明.txt", "清单.csv"} <= set(z.namelist())


@pytest.mark.slow
def test_embedded_runner_killed_and_restarted(tmp_path):
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade(url)
    db = Database(url)
    source, out = tmp_path / "batch.xlsx", tmp_path / "out.zip"
    source.write_bytes(batch_workbook(UNITS, seed=500, projects_per_unit=(1, 1)).data)
    env = _env(tmp_path, url, JXDOC_JOB_PROCESSES="2", JXDOC_JOB_RUNNER="embedded")
    command = [sys.executable, "-m", "service.cli", "batch", "monitoring", str(source), "-o", str(out)]
    rng = random.Random(os.environ.get("JXDOC_CRASH_SEED", "4"))
    try:
        for point in sorted(rng.sample(range(10, UNITS - 50), 3)):
            proc = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _wait_for(db, proc, point + rng.randint(0, 5), timeout=120)
            assert proc.poll() is None, "the run ended before it could be killed"
            _kill_group(proc)
        assert not out.exists()
        finished = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
        assert finished.returncode == 0, finished.stderr[-2000:]
        assert "继续此前未完成的批次" in finished.stdout
        _check_outcome(db, tmp_path / "data", out)
    finally:
        db.dispose()


def _worker(tmp_path: Path, url: str, redis_url: str, name: str) -> subprocess.Popen:
    env = _env(tmp_path, url, JXDOC_REDIS_URL=redis_url, JXDOC_CELERY_VISIBILITY_TIMEOUT="5",
               JXDOC_JOB_RUNNER="celery", JXDOC_JOB_FANOUT="4")
    command = [sys.executable, "-m", "celery", "-A", "jobs.celery_app", "worker", "--concurrency", "2",
               "--pool", "prefork", "-Q", "jxdoc", "-n", f"{name}@%h", "--without-gossip", "--without-mingle",
               "--without-heartbeat", "--loglevel", "WARNING"]
    with open(tmp_path / f"{name}.log", "wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True, stdout=log, stderr=log)


@pytest.mark.slow
@pytest.mark.redis
def test_celery_worker_killed_and_restarted(tmp_path, redis_url):
    from jobs.tasks import enqueue

    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade(url)
    db = Database(url)
    data = batch_workbook(UNITS, seed=501, projects_per_unit=(1, 1)).data
    imported = importer.read_batch_workbook(data, "monitoring")
    batch, _ = runner.create_batch(db, "monitoring", "xlsx", imported, key=runner.batch_key("monitoring", "xlsx", {}, data))
    rng = random.Random(os.environ.get("JXDOC_CRASH_SEED", "5"))
    workers: list[subprocess.Popen] = []
    try:
        enqueue(batch.public_id, 4, redis_url)
        for n, point in enumerate(sorted(rng.sample(range(10, UNITS - 50), 2))):
            worker = _worker(tmp_path, url, redis_url, f"w{n}")
            workers.append(worker)
            _wait_for(db, worker, point + rng.randint(0, 5), timeout=120)
            assert worker.poll() is None, (tmp_path / f"w{n}.log").read_text(errors="replace")[-2000:]
            _kill_group(worker)
        # The restarted worker resumes the unfinished batch by itself (worker_ready), and the
        # messages the dead worker held come back after the visibility timeout.
        workers.append(_worker(tmp_path, url, redis_url, "final"))
        deadline = time.monotonic() + 240
        while runner.get_batch(db, batch.public_id).status != "done":
            assert time.monotonic() < deadline, f"batch not done; {runner.counts(db, batch.id)}"
            assert workers[-1].poll() is None, (tmp_path / "final.log").read_text(errors="replace")[-2000:]
            time.sleep(0.2)
        out = tmp_path / "out.zip"
        archive.write_zip(db, runner.get_batch(db, batch.public_id), str(tmp_path / "data"), out)
        _check_outcome(db, tmp_path / "data", out)
    finally:
        for worker in workers:
            _kill_group(worker)
        db.dispose()
