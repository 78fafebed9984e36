"""The batch runner in one process: leases, idempotence, retries, the zip, the summary and the
manifest."""

from __future__ import annotations

import csv
import io
import threading
import zipfile
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import select

from jobs import files, importer, runner
from jobs.batchkinds import monitoring
from jobs.samples import batch_workbook
from rules.formatting import money_text
from storage.batches import BatchItem
from tests.jobs.conftest import workbook
from tests.jobs.helpers import batch_zip


def _create(job_db, data: bytes, kind: str = "monitoring", key: str | None = None):
    imported = importer.read_batch_workbook(data, kind)
    key = key or runner.batch_key(kind, "xlsx", {}, data)
    return runner.create_batch(job_db, kind, "xlsx", imported, key=key, title="测试批次")


def _zip(job_db, batch, cfg, tmp_path) -> zipfile.ZipFile:
    return batch_zip(job_db, cfg, batch, tmp_path / "out.zip")


def _manifest(z: zipfile.ZipFile) -> list[list[str]]:
    text = z.read(files.MANIFEST).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_batch_end_to_end(job_db, job_config, tmp_path):
    generated = batch_workbook(25, seed=11)
    batch, created = _create(job_db, generated.data)
    assert created and batch.total == 25
    assert runner.drive(job_db, job_config, batch) is True
    z = _zip(job_db, batch, job_config, tmp_path)
    names = z.namelist()
    assert names[:3] == ["汇总表.xlsx", "汇总说明.txt", "清单.csv"]
    units = [n for n in names if n.startswith("各单位/")]
    assert len(units) == 25 and units[0] == "各单位/100000_青溪县教育局第1分局.xlsx"

    text = z.read("汇总说明.txt").decode()
    assert f"预算资金总额{money_text(generated.budget)}万元，已执行{money_text(generated.executed)}万元" in text
    assert text.startswith("截至2024年6月，纳入绩效运行监控的")

    summary = load_workbook(io.BytesIO(z.read("汇总表.xlsx")))["汇总表"]
    total_row = next(r for r in summary.iter_rows() if r[0].value == "合计")
    assert Decimal(str(total_row[3].value)) == generated.budget
    assert total_row[2].value == generated.projects

    rows = _manifest(z)
    assert rows[0] == monitoring.MANIFEST_HEADER and len(rows) == 26
    assert {r[3] for r in rows[1:]} == {"已生成"}
    assert sum(Decimal(r[6].replace(",", "")) for r in rows[1:]) == generated.budget

    # each unit's table holds its own projects and nothing else
    for name in units[:8]:
        code = name.split("/")[1].split("_")[0]
        book = load_workbook(io.BytesIO(z.read(name)))
        texts = {str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value}
        assert set(generated.unit_projects[code]) <= texts
        others = {p for c, ps in generated.unit_projects.items() if c != code for p in ps}
        assert not texts & others


