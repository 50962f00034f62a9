"""Mentions to entities within a document, and the name keys that link
entities across documents and languages.

A *name key* is a spelling-independent skeleton of a name: lowercased,
without diacritics, with the language's transliteration table applied
(``lexicon/<lang>/entities.toml``), doubled letters collapsed. Poetin (nl)
and Putin (en) both become ``putin``; Zelensky, Zelenski, Zelenskyy and
Zelenskij become ``zelenski``. Places link by their gazetteer id instead.

Within a document, mentions group when they share a key and type, a gazetteer
id, or when one is the surname of a full name, the acronym of a longer name
("ISW" / "Institute for the Study of War"), or a leading part of a longer
organisation name. ``name`` is the fullest form in the article.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Optional

from ..document import Article, Entity, Mention
from .pipeline import register_stage


@dataclass(frozen=True)
class NameTable:
    articles: frozenset[str]
    acronym_skip: frozenset[str]
    translit: tuple[tuple[str, str], ...]
    descriptions: tuple[str, ...]

    @property
    def translit_re(self) -> re.Pattern:
        return _translit_re(self.translit)


@lru_cache(maxsize=None)
def _translit_re(pairs: tuple[tuple[str, str], ...]) -> re.Pattern:
    # Earlier rules win at the same position: order the alternation as listed.
    return re.compile("|".join(re.escape(src) for src, _ in pairs)) if pairs else re.compile(r"(?!)")


@lru_cache(maxsize=None)
def name_table(lang: Optional[str]) -> NameTable:
    lexicon = files("kroniek.nlp.lexicon")
    path = lexicon.joinpath(lang or "-", "entities.toml")
    if not path.is_file():
        path = lexicon.joinpath("entities-default.toml")
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return NameTable(
        articles=frozenset(data.get("articles", [])),
        acronym_skip=frozenset(data.get("acronym_skip", [])),
        translit=tuple((a, b) for a, b in data.get("translit", [])),
        descriptions=tuple(data.get("descriptions", [])),
    )


_POSSESSIVE = re.compile(r"['’]s$|['’]$")
_NON_WORD = re.compile(r"[^\w\s]+")
_DOUBLE = re.compile(r"([^\W\d_])\1+")  # letters only: Naam11 is not Naam1
_SPACE = re.compile(r"\s+")


def strip_diacritics(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


@lru_cache(maxsize=100_000)
def name_key(name: str, lang: Optional[str] = None) -> str:
    """The spelling-independent skeleton of a name (see the module doc)."""
    table = name_table(lang)
    s = _POSSESSIVE.sub("", name.strip())
    s = strip_diacritics(s).lower()
    s = _NON_WORD.sub(" ", s)
    words = [w for w in s.split() if w not in table.articles] or s.split()
    s = " ".join(words)
    mapping = dict(table.translit)
    s = table.translit_re.sub(lambda m: mapping[m.group(0)], s)
    s = _DOUBLE.sub(r"\1", s.lower())
    return _SPACE.sub(" ", s).strip()


def acronym(name: str, lang: Optional[str] = None) -> str:
    skip = name_table(lang).acronym_skip
    words = [w for w in re.findall(r"[\w-]+", name) if w.lower() not in skip]
    return "".join(w[0] for w in words).upper()


def is_acronym(text: str) -> bool:
    letters = text.replace(".", "")
    return 2 <= len(letters) <= 8 and letters.isupper() and letters.isalpha()


class _Group:
    __slots__ = ("mentions", "type", "geonames_id")

    def __init__(self, mention: Mention, geonames_id: Optional[int]):
        self.mentions = [mention]
        self.type = mention.type
        self.geonames_id = geonames_id

    @property
    def first(self) -> int:
        return min(m.start for m in self.mentions)

    def names(self) -> list[str]:
        seen: dict[str, None] = {}
        for m in sorted(self.mentions, key=lambda m: m.start):
            seen.setdefault(m.text, None)
        return list(seen)

    def fullest(self) -> str:
        names = self.names()
        full = [n for n in names if not is_acronym(n)] or names
        return max(full, key=lambda n: (len(n.split()), len(n), -names.index(n)))


def cluster(article: Article) -> list[Entity]:
    """Group the article's mentions into entities; sets ``mention.entity``."""
    lang = article.language
    geo = {(p.start, p.end): p.geonames_id for p in article.places if p.geonames_id}
    groups: list[_Group] = []
    by_key: dict[tuple, _Group] = {}
    for m in sorted(article.mentions, key=lambda m: m.start):
        gid = geo.get((m.start, m.end)) if m.type == "LOC" else None
        key = ("geo", gid) if gid else (m.type, name_key(m.text, lang))
        g = by_key.get(key)
        if g is None:
            g = _Group(m, gid)
            groups.append(g)
            by_key[key] = g
        else:
            g.mentions.append(m)
    groups = _merge_partial_names(groups, lang)
    groups.sort(key=lambda g: g.first)
    entities = []
    for i, g in enumerate(groups, start=1):
        eid = f"e{i}"
        types = [m.type for m in g.mentions]
        etype = max(set(types), key=lambda t: (types.count(t), -types.index(t)))
        for m in g.mentions:
            m.entity = eid
        entities.append(Entity(id=eid, name=g.fullest(), type=etype, aliases=g.names(), geonames_id=g.geonames_id))
    return entities


