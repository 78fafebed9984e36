"""A key on a PKCS#11 token (SoftHSM, Debian's software token, initialised in a temporary
directory): registered by its token and key labels, it signs without the key leaving the token,
and the signature is valid for pdfsig and for jxdoc verify."""

from __future__ import annotations

import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from tests.pki import issue
from tests.signing.conftest import render_pdf, sample

LIBRARY = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN, KEY_LABEL, PIN, SO_PIN = "jxdoc-test", "qingxi-finance", "246810", "13579"


@pytest.fixture
def token(tmp_path, monkeypatch, ca):
    """A SoftHSM token holding 青溪县财政局's key and certificate."""
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--so-pin", SO_PIN, "--pin", PIN],
                   check=True, capture_output=True)
    organ = issue(ca, "青溪县财政局", rsa_key=True)
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(organ.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    subprocess.run(["softhsm2-util", "--import", str(key_file), "--token", TOKEN, "--label", KEY_LABEL,
                    "--id", "01", "--pin", PIN], check=True, capture_output=True)
    key_file.unlink()  # the key now lives only on the token
    import pkcs11
    from asn1crypto.core import Integer
    from pkcs11 import Attribute, CertificateType, ObjectClass

    lib = pkcs11.lib(LIBRARY)
    lib.reinitialize()  # the configuration of this test's token, whatever the process saw before
    with lib.get_token(token_label=TOKEN).open(rw=True, user_pin=PIN) as session:
        session.create_object({Attribute.CLASS: ObjectClass.CERTIFICATE,
                               Attribute.CERTIFICATE_TYPE: CertificateType.X_509, Attribute.TOKEN: True,
                               Attribute.LABEL: KEY_LABEL, Attribute.ID: b"\x01", Attribute.VALUE: organ.der,
                               Attribute.SUBJECT: organ.cert.subject.public_bytes(),
                               Attribute.ISSUER: organ.cert.issuer.public_bytes(),
                               Attribute.SERIAL_NUMBER: Integer(organ.cert.serial_number).dump()})
    return organ


def test_token_key_registers_signs_and_verifies(token, data_dir, seal_image, settings, runner, tmp_path):
    from generators.signing import fingerprint
    from service.cli import main
    from storage import seals

    organ = seals.register(data_dir, "青溪县财政局", seal_image, settings,
                           pkcs11={"library": LIBRARY, "token_label": TOKEN, "key_label": KEY_LABEL, "pin": PIN})
    assert organ.key_kind == "pkcs11"
    assert organ.fingerprint == fingerprint(seals.seal(data_dir, organ.name).key.certificate())
    slot = seals.seals_dir(data_dir) / next(p.name for p in seals.seals_dir(data_dir).iterdir())
    assert not (slot / "key.p12").exists()  # nothing of the key is kept outside the token

    pdf = tmp_path / "notice.pdf"
    pdf.write_bytes(render_pdf("notice", sample("notice"), settings))
    signed = tmp_path / "signed.pdf"
    result = runner.invoke(main, ["sign", str(pdf), "-o", str(signed)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = subprocess.run(["pdfsig", str(signed)], capture_output=True, text=True, check=False).stdout
    assert "Signature is Valid." in report and "Total document signed" in report
    verdict = runner.invoke(main, ["verify", str(signed)], catch_exceptions=False)
    assert verdict.exit_code == 0 and "青溪县财政局" in verdict.output


def test_wrong_pin_is_refused_at_registration(token, data_dir, seal_image, settings):
    from forms.base import FieldErrors
    from storage import seals

    with pytest.raises(FieldErrors) as caught:
        seals.register(data_dir, "青溪县财政局", seal_image, settings,
                       pkcs11={"library": LIBRARY, "token_label": TOKEN, "key_label": KEY_LABEL, "pin": "000000"})
    assert "pkcs11" in caught.value.errors
    assert "签名设备" in caught.value.errors["pkcs11"][0]
    assert seals.organs(data_dir) == []
