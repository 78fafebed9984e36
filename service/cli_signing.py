"""`jxdoc sign`, `jxdoc verify` and `jxdoc seal …`: signing on the command line.

The keys and seal images are the ones the administrator registered under the data directory
(JXDOC_DATA_DIR); `jxdoc sign --p12 FILE` signs with a key file given directly instead.
"""

from __future__ import annotations

import getpass
import logging
import sys
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from forms.base import FieldErrors
from storage.config import env


def _data_dir() -> str:
    from storage.config import defaults, from_environment

    return from_environment(defaults())["DATA_DIR"]


def _settings(settings_file: str | None):
    from rules.settings import read_override_file
    from service.settings_store import load_settings

    path = settings_file or env("SETTINGS_FILE")
    return load_settings(read_override_file(path) if path else None)


def registered_seal_images(kind, payload, settings) -> dict[str, bytes]:
    """The registered seal image of each organ that signs a 公文 (`jxdoc render --seal`); exits
    with the organ named when one is not registered."""
    from generators.signing import SigningError
    from storage import seals

    organs = [o.strip() for o in seals.signing_organs(_data_dir(), kind.id, payload, settings)]
    try:
        return seals.seal_images(_data_dir(), organs)
    except SigningError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


def _print_errors(errors: dict[str, list[str]]) -> None:
    click.echo("输入有误：", err=True)
    for path, messages in errors.items():
        for message in messages:
            click.echo(f"  {path}：{message}", err=True)
    sys.exit(1)


def _quiet_pyhanko() -> None:
    # pyHanko logs path-building failures of certificates nobody registered as tracebacks; the
    # verdict printed below says the same in Chinese.
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)


