"""Single-document paths: per-document medians, the docx floor, PDF cost per page, memory.

The floor is what a docx must cost at least: the same word/document.xml deflated and zipped with
every other part pre-compressed once. Each docx path is reported as its median and its ratio to
that floor, measured in the same run on the same machine, so the ratio is comparable across
machines while the milliseconds are not.
"""

from __future__ import annotations

import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import zipfile

import kinds
from generators.ziparchive import Member, write_zip
from kinds import pipeline
from rules.settings import defaults


def _median_ms(func, runs: int) -> float:
    func()  # warm: templates compiled, fonts loaded
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def docx_floor_ms(docx: bytes, runs: int = 300) -> float:
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        document = zf.read("word/document.xml")
        others = [Member.compress(n, zf.read(n)) for n in zf.namelist() if n != "word/document.xml"]
    return _median_ms(lambda: write_zip([*others, Member.compress("word/document.xml", document)]), runs)


def sample_data(kind_id: str) -> dict:
    kind = kinds.get(kind_id)
    payload = json.loads(kind.samples()[0].read_text(encoding="utf-8"))
    return pipeline.validate(kind, payload, defaults())


def pdf_pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def reference_document(settings):
    """The document issue 8 sets the docx target on: a red-header 公文 (the 通知 sample) with a
    自评表 of merged cells (the B.2 sheet of the 自评表 sample) as a table in its body."""
    import dataclasses

    from generators.evaluation import self_evaluation_sheet
    from generators.gongwen.model import TableBlock, build

    doc = build("notice", sample_data("notice"), settings)
    sheet = self_evaluation_sheet(sample_data("self_evaluation"), settings)
    return dataclasses.replace(doc, paragraphs=(*doc.paragraphs, TableBlock(sheet, "表1　项目支出绩效自评表")))


def run(quick: bool = False) -> list[dict]:
    from generators.gongwen.docx import render_docx
    from generators.gongwen.pdf import render_pdf
    from jobs.work import init_worker

    init_worker()  # measured as the processes that render run: gunicorn, pool and Celery workers
    settings = defaults()
    rows = []
    runs = 50 if quick else 300
    doc = reference_document(settings)
    pages = pdf_pages(render_pdf(doc))
    median = _median_ms(lambda: render_docx(doc), runs)
    floor = docx_floor_ms(render_docx(doc), runs)
    rows.append({"path": f"docx 基准文档（红头通知 + {len(doc.paragraphs[-1].sheet.rows)} 行自评表，{pages} 页）",
                 "median_ms": median, "floor_ms": floor, "ratio": median / floor})
    pdf_runs = 3 if quick else 10
    median = _median_ms(lambda: render_pdf(doc), pdf_runs)
    stock = stock_weasyprint_ms(doc, pdf_runs)
    rows.append({"path": f"pdf 基准文档（{pages} 页）", "median_ms": median, "pages": pages,
                 "ms_per_page": median / pages, "stock_ms_per_page": stock / pages})
    for kind in kinds.all_kinds():
        if not kind.samples():
            continue
        data = sample_data(kind.id)
        if "docx" in kind.renderers:
            render = kind.renderers["docx"]
            median = _median_ms(lambda render=render, data=data: render(data, settings), runs)
            floor = docx_floor_ms(render(data, settings), runs)
            rows.append({"path": f"docx {kind.id}", "median_ms": median, "floor_ms": floor, "ratio": median / floor})
        if "pdf" in kind.renderers:
            render = kind.renderers["pdf"]
            pages = pdf_pages(render(data, settings))
            median = _median_ms(lambda render=render, data=data: render(data, settings), 3 if quick else 10)
            rows.append({"path": f"pdf {kind.id}", "median_ms": median, "pages": pages, "ms_per_page": median / pages})
        if "xlsx" in kind.renderers:
            render = kind.renderers["xlsx"]
            rows.append({"path": f"xlsx {kind.id}", "median_ms": _median_ms(lambda render=render, data=data: render(data, settings), 10 if quick else 50)})
    return rows


