"""PAdES signatures over finished PDFs, with the 电子印章 as the signature's appearance.

Signing is a step after the PDF is made: the layout path does not change and pays nothing when
nothing is signed. `sign_pdf(pdf, seals, settings)` appends one incremental revision per organ
(pyHanko): a PAdES baseline signature (B-B, or B-T with the settings' RFC 3161 server) whose
widget shows the organ's seal image where GB/T 9704 puts it (generators/gongwen/seal.py); the
last signature covers the whole file. `verify_pdf(pdf, registered)` answers what `jxdoc verify`
and the public page say: signed by which registered organ, when, and unchanged since.

Signing keys are pluggable (`SigningKey`): anything that yields a pyHanko `Signer` and its
certificate. Two kinds exist — `Pkcs12Key` (a key file) and `Pkcs11Key` (a token: the signing
device an organ holds, or SoftHSM in the tests; the key never leaves it).

国密 (SM2 with SM3) is designed for and not implemented, because it needs the device that has the
key: a `SigningKey` whose `signer()` yields a pyHanko `Signer` subclass with
`signature_mechanism` = SM2-with-SM3 (OID 1.2.156.10197.1.501), `async_sign_raw` handing the SM3
digest to the device, and the signing certificate (an SM2 public key) from the device. The CMS
structure, the incremental update and the seal placement stay as they are. Verifying such a
signature needs an SM2 verifier registered with pyHanko's algorithm policy (asn1crypto and
pyHanko know no SM2 today); until a device and its verifier are configured, `verify_pdf` reports
an SM2 signature as not verifiable rather than valid.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, Protocol

from asn1crypto import x509 as asn1_x509

from generators.gongwen.seal import DATE_ANCHOR, DATE_END_ANCHOR, DateMark, SealBox, name_anchor, seal_boxes


class SigningError(ValueError):
    """A document could not be signed; the message is Chinese and names the cause."""


class SigningKey(Protocol):
    """The pluggable signer interface: an organ's key, wherever it lives."""

    organ: str

    def signer(self) -> contextlib.AbstractContextManager:
        """A context yielding a pyHanko `Signer` (open a token session for as long as needed)."""
        ...


def certificate_from_der(der: bytes) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(der)


@dataclass
class Pkcs12Key:
    """A key and certificate in a PKCS#12 file (.p12/.pfx)."""

    data: bytes = field(repr=False)
    password: str = field(repr=False)
    organ: str = ""
    _signer: Any = field(default=None, init=False, repr=False, compare=False)

    def _load(self):
        # Opening a PKCS#12 file derives its key from the password, slow by design: once per key object.
        if self._signer is None:
            self._signer = self._open()
        return self._signer

    def _open(self):
        from pyhanko.sign.signers import SimpleSigner

        try:
            signer = SimpleSigner.load_pkcs12_data(self.data, other_certs=(),
                                                   passphrase=self.password.encode() if self.password else None)
        except (ValueError, TypeError):
            signer = None
        if signer is None or signer.signing_cert is None:
            raise SigningError("证书文件无法打开：密码不对，或不是含私钥的 PKCS#12（.p12/.pfx）文件。")
        return signer

    @contextlib.contextmanager
    def signer(self) -> Iterator[Any]:
        yield self._load()

    def certificate(self) -> asn1_x509.Certificate:
        return self._load().signing_cert


@dataclass
class Pkcs11Key:
    """A key on a PKCS#11 token: `library` (the module's path), the token's label, the key's and
    certificate's label on it, and the user PIN."""

    library: str
    token_label: str
    key_label: str
    pin: str = field(repr=False, default="")
    cert_label: str = ""
    organ: str = ""

    @contextlib.contextmanager
    def signer(self) -> Iterator[Any]:
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

        try:
            session = open_pkcs11_session(self.library, token_criteria=TokenCriteria(label=self.token_label),
                                          user_pin=self.pin or None)
        except Exception as exc:  # the module's own errors: a missing library, token or wrong PIN
            raise SigningError(f"无法打开签名设备（PKCS#11 令牌“{self.token_label}”）：{exc}") from exc
        try:
            yield PKCS11Signer(session, key_label=self.key_label, cert_label=self.cert_label or self.key_label)
        finally:
            session.close()

    def certificate(self) -> asn1_x509.Certificate:
        with self.signer() as signer:
            return signer.signing_cert


@dataclass(frozen=True)
class Seal:
    """One organ's signature: its key and, for a visible seal, its PNG image."""

    key: Any  # SigningKey
    image: bytes | None = field(default=None, repr=False)


# --- the date's place in the file -----------------------------------------------------------------

