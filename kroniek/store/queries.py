"""Read queries for the API and the pages (SQLAlchemy Core, SQLite and PostgreSQL).

Every user value reaches the database as a bound parameter; the only SQL text
here is fixed (table and function names). A :class:`Selection` is the set of
document filters that the search page, the map, the timeline and the quotes
browser share ("the current selection").

Entities are grouped by name and type from the per-document ``entities`` and
``mentions`` tables: a mention linked to a document entity counts under that
entity's name, an unlinked mention under its own text. (The cross-document
entity table comes later and will replace this grouping.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Optional

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    cast,
    column,
    distinct,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    table,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.engine import Connection

from ..document import published_interval
from . import HL_END, HL_START, fts5_query
from . import schema as S

D = S.documents
M = S.mentions
E = S.entities
T = S.times
P = S.places
Q = S.quotes
SN = S.sentences
GE = S.global_entities


def is_entity(name: str):
    """Document entities that are the entity called ``name``: linked across
    documents to the global entity of that name (Poetin and Putin alike), or,
    not linked, named so themselves."""
    return or_(E.c.global_id.in_(select(GE.c.id).where(GE.c.name == name)),
               and_(E.c.global_id.is_(None), E.c.name == name))


# Linked mentions are listed under their global entity's name.
_ENTITY_NAME = func.coalesce(
    select(GE.c.name).where(GE.c.id == E.c.global_id).correlate(E).scalar_subquery(), E.c.name)

# The only SQL text used below: fixed names, never user input.
_FTS = table("documents_fts", column("rowid"))
_FTS_ROWID = literal_column("documents_fts.rowid")
_FTS_TABLE = literal_column("documents_fts")
_PG_TSV = literal_column("documents.tsv")
_PG_SIMPLE = literal_column("'simple'::regconfig")


@dataclass(frozen=True)
class Selection:
    """Document filters shared by search, documents, quotes, places and timeline."""

    q: Optional[str] = None
    date_from: Optional[str] = None
    date_to: Optional[str] = None
    language: Optional[str] = None
    source: Optional[str] = None
    has_quotes: Optional[bool] = None
    entity: Optional[str] = None
    place: Optional[str] = None

    def without(self, *names: str) -> "Selection":
        return replace(self, **{n: None for n in names})

    def is_empty(self) -> bool:
        return all(v in (None, "") for v in self.__dict__.values())


# --- the selection as conditions on documents ------------------------------------


def _tsquery(q: str):
    return func.websearch_to_tsquery(_PG_SIMPLE, bindparam("pg_q", q, unique=True))


def fts_condition(dialect: str, q: str):
    """documents.pk matches the full-text query q."""
    if dialect == "sqlite":
        expr = fts5_query(q)
        if not expr:
            return false()
        sub = select(_FTS_ROWID).select_from(_FTS).where(_FTS_TABLE.op("MATCH")(bindparam("fts_q", expr, unique=True)))
        return D.c.pk.in_(sub)
    return _PG_TSV.op("@@")(_tsquery(q))


def entity_doc_pks(name: str):
    """Documents that mention a name or hold an entity of that name."""
    return union(
        select(M.c.doc_pk).where(M.c.text == name),
        select(E.c.doc_pk).where(is_entity(name)),
    )


def place_doc_pks(place: str):
    return select(P.c.doc_pk).where(or_(P.c.name == place, P.c.text == place))


def doc_conditions(dialect: str, sel: Selection, *, with_text: bool = True) -> list:
    conds: list = []
    if sel.date_from:
        conds.append(D.c.published_end >= published_interval(sel.date_from)[0])
    if sel.date_to:
        conds.append(D.c.published_begin <= published_interval(sel.date_to)[1])
    if sel.language:
        conds.append(D.c.language == sel.language)
    if sel.source:
        conds.append(D.c.source == sel.source)
    if sel.has_quotes is True:
        conds.append(D.c.n_quotes > 0)
    elif sel.has_quotes is False:
        conds.append(D.c.n_quotes == 0)
    if sel.entity:
        conds.append(D.c.pk.in_(entity_doc_pks(sel.entity)))
    if sel.place:
        conds.append(D.c.pk.in_(place_doc_pks(sel.place)))
    if with_text and sel.q and sel.q.strip():
        conds.append(fts_condition(dialect, sel.q))
    return conds


def selected_doc_pks(dialect: str, sel: Selection):
    """A subquery of the selected documents' pks, or None for 'all documents'."""
    conds = doc_conditions(dialect, sel)
    if not conds:
        return None
    return select(D.c.pk).where(*conds)


