"""The `jxdoc` command: kinds, samples, rendering, the database and the server.

Rendering needs no server and no database: `jxdoc render KIND INPUT.json -o OUT.docx`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click

import kinds
from forms.base import FieldErrors, UnconfirmedWarnings
from kinds import pipeline
from service import cli_signing
from storage.config import PREFIX, env


def _fail(message: str, code: int = 2) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def write_atomically(path: Path, content: bytes) -> None:
    """Write to a temporary file in the same directory and rename: a reader never sees half a
    file, and a failure leaves nothing behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def print_errors(errors: dict[str, list[str]]) -> None:
    click.echo("输入有误，未生成文件：", err=True)
    for path, messages in errors.items():
        for message in messages:
            click.echo(f"  {path}：{message}", err=True)


def print_warnings(warnings: list[dict]) -> None:
    """Unconfirmed warnings as the API and the web form show them: the field, then the message;
    and how to confirm them in the input."""
    click.echo(UnconfirmedWarnings.message, err=True)
    for warning in warnings:
        if not warning["confirmed"]:
            click.echo(f"  {warning['path']}：{warning['message']}", err=True)
    click.echo("确认无误的，在输入文件中加上 \"confirmations\": {\"提示编号\": \"说明\"}，提示编号为：", err=True)
    for warning in warnings:
        if not warning["confirmed"]:
            click.echo(f"  {warning['key']}", err=True)


def _settings(settings_file: str | None):
    from rules.settings import read_override_file
    from service.settings_store import load_settings

    path = settings_file or env("SETTINGS_FILE")
    return load_settings(read_override_file(path) if path else None)


@click.group(help="预算绩效管理文书服务（jxdoc）命令行。")
def main() -> None:
    pass


@main.command("kinds", help="列出所有文档种类。")
@click.option("--json", "as_json", is_flag=True, help="以JSON输出。")
def list_kinds(as_json: bool) -> None:
    items = kinds.all_kinds()
    if as_json:
        click.echo(json.dumps([{"id": k.id, "name": k.name, "group": k.group, "formats": list(k.formats)}
                               for k in items], ensure_ascii=False, indent=2))
        return
    width = max(len(k.id) for k in items)
    for k in items:
        click.echo(f"{k.id.ljust(width)}  {k.name}（{k.group}）  {'/'.join(k.formats)}")


@main.command(help="输出某种文档的示例数据（JSON）。")
@click.argument("kind_id")
@click.option("--name", default=None, help="示例名（默认第一个）。")
def sample(kind_id: str, name: str | None) -> None:
    kind = _get_kind(kind_id)
    paths = kind.samples()
    if name:
        paths = [p for p in paths if p.stem == name]
    if not paths:
        _fail(f"“{kind.name}”没有示例{('“' + name + '”') if name else ''}。可用示例：{'、'.join(p.stem for p in kind.samples())}")
    click.echo(paths[0].read_text(encoding="utf-8"), nl=False)


def _get_kind(kind_id: str) -> kinds.Kind:
    try:
        return kinds.get(kind_id)
    except kinds.UnknownKind as exc:
        _fail(str(exc))
        raise


