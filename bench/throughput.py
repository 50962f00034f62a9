"""End-to-end throughput: read, full analysis with every stage that exists,
store. 500-word Dutch articles (CoNLL-2002 train articles, cut or extended to
500 words, each made distinct), as a JSONL file read by the real reader.

Reports documents/s for --workers 1 and 2 into SQLite, per mode, the ratio of
the modes, the same through a Dask LocalCluster of 2 workers into PostgreSQL
(skipped when no server answers), documents/s per stage, and worker memory at
the start and end of a long run (--long N documents).

    python bench/throughput.py [--docs 600] [--modes fast,accurate] [--long 0]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import conll_articles, need, rss_mb, table  # noqa: E402

from kroniek.ingest import read_sources  # noqa: E402
from kroniek.nlp.pipeline import Pipeline  # noqa: E402
from kroniek.runner import analyse_records, ingest, make_analyser  # noqa: E402
from kroniek.store import Store  # noqa: E402

PG = os.environ.get("KRONIEK_TEST_PG", "postgresql://127.0.0.1:5432/test")


def write_corpus(path: Path, n: int, words: int = 500) -> int:
    base = conll_articles(need("nl/conll2002/ned.train"))
    total = 0
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            toks = base[i % len(base)].split()
            j = i
            while len(toks) < words:
                j += 1
                toks += base[j % len(base)].split()
            text = f"Bericht {i}. " + " ".join(toks[:words])
            total += len(text.split())
            fh.write(json.dumps({"id": f"bench-{i}", "text": text, "language": "nl",
                                 "published": f"2022-{1 + i % 12:02d}-{1 + i % 28:02d}"}) + "\n")
    return total


def run(src: Path, db: str, mode: str, workers: int = 1, cluster: str | None = None) -> float:
    store = Store(db)
    analyser = make_analyser(mode, "auto", workers=workers, cluster=cluster)
    try:
        # Warm-up outside the clock: models load once per worker.
        analyser.warm()
        t0 = time.perf_counter()
        report = ingest(read_sources([str(src)]), store, analyser, batch_size=32)
        elapsed = time.perf_counter() - t0
    finally:
        analyser.close()
    assert not report.failures, report.failures[:3]
    return report.stored / elapsed


def per_stage(src: Path, mode: str, n: int = 200) -> list[tuple]:
    records = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines()[:n]]
    pipeline = Pipeline(mode=mode)
    from kroniek.document import Article

    pipeline.analyse_batch([Article.from_dict({"id": "w", "text": records[0]["text"], "language": "nl"})])
    pipeline.timings.clear()
    for i in range(0, len(records), 32):
        pipeline.analyse_batch([Article.from_dict({k: r[k] for k in ("id", "text", "language", "published")})
                                for r in records[i:i + 32]])
    return [(name, f"{docs / secs:,.1f}", f"{1000 * secs / docs:.2f}") for name, (secs, docs) in pipeline.timings.items()]


def pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG, connect_timeout=3):
            return True
    except Exception:
        return False


def long_run(src: Path, mode: str, n: int) -> tuple[float, float]:
    """Worker RSS after the first 1,000 documents and at the end of n documents."""
    records = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines()]
    first = last = 0.0
    for i in range(0, n, 32):
        batch = [dict(records[(i + k) % len(records)], id=f"long-{i + k}") for k in range(32)]
        analyse_records(batch, mode, "auto")
        if i + 32 >= 1000 and not first:
            first = rss_mb()
    last = rss_mb()
    return first, last


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=600)
    ap.add_argument("--modes", default="fast,accurate")
    ap.add_argument("--long", type=int, default=0, help="documents for the memory run (e.g. 20000)")
    args = ap.parse_args()
    modes = args.modes.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "corpus.jsonl"
        words = write_corpus(src, args.docs)
        print(f"{args.docs} Dutch documents, {words / args.docs:.0f} words each; {os.cpu_count()} cores")
        pipeline = Pipeline(mode=modes[0])
        print(f"stages (nl): {[s.name for s in pipeline.stages_for('nl')]}\n")
        rows = []
        rates: dict[tuple, float] = {}
        for mode in modes:
            for workers in (1, 2):
                rate = run(src, str(Path(tmp) / f"{mode}-{workers}.db"), mode, workers=workers)
                rates[(mode, workers)] = rate
                rows.append((mode, f"--workers {workers}", "SQLite", f"{rate:,.1f}", f"{rate * 86400 / 1e6:.2f} M"))
            if pg_available():
                import psycopg

                schema = f"bench_{os.getpid()}_{mode}"
                with psycopg.connect(PG, autocommit=True) as c:
                    c.execute(f'CREATE SCHEMA "{schema}"')
                try:
                    rate = run(src, f"{PG}?options=-csearch_path%3D{schema}", mode, cluster="local:2")
                    rows.append((mode, "--cluster local:2", "PostgreSQL", f"{rate:,.1f}", f"{rate * 86400 / 1e6:.2f} M"))
                finally:
                    with psycopg.connect(PG, autocommit=True) as c:
                        c.execute(f'DROP SCHEMA "{schema}" CASCADE')
            else:
                rows.append((mode, "--cluster local:2", "PostgreSQL", "skipped: no server", ""))
        print(table(rows, ("mode", "parallelism", "store", "docs/s (fast target >= 30)", "per day")))
        for mode in modes:
            print(f"{mode}: 2 workers / 1 worker = {rates[(mode, 2)] / rates[(mode, 1)]:.2f}")
        if len(modes) == 2:
            print(f"accurate / fast (2 workers) = {rates[('accurate', 2)] / rates[('fast', 2)]:.3f}")
        for mode in modes:
            print(f"\nper stage, mode {mode}, one process:")
            print(table(per_stage(src, mode), ("stage", "docs/s", "ms/doc")))
        if args.long:
            first, last = long_run(src, modes[0], args.long)
            print(f"\nmemory of one worker over {args.long:,} documents ({modes[0]}): "
                  f"{first:.0f} MB after 1,000, {last:.0f} MB at the end")


if __name__ == "__main__":
    main()