def _order(sort: str, score=None) -> list:
    if sort == "rank" and score is not None:
        return [score.desc(), D.c.pk.desc()]
    if sort == "oldest":
        return [D.c.published_begin.is_(None), D.c.published_begin.asc(), D.c.pk.asc()]
    return [D.c.published_begin.is_(None), D.c.published_begin.desc(), D.c.pk.desc()]


def _doc_row(r: Any) -> dict[str, Any]:
    return dict(id=r.id, title=r.title, published=r.published, source=r.source, language=r.language)


# --- documents and search --------------------------------------------------------


def list_documents(conn: Connection, dialect: str, sel: Selection, *, limit: int = 20, offset: int = 0,
                   sort: str = "newest") -> tuple[list[dict], int]:
    conds = doc_conditions(dialect, sel)
    cols = [D.c.pk, D.c.id, D.c.title, D.c.published, D.c.source, D.c.language, D.c.n_quotes,
            func.substr(D.c.text, 1, 240).label("preview")]
    rows = conn.execute(select(*cols).where(*conds).order_by(*_order(sort)).limit(limit).offset(offset)).all()
    total = conn.execute(select(func.count()).select_from(D).where(*conds)).scalar_one()
    items = [dict(_doc_row(r), n_quotes=r.n_quotes, preview=r.preview) for r in rows]
    return items, total


def snippet_parts(snippet: str) -> list[dict[str, Any]]:
    """A snippet with \\x02..\\x03 marks as a list of {text, hit} parts (no markup)."""
    parts: list[dict[str, Any]] = []
    hit = False
    buf = []
    for ch in snippet:
        if ch in (HL_START, HL_END):
            if buf:
                parts.append({"text": "".join(buf), "hit": hit})
                buf = []
            hit = ch == HL_START
        else:
            buf.append(ch)
    if buf:
        parts.append({"text": "".join(buf), "hit": hit})
    # Whitespace runs (newlines) collapse: a snippet is one line.
    for p in parts:
        p["text"] = " ".join(p["text"].split(" ")).replace("\n", " ")
    return parts


