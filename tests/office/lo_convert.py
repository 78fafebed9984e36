"""Print .docx and .xlsx files to PDF with LibreOffice, as a clerk's office suite shows them.

Run by the system Python, which has LibreOffice's UNO bridge (Debian python3-uno); the tests call
it once per batch of files (tests/office/__init__.py):

    /usr/bin/python3 tests/office/lo_convert.py PROFILE_DIR OUT_DIR FILE...

One soffice process serves the whole batch. It is started with the environment it is given, so
the caller's FONTCONFIG_FILE (the project's templates/official/fonts/fonts.conf) decides which
fonts the documents' font names reach, as for the PDFs the project renders itself.

A .docx that switches off the extra space between East Asian and Latin text (w:autoSpaceDE and
w:autoSpaceDN = 0 in its styles, as Word and WPS honour them) gets that setting applied after
loading: LibreOffice 7.4's DOCX import reads and drops both elements (writerfilter), and would
otherwise add the space Word leaves out. Likewise w:overflowPunct = 0 (no punctuation hanging past
the line's end), which the same import reads inverted (ParaIsHangingPunctuation = value == 0). A
document without these settings keeps LibreOffice's default, so a generator that lost them would be
caught.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import zipfile

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException

FILTERS = {".docx": "writer_pdf_Export", ".xlsx": "calc_pdf_Export"}
DEFAULTS = re.compile(rb"<w:pPrDefault>.*?</w:pPrDefault>", re.S)
AUTOSPACE_OFF = re.compile(rb'<w:autoSpaceDE w:val="(0|false)"/><w:autoSpaceDN w:val="(0|false)"/>')
HANGING_OFF = re.compile(rb'<w:overflowPunct w:val="(0|false)"/>')


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def paragraph_defaults(path: str) -> dict[str, bool]:
    """The LibreOffice paragraph properties the docx's default paragraph properties switch off."""
    with zipfile.ZipFile(path) as z:
        found = DEFAULTS.search(z.read("word/styles.xml"))
    defaults = found.group(0) if found else b""
    off = {}
    if AUTOSPACE_OFF.search(defaults):
        off["ParaIsCharacterDistance"] = False
    if HANGING_OFF.search(defaults):
        off["ParaIsHangingPunctuation"] = False
    return off


def main(profile: str, out_dir: str, files: list[str]) -> int:
    pipe = f"jxdoc-lo-{os.getpid()}"
    office = subprocess.Popen(
        ["soffice", f"-env:UserInstallation={uno.systemPathToFileUrl(profile)}", "--headless", "--invisible",
         "--nologo", "--norestore", "--nodefault", f"--accept=pipe,name={pipe};urp;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(1200):
            try:
                ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except NoConnectException:
                if office.poll() is not None:
                    raise RuntimeError("soffice exited before accepting a connection") from None
                time.sleep(0.1)
        else:
            raise RuntimeError("soffice did not accept a connection in 120 s")
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        for path in files:
            ext = os.path.splitext(path)[1]
            doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(path)), "_blank", 0,
                                               (prop("Hidden", True),))
            if doc is None:
                print(f"cannot open {path}", file=sys.stderr)
                return 1
            try:
                off = paragraph_defaults(path) if ext == ".docx" else {}
                if off:
                    styles = doc.StyleFamilies.getByName("ParagraphStyles")
                    for name in styles.ElementNames:
                        for key, value in off.items():
                            styles.getByName(name).setPropertyValue(key, value)
                stem = os.path.splitext(os.path.basename(path))[0]
                target = uno.systemPathToFileUrl(os.path.join(os.path.abspath(out_dir), stem + ".pdf"))
                doc.storeToURL(target, (prop("FilterName", FILTERS[ext]),))
            finally:
                doc.close(True)
        try:
            desktop.terminate()
        except Exception:  # noqa: BLE001, S110 - the bridge drops as soffice exits
            pass
        office.wait(timeout=60)
        return 0
    finally:
        if office.poll() is None:
            office.kill()
            office.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