def ofd_costs(quick: bool = False) -> list[dict]:
    """OFD beside PDF of the same document: the reference document and each kind's sample. The
    OFD is written from the PDF's pages, so its cost is the PDF's plus the writing. Both are timed
    alternately in one loop, in CPU time of this process: rendering is single-threaded, and on a
    shared machine wall-clock medians of two paths swing by more than their difference."""
    from generators import ofd
    from generators.gongwen.pdf import render_pdf
    from jobs.work import init_worker

    init_worker()
    settings = defaults()
    runs = 3 if quick else 10
    doc = reference_document(settings)
    jobs = [("基准文档", lambda: render_pdf(doc),
             lambda: ofd.from_pdf(render_pdf(doc), ofd.DocInfo(title="".join(doc.title_lines))))]
    for kind in kinds.all_kinds():
        if "ofd" in kind.renderers and kind.samples():
            data = sample_data(kind.id)
            jobs.append((kind.id, lambda k=kind, d=data: k.renderers["pdf"](d, settings),
                         lambda k=kind, d=data: k.renderers["ofd"](d, settings)))
    rows = []
    for name, pdf, package in jobs:
        pdf(), package()  # warm
        pdf_times, ofd_times = [], []
        for _ in range(runs):
            start = time.process_time()
            pdf()
            middle = time.process_time()
            package()
            ofd_times.append(time.process_time() - middle)
            pdf_times.append(middle - start)
        pdf_ms, ofd_ms = statistics.median(pdf_times) * 1000, statistics.median(ofd_times) * 1000
        rows.append({"path": f"ofd {name}", "pdf_ms": pdf_ms, "ofd_ms": ofd_ms, "ratio": ofd_ms / pdf_ms})
    return rows


def stock_weasyprint_ms(doc, runs: int) -> float:
    """Median ms of the same document (HTML and stylesheet) through weasyprint as it comes: a fresh
    process that never imports jxdoc's PDF module (no kept font configuration, no subset cache, no
    lean user-agent sheet, level 9 deflate), the same fonts (FONTCONFIG_FILE), one render after
    another as a caller of weasyprint would write it."""
    from generators import pdf as pdfkit
    from generators.gongwen.pdf import TEMPLATE_DIR, render_css, render_html

    code = (
        "import json, statistics, sys, time\n"
        "from weasyprint import CSS, HTML\n"
        "job = json.load(sys.stdin)\n"
        "times = []\n"
        "for _ in range(job['runs'] + 1):\n"
        "    start = time.perf_counter()\n"
        "    HTML(string=job['html'], base_url=job['base']).write_pdf(stylesheets=[CSS(string=job['css'], base_url=job['base'])])\n"
        "    times.append((time.perf_counter() - start) * 1000)\n"
        "print(statistics.median(times[1:]))\n"  # the first render loads the fonts
    )
    job = {"html": render_html(doc), "css": render_css(doc), "base": TEMPLATE_DIR.as_uri() + "/", "runs": runs}
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(job), capture_output=True, text=True, check=True,
                         env={**os.environ, "FONTCONFIG_FILE": str(pdfkit.FONTS_CONF)})
    return float(out.stdout.strip().splitlines()[-1])


def peak_rss_kb() -> int:
    """This process's own peak resident set (VmHWM), in KiB."""
    for line in open("/proc/self/status", encoding="ascii"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory_after(count: int, kind_id: str = "notice", fmt: str = "docx") -> dict:
    """Peak RSS of a fresh process after rendering `count` documents (run in a subprocess so the
    figure is not the benchmark's own footprint)."""
    # VmHWM, not ru_maxrss: Linux carries a parent's ru_maxrss into its children across fork
    # and exec, so a child of a big benchmark process would report the parent's peak.
    code = (
        "from bench.documents import sample_data, peak_rss_kb\n"
        "import kinds\nfrom rules.settings import defaults\n"
        f"k = kinds.get({kind_id!r}); d = sample_data({kind_id!r}); s = defaults(); r = k.renderers[{fmt!r}]\n"
        "r(d, s)\nbase = peak_rss_kb()\n"
        f"for _ in range({count}): r(d, s)\n"
        "print(base, peak_rss_kb())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    base, peak = (int(x) for x in out.stdout.split())
    return {"path": f"RSS after {count:,} {fmt} ({kind_id})", "first_mb": base / 1024, "peak_mb": peak / 1024}


def main() -> None:
    quick = "--quick" in sys.argv
    for row in run(quick):
        print(json.dumps(row, ensure_ascii=False, default=float))
    print(json.dumps(memory_after(1000 if quick else 10000), ensure_ascii=False))
    print("max RSS of this process (MB):", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


if __name__ == "__main__":
    main()
