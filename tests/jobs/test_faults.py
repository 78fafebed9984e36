"""Faults of the infrastructure under a batch (issue #16, findings 5, 13 and 17): a disk that fills
during a batch, unit files that go missing or rot after it finished, and several web workers that
each answer progress polls of the same batch."""

from __future__ import annotations

import errno
import hashlib
import io
import time
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from jobs import archive, files, importer, runner
from jobs.samples import batch_workbook
from storage.batches import Batch, BatchItem
from storage.db import Database
from tests.conftest import login
from tests.jobs.helpers import wait_done


def _create(job_db, data: bytes):
    imported = importer.read_batch_workbook(data, "monitoring")
    return runner.create_batch(job_db, "monitoring", "xlsx", imported, key=runner.batch_key("monitoring", "xlsx", {}, data))[0]


def _items(db, batch) -> list[BatchItem]:
    with db.read() as session:
        return list(session.scalars(select(BatchItem).where(BatchItem.batch_id == batch.id).order_by(BatchItem.seq)))


class FullDisk:
    """The write layer's open() fails with ENOSPC, as on a full disk, while `full` — for the
    first `writes` writes, or until `free()`."""

    def __init__(self, monkeypatch, writes: int | None = None):
        self.writes, self.calls, self.full = writes, [], True
        real_open = open

        def open_on_full_disk(path, mode="r", *args, **kwargs):
            if "w" in mode and self.full:
                self.calls.append(time.monotonic())
                if self.writes is not None and len(self.calls) >= self.writes:
                    self.full = False
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
            return real_open(path, mode, *args, **kwargs)

        monkeypatch.setattr(files, "open", open_on_full_disk, raising=False)

    def free(self) -> None:
        self.full = False


def _claims(monkeypatch) -> list[float]:
    """When the runner took items."""
    real, times = runner.claim, []

    def claim(*args, **kwargs):
        taken = real(*args, **kwargs)
        if taken:
            times.append(time.monotonic())
        return taken

    monkeypatch.setattr(runner, "claim", claim)
    return times


# --------------------------------------------------------------------------- finding 5

def test_a_full_disk_backs_off_and_uses_no_attempts(job_db, job_config, monkeypatch):
    batch = _create(job_db, batch_workbook(6, seed=31).data)
    cfg = runner.JobConfig(**{**job_config.__dict__, "backoff_seconds": 0.05, "max_backoff_seconds": 0.4})
    disk = FullDisk(monkeypatch, writes=16)  # four chunks of four units meet the full disk
    claims = _claims(monkeypatch)
    assert runner.drive(job_db, cfg, batch)
    items = _items(job_db, batch)
    assert [i.status for i in items] == ["done"] * 6, [i.errors for i in items]
    assert [i.attempts for i in items] == [1] * 6  # the full disk used up no unit's attempts
    assert len(disk.calls) == 16
    # Backed off, doubling: after each chunk that met the full disk the next claim waited
    # 0.05, 0.1, 0.2, then 0.4 s (the maximum) — not a loop burning through the units.
    gaps = [b - a for a, b in zip(claims, claims[1:], strict=False)]
    assert len(claims) == 6 and all(g >= want for g, want in zip(gaps, (0.05, 0.1, 0.2, 0.4), strict=False)), gaps


