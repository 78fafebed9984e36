"""Where the seals of a sealed 公文 go (GB/T 9704-2012 7.3.5.1), in one place.

The PDF renderer marks the 成文日期 of a sealed document with two named destinations (the start
and the end of the date's text, `DATE_ANCHOR` and `DATE_ANCHOR-end`), so the signing step, which
runs after the PDF is made and may run elsewhere (`jxdoc sign`), finds the date's page and
position in the file itself; the layout path only writes two anchors.

From the date the seals are placed by settings["signing"]["seal"]:
* one organ: the seal's centre is on the date's centre line (plus `horizontal_offset_mm`) and
  `date_below_centre_mm` above the date's centre, so 署名 and 成文日期 lie below the centre and the
  seal covers the date (下压成文日期), its top within a line of the body above;
* a joint issue: one seal per organ, each centred on its own organ's name, which the PDF marks
  with named destinations too (`name_anchor`): the geometry (geometry.joint_signature_rows) set
  the names side by side, a seal and `joint_gap_mm` apart (never touching), the last over the
  date, further rows above. A PDF without those marks gets the seals in a row left of the date's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generators.gongwen.geometry import PT_PER_MM, line_pitch, seal_rise
from generators.gongwen.model import DATE_ANCHOR, name_anchor

DATE_END_ANCHOR = DATE_ANCHOR + "-end"


@dataclass(frozen=True)
class DateMark:
    """The 成文日期 as the PDF records it: page index, the left and right x of its text and the
    top of its line box (PDF user space, points, y upwards). The body face's em box is centred
    in the grid line, so the date's centre is half a line below `top`."""

    page: int
    left: float
    right: float
    top: float


@dataclass(frozen=True)
class SealBox:
    """A seal's square on a page, PDF user space (points, y upwards)."""

    page: int
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2


def seal_boxes(date: DateMark, count: int, settings: Mapping[str, Any],
               names: Sequence[DateMark] = ()) -> list[SealBox]:
    """The squares of `count` seals (organ order) for a document whose date is at `date`.

    `names`, the organs' names of a joint issue as the PDF marks them: each seal is centred on
    its own name (the geometry put the names a seal and a gap apart, the last over the date), as
    far above the name as the single seal is above the date less the line between name and date."""
    seal = settings["signing"]["seal"]
    layout = settings["layout"]
    mm = PT_PER_MM
    d = float(seal["diameter_mm"]) * mm
    line = line_pitch(layout).pt
    if names and len(names) == count:
        rise = seal_rise(layout, seal).pt
        shift = float(seal["horizontal_offset_mm"]) * mm
        boxes = []
        for name in names:
            x, y = (name.left + name.right) / 2 + shift, name.top - line / 2 + rise
            boxes.append(SealBox(name.page, x - d / 2, y - d / 2, x + d / 2, y + d / 2))
        return boxes
    date_centre_y = date.top - line / 2
    cx = (date.left + date.right) / 2 + float(seal["horizontal_offset_mm"]) * mm
    cy = date_centre_y + float(seal["date_below_centre_mm"]) * mm
    step = d + float(seal["joint_gap_mm"]) * mm
    type_left = float(layout["page"]["left_mm"]) * mm
    # Seals to the left of the date's while their left edge stays inside the type area.
    per_row = max(1, int((cx - d / 2 - type_left) // step) + 1)
    boxes = []
    for i in range(count):
        back = count - 1 - i  # the last organ's seal is on the date
        row, col = divmod(back, per_row)
        x, y = cx - col * step, cy + row * step
        boxes.append(SealBox(date.page, x - d / 2, y - d / 2, x + d / 2, y + d / 2))
    return boxes


__all__ = ["DATE_ANCHOR", "DATE_END_ANCHOR", "DateMark", "SealBox", "name_anchor", "seal_boxes"]
