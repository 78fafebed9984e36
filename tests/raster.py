"""Page pictures for layout checks: a PDF rasterised by poppler (pdftoppm), in grey."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Page:
    width: int
    height: int
    pixels: bytes  # one byte a pixel, row by row; 0 is black

    def dark(self, y: int, x0: int = 0, x1: int | None = None) -> int:
        """Dark pixels in row y between x0 and x1."""
        row = self.pixels[y * self.width + x0: y * self.width + (self.width if x1 is None else x1)]
        return sum(1 for p in row if p < 128)

    def rules(self, share: float = 0.6) -> list[int]:
        """Rows with a horizontal rule: dark across at least `share` of the page width."""
        return [y for y in range(self.height) if self.dark(y) >= share * self.width]

    def inked(self, top: int, bottom: int) -> list[int]:
        """Rows between top and bottom with anything drawn."""
        return [y for y in range(top, bottom) if self.dark(y)]


def pages(pdf: bytes, dpi: int = 72) -> list[Page]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", str(path), str(Path(tmp) / "p")], check=True)
        return [_pgm(p.read_bytes()) for p in sorted(Path(tmp).glob("p-*.pgm"))]


def _pgm(data: bytes) -> Page:
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maxval, separated by whitespace
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P5" and fields[3] == b"255"
    width, height = int(fields[1]), int(fields[2])
    return Page(width, height, data[pos + 1: pos + 1 + width * height])