@main.command(help="按输入的JSON生成文档；格式由输出文件扩展名决定（.docx/.pdf/.xlsx）。")
@click.argument("kind_id")
@click.argument("input_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="输出文件，例如 请示.docx")
@click.option("--settings", "settings_file", default=None, help="覆盖默认设置的TOML/JSON文件。")
@click.option("--pdfa", is_flag=True, help="生成PDF/A-2b（归档用）。")
@click.option("--seal", "with_seals", is_flag=True,
              help="公文docx：在署名处放入已登记的印章图片（供打印后使用；PDF 的印章在签章时加盖）。")
def render(kind_id: str, input_file: Path, output: Path, settings_file: str | None, pdfa: bool,
           with_seals: bool) -> None:
    kind = _get_kind(kind_id)
    fmt = output.suffix.lstrip(".").lower()
    if fmt not in kind.formats:
        _fail(f"“{kind.name}”不能生成 .{fmt} 文件，可用的格式：{'、'.join('.' + f for f in kind.formats)}")
    try:
        payload = json.loads(input_file.read_text(encoding="utf-8")) if str(input_file) != "-" else json.load(sys.stdin)
    except FileNotFoundError:
        _fail(f"找不到输入文件：{input_file}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        _fail(f"输入文件不是有效的JSON（UTF-8）：{exc}")
    if with_seals and (fmt != "docx" or kind.group != "公文"):
        _fail("--seal 只用于公文的 .docx 文件；PDF 的印章在签章（jxdoc sign）时加盖。")
    try:
        settings = _settings(settings_file)
        seals = cli_signing.registered_seal_images(kind, payload, settings) if with_seals else None
        result = pipeline.produce(kind, payload, fmt, settings, archival=pdfa, seals=seals)
    except FieldErrors as exc:
        print_errors(exc.errors)
        sys.exit(1)
    except UnconfirmedWarnings as exc:
        print_warnings(exc.warnings)
        sys.exit(1)
    write_atomically(output, result.content)
    click.echo(f"已生成 {output}（{len(result.content):,} 字节）")


@main.group(help="数据库。")
def db() -> None:
    pass


@db.command("upgrade", help="把数据库升级到最新结构（Alembic）。")
def db_upgrade() -> None:
    from service import create_app
    from storage.migrate import upgrade

    app = create_app()
    upgrade(app.config["DATABASE_URL"])
    click.echo("数据库已是最新结构。")


@main.command(help="启动服务（迁移数据库后用 gunicorn 运行）。")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="工作进程数（默认 CPU 核数 + 1）。")
@click.option("--dev", is_flag=True, help="用 Flask 开发服务器（自动重载）。")
def serve(host: str, port: int, workers: int | None, dev: bool) -> None:
    from service import create_app
    from storage.migrate import upgrade

    app = create_app()
    upgrade(app.config["DATABASE_URL"])
    _sign_in_help(app)
    click.echo(f"jxdoc 已启动：http://{host}:{port}/  （数据目录 {app.config['DATA_DIR']}，按 Ctrl+C 停止）")
    if dev:
        app.run(host=host, port=port, debug=True)
        return
    workers = workers or (os.cpu_count() or 1) + 1  # CPU-bound renders: one per core plus one
    argv = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--timeout", "120",
            "--access-logfile", "-", "--config", "python:service.gunicorn_conf"]
    if app.config["FRONT"] == "nginx":
        argv += ["--bind", f"unix:{_front(app, host, port)}"]
    else:
        argv += ["--bind", f"{host}:{port}"]
    os.execv(sys.executable, [*argv, "service.wsgi:app"])  # noqa: S606 - becomes gunicorn; fixed argv, no shell


def _front(app, host: str, port: int) -> str:
    """Write nginx's configuration (service/front.py) and tell gunicorn's hooks to start it; the
    socket gunicorn binds to instead of the port."""
    from service import front

    if app.config["FRONT"] not in ("nginx", "none"):
        _fail(f"JXDOC_FRONT 只能是 nginx 或 none，现在是 {app.config['FRONT']!r}。")
    if front.nginx_binary() is None:
        _fail("未找到 nginx：请运行 scripts/bootstrap.sh 安装，或设置 JXDOC_FRONT=none（已有缓冲代理时）。")
    spec = front.Front(host=host, port=port, run_dir=Path(app.config["DATA_DIR"]) / "run" / str(port),
                       max_body_bytes=app.config["MAX_CONTENT_LENGTH"],
                       client_timeout=app.config["CLIENT_TIMEOUT"])
    front.prepare(spec)
    os.environ[PREFIX + front.CONF_KEY] = str(spec.conf)
    os.environ["JXDOC_FRONT_PROXY"] = "1"  # the client's address comes in nginx's X-Forwarded-For
    return str(spec.socket)