def _dests(root) -> dict[str, Any]:
    """The named destinations of a document (a flat or nested name tree)."""
    out: dict[str, Any] = {}
    names = root.get("/Names")
    tree = names.get("/Dests") if names is not None else None
    stack = [tree.get_object()] if tree is not None else []
    while stack:
        node = stack.pop()
        items = node.get("/Names")
        if items is not None:
            for i in range(0, len(items) - 1, 2):
                out[str(items[i])] = items[i + 1].get_object()
        for kid in node.get("/Kids", ()):
            stack.append(kid.get_object())
    return out


def _mark(dests: dict[str, Any], pages: list, start_name: str, end_name: str) -> DateMark | None:
    start, end = dests.get(start_name), dests.get(end_name)
    if start is None or end is None:
        return None
    page_ref = start.raw_get(0)
    index = next((i for i, ref in enumerate(pages) if ref.idnum == page_ref.idnum), None)
    if index is None:
        return None
    return DateMark(index, float(start[2]), float(end[2]), float(start[3]))


def date_mark(reader) -> DateMark | None:
    """Where the 成文日期 of a sealed 公文 is, from its named destinations; None for other PDFs."""
    pages = [ref for ref, _ in _page_refs(reader)]
    return _mark(_dests(reader.root), pages, DATE_ANCHOR, DATE_END_ANCHOR)


def name_marks(reader) -> list[DateMark]:
    """Where the organs' names of a joint sealed 落款 are, in organ order ([] when unmarked)."""
    dests = _dests(reader.root)
    pages = [ref for ref, _ in _page_refs(reader)]
    marks = []
    while (mark := _mark(dests, pages, name_anchor(len(marks)), name_anchor(len(marks)) + "-end")) is not None:
        marks.append(mark)
    return marks


def _page_refs(reader):
    """(reference, page dictionary) of each page in order."""
    def walk(node_ref):
        node = node_ref.get_object()  # references: kids are read with raw_get
        if node.get("/Type") == "/Pages":
            kids = node["/Kids"]
            for i in range(len(kids)):
                yield from walk(kids.raw_get(i))
        else:
            yield node_ref, node

    yield from walk(reader.root.raw_get("/Pages"))


# --- signing --------------------------------------------------------------------------------------

def _stamp_style(image: bytes):
    from PIL import Image
    from pyhanko import stamp
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.images import PdfImage

    picture = Image.open(BytesIO(image))
    picture.load()
    fill = layout.SimpleBoxLayoutRule(x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MID,
                                      margins=layout.Margins.uniform(0), inner_content_scaling=layout.InnerScaling.STRETCH_FILL)
    return stamp.StaticStampStyle(background=PdfImage(picture.convert("RGBA")), border_width=0,
                                  background_opacity=1.0, background_layout=fill)


def _timestamper(settings: Mapping[str, Any]):
    signature = settings["signing"]["signature"]
    if signature["level"] != "B-T":
        return None
    from pyhanko.sign.timestamps import HTTPTimeStamper

    return HTTPTimeStamper(str(signature["timestamp_url"]))


def _keep_xmp_consistent(writer) -> None:
    """PDF/A wants the document information and the XMP metadata to agree. pyHanko records
    itself as the producer in both, but appends to an existing /Producer of the information
    dictionary while replacing the XMP's: start the revision from an information dictionary
    without /Producer, so both end up naming the same producer."""
    from pyhanko.pdf_utils import generic

    trailer = writer.prev.trailer_view
    if "/Metadata" not in writer.root or "/Info" not in trailer:
        return
    info = trailer["/Info"]
    if "/Producer" in info:
        writer.set_info(generic.DictionaryObject({k: v for k, v in info.items() if k != "/Producer"}))


# Room for the CMS in the file (bytes): a certificate chain and the signature, plus a timestamp
# token for B-T.
_RESERVED = {False: 16384, True: 32768}


