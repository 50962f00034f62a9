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
    any_,
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
    text,
    true,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.types import UserDefinedType

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
    """Full-text search over title and text with the selection's other filters (see match_page)."""
    page, total, snippets = match_page(conn, dialect, sel.q or "", doc_conditions(dialect, sel, with_text=False),
                                       limit=limit, offset=offset, sort=sort)
    details = page_details(conn, [pk for pk, _ in page])
    items = [dict(_doc_row(details[pk]), preview=details[pk].preview, score=score,
                  snippet=snippet_parts(snippets.get(pk) or ""))
             for pk, score in page if pk in details]
    return items, total


def page_details(conn: Connection, pks: list[int]) -> dict[int, Any]:
    """The listed columns of a page of documents (only the page's rows are read)."""
    if not pks:
        return {}
    return {r.pk: r for r in conn.execute(
        select(D.c.pk, D.c.id, D.c.title, D.c.published, D.c.source, D.c.language,
               func.substr(D.c.text, 1, 160).label("preview")).where(D.c.pk.in_(pks)))}


def match_page(conn: Connection, dialect: str, q: str, conds: list, *, limit: int = 20, offset: int = 0,
               sort: str = "rank") -> tuple[list[tuple[int, float]], int, dict[int, str]]:
    """One page of full-text matches of ``q`` that pass ``conds`` (conditions on documents):
    [(pk, score)], the total number of matches, and a snippet per pk (matched words
    between HL_START and HL_END).

    ``sort="rank"`` ranks the RANK_WINDOW most recently stored matches by relevance
    (BM25 on SQLite, ts_rank on PostgreSQL); the matches older than that window
    follow, newest stored first, so every match can be paged to and the total
    counts them all. Ranking every match of a common word in a million documents
    costs seconds; news readers want the relevant among the recent.
    ``newest``/``oldest`` order every match by publication date."""
    if sort not in ("rank", "newest", "oldest"):
        raise ValueError("sort must be rank, newest or oldest")
    q = (q or "").strip()
    if not q:
        return [], 0, {}
    if dialect == "sqlite":
        return _match_page_sqlite(conn, q, conds, limit, offset, sort)
    return _match_page_pg(conn, q, conds, limit, offset, sort)


def _window_split(window: int, limit: int, offset: int) -> tuple[int, int, int, int]:
    """(ranked limit, ranked offset, rest limit, rest offset) of a page over the ranked
    window of ``window`` matches followed by the older matches."""
    ranked = (max(0, min(limit, window - offset)), offset) if offset < window else (0, 0)
    rest_off = max(0, offset - window)
    return ranked[0], ranked[1], limit - ranked[0], rest_off