def test_a_disk_full_for_too_long_fails_the_units_with_the_cause_and_retry_takes_them_up(job_db, job_config,
                                                                                        monkeypatch):
    """Waiting has an end: after `fault_patience_seconds` of a full disk the units left fail at
    once, saying why, without using attempts; once the disk is freed, 重试失败单位 ends the batch."""
    batch = _create(job_db, batch_workbook(8, seed=30).data)
    cfg = runner.JobConfig(**{**job_config.__dict__, "backoff_seconds": 0.05, "max_backoff_seconds": 0.2,
                              "fault_patience_seconds": 0.3})
    disk = FullDisk(monkeypatch)
    real, finishing = runner.finalise, []

    def finalise(db, data_dir, batch_id):
        finishing.append(1)
        if len(finishing) == 3:
            disk.free()  # freed while the runner waits to write the manifest
        return real(db, data_dir, batch_id)

    monkeypatch.setattr(runner, "finalise", finalise)
    assert runner.drive(job_db, cfg, batch)  # finishing waited for the disk (the manifest)
    assert len(finishing) == 3
    items = _items(job_db, batch)
    assert {i.status for i in items} == {"failed"} and {i.attempts for i in items} == {0}
    assert items[0].errors == ["生成时遇到服务器故障（磁盘空间已满），等待0秒后仍未恢复，已停止重试。"
                               "故障排除后请在批次页面点击“重试失败单位”。"]
    assert runner.retry_failed(job_db, batch.id) == 8
    assert runner.get_batch(job_db, batch.public_id).status == "running"
    assert runner.drive(job_db, cfg, batch)
    items = _items(job_db, batch)
    assert {i.status for i in items} == {"done"} and {i.attempts for i in items} == {1}
    assert runner.retry_failed(job_db, batch.id) == 0


def test_a_full_disk_while_finishing_backs_off(job_db, job_config, monkeypatch):
    """The summary and manifest are written after the units: a full disk then is waited out too."""
    batch = _create(job_db, batch_workbook(3, seed=32).data)
    cfg = runner.JobConfig(**{**job_config.__dict__, "backoff_seconds": 0.05, "max_backoff_seconds": 0.2})
    real = runner.finalise
    failures = []

    def finalise_on_full_disk(db, data_dir, batch_id):
        if len(failures) < 3:
            failures.append(1)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(db, data_dir, batch_id)

    monkeypatch.setattr(runner, "finalise", finalise_on_full_disk)
    assert runner.drive(job_db, cfg, batch)
    assert runner.get_batch(job_db, batch.public_id).status == "done" and len(failures) == 3


def test_database_gone_for_a_moment_does_not_stop_the_driver(job_db, job_config, monkeypatch):
    from sqlalchemy.exc import OperationalError

    batch = _create(job_db, batch_workbook(4, seed=33).data)
    cfg = runner.JobConfig(**{**job_config.__dict__, "backoff_seconds": 0.05, "max_backoff_seconds": 0.2})
    real = runner.complete
    failures = []

    def complete_without_database(db, owner, results, **kwargs):
        if len(failures) < 2:
            failures.append(1)
            raise OperationalError("UPDATE batch_items", {}, Exception("database is gone"))
        return real(db, owner, results, **kwargs)

    monkeypatch.setattr(runner, "complete", complete_without_database)
    assert runner.drive(job_db, cfg, batch)
    items = _items(job_db, batch)
    assert [i.status for i in items] == ["done"] * 4 and [i.attempts for i in items] == [1] * 4


@pytest.fixture
def bureau(app, world):
    app.config.update(JOB_PROCESSES=1, JOB_LEASE_SECONDS=5, JOB_MAX_ATTEMPTS=2, JOB_BACKOFF_SECONDS=0.05)
    return login(app, world, "bureau")


def _upload(client, data: bytes):
    form = {"kind": "monitoring", "file": (io.BytesIO(data), "监控汇总.xlsx")}
    return client.post("/api/v1/batches", data=form, content_type="multipart/form-data")


def _failing_unit(monkeypatch, code: str) -> dict:
    """Rendering one unit fails with an unexpected error (not the infrastructure's) while the
    returned switch is on."""
    real = runner.process_chunk
    switch = {"on": True}

    def flaky(kind, fmt, items, out_dir, override):
        results = real(kind, fmt, items, out_dir, override)
        return [{"id": r["id"], "status": "error", "errors": ["Traceback: KeyError"]}
                if item["key"] == code and switch["on"] else r for item, r in zip(items, results, strict=True)]

    monkeypatch.setattr(runner, "process_chunk", flaky)
    return switch