def search(conn: Connection, dialect: str, sel: Selection, *, limit: int = 20, offset: int = 0,
           sort: str = "rank") -> tuple[list[dict], int]:
    """Full-text search over title and text with the selection's other filters."""
    q = (sel.q or "").strip()
    if not q:
        return [], 0
    conds = doc_conditions(dialect, sel, with_text=False)
    # Only the page's documents are read in full (their details come after the ranking).
    cols = [D.c.pk]
    if dialect == "sqlite":
        expr = fts5_query(q)
        if not expr:
            return [], 0
        match = _FTS_TABLE.op("MATCH")(bindparam("fts_q", expr, unique=True))
        score = (-func.bm25(_FTS_TABLE, 2.0, 1.0)) if sort == "rank" else literal_column("0.0")
        # The match runs first and once (materialised), then the filters.
        m = (select(_FTS_ROWID.label("pk"), score.label("score")).select_from(_FTS).where(match)
             .cte("m").prefix_with("MATERIALIZED"))
        if conds or sort != "rank":
            source = m.join(D, D.c.pk == m.c.pk)
            order = _order(sort, m.c.score)
        else:  # ranked and unfiltered: the documents table is not needed until the page
            source = m
            order = [m.c.score.desc(), m.c.pk.desc()]
        stmt = (select(m.c.pk, m.c.score, func.count().over().label("total"))
                .select_from(source).where(*conds).order_by(*order).limit(limit).offset(offset))
        rows = conn.execute(stmt).all()
        if rows:
            total = rows[0].total
        else:
            total = conn.execute(select(func.count()).select_from(source).where(*conds)).scalar_one()
        snippets: dict[int, str] = {}
        if rows:
            snip = func.snippet(_FTS_TABLE, 1, HL_START, HL_END, "…", 16)
            srows = conn.execute(select(_FTS_ROWID.label("pk"), snip.label("snippet")).select_from(_FTS)
                                 .where(match, _FTS_ROWID.in_([r.pk for r in rows])))
            snippets = {r.pk: r.snippet for r in srows}
    else:
        tsq = _tsquery(q)
        score = func.ts_rank(_PG_TSV, tsq)
        where = [_PG_TSV.op("@@")(tsq), *conds]
        stmt = select(*cols, score.label("score")).where(*where).order_by(*_order(sort, score)).limit(limit).offset(offset)
        rows = conn.execute(stmt).all()
        total = conn.execute(select(func.count()).select_from(D).where(*where)).scalar_one()
        snippets = {}
        if rows:
            opts = f"StartSel={HL_START}, StopSel={HL_END}, MaxWords=30, MinWords=12, MaxFragments=1"
            head = func.ts_headline(_PG_SIMPLE, D.c.text, tsq, literal_column("'" + opts + "'"))
            srows = conn.execute(select(D.c.pk, head.label("snippet")).where(D.c.pk.in_([r.pk for r in rows])))
            snippets = {r.pk: r.snippet for r in srows}
    details = {}
    if rows:
        details = {r.pk: r for r in conn.execute(
            select(D.c.pk, D.c.id, D.c.title, D.c.published, D.c.source, D.c.language,
                   func.substr(D.c.text, 1, 160).label("preview")).where(D.c.pk.in_([r.pk for r in rows])))}
    items = [dict(_doc_row(details[r.pk]), preview=details[r.pk].preview, score=float(r.score or 0.0),
                  snippet=snippet_parts(snippets.get(r.pk) or ""))
             for r in rows if r.pk in details]
    return items, total


def facets(conn: Connection, dialect: str, sel: Selection, *, top: int = 20) -> dict[str, list[dict]]:
    """Document counts per language, source and published month in the selection (one pass)."""
    conds = doc_conditions(dialect, sel)
    base = select(D.c.language.label("language"), D.c.source.label("source"),
                  func.substr(D.c.published_begin, 1, 7).label("month")).where(*conds).cte("sel")
    if dialect == "sqlite":
        base = base.prefix_with("MATERIALIZED")
    parts = [select(literal_column(f"'{name}'").label("facet"), base.c[name].label("value"),  # fixed names
                    func.count().label("n")).where(base.c[name].is_not(None)).group_by(base.c[name])
             for name in ("language", "source", "month")]
    u = union_all(*parts).subquery()
    ranked = select(u.c.facet, u.c.value, u.c.n, func.row_number().over(
        partition_by=u.c.facet, order_by=(u.c.n.desc(), u.c.value)).label("rn")).subquery()
    out: dict[str, list[dict]] = {"language": [], "source": [], "month": []}
    for r in conn.execute(select(ranked).where(ranked.c.rn <= top)):
        out[r.facet].append({"value": r.value, "count": r.n})
    out["month"].sort(key=lambda f: f["value"], reverse=True)
    return out


# --- entities (grouped by name and type) -------------------------------------------
#
# A mention linked to a document entity (mentions.entity = entities.id in the
# same document) belongs to that entity's name and type; an unlinked mention
# (entity null) to its own text and type. Each part is driven by an index
# (entities.name, mentions.text), so one entity's page never scans the store.

_LINKED = M.join(E, and_(E.c.doc_pk == M.c.doc_pk, E.c.id == M.c.entity))