def _match_page_pg(conn: Connection, q: str, conds: list, limit: int, offset: int,
                   sort: str) -> tuple[list[tuple[int, float]], int, dict[int, str]]:
    """PostgreSQL: the GIN index finds matches but cannot order them, and every match
    read from the table costs a heap (and TOAST) visit, so the work here is bounded
    by what the page needs: the matches are read in slices of the store, newest
    first in the sort's order (by pk for rank, by publication date for newest and
    oldest), until the page (and for rank the RANK_WINDOW window) is complete.
    The total is exact when the slices covered every match; otherwise it is
    estimated from the density of matches in the slices read (a Total with
    exact=False). The window is ranked by reading its rows again by their
    physical address (ctid), found by the slices: on a 1M-document store, reading
    1,000 rows by ctid took 6 ms, looking them up in the pk index again 13 ms with
    the index in the buffers and 64 ms without."""
    from . import RANK_WINDOW, Total

    tsq = _tsquery(q)
    match = [_PG_TSV.op("@@")(tsq), *conds]
    slices = None if sort == "rank" else _date_slices(conn, conds, newest=sort == "newest")
    # One round trip: the store's pk range, planned with the session's settings, and
    # the settings of this search's later statements (in force from execution on):
    # a common word matches most of a large store, so its bitmap must stay exact (no
    # lossy pages, whose every row would be rechecked); JIT compiling costs more
    # than these short queries gain; and bitmap scans only, because walking an index
    # in order and testing each row's tsvector (read from TOAST) looks cheap to the
    # planner and is not.
    lo_pk, hi_pk = conn.execute(
        select(func.min(D.c.pk), func.max(D.c.pk))
        .add_columns(*_pg_set(work_mem="64MB", jit="off", enable_indexscan="off", enable_seqscan="off"))
    ).one()[:2]
    if hi_pk is None:
        _pg_settings(conn, **_PG_RESTORE)
        return [], Total(0), {}
    if sort == "rank":
        n_ranked, ranked_off, n_rest, rest_off = _window_split(RANK_WINDOW, limit, offset)
        need = RANK_WINDOW + (rest_off + n_rest if n_rest else 0)
        slices = _pk_slices(lo_pk, hi_pk)
    else:
        need = offset + limit
    found, covered = _probe(conn, match, slices, need, hi_pk - lo_pk + 1)
    # counting what was not read would cost a heap visit per match: it is estimated
    total = Total(len(found)) if covered >= 1 else Total(max(round(len(found) / covered), len(found) + 1), exact=False)
    page: list[tuple[int, float]] = []
    if sort == "rank":
        by_pk = sorted(found, key=lambda r: r.pk, reverse=True)
        window = by_pk[:RANK_WINDOW]
        if n_ranked and window:
            page += _ranked_page(conn, tsq, window, n_ranked, ranked_off)
        if n_rest:
            page += [(r.pk, 0.0) for r in by_pk[RANK_WINDOW + rest_off:RANK_WINDOW + rest_off + n_rest]]
    else:
        sign = -1 if sort == "newest" else 1
        dated = sorted((r for r in found if r.key is not None), key=lambda r: (r.key, r.pk), reverse=sign < 0)
        undated = sorted((r for r in found if r.key is None), key=lambda r: sign * r.pk)
        page = [(r.pk, 0.0) for r in (dated + undated)[offset:offset + limit]]
    snippets: dict[int, str] = {}
    restore = _pg_set(**_PG_RESTORE)  # executed after this statement was planned
    if page:
        opts = f"StartSel={HL_START}, StopSel={HL_END}, MaxWords=30, MinWords=12, MaxFragments=1"
        head = func.ts_headline(_PG_SIMPLE, D.c.text, tsq, literal_column("'" + opts + "'"))
        snippets = {r[0]: r[1] for r in conn.execute(
            select(D.c.pk, head.label("snippet")).add_columns(*restore)
            .where(D.c.pk.in_([pk for pk, _ in page])))}
    else:
        conn.execute(select(*restore))
    return page, total, snippets


def _ranked_page(conn: Connection, tsq, window: list, limit: int, offset: int) -> list[tuple[int, float]]:
    """A page of the window's rows (pk, tid) by ts_rank, best first. The rows are read
    by ctid (a TID scan: no index lookups). Should a row have moved since the probe
    (updated or deleted meanwhile: fewer rows, or a row not of the window, come
    back), the window is read by pk instead."""
    score = func.ts_rank(_PG_TSV, tsq).label("score")
    order = (score.desc(), D.c.pk.desc())
    tids = cast(bindparam(None, "{" + ",".join(f'"{r.tid}"' for r in window) + "}", type_=String), ARRAY(TID))
    rows = conn.execute(select(D.c.pk, score, func.count().over().label("n")).where(_PG_CTID == any_(tids))
                        .order_by(*order).limit(limit).offset(offset)).all()
    pks = {r.pk for r in window}
    if not rows or rows[0].n != len(window) or any(r.pk not in pks for r in rows):
        rows = conn.execute(select(D.c.pk, score).where(D.c.pk == any_(_int_array(sorted(pks))))
                            .order_by(*order).limit(limit).offset(offset)).all()
    return [(r.pk, float(r.score or 0.0)) for r in rows]


# Fewer documents than this left unread by a PostgreSQL search are read too, so that
# small stores and nearly complete reads give exact totals.
SMALL_REST = 10_000


def _probe(conn: Connection, match: list, slices, need: int, n_docs: int) -> tuple[list, float]:
    """Read matches slice by slice, each slice a share of the store in the sort's order
    (the first about 2 * need documents, then growing with the density of matches
    seen), until ``need`` are found (and more than SMALL_REST documents are left) or
    nothing is left. Returns the rows found (pk, tid, key) and the share of the
    store the slices covered (1: all of it)."""
    found: list = []
    share = min(1.0, 2.0 * need / n_docs)
    while True:
        cond, key, covered = slices(share)
        found += conn.execute(select(D.c.pk, _PG_CTID.label("tid"), key.label("key")).where(*match, cond)).all()
        if covered >= 1:
            return found, covered
        if len(found) >= need:
            if (1 - covered) * n_docs > SMALL_REST:
                return found, covered
            share = 1.0  # little is left: read it, for an exact total
            continue
        grow = need / len(found) * 1.3 if found else 8.0
        share = min(1.0, covered * min(max(grow, 1.5), 64.0))


