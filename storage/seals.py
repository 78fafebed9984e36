"""The registered issuing organs: each organ's seal image and signing key, under the data directory.

DATA_DIR/seals/ (mode 0700) holds one directory per organ (named by a hash of the organ's name,
never by user text) with:
  organ.json   what may be shown: name, kind of key, the certificate, its fingerprint and validity;
  seal.png     the seal image as uploaded (checked);
  key.p12      a PKCS#12 key file, or nothing for a key on a PKCS#11 token;
  secret.json  the PKCS#12 password or the token PIN.
Every file is written 0600 into a fresh directory that replaces the old one in one rename, so a
registration is whole or absent. Key material and secrets are read only to sign; nothing here
ever returns them to a page, the API or the log.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kinds
from forms.base import FieldErrors
from generators.gongwen.model import signing_organs as signing_organs_of
from generators.signing import (
    Pkcs11Key,
    Pkcs12Key,
    Seal,
    SigningError,
    certificate_from_der,
    fingerprint,
    sign_pdf,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ORGAN_MAX = 60


@dataclass(frozen=True)
class Organ:
    """A registered organ as it may be shown (no key material)."""

    name: str
    key_kind: str  # "pkcs12" or "pkcs11"
    subject: str
    fingerprint: str  # SHA-256 of the certificate, hex
    not_before: str
    not_after: str
    registered_at: str
    registered_by: str
    certificate_der: bytes

    @property
    def registered(self) -> _dt.datetime:
        return _dt.datetime.fromisoformat(self.registered_at)

    @property
    def key_label(self) -> str:
        return {"pkcs12": "证书文件（PKCS#12）", "pkcs11": "签名设备（PKCS#11）"}[self.key_kind]


def seals_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / "seals"


def _slot(organ: str) -> str:
    return hashlib.sha256(organ.encode("utf-8")).hexdigest()[:24]


# --- checks -----------------------------------------------------------------------------------------

def check_seal_image(data: bytes, settings: Mapping[str, Any]) -> list[str]:
    """Chinese problems of an uploaded seal image: a PNG within the size limit, square enough,
    with a transparent background and red marks."""
    from PIL import Image, UnidentifiedImageError

    limits = settings["signing"]["upload"]
    if not data.startswith(PNG_MAGIC):
        return ["印章图片应为PNG格式（透明背景）。"]
    if len(data) > int(limits["max_kb"]) * 1024:
        return [f"印章图片不能超过{int(limits['max_kb'])}KB，现为{len(data) // 1024}KB。"]
    try:
        picture = Image.open(io.BytesIO(data))
        width, height = picture.size  # from the header, before any pixel is decoded
    except (UnidentifiedImageError, OSError, ValueError):
        return ["印章图片无法读取，请重新导出PNG文件。"]
    low, high = int(limits["min_px"]), int(limits["max_px"])
    if not (low <= width <= high and low <= height <= high):
        return [f"印章图片的宽和高应在{low}至{high}像素之间，现为{width}×{height}像素。"]
    if not 0.9 <= width / height <= 1.1:
        return [f"印章图片应接近正方形（圆形印章），现为{width}×{height}像素。"]
    try:
        rgba = picture.convert("RGBA")
    except (OSError, ValueError):
        return ["印章图片无法读取，请重新导出PNG文件。"]
    alpha = rgba.getchannel("A")
    pixels = width * height
    clear = alpha.histogram()[0:16]
    if sum(clear) < pixels * 0.2:
        return ["印章图片应为透明背景：印章以外的部分须透明（带透明通道的PNG）。"]
    small = rgba.resize((min(width, 200), min(height, 200)))
    inked = [(r, g, b) for r, g, b, a in small.get_flattened_data() if a >= 128]
    if len(inked) < 0.02 * small.width * small.height:
        return ["印章图片几乎是空白的：请上传印章本身的图像，不得使用空白印章。"]
    red = sum(1 for r, g, b in inked if r >= 150 and g <= 110 and b <= 110)
    if red < 0.9 * len(inked):
        return ["印章应为红色：图片中有较多非红色的部分，请上传红色印章图像。"]
    return []


def _check_organ(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise FieldErrors({"organ": ["请填写发文机关名称（与公文署名一致）。"]})
    if len(name) > ORGAN_MAX or any(ord(c) < 32 for c in name):
        raise FieldErrors({"organ": [f"发文机关名称不超过{ORGAN_MAX}个字，不含控制字符。"]})
    return name


def _certificate_problems(der: bytes) -> tuple[Any, list[str]]:
    cert = certificate_from_der(der)
    now = _dt.datetime.now(_dt.UTC)
    validity = cert["tbs_certificate"]["validity"]
    before, after = validity["not_before"].native, validity["not_after"].native
    if now < before:
        return cert, [f"签名证书尚未生效（{before:%Y-%m-%d} 起有效）。"]
    if now > after:
        return cert, [f"签名证书已过期（{after:%Y-%m-%d} 到期）。"]
    return cert, []


# --- registration -----------------------------------------------------------------------------------

def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def register(data_dir: str | Path, organ: str, seal_image: bytes, settings: Mapping[str, Any], *,
             p12: bytes | None = None, password: str = "", pkcs11: Mapping[str, str] | None = None,
             registered_by: str = "") -> Organ:
    """Check and store an organ's seal and key (replacing an earlier registration of the organ).
    Raises FieldErrors naming the field: organ, seal_image, p12, password, pkcs11."""
    organ = _check_organ(organ)
    errors: dict[str, list[str]] = {}
    problems = check_seal_image(seal_image or b"", settings) if seal_image else ["请上传印章图片（透明背景的PNG）。"]
    if problems:
        errors["seal_image"] = problems
    if bool(p12) == bool(pkcs11):
        errors["p12"] = ["请上传签名证书文件（.p12/.pfx）或填写签名设备（PKCS#11）设置，二者选一。"]
        raise FieldErrors(errors)
    if p12:
        key: Any = Pkcs12Key(p12, password, organ)
        field_name = "p12"
    else:
        settings_11 = {k: str((pkcs11 or {}).get(k) or "").strip() for k in ("library", "token_label", "key_label", "pin")}
        missing = [k for k in ("library", "token_label", "key_label") if not settings_11[k]]
        if missing:
            errors["pkcs11"] = ["签名设备需填写 PKCS#11 模块路径、令牌标签和密钥标签。"]
            raise FieldErrors(errors)
        key = Pkcs11Key(settings_11["library"], settings_11["token_label"], settings_11["key_label"],
                        settings_11["pin"], organ=organ)
        field_name = "pkcs11"
    try:
        cert = key.certificate()
    except SigningError as exc:
        errors["password" if p12 and "密码" in str(exc) else field_name] = [str(exc)]
        raise FieldErrors(errors) from None
    cert, cert_problems = _certificate_problems(cert.dump())
    if cert_problems:
        errors[field_name] = cert_problems
    if errors:
        raise FieldErrors(errors)
    validity = cert["tbs_certificate"]["validity"]
    meta = {
        "organ": organ,
        "key_kind": "pkcs12" if p12 else "pkcs11",
        "subject": cert.subject.human_friendly,
        "fingerprint": fingerprint(cert),
        "not_before": validity["not_before"].native.date().isoformat(),
        "not_after": validity["not_after"].native.date().isoformat(),
        "registered_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "registered_by": registered_by,
        "certificate": base64.b64encode(cert.dump()).decode("ascii"),
    }
    secret: dict[str, str] = {"password": password} if p12 else {"pin": key.pin}
    if pkcs11:
        meta["pkcs11"] = {"library": key.library, "token_label": key.token_label, "key_label": key.key_label}
    root = seals_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    fresh = Path(tempfile.mkdtemp(prefix=".new-", dir=root))  # created 0700
    try:
        _write(fresh / "organ.json", json.dumps(meta, ensure_ascii=False, indent=1).encode("utf-8"))
        _write(fresh / "seal.png", seal_image)
        _write(fresh / "secret.json", json.dumps(secret).encode("utf-8"))
        if p12:
            _write(fresh / "key.p12", p12)
        target = root / _slot(organ)
        old = None
        if target.exists():
            old = root / f".old-{target.name}-{os.getpid()}"
            os.replace(target, old)
        os.replace(fresh, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    return _organ(meta)


def remove(data_dir: str | Path, organ: str) -> bool:
    target = seals_dir(data_dir) / _slot(organ)
    if not target.exists():
        return False
    shutil.rmtree(target)
    return True


# --- reading ----------------------------------------------------------------------------------------

def _organ(meta: Mapping[str, Any]) -> Organ:
    return Organ(name=meta["organ"], key_kind=meta["key_kind"], subject=meta["subject"],
                 fingerprint=meta["fingerprint"], not_before=meta["not_before"], not_after=meta["not_after"],
                 registered_at=meta["registered_at"], registered_by=meta.get("registered_by", ""),
                 certificate_der=base64.b64decode(meta["certificate"]))


def _meta(slot: Path) -> dict:
    return json.loads((slot / "organ.json").read_text("utf-8"))


def organs(data_dir: str | Path) -> list[Organ]:
    """The registered organs, by name."""
    root = seals_dir(data_dir)
    if not root.is_dir():
        return []
    found = [_organ(_meta(p)) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
             and (p / "organ.json").exists()]
    return sorted(found, key=lambda o: o.name)


def find(data_dir: str | Path, organ: str) -> Organ | None:
    slot = seals_dir(data_dir) / _slot(organ.strip())
    return _organ(_meta(slot)) if (slot / "organ.json").exists() else None


def seal_images(data_dir: str | Path, organ_names: list[str]) -> dict[str, bytes]:
    """Each organ's registered seal image (PNG), for a docx an office prints and stamps."""
    out = {}
    for organ in organ_names:
        path = seals_dir(data_dir) / _slot(organ.strip()) / "seal.png"
        if not path.exists():
            raise SigningError(f"“{organ}”没有登记印章，请管理员先在“印章与签名”页面登记。")
        out[organ] = path.read_bytes()
    return out