def entity_mentions(name: str, type: Optional[str] = None):
    """(doc_pk, start, end, text) of every mention of the entity."""
    a = select(M.c.doc_pk, M.c.start, M.c.end, M.c.text).select_from(_LINKED).where(is_entity(name))
    b = select(M.c.doc_pk, M.c.start, M.c.end, M.c.text).where(M.c.text == name, M.c.entity.is_(None))
    if type:
        a = a.where(E.c.type == type)
        b = b.where(M.c.type == type)
    return union_all(a, b)


def _named_mentions(conds_linked: list, conds_plain: list):
    """(name, type, doc_pk) per mention: linked ones under their entity's name."""
    return union_all(
        select(_ENTITY_NAME.label("name"), E.c.type.label("type"), M.c.doc_pk.label("doc_pk"))
        .select_from(_LINKED).where(*conds_linked),
        select(M.c.text.label("name"), M.c.type.label("type"), M.c.doc_pk.label("doc_pk"))
        .where(M.c.entity.is_(None), *conds_plain),
    ).subquery()


def list_entities(conn: Connection, dialect: str, sel: Selection, *, type: Optional[str] = None,
                  name: Optional[str] = None, limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
    cl: list = []
    cp: list = []
    pks = selected_doc_pks(dialect, sel)
    if pks is not None:
        cl.append(M.c.doc_pk.in_(pks))
        cp.append(M.c.doc_pk.in_(pks))
    if type:
        cl.append(E.c.type == type)
        cp.append(M.c.type == type)
    if name:
        cl.append(func.lower(_ENTITY_NAME).contains(name.lower(), autoescape=True))
        cp.append(func.lower(M.c.text).contains(name.lower(), autoescape=True))
    u = _named_mentions(cl, cp)
    grouped = (select(u.c.name, u.c.type, func.count().label("mentions"),
                      func.count(distinct(u.c.doc_pk)).label("documents"))
               .group_by(u.c.name, u.c.type).subquery())
    rows = conn.execute(select(grouped).order_by(grouped.c.mentions.desc(), grouped.c.documents.desc(),
                                                 grouped.c.name, grouped.c.type).limit(limit).offset(offset)).all()
    total = conn.execute(select(func.count()).select_from(grouped)).scalar_one()
    return [dict(name=r.name, type=r.type, mentions=r.mentions, documents=r.documents) for r in rows], total


def _quotes_mentioning(name: str, type: Optional[str] = None, docs=None):
    """(doc_pk, idx) of quotes whose span holds a mention of the entity or whose text names it."""
    em = entity_mentions(name, type).subquery()
    inside = (select(Q.c.doc_pk, Q.c.idx).select_from(Q.join(em, em.c.doc_pk == Q.c.doc_pk))
              .where(em.c.start >= Q.c.start, em.c.end <= Q.c.end))
    named = select(Q.c.doc_pk, Q.c.idx).where(func.lower(Q.c.text).contains(name.lower(), autoescape=True))
    if docs is not None:
        named = named.where(Q.c.doc_pk.in_(docs))
    return union(inside, named)


def _quotes_by(name: str):
    """(doc_pk, idx) of quotes whose speaker is the entity (by name, text or link)."""
    linked = (select(Q.c.doc_pk, Q.c.idx)
              .select_from(Q.join(E, and_(E.c.doc_pk == Q.c.doc_pk, E.c.id == Q.c.speaker_entity)))
              .where(is_entity(name)))
    return union(select(Q.c.doc_pk, Q.c.idx).where(Q.c.speaker_name == name),
                 select(Q.c.doc_pk, Q.c.idx).where(Q.c.speaker_text == name), linked)


def _sentence_of(start_col, doc_col):
    return (select(SN.c.idx).where(SN.c.doc_pk == doc_col, SN.c.start <= start_col, SN.c.end > start_col)
            .order_by(SN.c.idx).limit(1).scalar_subquery())


def _quote_cols():
    return [Q.c.idx, Q.c.start, Q.c.end, Q.c.text, Q.c.kind, Q.c.hearsay, Q.c.speaker_text, Q.c.speaker_name,
            Q.c.cue_text, D.c.id.label("doc_id"), D.c.title, D.c.published, D.c.source, D.c.language,
            _sentence_of(Q.c.start, Q.c.doc_pk).label("sentence")]


def _quote_item(r: Any) -> dict[str, Any]:
    return dict(
        document=dict(id=r.doc_id, title=r.title, published=r.published, source=r.source, language=r.language),
        idx=r.idx, start=r.start, end=r.end, text=r.text, kind=r.kind, hearsay=bool(r.hearsay),
        speaker=(dict(text=r.speaker_text, name=r.speaker_name) if (r.speaker_text or r.speaker_name) else None),
        cue=r.cue_text, sentence=r.sentence,
    )


NEWEST_DOCS = 200  # quotes about it, co-occurring entities and places: from the entity's newest documents


def _newest(keys, pub_of, pk_of=lambda k: k) -> list:
    """keys ordered as _order("newest"): published_begin descending, undated last, then pk descending."""
    return sorted(keys, key=lambda k: (pub_of(k) is not None, pub_of(k) or "", pk_of(k)), reverse=True)


def get_entity(conn: Connection, dialect: str, name: str, type: str, *, limit: int = 20) -> Optional[dict]:
    """One entity's report.

    Counts and mentions per month cover all its documents (one pass over its
    mentions, found by index); quotes by it are found by speaker (index); quotes
    about it, co-occurring entities and places come from its NEWEST_DOCS newest
    documents, so that the report costs the same for a rare and a frequent
    entity (``/api/quotes?mentioned=`` and ``/api/places?entity=`` give all)."""
    em = entity_mentions(name, type).subquery()
    per_doc = conn.execute(select(em.c.doc_pk, D.c.published_begin, func.count().label("n"))
                           .select_from(em.join(D, D.c.pk == em.c.doc_pk))
                           .group_by(em.c.doc_pk, D.c.published_begin)).all()
    if not per_doc:
        return None
    published = {r.doc_pk: r.published_begin for r in per_doc}
    months: dict[Optional[str], list[int]] = {}
    for r in per_doc:
        m = months.setdefault(r.published_begin[:7] if r.published_begin else None, [0, 0])
        m[0] += r.n
        m[1] += 1
    own = _newest(published, published.get)
    newest = own[:NEWEST_DOCS]

    spans: dict[int, list[tuple[int, int]]] = {}
    aliases = set()
    for r in conn.execute(select(em.c.doc_pk, em.c.start, em.c.end, em.c.text).where(em.c.doc_pk.in_(newest))):
        spans.setdefault(r.doc_pk, []).append((r.start, r.end))
        aliases.add(r.text)
    for (raw,) in conn.execute(select(E.c.aliases).where(is_entity(name), E.c.type == type).distinct().limit(200)):
        try:
            aliases.update(a for a in json.loads(raw) if isinstance(a, str))
        except ValueError:
            pass
    aliases.discard(name)

    # quotes by: speaker name, a speaker linked to the entity, or speaker text in its documents
    by: dict[tuple[int, int], Optional[str]] = {}
    linked = (select(Q.c.doc_pk, Q.c.idx, D.c.published_begin)
              .select_from(Q.join(E, and_(E.c.doc_pk == Q.c.doc_pk, E.c.id == Q.c.speaker_entity))
                           .join(D, D.c.pk == Q.c.doc_pk)).where(is_entity(name)))
    named = (select(Q.c.doc_pk, Q.c.idx, D.c.published_begin).select_from(Q.join(D, D.c.pk == Q.c.doc_pk))
             .where(Q.c.speaker_name == name))
    for stmt in (linked, named):
        by.update({(r.doc_pk, r.idx): r.published_begin for r in conn.execute(stmt)})
    # quotes about: a mention of it inside the quote, or its name in the quote's text
    about: dict[tuple[int, int], Optional[str]] = {}
    lname = name.lower()
    if newest:
        for r in conn.execute(select(Q.c.doc_pk, Q.c.idx, Q.c.start, Q.c.end, Q.c.text, Q.c.speaker_text)
                              .where(Q.c.doc_pk.in_(newest))):
            if r.speaker_text == name:
                by[(r.doc_pk, r.idx)] = published[r.doc_pk]
            if lname in r.text.lower() or any(r.start <= s and e <= r.end for s, e in spans.get(r.doc_pk, ())):
                about[(r.doc_pk, r.idx)] = published[r.doc_pk]

    def page(found: dict) -> list[dict]:
        keys = _newest(found, found.get, lambda k: (k[0], -k[1]))[:limit]
        if not keys:
            return []
        items = {(r.doc_pk, r.idx): r for r in conn.execute(
            select(Q.c.doc_pk, *_quote_cols()).select_from(Q.join(D, D.c.pk == Q.c.doc_pk))
            .where(tuple_(Q.c.doc_pk, Q.c.idx).in_(keys)))}
        return [_quote_item(items[k]) for k in keys if k in items]

    # co-occurring entities in the newest documents
    cooc = []
    if newest:
        u = _named_mentions([M.c.doc_pk.in_(newest)], [M.c.doc_pk.in_(newest)])
        g = (select(u.c.name, u.c.type, func.count(distinct(u.c.doc_pk)).label("documents"),
                    func.count().label("mentions"))
             .where(or_(u.c.name != name, u.c.type != type)).group_by(u.c.name, u.c.type).subquery())
        cooc = conn.execute(select(g).order_by(g.c.documents.desc(), g.c.mentions.desc(), g.c.name, g.c.type)
                            .limit(limit)).all()
    pl = _place_groups([P.c.doc_pk.in_(newest)] if newest else [false()])
    places = conn.execute(select(pl).order_by(pl.c.documents.desc(), pl.c.label).limit(limit)).all()
    docs_items = {r.pk: r for r in conn.execute(
        select(D.c.pk, D.c.id, D.c.title, D.c.published, D.c.source, D.c.language).where(D.c.pk.in_(own[:limit])))}
    return dict(
        name=name, type=type, aliases=sorted(aliases), mentions=sum(r.n for r in per_doc), documents=len(published),
        mentions_by_month=[dict(month=k, mentions=v[0], documents=v[1])
                           for k, v in sorted(months.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))],
        quotes_by=dict(total=len(by), items=page(by)),
        quotes_about=dict(total=len(about), items=page(about)),
        co_occurring=[dict(name=r.name, type=r.type, documents=r.documents, mentions=r.mentions) for r in cooc],
        newest_documents_counted=len(newest),
        places=[_place_dict(r) for r in places],
        recent_documents=[_doc_row(docs_items[pk]) for pk in own[:limit] if pk in docs_items],
    )


