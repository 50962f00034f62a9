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
from json.encoder import encode_basestring
from operator import attrgetter
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional

from sqlalchemy import bindparam, create_engine, delete, event, func, insert, select, text
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

# PostgreSQL planner statistics are refreshed after this many documents
# written, then after each doubling (see Store._analyse).
ANALYSE_AFTER = 500


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


class Total(int):
    """A number of matches; ``exact`` is False when it is an estimate (PostgreSQL, for
    queries with many matches: see kroniek.store.queries.match_page). Printed, an
    estimate reads "about N"."""

    exact: bool

    def __new__(cls, n: int, exact: bool = True) -> "Total":
        obj = super().__new__(cls, n)
        obj.exact = exact
        return obj

    def __str__(self) -> str:
        return str(int(self)) if self.exact else f"about {int(self)}"

    def __format__(self, spec: str) -> str:
        return str(self) if not spec else format(int(self), spec)

    def __repr__(self) -> str:
        return f"Total({int(self)}, exact={self.exact})"


# Marks around matched words in snippets; callers turn them into markup after escaping.
HL_START, HL_END = "\x02", "\x03"

# Search by rank ranks the RANK_WINDOW most recently stored matches by relevance;
# older matches follow, newest first (see kroniek.store.queries.match_page).
RANK_WINDOW = 1000


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
        # Documents written since this Store last refreshed PostgreSQL's
        # planner statistics, and how many it had written before then.
        self._unanalysed, self._analysed = 0, 0

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
        """Store a batch in one transaction; returns stored/unchanged/replaced per article.

        The batch is written a table at a time: one lookup of the ids, one
        insert of the new documents, one linking pass, one insert per layer
        and one update of the entity counts, whatever the batch size. An id
        that occurs twice in a batch is handled as if stored one after the
        other."""
        results: list[str] = []
        with self.engine.begin() as conn:
            part: list[Article] = []
            ids: set[str] = set()
            for a in articles:
                if a.id in ids:
                    results += self._put_part(conn, part, analysis)
                    part, ids = [], set()
                part.append(a)
                ids.add(a.id)
            results += self._put_part(conn, part, analysis)
        if self.dialect == "postgresql":
            self._unanalysed += sum(r != UNCHANGED for r in results)
            if self._unanalysed >= max(ANALYSE_AFTER, self._analysed):
                self._analyse()
        return results

    def _analyse(self) -> None:
        """Refresh PostgreSQL's statistics of the tables the write path reads.
        Without them (a new store, autovacuum off or behind) the planner
        takes the linking lookups (``key IN (...)``) for large fractions of
        small tables and scans them whole: 5 ms a lookup at 10,000 entities,
        growing with the store. Run after the first ANALYSE_AFTER documents
        and then each time the documents written have doubled."""
        with self.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE documents, entities, global_entities, entity_keys, entity_surnames, "
                                 "entity_aliases")
        self._analysed += self._unanalysed
        self._unanalysed = 0

    def _put_part(self, conn: Connection, articles: list[Article], analysis: str | None) -> list[str]:
        """Articles with distinct ids, in the batch's transaction."""
        if not articles:
            return []
        d = S.documents
        have: dict[str, Any] = {}
        q = select(d.c.id, d.c.pk, d.c.content_hash).where(d.c.id.in_(bindparam("ids", expanding=True)))
        ids = [a.id for a in articles]
        for i in range(0, len(ids), 500):
            have.update((r.id, r) for r in conn.execute(q, {"ids": ids[i:i + 500]}))
        statuses, new, old = [], [], []
        for a in articles:
            h = a.content_hash
            row = have.get(a.id)
            if row is not None and row.content_hash == h:
                statuses.append(UNCHANGED)
                continue
            begin, end = published_interval(a.published)
            values = dict(
                id=a.id, content_hash=h, source=a.source, url=a.url, title=a.title,
                published=a.published, published_begin=begin, published_end=end,
                language=a.language, text=a.text, warnings=json.dumps(a.warnings, ensure_ascii=False),
                analysis=analysis, n_quotes=len(a.quotes),
            )
            if row is None:
                new.append((a, values))
                statuses.append(STORED)
            else:
                old.append((a, row.pk, values))
                statuses.append(REPLACED)
        if not new and not old:
            return statuses
        pks: dict[str, int] = {}
        if old:
            old_pks = [pk for _, pk, _ in old]
            linking.uncount_documents(conn, old_pks)
            for t in S.LAYER_TABLES.values():
                conn.execute(delete(t).where(t.c.doc_pk.in_(bindparam("pks", expanding=True))), {"pks": old_pks})
            conn.execute(d.update().where(d.c.pk == bindparam("old_pk")),
                         [{**values, "old_pk": pk} for _, pk, values in old])
            pks.update((a.id, pk) for a, pk, _ in old)
        if new:
            cols = tuple(new[0][1])
            pks.update(linking.insert_returning(conn, d, cols, [tuple(v.values()) for _, v in new], ("id", "pk")))
        # Linked in the order given, as if stored one by one.
        written = [a for a, status in zip(articles, statuses) if status != UNCHANGED]
        links = linking.link_documents(conn, written)
        layers: dict[str, list[tuple]] = {name: [] for name in S.LAYER_TABLES}
        for a in written:
            for name, rows in _layer_rows(a, pks[a.id], links).items():
                layers[name] += rows
        for name, rows in layers.items():
            linking.insert_rows(conn, S.LAYER_TABLES[name], LAYER_COLUMNS[name], rows)
        g, pk, n, day = (LAYER_COLUMNS["entities"].index(c) for c in ("global_id", "doc_pk", "n_mentions",
                                                                       "published_begin"))
        linking.count_entities(conn, [(r[g], r[pk], r[n], r[day]) for r in layers["entities"]], +1,
                               links.new_globals)
        return statuses

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
        """Hits (with highlighted snippets) and the total number of matches.

        By rank, the RANK_WINDOW most recently stored matches are ranked and the
        older ones follow, newest first (kroniek.store.queries.match_page)."""
        from . import queries as QY

        if sort not in ("rank", "newest", "oldest"):
            raise ValueError("sort must be rank, newest or oldest")
        # Interval overlap: a document dated 2022-09 matches --from 2022-09-15.
        sel = QY.Selection(date_from=date_from, date_to=date_to, language=language, source=source)
        with self.engine.connect() as conn:
            page, total, snippets = QY.match_page(conn, self.dialect, query,
                                                  QY.doc_conditions(self.dialect, sel, with_text=False),
                                                  limit=limit, offset=offset, sort=sort)
            rows = QY.page_details(conn, [pk for pk, _ in page])
        hits = [SearchHit(rows[pk].id, rows[pk].title, rows[pk].published, rows[pk].source, rows[pk].language,
                          snippets.get(pk) or "", score) for pk, score in page if pk in rows]
        return hits, total


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL: readers never block the writer; a killed process loses only its
    # open transaction.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    # Checkpoint (copy the WAL into the database, with fsync) every ~40 MB
    # of WAL instead of every 4 MB: at scale a batch dirties thousands of
    # index pages, and each checkpoint writes a page once however often the
    # WAL holds it (measured at 100,000 entities: 3.3 -> 2.1 ms/doc). A
    # killed process still loses nothing committed; a power cut may lose the
    # transactions since the last checkpoint, as with any NORMAL setting.
    cur.execute("PRAGMA wal_autocheckpoint=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # 64 MiB of page cache (the default is 2 MiB): the layer and entity
    # indexes of a large store stay in memory while a batch is written.
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()




def _to_json(names: list[str]) -> str:
    """json.dumps(names, ensure_ascii=False) for a list of strings, without its per-call setup."""
    return "[" + ", ".join(map(encode_basestring, names)) + "]"


# Each layer's rows: the document pk, the position, then these attributes of the span.
_FIELDS = {
    "sentences": tuple(Sentence.model_fields),
    "mentions": tuple(Mention.model_fields),
    "times": tuple(TimeExpr.model_fields),
    "places": tuple(Place.model_fields),
}
_GETTERS = {name: attrgetter(*fields) for name, fields in _FIELDS.items()}  # each gives a tuple (2+ fields)
_QUOTE_COLUMNS = ("start", "end", "text", "kind", "hearsay", "speaker_start", "speaker_end", "speaker_text",
                  "speaker_name", "speaker_entity", "cue_start", "cue_end", "cue_text")
LAYER_COLUMNS: dict[str, tuple[str, ...]] = {
    **{name: ("doc_pk", "idx", *fields) for name, fields in _FIELDS.items()},
    "entities": ("doc_pk", "idx", "id", "name", "type", "aliases", "geonames_id", "global_id", "link_reason",
                 "n_mentions", "published_begin"),
    "quotes": ("doc_pk", "idx", *_QUOTE_COLUMNS),
}


def _layer_rows(a: Article, pk: int, links: Optional[linking.Links] = None) -> dict[str, list[tuple]]:
    """The rows of each layer table, in the order of LAYER_COLUMNS."""
    rows: dict[str, list[tuple]] = {}
    for name, get in _GETTERS.items():
        rows[name] = [(pk, i, *get(x)) for i, x in enumerate(getattr(a, name))]
    n_mentions: dict[str, int] = {}
    for m in a.mentions:
        if m.entity:
            n_mentions[m.entity] = n_mentions.get(m.entity, 0) + 1
    begin = published_interval(a.published)[0]
    rows["entities"] = [
        (pk, i, e.id, e.name, e.type, _to_json(e.aliases), e.geonames_id, e.global_id,
         links.reason(e) if links else None, n_mentions.get(e.id, 0), begin)
        for i, e in enumerate(a.entities)
    ]
    rows["quotes"] = []
    for i, q in enumerate(a.quotes):
        sp, cue = q.speaker, q.cue
        rows["quotes"].append((
            pk, i, q.start, q.end, q.text, q.kind, q.hearsay,
            sp.start if sp else None, sp.end if sp else None, sp.text if sp else None,
            sp.name if sp else None, sp.entity if sp else None,
            cue.start if cue else None, cue.end if cue else None, cue.text if cue else None,
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
