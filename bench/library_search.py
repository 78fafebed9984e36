"""Search speed of the indicator library at bureau scale.

`run(n)` grows the shipped library to `n` synthetic indicators (each shipped row repeated with a
place or programme prefix, so names stay realistic and bigram postings grow as they would with
real data) and times a fixed set of queries. `python -m bench.library_search` prints one line.
The target is a median well under 50 ms per query at n = 5,000.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace

from rules.library import IndicatorLibrary, LibraryEntry, default_library

PREFIXES = ("", "县级", "乡镇", "城区", "农村", "重点区域", "示范区", "园区", "流域", "山区",
            "社区", "街道", "片区", "试点", "省级", "市级", "中心城区", "边境", "革命老区", "新区")
SECTORS = ("教育", "卫生健康", "农业农村", "水利", "交通运输", "文化旅游", "民政", "住房城乡建设",
           "生态环境", "应急管理", "自然资源", "人力资源社会保障")
QUERIES = ("培训", "满意度", "设备 完好率", "培训人数", "覆盖率", "成本", "高标准农田", "补助资金发放",
           "验收合格率", "率", "信息化 系统", "监测数据", "宣传", "受益人口", "因公出国 费用",
           "按期完工", "疫苗接种", "检查 整改", "课题 成果", "生态")
LIMIT = 20


def synthetic_entries(n: int, base: list[LibraryEntry] | None = None) -> list[LibraryEntry]:
    rows = list(base if base is not None else default_library())
    out = []
    for k in range(n):
        entry = rows[k % len(rows)]
        batch = k // len(rows)
        prefix = PREFIXES[batch % len(PREFIXES)]
        sector = entry.sector or SECTORS[batch % len(SECTORS)]
        out.append(replace(entry, name=f"{prefix}{entry.name}", sector=sector,
                           explanation=f"{entry.explanation}（{sector}第{batch + 1}组）",
                           source=f"synthetic:{k}"))
    return out


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def run(n: int = 5000, repeat: int = 5) -> dict:
    """Build an n-indicator library and time every query `repeat` times; times in ms."""
    start = time.perf_counter()
    library = IndicatorLibrary(synthetic_entries(n))
    build_ms = (time.perf_counter() - start) * 1000
    times = []
    for _ in range(repeat):
        for query in QUERIES:
            t0 = time.perf_counter()
            library.search(query, limit=LIMIT)
            times.append((time.perf_counter() - t0) * 1000)
    return {"n": len(library), "queries": len(times), "build_ms": round(build_ms, 2),
            "median_ms": round(statistics.median(times), 3),
            "p95_ms": round(_percentile(times, 0.95), 3), "max_ms": round(max(times), 3)}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    result = run(int(args[0]) if args else 5000)
    print("library_search " + " ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