def _read_pdf(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        click.echo(f"无法读取文件 {path}：{exc.strerror}", err=True)
        sys.exit(2)


def _file_organs(pdf: bytes) -> list[str]:
    """The organs a sealed 公文 names in its 署名 (its authors, in order); [] for other files."""
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    from generators.signing import date_mark

    reader = PdfFileReader(BytesIO(pdf), strict=False)
    if date_mark(reader) is None:
        return []
    trailer = reader.trailer_view
    author = str(trailer["/Info"].get("/Author", "")) if "/Info" in trailer else ""
    return [a.strip() for a in author.split(", ") if a.strip()]


@click.command(help="对PDF签章（PAdES）：默认用已登记发文机关的证书和印章，公文按署名逐个机关签章并加盖印章；"
                    "也可用 --p12 直接给出证书文件。")
@click.argument("input_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="签章后的PDF。")
@click.option("--organ", "organs", multiple=True,
              help="签章机关（已登记的名称，可重复）；默认：加盖印章的公文取其署名的各机关，其他文件取默认签章机关。")
@click.option("--p12", "p12", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="直接使用的证书文件（PKCS#12，.p12/.pfx）。")
@click.option("--password", default=None, help="证书文件的密码（不给时提示输入）。")
@click.option("--seal", "seal_image", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="与 --p12 同用：印章图片（透明背景PNG），加盖在成文日期上。")
@click.option("--settings", "settings_file", default=None, help="覆盖默认设置的TOML/JSON文件。")
def sign(input_file: Path, output: Path, organs: tuple[str, ...], p12: Path | None, password: str | None,
         seal_image: Path | None, settings_file: str | None) -> None:
    from generators.signing import Pkcs12Key, Seal, SigningError, sha256, sign_pdf
    from jobs.files import write_atomically
    from storage import seals

    settings = _settings(settings_file)
    pdf = _read_pdf(input_file)
    data_dir = _data_dir()
    try:
        if p12 is not None:
            if password is None:
                password = click.prompt("证书文件密码", hide_input=True, default="", show_default=False)
            image = seal_image.read_bytes() if seal_image else None
            if image is not None:
                problems = seals.check_seal_image(image, settings)
                if problems:
                    raise FieldErrors({"seal": problems})
            key = Pkcs12Key(p12.read_bytes(), password, organs[0] if organs else "")
            signed = sign_pdf(pdf, [Seal(key, image)], settings)
            names = [organs[0]] if organs else [key.certificate().subject.human_friendly]
        else:
            names = list(organs) or _file_organs(pdf) or [seals.default_organ(data_dir, settings)]
            signed = seals.sign_document(data_dir, pdf, names, settings)
    except FieldErrors as exc:
        _print_errors(exc.errors)
    except (SigningError, OSError) as exc:
        click.echo(f"未签章：{exc}", err=True)
        sys.exit(1)
    write_atomically(output, signed)
    digest = sha256(signed)
    click.echo(f"已签章 {output}（签章机关：{'、'.join(names)}；SHA-256 {digest}）")
    try:
        _record(digest, names, output.name)
    except SQLAlchemyError as exc:
        click.echo(f"警告：签章文件未能记入审计日志（数据库不可用：{type(exc).__name__}），"
                   f"请在数据库恢复后补记 SHA-256 {digest}。", err=True)
        sys.exit(3)


def _record(digest: str, organs: list[str], filename: str) -> None:
    """The signed file's SHA-256 in the audit log, as the web app records it."""
    from service import create_app
    from service.signing import record_signature
    from storage.migrate import upgrade

    app = create_app()
    upgrade(app.config["DATABASE_URL"])
    with app.app_context():
        record_signature(digest, organs, f"{filename}（命令行，{getpass.getuser()}）")


@click.command(help="验证PDF的电子签名：只有由已登记发文机关签署、签名有效且签署后未被改动时才返回0。")
@click.argument("input_file", type=click.Path(dir_okay=False, path_type=Path))
def verify(input_file: Path) -> None:
    from generators.signing import verify_pdf
    from storage import seals

    _quiet_pyhanko()
    result = verify_pdf(_read_pdf(input_file), seals.registered_certificates(_data_dir()))
    click.echo(f"文件：{input_file}（SHA-256 {result.sha256}）")
    for i, s in enumerate(result.signatures, start=1):
        when = s.signed_at.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if s.signed_at else "未知"
        who = s.organ or "未登记的证书"
        state = "有效" if s.intact and s.valid else "无效"
        click.echo(f"签名{i}：{who}（{s.signer}）于 {when} 签署{'（带时间戳）' if s.timestamped else ''}；签名{state}"
                   f"{'' if s.unchanged else '；其后文件被改动'}")
    click.echo(result.summary())
    sys.exit(0 if result.ok else 1)


@click.group(help="发文机关的印章和签名证书（存放在数据目录，只登记、不显示密钥）。")
def seal() -> None:
    pass


@seal.command("register", help="登记（或替换）一个发文机关的印章图片和签名证书（PKCS#12 文件或 PKCS#11 签名设备）。")
@click.option("--organ", required=True, help="发文机关名称，与公文署名一致。")
@click.option("--image", "image", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="印章图片（透明背景的红色PNG）。")
@click.option("--p12", "p12", type=click.Path(dir_okay=False, path_type=Path), default=None, help="证书文件（.p12/.pfx）。")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取证书密码或设备PIN（默认提示输入）。")
@click.option("--pkcs11-library", default="", help="签名设备的 PKCS#11 模块路径。")
@click.option("--token-label", default="", help="令牌标签。")
@click.option("--key-label", default="", help="密钥（及证书）标签。")
@click.option("--settings", "settings_file", default=None, help="覆盖默认设置的TOML/JSON文件。")
def seal_register(organ: str, image: Path, p12: Path | None, password_stdin: bool, pkcs11_library: str,
                  token_label: str, key_label: str, settings_file: str | None) -> None:
    from storage import seals

    settings = _settings(settings_file)
    prompt = "证书文件密码" if p12 else "签名设备PIN"
    secret = sys.stdin.readline().rstrip("\r\n") if password_stdin else \
        click.prompt(prompt, hide_input=True, default="", show_default=False)
    pkcs11 = {"library": pkcs11_library, "token_label": token_label, "key_label": key_label, "pin": secret} \
        if pkcs11_library else None
    try:
        registered = seals.register(_data_dir(), organ, image.read_bytes(), settings,
                                    p12=p12.read_bytes() if p12 else None, password=secret if p12 else "",
                                    pkcs11=pkcs11, registered_by=f"命令行（{getpass.getuser()}）")
    except FieldErrors as exc:
        _print_errors(exc.errors)
    click.echo(f"已登记 {registered.name}：{registered.key_label}，证书 {registered.subject}，"
               f"有效期至 {registered.not_after}，指纹 {registered.fingerprint}")


@seal.command("list", help="列出已登记的发文机关。")
def seal_list() -> None:
    from storage import seals

    found = seals.organs(_data_dir())
    if not found:
        click.echo("还没有登记任何发文机关。")
    for o in found:
        click.echo(f"{o.name}\t{o.key_label}\t{o.subject}\t有效期至 {o.not_after}\t指纹 {o.fingerprint}")


@seal.command("remove", help="删除一个发文机关的登记（印章、证书和密钥文件）。")
@click.option("--organ", required=True)
def seal_remove(organ: str) -> None:
    from storage import seals

    if not seals.remove(_data_dir(), organ):
        click.echo(f"没有登记“{organ}”。", err=True)
        sys.exit(1)
    click.echo(f"已删除 {organ} 的登记。")


COMMANDS = (sign, verify, seal)
