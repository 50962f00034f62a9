"""Entities within a document and across documents and languages.

The articles are short texts written for these tests. Mentions are given by
hand (as the NER would give them) so that these tests check the linking alone.
"""

import itertools
import re

import pytest

from kroniek.document import Article, Mention, Place, Quote, Speaker
from kroniek.nlp.entities import cluster, link_speakers, name_key
from kroniek.store import Store


def article(text: str, lang: str, mentions: dict[str, str], id: str, published="2022-09-14", places=()) -> Article:
    """Mentions: every occurrence of each name, with its type."""
    a = Article.new(text, id=id, language=lang, published=published)
    found = []
    for name, typ in mentions.items():
        for m in re.finditer(r"(?<!\w)" + re.escape(name) + r"(?!\w)", text):
            if not any(s < m.end() and m.start() < e for s, e, _ in found):
                found.append((m.start(), m.end(), typ))
    a.mentions = [Mention(start=s, end=e, text=text[s:e], type=t) for s, e, t in sorted(found)]
    a.places = [Place(start=m.start, end=m.end, text=m.text, name=n, kind="city", geonames_id=g)
                for m in a.mentions for (surface, n, g) in places if m.text == surface]
    a.entities = cluster(a)
    return a


@pytest.mark.parametrize("a, b, lang_a, lang_b", [
    ("Poetin", "Putin", "nl", "en"),
    ("Zelensky", "Zelenskyy", "en", "en"),
    ("Zelenski", "Zelenskij", "nl", "nl"),
    ("Zelensky", "Zelenskij", "en", "nl"),
    ("Tsjernihiv", "Chernihiv", "nl", "en"),
    ("Sjojgoe", "Shoigu", "nl", "en"),
    ("Charkiv", "Kharkiv", "nl", "en"),
])
def test_spelling_variants_share_a_key(a, b, lang_a, lang_b):
    assert name_key(a, lang_a) == name_key(b, lang_b)


def test_distinct_names_keep_distinct_keys():
    assert name_key("Putin", "en") != name_key("Pution", "en")
    assert name_key("Jan de Vries", "nl") != name_key("Piet de Vries", "nl")


def test_within_document_full_name_surname_and_acronym():
    text = ("Volgens het Institute for the Study of War (ISW) wil Vladimir Poetin de schuld afschuiven. "
            "Poetin zweeg. Het ISW schreef dat Rusland verliest; het Kremlin ontkende.")
    a = article(text, "nl", {"Institute for the Study of War": "ORG", "ISW": "ORG", "Vladimir Poetin": "PER",
                             "Poetin": "PER", "Rusland": "LOC", "Kremlin": "ORG"}, "d1")
    by_name = {e.name: e for e in a.entities}
    assert set(by_name) == {"Institute for the Study of War", "Vladimir Poetin", "Rusland", "Kremlin"}
    assert by_name["Institute for the Study of War"].aliases == ["Institute for the Study of War", "ISW"]
    assert by_name["Vladimir Poetin"].aliases == ["Vladimir Poetin", "Poetin"]
    assert all(m.entity for m in a.mentions)
    assert [e.id for e in a.entities] == ["e1", "e2", "e3", "e4"]


def test_within_document_two_people_one_surname_stay_apart():
    text = "Jan de Vries en Piet de Vries zijn broers. Jan de Vries woont in Utrecht."
    a = article(text, "nl", {"Jan de Vries": "PER", "Piet de Vries": "PER", "Utrecht": "LOC"}, "d2")
    assert sorted(e.name for e in a.entities if e.type == "PER") == ["Jan de Vries", "Piet de Vries"]


def test_speakers_get_the_entity_and_its_fullest_name():
    text = "Vladimir Poetin sprak. Poetin zei dat hij won."
    a = article(text, "nl", {"Vladimir Poetin": "PER", "Poetin": "PER"}, "d3")
    s = text.index("Poetin zei")
    a.quotes = [Quote(start=s + 15, end=len(text) - 1, text=text[s + 15:-1], kind="indirect",
                      speaker=Speaker(start=s, end=s + 6, text="Poetin", name="Poetin"))]
    link_speakers(a)
    assert a.quotes[0].speaker.entity == "e1" and a.quotes[0].speaker.name == "Vladimir Poetin"