_PG_CTID = literal_column("documents.ctid")


class TID(UserDefinedType):
    """PostgreSQL's tid (a row's physical address), for a ctid = ANY(tid[]) parameter."""

    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "TID"
_PG_RESTORE = dict(enable_indexscan="on", enable_seqscan="on")


def _pg_set(**settings: str) -> list:
    """set_config calls (local to the transaction) as columns of a statement."""
    return [func.set_config(name, value, True) for name, value in settings.items()]


def _pg_settings(conn: Connection, **settings: str) -> None:
    """PostgreSQL settings for the rest of this transaction, in one round trip."""
    conn.execute(select(*_pg_set(**settings)))


def _int_array(values: list[int]):
    """A PostgreSQL integer[] parameter, sent as one text value (cheaper than one per element)."""
    return cast(bindparam(None, "{" + ",".join(str(int(v)) for v in values) + "}", type_=String), ARRAY(Integer))


def _pk_slices(lo_pk: int, hi_pk: int):
    """Slices of the most recently stored documents: pk in (hi - share * n, previous bound]."""
    n = hi_pk - lo_pk + 1
    state: dict[str, Any] = {"upper": None}

    def next_slice(share: float):
        upper = hi_pk if state["upper"] is None else state["upper"]
        bound = min(hi_pk - max(1, int(share * n)), upper - 1) if share < 1 else lo_pk - 1
        conds = [] if state["upper"] is None else [D.c.pk <= state["upper"]]
        if bound >= lo_pk:
            conds.append(D.c.pk > bound)
        state["upper"] = bound
        return and_(true(), *conds), D.c.pk, (hi_pk - bound) / n

    return next_slice


def _date_slices(conn: Connection, conds: list, *, newest: bool):
    """Slices by publication date from the newest (or oldest) day of the selection, a
    share of its days each; the last slice holds the undated documents too."""
    import datetime as dt

    col = D.c.published_begin
    first, last = conn.execute(select(func.min(col), func.max(col)).where(*conds)).one()
    try:
        d0, d1 = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    except (TypeError, ValueError):  # nothing dated, or a date this cannot step
        d0 = d1 = None
    n_days = (d1 - d0).days + 1 if d0 else 1
    state: dict[str, Any] = {"prev": None, "days": 0}

    def next_slice(share: float):
        days = min(n_days, max(state["days"] + 1, int(share * n_days))) if d0 else n_days
        state["days"] = days
        prev, bound = state["prev"], None
        if days < n_days:
            bound = (d1 - dt.timedelta(days=days - 1) if newest else d0 + dt.timedelta(days=days - 1)).isoformat()
        state["prev"] = bound
        if newest:
            conds = ([col < prev] if prev else []) + ([col >= bound] if bound else [])
        else:
            conds = ([col > prev] if prev else []) + ([col <= bound] if bound else [])
        if bound is None and conds:  # the last slice: the remaining days and the undated documents
            conds = [or_(conds[0], col.is_(None))]
        return and_(true(), *conds), col, days / n_days

    return next_slice


_SQLITE_NAMED = None


def _sqlite_where(conds: list) -> tuple[str, dict]:
    """Conditions on documents as SQL text with named parameters (' AND ...'), for the
    statements below that need SQLite's INDEXED BY, which SQLAlchemy does not render."""
    global _SQLITE_NAMED
    if not conds:
        return "", {}
    if _SQLITE_NAMED is None:
        from sqlalchemy.dialects import sqlite

        _SQLITE_NAMED = sqlite.dialect(paramstyle="named")
    c = and_(*conds).compile(dialect=_SQLITE_NAMED, compile_kwargs={"render_postcompile": True})
    return f" AND ({c})", dict(c.params)


