"""PDF/A-2b outputs: the identification and the metadata in XMP, an output intent with its ICC
profile, every font embedded; signed, they pass pyHanko's validation."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from tests.signing.conftest import render_pdf, sample


def fonts(reader: PdfReader):
    """Every font dictionary the pages use (descendants of composite fonts included)."""
    seen = {}
    for page in reader.pages:
        resources = page["/Resources"]
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            seen[id(font)] = font
            for descendant in font.get("/DescendantFonts", []):
                descendant = descendant.get_object()
                seen[id(descendant)] = descendant
    return list(seen.values())


@pytest.mark.parametrize("kind", ["request", "self_evaluation", "disclosure"])
def test_pdfa_structure(kind, settings):
    data = sample(kind)
    pdf = render_pdf(kind, data, settings, archival=True)
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r'pdfaid:part="2"', xmp) and re.search(r'pdfaid:conformance="B"', xmp)
    intents = root["/OutputIntents"]
    assert len(intents) == 1
    intent = intents[0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert len(intent["/DestOutputProfile"].get_object().get_data()) > 1000  # the ICC profile itself
    used = fonts(reader)
    assert used
    for font in used:
        if font["/Subtype"] == "/Type0":
            continue  # its glyphs are in its descendant, checked on its own
        descriptor = font["/FontDescriptor"].get_object()
        assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]
    assert "<dc:title>" in xmp
    if kind == "request":
        assert data["title"] in xmp
        assert f"<rdf:li>{data['issuer']}</rdf:li>" in xmp  # dc:creator, the issuing organ
        assert data["doc_number"] in xmp  # 发文字号 in pdf:Keywords and dc:description
        assert "<xmp:CreateDate>2024-03-11</xmp:CreateDate>" in xmp  # the 成文日期


def test_plain_pdf_is_not_pdfa(settings):
    pdf = render_pdf("request", sample("request"), settings)
    assert b"pdfaid" not in pdf and b"/OutputIntents" not in pdf


def test_signed_pdfa_passes_pyhanko_validation(register, settings, data_dir):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from generators.signing import certificate_from_der
    from storage import seals

    data = sample("notice")
    organs = register(data)
    signed = seals.sign_document(data_dir, render_pdf("notice", data, settings, archival=True), organs, settings)
    reader = PdfFileReader(io.BytesIO(signed))
    roots = [certificate_from_der(der) for _, der in seals.registered_certificates(data_dir)]
    (embedded,) = reader.embedded_signatures
    status = validate_pdf_signature(embedded, ValidationContext(trust_roots=roots, allow_fetching=False))
    assert status.bottom_line, status.pretty_print_details()
    # Still PDF/A after the incremental update: identification kept, information and XMP agree.
    after = PdfReader(io.BytesIO(signed))
    xmp = after.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert 'pdfaid:part="2"' in xmp and 'pdfaid:conformance="B"' in xmp
    producer = re.search(r'pdf:Producer="([^"]*)"|<pdf:Producer>([^<]*)<', xmp)
    assert producer and after.metadata["/Producer"] in producer.groups()
    assert data["title"] in xmp
