"""The store: SQLite by default, PostgreSQL for scale, through one interface.

Writes are idempotent. A document is keyed by its id; storing the same id
with the same text changes nothing ("unchanged"), with another text it
replaces the old version and all its layers in one transaction ("replaced").
Each batch is one transaction, so a crash leaves no half-written document and
everything reported as stored is committed.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional

from sqlalchemy import create_engine, delete, event, func, insert, select, text
from sqlalchemy.engine import Connection, Engine

from ..document import (
    Article,
    Entity,
    Mention,
    Place,
    Quote,
    Sentence,
    Span,
    Speaker,
    TimeExpr,
    published_interval,
)
from . import linking
from . import schema as S

DEFAULT_DB = "kroniek.db"

STORED, UNCHANGED, REPLACED = "stored", "unchanged", "replaced"


def default_url() -> str:
    return os.environ.get("KRONIEK_DB") or DEFAULT_DB


def engine_url(url: str) -> str:
    """Accept a plain path for SQLite and postgresql:// for psycopg 3."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@dataclass
class SearchHit:
    id: str
    title: Optional[str]
    published: Optional[str]
    source: Optional[str]
    language: Optional[str]
    snippet: str
    score: float


# Marks around matched words in snippets; callers turn them into markup after escaping.
HL_START, HL_END = "\x02", "\x03"

# Search by rank ranks the most recently stored matches (see _search_sqlite).
RANK_WINDOW = 5000


def fts5_query(query: str) -> str:
    """A user's query as a safe FTS5 expression: words and "phrases" ANDed,
    OR between terms, a trailing * for prefixes. Punctuation never reaches FTS5
    syntax, so no query can be a syntax error."""
    parts = []
    for phrase, word in re.findall(r'"([^"]*)"|(\S+)', query):
        if phrase:
            words = re.findall(r"\w+", phrase)
            if words:
                parts.append('"' + " ".join(words) + '"')
        elif word == "OR" and parts and parts[-1] != "OR":
            parts.append("OR")
        else:
            prefix = word.endswith("*")
            for w in re.findall(r"\w+", word):
                parts.append(f'"{w}"' + ("*" if prefix else ""))
    while parts and parts[-1] == "OR":
        parts.pop()
    return " ".join(parts)