def _match_page_sqlite(conn: Connection, q: str, conds: list, limit: int, offset: int,
                       sort: str) -> tuple[list[tuple[int, float]], int, dict[int, str]]:
    from . import RANK_WINDOW, Total

    expr = fts5_query(q)
    if not expr:
        return [], 0, {}
    where, params = _sqlite_where(conds)
    params.update(q=expr, limit=limit, offset=offset)
    # The full-text match drives every statement (FTS5 reads its matches in rowid
    # order); filters are read from the covering index ix_documents_filter, never
    # from the (large) document rows. CROSS JOIN keeps SQLite from walking a
    # filter's index and probing the full-text index per row.
    fts = "FROM documents_fts WHERE documents_fts MATCH :q"
    filtered = ("FROM documents_fts CROSS JOIN documents INDEXED BY ix_documents_filter "
                f"ON documents.pk = documents_fts.rowid WHERE documents_fts MATCH :q{where}")
    source = filtered if where else fts
    page: list[tuple[int, float]] = []
    total = None
    if sort == "rank":
        floor = conn.execute(text(
            f"SELECT documents_fts.rowid {source} ORDER BY documents_fts.rowid DESC LIMIT 1 OFFSET :w"),
            {**params, "w": RANK_WINDOW - 1}).scalar()
        window = RANK_WINDOW if floor is not None else None  # None: every match is in the window
        n_ranked, ranked_off, n_rest, rest_off = _window_split(window or 2**62, limit, offset)
        if n_ranked:
            above = " AND documents_fts.rowid >= :floor" if floor is not None else ""
            rows = conn.execute(text(
                f"SELECT documents_fts.rowid AS pk, -bm25(documents_fts, 2.0, 1.0) AS score {source}{above} "
                "ORDER BY score DESC, pk DESC LIMIT :n OFFSET :o"),
                {**params, "floor": floor, "n": n_ranked, "o": ranked_off}).all()
            page += [(r.pk, float(r.score)) for r in rows]
        if n_rest and floor is not None:
            rows = conn.execute(text(
                f"SELECT documents_fts.rowid AS pk {source} AND documents_fts.rowid < :floor "
                "ORDER BY documents_fts.rowid DESC LIMIT :n OFFSET :o"),
                {**params, "floor": floor, "n": n_rest, "o": rest_off}).all()
            page += [(r.pk, 0.0) for r in rows]
    else:
        order = ("documents.published_begin IS NULL, documents.published_begin DESC, documents.pk DESC"
                 if sort == "newest" else
                 "documents.published_begin IS NULL, documents.published_begin ASC, documents.pk ASC")
        # Every match is sorted by date: the match runs once (materialised), then
        # the filters and dates come from the covering index.
        rows = conn.execute(text(
            "WITH m AS MATERIALIZED (SELECT rowid AS pk FROM documents_fts WHERE documents_fts MATCH :q) "
            "SELECT m.pk, count(*) OVER () AS total "
            "FROM m JOIN documents INDEXED BY ix_documents_filter ON documents.pk = m.pk "
            f"WHERE 1=1{where} ORDER BY {order} LIMIT :limit OFFSET :offset"), params).all()
        page = [(r.pk, 0.0) for r in rows]
        if rows:
            total = rows[0].total
    if total is None:
        if where:
            total = conn.execute(text(
                "WITH m AS MATERIALIZED (SELECT rowid AS pk FROM documents_fts WHERE documents_fts MATCH :q) "
                "SELECT count(*) FROM m JOIN documents INDEXED BY ix_documents_filter ON documents.pk = m.pk "
                f"WHERE 1=1{where}"), params).scalar_one()
        else:
            total = conn.execute(text(f"SELECT count(*) {fts}"), params).scalar_one()
    snippets: dict[int, str] = {}
    if page:
        pks = {f"p{i}": pk for i, (pk, _) in enumerate(page)}
        snip = f"snippet(documents_fts, 1, '{HL_START}', '{HL_END}', '…', 16)"  # fixed text
        snippets = {r.pk: r.snippet for r in conn.execute(text(
            f"SELECT rowid AS pk, {snip} AS snippet FROM documents_fts WHERE documents_fts MATCH :q "
            f"AND rowid IN ({', '.join(':' + k for k in pks)})"), {"q": expr, **pks})}
    return page, Total(total), snippets


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


def _in(dialect: str, col, values):
    """col IN (integers) with the list as one parameter: a JSON array on SQLite, an
    integer[] on PostgreSQL (not a placeholder per value to render and bind)."""
    values = [int(v) for v in values]
    if dialect == "sqlite":
        return col.in_(select(literal_column("value")).select_from(
            func.json_each(bindparam(None, json.dumps(values), type_=String))))
    return col == any_(_int_array(values))


