"""Page images of a document for the form's 预览: the PDF rendered by the kind, rasterised by
poppler's pdftoppm (installed by the set-up script), sent inline as data: URIs so nothing is
stored before the clerk saves."""

from __future__ import annotations

import base64
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader

MAX_PAGES = 8  # a preview shows the first pages; the whole document is one download away
DPI = 72


@dataclass
class Preview:
    images: list[str]  # data: URIs, one per page shown
    pages: int  # pages in the document


def page_images(pdf: bytes, max_pages: int = MAX_PAGES, dpi: int = DPI) -> Preview:
    import io

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    with tempfile.TemporaryDirectory(prefix="jxdoc-preview-") as tmp:
        source = Path(tmp) / "doc.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-l", str(max_pages), str(source), str(Path(tmp) / "p")],
                       check=True, capture_output=True, timeout=120)
        files = sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        images = ["data:image/png;base64," + base64.b64encode(f.read_bytes()).decode("ascii") for f in files]
    return Preview(images, pages)
