"""The GB/T 9704-2012 layout engine: one model (model.py), rendered to docx and to PDF."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from generators.gongwen.model import Document, build


def renderer(kind: str, fmt: str) -> Callable[[dict, Mapping[str, Any]], bytes]:
    """render(data, settings) -> bytes for a 公文 kind in `fmt` ('docx' or 'pdf')."""

    def render(data: dict, settings: Mapping[str, Any]) -> bytes:
        doc = build(kind, data, settings)
        if fmt == "docx":
            from generators.gongwen.docx import render_docx

            return render_docx(doc)
        from generators.gongwen.pdf import render_pdf

        return render_pdf(doc)

    render.__name__ = f"render_{kind}_{fmt}"
    return render


__all__ = ["Document", "build", "renderer"]