def test_retry_failed_units_in_the_api_and_on_the_page(bureau, monkeypatch):
    data = batch_workbook(5, seed=34).data
    failing = _failing_unit(monkeypatch, "100001")
    created = _upload(bureau, data).get_json()
    done = wait_done(bureau, created["id"])
    assert done["counts"]["failed"] == 1 and done["counts"]["done"] == 4
    assert done["retry_url"] == f"/api/v1/batches/{created['id']}/retry"
    page = bureau.get(f"/batches/{created['id']}").get_data(as_text=True)
    assert "重试失败单位" in page and f'action="/batches/{created["id"]}/retry"' in page
    failing["on"] = False
    resp = bureau.post(done["retry_url"])
    assert resp.status_code == 202, resp.get_json()
    assert resp.get_json()["retried"] == 1
    done = wait_done(bureau, created["id"])
    assert done["counts"]["done"] == 5 and done["counts"]["failed"] == 0 and done["retry_url"] is None
    z = zipfile.ZipFile(io.BytesIO(bureau.get(done["download_url"]).data))
    assert len([n for n in z.namelist() if n.startswith("各单位/")]) == 5
    assert "已生成" in z.read("清单.csv").decode("utf-8-sig") and "生成失败" not in z.read("清单.csv").decode("utf-8-sig")
    again = bureau.post(f"/api/v1/batches/{created['id']}/retry")
    assert again.status_code == 409 and again.get_json()["message"] == "这个批次没有生成失败的单位。"


def test_retry_from_the_page_with_its_form(bureau, monkeypatch, app, world):
    data = batch_workbook(3, seed=35).data
    failing = _failing_unit(monkeypatch, "100000")
    created = _upload(bureau, data).get_json()
    wait_done(bureau, created["id"])
    failing["on"] = False
    app.config["WTF_CSRF_ENABLED"] = True
    page = bureau.get(f"/batches/{created['id']}").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    resp = bureau.post(f"/batches/{created['id']}/retry", data={"csrf_token": token})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/batches/{created['id']}")
    assert "已重新开始生成1家失败的单位。" in bureau.get(resp.headers["Location"]).get_data(as_text=True)
    assert wait_done(bureau, created["id"])["counts"]["done"] == 3
    # without the form's token: refused
    assert bureau.post(f"/batches/{created['id']}/retry").status_code == 400


def test_uploading_the_same_workbook_again_retries_its_failed_units(bureau, monkeypatch):
    data = batch_workbook(4, seed=36).data
    failing = _failing_unit(monkeypatch, "100002")
    created = _upload(bureau, data).get_json()
    assert wait_done(bureau, created["id"])["counts"]["failed"] == 1
    failing["on"] = False
    again = _upload(bureau, data)
    body = again.get_json()
    assert again.status_code == 202 and body["id"] == created["id"] and body["retried"] == 1
    assert wait_done(bureau, created["id"])["counts"]["done"] == 4


# --------------------------------------------------------------------------- finding 13

