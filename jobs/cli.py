"""`jxdoc batch KIND INPUT.xlsx -o OUT.zip`: the batch from the command line.

    jxdoc batch monitoring 监控.xlsx -o 监控表.zip [--year --period --format --area]
    jxdoc batch disclosure --year 2023 -o 公开.zip [--exclude "399001 涉密" …] [--exclude-file 不公开.txt]
    jxdoc batch disclosure units.json -o 公开.zip [--exclude …]     (offline: disclosure payloads)

Without an input file the disclosure batch reads the service's stored submissions of the year.

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
from jobs import archive, batchkinds, files, importer, runner
from jobs.batchkinds import disclosure as disclosure_batch
from jobs.dispatch import dispatch
from jobs.runner import (
    JobConfig,
    all_final,
    batch_key,
    counts,
    create_batch,
    drive,
    get_batch,
)
from storage.batches import PROBLEMS, Batch, BatchItem
from storage.db import Database
from storage.migrate import upgrade


class Messages:
    not_batch = "“{name}”不能批量生成。可批量生成的文档：{known}。"
    no_file = "找不到输入文件：{path}"
    import_failed = "工作簿无法导入："
    created = "已导入{units}家单位（批次 {id}）。"
    resumed = "继续此前未完成的批次 {id}（已完成{done}/{total}家单位）。"
    row_errors = "有{count}处内容未能归属到任何单位，详见清单："
    progress = "\r已处理 {finished}/{total} 家单位"
    written = "已生成 {output}（{size:,} 字节）：{done}家单位，{contents}。"
    invalid = "{count}家单位填报有误或生成失败，未生成文件，错误见清单（{manifest}）："
    no_input = "请指定输入工作簿（.xlsx）。"
    exclusions_failed = "不公开单位名单有误："
    input_failed = "输入文件无法导入："
    no_exclude_file = "找不到不公开单位名单文件：{path}"
    more = "  ……另有{count}条，见清单。"
    retried = "此前生成失败的{count}家单位重新生成。"
    rerendering = "{count}家单位的文件缺失或已损坏，重新生成。"


def _fail(message: str, code: int = 2) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def _config(processes: int | None) -> tuple[JobConfig, Database]:
    cfg = JobConfig.from_environment()
    if processes is not None:
        cfg = JobConfig(**{**cfg.__dict__, "processes": processes})
    upgrade(cfg.database_url)
    return cfg, Database(cfg.database_url)


def _existing(db: Database, key: str) -> Batch | None:
    """The batch of this input if it was started before; its failed units are tried again."""
    return runner.find_batch(db, key)


def _announce(db: Database, batch: Batch, created: bool) -> None:
    if created:
        click.echo(Messages.created.format(units=batch.total, id=batch.public_id))
    else:
        if batch.retried:
            click.echo(Messages.retried.format(count=batch.retried))
        state = counts(db, batch.id)
        click.echo(Messages.resumed.format(id=batch.public_id, done=batch.total - state["pending"] - state["running"],
                                           total=batch.total))


def run_batch_command(kind_id: str, input_file: Path | None, output: Path, *, year: int | None, period: str | None,
                      fmt: str, area: str, settings_override: dict | None, processes: int | None,
                      exclude: tuple[str, ...] = (), exclude_file: Path | None = None) -> None:
    try:
        kind = kinds.get(kind_id)
    except kinds.UnknownKind as exc:
        _fail(str(exc))
    if kind.id not in batchkinds.kind_ids():
        names = "、".join(f"{kinds.get(k).name}（{k}）" for k in batchkinds.kind_ids())
        _fail(Messages.not_batch.format(name=kind.name, known=names))
    if kind.id == disclosure_batch.KIND:
        run_disclosure_command(input_file, output, year=year, exclude=exclude, exclude_file=exclude_file,
                               processes=processes, settings_override=settings_override,
                               fmt=fmt if fmt in disclosure_batch.FORMATS else disclosure_batch.FMT)
        return
    if input_file is None:
        _fail(Messages.no_input)
    if not input_file.is_file():
        _fail(Messages.no_file.format(path=input_file))
    data = input_file.read_bytes()
    cfg, db = _config(processes)
    try:
        params = {"area": area, "settings_override": settings_override or None,
                  "year": year, "period": period}
        key = batch_key(kind.id, fmt, params, data)
        batch = _existing(db, key)
        if batch is None:
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
            _announce(db, batch, True)
        else:
            _announce(db, batch, False)
        _run_and_write(db, cfg, batch, output)
    finally:
        db.dispose()


def _exclusions(exclude: tuple[str, ...], exclude_file: Path | None) -> dict[str, str]:
    """--exclude "单位编码 原因" (repeatable) and --exclude-file (one “单位编码 原因” a line)."""
    text = "\n".join(exclude)
    if exclude_file is not None:
        if not exclude_file.is_file():
            _fail(Messages.no_exclude_file.format(path=exclude_file))
        text = exclude_file.read_text(encoding="utf-8-sig") + "\n" + text
    found, errors = disclosure_batch.parse_exclusions(text)
    if errors:
        _fail("\n".join([Messages.exclusions_failed, *errors]), 1)
    return found


def run_disclosure_command(input_file: Path | None, output: Path, *, year: int | None, exclude: tuple[str, ...],
                           exclude_file: Path | None, processes: int | None,
                           settings_override: dict | None = None, fmt: str = disclosure_batch.FMT) -> None:
    """The 绩效信息公开 batch: from a JSON file of `disclosure` payloads, or — without a file — from
    the stored submissions of `year`. Run again, it resumes: the batch is keyed by its items."""
    exclusions = _exclusions(exclude, exclude_file)
    if input_file is not None and not input_file.is_file():
        _fail(Messages.no_file.format(path=input_file))
    cfg, db = _config(processes)
    try:
        if input_file is not None:
            payloads, errors = disclosure_batch.load_json(input_file.read_bytes())
            if errors:
                _fail("\n".join([Messages.input_failed, *errors]), 1)
            imported = disclosure_batch.from_payloads(payloads, exclusions, year)
            source, title, name = "json", input_file.stem, input_file.name
        else:
            parsed, errors = disclosure_batch.parse_year(year)
            if errors:
                _fail("\n".join(errors), 1)
            imported = disclosure_batch.from_stored(db, parsed, exclusions)
            source, title, name = "stored", "", ""
        if imported.fatal:
            _fail("\n".join([Messages.input_failed, *imported.fatal]), 1)
        if cfg.runner != "celery":
            runner.warm_pool(cfg.pool_size)
        batch, created = disclosure_batch.start(db, imported, source=source, title=title, source_name=name,
                                                settings_override=settings_override, fmt=fmt)
        _announce(db, batch, created)
        _run_and_write(db, cfg, batch, output)
    finally:
        db.dispose()


def _run_and_write(db: Database, cfg: JobConfig, batch: Batch, output: Path) -> None:
    """Drive the batch to its end (or wait for the Celery workers), write the zip, report."""
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
            drive(db, cfg, batch, progress=show, exclusive=True)
        click.echo("", err=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    while True:
        batch = get_batch(db, batch.public_id)
        try:
            size = archive.write_zip(db, batch, cfg.data_dir, output, repair_inline=cfg.repair_inline)
            break
        except archive.BrokenUnits as exc:  # unit files gone or damaged since: rendered again
            click.echo(Messages.rerendering.format(count=len(exc.ids)), err=True)
            runner.reopen(db, batch.id, BatchItem.id.in_(exc.ids))
            drive(db, cfg, get_batch(db, batch.public_id), progress=show, exclusive=True)
            click.echo("", err=True)
    state = counts(db, batch.id)
    click.echo(Messages.written.format(output=output, size=size, done=state["done"],
                                       contents=batchkinds.get(batch.kind).contents))
    if batch.summary.get("text"):
        click.echo(batch.summary["text"])
    bad = sum(state[s] for s in PROBLEMS)
    if bad:
        click.echo(Messages.invalid.format(count=bad, manifest=files.MANIFEST), err=True)
        shown = 0
        for item in archive.items(db, batch.id):
            for line in item.errors if item.status in PROBLEMS else []:
                if shown < 20:
                    named = line.startswith("单位“")  # the disclosure messages name their unit
                    click.echo(f"  {line}" if named else f"  {item.unit_code} {item.unit_name}：{line}", err=True)
                shown += 1
        if shown > 20:
            click.echo(Messages.more.format(count=shown - 20), err=True)
