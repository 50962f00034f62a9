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
    exists,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    table,
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
        select(E.c.doc_pk).where(E.c.name == name),
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
    cols = [D.c.pk, D.c.id, D.c.title, D.c.published, D.c.source, D.c.language]
    if dialect == "sqlite":
        expr = fts5_query(q)
        if not expr:
            return [], 0
        match = _FTS_TABLE.op("MATCH")(bindparam("fts_q", expr, unique=True))
        score = (-func.bm25(_FTS_TABLE, 2.0, 1.0)) if sort == "rank" else literal_column("0.0")
        # The match runs first and once (materialised), then the filters.
        m = (select(_FTS_ROWID.label("pk"), score.label("score")).select_from(_FTS).where(match)
             .cte("m").prefix_with("MATERIALIZED"))
        stmt = (select(*cols, m.c.score, func.count().over().label("total"))
                .select_from(m.join(D, D.c.pk == m.c.pk)).where(*conds)
                .order_by(*_order(sort, m.c.score)).limit(limit).offset(offset))
        rows = conn.execute(stmt).all()
        if rows:
            total = rows[0].total
        else:
            total = conn.execute(select(func.count()).select_from(m.join(D, D.c.pk == m.c.pk)).where(*conds)).scalar_one()
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
    items = [dict(_doc_row(r), score=float(r.score or 0.0), snippet=snippet_parts(snippets.get(r.pk) or ""))
             for r in rows]
    return items, total


def facets(conn: Connection, dialect: str, sel: Selection, *, top: int = 20) -> dict[str, list[dict]]:
    """Document counts per language, source and published month in the selection."""
    conds = doc_conditions(dialect, sel)
    month = func.substr(D.c.published_begin, 1, 7)
    base = select(D.c.language.label("language"), D.c.source.label("source"), month.label("month")).where(*conds)
    m = base.cte("sel")
    if dialect == "sqlite":
        m = m.prefix_with("MATERIALIZED")
    out: dict[str, list[dict]] = {}
    for name in ("language", "source", "month"):
        c = m.c[name]
        order = [c.desc()] if name == "month" else [func.count().desc(), c]
        rows = conn.execute(select(c.label("value"), func.count().label("count")).where(c.is_not(None))
                            .group_by(c).order_by(*order).limit(top)).all()
        out[name] = [{"value": r.value, "count": r.count} for r in rows]
    return out


# --- entities (grouped by name and type) -------------------------------------------

_MJ = M.outerjoin(E, and_(E.c.doc_pk == M.c.doc_pk, E.c.id == M.c.entity))
NAME = func.coalesce(E.c.name, M.c.text)
TYPE = func.coalesce(E.c.type, M.c.type)