def test_unit_files_are_checked_and_rerendered_before_the_zip(bureau, app):
    data = batch_workbook(5, seed=37).data
    created = _upload(bureau, data).get_json()
    done = wait_done(bureau, created["id"])
    db = Database(app.config["DATABASE_URL"])
    try:
        with db.read() as session:
            batch = session.scalar(select(Batch).where(Batch.public_id == created["id"]))
        items = _items(db, batch)
        units = files.units_dir(app.config["DATA_DIR"], batch.public_id)
        for item in items:
            assert item.sha256 == hashlib.sha256((units / item.output_name).read_bytes()).hexdigest()
            assert item.size == (units / item.output_name).stat().st_size
        (units / items[0].output_name).unlink()  # missing
        rotten = bytearray((units / items[1].output_name).read_bytes())
        rotten[len(rotten) // 2] ^= 0xFF  # the same size, one byte flipped
        (units / items[1].output_name).write_bytes(bytes(rotten))
        (units / items[2].output_name).write_bytes(b"PK")  # truncated
        download = bureau.get(done["download_url"])
        assert download.status_code == 200
        z = zipfile.ZipFile(io.BytesIO(download.data))
        assert z.testzip() is None
        stored = {f"各单位/{i.output_name}": (i.size, i.sha256) for i in _items(db, batch)}
        members = {n: z.read(n) for n in z.namelist() if n.startswith("各单位/")}
        assert set(members) == set(stored)
        for name, content in members.items():
            assert (len(content), hashlib.sha256(content).hexdigest()) == stored[name]
            assert load_workbook(io.BytesIO(content)).worksheets  # a whole table, not rotten bytes
        assert (units / items[0].output_name).read_bytes() == members[f"各单位/{items[0].output_name}"]
    finally:
        db.dispose()


def test_many_broken_unit_files_are_rendered_again_by_the_runner(bureau, app):
    app.config["JOB_REPAIR_INLINE"] = 1
    created = _upload(bureau, batch_workbook(4, seed=38).data).get_json()
    done = wait_done(bureau, created["id"])
    units = files.units_dir(app.config["DATA_DIR"], created["id"])
    for path in units.iterdir():
        path.unlink()
    resp = bureau.get(done["download_url"])
    assert resp.status_code == 409
    assert resp.get_json()["message"] == "有4家单位的文件缺失或已损坏，正在重新生成，请稍后再下载。"
    done = wait_done(bureau, created["id"])
    z = zipfile.ZipFile(io.BytesIO(bureau.get(done["download_url"]).data))
    assert len([n for n in z.namelist() if n.startswith("各单位/")]) == 4 and len(list(units.iterdir())) == 4


def test_archive_writes_only_checked_files(job_db, job_config, tmp_path):
    """The command line's zip (archive.write_zip) checks the unit files as the download does."""
    batch = _create(job_db, batch_workbook(3, seed=39).data)
    runner.drive(job_db, job_config, batch)
    units = files.units_dir(job_config.data_dir, batch.public_id)
    first = _items(job_db, batch)[0]
    (units / first.output_name).write_bytes(b"not a workbook at all")
    manifest = files.batch_dir(job_config.data_dir, batch.public_id) / files.MANIFEST
    written = manifest.read_bytes()
    manifest.unlink()  # the batch's own files are written again too
    archive.write_zip(job_db, runner.get_batch(job_db, batch.public_id), job_config.data_dir, tmp_path / "o.zip")
    with zipfile.ZipFile(tmp_path / "o.zip") as z:
        content = z.read(f"各单位/{first.output_name}")
        assert z.read(files.MANIFEST) == written and "汇总表.xlsx" in z.namelist()
    assert hashlib.sha256(content).hexdigest() == _items(job_db, batch)[0].sha256
    load_workbook(io.BytesIO(content))


# --------------------------------------------------------------------------- finding 17

def test_one_embedded_driver_per_batch_across_web_workers(job_db, job_config):
    """Two web workers (two runners, each with its own connection pool) polled for the same
    batch: one drives it; the other starts nothing while the first one's lease is alive."""
    batch = _create(job_db, batch_workbook(6, seed=40).data)
    cfg = runner.JobConfig(**{**job_config.__dict__, "lease_seconds": 30})
    other_db = Database(job_db.url)
    try:
        first, second = runner.EmbeddedRunner(cfg, job_db), runner.EmbeddedRunner(cfg, other_db)
        first.start(batch)
        for _ in range(5):
            second.start(batch)
        assert not second._threads, "a second worker started its own driver for the same batch"
        first.wait(batch, 60)
        assert runner.get_batch(job_db, batch.public_id).status == "done"
        with job_db.read() as session:
            owners = {o for o in session.scalars(select(BatchItem.lease_owner).where(BatchItem.batch_id == batch.id))}
        assert owners == {None}
    finally:
        other_db.dispose()


def test_a_dead_driver_is_replaced_when_its_lease_runs_out(job_db, job_config):
    batch = _create(job_db, batch_workbook(4, seed=41).data)
    cfg = runner.JobConfig(**{**job_config.__dict__, "lease_seconds": 1})
    assert runner.take_driver(job_db, batch.id, "dead-process", cfg.lease_seconds)  # then killed
    fresh = runner.EmbeddedRunner(cfg, job_db)
    fresh.start(batch)
    assert not fresh._threads
    time.sleep(1.2)
    fresh.start(batch)
    fresh.wait(batch, 60)
    assert runner.get_batch(job_db, batch.public_id).status == "done"
