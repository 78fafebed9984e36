"""`jxdoc batch KIND INPUT.xlsx -o OUT.zip`: the batch from the command line.

The database (JXDOC_DATABASE_URL, by default DATA_DIR/jxdoc.sqlite3) keeps the batch, so running
the same command again after an interruption resumes it instead of starting over: the batch is
keyed by its input, and finished units are not redone. With JXDOC_JOB_RUNNER=celery the command
sends the work to the Celery workers and waits for them.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

import kinds
from jobs import archive, importer, runner
from jobs.runner import BATCH_KINDS, JobConfig, all_final, batch_key, counts, create_batch, dispatch, drive, get_batch
from service.db import Database
from service.migrate import upgrade


class Messages:
    not_batch = "“{name}”不能批量生成。可批量生成的文档：{known}。"
    no_file = "找不到输入文件：{path}"
    import_failed = "工作簿无法导入："
    created = "已导入{units}家单位（批次 {id}）。"
    resumed = "继续此前未完成的批次 {id}（已完成{done}/{total}家单位）。"
    row_errors = "有{count}处内容未能归属到任何单位，详见清单："
    progress = "\r已处理 {finished}/{total} 家单位"
    written = "已生成 {output}（{size:,} 字节）：{done}家单位的监控表、汇总表、汇总说明和清单。"
    invalid = "{count}家单位填报有误，未生成监控表，错误见清单（{manifest}）："
    more = "  ……另有{count}条，见清单。"


def _fail(message: str, code: int = 2) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def run_batch_command(kind_id: str, input_file: Path, output: Path, *, year: int | None, period: str | None,
                      fmt: str, area: str, settings_override: dict | None, processes: int | None) -> None:
    try:
        kind = kinds.get(kind_id)
    except kinds.UnknownKind as exc:
        _fail(str(exc))
    if kind.id not in BATCH_KINDS:
        names = "、".join(f"{kinds.get(k).name}（{k}）" for k in BATCH_KINDS)
        _fail(Messages.not_batch.format(name=kind.name, known=names))
    if not input_file.is_file():
        _fail(Messages.no_file.format(path=input_file))
    data = input_file.read_bytes()
    cfg = JobConfig.from_environment()
    if processes is not None:
        cfg = JobConfig(**{**cfg.__dict__, "processes": processes})
    upgrade(cfg.database_url)
    db = Database(cfg.database_url)
    try:
        params = {"area": area, "settings_override": settings_override or None,
                  "year": year, "period": period}
        key = batch_key(kind.id, fmt, params, data)
        from sqlalchemy import select

        from jobs.models import Batch

        with db.read() as session:
            existing = session.scalar(select(Batch).where(Batch.key == key))
        if existing is None:
            if cfg.runner != "celery":
                runner.warm_pool(cfg.pool_size)
            try:
                imported = importer.read_batch_workbook(data, kind.id, year=year, period=period, fmt=fmt)
            except importer.BatchImportError as exc:
                _fail("\n".join([Messages.import_failed, *exc.messages]), 1)
            if imported.fatal:
                _fail("\n".join([Messages.import_failed, *imported.fatal]), 1)
            batch, _ = create_batch(db, kind.id, fmt, imported, key=key, title=f"{input_file.stem}",
                                    source_name=input_file.name,
                                    params={"area": area, "settings_override": settings_override or None})
            click.echo(Messages.created.format(units=batch.total, id=batch.public_id))
        else:
            batch = existing
            state = counts(db, batch.id)
            click.echo(Messages.resumed.format(id=batch.public_id, done=batch.total - state["pending"] - state["running"],
                                               total=batch.total))
        if batch.errors:
            click.echo(Messages.row_errors.format(count=len(batch.errors)), err=True)
            for line in batch.errors[:20]:
                click.echo(f"  {line}", err=True)

        def show(state):
            finished = batch.total - state["pending"] - state["running"]
            click.echo(Messages.progress.format(finished=finished, total=batch.total), nl=False, err=True)

        if batch.status != "done":
            if cfg.runner == "celery":
                dispatch(cfg, db, batch)
                while True:
                    state = counts(db, batch.id)
                    show(state)
                    current = get_batch(db, batch.public_id)
                    if all_final(state) and current.status == "done":
                        break
                    time.sleep(0.5)
            else:
                drive(db, cfg, batch, progress=show)
            click.echo("", err=True)
        batch = get_batch(db, batch.public_id)
        output.parent.mkdir(parents=True, exist_ok=True)
        size = archive.write_zip(db, batch, cfg.data_dir, output)
        state = counts(db, batch.id)
        click.echo(Messages.written.format(output=output, size=size, done=state["done"]))
        if batch.summary.get("text"):
            click.echo(batch.summary["text"])
        bad = state["invalid"] + state["failed"]
        if bad:
            click.echo(Messages.invalid.format(count=bad, manifest=archive.MANIFEST), err=True)
            shown = 0
            for item in archive._items(db, batch.id):
                for line in item.errors if item.status in ("invalid", "failed") else []:
                    if shown < 20:
                        click.echo(f"  {item.unit_code} {item.unit_name}：{line}", err=True)
                    shown += 1
            if shown > 20:
                click.echo(Messages.more.format(count=shown - 20), err=True)
    finally:
        db.dispose()
