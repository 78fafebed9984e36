"""The GB/T 9704-2012 layout engine: one model (model.py), rendered to docx and to PDF."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from generators.gongwen.model import Document, build


def renderer(kind: str, fmt: str) -> Callable[..., bytes]:
    """render(data, settings, seals=None) -> bytes for a 公文 kind in `fmt` ('docx' or 'pdf').

    `seals` (organ name → seal PNG) draws each signing organ's seal over its 署名 in the docx, for
    offices that print and stamp; the PDF gets its seals when it is signed (generators.signing)."""

    def render(data: dict, settings: Mapping[str, Any], seals: Mapping[str, bytes] | None = None) -> bytes:
        doc = build(kind, data, settings)
        if fmt == "docx":
            from generators.gongwen.docx import render_docx

            if seals and doc.sealed:
                doc = replace(doc, seal_images=tuple(seals[organ.strip()] for organ in doc.organs))
            return render_docx(doc)
        from generators.gongwen.pdf import render_pdf

        return render_pdf(doc)

    render.__name__ = f"render_{kind}_{fmt}"
    return render


__all__ = ["Document", "build", "renderer"]
