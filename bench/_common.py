"""Helpers shared by the benchmarks: data paths, timing, memory."""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"


def need(rel: str) -> Path:
    """A path under ../shared/data, or exit 0 with a message naming what is missing."""
    p = DATA / rel
    if not p.exists():
        print(f"skipped: shared data not found: {p}")
        sys.exit(0)
    return p


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


def conll_articles(path: Path) -> list[str]:
    """CoNLL-2002 files split at -DOCSTART- into article texts (tokens joined by spaces)."""
    docs, sent, cur = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("-DOCSTART-"):
            if cur:
                docs.append(" ".join(cur))
            cur = []
            continue
        if not line.strip():
            if sent:
                cur.append(" ".join(sent))
            sent = []
            continue
        sent.append(line.split(" ")[0])
    if sent:
        cur.append(" ".join(sent))
    if cur:
        docs.append(" ".join(cur))
    return [d for d in docs if d.strip()]


def table(rows: list[tuple], headers: tuple) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(headers), line(tuple("-" * w for w in widths))] + [line(r) for r in rows])
