"""Entities across documents and languages: incremental, explainable linking.

A document entity links to a global entity through *strong keys*: the name
key of each of its names, qualified by type (``PER:vladimir putin``,
``ORG:isv``), or for resolved places the gazetteer id (``geo:706483``), so
Charkiv, Kharkiv and Харків meet. Entities that share a key are one global
entity; a document entity whose keys belong to two global entities merges
them. A person known only by a surname ("Poetin") attaches to the one global
person who has that surname; while none or several do, the surname-only
mentions stay a group of their own, so two people with one surname are never
merged through it. The resulting groups are the connected components of the
key graph, so they do not depend on the order of ingestion (the surname step
depends on whether a surname is unique, which the tests cover).

Every link records its reason (``entities.link_reason``), every merge and
split is logged (``entity_log``), and users can merge and split by hand.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from operator import itemgetter
from types import SimpleNamespace
from typing import Any, Optional

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from ..document import Article, Entity
from ..nlp.entities import is_acronym, name_key
from . import schema as S


def strong_keys(e: Entity, lang: Optional[str]) -> list[str]:
    if e.type == "LOC" and e.geonames_id:
        return [f"geo:{e.geonames_id}"]
    names = [e.name, *e.aliases]
    has_full = any(len(n.split()) > 1 for n in names if not is_acronym(n))
    keys: dict[str, None] = {}
    for n in names:
        # A surname next to a full name is a weak key: "Bush" must not join
        # two different Bushes.
        if e.type == "PER" and has_full and len(n.split()) == 1:
            continue
        k = name_key(n, lang)
        if k:
            keys.setdefault(f"{e.type}:{k}", None)
    return list(keys)


def surname_of(e: Entity, lang: Optional[str]) -> Optional[str]:
    if e.type != "PER":
        return None
    words = name_key(e.name, lang).split()
    return words[-1] if len(words) > 1 else None


def is_surname_only(e: Entity) -> bool:
    return e.type == "PER" and all(len(n.split()) == 1 for n in [e.name, *e.aliases])


@lru_cache(maxsize=100_000)
def _plan(type_: str, geonames_id: Optional[int], name: str, aliases: tuple[str, ...],
          lang: Optional[str]) -> tuple[tuple[str, ...], Optional[str], bool]:
    """Strong keys, surname and surname-only flag of an entity (the same
    names recur in document after document)."""
    e: Any = SimpleNamespace(name=name, type=type_, aliases=aliases, geonames_id=geonames_id)  # what they read
    return tuple(strong_keys(e, lang)), surname_of(e, lang), is_surname_only(e)


def _better_name(a: tuple[str, Optional[str]], b: tuple[str, Optional[str]]) -> tuple[str, Optional[str]]:
    """The fuller name; on a tie the English form (the international
    spelling), then the alphabetically first, so the choice is order-free."""
    ra = (len(a[0].split()), a[1] == "en", len(a[0]))
    rb = (len(b[0].split()), b[1] == "en", len(b[0]))
    if ra != rb:
        return a if ra > rb else b
    return a if a[0] <= b[0] else b


def _new_id(seed: str, conn: Connection) -> str:
    base = "E" + hashlib.blake2b(seed.encode("utf-8"), digest_size=6).hexdigest()
    gid, n = base, 1
    while conn.execute(select(S.global_entities.c.id).where(S.global_entities.c.id == gid)).first():
        n += 1
        gid = f"{base}-{n}"
    return gid


def _log(conn: Connection, action: str, gid: str, other: Optional[str], detail: str) -> None:
    insert_rows(conn, S.entity_log, ("action", "global_id", "other_id", "detail"), [(action, gid, other, detail)])


_SQL: dict[tuple, str] = {}


def insert_rows(conn: Connection, table, columns: tuple[str, ...], rows: list[tuple], ignore: bool = False) -> None:
    """Insert positional rows in one executemany, past SQLAlchemy's per-row
    parameter handling (which costs more than SQLite's insert). ``ignore``
    skips rows whose key exists (ON CONFLICT DO NOTHING, both dialects)."""
    if not rows:
        return
    style = conn.dialect.paramstyle
    if style not in ("qmark", "format", "pyformat"):
        stmt = _insert_ignore(conn, table) if ignore else insert(table)
        conn.execute(stmt, [dict(zip(columns, r)) for r in rows])
        return
    key = (conn.dialect.name, style, table.name, columns, ignore)
    sql = _SQL.get(key)
    if sql is None:
        q = conn.dialect.identifier_preparer
        mark = "?" if style == "qmark" else "%s"
        sql = (f"INSERT INTO {q.format_table(table)} ({', '.join(q.quote(c) for c in columns)}) "
               f"VALUES ({', '.join([mark] * len(columns))})" + (" ON CONFLICT DO NOTHING" if ignore else ""))
        _SQL[key] = sql
    # One prepared statement for all rows: SQLite runs it per row in-process,
    # psycopg pipelines the rows to PostgreSQL (faster there than one long
    # multi-row VALUES, measured).
    conn.exec_driver_sql(sql, rows)


def insert_returning(conn: Connection, table, columns: tuple[str, ...], rows: list[tuple],
                     returning: tuple[str, ...], size: int = 100) -> list[tuple]:
    """Insert positional rows with multi-row VALUES, ``size`` rows a
    statement, and return the ``returning`` columns of the new rows (in no
    particular order)."""
    if conn.dialect.paramstyle not in ("qmark", "format", "pyformat"):
        stmt = insert(table).returning(*(table.c[c] for c in returning))
        return [tuple(r) for r in conn.execute(stmt, [dict(zip(columns, r)) for r in rows])]
    q = conn.dialect.identifier_preparer
    head = (f"INSERT INTO {q.format_table(table)} ({', '.join(q.quote(c) for c in columns)}) VALUES ")
    one = "(" + ", ".join("?" * len(columns)) + ")"
    tail = " RETURNING " + ", ".join(q.quote(c) for c in returning)
    out: list[tuple] = []
    for chunk in _in_chunks(rows, size):
        sql = _driver_sql(conn, head + ", ".join([one] * len(chunk)) + tail)
        out.extend(conn.exec_driver_sql(sql, tuple(v for r in chunk for v in r)).all())
    return out


def _select_in(conn: Connection, sql: str, values: list, size: int = 500) -> list[tuple]:
    """Rows of a fixed query whose ``{}`` (after a column) matches any of
    these values: ``IN (?, ...)`` in chunks on SQLite, ``= ANY(array)`` on
    PostgreSQL (a long IN list costs PostgreSQL more to plan than to run)."""
    if conn.dialect.name == "postgresql":
        return conn.exec_driver_sql(sql.format("= ANY(%s)"), (list(values),)).all() if values else []
    rows: list[tuple] = []
    for chunk in _in_chunks(values, size):
        marks = ", ".join("?" * len(chunk))
        rows.extend(conn.exec_driver_sql(_driver_sql(conn, sql.format(f"IN ({marks})")), tuple(chunk)).all())
    return rows


def _driver_sql(conn: Connection, sql: str) -> str:
    """Fixed SQL written with ``?`` marks, in the driver's parameter style."""
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


_MERGE_MOVE = (  # parameters (dst, src); names dst already has are skipped
    "UPDATE entity_keys SET global_id = ? WHERE global_id = ?",
    "UPDATE entities SET global_id = ? WHERE global_id = ?",
    "INSERT INTO entity_surnames (global_id, surname) SELECT CAST(? AS VARCHAR(64)), surname "
    "FROM entity_surnames WHERE global_id = ? ON CONFLICT DO NOTHING",
    'INSERT INTO entity_aliases (global_id, alias, "key", language) SELECT CAST(? AS VARCHAR(64)), alias, "key", '
    "language FROM entity_aliases WHERE global_id = ? ON CONFLICT DO NOTHING",
)
_MERGE_DROP = (  # parameter (src,)
    "DELETE FROM entity_surnames WHERE global_id = ?",
    "DELETE FROM entity_aliases WHERE global_id = ?",
    "DELETE FROM global_entities WHERE id = ?",
)


def merge(conn: Connection, src: str, dst: str, detail: str, action: str = "merge") -> tuple[str, bool]:
    """Move everything of global entity ``src`` to ``dst``; returns the name
    and surname-only flag ``dst`` has afterwards."""
    if src == dst:
        row = conn.execute(select(S.global_entities.c.name, S.global_entities.c.surname_only)
                           .where(S.global_entities.c.id == dst)).first()
        return (row.name, bool(row.surname_only)) if row else (dst, False)
    rows = {r.id: r for r in conn.exec_driver_sql(_driver_sql(
        conn, "SELECT id, name, surname_only, geonames_id FROM global_entities WHERE id IN (?, ?)"), (src, dst))}
    if src not in rows or dst not in rows:
        raise KeyError(f"no global entity {src if src not in rows else dst}")
    # Fixed statements sent straight to the driver: a merge is a dozen of
    # them, and merges are common while a store is young.
    for sql in _MERGE_MOVE:
        conn.exec_driver_sql(_driver_sql(conn, sql), (dst, src))
    for sql in _MERGE_DROP:
        conn.exec_driver_sql(_driver_sql(conn, sql), (src,))
    name, _ = _better_name((rows[dst].name, None), (rows[src].name, None))
    surname_only = bool(rows[dst].surname_only and rows[src].surname_only)
    conn.exec_driver_sql(_driver_sql(
        conn, "UPDATE global_entities SET name = ?, surname_only = ?, geonames_id = ? WHERE id = ?"),
        (name, surname_only, rows[dst].geonames_id or rows[src].geonames_id, dst))
    recount(conn, dst)
    _log(conn, action, dst, src, detail)
    return name, surname_only


class Links:
    """What linking a batch decided, for the row writer: the reason of each
    document entity's link, and the global entities made for this batch, which
    are written once their counts are known (see ``count_entities``)."""

    def __init__(self) -> None:
        self.reasons: dict[int, str] = {}
        self.new_globals: dict[str, dict] = {}

    def reason(self, e: Entity) -> Optional[str]:
        return self.reasons.get(id(e))


def _in_chunks(values: list, size: int = 500):
    for i in range(0, len(values), size):
        yield values[i:i + size]


def link_documents(conn: Connection, articles: list[Article]) -> Links:
    """Give each entity of these documents its global entity (``global_id``)
    and the reason, inside the batch's own transaction, before the entity rows
    are written.

    The documents are linked one after another, with the decisions of
    storing them one by one, in memory: the store's keys, surnames and
    global entities for every name of the batch are read in one query each,
    the decisions (links, new global entities, merges) update that picture,
    and at the end each table gets one statement for the batch, merges
    included. Linking thus costs about a dozen statements per batch, not a
    few per entity."""
    out = Links()
    plans: dict[int, list] = {}
    lookup: set[str] = set()
    surnames: set[str] = set()
    for article in articles:
        lang = article.language
        plan = plans[id(article)] = []
        for e in article.entities:
            keys, surname, only = _plan(e.type, e.geonames_id, e.name, tuple(e.aliases), lang)
            if not keys:
                continue
            plan.append((e, keys, surname, only))
            lookup.update(keys)
            if surname:
                surnames.add(surname)
                lookup.add(f"PER:{surname}")
            if only:
                surnames.add(keys[0].split(":", 1)[1])
    if not lookup:
        return out
    K, SN, G = S.entity_keys, S.entity_surnames, S.global_entities
    # What the store knows of the batch's names: key -> global id, surname ->
    # global ids, and (name, surname_only, geonames_id) of each of those.
    owner: dict[str, str] = {}  # read through current(): merges leave it as it is
    by_surname: dict[str, list[str]] = {}
    surnames_of: dict[str, set[str]] = {}  # global id -> its surnames in by_surname
    info: dict[str, tuple[str, bool, Optional[int]]] = {}
    for key, gid, name, only, geo in _select_in(
            conn, 'SELECT k."key", k.global_id, g.name, g.surname_only, g.geonames_id FROM entity_keys k '
                  'LEFT JOIN global_entities g ON g.id = k.global_id WHERE k."key" {}', sorted(lookup)):
        owner[key] = gid
        if name is not None:
            info[gid] = (name, bool(only), geo)
    for sn, gid, name, only, geo in _select_in(
            conn, "SELECT s.surname, s.global_id, g.name, g.surname_only, g.geonames_id FROM entity_surnames s "
                  "LEFT JOIN global_entities g ON g.id = s.global_id WHERE s.surname {}", sorted(surnames)):
        by_surname.setdefault(sn, []).append(gid)
        surnames_of.setdefault(gid, set()).add(sn)
        if name is not None:
            info[gid] = (name, bool(only), geo)
    remap: dict[str, str] = {}

    def current(gid: str) -> str:
        while gid in remap:
            gid = remap[gid]
        return gid

    def known(gid: str) -> tuple[str, bool, Optional[int]]:
        if gid not in info:  # a key of a removed global entity: never expected
            row = conn.execute(select(G.c.name, G.c.surname_only, G.c.geonames_id).where(G.c.id == gid)).first()
            info[gid] = (row.name, bool(row.surname_only), row.geonames_id) if row else (gid, False, None)
        return info[gid]

    # Everything new waits until the end of the batch: new global entities
    # in out.new_globals, and here keys, surnames, aliases, changed names and
    # merges (in order).
    new_globals = out.new_globals
    new_keys: dict[str, str] = {}
    new_surnames: list[tuple[str, str]] = []
    aliases: dict[tuple[str, str], tuple] = {}
    pending_of: dict[str, set[str]] = {}  # global id -> its aliases in `aliases`
    stored_aliases: dict[str, set[str]] = {}  # of merged entities: names on record, in the store
    renamed: set[str] = set()
    merges: list[tuple[str, str, str]] = []

    def do_merge(src: str, dst: str, detail: str) -> None:
        """merge() as it would run here, on the picture in memory; written at the end."""
        (n_src, o_src, g_src), (n_dst, o_dst, g_dst) = known(src), known(dst)
        name, _ = _better_name((n_dst, None), (n_src, None))
        info[dst] = (name, o_dst and o_src, g_dst or g_src)
        merges.append((src, dst, detail))
        remap[src] = dst
        # The aliases as merge() would move them: a name both have keeps
        # dst's record (its key and language). Stored aliases of the two are
        # read here; the stored ones move at the end.
        need = [g for g in (src, dst) if g not in stored_aliases]
        for g in need:
            stored_aliases[g] = set()
        if need := [g for g in need if g not in new_globals]:
            q = select(S.entity_aliases.c.global_id, S.entity_aliases.c.alias).where(
                S.entity_aliases.c.global_id.in_(bindparam("gids", expanding=True)))
            for g, alias in conn.execute(q, {"gids": need}):
                stored_aliases[g].add(alias)
        for g in (src, dst):  # pending rows a stored one makes void
            for alias in stored_aliases[g] & pending_of.get(g, set()):
                del aliases[g, alias]
                pending_of[g].discard(alias)
        has = stored_aliases[dst] | pending_of.get(dst, set())
        for alias in stored_aliases.pop(src):
            if alias not in has:
                stored_aliases[dst].add(alias)
        for alias in pending_of.pop(src, ()):
            row = aliases.pop((src, alias))
            if alias not in has:
                aliases[dst, alias] = (dst, *row[1:])
                pending_of.setdefault(dst, set()).add(alias)
        for sn in surnames_of.pop(src, ()):
            by_surname[sn] = sorted({dst if g == src else g for g in by_surname[sn]})
            surnames_of.setdefault(dst, set()).add(sn)

    for article in articles:
        linked: list[tuple[str, Entity]] = []
        for e, keys, surname, only in plans[id(article)]:
            found = sorted({current(owner[k]) for k in keys if k in owner})
            gid: Optional[str] = None
            if found:
                gid = found[0]
                shared = next(k for k in keys if k in owner)
                reason = f"shares the name key {shared!r}"
                for other in found[1:]:
                    do_merge(other, gid, f"{e.name!r} in document {article.id} carries names of both")
            elif only:
                full = by_surname.get(keys[0].split(":", 1)[1], [])
                if len(full) == 1:
                    gid = current(full[0])
                    reason = f"surname of {known(gid)[0]}, the only person of that surname"
            if gid is None:
                # Keys are never deleted, so an id made from an unseen key is new.
                gid = "E" + hashlib.blake2b(keys[0].encode("utf-8"), digest_size=6).hexdigest()
                if gid not in new_globals:
                    new_globals[gid] = dict(id=gid, name=e.name, type=e.type, geonames_id=e.geonames_id,
                                            surname_only=only, n_docs=0, n_mentions=0,
                                            first_seen=None, last_seen=None)
                    info[gid] = (e.name, only, e.geonames_id)
                reason = "new entity"
            for k in keys:
                if k not in owner:
                    owner[k] = gid
                    new_keys[k] = gid
            if surname:
                have = by_surname.setdefault(surname, [])
                if gid not in have:
                    new_surnames.append((surname, gid))
                    have.append(gid)
                    surnames_of.setdefault(gid, set()).add(surname)
                lone = owner.get(f"PER:{surname}")
                if len(have) == 1 and lone and current(lone) != gid:
                    lone = current(lone)
                    if known(lone)[1]:
                        do_merge(lone, gid, f"surname-only mentions of {surname!r} belong to {e.name}, "
                                            "the only person of that surname")
            linked.append((gid, e))
            e.global_id = gid
            out.reasons[id(e)] = reason
        # The document's names: new aliases, and each global entity's best name.
        lang = article.language
        best: dict[str, str] = {}
        for gid, e in linked:
            gid = current(gid)
            for alias in dict.fromkeys([e.name, *e.aliases]):
                if (gid, alias) not in aliases and alias not in stored_aliases.get(gid, ()):
                    aliases[gid, alias] = (gid, alias, name_key(alias, lang), lang)
                    pending_of.setdefault(gid, set()).add(alias)
            canonical = _gazetteer_name(article, e)
            if canonical:  # a place is called by its gazetteer name, in every language
                best[gid] = canonical
            else:
                have_name = best.get(gid) or known(gid)[0]
                best[gid] = have_name if have_name == e.name else _better_name((have_name, None), (e.name, lang))[0]
        for gid, name in best.items():
            if name != known(gid)[0]:
                info[gid] = (name, *info[gid][1:])
                renamed.add(gid)
    _write_links(conn, current, info, new_globals, new_keys, new_surnames, aliases, renamed, merges)
    if remap:
        for article in articles:
            for e in article.entities:
                if e.global_id in remap:
                    e.global_id = current(e.global_id)
    return out


def _write_links(conn: Connection, current, info: dict, new_globals: dict[str, dict], new_keys: dict[str, str],
                 new_surnames: list[tuple[str, str]], aliases: dict[tuple[str, str], tuple], renamed: set[str],
                 merges: list[tuple[str, str, str]]) -> None:
    """Write what link_documents decided, one statement per table (and per
    kind of merge step), with every id as it is after the batch's merges."""
    for gid in [g for g in new_globals if current(g) != g]:
        del new_globals[gid]  # made and merged away within the batch: never written
    for gid, row in new_globals.items():
        row["name"], row["surname_only"], row["geonames_id"] = info[gid]
    if merges:
        # The merges move rows to global entities that must exist; new ones
        # are written now (counted by count_entities like the others).
        insert_rows(conn, S.global_entities, GLOBAL_COLUMNS, list(map(_global_row, new_globals.values())))
        new_globals.clear()
    insert_rows(conn, S.entity_keys, ("key", "global_id"), [(k, current(g)) for k, g in new_keys.items()])
    insert_rows(conn, S.entity_surnames, ("surname", "global_id"),
                list(dict.fromkeys((sn, current(g)) for sn, g in new_surnames)), ignore=True)
    insert_rows(conn, S.entity_aliases, ALIAS_COLUMNS, list(aliases.values()), ignore=True)
    if merges:
        # In order, so that a chain (a into b, then b into c) ends in c.
        for sql in _MERGE_MOVE:
            conn.exec_driver_sql(_driver_sql(conn, sql), [(dst, src) for src, dst, _ in merges])
        for sql in _MERGE_DROP:
            conn.exec_driver_sql(_driver_sql(conn, sql), [(src,) for src, _, _ in merges])
        insert_rows(conn, S.entity_log, ("action", "global_id", "other_id", "detail"),
                    [("merge", dst, src, detail) for src, dst, detail in merges])
        survivors = sorted({current(dst) for _, dst, _ in merges})
        recount_many(conn, survivors)
        renamed = renamed | set(survivors)
    changed = sorted(g for g in renamed if current(g) == g and g not in new_globals)
    if changed:
        conn.exec_driver_sql(_driver_sql(
            conn, "UPDATE global_entities SET name = ?, surname_only = ?, geonames_id = ? WHERE id = ?"),
            [(*info[g], g) for g in changed])


def link_document(conn: Connection, article: Article) -> Links:
    """One document: ``link_documents`` of a batch of one (its new global
    entities are written here, uncounted)."""
    links = link_documents(conn, [article])
    count_entities(conn, [], +1, links.new_globals)
    return links


GLOBAL_COLUMNS = ("id", "name", "type", "geonames_id", "surname_only", "n_docs", "n_mentions", "first_seen",
                  "last_seen")
ALIAS_COLUMNS = ("global_id", "alias", "key", "language")
_global_row = itemgetter(*GLOBAL_COLUMNS)

_COUNT_UP = ("UPDATE global_entities SET n_docs = n_docs + ?, n_mentions = n_mentions + ?, "
             "first_seen = CASE WHEN first_seen IS NULL OR first_seen > ? THEN ? ELSE first_seen END, "
             "last_seen = CASE WHEN last_seen IS NULL OR last_seen < ? THEN ? ELSE last_seen END WHERE id = ?")
_COUNT_DOWN = "UPDATE global_entities SET n_docs = n_docs - ?, n_mentions = n_mentions - ? WHERE id = ?"


def count_entities(conn: Connection, entity_rows: list[tuple], sign: int,
                   new_globals: Optional[dict[str, dict]] = None) -> None:
    """Add (``sign`` +1) or remove (-1) document entities to their global
    entities' counts: documents, mentions, first and last seen (removal
    leaves those two until the next recount). ``entity_rows`` are
    (global id, document pk, mentions, document date); the batch is
    aggregated into one statement. The batch's new global entities
    (``new_globals``) are written here, with their counts."""
    per: dict[str, list] = {}  # gid -> [documents, mentions, first day, last day]
    seen: set[tuple[str, Any]] = set()
    for gid, doc_pk, n_mentions, day in entity_rows:
        if not gid:
            continue
        c = per.get(gid)
        if c is None:
            c = per[gid] = [0, 0, None, None]
        if (gid, doc_pk) not in seen:
            seen.add((gid, doc_pk))
            c[0] += 1
        c[1] += n_mentions or 0
        if day is not None:
            if c[2] is None or day < c[2]:
                c[2] = day
            if c[3] is None or day > c[3]:
                c[3] = day
    if new_globals:
        rows = []
        for gid, row in new_globals.items():
            docs, ments, first, last = per.pop(gid, (0, 0, None, None)) if sign > 0 else (0, 0, None, None)
            rows.append(_global_row({**row, "n_docs": docs, "n_mentions": ments, "first_seen": first,
                                     "last_seen": last}))
        insert_rows(conn, S.global_entities, GLOBAL_COLUMNS, rows)
        new_globals.clear()
    if not per:
        return
    items = sorted(per.items())
    if sign > 0:
        conn.exec_driver_sql(_driver_sql(conn, _COUNT_UP), [(d, n, f, f, la, la, g) for g, (d, n, f, la) in items])
    else:
        conn.exec_driver_sql(_driver_sql(conn, _COUNT_DOWN), [(d, n, g) for g, (d, n, _, _) in items])


def count_document(conn: Connection, entity_rows: list[dict], sign: int) -> None:
    """One document's entity rows as dicts (the per-document API of earlier versions)."""
    count_entities(conn, [(r.get("global_id"), r.get("doc_pk"), r.get("n_mentions"), r.get("published_begin"))
                          for r in entity_rows], sign)


def uncount_documents(conn: Connection, doc_pks: list[int]) -> None:
    """Before documents are replaced or deleted. First and last seen keep
    their values until the next recount (a merge or split)."""
    e = S.entities
    q = (select(e.c.global_id, e.c.doc_pk, e.c.n_mentions, e.c.published_begin)
         .where(e.c.doc_pk.in_(bindparam("pks", expanding=True))))
    rows: list[tuple] = []
    for chunk in _in_chunks(sorted(doc_pks)):
        rows.extend(tuple(r) for r in conn.execute(q, {"pks": chunk}))
    count_entities(conn, rows, -1)


def recount_many(conn: Connection, gids: list[str]) -> None:
    """recount() of several global entities: one query, one update."""
    e = S.entities
    q = (select(e.c.global_id, func.count(func.distinct(e.c.doc_pk)), func.coalesce(func.sum(e.c.n_mentions), 0),
                func.min(e.c.published_begin), func.max(e.c.published_begin))
         .where(e.c.global_id.in_(bindparam("gids", expanding=True))).group_by(e.c.global_id))
    found: dict[str, tuple] = {}
    for chunk in _in_chunks(gids):
        found.update((r[0], tuple(r[1:])) for r in conn.execute(q, {"gids": chunk}))
    if gids:
        conn.exec_driver_sql(_driver_sql(
            conn, "UPDATE global_entities SET n_docs = ?, n_mentions = ?, first_seen = ?, last_seen = ? WHERE id = ?"),
            [(*found.get(g, (0, 0, None, None)), g) for g in gids])


def uncount_document(conn: Connection, doc_pk: int) -> None:
    uncount_documents(conn, [doc_pk])


def recount(conn: Connection, gid: str) -> None:
    n_docs, n_ment, first, last = conn.exec_driver_sql(_driver_sql(
        conn, "SELECT count(DISTINCT doc_pk), coalesce(sum(n_mentions), 0), min(published_begin), "
        "max(published_begin) FROM entities WHERE global_id = ?"), (gid,)).one()
    conn.exec_driver_sql(_driver_sql(
        conn, "UPDATE global_entities SET n_docs = ?, n_mentions = ?, first_seen = ?, last_seen = ? WHERE id = ?"),
        (n_docs, n_ment, first, last, gid))


def _gazetteer_name(article: Article, e: Entity) -> Optional[str]:
    if not e.geonames_id:
        return None
    return next((p.name for p in article.places if p.geonames_id == e.geonames_id and p.name), None)


def _insert_ignore(conn: Connection, table):
    """INSERT that skips rows whose primary key exists (both dialects)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert
    return sqlite_insert(table).on_conflict_do_nothing()


# --- user decisions -----------------------------------------------------------

def resolve(conn: Connection, ref: str) -> list[str]:
    """Global ids for an id or a name (any alias, any spelling)."""
    g = S.global_entities
    if conn.execute(select(g.c.id).where(g.c.id == ref)).first():
        return [ref]
    key = name_key(ref)
    ids = conn.execute(
        select(S.entity_aliases.c.global_id).where(or_(S.entity_aliases.c.alias == ref, S.entity_aliases.c.key == key))
        .distinct()
    ).scalars().all()
    return sorted(ids)


def split(conn: Connection, gid: str, alias: str) -> str:
    """Move the document entities of ``gid`` known by ``alias`` to a new
    global entity, and send future mentions of that alias there too."""
    rows = conn.execute(select(S.entities.c.doc_pk, S.entities.c.idx, S.entities.c.aliases, S.entities.c.name,
                               S.entities.c.type, S.entities.c.geonames_id)
                        .where(S.entities.c.global_id == gid)).all()
    moving = [r for r in rows if alias in json.loads(r.aliases) or r.name == alias]
    if not moving:
        raise KeyError(f"no document entity of {gid} is called {alias!r}")
    if len(moving) == len(rows):
        raise ValueError(f"every document entity of {gid} is called {alias!r}: nothing to split off")
    new = _new_id(f"split:{gid}:{alias}", conn)
    conn.execute(insert(S.global_entities).values(id=new, name=alias, type=moving[0].type,
                                                  geonames_id=moving[0].geonames_id, surname_only=False))
    for r in moving:
        conn.execute(update(S.entities).where(and_(S.entities.c.doc_pk == r.doc_pk, S.entities.c.idx == r.idx))
                     .values(global_id=new, link_reason=f"split from {gid} by the user"))
    alias_keys = {r.key for r in conn.execute(select(S.entity_aliases).where(
        and_(S.entity_aliases.c.global_id == gid, S.entity_aliases.c.alias == alias)))}
    alias_keys.add(name_key(alias))
    moved_keys = [f"{moving[0].type}:{k}" for k in alias_keys]
    conn.execute(update(S.entity_keys).where(and_(S.entity_keys.c.global_id == gid, S.entity_keys.c.key.in_(moved_keys)))
                 .values(global_id=new))
    conn.execute(update(S.entity_aliases).where(and_(S.entity_aliases.c.global_id == gid, S.entity_aliases.c.alias == alias))
                 .values(global_id=new))
    recount(conn, gid)
    recount(conn, new)
    _log(conn, "split", new, gid, f"the user split {alias!r} off {gid}")
    return new


# --- reading ------------------------------------------------------------------

def top_entities(conn: Connection, *, type: Optional[str] = None, top: int = 20,
                 date_from: Optional[str] = None, date_to: Optional[str] = None) -> list[dict[str, Any]]:
    """Global entities by mention count (in documents within the dates)."""
    m, e, d, g = S.mentions, S.entities, S.documents, S.global_entities
    if not date_from and not date_to:  # the kept counts: one index walk
        q = (select(g.c.id, g.c.name, g.c.type, g.c.n_mentions.label("mentions"), g.c.n_docs.label("documents"))
             .where(g.c.n_mentions > 0).order_by(g.c.n_mentions.desc(), g.c.name).limit(top))
        if type:
            q = q.where(g.c.type == type)
        out = [dict(r._mapping) for r in conn.execute(q)]
        for row in out:
            row["aliases"] = aliases_of(conn, row["id"])
        return out
    q = (select(g.c.id, g.c.name, g.c.type, func.count().label("mentions"),
                func.count(func.distinct(d.c.pk)).label("documents"))
         .select_from(m.join(e, and_(e.c.doc_pk == m.c.doc_pk, e.c.id == m.c.entity))
                      .join(g, g.c.id == e.c.global_id).join(d, d.c.pk == m.c.doc_pk))
         .group_by(g.c.id, g.c.name, g.c.type).order_by(func.count().desc(), g.c.name).limit(top))
    if type:
        q = q.where(g.c.type == type)
    if date_from:
        q = q.where(d.c.published_end >= date_from)
    if date_to:
        q = q.where(d.c.published_begin <= date_to)
    out = [dict(r._mapping) for r in conn.execute(q)]
    for row in out:
        row["aliases"] = aliases_of(conn, row["id"])
    return out


def aliases_of(conn: Connection, gid: str) -> list[str]:
    return sorted(conn.execute(select(S.entity_aliases.c.alias).where(S.entity_aliases.c.global_id == gid)).scalars())


# Quotes and co-occurrence are read from an entity's most recent documents:
# bounded work however famous the entity (Putin is in every other article).
RECENT_WINDOW = 500


def entity_report(conn: Connection, gid: str, limit: int = 20) -> dict[str, Any]:
    """Everything about one global entity: names, when, where, who said what."""
    g, e, d, q, m = S.global_entities, S.entities, S.documents, S.quotes, S.mentions
    row = conn.execute(select(g).where(g.c.id == gid)).mappings().first()
    if row is None:
        raise KeyError(gid)
    recent = (select(e.c.doc_pk, e.c.id.label("eid"), e.c.published_begin).where(e.c.global_id == gid)
              .order_by(e.c.published_begin.desc()).limit(RECENT_WINDOW).cte("recent"))
    docs = conn.execute(
        select(d.c.id, d.c.title, d.c.published, d.c.source)
        .select_from(recent.join(d, d.c.pk == recent.c.doc_pk)).distinct()
        .order_by(d.c.published.desc(), d.c.id).limit(limit * 5)
    ).mappings().all()
    said = conn.execute(
        select(d.c.id.label("document"), q.c.text, q.c.kind, q.c.speaker_text, q.c.start, q.c.end)
        .select_from(recent.join(q, and_(q.c.doc_pk == recent.c.doc_pk, q.c.speaker_entity == recent.c.eid))
                     .join(d, d.c.pk == q.c.doc_pk))
        .order_by(recent.c.published_begin.desc(), q.c.start).limit(limit)
    ).mappings().all()
    about = conn.execute(
        select(d.c.id.label("document"), q.c.text, q.c.kind, q.c.speaker_name, q.c.start, q.c.end,
               recent.c.published_begin)
        .select_from(recent.join(m, and_(m.c.doc_pk == recent.c.doc_pk, m.c.entity == recent.c.eid))
                     .join(q, and_(q.c.doc_pk == m.c.doc_pk, m.c.start >= q.c.start, m.c.end <= q.c.end))
                     .join(d, d.c.pk == q.c.doc_pk))
        .distinct().order_by(recent.c.published_begin.desc(), q.c.start).limit(limit)
    ).mappings().all()
    co = conn.execute(
        select(g.c.id, g.c.name, g.c.type, func.count(func.distinct(e.c.doc_pk)).label("documents"))
        .select_from(recent.join(e, and_(e.c.doc_pk == recent.c.doc_pk, e.c.global_id != gid))
                     .join(g, g.c.id == e.c.global_id))
        .group_by(g.c.id, g.c.name, g.c.type)
        .order_by(func.count(func.distinct(e.c.doc_pk)).desc(), g.c.name).limit(limit)
    ).mappings().all()
    # A sample of link reasons (distinct over every row would scan them all).
    reasons = list(dict.fromkeys(conn.execute(
        select(e.c.name, e.c.link_reason).where(e.c.global_id == gid).limit(10 * limit)).all()))[:limit]
    log = conn.execute(select(S.entity_log.c.action, S.entity_log.c.other_id, S.entity_log.c.detail)
                       .where(or_(S.entity_log.c.global_id == gid, S.entity_log.c.other_id == gid))
                       .order_by(S.entity_log.c.id).limit(100)).mappings().all()
    return {
        "id": gid, "name": row["name"], "type": row["type"], "geonames_id": row["geonames_id"],
        "aliases": aliases_of(conn, gid),
        "n_documents": row["n_docs"], "n_mentions": row["n_mentions"],
        "first_seen": row["first_seen"], "last_seen": row["last_seen"],
        "documents": [dict(x) for x in docs],
        "quotes_by": [dict(x) for x in said],
        "quotes_about": [{k: v for k, v in x.items() if k != "published_begin"} for x in about],
        "co_occurring": [dict(x) for x in co],
        "window": f"quotes and co-occurring entities from the latest {RECENT_WINDOW} documents",
        "links": [{"name": n, "reason": r} for n, r in reasons],
        "log": [dict(x) for x in log],
    }


def groups(conn: Connection) -> set[frozenset[tuple[str, str]]]:
    """The partition of (document id, entity name) into global entities, for tests."""
    rows = conn.execute(select(S.entities.c.global_id, S.documents.c.id, S.entities.c.name)
                        .select_from(S.entities.join(S.documents, S.documents.c.pk == S.entities.c.doc_pk))).all()
    out: dict[str, set] = {}
    for gid, doc, name in rows:
        out.setdefault(gid, set()).add((doc, name))
    return {frozenset(v) for v in out.values()}