KHARKIV = 706483
KYIV = 703448


def corpus() -> list[Article]:
    return [
        article("Vladimir Poetin sprak over Charkiv. Poetin gaf de schuld aan het leger. Volgens Zelensky is Kiev veilig.",
                "nl", {"Vladimir Poetin": "PER", "Poetin": "PER", "Charkiv": "LOC", "Zelensky": "PER", "Kiev": "LOC"},
                "nl-1", places=[("Charkiv", "Kharkiv", KHARKIV), ("Kiev", "Kyiv", KYIV)]),
        article("Russian President Vladimir Putin spoke about Kharkiv. Volodymyr Zelenskyy visited Kyiv.",
                "en", {"Vladimir Putin": "PER", "Kharkiv": "LOC", "Volodymyr Zelenskyy": "PER", "Kyiv": "LOC"},
                "en-1", published="2022-09-15", places=[("Kharkiv", "Kharkiv", KHARKIV), ("Kyiv", "Kyiv", KYIV)]),
        article("Putin said nothing. Zelenskij sprak in Kiev.", "en",
                {"Putin": "PER", "Zelenskij": "PER", "Kiev": "LOC"}, "en-2", places=[("Kiev", "Kyiv", KYIV)]),
        article("Jan de Vries en Piet de Vries gingen naar Utrecht.", "nl",
                {"Jan de Vries": "PER", "Piet de Vries": "PER", "Utrecht": "LOC"}, "nl-2"),
        article("De Vries zei niets.", "nl", {"De Vries": "PER"}, "nl-3"),
    ]


def test_cross_language_linking(tmp_path):
    store = Store(str(tmp_path / "k.db"))
    store.put_many(corpus())
    (putin,) = store.find_entities("Putin")
    report = store.entity(putin)
    assert {"Vladimir Poetin", "Poetin", "Vladimir Putin", "Putin"} <= set(report["aliases"])
    assert {d["id"] for d in report["documents"]} == {"nl-1", "en-1", "en-2"}
    assert report["first_seen"] == "2022-09-14" and report["last_seen"] == "2022-09-15"
    (zelensky,) = store.find_entities("Zelensky")
    assert {"Zelensky", "Volodymyr Zelenskyy", "Zelenskij"} <= set(store.entity(zelensky)["aliases"])
    (kharkiv,) = store.find_entities("Charkiv")
    assert store.find_entities("Kharkiv") == [kharkiv]
    assert store.find_entities("Kiev") == store.find_entities("Kyiv")
    # Two people named De Vries stay two; the bare surname joins neither.
    assert len(store.find_entities("Jan de Vries")) == 1
    assert store.find_entities("Jan de Vries") != store.find_entities("Piet de Vries")
    lone = store.find_entities("De Vries")
    assert store.entity(lone[0])["aliases"] == ["De Vries"] if len(lone) == 1 else True
    # Every link says why.
    assert all(link["reason"] for link in report["links"])


def test_linking_does_not_depend_on_order(tmp_path):
    docs = corpus()
    results = set()
    for i, order in enumerate(itertools.islice(itertools.permutations(range(len(docs))), 0, None, 17)):
        store = Store(str(tmp_path / f"o{i}.db"))
        for j in order:
            store.put(docs[j].model_copy(deep=True))
        results.add(frozenset(store.entity_groups()))
    assert len(results) == 1


def test_user_merge_and_split_are_logged_and_reversible(store_url):
    store = Store(store_url)
    store.put_many(corpus())
    (kyiv,) = store.find_entities("Kyiv")
    (kharkiv,) = store.find_entities("Kharkiv")
    store.merge_entities(kyiv, kharkiv)
    assert store.find_entities("Kharkiv") == [kyiv]
    assert any(x["action"] == "user-merge" for x in store.entity(kyiv)["log"])
    new = store.split_entity(kyiv, "Charkiv")
    assert store.find_entities("Charkiv") == [new]
    assert any(x["action"] == "split" for x in store.entity(new)["log"])
    top = store.entities(type="PER", top=5)
    assert top[0]["name"] in ("Vladimir Poetin", "Vladimir Putin") and top[0]["mentions"] == 4


