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
from typing import Any, Optional

from sqlalchemy import and_, bindparam, case, delete, func, insert, or_, select, update
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


def _better_name(a: tuple[str, Optional[str]], b: tuple[str, Optional[str]]) -> tuple[str, Optional[str]]:
    """The fuller name; on a tie the English form (the international
    spelling), then the alphabetically first, so the choice is order-free."""
    def rank(x):
        name, lang = x
        return (len(name.split()), lang == "en", len(name), [-ord(c) for c in name])
    return a if rank(a) >= rank(b) else b


def _new_id(seed: str, conn: Connection) -> str:
    base = "E" + hashlib.blake2b(seed.encode("utf-8"), digest_size=6).hexdigest()
    gid, n = base, 1
    while conn.execute(select(S.global_entities.c.id).where(S.global_entities.c.id == gid)).first():
        n += 1
        gid = f"{base}-{n}"
    return gid


def _log(conn: Connection, action: str, gid: str, other: Optional[str], detail: str) -> None:
    conn.execute(insert(S.entity_log).values(action=action, global_id=gid, other_id=other, detail=detail))


def merge(conn: Connection, src: str, dst: str, detail: str, action: str = "merge") -> None:
    """Move everything of global entity ``src`` to ``dst``."""
    if src == dst:
        return
    g = S.global_entities
    rows = {r.id: r for r in conn.execute(select(g).where(g.c.id.in_([src, dst])))}
    if src not in rows or dst not in rows:
        raise KeyError(f"no global entity {src if src not in rows else dst}")
    conn.execute(update(S.entity_keys).where(S.entity_keys.c.global_id == src).values(global_id=dst))
    conn.execute(update(S.entities).where(S.entities.c.global_id == src).values(global_id=dst))
    for table, col in ((S.entity_surnames, "surname"), (S.entity_aliases, "alias")):
        have = set(conn.execute(select(table.c[col]).where(table.c.global_id == dst)).scalars())
        for r in conn.execute(select(table).where(table.c.global_id == src)).mappings().all():
            if r[col] not in have:
                conn.execute(insert(table).values({**r, "global_id": dst}))
        conn.execute(delete(table).where(table.c.global_id == src))
    name, _ = _better_name((rows[dst].name, None), (rows[src].name, None))
    conn.execute(update(g).where(g.c.id == dst).values(
        name=name,
        surname_only=bool(rows[dst].surname_only and rows[src].surname_only),
        geonames_id=rows[dst].geonames_id or rows[src].geonames_id,
    ))
    conn.execute(delete(g).where(g.c.id == src))
    recount(conn, dst)
    _log(conn, action, dst, src, detail)


def link_document(conn: Connection, article: Article) -> None:
    """Give each of the document's entities its global entity and the reason
    (``global_id``, ``link_reason``), inside the document's own transaction.
    Called before the entity rows are written. Lookups are batched per
    document: linking must stay cheap at hundreds of thousands of entities."""
    lang = article.language
    plans = []
    lookup: set[str] = set()
    surnames: set[str] = set()
    for e in article.entities:
        keys = strong_keys(e, lang)
        surname = surname_of(e, lang)
        only = is_surname_only(e)
        plans.append((e, keys, surname, only))
        lookup.update(keys)
        if surname:
            surnames.add(surname)
            lookup.add(f"PER:{surname}")
        if only and keys:
            surnames.add(keys[0].split(":", 1)[1])
    if not lookup:
        return
    K, SN, G = S.entity_keys, S.entity_surnames, S.global_entities
    owner = dict(conn.execute(select(K.c.key, K.c.global_id).where(K.c.key.in_(sorted(lookup)))).all())
    by_surname: dict[str, list[str]] = {}
    if surnames:
        for sn, gid in conn.execute(select(SN.c.surname, SN.c.global_id).where(SN.c.surname.in_(sorted(surnames)))):
            by_surname.setdefault(sn, []).append(gid)
    remap: dict[str, str] = {}

    def current(gid: str) -> str:
        while gid in remap:
            gid = remap[gid]
        return gid

    # New rows are written in one statement per table; a merge or a lookup of
    # a global entity first writes what is pending, so it sees every row.
    new_globals: dict[str, dict] = {}
    new_surnames: list[dict] = []

    def flush() -> None:
        if new_globals:
            conn.execute(insert(G), list(new_globals.values()))
            new_globals.clear()
        if new_surnames:
            conn.execute(insert(SN), new_surnames)
            new_surnames.clear()

    def do_merge(src: str, dst: str, detail: str) -> None:
        flush()
        merge(conn, src, dst, detail)
        remap[src] = dst
        for k, v in list(owner.items()):
            if v == src:
                owner[k] = dst
        for sn, gids in by_surname.items():
            by_surname[sn] = sorted({dst if g == src else g for g in gids})

    new_keys: dict[str, str] = {}
    pending: list[tuple[str, Entity, Optional[str]]] = []
    for e, keys, surname, only in plans:
        if not keys:
            continue
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
                flush()
                full_name = conn.execute(select(G.c.name).where(G.c.id == gid)).scalar()
                reason = f"surname of {full_name}, the only person of that surname"
        if gid is None:
            # Keys are never deleted, so an id made from an unseen key is new.
            gid = "E" + hashlib.blake2b(keys[0].encode("utf-8"), digest_size=6).hexdigest()
            new_globals.setdefault(gid, dict(id=gid, name=e.name, type=e.type, geonames_id=e.geonames_id,
                                             surname_only=only))
            reason = "new entity"
        for k in keys:
            if k not in owner:
                owner[k] = gid
                new_keys[k] = gid
        if surname:
            have = by_surname.setdefault(surname, [])
            if gid not in have:
                new_surnames.append(dict(surname=surname, global_id=gid))
                have.append(gid)
            lone = owner.get(f"PER:{surname}")
            if len(have) == 1 and lone and current(lone) != gid:
                lone = current(lone)
                flush()
                if conn.execute(select(G.c.surname_only).where(G.c.id == lone)).scalar():
                    do_merge(lone, gid, f"surname-only mentions of {surname!r} belong to {e.name}, "
                                        "the only person of that surname")
        pending.append((gid, e, _gazetteer_name(article, e)))
        e.global_id = gid
        e_reason[id(e)] = reason
    flush()
    if new_keys:
        # Written last, with the ids as they are after any merge above.
        conn.execute(insert(K), [{"key": k, "global_id": current(g)} for k, g in new_keys.items()])
    for e in article.entities:
        if e.global_id:
            e.global_id = current(e.global_id)
    _add_aliases(conn, [(current(g), e, c) for g, e, c in pending], lang)