# --- quotes --------------------------------------------------------------------


def _quotes(conn: Connection, conds: list, *, limit: int, offset: int = 0) -> tuple[list[dict], int]:
    j = Q.join(D, D.c.pk == Q.c.doc_pk)
    rows = conn.execute(select(*_quote_cols()).select_from(j).where(*conds)
                        .order_by(*_order("newest"), Q.c.idx).limit(limit).offset(offset)).all()
    total = conn.execute(select(func.count()).select_from(j).where(*conds)).scalar_one()
    return [_quote_item(r) for r in rows], total


def list_quotes(conn: Connection, dialect: str, sel: Selection, *, speaker: Optional[str] = None,
                mentioned: Optional[str] = None, text: Optional[str] = None, kind: Optional[str] = None,
                limit: int = 20, offset: int = 0) -> tuple[list[dict], int]:
    conds = doc_conditions(dialect, sel.without("entity"))
    if sel.entity:  # in a quote's selection, the entity is the one mentioned in it
        mentioned = mentioned or sel.entity
    if speaker:
        s = speaker.lower()
        conds.append(or_(func.lower(Q.c.speaker_name).contains(s, autoescape=True),
                         func.lower(Q.c.speaker_text).contains(s, autoescape=True)))
    if mentioned:
        conds.append(tuple_(Q.c.doc_pk, Q.c.idx).in_(_quotes_mentioning(mentioned)))
    if text:
        conds.append(func.lower(Q.c.text).contains(text.lower(), autoescape=True))
    if kind:
        conds.append(Q.c.kind == kind)
    return _quotes(conn, conds, limit=limit, offset=offset)