def registered_certificates(data_dir: str | Path) -> list[tuple[str, bytes]]:
    """(organ name, certificate DER) of every registered organ, for verification."""
    return [(o.name, o.certificate_der) for o in organs(data_dir)]


# Opened keys per process: a PKCS#12 key derives its key from the password once (see Pkcs12Key).
_keys: dict[tuple[str, float], Any] = {}


def seal(data_dir: str | Path, organ: str) -> Seal:
    """The organ's key and seal image, ready for generators.signing.sign_pdf."""
    slot = seals_dir(data_dir) / _slot(organ.strip())
    if not (slot / "organ.json").exists():
        raise SigningError(f"“{organ}”没有登记印章和签名证书，请管理员先在“印章与签名”页面登记。")
    stamp = (str(slot), (slot / "organ.json").stat().st_mtime)
    key = _keys.get(stamp)
    if key is None:
        meta = _meta(slot)
        secret = json.loads((slot / "secret.json").read_text("utf-8"))
        if meta["key_kind"] == "pkcs12":
            key = Pkcs12Key((slot / "key.p12").read_bytes(), secret.get("password", ""), meta["organ"])
        else:
            p11 = meta["pkcs11"]
            key = Pkcs11Key(p11["library"], p11["token_label"], p11["key_label"], secret.get("pin", ""),
                            organ=meta["organ"])
        _keys[stamp] = key
    return Seal(key, (slot / "seal.png").read_bytes())


