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


def _netpbm(data: bytes, magic: bytes) -> tuple[int, int, int]:
    """Width, height and where the pixels start, of a binary PGM (P5) or PPM (P6) picture."""
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maxval, separated by whitespace
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == magic and fields[3] == b"255"
    return int(fields[1]), int(fields[2]), pos + 1


def _pgm(data: bytes) -> Page:
    width, height, start = _netpbm(data, b"P5")
    return Page(width, height, data[start: start + width * height])


@dataclass
class ColourPage:
    width: int
    height: int
    pixels: bytes  # three bytes (R, G, B) a pixel, row by row

    def red(self, x: int, y: int) -> bool:
        """A seal-red pixel: strong red, little green and blue."""
        i = 3 * (y * self.width + x)
        r, g, b = self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]
        return r >= 180 and g <= 110 and b <= 110

    def red_pixels(self, x0: int = 0, y0: int = 0, x1: int | None = None, y1: int | None = None) -> list[tuple[int, int]]:
        return [(x, y) for y in range(y0, self.height if y1 is None else y1)
                for x in range(x0, self.width if x1 is None else x1) if self.red(x, y)]


def colour_page(pdf: bytes, page: int, dpi: int = 100) -> ColourPage:
    """One page (1-based) in colour, as poppler draws it (annotations included)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), str(path),
                        str(Path(tmp) / "p")], check=True)
        data = next(Path(tmp).glob("p-*.ppm")).read_bytes()
    width, height, start = _netpbm(data, b"P6")
    return ColourPage(width, height, data[start: start + 3 * width * height])
