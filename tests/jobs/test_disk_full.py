"""Issue #16's acceptance for batch faults: a 500-unit batch whose data directory is a real,
size-limited filesystem (a tmpfs mounted for the test) that fills up and is freed again mid-run,
with three SIGKILLs of the `jxdoc batch` process group on the way, ends with exactly 500 outputs
after one “重试失败单位” action in the API, and every zip member matches its stored size and SHA-256.

The run: kill 1 while units are rendered normally; the disk is filled (a ballast file written
until ENOSPC); kill 2 while the runner backs off (no unit may have failed or used an attempt by
then); a restart on the still-full disk waits its patience out and fails the units left, saying why;
kill 3 amid that; the disk is freed; the web application, polled for progress, resumes and finishes
the batch (with the failed units listed); one retry action in the API renders them, and the
download is checked.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jobs import files
from jobs.samples import batch_workbook
from storage.batches import Batch, BatchItem
from storage.db import Database
from tests.conftest import World, login
from tests.jobs.helpers import wait_done
from tests.jobs.test_crash_resume import ROOT, _kill_group

UNITS = 500


@pytest.fixture
def small_disk(tmp_path):
    """A 48 MiB tmpfs: room for the batch (about 4 MiB), filled on demand by a ballast file."""
    assert os.geteuid() == 0, "mounting the test's small filesystem needs root (as `make test` runs in CI)"
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m,mode=0700", "jxdoc-test-disk", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=False)


def _fill(mount: Path) -> Path:
    """Write a ballast file until the filesystem refuses another byte."""
    ballast = mount / "ballast.bin"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12, 1):
            block = b"\0" * size
            while True:
                try:
                    os.write(fd, block)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
    finally:
        os.close(fd)
    assert os.statvfs(mount).f_bavail == 0
    return ballast


def _count(db: Database, status: str) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(BatchItem).where(BatchItem.status == status)) or 0


def _wait(condition, proc: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the run ended before {what}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.05)


@pytest.mark.slow
def test_disk_filled_and_freed_three_kills_one_retry(app, small_disk, tmp_path):
    world = World(app)
    url = app.config["DATABASE_URL"]
    db = Database(url)
    source = tmp_path / "batch.xlsx"
    source.write_bytes(batch_workbook(UNITS, seed=516, projects_per_unit=(1, 1)).data)
    env = {**os.environ, "JXDOC_DATA_DIR": str(small_disk), "JXDOC_DATABASE_URL": url, "PYTHONUNBUFFERED": "1",
           "JXDOC_JOB_RUNNER": "embedded", "JXDOC_JOB_PROCESSES": "2", "JXDOC_JOB_LEASE_SECONDS": "2",
           "JXDOC_JOB_CHUNK": "4", "JXDOC_JOB_BACKOFF_SECONDS": "0.2", "JXDOC_JOB_MAX_BACKOFF_SECONDS": "1",
           "JXDOC_JOB_FAULT_PATIENCE_SECONDS": "5"}
    out = tmp_path / "out.zip"  # never written: every run is killed
    command = [sys.executable, "-m", "service.cli", "batch", "monitoring", str(source), "-o", str(out)]
    rng = random.Random(os.environ.get("JXDOC_CRASH_SEED", "16"))
    logs = []

    def start() -> subprocess.Popen:
        log = open(tmp_path / f"run{len(logs)}.log", "wb")  # noqa: SIM115 - the child keeps it
        logs.append(log)
        return subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True, stdout=log, stderr=log)

    try:
        # Kill 1: units are being rendered, the disk has room.
        proc = start()
        first = rng.randint(40, 90)
        _wait(lambda: _count(db, "done") >= first, proc, 120, f"{first} units")
        _kill_group(proc)

        # The disk fills while the next run renders; kill 2 while the runner waits for space.
        proc = start()
        _wait(lambda: _count(db, "done") >= first + 60, proc, 120, "60 more units")
        with db.read() as session:
            before = dict(session.execute(select(BatchItem.id, BatchItem.attempts)).all())
        ballast = _fill(small_disk)
        full_since = time.monotonic()
        _wait(lambda: time.monotonic() - full_since > 3, proc, 10, "3 s on a full disk")
        with db.read() as session:
            set_back = session.scalar(select(func.count()).select_from(BatchItem).where(
                BatchItem.status == "pending", BatchItem.retry_at.is_not(None)))
            after = dict(session.execute(select(BatchItem.id, BatchItem.attempts)).all())
        assert _count(db, "failed") == 0 and set_back > 0  # waiting, not failing
        # 3 s of a full disk used no attempt (one more at most: an item claimed when it is read)
        assert all(after[i] <= before[i] + 1 for i in after)
        _kill_group(proc)
        done_on_full_disk = _count(db, "done")

        # A restart on the still-full disk gives up after its patience; kill 3 amid the failures.
        proc = start()
        _wait(lambda: _count(db, "failed") >= 1, proc, 60, "units failed on the full disk")
        time.sleep(rng.uniform(0, 0.3))
        _kill_group(proc)
        ballast.unlink()  # the disk is freed

        # The web application resumes the batch when its progress is polled (the killed run's
        # driver lease runs out first) and finishes it, with the units failed on the full disk.
        app.config.update(DATA_DIR=str(small_disk), JOB_PROCESSES=2, JOB_LEASE_SECONDS=2, JOB_CHUNK=4)
        bureau = login(app, world, "bureau")
        with db.read() as session:
            batch = session.scalar(select(Batch))
        progress = wait_done(bureau, batch.public_id, timeout=300)
        with db.read() as session:
            items = list(session.scalars(select(BatchItem)))
        failed = [i for i in items if i.status == "failed"]
        assert len(items) == UNITS and failed and len(failed) + progress["counts"]["done"] == UNITS
        assert all(i.errors[0].startswith("生成时遇到服务器故障（磁盘空间已满），等待5秒后仍未恢复") for i in failed)
        assert done_on_full_disk <= UNITS - len(failed)
        assert max(i.attempts for i in failed) <= 2  # only kills count attempts, never the full disk
        assert sum(i.attempts for i in items) > UNITS - len(failed), "no kill landed while units were rendered"
        assert progress["retry_url"] and "重试失败单位" in bureau.get(f"/batches/{batch.public_id}").get_data(as_text=True)

        # One retry action, in the API, on the freed disk.
        resp = bureau.post(progress["retry_url"])
        assert resp.status_code == 202 and resp.get_json()["retried"] == len(failed)
        done = wait_done(bureau, batch.public_id, timeout=300)
        assert done["counts"]["done"] == UNITS and done["counts"]["failed"] == 0

        units = files.units_dir(small_disk, batch.public_id)
        assert sorted(p.name for p in units.iterdir()) == sorted(i.output_name for i in items)
        assert not [p for p in files.batch_dir(small_disk, batch.public_id).rglob("*") if p.name.endswith(".tmp")]
        download = bureau.get(done["download_url"])
        assert download.status_code == 200
        z = zipfile.ZipFile(io.BytesIO(download.data))
        assert z.testzip() is None
        with db.read() as session:
            stored = {f"各单位/{i.output_name}": (i.size, i.sha256) for i in session.scalars(select(BatchItem))}
        members = [n for n in z.namelist() if n.startswith("各单位/")]
        assert len(members) == len(set(members)) == UNITS and set(members) == set(stored)
        for name in members:
            content = z.read(name)
            assert (len(content), hashlib.sha256(content).hexdigest()) == stored[name], name
        assert z.read("清单.csv").decode("utf-8-sig").count("已生成") == UNITS
        print(f"\nfull-disk run: {first} units before kill 1, {done_on_full_disk} done at kill 2, "
              f"{len(failed)} failed on the full disk and retried, {sum(i.attempts for i in items)} attempts "
              f"before the retry, {len(members)} zip members checked")
    finally:
        for log in logs:
            log.close()
        db.dispose()
