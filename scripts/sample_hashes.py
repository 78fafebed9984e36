"""Hash every sample of every kind in every format, and every file of the batches made from the
samples (the monitoring and department monitoring workbooks in each format; a disclosure batch of
four units, one excluded and one without its report), so a restructuring can show that its
outputs are byte-identical before and after.

    PYTHONPATH=$PWD python scripts/sample_hashes.py [--batches] > before.txt
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import kinds
from kinds import pipeline

ROOT = Path(__file__).resolve().parent.parent

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


def _disclosure_units(directory: Path) -> Path:
    sample = json.loads((ROOT / "samples/disclosure/water_bureau_2023.json").read_text(encoding="utf-8"))
    units = [sample, {**sample, "unit": "青溪县林业局", "unit_code": "318003"},
             {**sample, "unit": "青溪县档案局", "unit_code": "318009"},
             {**sample, "unit": "青溪县统计局", "unit_code": "318011", "report": None}]
    path = directory / "units.json"
    path.write_text(json.dumps(units, ensure_ascii=False), encoding="utf-8")
    return path


def batches() -> None:
    """Each batch through `jxdoc batch` in a fresh data directory, one process rendering."""
    runs = [(kind, fmt, [str(ROOT / "samples" / kind / "batch_workbook.xlsx"), "--format", fmt])
            for kind in ("monitoring", "department_monitoring") for fmt in ("xlsx", "docx", "pdf")]
    runs.append(("disclosure", "pdf", ["UNITS", "--exclude", "318009 涉密"]))
    for kind, fmt, args in runs:
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)
            args = [str(_disclosure_units(tmp_path)) if a == "UNITS" else a for a in args]
            env = {**os.environ, "JXDOC_DATA_DIR": str(tmp_path / "data"), "JXDOC_JOB_PROCESSES": "1",
                   "JXDOC_JOB_RUNNER": "embedded", "PYTHONPATH": str(ROOT)}
            env.pop("JXDOC_DATABASE_URL", None)
            out = tmp_path / "out.zip"
            done = subprocess.run([sys.executable, "-m", "service.cli", "batch", kind, *args, "-o", str(out)],
                                  env=env, cwd=ROOT, capture_output=True, text=True)
            print(f"batch {kind}\t{fmt}\texit {done.returncode}\t{done.stdout.strip().splitlines()[-1:]}")
            with zipfile.ZipFile(out) as zf:
                for info in zf.infolist():
                    print(f"batch {kind}\t{fmt}\t{info.filename}\t{digest(zf.read(info))}", flush=True)


if __name__ == "__main__":
    main()
    if "--batches" in sys.argv:
        batches()
