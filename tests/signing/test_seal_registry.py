"""Registering an organ: the seal image is checked (PNG, size, dimensions, transparency, red),
the key is checked (password, validity), and what is kept stays in the data directory with
owner-only permissions; nothing of the key or its password is ever returned."""

from __future__ import annotations

import io
import json
import stat

import pytest
from PIL import Image

from forms.base import FieldErrors
from tests.pki import issue, seal_png
from tests.signing.conftest import PASSWORD


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def register(data_dir, settings, image, p12, password=PASSWORD, organ="青溪县财政局"):
    from storage import seals

    return seals.register(data_dir, organ, image, settings, p12=p12, password=password)


@pytest.mark.parametrize(("picture", "message"), [
    (lambda: b"GIF89a not a png", "PNG格式"),
    (lambda: png(Image.new("RGB", (400, 400), (230, 0, 18))), "透明背景"),
    (lambda: seal_png(size=120), "200至2000像素"),
    (lambda: png(Image.new("RGBA", (600, 300), (0, 0, 0, 0))), "接近正方形"),
    (lambda: seal_png(colour=(20, 40, 200)), "红色"),
    (lambda: png(Image.new("RGBA", (400, 400), (0, 0, 0, 0))), "空白印章"),
    (lambda: seal_png() + b"\0" * 600 * 1024, "不能超过512KB"),
])
def test_bad_seal_images_are_refused_with_the_reason(picture, message, data_dir, settings, bureau_cert):
    from storage import seals

    with pytest.raises(FieldErrors) as caught:
        register(data_dir, settings, picture(), bureau_cert.p12(PASSWORD))
    assert message in caught.value.errors["seal_image"][0]
    assert seals.organs(data_dir) == []


def test_wrong_password_and_expired_certificate(data_dir, settings, seal_image, bureau_cert, ca):
    with pytest.raises(FieldErrors) as caught:
        register(data_dir, settings, seal_image, bureau_cert.p12(PASSWORD), password="wrong")  # noqa: S106
    assert "密码" in caught.value.errors["password"][0]
    expired = issue(ca, "青溪县财政局", days=-1)
    with pytest.raises(FieldErrors) as caught:
        register(data_dir, settings, seal_image, expired.p12(PASSWORD))
    assert "已过期" in caught.value.errors["p12"][0]


def test_kept_owner_only_and_never_shown(data_dir, settings, seal_image, bureau_cert):
    from storage import seals

    organ = register(data_dir, settings, seal_image, bureau_cert.p12(PASSWORD))
    root = seals.seals_dir(data_dir)
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    (slot,) = [p for p in root.iterdir()]
    assert stat.S_IMODE(slot.stat().st_mode) == 0o700
    assert sorted(p.name for p in slot.iterdir()) == ["key.p12", "organ.json", "seal.png", "secret.json"]
    for path in slot.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "青溪县" not in slot.name  # named by a hash, never by user text
    shown = json.dumps(organ.__dict__, default=str, ensure_ascii=False)
    assert PASSWORD not in shown and "PRIVATE" not in shown
    assert PASSWORD not in (slot / "organ.json").read_text("utf-8")
    assert [o.name for o in seals.organs(data_dir)] == ["青溪县财政局"]


def test_registering_again_replaces_whole(data_dir, settings, seal_image, bureau_cert, ca):
    from storage import seals

    first = register(data_dir, settings, seal_image, bureau_cert.p12(PASSWORD))
    renewed = issue(ca, "青溪县财政局")
    second = register(data_dir, settings, seal_image, renewed.p12(PASSWORD))
    assert first.fingerprint != second.fingerprint
    assert [o.fingerprint for o in seals.organs(data_dir)] == [second.fingerprint]
    assert not [p for p in seals.seals_dir(data_dir).iterdir() if p.name.startswith(".")]  # no leftovers
    assert seals.remove(data_dir, "青溪县财政局") and seals.organs(data_dir) == []


def test_unregistered_certificate_is_valid_but_not_accepted(data_dir, settings, seal_image, bureau_cert, ca):
    """A signature by a key nobody registered checks out cryptographically and still fails."""
    from generators.signing import Pkcs12Key, Seal, sign_pdf, verify_pdf
    from storage import seals
    from tests.signing.conftest import render_pdf, sample

    register(data_dir, settings, seal_image, bureau_cert.p12(PASSWORD))
    stranger = issue(ca, "青溪县财政局")  # same name, another key
    pdf = render_pdf("report", sample("report"), settings)
    signed = sign_pdf(pdf, [Seal(Pkcs12Key(stranger.p12("x"), "x", "青溪县财政局"))], settings)
    result = verify_pdf(signed, seals.registered_certificates(data_dir))
    assert result.signatures[0].valid and result.signatures[0].intact
    assert not result.ok
    assert "不属于任何已登记的发文机关" in result.summary()
