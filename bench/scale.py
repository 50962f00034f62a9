"""A large store: build N synthetic documents (default 1,000,000), then
measure full-text search and entity-page latency on SQLite and PostgreSQL.

How the store is built: texts are sentences drawn from the CoNLL-2002 Dutch
train articles (../shared/data/nl/conll2002/ned.train), 8 to 14 per
document, with person, organisation and place names drawn from a Zipf-like
distribution over 20,000 synthetic entities (so a few names are very common,
as Putin or Kyiv are in war news), dates spread over 2020-2024, and one quote
per document by one of its people. Rows are written in bulk straight into
the schema's tables (documents, mentions, entities with their global ids,
quotes, global_entities, entity_aliases); the full-text index is filled by
the same triggers (SQLite) and generated tsvector column (PostgreSQL) as in
normal ingest. On PostgreSQL the rows arrive by COPY with the secondary
indexes (the GIN index included) dropped, which are built once at the end,
followed by VACUUM ANALYZE (what autovacuum does to a live store). Analysis
is not run: this measures the store, bench/throughput.py measures the analysis.

Search is measured with 100 queries of one or two words drawn from the
CoNLL vocabulary (mostly rare words, some that match most documents);
entity pages for 100 entities drawn by the same Zipf law as the names.

    python bench/scale.py [--docs 1000000] [--engines sqlite,postgresql] [--db PATH] [--prewarm]

On PostgreSQL the server's memory and planner settings decide most of the
latency (README, "PostgreSQL for a large store"): they are printed with the
figures. --prewarm first loads the store's tables into the server's buffers
with pg_prewarm, as they are on a server that has been serving them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's kroniek
from _common import conll_articles, need, percentile, table  # noqa: E402

from sqlalchemy import func, insert, select, text  # noqa: E402

from kroniek.document import published_interval  # noqa: E402
from kroniek.store import Store  # noqa: E402
from kroniek.store import schema as S  # noqa: E402

PG = os.environ.get("KRONIEK_TEST_PG", "postgresql://127.0.0.1:5432/test")
N_ENTITIES = 20_000
TYPES = ("PER", "ORG", "LOC")


def sentences() -> list[str]:
    out = []
    for art in conll_articles(need("nl/conll2002/ned.train")):
        out.extend(s.strip() + "." for s in art.split(" . ") if len(s.split()) > 4)
    return out


def zipf_weights(n: int) -> list[float]:
    return [1.0 / (i + 1) ** 1.1 for i in range(n)]


def build(store: Store, n_docs: int, seed: int = 11, batch: int = 5000) -> float:
    rnd = random.Random(seed)
    sents = sentences()
    names = [(f"{rnd.choice(['Jan', 'Olga', 'Pieter', 'Iryna', 'Sergej', 'Anna'])} Naam{i}", "PER") if i % 3 == 0 else
             (f"Organisatie{i}", "ORG") if i % 3 == 1 else (f"Plaats{i}", "LOC") for i in range(N_ENTITIES)]
    gids = [f"G{i:06d}" for i in range(N_ENTITIES)]
    weights = zipf_weights(N_ENTITIES)
    cum = list(__import__("itertools").accumulate(weights))
    t0 = time.perf_counter()
    with store.engine.begin() as conn:
        start_pk = conn.execute(select(func.coalesce(func.max(S.documents.c.pk), 0))).scalar()
        conn.execute(insert(S.global_entities), [dict(id=g, name=n, type=t, geonames_id=None, surname_only=False)
                                                 for g, (n, t) in zip(gids, names)])
        conn.execute(insert(S.entity_aliases), [dict(global_id=g, alias=n, key=n.lower(), language="nl")
                                                for g, (n, t) in zip(gids, names)])
    pg = store.dialect == "postgresql"
    tables = (S.documents, S.mentions, S.entities, S.quotes)
    if pg:
        # Bulk load as PostgreSQL's manual advises: secondary indexes (the GIN
        # index of the full-text column included) are dropped, rows arrive by
        # COPY, and the indexes are built once afterwards. The tsvector column
        # is generated per row during COPY, as in normal ingest.
        with store.engine.begin() as conn:
            for t in tables:
                for index in t.indexes:
                    conn.execute(text(f'DROP INDEX IF EXISTS "{index.name}"'))
            conn.execute(text("DROP INDEX IF EXISTS ix_documents_tsv"))
    for lo in range(0, n_docs, batch):
        docs, ments, ents, quotes = [], [], [], []
        for i in range(lo, min(n_docs, lo + batch)):
            pk = start_pk + i + 1
            chosen = sorted(set(rnd.choices(range(N_ENTITIES), cum_weights=cum, k=4)))
            parts, spans = [], []
            pos = 0
            body = rnd.sample(sents, rnd.randint(8, 14))
            for j, s in enumerate(body):
                if j < len(chosen):
                    name = names[chosen[j]][0]
                    s = f"{name} {s}"
                    spans.append((pos, pos + len(name), chosen[j]))
                parts.append(s)
                pos += len(s) + 1
            txt = " ".join(parts)
            day = f"{2020 + rnd.randrange(5)}-{1 + rnd.randrange(12):02d}-{1 + rnd.randrange(28):02d}"
            b, e = published_interval(day)
            docs.append(dict(pk=pk, id=f"syn-{i}", content_hash=f"h{i}", source=f"synthetic/{i % 50}", url=None,
                             title=f"Bericht {i}", published=day, published_begin=b, published_end=e, language="nl",
                             text=txt, warnings="[]", analysis="synthetic", n_quotes=1))
            for k, (s0, s1, ent) in enumerate(spans):
                ments.append(dict(doc_pk=pk, idx=k, start=s0, end=s1, text=names[ent][0], type=names[ent][1],
                                  entity=f"e{k + 1}"))
                ents.append(dict(doc_pk=pk, idx=k, id=f"e{k + 1}", name=names[ent][0], type=names[ent][1],
                                 aliases=json.dumps([names[ent][0]]), geonames_id=None, global_id=gids[ent],
                                 link_reason="synthetic", n_mentions=1, published_begin=b))
            speaker = next(((k, s) for k, s in enumerate(spans) if names[s[2]][1] == "PER"), None)
            if speaker is not None and len(parts) > 1:
                k, (s0, s1, ent) = speaker
                q0 = len(parts[0]) + 1
                q1 = q0 + len(parts[1])
                quotes.append(dict(doc_pk=pk, idx=0, start=q0, end=q1, text=txt[q0:q1], kind="according_to",
                                   hearsay=False, speaker_start=s0, speaker_end=s1, speaker_text=txt[s0:s1],
                                   speaker_name=names[ent][0], speaker_entity=f"e{k + 1}", cue_start=None,
                                   cue_end=None, cue_text=None))
        with store.engine.begin() as conn:
            if pg:
                _copy(conn, S.documents, docs)
                _copy(conn, S.mentions, ments)
                _copy(conn, S.entities, ents)
                _copy(conn, S.quotes, quotes)
            else:
                conn.execute(insert(S.documents), docs)
                conn.execute(insert(S.mentions), ments)
                conn.execute(insert(S.entities), ents)
                if quotes:
                    conn.execute(insert(S.quotes), quotes)
        done = min(n_docs, lo + batch)
        if done % 100_000 == 0 or done == n_docs:
            print(f"  {done:,} documents, {time.perf_counter() - t0:.0f} s", flush=True)
    if pg:
        t1 = time.perf_counter()
        with store.engine.begin() as conn:
            conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
            for t in tables:
                for index in t.indexes:
                    index.create(conn, checkfirst=True)
            for ddl in S.fts_ddl(store.dialect):
                conn.execute(text(ddl))
        print(f"  indexes built in {time.perf_counter() - t1:.0f} s", flush=True)
    with store.engine.begin() as conn:
        # The counts that ingest keeps in step, made once for the bulk rows.
        conn.execute(text(
            "UPDATE global_entities SET "
            "n_docs = (SELECT count(DISTINCT doc_pk) FROM entities e WHERE e.global_id = global_entities.id), "
            "n_mentions = (SELECT coalesce(sum(n_mentions), 0) FROM entities e WHERE e.global_id = global_entities.id), "
            "first_seen = (SELECT min(published_begin) FROM entities e WHERE e.global_id = global_entities.id), "
            "last_seen = (SELECT max(published_begin) FROM entities e WHERE e.global_id = global_entities.id)"))
    if pg:
        # What autovacuum does to a live store: statistics and the visibility map.
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - t0


def _copy(conn, table_, rows: list[dict]) -> None:
    """Rows into a PostgreSQL table through COPY (psycopg 3)."""
    if not rows:
        return
    cols = list(rows[0])
    names = ", ".join(f'"{c}"' for c in cols)
    with conn.connection.driver_connection.cursor() as cur:
        with cur.copy(f'COPY "{table_.name}" ({names}) FROM STDIN') as cp:
            for r in rows:
                cp.write_row([r[c] for c in cols])


def measure(store: Store, n_queries: int = 100, seed: int = 5) -> list[tuple]:
    rnd = random.Random(seed)
    vocab = sorted({w for s in sentences()[:3000] for w in s.split() if w.isalpha() and len(w) > 3})
    queries = [" ".join(rnd.sample(vocab, rnd.choice([1, 1, 2]))) for _ in range(n_queries)]
    weights = zipf_weights(N_ENTITIES)
    entity_ids = [f"G{i:06d}" for i in rnd.choices(range(N_ENTITIES), weights=weights, k=n_queries)]
    rows = []
    for label, fn in (
        ("search, by rank", lambda q, e: store.search(q, limit=20)),
        ("search, filtered + newest", lambda q, e: store.search(q, limit=20, date_from="2022-01-01",
                                                                   date_to="2022-12-31", language="nl", sort="newest")),
        ("search, filtered, by rank", lambda q, e: store.search(q, limit=20, date_from="2022-01-01",
                                                                   date_to="2022-12-31", language="nl")),
        ("entity page", lambda q, e: store.entity(e)),
    ):
        for q, e in list(zip(queries, entity_ids))[:5]:
            fn(q, e)  # warm caches
        server = _server_cpu(store)  # the PostgreSQL backend's CPU time, where it can be read
        lat, cpu = [], []
        for q, e in zip(queries, entity_ids):
            t0, c0, s0 = time.perf_counter(), time.process_time(), server()
            fn(q, e)
            lat.append(1000 * (time.perf_counter() - t0))
            cpu.append(1000 * (time.process_time() - c0 + server() - s0))
        rows.append((label, f"{percentile(lat, 50):.1f}", f"{percentile(lat, 95):.1f}", f"{max(lat):.1f}",
                     f"{percentile(cpu, 50):.1f}", f"{percentile(cpu, 95):.1f}"))
    return rows


def _server_cpu(store: Store):
    """A function giving the CPU seconds of the PostgreSQL backend serving this store's
    (single, pooled) connection, read from /proc when the server runs on this machine;
    0 for SQLite, which runs in this process."""
    if store.dialect != "postgresql":
        return lambda: 0.0
    with store.engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    path = Path(f"/proc/{pid}/schedstat")

    def read() -> float:
        try:
            return int(path.read_text().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            return 0.0
    return read


# The relations a search or an entity page reads; loaded last, so kept when the
# buffers are smaller than all of them.
PREWARM_TABLES = ("quotes", "global_entities", "entity_aliases", "entities", "documents")


def prewarm(store: Store) -> None:
    """Load the searched tables, their TOAST tables and their indexes into the
    PostgreSQL buffers (the pg_prewarm extension, shipped with PostgreSQL)."""
    t0 = time.perf_counter()
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        try:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
        except Exception as e:  # not installed, or not allowed to this user
            print(f"  prewarm skipped: {str(e).splitlines()[0]}")
            return
        schema = conn.execute(text("SELECT extnamespace::regnamespace::text FROM pg_extension "
                                   "WHERE extname = 'pg_prewarm'")).scalar()
        blocks = 0
        for table_ in PREWARM_TABLES:
            rels = conn.execute(text(
                "SELECT c.oid FROM pg_class c WHERE c.oid = CAST(:t AS regclass) "
                "UNION ALL SELECT c.reltoastrelid FROM pg_class c WHERE c.oid = CAST(:t AS regclass) AND c.reltoastrelid <> 0 "
                "UNION ALL SELECT i.indexrelid FROM pg_index i WHERE i.indrelid = CAST(:t AS regclass)"),
                {"t": table_}).scalars().all()
            for oid in rels:
                blocks += conn.execute(text(f'SELECT "{schema}".pg_prewarm(CAST(:oid AS regclass))'), {"oid": oid}).scalar()
    print(f"  prewarmed {blocks * 8 / 1024:,.0f} MB in {time.perf_counter() - t0:.0f} s")


def server_settings(store: Store) -> str:
    """The PostgreSQL settings that decide search latency, and the store's size."""
    with store.engine.connect() as conn:
        vals = {name: conn.execute(text(f"SHOW {name}")).scalar()
                for name in ("shared_buffers", "effective_cache_size", "random_page_cost")}
        size = conn.execute(text("SELECT pg_size_pretty(pg_total_relation_size('documents'))")).scalar()
    return ", ".join(f"{k} {v}" for k, v in vals.items()) + f"; documents with TOAST and indexes: {size}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--db", default=None, help="SQLite file to build or reuse (default: a temporary file)")
    ap.add_argument("--prewarm", action="store_true", help="PostgreSQL: load the store into the server's buffers first")
    args = ap.parse_args()
    for engine in args.engines.split(","):
        if engine == "sqlite":
            path = args.db or f"/tmp/kroniek-scale-{args.docs}.db"
            store = Store(path)
        else:
            try:
                import psycopg

                schema = f"scale_{args.docs}"
                with psycopg.connect(PG, autocommit=True, connect_timeout=3) as c:
                    c.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            except Exception as e:
                print(f"postgresql: skipped ({e})")
                continue
            store = Store(f"{PG}?options=-csearch_path%3D{schema}")
        have = store.count()
        if have < args.docs:
            print(f"{engine}: building {args.docs - have:,} synthetic documents ...")
            secs = build(store, args.docs - have)
            print(f"{engine}: built in {secs:.0f} s ({(args.docs - have) / secs:,.0f} docs/s)")
        print(f"\n{engine}: {store.count():,} documents")
        if store.dialect == "postgresql":
            print(f"  server: {server_settings(store)}")
            if args.prewarm:
                prewarm(store)
        load = os.getloadavg()[0]
        print(table(measure(store), ("query", "median ms", "p95 ms", "max ms", "cpu median ms", "cpu p95 ms")))
        print(f"targets: search p95 <= 100 ms, entity page p95 <= 200 ms. Wall-clock latency over 100 queries each;\n"
              f"cpu: CPU time of this process and (PostgreSQL on this machine) its server backend, about the\n"
              f"latency on an idle machine. Load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, "
              f"{os.cpu_count()} CPUs.\n")


if __name__ == "__main__":
    main()
