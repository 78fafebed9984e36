"""The bar chart of scores by first-level indicator, drawn as a PNG with Pillow.

Why Pillow and not matplotlib: the chart is one kind of picture (paired bars: the points of each
indicator and the score obtained), Word needs a raster image anyway, Pillow is already a
dependency, and drawing it directly takes milliseconds where importing matplotlib takes about a
second per process. The same PNG goes into the docx (word/media) and into the PDF.

The font is the 黑体 face of the project's fontconfig (templates/official/fonts/fonts.conf): the
file is looked up in the directories that configuration scans, so the chart uses the same open
CJK fonts as the PDFs and no system font can slip in.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONTS_CONF = Path(__file__).resolve().parent.parent / "templates" / "official" / "fonts" / "fonts.conf"
FONT_FAMILY = "Noto Sans CJK SC"
DPI = 200
FULL_COLOUR = (216, 222, 233)
SCORE_COLOUR = (178, 34, 34)  # the red of the 公文 mark family, darker for print
AXIS_COLOUR = (90, 90, 90)
GRID_COLOUR = (225, 225, 225)


@dataclass(frozen=True)
class Bar:
    label: str          # 一级指标, e.g. "产出指标"
    points: Decimal     # 分值
    score: Decimal      # 得分


def _font_dirs() -> list[Path]:
    text = FONTS_CONF.read_text(encoding="utf-8") if FONTS_CONF.is_file() else ""
    return [Path(d) for d in re.findall(r"<dir>([^<]+)</dir>", text)]


@lru_cache(maxsize=8)
def font(size_px: int) -> ImageFont.FreeTypeFont:
    """The 黑体 stand-in (Noto Sans CJK SC) at `size_px`, from the fontconfig directories."""
    for directory in _font_dirs():
        files = sorted(directory.rglob("*.tt[cf]")) + sorted(directory.rglob("*.otf"))
        for path in sorted(files, key=lambda p: "Regular" not in p.name):  # Regular before Bold
            if "Sans" not in path.name or "Mono" in path.name:
                continue
            for index in range(10):
                try:
                    face = ImageFont.truetype(str(path), size_px, index=index)
                except OSError:
                    break
                if face.getname()[0] == FONT_FAMILY:
                    return face
    raise RuntimeError(f"找不到图表字体“{FONT_FAMILY}”，请安装 fonts-noto-cjk（见 {FONTS_CONF}）。")


def _mm(value: float) -> int:
    return round(value / 25.4 * DPI)


def _text(value: Decimal) -> str:
    text = f"{value:.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def bar_chart(bars: Sequence[Bar], *, width_mm: float = 150, height_mm: float = 80,
              legend: tuple[str, str] = ("分值", "得分")) -> bytes:
    """PNG bytes: for each bar the full points (light) and the score (dark), labelled with their
    values, on a common axis from 0 to the largest points."""
    if not bars:
        raise ValueError("a chart needs at least one bar")
    w, h = _mm(width_mm), _mm(height_mm)
    image = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(image)
    small, normal = font(_mm(3.2)), font(_mm(3.6))
    left, right, top, bottom = _mm(14), _mm(4), _mm(12), _mm(14)
    plot_w, plot_h = w - left - right, h - top - bottom
    top_value = max(max(b.points for b in bars), max(b.score for b in bars), Decimal(1))
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100) if top_value / s <= 6)
    ticks = int((top_value + step - 1) // step)
    axis_max = Decimal(ticks * step)

    def y(value: Decimal) -> float:
        return top + plot_h - float(value / axis_max) * plot_h

    for i in range(ticks + 1):
        value = Decimal(i * step)
        ty = y(value)
        draw.line([(left, ty), (w - right, ty)], fill=GRID_COLOUR if i else AXIS_COLOUR, width=2 if i else 3)
        label = _text(value)
        tw = draw.textlength(label, font=small)
        draw.text((left - tw - _mm(1.5), ty), label, fill=AXIS_COLOUR, font=small, anchor="lm")
    draw.line([(left, top), (left, top + plot_h)], fill=AXIS_COLOUR, width=3)

    slot = plot_w / len(bars)
    bar_w = min(slot * 0.32, _mm(14))
    for i, bar in enumerate(bars):
        cx = left + slot * (i + 0.5)
        # Points as written (10, 7.5); scores with the 2 places of the scoring tables.
        for offset, value, text, colour in ((-bar_w / 2 - 2, bar.points, _text(bar.points), FULL_COLOUR),
                                            (bar_w / 2 + 2, bar.score, f"{bar.score:.2f}", SCORE_COLOUR)):
            x0, x1 = cx + offset - bar_w / 2, cx + offset + bar_w / 2
            draw.rectangle([x0, y(value), x1, top + plot_h], fill=colour)
            draw.text(((x0 + x1) / 2, y(value) - _mm(1)), text, fill=(0, 0, 0), font=small, anchor="md")
        draw.text((cx, top + plot_h + _mm(2.5)), bar.label, fill=(0, 0, 0), font=normal, anchor="ma")

    # Legend, top right.
    x = w - right
    for text, colour in reversed(list(zip(legend, (FULL_COLOUR, SCORE_COLOUR), strict=True))):
        tw = draw.textlength(text, font=small)
        x -= tw
        draw.text((x, _mm(5)), text, fill=(0, 0, 0), font=small, anchor="lm")
        x -= _mm(5)
        draw.rectangle([x, _mm(5) - _mm(1.5), x + _mm(3.5), _mm(5) + _mm(1.5)], fill=colour)
        x -= _mm(4)

    out = io.BytesIO()
    # zlib level 1: a chart of flat fills compresses almost as well as at level 9 in a fraction of
    # the time; `optimize` costs most of a report's render (bench/FIGURES.md).
    image.save(out, format="PNG", dpi=(DPI, DPI), compress_level=1)
    return out.getvalue()
