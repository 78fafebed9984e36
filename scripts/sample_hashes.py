"""Hash every sample of every kind in every format so a restructuring can show its outputs are byte-identical before and after.

    PYTHONPATH=$PWD python scripts/sample_hashes.py > before.txt
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sys
import zipfile

import kinds
from kinds import pipeline

_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def digest(content: bytes) -> str:
    """sha256 of the bytes; for a zip package (docx, xlsx) of its members in order, with the
    creation and modification times openpyxl writes (the clock) and the entries' dates left out."""
    if not content.startswith(b"PK"):
        return hashlib.sha256(content).hexdigest()
    h = hashlib.sha256()
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        for info in zf.infolist():
            data = zf.read(info)
            if info.filename == "docProps/core.xml":
                data = _STAMP.sub(rb"\1-\2", data)
            h.update(f"{info.filename}\0{info.compress_type}\0{len(data)}\0".encode())
            h.update(data)
    return h.hexdigest()


def main() -> None:
    for kind in kinds.all_kinds():
        for path in kind.samples():
            payload = json.loads(path.read_text(encoding="utf-8"))
            data = pipeline.validate(kind, payload)
            for fmt in kind.formats:
                content = pipeline.render(kind, data, fmt)
                print(f"{kind.id}\t{path.name}\t{fmt}\t{digest(content)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