def _sign_in_help(app) -> None:
    """Create the first administrator from the environment if asked to; otherwise say how."""
    from service.first_admin import SIGN_IN_HELP, bootstrap_admin

    outcome = bootstrap_admin(app)
    given = [f"JXDOC_{key}" for key in ("ADMIN_USERNAME", "ADMIN_PASSWORD") if env(key, "").strip()]
    if outcome == "created":
        click.echo("已按 JXDOC_ADMIN_USERNAME 创建第一个管理员账号，请用它登录。")
    elif outcome.startswith("invalid:"):
        # Asked for an administrator and none could be made: starting anyway would leave nobody
        # able to sign in, so the service stops here with the reason.
        _fail(f"未启动：JXDOC_ADMIN_USERNAME/JXDOC_ADMIN_PASSWORD 未能创建管理员：{outcome[8:]}\n{SIGN_IN_HELP}", 1)
    elif outcome == "missing" and len(given) == 1:
        missing = ({"JXDOC_ADMIN_USERNAME", "JXDOC_ADMIN_PASSWORD"} - set(given)).pop()
        _fail(f"未启动：设置了 {given[0]}，但没有设置 {missing}。\n{SIGN_IN_HELP}", 1)
    elif outcome != "exists":
        click.echo(SIGN_IN_HELP)


@main.command("create-admin", help="创建管理员账号（首次使用时创建第一个管理员）。密码从提示或环境变量 JXDOC_ADMIN_PASSWORD 读取。")
@click.option("--username", required=True, help="管理员用户名。")
@click.option("--name", "display_name", default="", help="姓名（可不填）。")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码（便于脚本）。")
def create_admin_command(username: str, display_name: str, password_stdin: bool) -> None:
    from service import create_app
    from service.first_admin import create_admin
    from storage.migrate import upgrade

    app = create_app()
    upgrade(app.config["DATABASE_URL"])
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif env("ADMIN_PASSWORD"):
        password = env("ADMIN_PASSWORD")
    else:
        password = click.prompt("密码（至少10个字符）", hide_input=True, confirmation_prompt="再次输入密码")
    with app.app_context():
        try:
            create_admin(username, password, display_name)
        except ValueError as exc:
            _fail(f"未创建管理员：{exc}", 1)
    click.echo(f"已创建管理员 {username}。启动服务后用它登录，在“系统管理 → 账号”中为各单位创建账号。")


@main.group(help="按系统数据起草文稿。")
def draft() -> None:
    pass


@draft.command("summary-report", help="起草年度总结报告及上报它的请示：统计数据取自系统中已提交的申报、监控和自评，"
                                      "做法成效、存在问题和下一步工作取自输入文件。")