# --- places --------------------------------------------------------------------


def _place_groups(conds: list):
    """Resolved places grouped by gazetteer entry, with document and mention counts.
    Named places group on the covering index ix_places_map; unnamed ones by their text."""
    keys = [P.c.kind, P.c.lat, P.c.lon, P.c.country, P.c.geonames_id]
    counts = [func.count(distinct(P.c.doc_pk)).label("documents"), func.count().label("mentions")]
    located = [P.c.lat.is_not(None), P.c.lon.is_not(None), *conds]
    named = (select(P.c.name.label("label"), *keys, *counts, cast(null(), String).label("text"))
             .where(P.c.name.is_not(None), *located).group_by(P.c.name, *keys))
    unnamed = (select(P.c.text.label("label"), *keys, *counts, P.c.text.label("text"))
               .where(P.c.name.is_(None), *located).group_by(P.c.text, *keys))
    return union_all(named, unnamed).subquery()


def _place_dict(r: Any) -> dict[str, Any]:
    return dict(name=r.label, text=r.text, kind=r.kind, lat=r.lat, lon=r.lon, country=r.country,
                geonames_id=r.geonames_id, documents=r.documents, mentions=r.mentions)


def list_places(conn: Connection, dialect: str, sel: Selection, *, limit: int = 500,
                offset: int = 0) -> tuple[list[dict], int]:
    """Resolved places (with coordinates) in the selection, with document counts."""
    conds = []
    pks = selected_doc_pks(dialect, sel)
    if pks is not None:
        conds.append(P.c.doc_pk.in_(pks))
    g = _place_groups(conds)
    rows = conn.execute(select(g).order_by(g.c.documents.desc(), g.c.mentions.desc(), g.c.label, g.c.lat, g.c.lon)
                        .limit(limit).offset(offset)).all()
    total = conn.execute(select(func.count()).select_from(g)).scalar_one()
    return [_place_dict(r) for r in rows], total