def test_merges_inside_one_document_leave_no_dangling_keys(tmp_path):
    """An entity that creates a global entity, merged away by a later entity
    of the same document, must not leave keys pointing to the removed one."""
    from sqlalchemy import select

    from kroniek.document import Entity
    from kroniek.store import schema as S

    store = Store(str(tmp_path / "k.db"))
    for i in range(8):
        big, small = f"Groot Bedrijf {i}", f"Klein{i}"
        first = Article.new(f"{big} groeit.", id=f"a{i}", language="nl")
        first.entities = [Entity(id="e1", name=big, type="ORG", aliases=[big])]
        second = Article.new(f"{small} en {big}.", id=f"b{i}", language="nl")
        second.entities = [Entity(id="e1", name=small, type="ORG", aliases=[small]),
                           Entity(id="e2", name=big, type="ORG", aliases=[big, small])]
        store.put(first)
        store.put(second)
    with store.engine.connect() as c:
        known = set(c.execute(select(S.global_entities.c.id)).scalars())
        keys = c.execute(select(S.entity_keys.c.global_id)).scalars().all()
        linked = c.execute(select(S.entities.c.global_id)).scalars().all()
    assert set(keys) <= known and set(linked) <= known


def _snapshot(store: Store) -> tuple:
    """Everything linking writes, by names rather than ids where ids may differ."""
    from sqlalchemy import select

    from kroniek.store import schema as S

    with store.engine.connect() as c:
        g = {r.id: r for r in c.execute(select(S.global_entities))}
        globals_ = sorted((r.name, r.type, r.surname_only, r.n_docs, r.n_mentions, r.first_seen, r.last_seen)
                          for r in g.values())
        aliases = sorted((g[r.global_id].name, r.alias, r.key) for r in c.execute(select(S.entity_aliases)))
        keys = sorted((r.key, g[r.global_id].name) for r in c.execute(select(S.entity_keys)))
        surnames = sorted((r.surname, g[r.global_id].name) for r in c.execute(select(S.entity_surnames)))
        e = S.entities
        links = sorted((d, name, reason, g[gid].name) for d, name, reason, gid in c.execute(
            select(S.documents.c.id, e.c.name, e.c.link_reason, e.c.global_id)
            .join(S.documents, S.documents.c.pk == e.c.doc_pk)))
    return globals_, aliases, keys, surnames, links, frozenset(store.entity_groups())


def _kept_counts_match_recount(store: Store) -> None:
    from sqlalchemy import func, select

    from kroniek.store import schema as S

    e = S.entities
    with store.engine.connect() as c:
        kept = {r.id: (r.n_docs, r.n_mentions) for r in c.execute(select(S.global_entities))}
        actual = {gid: (docs, ments) for gid, docs, ments in c.execute(
            select(e.c.global_id, func.count(func.distinct(e.c.doc_pk)), func.sum(e.c.n_mentions))
            .group_by(e.c.global_id))}
    assert kept == {gid: actual.get(gid, (0, 0)) for gid in kept}


@pytest.mark.parametrize("order", [(0, 1, 2, 3, 4), (4, 3, 2, 1, 0), (2, 4, 0, 3, 1)])
def test_batches_link_exactly_as_one_by_one(tmp_path, order):
    """put_many links a batch in one pass; the result is the one of storing
    the same documents one at a time, in the same order."""
    docs = [corpus()[i] for i in order]
    one = Store(str(tmp_path / "one.db"))
    for d in docs:
        one.put(d.model_copy(deep=True))
    expected = _snapshot(one)
    for split in (len(docs), 2):
        many = Store(str(tmp_path / f"many{split}.db"))
        for i in range(0, len(docs), split):
            many.put_many([d.model_copy(deep=True) for d in docs[i:i + split]])
        assert _snapshot(many) == expected
        _kept_counts_match_recount(many)


