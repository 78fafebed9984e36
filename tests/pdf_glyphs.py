"""Glyphs a PDF shows, read from its content streams with pypdf: a text show of glyph 0
(.notdef), or of a glyph id the embedded font does not have (which a viewer draws as .notdef),
prints an empty box where a character had no glyph in the font chosen for it.

weasyprint embeds every face as a CID font (Type 0, Identity-H: two bytes a glyph, the CID being
the glyph id of the subset, or mapped through a CIDToGIDMap stream), so each two bytes of a
string shown by Tj, TJ, ' or " name a glyph; the font program (read with fontTools) says how many
glyphs there are. A character in no face is written by weasyprint as an id past the end of the
font, whose encoding pdffonts then calls Custom. Form XObjects are read as well.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream, IndirectObject

SHOWS = {b"Tj", b"'", b'"', b"TJ"}


def _strings(operands) -> Iterator[bytes]:
    for operand in operands:
        if isinstance(operand, list):
            yield from _strings(operand)
        elif isinstance(operand, (bytes, str)) or hasattr(operand, "original_bytes"):
            yield operand.original_bytes if hasattr(operand, "original_bytes") else (
                operand if isinstance(operand, bytes) else operand.encode("latin-1"))


def _gid_map(font) -> bytes | None:
    """The CIDToGIDMap stream's bytes of a Type 0 font, None where CIDs are glyph ids."""
    descendant = font["/DescendantFonts"][0].get_object()
    mapping = descendant.get("/CIDToGIDMap")
    if mapping is None or isinstance(mapping, str) or getattr(mapping, "get_data", None) is None:
        return None
    return mapping.get_object().get_data()


def _glyph_count(font) -> int:
    descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    key = next(k for k in ("/FontFile2", "/FontFile3", "/FontFile") if k in descriptor)
    return TTFont(io.BytesIO(descriptor[key].get_object().get_data()), lazy=True)["maxp"].numGlyphs


def _notdef(data: bytes, font, counts: dict[int, int]) -> int:
    """How many glyphs of `data`, shown in `font`, are glyph 0 or past the font's last glyph."""
    if font.get("/Subtype") != "/Type0":
        return 0
    mapping = _gid_map(font)
    reference = getattr(font, "indirect_reference", None)
    key = reference.idnum if reference is not None else id(font)
    if key not in counts:
        counts[key] = _glyph_count(font)
    glyphs = counts[key]
    count = 0
    for i in range(0, len(data) - 1, 2):
        cid = data[i] << 8 | data[i + 1]
        gid = cid if mapping is None else (mapping[2 * cid] << 8 | mapping[2 * cid + 1] if 2 * cid + 1 < len(mapping) else 0)
        count += gid == 0 or gid >= glyphs
    return count


def _walk(content, resources, reader, page: int, found: list[tuple[int, str]], counts: dict[int, int]) -> None:
    resources = resources.get_object() if isinstance(resources, IndirectObject) else resources
    fonts = (resources or {}).get("/Font", {})
    fonts = fonts.get_object() if isinstance(fonts, IndirectObject) else fonts
    xobjects = (resources or {}).get("/XObject", {})
    xobjects = xobjects.get_object() if isinstance(xobjects, IndirectObject) else xobjects
    font = None
    for operands, operator in ContentStream(content, reader).operations:
        if operator == b"Tf":
            font = fonts[operands[0]].get_object()
        elif operator in SHOWS and font is not None:
            for data in _strings(operands if operator != b'"' else operands[2:]):
                if _notdef(data, font, counts):
                    found.append((page, str(font.get("/BaseFont"))))
        elif operator == b"Do":
            xobject = xobjects[operands[0]].get_object()
            if xobject.get("/Subtype") == "/Form":
                _walk(xobject, xobject.get("/Resources", resources), reader, page, found, counts)


def notdef_shows(pdf: bytes) -> list[tuple[int, str]]:
    """(page, font) of every text show that prints glyph 0."""
    reader = PdfReader(io.BytesIO(pdf))
    found: list[tuple[int, str]] = []
    counts: dict[int, int] = {}  # glyphs of each font object
    for number, page in enumerate(reader.pages, start=1):
        contents = page.get_contents()
        if contents is not None:
            _walk(contents, page.get("/Resources", {}), reader, number, found, counts)
    return found