def geojson(items: list[dict], total: int, limit: int, offset: int) -> dict[str, Any]:
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
         "properties": {k: v for k, v in p.items() if k not in ("lat", "lon")}}
        for p in items
    ]
    return {"type": "FeatureCollection", "features": features, "total": total, "limit": limit, "offset": offset}


# --- timeline ------------------------------------------------------------------

TIMELINE_KINDS = ("time", "quote", "published")


def timeline(conn: Connection, dialect: str, sel: Selection, *, kinds: tuple[str, ...] = TIMELINE_KINDS,
             limit: int = 100, offset: int = 0) -> tuple[list[dict], int]:
    """Dated items as intervals, ordered by their first day.

    ``time``: a time expression with its calendar interval (what the article
    dates); ``quote``: a statement, dated by its article's publication
    interval; ``published``: an article's publication interval. The
    selection's date range applies to the items' intervals (overlap), its other
    filters to their documents.
    """
    doc_conds = doc_conditions(dialect, sel.without("date_from", "date_to"))
    lo = published_interval(sel.date_from)[0] if sel.date_from else None
    hi = published_interval(sel.date_to)[1] if sel.date_to else None

    def overlap(b, e):
        c = [b.is_not(None)]
        if lo:
            c.append(e >= lo)
        if hi:
            c.append(b <= hi)
        return c

    def common(kind: str):
        return [literal_column(f"'{kind}'").label("kind")]  # kind is one of TIMELINE_KINDS, fixed text

    parts = []
    if "time" in kinds:
        parts.append(
            select(*common("time"), T.c.begin.label("begin"), T.c.end_date.label("end"), T.c.text.label("text"),
                   T.c.value.label("value"), T.c.type.label("type"), cast(null(), String).label("speaker"),
                   T.c.start.label("start"),
                   D.c.pk.label("doc_pk"), D.c.id.label("doc_id"), D.c.title.label("title"),
                   D.c.published.label("published"), D.c.source.label("source"), T.c.idx.label("idx"))
            .select_from(T.join(D, D.c.pk == T.c.doc_pk)).where(*doc_conds, *overlap(T.c.begin, T.c.end_date)))
    if "quote" in kinds:
        parts.append(
            select(*common("quote"), D.c.published_begin.label("begin"), D.c.published_end.label("end"),
                   Q.c.text.label("text"), Q.c.kind.label("value"), cast(null(), String).label("type"),
                   func.coalesce(Q.c.speaker_name, Q.c.speaker_text).label("speaker"),
                   Q.c.start.label("start"),
                   D.c.pk.label("doc_pk"), D.c.id.label("doc_id"), D.c.title.label("title"),
                   D.c.published.label("published"), D.c.source.label("source"), Q.c.idx.label("idx"))
            .select_from(Q.join(D, D.c.pk == Q.c.doc_pk))
            .where(*doc_conds, *overlap(D.c.published_begin, D.c.published_end)))
    if "published" in kinds:
        parts.append(
            select(*common("published"), D.c.published_begin.label("begin"), D.c.published_end.label("end"),
                   func.coalesce(D.c.title, func.substr(D.c.text, 1, 120)).label("text"),
                   D.c.published.label("value"), cast(null(), String).label("type"),
                   cast(null(), String).label("speaker"), cast(literal_column("0"), Integer).label("start"),
                   D.c.pk.label("doc_pk"), D.c.id.label("doc_id"),
                   D.c.title.label("title"), D.c.published.label("published"), D.c.source.label("source"),
                   cast(literal_column("0"), Integer).label("idx"))
            .where(*doc_conds, *overlap(D.c.published_begin, D.c.published_end)))
    if not parts:
        return [], 0
    u = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    rows = conn.execute(select(u).order_by(u.c.begin, u.c.end, u.c.doc_pk, u.c.kind, u.c.idx)
                        .limit(limit).offset(offset)).all()
    total = conn.execute(select(func.count()).select_from(u)).scalar_one()
    # the sentence of each dated expression and statement, for this page only
    wanted = {(r.doc_pk, r.start) for r in rows if r.kind != "published"}
    where: dict[tuple[int, int], tuple[int, str]] = {}
    if wanted:
        docs = sorted({d for d, _ in wanted})
        bounds = conn.execute(select(SN.c.doc_pk, SN.c.idx, SN.c.start, SN.c.end).where(SN.c.doc_pk.in_(docs))).all()
        by_doc: dict[int, list] = {}
        for b in bounds:
            by_doc.setdefault(b.doc_pk, []).append(b)
        pick = {}
        for d, start in wanted:
            for b in by_doc.get(d, ()):
                if b.start <= start < b.end:
                    pick[(d, start)] = (b.doc_pk, b.idx)
                    break
        if pick:
            texts = {(t.doc_pk, t.idx): t.text for t in conn.execute(
                select(SN.c.doc_pk, SN.c.idx, func.substr(D.c.text, SN.c.start + 1, SN.c.end - SN.c.start).label("text"))
                .select_from(SN.join(D, D.c.pk == SN.c.doc_pk))
                .where(tuple_(SN.c.doc_pk, SN.c.idx).in_(sorted(set(pick.values())))))}
            where = {k: (v[1], texts.get(v, "")) for k, v in pick.items()}
    items = []
    for r in rows:
        sent = where.get((r.doc_pk, r.start))
        items.append(dict(kind=r.kind, begin=r.begin, end=r.end, text=r.text, value=r.value, type=r.type,
                          speaker=r.speaker, start=r.start, sentence=sent[0] if sent else None,
                          sentence_text=sent[1] if sent else None,
                          document=dict(id=r.doc_id, title=r.title, published=r.published, source=r.source)))
    return items, total
