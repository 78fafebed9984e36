"""The seal of a signed 公文 lands where GB/T 9704 7.3.5.1 and the settings put it, measured on
the page as poppler draws it: its centre above the 成文日期 by the settings' offset (within 1 mm),
red over the date line; a joint issue's seals in a row, the last on the date, never touching."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from tests.raster import colour_page
from tests.signing.conftest import render_pdf, sample

DPI = 100
PX_PER_MM = DPI / 25.4
PT_TO_PX = DPI / 72


def date_box(pdf: bytes, date_text: str) -> tuple[int, tuple[float, float, float, float]]:
    """(page, (x0, y0, x1, y1) in points from the top left) of the last word that is exactly the
    date, as poppler's text extraction places it (independent of the renderer's anchors)."""
    found = None
    for number, text, box in words(pdf):
        if text == date_text:
            found = (number, box)
    assert found, f"{date_text} not on any page"
    return found


def words(pdf: bytes) -> list[tuple[int, str, tuple[float, float, float, float]]]:
    """(page, text, (x0, y0, x1, y1)) of every word poppler extracts, in reading order."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(pdf)
        html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
    out = []
    for number, page in enumerate(html.split("<page ")[1:], start=1):
        for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
                             page):
            out.append((number, m.group(5), tuple(float(m.group(i)) for i in range(1, 5))))
    return out


def name_box(pdf: bytes, page: int, name: str, above: float) -> tuple[float, float, float, float]:
    """The box of `name` (poppler may cut it into words) on `page`, the last line above `above`."""
    found = None
    for number, text, box in words(pdf):
        if number == page and text == name and box[3] <= above:
            found = box
    assert found, f"{name} not on page {page}"
    return found


def red_columns(page, top: int, bottom: int) -> list[int]:
    return [x for x in range(page.width) if any(page.red(x, y) for y in range(top, bottom))]


def seal_measures(settings) -> tuple[float, float, float]:
    seal = settings["signing"]["seal"]
    return float(seal["diameter_mm"]), float(seal["date_below_centre_mm"]), float(seal["joint_gap_mm"])


def test_seal_centred_above_the_date_by_the_settings(register, settings, data_dir):
    from storage import seals

    data = sample("request")
    organs = register(data)
    signed = seals.sign_document(data_dir, render_pdf("request", data, settings), organs, settings)
    number, (x0, y0, x1, y1) = date_box(signed, "2024年3月11日")
    page = colour_page(signed, number, DPI)
    diameter, below, _gap = seal_measures(settings)
    date_cx, date_cy = (x0 + x1) / 2 * PT_TO_PX, (y0 + y1) / 2 * PT_TO_PX
    reach = int(diameter * PX_PER_MM)
    red = page.red_pixels(int(date_cx - reach), int(date_cy - 2 * reach), int(date_cx + reach), int(date_cy + reach))
    assert red, "no seal drawn near the date"
    xs, ys = [x for x, _ in red], [y for _, y in red]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    assert abs(cx - date_cx) / PX_PER_MM <= 1.0, (cx, date_cx)
    assert abs((date_cy - cy) / PX_PER_MM - below) <= 1.0, ((date_cy - cy) / PX_PER_MM, below)
    # The seal is about as wide as the setting (the drawn ring is 93 % of the image).
    assert 0.85 * diameter <= (max(xs) - min(xs)) / PX_PER_MM <= diameter
    # Red over the date line: the seal presses on the 成文日期 (下压成文日期).
    over_date = [(x, y) for x, y in red if x0 * PT_TO_PX <= x <= x1 * PT_TO_PX and y0 * PT_TO_PX <= y <= y1 * PT_TO_PX]
    assert over_date
    # Its top within one line of the body above the signature (上距正文一行之内).
    line_mm = 225 / 22
    signature_top = date_cy - 1.5 * line_mm * PX_PER_MM  # top of the 署名 line
    blank_lines = 3
    body_bottom = signature_top - blank_lines * line_mm * PX_PER_MM
    assert (min(ys) - body_bottom) / PX_PER_MM <= line_mm