def list_entities(conn: Connection, dialect: str, sel: Selection, *, type: Optional[str] = None,
                  name: Optional[str] = None, limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
    conds = []
    pks = selected_doc_pks(dialect, sel)
    if pks is not None:
        conds.append(M.c.doc_pk.in_(pks))
    if type:
        conds.append(TYPE == type)
    if name:
        conds.append(func.lower(NAME).contains(name.lower(), autoescape=True))
    grouped = (select(NAME.label("name"), TYPE.label("type"), func.count().label("mentions"),
                      func.count(distinct(M.c.doc_pk)).label("documents"))
               .select_from(_MJ).where(*conds).group_by(NAME, TYPE))
    sub = grouped.subquery()
    rows = conn.execute(select(sub).order_by(sub.c.mentions.desc(), sub.c.documents.desc(), sub.c.name, sub.c.type)
                        .limit(limit).offset(offset)).all()
    total = conn.execute(select(func.count()).select_from(sub)).scalar_one()
    return [dict(name=r.name, type=r.type, mentions=r.mentions, documents=r.documents) for r in rows], total


def _quote_mentions_entity(name: str):
    """A quote whose span contains a mention of the entity, or whose text names it."""
    m2 = M.alias("m2")
    e2 = E.alias("e2")
    inside = (select(m2.c.idx).select_from(m2.outerjoin(e2, and_(e2.c.doc_pk == m2.c.doc_pk, e2.c.id == m2.c.entity)))
              .where(m2.c.doc_pk == Q.c.doc_pk, m2.c.start >= Q.c.start, m2.c.end <= Q.c.end,
                     func.coalesce(e2.c.name, m2.c.text) == name))
    return or_(exists(inside), func.lower(Q.c.text).contains(name.lower(), autoescape=True))


def _quote_by(name: str):
    e2 = E.alias("e3")
    linked = select(e2.c.idx).where(e2.c.doc_pk == Q.c.doc_pk, e2.c.id == Q.c.speaker_entity, e2.c.name == name)
    return or_(Q.c.speaker_name == name, Q.c.speaker_text == name, exists(linked))


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


def get_entity(conn: Connection, dialect: str, name: str, type: str, *, limit: int = 20) -> Optional[dict]:
    docs = entity_doc_pks(name)
    own = [M.c.doc_pk.in_(docs), NAME == name, TYPE == type]
    counts = conn.execute(select(func.count().label("n"), func.count(distinct(M.c.doc_pk)).label("d"))
                          .select_from(_MJ).where(*own)).one()
    if not counts.n:
        return None
    aliases = {r[0] for r in conn.execute(select(M.c.text).distinct().select_from(_MJ).where(*own))}
    for (raw,) in conn.execute(select(E.c.aliases).where(E.c.doc_pk.in_(docs), E.c.name == name, E.c.type == type)):
        try:
            aliases.update(a for a in json.loads(raw) if isinstance(a, str))
        except ValueError:
            pass
    aliases.discard(name)
    month = func.substr(D.c.published_begin, 1, 7)
    by_month = conn.execute(
        select(month.label("month"), func.count().label("mentions"), func.count(distinct(M.c.doc_pk)).label("documents"))
        .select_from(_MJ.join(D, D.c.pk == M.c.doc_pk)).where(*own).group_by(month).order_by(month)).all()
    own_docs = select(M.c.doc_pk).select_from(_MJ).where(*own)
    quotes_by, n_by = _quotes(conn, [Q.c.doc_pk.in_(union(own_docs, select(Q.c.doc_pk).where(Q.c.speaker_name == name))),
                                     _quote_by(name)], limit=limit)
    quotes_about, n_about = _quotes(conn, [Q.c.doc_pk.in_(own_docs), _quote_mentions_entity(name)], limit=limit)
    co = (select(NAME.label("name"), TYPE.label("type"), func.count(distinct(M.c.doc_pk)).label("documents"),
                 func.count().label("mentions"))
          .select_from(_MJ).where(M.c.doc_pk.in_(own_docs), or_(NAME != name, TYPE != type))
          .group_by(NAME, TYPE).subquery())
    cooc = conn.execute(select(co).order_by(co.c.documents.desc(), co.c.mentions.desc(), co.c.name).limit(limit)).all()
    pl = _place_groups([P.c.doc_pk.in_(own_docs)])
    places = conn.execute(select(pl).order_by(pl.c.documents.desc(), pl.c.label).limit(limit)).all()
    docs_items = conn.execute(
        select(D.c.id, D.c.title, D.c.published, D.c.source, D.c.language).where(D.c.pk.in_(own_docs))
        .order_by(*_order("newest")).limit(limit)).all()
    return dict(
        name=name, type=type, aliases=sorted(aliases), mentions=counts.n, documents=counts.d,
        mentions_by_month=[dict(month=r.month, mentions=r.mentions, documents=r.documents) for r in by_month],
        quotes_by=dict(total=n_by, items=quotes_by),
        quotes_about=dict(total=n_about, items=quotes_about),
        co_occurring=[dict(name=r.name, type=r.type, documents=r.documents, mentions=r.mentions) for r in cooc],
        places=[_place_dict(r) for r in places],
        recent_documents=[_doc_row(r) for r in docs_items],
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
        conds.append(_quote_mentions_entity(mentioned))
    if text:
        conds.append(func.lower(Q.c.text).contains(text.lower(), autoescape=True))
    if kind:
        conds.append(Q.c.kind == kind)
    return _quotes(conn, conds, limit=limit, offset=offset)


# --- places --------------------------------------------------------------------


def _place_groups(conds: list):
    label = func.coalesce(P.c.name, P.c.text)
    return (select(label.label("label"), P.c.kind, P.c.lat, P.c.lon, P.c.country, P.c.geonames_id,
                   func.count(distinct(P.c.doc_pk)).label("documents"), func.count().label("mentions"),
                   func.min(P.c.text).label("text"))
            .where(P.c.lat.is_not(None), P.c.lon.is_not(None), *conds)
            .group_by(label, P.c.kind, P.c.lat, P.c.lon, P.c.country, P.c.geonames_id)
            .subquery())


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
                   T.c.start.label("start"), _sentence_of(T.c.start, T.c.doc_pk).label("sentence"),
                   D.c.pk.label("doc_pk"), D.c.id.label("doc_id"), D.c.title.label("title"),
                   D.c.published.label("published"), T.c.idx.label("idx"))
            .select_from(T.join(D, D.c.pk == T.c.doc_pk)).where(*doc_conds, *overlap(T.c.begin, T.c.end_date)))
    if "quote" in kinds:
        parts.append(
            select(*common("quote"), D.c.published_begin.label("begin"), D.c.published_end.label("end"),
                   Q.c.text.label("text"), Q.c.kind.label("value"), cast(null(), String).label("type"),
                   func.coalesce(Q.c.speaker_name, Q.c.speaker_text).label("speaker"),
                   Q.c.start.label("start"), _sentence_of(Q.c.start, Q.c.doc_pk).label("sentence"),
                   D.c.pk.label("doc_pk"), D.c.id.label("doc_id"), D.c.title.label("title"),
                   D.c.published.label("published"), Q.c.idx.label("idx"))
            .select_from(Q.join(D, D.c.pk == Q.c.doc_pk))
            .where(*doc_conds, *overlap(D.c.published_begin, D.c.published_end)))
    if "published" in kinds:
        parts.append(
            select(*common("published"), D.c.published_begin.label("begin"), D.c.published_end.label("end"),
                   func.coalesce(D.c.title, func.substr(D.c.text, 1, 120)).label("text"),
                   D.c.published.label("value"), cast(null(), String).label("type"),
                   cast(null(), String).label("speaker"), cast(literal_column("0"), Integer).label("start"),
                   cast(null(), Integer).label("sentence"), D.c.pk.label("doc_pk"), D.c.id.label("doc_id"),
                   D.c.title.label("title"), D.c.published.label("published"),
                   cast(literal_column("0"), Integer).label("idx"))
            .where(*doc_conds, *overlap(D.c.published_begin, D.c.published_end)))
    if not parts:
        return [], 0
    u = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    rows = conn.execute(select(u).order_by(u.c.begin, u.c.end, u.c.doc_pk, u.c.kind, u.c.idx)
                        .limit(limit).offset(offset)).all()
    total = conn.execute(select(func.count()).select_from(u)).scalar_one()
    items = [dict(kind=r.kind, begin=r.begin, end=r.end, text=r.text, value=r.value, type=r.type,
                  speaker=r.speaker, start=r.start, sentence=r.sentence,
                  document=dict(id=r.doc_id, title=r.title, published=r.published)) for r in rows]
    return items, total
