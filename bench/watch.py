"""Streaming: `kroniek watch` over a directory and a feed for many rounds, with
the memory of the watching process at each round.

Each round drops new 500-word Dutch articles (CoNLL-2002 train articles, as in
bench/throughput.py) into a directory and rewrites a local RSS feed with its
latest entries, as a news site's feed keeps its last items: most of the
feed's entries were stored in earlier rounds and must be skipped without
analysis. The rounds run in this process through the same Watcher, analyser
and ingest as the CLI's `kroniek watch`, into SQLite.

Reports documents stored, feed entries found unchanged, documents/s, and at
ten points of the run the process RSS, Python's count of allocated blocks
and the size of the store (flat memory is the claim: the watcher keeps only a
high-water mark per directory; the store's SQLite page cache is bounded at
64 MB per connection).

    python bench/watch.py [--rounds 40] [--files 40] [--feed 20] [--mode fast]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's kroniek
from _common import conll_articles, need, rss_mb, table  # noqa: E402

from kroniek.runner import LocalAnalyser, ingest  # noqa: E402
from kroniek.store import Store  # noqa: E402
from kroniek.watch import Watcher  # noqa: E402


def article(base: list[str], i: int, words: int = 500) -> str:
    toks = base[i % len(base)].split()
    j = i
    while len(toks) < words:
        j += 1
        toks += base[j % len(base)].split()
    return f"Bericht {i}. " + " ".join(toks[:words])


def write_feed(path: Path, entries: list[tuple[int, str]]) -> None:
    """An RSS 2.0 file holding ``entries`` (number, text), newest first."""
    t0 = datetime(2022, 9, 1, tzinfo=timezone.utc)
    items = "".join(
        f"<item><title>Feedbericht {n}</title><link>https://example.org/nieuws/{n}</link>"
        f"<guid>https://example.org/nieuws/{n}</guid><pubDate>{format_datetime(t0 + timedelta(hours=n))}</pubDate>"
        f"<description>{escape(text)}</description></item>"
        for n, text in entries)
    tmp = path.with_suffix(".tmp")
    tmp.write_text('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                   f"<title>Voorbeeld</title><link>https://example.org/</link><description>bench</description>"
                   f"{items}</channel></rss>", encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a feed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--files", type=int, default=40, help="new files per round")
    ap.add_argument("--feed", type=int, default=20, help="entries in the feed; 2 new per round")
    ap.add_argument("--mode", default="fast")
    args = ap.parse_args()
    base = conll_articles(need("nl/conll2002/ned.train"))
    with tempfile.TemporaryDirectory() as tmp:
        inbox, feed = Path(tmp) / "inbox", Path(tmp) / "feed.xml"
        inbox.mkdir()
        store = Store(str(Path(tmp) / "watch.db"))
        analyser = LocalAnalyser(args.mode, "auto")
        analyser.warm()
        watcher = Watcher([str(inbox), str(feed)])
        rows, n_file, n_feed = [], 0, 0
        stored = unchanged = 0
        t0 = time.perf_counter()
        for r in range(1, args.rounds + 1):
            for _ in range(args.files):
                day = f"2022-{1 + n_file % 12:02d}-{1 + n_file % 28:02d}"
                (inbox / f"nieuws-{n_file:06d}.txt").write_text(f"date {day}\n{article(base, n_file)}", encoding="utf-8")
                n_file += 1
            n_feed += 2
            write_feed(feed, [(n, article(base, 100_000 + n)) for n in range(n_feed, max(0, n_feed - args.feed), -1)])
            report = ingest(watcher.new_items(), store, analyser)
            assert not report.failures, report.failures[:3]
            stored += report.stored + report.replaced
            unchanged += report.unchanged
            if r == 1 or r % max(1, args.rounds // 10) == 0:
                size = sum(f.stat().st_size for f in Path(tmp).glob("watch.db*")) / 2**20
                rows.append((r, f"{store.count():,}", f"{unchanged:,}", f"{rss_mb():.0f}",
                             f"{sys.getallocatedblocks():,}", f"{size:.0f}"))
        secs = time.perf_counter() - t0
        expected = n_file + n_feed
        print(f"{args.rounds} rounds of {args.files} new files and a feed of the latest {args.feed} entries "
              f"(2 new a round), mode {args.mode}, SQLite")
        print(table(rows, ("round", "documents stored", "feed entries unchanged", "RSS MB",
                           "Python blocks", "store MB")))
        print(f"{stored:,} stored (expected {expected:,}), {unchanged:,} unchanged, "
              f"{stored / secs:.1f} documents/s over {secs:.0f} s")
        if store.count() != expected:
            raise SystemExit(f"stored {store.count()} documents, expected {expected}")


if __name__ == "__main__":
    main()