def default_organ(data_dir: str | Path, settings: Mapping[str, Any]) -> str:
    """The organ that signs files without a 署名: the setting, or the only registered organ."""
    named = str(settings["signing"]["signature"]["organ"] or "").strip()
    if named:
        return named
    names = [o.name for o in organs(data_dir)]
    if len(names) == 1:
        return names[0]
    if not names:
        raise SigningError("还没有登记任何发文机关的印章和签名证书，请管理员先登记。")
    raise SigningError("登记了多个发文机关，请在签章设置中指定默认签章机关（signing.signature.organ）。")


def signing_organs(data_dir: str | Path, kind_id: str, data: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    """Who signs a document: a 公文's organs in its 署名 (one seal each), otherwise the default organ."""
    if kinds.get(kind_id).group == "公文":
        return signing_organs_of(data)
    return [default_organ(data_dir, settings)]


def sign_document(data_dir: str | Path, pdf: bytes, organ_names: list[str], settings: Mapping[str, Any]) -> bytes:
    """`pdf` signed by each organ in turn with its registered key and seal."""
    return sign_pdf(pdf, [seal(data_dir, name) for name in organ_names], settings)


__all__ = ["Organ", "check_seal_image", "find", "organs", "register", "registered_certificates", "remove", "seal_images",
           "seal", "seals_dir", "sign_document", "signing_organs", "default_organ"]
