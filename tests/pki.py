"""A test CA and organ certificates made at test time (no key material is committed), and seal
images drawn at test time."""

from __future__ import annotations

import datetime as _dt
import io
import math
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID


@dataclass
class Issued:
    key: object
    cert: x509.Certificate

    def p12(self, password: str, name: str = "organ") -> bytes:
        encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                      else serialization.NoEncryption())
        return pkcs12.serialize_key_and_certificates(name.encode(), self.key, self.cert, None, encryption)

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    def key_der(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


def _name(common: str, org: str = "青溪县") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_ca(common: str = "jxdoc 测试根证书") -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _dt.datetime.now(_dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(common)).issuer_name(_name(common))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(days=1)).not_valid_after(now + _dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return Issued(key, cert)


def issue(ca: Issued, common: str, *, rsa_key: bool = False, days: int = 365) -> Issued:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if rsa_key else \
        ec.generate_private_key(ec.SECP256R1())
    now = _dt.datetime.now(_dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(common)).issuer_name(ca.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(days=1)).not_valid_after(now + _dt.timedelta(days=days))
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(ca.key, hashes.SHA256()))
    return Issued(key, cert)


def seal_png(size: int = 420, colour: tuple[int, int, int] = (230, 0, 18), text_ring: bool = True) -> bytes:
    """A round red seal on a transparent background: ring, star and an inner ring."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    rgba = (*colour, 255)
    edge = size // 28
    draw.ellipse((edge, edge, size - edge, size - edge), outline=rgba, width=size // 24)
    if text_ring:
        draw.ellipse((size // 6, size // 6, size - size // 6, size - size // 6), outline=rgba, width=size // 60)
    c, r = size / 2, size / 6
    points = [(c + (r if i % 2 == 0 else r * 0.382) * math.cos(math.pi / 2 + i * math.pi / 5),
               c - (r if i % 2 == 0 else r * 0.382) * math.sin(math.pi / 2 + i * math.pi / 5)) for i in range(10)]
    draw.polygon(points, fill=rgba)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def issue_tsa(ca: Issued, common: str = "jxdoc 测试时间戳服务") -> Issued:
    """A time-stamping authority's certificate (extended key usage timeStamping, critical); RSA,
    which pyHanko's reference TSA signs with."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = _dt.datetime.now(_dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(common)).issuer_name(ca.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(days=1)).not_valid_after(now + _dt.timedelta(days=365))
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(ca.key, hashes.SHA256()))
    return Issued(key, cert)
