"""File responses with Chinese names (RFC 5987/6266 `filename*`) that cannot break a header."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response

from generators.filenames import safe_filename
from kinds.pipeline import Output


def content_disposition(filename: str, inline: bool = False) -> str:
    """`attachment; filename="document.docx"; filename*=UTF-8''%E5%85%B3…`: an ASCII fallback for
    old clients and the exact UTF-8 name for the rest. The name is sanitised again here so CR/LF,
    quotes or separators from any source can never reach the header."""
    stem, _, ext = filename.rpartition(".")
    clean = safe_filename(stem or filename, ext or "bin")
    ascii_name = clean.encode("ascii", "ignore").decode()
    ascii_stem = ascii_name.rpartition(".")[0].strip(" ._-")
    fallback = ascii_name if ascii_stem else f"document.{clean.rpartition('.')[2]}"
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(clean, safe='')}"


def file_response(output: Output, inline: bool = False) -> Response:
    response = Response(output.content, mimetype=output.mimetype)
    response.headers["Content-Disposition"] = content_disposition(output.filename, inline)
    response.headers["Cache-Control"] = "no-store"
    return response