def test_joint_issue_one_seal_per_organ_in_a_row_not_touching(register, settings, data_dir):
    from storage import seals

    data = sample("opinion")
    organs = register(data)
    assert len(organs) == 2
    signed = seals.sign_document(data_dir, render_pdf("opinion", data, settings), organs, settings)
    number, (x0, y0, x1, y1) = date_box(signed, "2024年4月18日")
    page = colour_page(signed, number, DPI)
    diameter, below, gap = seal_measures(settings)
    date_cx, date_cy = (x0 + x1) / 2 * PT_TO_PX, (y0 + y1) / 2 * PT_TO_PX
    centre_y = date_cy - below * PX_PER_MM
    radius = diameter / 2 * PX_PER_MM
    columns = red_columns(page, int(centre_y - radius), int(centre_y + radius))
    # Two runs of red columns (two seals) with clear columns between them.
    runs, start = [], columns[0]
    for a, b in zip(columns, columns[1:] + [None], strict=True):
        if b is None or b > a + 1:
            runs.append((start, a))
            start = b
    seals_runs = [r for r in runs if (r[1] - r[0]) / PX_PER_MM > diameter / 2]
    assert len(seals_runs) == 2, runs
    (l0, l1), (r0, r1) = seals_runs
    assert (r0 - l1) / PX_PER_MM > 0.5 * gap  # apart: neither touching nor overlapping
    # The last organ's seal is on the date, the first one to its left ...
    assert abs((r0 + r1) / 2 - date_cx) / PX_PER_MM <= 1.0
    # ... a seal and a gap (more where the two names need it: a character between them) apart.
    assert ((r0 + r1) / 2 - (l0 + l1) / 2) / PX_PER_MM >= diameter + gap - 1.0
    # Both inside the type area (28 mm from the left edge of the page).
    assert l0 / PX_PER_MM >= 28 - 0.5


def test_joint_issue_each_seal_centred_on_its_own_organ_name(register, settings, data_dir):
    """7.3.5.1: the names side by side on one line above the date, each seal centred (within
    1 mm) over its own organ's name, the last seal over the date as well, seals apart."""
    from storage import seals

    data = sample("opinion")
    organs = register(data)
    signed = seals.sign_document(data_dir, render_pdf("opinion", data, settings), organs, settings)
    number, (_x0, dy0, _x1, dy1) = date_box(signed, "2024年4月18日")
    boxes = [name_box(signed, number, organ, dy0) for organ in organs]
    # One row: the names on the same line, the line above the date, in organ order, apart.
    assert len({round(b[1]) for b in boxes}) == 1, boxes
    assert boxes[0][2] < boxes[1][0]
    page = colour_page(signed, number, DPI)
    diameter, below, gap = seal_measures(settings)
    line_mm = 225 / 22
    radius = diameter / 2 * PX_PER_MM
    centres = []
    for x0, y0, x1, y1 in boxes:
        name_cx, name_cy = (x0 + x1) / 2 * PT_TO_PX, (y0 + y1) / 2 * PT_TO_PX
        # The seal over this name: red pixels within a radius of the expected centre's column.
        expect_cy = name_cy - (below - line_mm) * PX_PER_MM
        red = page.red_pixels(int(name_cx - radius * 1.05), int(expect_cy - radius * 1.05),
                              int(name_cx + radius * 1.05), int(expect_cy + radius * 1.05))
        assert red, f"no seal over {x0, y0}"
        xs, ys = [x for x, _ in red], [y for _, y in red]
        cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
        assert abs(cx - name_cx) / PX_PER_MM <= 1.0, (cx, name_cx)
        assert abs(cy - expect_cy) / PX_PER_MM <= 1.0, (cy, expect_cy)
        # Red over the name (下压发文机关署名).
        assert any(x0 * PT_TO_PX <= x <= x1 * PT_TO_PX and y0 * PT_TO_PX <= y <= y1 * PT_TO_PX for x, y in red)
        centres.append((cx, min(xs), max(xs)))
    # Not touching: clear columns between neighbouring seals.
    assert (centres[1][1] - centres[0][2]) / PX_PER_MM > 0.5 * gap
    # The last seal covers the date too.
    assert any(dy0 * PT_TO_PX <= y <= dy1 * PT_TO_PX for _x, y in red)
