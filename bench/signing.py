"""What signing costs: the PAdES signature with the seal on a finished 公文 PDF (median per
document, target < 50 ms), and the 1,000-unit disclosure batch signed against the same batch
unsigned (target: within 10 %).

    .venv/bin/python -m bench.signing [--runs 30] [--units 1000]

The organ, its certificate and its seal image are made for the run (tests/pki.py: a test CA and
a drawn seal), registered in a temporary data directory as the administrator would.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ORGAN = "青溪县财政局"
PASSWORD = "bench"  # noqa: S105 - protects a key made for this run only


def register_organ(data_dir: str | Path, organ: str = ORGAN) -> None:
    """An organ registered in `data_dir` with a key and a seal made now."""
    import kinds
    from rules.settings import defaults
    from storage import seals
    from tests.pki import issue, make_ca, seal_png

    kinds.all_kinds()
    seals.register(data_dir, organ, seal_png(), defaults(), p12=issue(make_ca(), organ).p12(PASSWORD),
                   password=PASSWORD, registered_by="bench")


def per_document(runs: int) -> dict:
    """Median time to sign the sealed 请示 sample (rendered once), beside its rendering time."""
    import json as _json

    import kinds
    from kinds import pipeline
    from rules.settings import defaults
    from storage import seals

    settings = defaults()
    kind = kinds.get("request")
    data = pipeline.validate(kind, _json.loads(kind.samples()[0].read_text("utf-8")), settings)
    with tempfile.TemporaryDirectory() as tmp:
        register_organ(tmp)
        pdf = pipeline.render(kind, data, "pdf", settings)
        organs = seals.signing_organs(tmp, kind.id, data, settings)
        seals.sign_document(tmp, pdf, organs, settings)  # warm: imports, the key opened once per process
        render_ms, sign_ms, sign_cpu_ms = [], [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            pipeline.render(kind, data, "pdf", settings)
            t1, c1 = time.perf_counter(), time.process_time()
            seals.sign_document(tmp, pdf, organs, settings)
            t2, c2 = time.perf_counter(), time.process_time()
            render_ms.append((t1 - t0) * 1000)
            sign_ms.append((t2 - t1) * 1000)
            sign_cpu_ms.append((c2 - c1) * 1000)
    # CPU time is the comparable figure on a shared machine: wall time also counts the time the
    # process waited for a core.
    return {"runs": runs, "sign_median_ms": round(statistics.median(sign_ms), 1),
            "sign_cpu_median_ms": round(statistics.median(sign_cpu_ms), 1),
            "sign_p95_ms": round(sorted(sign_ms)[int(0.95 * (runs - 1))], 1),
            "render_median_ms": round(statistics.median(render_ms), 1), "target_ms": 50}


def disclosure(units: int) -> dict:
    """The disclosure batch unsigned, then signed, each in a fresh process (bench.disclosure)."""
    out = {}
    for label, extra in (("unsigned", []), ("signed", ["--sign"])):
        done = subprocess.run([sys.executable, "-m", "bench.disclosure", "--units", str(units), "--no-verify", *extra],
                              capture_output=True, text=True, check=True)
        out[label] = json.loads(done.stdout[done.stdout.index("{"):])
    plain, signed = out["unsigned"], out["signed"]
    return {"units": units, "unsigned_s": plain["wall_s"], "signed_s": signed["wall_s"],
            "ratio": round(signed["wall_s"] / plain["wall_s"], 3),
            "cpu_ratio": round(signed["cpu_ms_per_page"] / plain["cpu_ms_per_page"], 3),
            "unsigned_warm_ms_per_page": plain["warm_ms_per_page"], "signed_warm_ms_per_page": signed["warm_ms_per_page"],
            "target_ratio": 1.10}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--units", type=int, default=1000)
    args = parser.parse_args(argv)
    print(json.dumps({"document": per_document(args.runs), "disclosure": disclosure(args.units)},
                     ensure_ascii=False, indent=2))


if __name__ == "__main__":
    sys.exit(main())