@click.option("--year", type=int, default=None, help="总结年度（默认取输入文件中的 year）。")
@click.option("--input", "input_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="起草信息（JSON）：地区、发文机关、主送机关、文号、签发人、联系人和三部分正文；可含 units 代替系统数据。")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="报告输出文件（.docx 或 .pdf）。")
@click.option("--request-output", "request_output", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="请示输出文件（.docx 或 .pdf），可不填。")
@click.option("--json", "json_output", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="另存两份文稿的JSON，便于修改后再用 render 生成。")
@click.option("--settings", "settings_file", default=None, help="覆盖默认设置的TOML/JSON文件。")
def draft_summary_report(year: int | None, input_file: Path, output: Path, request_output: Path | None,
                         json_output: Path | None, settings_file: str | None) -> None:
    from service.drafts import summary_drafts
    from storage.models import dumps

    try:
        payload = json.loads(input_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _fail(f"找不到输入文件：{input_file}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        _fail(f"输入文件不是有效的JSON（UTF-8）：{exc}")
    if not isinstance(payload, dict):
        _fail("输入文件应为一个JSON对象。")
    if year is not None:
        payload["year"] = year
    targets = [("report", output), *([("request", request_output)] if request_output else [])]
    for _kind, path in targets:
        if path.suffix.lower() not in (".docx", ".pdf"):
            _fail(f"只能生成 .docx 或 .pdf 文件：{path}")
    settings = _settings(settings_file)

    def load(y: int) -> list[dict]:
        from service import create_app
        from service.database import get_db
        from storage.records import load_units

        app = create_app()
        return load_units(get_db(app), y, settings)

    try:
        result = summary_drafts(payload, settings, load)
    except FieldErrors as exc:
        print_errors(exc.errors)
        sys.exit(1)
    for kind_id, path in targets:
        out = pipeline.produce(kind_id, result[kind_id], path.suffix.lower().lstrip("."), settings)
        write_atomically(path, out.content)
        click.echo(f"已生成 {path}（{len(out.content):,} 字节）")
    if json_output:
        write_atomically(json_output, dumps({"report": result["report"], "request": result["request"]}).encode())
        click.echo(f"已保存文稿JSON {json_output}")


# --- batch (issue 4: jobs/) -------------------------------------------------------------------
@main.command(help="批量生成：按单位编码拆分工作簿，每个单位一份监控表，另附汇总表、汇总说明和清单，打包为zip；"
                   "disclosure（绩效信息公开）：每个单位一个公开PDF，另附目录和清单——不给输入文件时取本系统中"
                   "该年度已提交或已审核的自评材料，或给出单位公开材料的JSON文件。"
                   "中断后重新运行同一命令会继续未完成的部分。")
@click.argument("kind_id")
@click.argument("input_file", required=False, default=None, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="输出的zip文件，例如 监控表.zip")
@click.option("--year", type=int, default=None, help="年度（默认取工作簿“参数”表；disclosure 取库中数据时必填）。")
@click.option("--period", default=None, help="监控期间，如 1-6月（默认取工作簿“参数”表）。")
@click.option("--format", "fmt", default="xlsx", show_default=True, type=click.Choice(["xlsx", "docx", "pdf", "ofd"]),
              help="各单位监控表的格式；disclosure 为 pdf（默认）或 ofd。")
@click.option("--area", default="", help="地区或财政部门名称，用于汇总表标题。")
@click.option("--exclude", multiple=True, help="disclosure：不予公开的单位，“单位编码 原因”，如 \"399001 涉密\"；可重复。")
@click.option("--exclude-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="disclosure：不予公开的单位名单文件，每行“单位编码 原因”。")
@click.option("--processes", type=int, default=None, help="并行进程数（默认每个CPU核一个）。")
@click.option("--sign", is_flag=True, help="disclosure：用默认签章机关对每个单位的PDF签章（同设置 signing.batches.sign）。")
@click.option("--pdfa", is_flag=True, help="disclosure：生成PDF/A-2b（同设置 signing.batches.pdfa）。")
@click.option("--settings", "settings_file", default=None, help="覆盖默认设置的TOML/JSON文件。")
def batch(kind_id: str, input_file: Path | None, output: Path, year: int | None, period: str | None, fmt: str,
          area: str, exclude: tuple[str, ...], exclude_file: Path | None, processes: int | None, sign: bool,
          pdfa: bool, settings_file: str | None) -> None:
    from jobs.cli import run_batch_command
    from rules.settings import deep_merge, read_override_file

    path = settings_file or env("SETTINGS_FILE")
    _settings(settings_file)  # refuse a bad settings file before any work
    override = read_override_file(path) if path else None
    chosen = {key: True for key, flag in (("sign", sign), ("pdfa", pdfa)) if flag}
    if chosen:
        override = deep_merge(override or {}, {"signing": {"batches": chosen}})
    run_batch_command(kind_id, input_file, output, year=year, period=period, fmt=fmt, area=area,
                      settings_override=override, processes=processes, exclude=exclude, exclude_file=exclude_file)
# --- end batch ----------------------------------------------------------------------------------


for _command in cli_signing.COMMANDS:  # jxdoc sign, verify, seal
    main.add_command(_command)

if __name__ == "__main__":
    main()