class Store:
    def __init__(self, url: str | None = None):
        self.url = url or default_url()
        full = engine_url(self.url)
        self.engine: Engine = create_engine(full, future=True)
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._ensure_schema()

    # --- schema ---------------------------------------------------------

    def _ensure_schema(self) -> None:
        with self.engine.begin() as conn:
            S.metadata.create_all(conn)
            # Stores made by an earlier version get the indexes added since.
            for table in S.metadata.sorted_tables:
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
            for ddl in S.fts_ddl(self.dialect):
                conn.execute(text(ddl))
            version = conn.execute(select(S.meta.c.value).where(S.meta.c.key == "schema_version")).scalar()
            if version is None:
                conn.execute(insert(S.meta).values(key="schema_version", value=str(S.SCHEMA_VERSION)))
            elif int(version) > S.SCHEMA_VERSION:
                raise RuntimeError(
                    f"the store {self.url} has schema version {version}, newer than this "
                    f"Kroniek's {S.SCHEMA_VERSION}: upgrade Kroniek"
                )

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(S.meta.c.value).where(S.meta.c.key == "schema_version")).scalar())

    def close(self) -> None:
        self.engine.dispose()

    # --- writing --------------------------------------------------------

    def known(self, articles: Iterable[Article]) -> dict[str, str]:
        """id -> content hash for those of these articles already stored."""
        ids = list({a.id for a in articles})
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                rows = conn.execute(
                    select(S.documents.c.id, S.documents.c.content_hash).where(S.documents.c.id.in_(ids[i : i + 500]))
                )
                out.update({r.id: r.content_hash for r in rows})
        return out

    def put(self, article: Article, analysis: str | None = None) -> str:
        return self.put_many([article], analysis)[0]

    def put_many(self, articles: list[Article], analysis: str | None = None) -> list[str]:
        """Store a batch in one transaction; returns stored/unchanged/replaced per article."""
        results = []
        with self.engine.begin() as conn:
            for a in articles:
                results.append(self._put(conn, a, analysis))
        return results

    def _put(self, conn: Connection, a: Article, analysis: str | None) -> str:
        d = S.documents
        row = conn.execute(select(d.c.pk, d.c.content_hash).where(d.c.id == a.id)).first()
        h = a.content_hash
        if row is not None and row.content_hash == h:
            return UNCHANGED
        begin, end = published_interval(a.published)
        values = dict(
            id=a.id, content_hash=h, source=a.source, url=a.url, title=a.title,
            published=a.published, published_begin=begin, published_end=end,
            language=a.language, text=a.text, warnings=json.dumps(a.warnings, ensure_ascii=False),
            analysis=analysis, n_quotes=len(a.quotes),
        )
        if row is None:
            pk = conn.execute(insert(d).values(**values).returning(d.c.pk)).scalar_one()
            status = STORED
        else:
            pk = row.pk
            linking.uncount_document(conn, pk)
            for t in S.LAYER_TABLES.values():
                conn.execute(delete(t).where(t.c.doc_pk == pk))
            conn.execute(d.update().where(d.c.pk == pk).values(**values))
            status = REPLACED
        linking.link_document(conn, a)
        rows = _layer_rows(a, pk)
        for name, layer in rows.items():
            if layer:
                conn.execute(insert(S.LAYER_TABLES[name]), layer)
        linking.count_document(conn, rows["entities"], +1)
        return status

    def delete(self, doc_id: str) -> bool:
        with self.engine.begin() as conn:
            pk = conn.execute(select(S.documents.c.pk).where(S.documents.c.id == doc_id)).scalar()
            if pk is None:
                return False
            linking.uncount_document(conn, pk)
            for t in S.LAYER_TABLES.values():
                conn.execute(delete(t).where(t.c.doc_pk == pk))
            conn.execute(delete(S.documents).where(S.documents.c.pk == pk))
            return True

    # --- reading --------------------------------------------------------

    def get(self, doc_id: str) -> Optional[Article]:
        with self.engine.connect() as conn:
            row = conn.execute(select(S.documents).where(S.documents.c.id == doc_id)).first()
            if row is None:
                return None
            return self._article(conn, row)

    def iter_articles(self, batch: int = 500) -> Iterator[Article]:
        """Every stored document in storage order, read in batches."""
        last = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(S.documents).where(S.documents.c.pk > last).order_by(S.documents.c.pk).limit(batch)
                ).all()
                if not rows:
                    return
                for row in rows:
                    yield self._article(conn, row)
                last = rows[-1].pk

    def _article(self, conn: Connection, row: Any) -> Article:
        layers: dict[str, list] = {}
        for name, table in S.LAYER_TABLES.items():
            rs = conn.execute(select(table).where(table.c.doc_pk == row.pk).order_by(table.c.idx)).mappings().all()
            layers[name] = [_from_row(name, r, row.text) for r in rs]
        return Article(
            id=row.id, source=row.source, url=row.url, title=row.title, published=row.published,
            language=row.language, text=row.text, warnings=json.loads(row.warnings or "[]"), **layers,
        )

    # --- entities across documents ----------------------------------------

    def entities(self, **filters: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return linking.top_entities(conn, **filters)

    def find_entities(self, ref: str) -> list[str]:
        with self.engine.connect() as conn:
            return linking.resolve(conn, ref)

    def entity(self, gid: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return linking.entity_report(conn, gid)

    def merge_entities(self, keep: str, other: str) -> None:
        with self.engine.begin() as conn:
            linking.merge(conn, other, keep, f"the user merged {other} into {keep}", action="user-merge")

    def split_entity(self, gid: str, alias: str) -> str:
        with self.engine.begin() as conn:
            return linking.split(conn, gid, alias)

    def entity_groups(self) -> set:
        with self.engine.connect() as conn:
            return linking.groups(conn)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(S.documents)).scalar_one()

    def stats(self) -> dict[str, Any]:
        """Counts per layer, and documents per language."""
        with self.engine.connect() as conn:
            out: dict[str, Any] = {"documents": conn.execute(select(func.count()).select_from(S.documents)).scalar_one()}
            for name, t in S.LAYER_TABLES.items():
                out[name] = conn.execute(select(func.count()).select_from(t)).scalar_one()
            langs = conn.execute(
                select(S.documents.c.language, func.count()).group_by(S.documents.c.language).order_by(func.count().desc())
            )
            out["languages"] = {(lang or "unknown"): n for lang, n in langs}
        return out

    # --- search ---------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        date_from: Optional[str] = None,
        date_to: Optional[str] = None,
        language: Optional[str] = None,
        source: Optional[str] = None,
        limit: int = 20,
        offset: int = 0,
        sort: str = "rank",
    ) -> tuple[list[SearchHit], int]:
        """Hits (with highlighted snippets) and the total number of matches."""
        if sort not in ("rank", "newest", "oldest"):
            raise ValueError("sort must be rank, newest or oldest")
        filters = []
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        # Interval overlap: a document dated 2022-09 matches --from 2022-09-15.
        if date_from:
            filters.append("d.published_end >= :date_from")
            params["date_from"] = published_interval(date_from)[0]
        if date_to:
            filters.append("d.published_begin <= :date_to")
            params["date_to"] = published_interval(date_to)[1]
        if language:
            filters.append("d.language = :language")
            params["language"] = language
        if source:
            filters.append("d.source = :source")
            params["source"] = source
        where = "".join(f" AND {f}" for f in filters)
        order = {
            "rank": "score DESC, d.pk DESC",
            "newest": "d.published_begin IS NULL, d.published_begin DESC, d.pk DESC",
            "oldest": "d.published_begin IS NULL, d.published_begin ASC, d.pk ASC",
        }[sort]
        # The SQL below is fixed text; every user value is a bound parameter.
        if self.dialect == "sqlite":
            return self._search_sqlite(query, where, order, params)
        params["q"] = query
        base = f"FROM documents d WHERE d.tsv @@ websearch_to_tsquery('simple', :q){where}"
        sql = (
            "SELECT id, title, published, source, language, "
            f"ts_headline('simple', text, websearch_to_tsquery('simple', :q), "
            f"'StartSel={HL_START}, StopSel={HL_END}, MaxWords=30, MinWords=12, MaxFragments=1') AS snippet, score "
            "FROM (SELECT d.pk, d.id, d.title, d.published, d.published_begin, d.source, d.language, d.text, "
            f"ts_rank(d.tsv, websearch_to_tsquery('simple', :q)) AS score {base} "
            f"ORDER BY {order} LIMIT :limit OFFSET :offset) AS d ORDER BY {order}"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(text(sql), params).all()
            total = conn.execute(text(f"SELECT count(*) {base}"), params).scalar_one()
        hits = [SearchHit(r.id, r.title, r.published, r.source, r.language, r.snippet or "", float(r.score or 0)) for r in rows]
        return hits, total

    def _search_sqlite(self, query: str, where: str, order: str, params: dict) -> tuple[list[SearchHit], int]:
        params["q"] = fts5_query(query)
        if not params["q"]:
            return [], 0
        # The full-text match runs first and once (a materialised CTE), then
        # the filters; otherwise SQLite may walk a date index and probe the
        # FTS index per row. Snippets are made for the page only.
        by_rank = order.startswith("score")
        with self.engine.connect() as conn:
            window = ""
            if by_rank:
                # BM25 over every match of a common word in a million documents
                # costs seconds; news readers want the relevant among the recent,
                # so ranking looks at the RANK_WINDOW most recently stored matches.
                floor = conn.execute(text(
                    "SELECT rowid FROM documents_fts WHERE documents_fts MATCH :q ORDER BY rowid DESC "
                    "LIMIT 1 OFFSET :w"), {"q": params["q"], "w": RANK_WINDOW - 1}).scalar()
                if floor is not None:
                    window = " AND rowid >= :floor"
                    params["floor"] = floor
            score = "-bm25(documents_fts, 2.0, 1.0)" if by_rank else "0.0"
            matches = (f"WITH m AS MATERIALIZED (SELECT rowid AS pk, {score} AS score "
                       f"FROM documents_fts WHERE documents_fts MATCH :q{window}) ")
            if where:
                # Filter and order on the covering index, then read the page's rows.
                page = conn.execute(text(
                    f"{matches}SELECT d.pk, m.score, count(*) OVER () AS total "
                    "FROM m JOIN documents d INDEXED BY ix_documents_filter ON d.pk = m.pk "
                    f"WHERE 1=1{where} ORDER BY {order} LIMIT :limit OFFSET :offset"), params).all()
            else:
                page = conn.execute(text(
                    f"{matches}SELECT m.pk AS pk, m.score, 0 AS total FROM m "
                    f"ORDER BY {order.replace('d.pk', 'm.pk')} LIMIT :limit OFFSET :offset"), params).all() \
                    if by_rank else None
                if page is None:  # newest/oldest need the dates
                    page = conn.execute(text(
                        f"{matches}SELECT d.pk, m.score, 0 AS total "
                        "FROM m JOIN documents d INDEXED BY ix_documents_filter ON d.pk = m.pk "
                        f"ORDER BY {order} LIMIT :limit OFFSET :offset"), params).all()
            scores = {r.pk: r.score for r in page}
            rows = []
            if page:
                keys = {f"k{i}": r.pk for i, r in enumerate(page)}
                found = {r.pk: r for r in conn.execute(text(
                    "SELECT pk, id, title, published, source, language FROM documents "
                    f"WHERE pk IN ({', '.join(':' + k for k in keys)})"), keys)}
                rows = [found[r.pk] for r in page if r.pk in found]
            # The total counts every match, not only the ranked window.
            if not where:
                total = conn.execute(text("SELECT count(*) FROM documents_fts WHERE documents_fts MATCH :q"),
                                     {"q": params["q"]}).scalar_one()
            elif page and not window:
                total = page[0].total
            else:
                total = conn.execute(text(
                    "WITH m AS MATERIALIZED (SELECT rowid AS pk FROM documents_fts WHERE documents_fts MATCH :q) "
                    "SELECT count(*) FROM m JOIN documents d INDEXED BY ix_documents_filter ON d.pk = m.pk "
                    f"WHERE 1=1{where}"), params).scalar_one()
            snippets: dict[int, str] = {}
            if rows:
                pks = {f"p{i}": r.pk for i, r in enumerate(rows)}
                marks = ", ".join(f":{k}" for k in pks)
                snip_sql = (
                    f"SELECT rowid AS pk, snippet(documents_fts, 1, '{HL_START}', '{HL_END}', '…', 16) AS snippet "
                    f"FROM documents_fts WHERE documents_fts MATCH :q AND rowid IN ({marks})"
                )
                snippets = {r.pk: r.snippet for r in conn.execute(text(snip_sql), {"q": params["q"], **pks})}
        hits = [SearchHit(r.id, r.title, r.published, r.source, r.language, snippets.get(r.pk, ""),
                          float(scores[r.pk])) for r in rows]
        return hits, total


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL: readers never block the writer; a killed process loses only its
    # open transaction.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _layer_rows(a: Article, pk: int) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    rows["sentences"] = [dict(doc_pk=pk, idx=i, start=s.start, end=s.end) for i, s in enumerate(a.sentences)]
    rows["mentions"] = [dict(doc_pk=pk, idx=i, **m.model_dump()) for i, m in enumerate(a.mentions)]
    n_mentions: dict[str, int] = {}
    for m in a.mentions:
        if m.entity:
            n_mentions[m.entity] = n_mentions.get(m.entity, 0) + 1
    begin = published_interval(a.published)[0]
    rows["entities"] = [
        dict(doc_pk=pk, idx=i, **{**e.model_dump(), "aliases": json.dumps(e.aliases, ensure_ascii=False)},
             link_reason=linking.link_reason(e), n_mentions=n_mentions.get(e.id, 0), published_begin=begin)
        for i, e in enumerate(a.entities)
    ]
    rows["times"] = [dict(doc_pk=pk, idx=i, **t.model_dump()) for i, t in enumerate(a.times)]
    rows["places"] = [dict(doc_pk=pk, idx=i, **p.model_dump()) for i, p in enumerate(a.places)]
    rows["quotes"] = []
    for i, q in enumerate(a.quotes):
        sp, cue = q.speaker, q.cue
        rows["quotes"].append(dict(
            doc_pk=pk, idx=i, start=q.start, end=q.end, text=q.text, kind=q.kind, hearsay=q.hearsay,
            speaker_start=sp.start if sp else None, speaker_end=sp.end if sp else None,
            speaker_text=sp.text if sp else None, speaker_name=sp.name if sp else None,
            speaker_entity=sp.entity if sp else None,
            cue_start=cue.start if cue else None, cue_end=cue.end if cue else None,
            cue_text=cue.text if cue else None,
        ))
    return rows


def _from_row(layer: str, r: Any, doc_text: str) -> Any:
    if layer == "sentences":
        return Sentence(start=r["start"], end=r["end"])
    if layer == "mentions":
        return Mention(start=r["start"], end=r["end"], text=r["text"], type=r["type"], entity=r["entity"])
    if layer == "entities":
        return Entity(id=r["id"], name=r["name"], type=r["type"], aliases=json.loads(r["aliases"]),
                      geonames_id=r["geonames_id"], global_id=r["global_id"])
    if layer == "times":
        return TimeExpr(**{k: r[k] for k in TimeExpr.model_fields})
    if layer == "places":
        return Place(**{k: r[k] for k in Place.model_fields})
    speaker = cue = None
    if r["speaker_start"] is not None:
        speaker = Speaker(start=r["speaker_start"], end=r["speaker_end"], text=r["speaker_text"],
                          name=r["speaker_name"], entity=r["speaker_entity"])
    if r["cue_start"] is not None:
        cue = Span(start=r["cue_start"], end=r["cue_end"], text=r["cue_text"])
    return Quote(start=r["start"], end=r["end"], text=r["text"], kind=r["kind"], hearsay=bool(r["hearsay"]),
                 speaker=speaker, cue=cue)


def open_store(url: str | None = None) -> Store:
    return Store(url)