def _merge_partial_names(groups: list[_Group], lang: Optional[str]) -> list[_Group]:
    """Surname → full name, acronym → expansion, leading part → longer
    organisation name. A short form joins the nearest preceding long form it
    fits, or the only one it fits; otherwise it stays on its own."""
    merged_into: dict[int, _Group] = {}
    for g in groups:
        short = g.fullest()
        key = name_key(short, lang)
        if len(short.split()) > 1 and not is_acronym(short):
            continue
        candidates = []
        for other in groups:
            if other is g or id(other) in merged_into:
                continue
            long = other.fullest()
            if len(long.split()) < 2:
                continue
            long_words = name_key(long, lang).split()
            fits = False
            if is_acronym(short) and other.type in ("ORG", "MISC", "LOC") and acronym(long, lang) == short.replace(".", ""):
                fits = True
            elif g.type == "PER" and other.type == "PER" and long_words[-1] == key:
                fits = True
            elif g.type == other.type == "ORG" and long_words[0] == key:
                fits = True
            if fits:
                candidates.append(other)
        if not candidates:
            continue
        before = [c for c in candidates if c.first < g.first]
        if len(candidates) == 1:
            target = candidates[0]
        elif before:
            target = max(before, key=lambda c: c.first)
        else:
            continue  # ambiguous: two long forms, none introduced before
        target.mentions.extend(g.mentions)
        merged_into[id(g)] = target
    return [g for g in groups if id(g) not in merged_into]


def link_speakers(article: Article) -> None:
    """Quote speakers point to their entity and carry its fullest name."""
    if not article.quotes:
        return
    by_id = {e.id: e for e in article.entities}
    lang = article.language
    by_alias = {}
    for e in article.entities:
        for alias in [e.name, *e.aliases]:
            by_alias.setdefault(name_key(alias, lang), e)
    for q in article.quotes:
        sp = q.speaker
        if sp is None:
            continue
        # The mention inside the speaker span that names the speaker: not a
        # nationality adjective ("de Oekraïense inlichtingendienst"), and
        # preferably one whose text is in the speaker's name.
        inside = [m for m in article.mentions
                  if m.entity and m.type != "MISC" and m.start < sp.end and sp.start < m.end]
        inside.sort(key=lambda m: (not (sp.name and m.text in sp.name), m.start))
        entity = by_id[inside[0].entity] if inside else None
        if entity is None and sp.name:
            entity = by_alias.get(name_key(sp.name, lang))
        if entity is not None:
            sp.entity = entity.id
            sp.name = entity.name


@register_stage("entities")
class EntitiesStage:
    def __init__(self, lang: str, mode: str):
        self.lang = lang

    def __call__(self, articles: list[Article]) -> None:
        for a in articles:
            a.entities = cluster(a)
            link_speakers(a)
