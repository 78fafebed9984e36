"""The per-process font caches of generators/pdf.py stay bounded however many different PDFs a
worker renders (a disclosure batch: every unit's names give a new glyph set)."""

from __future__ import annotations

import json

import kinds
from generators import pdf as pdfkit
from kinds import pipeline
from rules.settings import defaults


def _notice(n: int) -> dict:
    payload = json.loads(kinds.get("notice").samples()[0].read_text(encoding="utf-8"))
    # different characters in each document: a new subset per document
    payload["title"] = f"关于做好第{n}批{'甲乙丙丁戊己庚辛壬癸'[n % 10]}{'子丑寅卯辰巳午未申酉戌亥'[n % 12]}项目绩效监控的通知"
    return pipeline.validate("notice", payload, defaults())


def test_font_caches_do_not_grow_per_document(monkeypatch):
    monkeypatch.setattr(pdfkit, "_SUBSET_CACHE_BYTES", 2 * 2**20)
    render = kinds.get("notice").renderers["pdf"]
    settings = defaults()
    render(_notice(0), settings)
    faces = len(pdfkit._face_data)
    assert faces >= 1  # the installed CJK faces this document uses
    assert all(len(data) >= pdfkit._FACE_DATA_MIN_BYTES for _keep, data in pdfkit._face_data.values())
    for n in range(1, 8):
        pdf = render(_notice(n), settings)
        assert pdf.startswith(b"%PDF")
        assert len(pdfkit._face_data) == faces  # the installed faces only, not each PDF's subsets
        assert pdfkit._subset_size[0] <= 2 * 2**20
        assert pdfkit._subset_size[0] == sum(len(v) for v in pdfkit._subset_cache.values())
