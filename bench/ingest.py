"""Ingest throughput into SQLite, plumbing overhead beyond the NLP models,
and search latency.

Data: CoNLL-2002 Dutch train articles (../shared/data/nl/conll2002/ned.train)
split at -DOCSTART- and cut or repeated to 500 words, each copy made distinct
by a numbered first line so that every document has its own id.

    python bench/ingest.py [--docs 2000] [--search-docs 10000] [--mode fast]
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--search-docs", type=int, default=10000)
    ap.add_argument("--mode", default="fast", choices=["fast", "accurate"])
    args = ap.parse_args()

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
        # The same cost measured directly: reading and the batch loop, then the
        # store writes of already analysed documents (every layer, entity linking).
        analysed = []
        for i in range(0, min(n, 300), 64):
            done, _ = next(LocalAnalyser(pipeline.mode, pipeline.lang).run(
                [[a.model_copy(deep=True) for a in articles[i:i + 64]]]), ([], []))
            analysed.extend(done)
        fresh = Store(str(Path(tmp) / "write.db"))
        t0 = time.perf_counter()
        for i in range(0, len(analysed), 64):
            fresh.put_many(analysed[i:i + 64], "bench")
        t_write = (time.perf_counter() - t0) / len(analysed)
        src = Path(tmp) / "corpus.jsonl"
        src.write_text("".join(a.model_dump_json(include={"id", "text", "published"}) + "\n" for a in articles),
                       encoding="utf-8")
        from kroniek.ingest import read_sources

        t0 = time.perf_counter()
        read = sum(1 for _ in read_sources([str(src)]))
        t_read = (time.perf_counter() - t0) / read
        print(f"measured directly: reading {1000 * t_read:.2f} ms/doc + storing with every layer and entity "
              f"linking {1000 * t_write:.2f} ms/doc = {1000 * (t_read + t_write):.2f} ms/doc (target < 2 ms)")
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