def _entity_docs(name: str, type: str):
    """(doc_pk, published_begin, n) for each document entity that is the entity (n: its
    mentions, kept in entities.n_mentions) and each unlinked mention of its name (n = 1).
    Both parts are found by index, and the linked part never reads the documents."""
    linked = (select(E.c.doc_pk.label("doc_pk"), E.c.published_begin.label("pb"), E.c.n_mentions.label("n"))
              .where(is_entity(name), E.c.type == type, E.c.n_mentions > 0))
    plain = (select(M.c.doc_pk, D.c.published_begin, literal_column("1"))
             .select_from(M.join(D, D.c.pk == M.c.doc_pk))
             .where(M.c.text == name, M.c.entity.is_(None), M.c.type == type))
    return union_all(linked, plain).subquery()


def _newest_first(pb, *keys) -> list:
    """Published interval start descending, undated last, then the keys (as given)."""
    return [pb.is_(None), pb.desc(), *keys]


def get_entity(conn: Connection, dialect: str, name: str, type: str, *, limit: int = 20) -> Optional[dict]:
    """One entity's report.

    Counts and mentions per month cover all its documents (aggregated in the
    database from its document entities, found by index); quotes by it cover all
    its quotes (the newest ``limit`` are listed); quotes about it, co-occurring
    entities and places come from its NEWEST_DOCS newest documents, so that the
    report costs about the same for a rare and a frequent entity
    (``/api/quotes?mentioned=`` and ``/api/places?entity=`` give all)."""
    u = _entity_docs(name, type)
    # one row per document (date and mentions), newest first; counted here in one pass
    own = conn.execute(select(u.c.doc_pk, u.c.pb, func.sum(u.c.n).label("n")).group_by(u.c.doc_pk, u.c.pb)
                       .order_by(*_newest_first(u.c.pb, u.c.doc_pk.desc()))).all()
    if not own:
        return None
    by_month: dict[Optional[str], list[int]] = {}
    for r in own:
        m = by_month.setdefault(r.pb[:7] if r.pb else None, [0, 0])
        m[0] += r.n
        m[1] += 1
    published = {r.doc_pk: r.pb for r in own[:max(NEWEST_DOCS, limit)]}
    newest = [r.doc_pk for r in own[:NEWEST_DOCS]]

    em = entity_mentions(name, type).subquery()
    spans: dict[int, list[tuple[int, int]]] = {}
    aliases = set()
    in_newest = lambda col: _in(dialect, col, newest)  # noqa: E731
    for r in conn.execute(select(em.c.doc_pk, em.c.start, em.c.end, em.c.text).where(in_newest(em.c.doc_pk))):
        spans.setdefault(r.doc_pk, []).append((r.start, r.end))
        aliases.add(r.text)
    for (raw,) in conn.execute(select(E.c.aliases).where(is_entity(name), E.c.type == type).distinct().limit(200)):
        try:
            aliases.update(a for a in json.loads(raw) if isinstance(a, str))
        except ValueError:
            pass
    aliases.discard(name)

    def quote_page(keys: list[tuple[int, int]]) -> list[dict]:
        if not keys:
            return []
        items = {(r.doc_pk, r.idx): r for r in conn.execute(
            select(Q.c.doc_pk, *_quote_cols()).select_from(Q.join(D, D.c.pk == Q.c.doc_pk))
            .where(tuple_(Q.c.doc_pk, Q.c.idx).in_(keys)))}
        return [_quote_item(items[k]) for k in keys if k in items]

    # quotes by: a speaker linked to the entity, its name as the speaker's name, or
    # (in its newest documents) as the speaker's text; counted and paged in the database
    by_u = union(
        select(Q.c.doc_pk, Q.c.idx, E.c.published_begin.label("pb"))
        .select_from(Q.join(E, and_(E.c.doc_pk == Q.c.doc_pk, E.c.id == Q.c.speaker_entity))).where(is_entity(name)),
        select(Q.c.doc_pk, Q.c.idx, D.c.published_begin).select_from(Q.join(D, D.c.pk == Q.c.doc_pk))
        .where(Q.c.speaker_name == name),
        select(Q.c.doc_pk, Q.c.idx, D.c.published_begin).select_from(Q.join(D, D.c.pk == Q.c.doc_pk))
        .where(in_newest(Q.c.doc_pk), Q.c.speaker_text == name),
    ).subquery()
    by_rows = conn.execute(select(by_u.c.doc_pk, by_u.c.idx, func.count().over().label("total"))
                           .order_by(*_newest_first(by_u.c.pb, by_u.c.doc_pk.desc(), by_u.c.idx))
                           .limit(limit)).all()
    # quotes about: a mention of it inside the quote, or its name in the quote's text
    about = []
    lname = name.lower()
    for r in conn.execute(select(Q.c.doc_pk, Q.c.idx, Q.c.start, Q.c.end, Q.c.text)
                          .where(in_newest(Q.c.doc_pk))):
        if lname in r.text.lower() or any(r.start <= s and e <= r.end for s, e in spans.get(r.doc_pk, ())):
            about.append((r.doc_pk, r.idx))
    pub = published.get
    about.sort(key=lambda k: (pub(k[0]) is not None, pub(k[0]) or "", k[0], -k[1]), reverse=True)

    # co-occurring entities in the newest documents: document entities under their
    # cross-document name (mentions from entities.n_mentions), unlinked mentions by text
    co = union_all(
        select(func.coalesce(GE.c.name, E.c.name).label("name"), E.c.type.label("type"),
               E.c.doc_pk.label("doc_pk"), E.c.n_mentions.label("n"))
        .select_from(E.outerjoin(GE, GE.c.id == E.c.global_id)).where(in_newest(E.c.doc_pk), E.c.n_mentions > 0),
        select(M.c.text, M.c.type, M.c.doc_pk, literal_column("1")).where(in_newest(M.c.doc_pk), M.c.entity.is_(None)),
    ).subquery()
    g = (select(co.c.name, co.c.type, func.count(distinct(co.c.doc_pk)).label("documents"),
                func.sum(co.c.n).label("mentions"))
         .where(or_(co.c.name != name, co.c.type != type)).group_by(co.c.name, co.c.type).subquery())
    cooc = conn.execute(select(g).order_by(g.c.documents.desc(), g.c.mentions.desc(), g.c.name, g.c.type)
                        .limit(limit)).all()
    pl = _place_groups([in_newest(P.c.doc_pk)])
    places = conn.execute(select(pl).order_by(pl.c.documents.desc(), pl.c.label).limit(limit)).all()
    recent = [r.doc_pk for r in own[:limit]]
    docs_items = {r.pk: r for r in conn.execute(
        select(D.c.pk, D.c.id, D.c.title, D.c.published, D.c.source, D.c.language).where(_in(dialect, D.c.pk, recent)))}
    return dict(
        name=name, type=type, aliases=sorted(aliases), mentions=int(sum(m[0] for m in by_month.values())),
        documents=len({r.doc_pk for r in own}),
        mentions_by_month=[dict(month=k, mentions=int(v[0]), documents=v[1])
                           for k, v in sorted(by_month.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))],
        quotes_by=dict(total=by_rows[0].total if by_rows else 0,
                       items=quote_page([(r.doc_pk, r.idx) for r in by_rows])),
        quotes_about=dict(total=len(about), items=quote_page(about[:limit])),
        co_occurring=[dict(name=r.name, type=r.type, documents=r.documents, mentions=int(r.mentions)) for r in cooc],
        newest_documents_counted=len(newest),
        places=[_place_dict(r) for r in places],
        recent_documents=[_doc_row(docs_items[pk]) for pk in recent if pk in docs_items],
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
        # the selected documents are found once, for the named and the unnamed places
        docs = pks.cte("selected")
        if dialect == "sqlite":
            docs = docs.prefix_with("MATERIALIZED")
        conds.append(P.c.doc_pk.in_(select(docs.c.pk)))
    g = _place_groups(conds)
    # one pass: the page and the number of groups (a window count over the grouping)
    rows = conn.execute(select(g, func.count().over().label("total"))
                        .order_by(g.c.documents.desc(), g.c.mentions.desc(), g.c.label, g.c.lat, g.c.lon)
                        .limit(limit).offset(offset)).all()
    if rows:
        total = rows[0].total
    else:
        total = conn.execute(select(func.count()).select_from(g)).scalar_one() if offset else 0
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
