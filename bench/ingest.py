"""Ingest throughput into SQLite, plumbing overhead beyond the NLP models,
and search latency.

Data: CoNLL-2002 Dutch train articles (../shared/data/nl/conll2002/ned.train)
split at -DOCSTART- and cut or repeated to 500 words, each copy made distinct
by a numbered first line so that every document has its own id.

Storage is also measured directly: already analysed documents (every layer,
about 36 mentions and 26 entities each) written in batches of 64 into a new
SQLite store and, where one answers, a PostgreSQL schema; with the time spent
in entity linking, and the SQL statements sent per document.

    python bench/ingest.py [--docs 2000] [--search-docs 10000] [--mode fast]
                           [--only store] [--store-docs 320] [--pg URL|""]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import conll_articles, need, peak_rss_mb, percentile, table  # noqa: E402
from entities import StoreMeter, pg_schema_url, timed  # noqa: E402

from kroniek.runner import LocalAnalyser  # noqa: E402
from kroniek.document import Article  # noqa: E402
from kroniek.nlp.pipeline import Pipeline  # noqa: E402
from kroniek.store import Store  # noqa: E402


def corpus(n: int, words: int = 500) -> list[Article]:
    base = conll_articles(need("nl/conll2002/ned.train"))
    out = []
    for i in range(n):
        toks = base[i % len(base)].split()
        while len(toks) < words:
            toks += base[(i + len(toks)) % len(base)].split()
        text = f"Bericht {i}. " + " ".join(toks[:words])
        out.append(Article.new(text, source=f"bench:{i}", published=f"2022-{1 + i % 12:02d}-{1 + i % 28:02d}"))
    return out


def run_ingest(articles: list[Article], pipeline: Pipeline, db: str | None, batch: int = 64) -> float:
    store = Store(db) if db else None
    t0 = time.perf_counter()
    for i in range(0, len(articles), batch):
        chunk = [a.model_copy(deep=True) for a in articles[i : i + batch]]
        if store:
            known = store.known(chunk)
            chunk = [a for a in chunk if known.get(a.id) != a.content_hash]
        done, _ = next(LocalAnalyser(pipeline.mode, pipeline.lang).run([chunk]), ([], []))
        if store:
            store.put_many(done, "bench")
    return time.perf_counter() - t0


def models_only(articles: list[Article], pipeline: Pipeline) -> float:
    """The same stages called directly on the texts: the NLP cost alone."""
    pipeline.analyse_batch([a.model_copy(deep=True) for a in articles[:8]])  # load models
    stages = pipeline.stages_for("nl")
    t0 = time.perf_counter()
    for i in range(0, len(articles), 64):
        chunk = [a.model_copy(deep=True) for a in articles[i : i + 64]]
        for a in chunk:
            a.language = "nl"
        for stage in stages:
            stage(chunk)
    return time.perf_counter() - t0


def analysed_sample(articles: list[Article], pipeline: Pipeline, n: int) -> list[Article]:
    """The first n articles through the analyser (as ingest runs it)."""
    analysed: list[Article] = []
    for i in range(0, min(n, len(articles)), 64):
        done, _ = next(LocalAnalyser(pipeline.mode, pipeline.lang).run(
            [[a.model_copy(deep=True) for a in articles[i:min(n, i + 64)]]]), ([], []))
        analysed.extend(done)
    return analysed


def store_speed(analysed: list[Article], articles: list[Article], tmp: str, pg: str | None) -> None:
    """Storage and plumbing measured directly: reading the sources, and
    writing already analysed documents, 64 per batch as ingest does, into a
    new store (every layer, entity linking and counts)."""
    from kroniek.ingest import read_sources

    n = len(analysed)
    src = Path(tmp) / "corpus.jsonl"
    src.write_text("".join(a.model_dump_json(include={"id", "text", "published"}) + "\n" for a in articles),
                   encoding="utf-8")
    read = []
    w_read, c_read = timed(lambda: read.extend(read_sources([str(src)])))
    w_read, c_read = w_read / len(read), c_read / len(read)
    print(f"\nStorage measured directly: {n} analysed documents, "
          f"{sum(len(a.mentions) for a in analysed) / n:.1f} mentions, "
          f"{sum(len(a.entities) for a in analysed) / n:.1f} entities, "
          f"{sum(len(a.sentences) for a in analysed) / n:.1f} sentences, "
          f"{sum(len(a.times) + len(a.places) + len(a.quotes) for a in analysed) / n:.1f} times/places/quotes "
          "per document, written 64 per put_many into a new store")
    rows = [("SQLite + PostgreSQL", "reading the sources (JSONL)", f"{1000 * w_read:.2f} ({1000 * c_read:.2f})", "", "")]
    targets = [("SQLite", str(Path(tmp) / "write.db"), None)]
    if pg:
        url, drop = pg_schema_url(pg)
        if url:
            targets.append(("PostgreSQL", url, drop))
    sqlite_total = None
    for label, url, drop in targets:
        try:
            store = Store(url)
            meter = StoreMeter(store)
            try:
                batches = [[a.model_copy(deep=True) for a in analysed[i:i + 64]] for i in range(0, n, 64)]
                w, c = timed(lambda: [store.put_many(b, "bench") for b in batches])
                again = [[a.model_copy(deep=True) for a in b] for b in batches]
                stmts, lw, lc = meter.statements, meter.link_wall, meter.link_cpu
                meter.reset()
                w2, c2 = timed(lambda: [store.put_many(b, "bench") for b in again])
                stmts2 = meter.statements
            finally:
                meter.close()
            store.close()
        finally:
            if drop:
                drop()
        cpu = (lambda x: f" ({1000 * x / n:.2f})") if drop is None else (lambda x: "")
        rows.append((label, "storing: every layer, linking, counts", f"{1000 * w / n:.2f}{cpu(c)}",
                     f"{stmts / n:.2f}", ""))
        rows.append((label, "  of which entity linking", f"{1000 * lw / n:.2f}{cpu(lc)}", "", ""))
        rows.append((label, "re-storing the same (unchanged)", f"{1000 * w2 / n:.2f}{cpu(c2)}",
                     f"{stmts2 / n:.2f}", ""))
        if label == "SQLite":
            sqlite_total = (w_read + w / n, c_read + c / n)
            rows.append((label, "reading + storing (target < 2 ms of CPU)", f"{1000 * sqlite_total[0]:.2f} "
                         f"({1000 * sqlite_total[1]:.2f})", "", "pass" if sqlite_total[1] < 0.002 else "FAIL"))
    print(table(rows, ("store", "step", "ms/doc wall (CPU)", "SQL statements/doc", "target")))
    print("CPU: this process's CPU time, the steadier figure on a shared machine; for PostgreSQL the "
          "server's work shows in the wall clock only")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--search-docs", type=int, default=10000)
    ap.add_argument("--mode", default="fast", choices=["fast", "accurate"])
    ap.add_argument("--only", choices=["store"], help="store: only the direct storage measurement")
    ap.add_argument("--store-docs", type=int, default=320, help="analysed documents for the storage measurement")
    ap.add_argument("--pg", default="postgresql://127.0.0.1:5432/test",
                    help="PostgreSQL for the storage measurement too (empty: SQLite only)")
    args = ap.parse_args()

    if args.only == "store":
        articles = corpus(max(args.store_docs, 1))
        pipeline = Pipeline(mode=args.mode)
        with tempfile.TemporaryDirectory() as tmp:
            store_speed(analysed_sample(articles, pipeline, args.store_docs), articles, tmp, args.pg or None)
        return

    articles = corpus(args.docs)
    words = sum(len(a.text.split()) for a in articles)
    pipeline = Pipeline(mode=args.mode)
    t_models = models_only(articles, pipeline)
    t_nodb = run_ingest(articles, pipeline, None)
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        t_db = run_ingest(articles, pipeline, db)
        t_again = run_ingest(articles, pipeline, db)  # everything unchanged
        n = len(articles)
        rows = [
            ("NLP stages alone", f"{n / t_models:,.1f}", f"{1000 * t_models / n:.2f}"),
            ("analyse (no store)", f"{n / t_nodb:,.1f}", f"{1000 * t_nodb / n:.2f}"),
            ("analyse + SQLite", f"{n / t_db:,.1f}", f"{1000 * t_db / n:.2f}"),
            ("re-ingest (unchanged)", f"{n / t_again:,.1f}", f"{1000 * t_again / n:.2f}"),
        ]
        print(f"Ingest, {n} Dutch documents of 500 words ({words:,} words), mode {args.mode}, "
              f"stages {[s.name for s in pipeline.stages_for('nl')]}")
        print(table(rows, ("step", "docs/s", "ms/doc")))
        overhead = 1000 * (t_db - t_models) / n
        print(f"plumbing + storage beyond the NLP stages (difference of two noisy runs): {overhead:.2f} ms/doc")
        store_speed(analysed_sample(articles, pipeline, args.store_docs), articles, tmp, args.pg or None)
        print(f"peak RSS: {peak_rss_mb():.0f} MB")

        # Search latency on a store of --search-docs documents (bulk-filled
        # without the NLP, which search does not need).
        store = Store(db)
        extra = corpus(args.search_docs)[n:]
        for i in range(0, len(extra), 500):
            chunk = extra[i : i + 500]
            for a in chunk:
                a.language = "nl"
            store.put_many(chunk, "bench")
        vocab = sorted({w for a in articles[:300] for w in a.text.split() if w.isalpha() and len(w) > 4})
        rnd = random.Random(7)
        queries = [" ".join(rnd.sample(vocab, rnd.choice([1, 1, 2]))) for _ in range(100)]
        for q in queries[:5]:
            store.search(q)  # warm the cache
        lat, lat_f = [], []
        for q in queries:
            t0 = time.perf_counter()
            store.search(q, limit=20)
            lat.append(1000 * (time.perf_counter() - t0))
            t0 = time.perf_counter()
            store.search(q, limit=20, date_from="2022-03-01", date_to="2022-06-30", language="nl", sort="newest")
            lat_f.append(1000 * (time.perf_counter() - t0))
        print(f"\nSearch on {store.count():,} documents, 100 queries (SQLite FTS5):")
        print(table([("by rank", f"{percentile(lat, 50):.1f}", f"{percentile(lat, 95):.1f}"),
                     ("filtered, newest first", f"{percentile(lat_f, 50):.1f}", f"{percentile(lat_f, 95):.1f}")],
                    ("query", "median ms", "p95 ms (target < 20)")))


if __name__ == "__main__":
    main()