def sign_pdf(pdf: bytes, seals: Sequence[Seal], settings: Mapping[str, Any]) -> bytes:
    """`pdf` signed by each organ in turn (organ order; the last signature covers the file).
    A seal with an image on a sealed 公文 is drawn at its GB/T 9704 place; otherwise the signature
    is invisible."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfReadError
    from pyhanko.sign import fields, signers

    if not seals:
        raise SigningError("没有可用的签章：请先登记发文机关的印章和签名证书。")
    sig = settings["signing"]["signature"]
    timestamper = _timestamper(settings)
    data = pdf
    boxes: list[SealBox] | None = None
    existing = 0
    for i, seal in enumerate(seals):
        try:
            writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
        except (PdfReadError, ValueError) as exc:
            raise SigningError("文件不是可以签章的 PDF。") from exc
        if i == 0:
            _keep_xmp_consistent(writer)
            existing = len(writer.root.get("/AcroForm", {}).get("/Fields", ()))
            mark = date_mark(writer.prev) if any(s.image for s in seals) else None
            boxes = seal_boxes(mark, len(seals), settings, name_marks(writer.prev)) if mark is not None else None
        name = f"Seal{existing + i + 1}"
        box = boxes[i] if boxes and seal.image else None
        spec = fields.SigFieldSpec(name, on_page=box.page, box=(box.x1, box.y1, box.x2, box.y2)) if box else \
            fields.SigFieldSpec(name)
        meta = signers.PdfSignatureMetadata(field_name=name, subfilter=fields.SigSeedSubFilter.PADES,
                                            md_algorithm="sha256", reason=str(sig["reason"]) or None,
                                            location=str(sig["location"]) or None, name=seal.key.organ or None)
        with seal.key.signer() as signer:
            pdf_signer = signers.PdfSigner(meta, signer=signer, timestamper=timestamper,
                                           stamp_style=_stamp_style(seal.image) if box else None,
                                           new_field_spec=spec)
            out = BytesIO()
            # A fixed reservation: pyHanko would otherwise sign once more to measure the CMS.
            pdf_signer.sign_pdf(writer, output=out, bytes_reserved=_RESERVED[timestamper is not None])
        data = out.getvalue()
    return data


# --- verification ---------------------------------------------------------------------------------

def fingerprint(cert: asn1_x509.Certificate) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class SignatureReport:
    field: str
    signer: str  # the certificate's subject, human readable
    organ: str  # the registered organ whose certificate it is, or ""
    signed_at: _dt.datetime | None
    timestamped: bool
    intact: bool  # the signed bytes are what was signed
    valid: bool  # the cryptographic signature checks out
    covers_file: bool  # this signature covers the whole file as it is now
    unchanged: bool  # nothing but later signatures was added after it

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.unchanged and bool(self.organ)


@dataclass(frozen=True)
class Verification:
    sha256: str
    signatures: tuple[SignatureReport, ...]
    problem: str = ""  # why the file could not be checked at all

    @property
    def ok(self) -> bool:
        """Signed by registered organs, every signature valid, the last covering the whole file."""
        return (not self.problem and bool(self.signatures) and all(s.ok for s in self.signatures)
                and self.signatures[-1].covers_file)

    def summary(self) -> str:
        if self.problem:
            return self.problem
        if not self.signatures:
            return "文件没有电子签名。"
        if self.ok:
            return "签名有效：文件由已登记的发文机关签署，签署后未被改动。"
        bad = next(s for s in self.signatures if not s.ok) if not all(s.ok for s in self.signatures) else None
        if bad is None or not bad.intact or not bad.valid:
            return "签名无效：文件在签署后被改动，或签名已损坏。"
        if not bad.unchanged or not self.signatures[-1].covers_file:
            return "签名无效：文件在签署后被添加或修改了内容。"
        return "签名在密码学上有效，但签署证书不属于任何已登记的发文机关。"


def _subject(cert: asn1_x509.Certificate) -> str:
    return cert.subject.human_friendly


def verify_pdf(pdf: bytes, registered: Sequence[tuple[str, bytes]]) -> Verification:
    """Check every signature of `pdf`. `registered` lists (organ, certificate DER) of the
    registered organs: a signature counts when its signing certificate is one of them."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    digest = sha256(pdf)
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # noqa: BLE001 - anyone's upload: whatever breaks the reader, the file is unreadable
        return Verification(digest, (), f"文件无法作为 PDF 读取：{type(exc).__name__}。")
    reports = []
    certs = [(organ, certificate_from_der(der)) for organ, der in registered]
    organ_of = {fingerprint(cert): organ for organ, cert in certs}
    # The registered certificates are the trust anchors: nothing is fetched, no system store.
    context = ValidationContext(trust_roots=[cert for _, cert in certs], allow_fetching=False)
    for emb in embedded:
        cert = emb.signer_cert
        try:
            status = validate_pdf_signature(emb, context)
            intact, valid = status.intact, status.valid
            coverage = status.coverage
            level = status.modification_level
            signed_at = status.signer_reported_dt
            timestamped = status.timestamp_validity is not None
            if timestamped:
                signed_at = status.timestamp_validity.timestamp
        except Exception:  # noqa: BLE001 - a damaged or unsupported signature (SM2 …) is not a valid one
            intact = valid = timestamped = False
            coverage, level, signed_at = None, None, None
        reports.append(SignatureReport(
            field=emb.field_name,
            signer=_subject(cert) if cert is not None else "",
            organ=organ_of.get(fingerprint(cert), "") if cert is not None else "",
            signed_at=signed_at,
            timestamped=timestamped,
            intact=bool(intact),
            valid=bool(valid),
            covers_file=coverage == SignatureCoverageLevel.ENTIRE_FILE,
            unchanged=level is not None and level <= ModificationLevel.FORM_FILLING,
        ))
    return Verification(digest, tuple(reports))


__all__ = [
    "Pkcs11Key", "Pkcs12Key", "Seal", "SignatureReport", "SigningError", "SigningKey", "Verification",
    "certificate_from_der", "date_mark", "fingerprint", "sha256", "sign_pdf", "verify_pdf",
]