def test_started_twice_gives_no_duplicates(job_db, job_config, tmp_path):
    generated = batch_workbook(24, seed=5)
    first, created = _create(job_db, generated.data)
    again, created_again = _create(job_db, generated.data)
    assert created and not created_again and again.id == first.id
    cfg = runner.JobConfig(**{**job_config.__dict__, "lease_seconds": 60})
    threads = [threading.Thread(target=runner.drive, args=(job_db, cfg, first)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with job_db.read() as session:
        items = list(session.scalars(select(BatchItem).where(BatchItem.batch_id == first.id)))
    assert len(items) == 24 and {i.status for i in items} == {"done"}
    assert sum(i.attempts for i in items) == 24  # no item was rendered twice
    outputs = sorted((files.units_dir(cfg.data_dir, first.public_id)).iterdir())
    assert len(outputs) == 24
    runner.drive(job_db, cfg, first)  # driving a finished batch changes nothing
    assert sorted((files.units_dir(cfg.data_dir, first.public_id)).iterdir()) == outputs


def test_expired_lease_is_taken_over(job_db, job_config, tmp_path):
    batch, _ = _create(job_db, batch_workbook(10, seed=9).data)
    # A worker takes four items and dies without a word.
    dead = runner.claim(job_db, batch.id, "dead-worker", lease_seconds=0.5, limit=4)
    assert len(dead) == 4
    units = files.units_dir(job_config.data_dir, batch.public_id)
    units.mkdir(parents=True)
    (units / f".{dead[0]['output_name']}.dead.tmp").write_bytes(b"half a file")
    assert runner.drive(job_db, job_config, batch)
    with job_db.read() as session:
        items = {i.id: i for i in session.scalars(select(BatchItem).where(BatchItem.batch_id == batch.id))}
    assert all(i.status == "done" and i.lease_owner is None for i in items.values())
    assert [items[d["id"]].attempts for d in dead] == [2, 2, 2, 2]
    assert not [p for p in units.iterdir() if p.name.endswith(".tmp")]
    assert len(list(units.iterdir())) == 10


def test_a_unit_that_keeps_failing_is_marked_failed(job_db, job_config, tmp_path, monkeypatch):
    batch, _ = _create(job_db, batch_workbook(6, seed=4).data)
    real = runner.process_chunk

    def flaky(kind, fmt, items, out_dir, override):
        results = real(kind, fmt, items, out_dir, override)
        return [{"id": r["id"], "status": "error", "errors": ["Traceback: disk full"]}
                if item["key"] == "100002" else r for item, r in zip(items, results, strict=True)]

    monkeypatch.setattr(runner, "process_chunk", flaky)
    assert runner.drive(job_db, job_config, batch)
    state = runner.counts(job_db, batch.id)
    assert state["done"] == 5 and state["failed"] == 1
    z = _zip(job_db, batch, job_config, tmp_path)
    failed = [r for r in _manifest(z) if r[1] == "100002"][0]
    assert failed[3] == "生成失败" and "多次生成失败（第3次）" in failed[9]
    assert "另有1家单位因填报有误或生成失败未纳入汇总" in z.read("汇总说明.txt").decode()


def test_manifest_cells_never_start_a_formula(job_db, job_config, tmp_path):
    project = ["单位编码", "单位名称", "项目编码", "项目名称", "年初预算数", "执行数", "年初设定目标"]
    indicator = ["单位编码", "项目编码", "一级指标", "二级指标", "三级指标", "年度指标值", "执行情况", "完成目标可能性"]
    data = workbook({
        "参数": [["年度", 2024], ["监控期间", "1-6月"]],
        "项目": [project, ["=1+1", "=HYPERLINK(\"http://x\")", "P1", "项目一", 10, 5, "目标"],
                 ["@SUM", "-2+3", "P1", "+项目", 10, "错", "目标"]],
        "指标": [indicator, ["=1+1", "P1", "产出指标", "数量指标", "人数", "≥1人", "1人", "确定能"],
                 ["@SUM", "P1", "产出指标", "数量指标", "人数", "≥1人", "1人", "确定能"]],
    })
    batch, _ = _create(job_db, data)
    runner.drive(job_db, job_config, batch)
    rows = _manifest(_zip(job_db, batch, job_config, tmp_path))
    cells = [c for r in rows[1:] for c in r if c]
    assert not [c for c in cells if c[0] in "=+-@\t\r"]
    assert ["'=1+1", "'=HYPERLINK(\"http://x\")"] == rows[1][1:3]
    assert rows[2][1:4] == ["'@SUM", "'-2+3", "填报有误"]
    assert "第3行F列" in rows[2][9]


def test_csv_cell_table():
    cases = {"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@A1": "'@A1", "\tx": "'\tx", "\rx": "'\rx",
             "＝1": "'＝1", "青溪县": "青溪县", "": "", None: "", "1-6月": "1-6月"}
    for given, expected in cases.items():
        assert files.csv_cell(given) == expected


def test_invalid_units_do_not_stop_the_others(job_db, job_config, tmp_path):
    generated = batch_workbook(8, seed=21)
    book = load_workbook(io.BytesIO(generated.data))
    sheet = book["指标"]
    headers = [c.value for c in sheet[1]]
    fourth = importer.read_batch_workbook(generated.data, "monitoring").units[3].code
    row = next(r for r in sheet.iter_rows(min_row=2) if r[headers.index("单位编码")].value == fourth)
    row[headers.index("完成目标可能性")].value = "也许"  # the fourth unit's first indicator
    out = io.BytesIO()
    book.save(out)
    imported = importer.read_batch_workbook(out.getvalue(), "monitoring")
    batch, _ = runner.create_batch(job_db, "monitoring", "xlsx", imported, key="k-invalid")
    runner.drive(job_db, job_config, batch)
    state = runner.counts(job_db, batch.id)
    assert (state["done"], state["invalid"]) == (7, 1)
    z = _zip(job_db, batch, job_config, tmp_path)
    assert len([n for n in z.namelist() if n.startswith("各单位/")]) == 7
    bad = _manifest(z)[4]
    assert bad[3] == "填报有误" and "列（完成目标可能性）：应为“确定能”“有可能”或“完全不可能”。" in bad[9]


def test_rendering_workers_collect_garbage_less_often(tmp_path):
    """Pool processes and Celery worker processes run with the worker thresholds of the cyclic
    collector (jobs.work.init_worker), and so do gunicorn's (service.wsgi)."""
    import gc

    from celery.signals import worker_init, worker_process_init

    import jobs.tasks  # noqa: F401 - connects the Celery signal handlers
    from jobs.work import WORKER_GC_THRESHOLDS

    assert runner._pool(2).submit(gc.get_threshold).result(timeout=60) == WORKER_GC_THRESHOLDS
    assert gc.get_threshold() != WORKER_GC_THRESHOLDS
    before = gc.get_threshold()
    try:
        for signal in (worker_process_init, worker_init):
            gc.set_threshold(*before)
            signal.send(sender=None)
            assert gc.get_threshold() == WORKER_GC_THRESHOLDS
        gc.set_threshold(*before)
        import os
        import subprocess
        import sys

        code = "import gc, service.wsgi; print(list(gc.get_threshold()))"
        env = {**os.environ, "JXDOC_DATA_DIR": str(tmp_path)}  # the app's database and secret go there
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
        assert out.strip() == str(list(WORKER_GC_THRESHOLDS))
    finally:
        gc.set_threshold(*before)


def test_implausible_figures_are_listed_per_unit_and_the_units_produced(job_db, job_config, tmp_path):
    """执行数 over 预算数 and 元 typed into a 万元 column: the unit's table is made and counted in
    the 汇总表, with the warning in the manifest naming sheet, row and column (README)."""
    generated = batch_workbook(4, seed=21)
    book = load_workbook(io.BytesIO(generated.data))
    sheet = book["项目"]
    headers = [c.value for c in sheet[1]]

    def cell(row, header):
        return sheet.cell(row=row, column=headers.index(header) + 1)

    # row 3 (the second project row): 执行数 over 预算数 on the other funds, the total agreeing
    other = Decimal(str(cell(3, "其他资金年初预算数").value))
    extra = other + Decimal("10.00") - Decimal(str(cell(3, "其他资金1-6月执行数").value))
    cell(3, "其他资金1-6月执行数").value = float(other + Decimal("10.00"))
    cell(3, "1-6月执行数（万元）").value = float(Decimal(str(cell(3, "1-6月执行数（万元）").value)) + extra)
    over_unit = cell(3, "单位编码").value
    # row 5: a 年初预算数 typed in 元, its parts too, so the sums agree
    for header in ("年初预算数（万元）", "财政拨款年初预算数", "其他资金年初预算数"):
        cell(5, header).value = float(Decimal(str(cell(5, header).value)) * 10000)
    yuan_unit = cell(5, "单位编码").value
    out = io.BytesIO()
    book.save(out)
    imported = importer.read_batch_workbook(out.getvalue(), "monitoring")
    batch, _ = runner.create_batch(job_db, "monitoring", "xlsx", imported, key="k-plausible")
    runner.drive(job_db, job_config, batch)
    assert runner.counts(job_db, batch.id)["done"] == 4
    z = _zip(job_db, batch, job_config, tmp_path)
    notes = {r[1]: r[9] for r in _manifest(z)[1:]}
    assert "需核对：" in notes[over_unit] and "工作表“项目”第3行" in notes[over_unit]
    assert (f"N列（其他资金1-6月执行数）：其他资金的执行数{money_text(other + Decimal('10.00'))}万元"
            f"大于预算数{money_text(other)}万元") in notes[over_unit]
    assert "工作表“项目”第5行" in notes[yuan_unit] and "是否把“元”填进了“万元”栏" in notes[yuan_unit]
    assert [c for c, n in notes.items() if n] == sorted({over_unit, yuan_unit})
    assert "其中2家单位的数字需要核对" in z.read("汇总说明.txt").decode()