def count_document(conn: Connection, entity_rows: list[dict], sign: int) -> None:
    """Add (or remove) one document's entities to their global entities' counts."""
    per: dict[str, list] = {}
    for r in entity_rows:
        if r.get("global_id"):
            c = per.setdefault(r["global_id"], [0, r.get("published_begin")])
            c[0] += r.get("n_mentions") or 0
    if not per:
        return
    G = S.global_entities
    day = bindparam("day")
    stmt = update(G).where(G.c.id == bindparam("gid")).values(
        n_docs=G.c.n_docs + bindparam("docs"),
        n_mentions=G.c.n_mentions + bindparam("ments"),
        first_seen=case((or_(G.c.first_seen.is_(None), G.c.first_seen > day), day), else_=G.c.first_seen)
        if sign > 0 else G.c.first_seen,
        last_seen=case((or_(G.c.last_seen.is_(None), G.c.last_seen < day), day), else_=G.c.last_seen)
        if sign > 0 else G.c.last_seen,
    )
    conn.execute(stmt, [{"gid": g, "docs": sign, "ments": sign * n, "day": d} for g, (n, d) in per.items()])


def uncount_document(conn: Connection, doc_pk: int) -> None:
    """Before a document is replaced or deleted. First and last seen keep
    their values until the next recount (a merge or split)."""
    rows = conn.execute(select(S.entities.c.global_id, S.entities.c.n_mentions, S.entities.c.published_begin)
                        .where(S.entities.c.doc_pk == doc_pk)).mappings().all()
    count_document(conn, [dict(r) for r in rows], -1)


def recount(conn: Connection, gid: str) -> None:
    e = S.entities
    n_docs, n_ment, first, last = conn.execute(
        select(func.count(func.distinct(e.c.doc_pk)), func.coalesce(func.sum(e.c.n_mentions), 0),
               func.min(e.c.published_begin), func.max(e.c.published_begin)).where(e.c.global_id == gid)).one()
    conn.execute(update(S.global_entities).where(S.global_entities.c.id == gid)
                 .values(n_docs=n_docs, n_mentions=n_ment, first_seen=first, last_seen=last))


# Reasons travel from linking to the row writer without entering the contract.
e_reason: dict[int, str] = {}


def link_reason(e: Entity) -> Optional[str]:
    return e_reason.pop(id(e), None)


def _gazetteer_name(article: Article, e: Entity) -> Optional[str]:
    if not e.geonames_id:
        return None
    return next((p.name for p in article.places if p.geonames_id == e.geonames_id and p.name), None)


def _add_aliases(conn: Connection, items: list[tuple[str, Entity, Optional[str]]], lang: Optional[str]) -> None:
    """Record new names of global entities and keep each one's best name."""
    if not items:
        return
    A, G = S.entity_aliases, S.global_entities
    gids = sorted({g for g, _, _ in items})
    have = set(conn.execute(select(A.c.global_id, A.c.alias).where(A.c.global_id.in_(gids))).all())
    names = dict(conn.execute(select(G.c.id, G.c.name).where(G.c.id.in_(gids))).all())
    rows, best = [], dict(names)
    for gid, e, canonical in items:
        for alias in dict.fromkeys([e.name, *e.aliases]):
            if (gid, alias) not in have:
                have.add((gid, alias))
                rows.append({"global_id": gid, "alias": alias, "key": name_key(alias, lang), "language": lang})
        if canonical:  # a place is called by its gazetteer name, in every language
            best[gid] = canonical
        else:
            best[gid], _ = _better_name((best[gid], None), (e.name, lang))
    if rows:
        conn.execute(insert(A), rows)
    for gid, name in best.items():
        if name != names.get(gid):
            conn.execute(update(G).where(G.c.id == bindparam("gid")).values(name=bindparam("new_name")),
                         [{"gid": gid, "new_name": name}])


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