def test_batch_with_replacements_and_repeats_keeps_counts(store_url):
    store = Store(store_url)
    docs = corpus()
    assert store.put_many([d.model_copy(deep=True) for d in docs]) == ["stored"] * len(docs)
    changed = article("Poetin en Zelensky spraken in Charkiv.", "nl",
                      {"Poetin": "PER", "Zelensky": "PER", "Charkiv": "LOC"}, "nl-1",
                      places=[("Charkiv", "Kharkiv", KHARKIV)])
    again = article("Vladimir Putin sprak opnieuw.", "nl", {"Vladimir Putin": "PER"}, "nl-9")
    statuses = store.put_many([docs[1].model_copy(deep=True), changed, again, again.model_copy(deep=True),
                               docs[0].model_copy(deep=True)])
    assert statuses == ["unchanged", "replaced", "stored", "unchanged", "replaced"]
    _kept_counts_match_recount(store)
    (putin,) = store.find_entities("Putin")
    assert {d["id"] for d in store.entity(putin)["documents"]} == {"nl-1", "en-1", "en-2", "nl-9"}
    assert store.delete("en-2")
    _kept_counts_match_recount(store)


def _random_corpus(seed: int, n: int) -> list[Article]:
    """Documents naming people by full name or surname alone, with shared
    surnames and spelling variants, so that linking merges often."""
    import random

    from kroniek.document import Entity

    rnd = random.Random(seed)
    people = ["Vladimir Poetin", "Vladimir Putin", "Jan de Vries", "Piet de Vries", "Mark Rutte",
              "Volodymyr Zelensky", "Olena Zelenska", "Sergej Sjojgoe", "Sergei Shoigu", "Anna Smit"]
    lone = ["Poetin", "Putin", "De Vries", "Rutte", "Zelensky", "Zelenskij", "Sjojgoe", "Smit"]
    orgs = [("Institute for the Study of War", "ISW"), ("Noord-Atlantische Verdragsorganisatie", "NAVO")]
    docs = []
    for i in range(n):
        ents = []
        for j, name in enumerate(rnd.sample(people, rnd.randint(0, 3))):
            surname = name.split()[-1]
            ents.append(Entity(id=f"p{j}", name=name, type="PER",
                               aliases=[name, surname] if rnd.random() < 0.5 else [name]))
        for j, name in enumerate(rnd.sample(lone, rnd.randint(0, 2))):
            ents.append(Entity(id=f"s{j}", name=name, type="PER", aliases=[name]))
        for j, (full, short) in enumerate(rnd.sample(orgs, rnd.randint(0, 1))):
            ents.append(Entity(id=f"o{j}", name=full, type="ORG",
                               aliases=[full, short] if rnd.random() < 0.5 else [rnd.choice([full, short])]))
        a = Article.new(f"Bericht {i}.", id=f"r{i}", language=rnd.choice(["nl", "en"]),
                        published=f"2022-{1 + i % 12:02d}-{1 + i % 27:02d}")
        a.entities = ents
        docs.append(a)
    return docs


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_batches_link_exactly_as_one_by_one(tmp_path, seed):
    docs = _random_corpus(seed, 40)
    one = Store(str(tmp_path / "one.db"))
    for d in docs:
        one.put(d.model_copy(deep=True))
    expected = _snapshot(one)
    with one.engine.connect() as c:
        from sqlalchemy import func, select

        from kroniek.store import schema as S

        assert c.execute(select(func.count()).select_from(S.entity_log)).scalar() > 0  # merges happened
    for size in (5, 13):
        many = Store(str(tmp_path / f"many{size}.db"))
        for i in range(0, len(docs), size):
            many.put_many([d.model_copy(deep=True) for d in docs[i:i + size]])
        assert _snapshot(many) == expected
        _kept_counts_match_recount(many)
