"""Print .xlsx files to PDF with Gnumeric (ssconvert), a second spreadsheet engine beside Calc.

Gnumeric lays a sheet out as Excel does where Calc does not: a column's width counts Calibri's
7 px digit (Calc, through the project's fontconfig, takes Noto Serif CJK's wider digit and prints
the sheet smaller), so its pages hold the rows Excel's and WPS's hold, and it leaves out of the PDF
the lines of a cell its row is too short for (Calc exports them, clipped), so a cut-off line is
missing from the extracted text.

Gnumeric 1.12.55's xlsx import (plugins/excel/xlsx-read.c) and its PDF export misread four print
settings of any xlsx. The file is imported to Gnumeric's own format, those four are set there as
the xlsx states them, and that file is printed:

* <rowBreaks> become column breaks and <colBreaks> row breaks (gnm_page_breaks_new(1), is_vert,
  for rowBreaks; its BIFF import and print.c have it the other way): the direction is swapped back;
* _xlnm.Print_Titles is kept as a name but never becomes the sheet's rows to repeat
  (repeat_top): the name's rows are set as repeat_top;
* a landscape page is printed with its margins turned a quarter (the header margin on the left,
  the left margin on top, so about 57 pt less height): the page is printed as a portrait page of
  landscape size, 297 × 210 mm, which has the same geometry without the turn;
* a header or footer's font size code (“&10”) loses its “&” and first digit only, printing the
  second (“0第 1 页”): the size codes are taken out before the import (Gnumeric sets no size).

Any other setting is Gnumeric's own reading. ssconvert also logs a “gnm_style_conditions_eval”
assertion per merged cell it draws (any xlsx with merges); the output is not affected.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import zipfile
from pathlib import Path

from lxml import etree

GNM = "http://www.gnumeric.org/v10.dtd"
NS = {"gnm": GNM}
SIZE_CODE = re.compile(rb"(<(?:odd|even|first)(?:Header|Footer)>[^<]*?)&amp;\d+")
LANDSCAPE_A4 = "custom_a4-landscape_297x210mm"  # a PWG paper name GTK reads

_printed: dict[bytes, Path] = {}  # the xlsx's digest → its print, for the session


def _without_size_codes(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            part = zin.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                while SIZE_CODE.search(part):
                    part = SIZE_CODE.sub(rb"\1", part)
            zout.writestr(info, part)
    return out.getvalue()


def _as_the_xlsx_states(native: Path) -> None:
    """The four print settings Gnumeric's import misreads, set in its own file as the xlsx has them."""
    tree = etree.parse(str(native))
    for sheet in tree.iterfind(".//gnm:Sheet", NS):
        info = sheet.find("gnm:PrintInformation", NS)
        if info is None:
            continue
        for breaks in info:
            if breaks.tag in (f"{{{GNM}}}vPageBreaks", f"{{{GNM}}}hPageBreaks"):
                breaks.tag = f"{{{GNM}}}{'h' if breaks.tag.endswith('}vPageBreaks') else 'v'}PageBreaks"
        for name in sheet.iterfind("gnm:Names/gnm:Name", NS):
            if name.findtext("gnm:name", namespaces=NS) == "Print_Titles":
                rows = name.findtext("gnm:value", namespaces=NS).rsplit("!", 1)[-1]
                info.find("gnm:titles", NS).addnext(etree.Element(f"{{{GNM}}}repeat_top", value=rows))
        orientation = info.find("gnm:orientation", NS)
        if orientation is not None and orientation.text == "landscape":
            paper = info.find("gnm:paper", NS)
            assert paper.text == "iso_a4", paper.text  # the project prints A4 only
            orientation.text, paper.text = "portrait", LANDSCAPE_A4
    tree.write(str(native), xml_declaration=True, encoding="UTF-8")


def _ssconvert(exporter: str, source: Path, target: Path, env: dict[str, str]) -> None:
    subprocess.run(["ssconvert", "-T", exporter, str(source), str(target)], check=True, env=env,
                   capture_output=True, timeout=300)


def print_with_gnumeric(files: list[Path], out_dir: Path, env: dict[str, str]) -> dict[Path, Path]:
    """Each .xlsx printed to PDF by Gnumeric with the environment given (the project's
    fontconfig); {input: its PDF}. A file already printed in the session is not printed again."""
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, **env)
    out = {}
    for file in files:
        data = file.read_bytes()
        digest = hashlib.sha256(data).digest()
        if digest not in _printed:
            source, native = out_dir / f"{file.stem}.in.xlsx", out_dir / f"{file.stem}.gnumeric"
            pdf = out_dir / f"{file.stem}.pdf"
            source.write_bytes(_without_size_codes(data))
            _ssconvert("Gnumeric_XmlIO:sax:0", source, native, env)
            _as_the_xlsx_states(native)
            _ssconvert("Gnumeric_pdf:pdf_assistant", native, pdf, env)
            _printed[digest] = pdf
        out[file] = _printed[digest]
    return out
