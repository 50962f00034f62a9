"""Named-entity mentions: ``article.mentions`` from the spaCy Doc's entities.

The statistical model of the language (``tokens`` stage, ``article._doc``)
finds the names; the language's tables under ``lexicon/<lang>/`` hold the
contract's conventions, so this module has no per-language branches:

- ``mentions.toml`` ``[labels]``: model label -> PER/ORG/LOC/MISC ("" drops it;
  English OntoNotes labels are mapped there, DATE/CARDINAL/... dropped);
- ``[rules] articles``: leading words cut from a mention ("het ISW" -> "ISW");
- ``[rules] clitics``: trailing clitics cut ("Zelensky's" -> "Zelensky");
- ``mentions-demonyms.txt``: nationality adjectives and demonyms, always MISC
  (also behind ``demonym_prefixes``: "pro-Russische");
- ``mentions-gazetteer.tsv``: names whose type is fixed; they override the
  model's type, are added where the model missed them, and never cut a
  longer name the model found;
- ``mentions-firstnames.txt``: a given name followed by capitalised words
  (with ``name_particles`` such as "van der" between) is a person, where the
  model found nothing there or only part of the name.

Offsets are code points into ``article.text``; ``text[start:end] == mention.text``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files

from ..document import Article, Mention
from .pipeline import register_stage

TYPES = ("PER", "ORG", "LOC", "MISC")


def _lexicon(lang: str):
    return files("kroniek.nlp.lexicon").joinpath(lang)


def _lines(path) -> list[str]:
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def _has_alnum(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


@dataclass
class MentionRules:
    labels: dict[str, str]
    articles: frozenset[str] = frozenset()
    clitics: tuple[str, ...] = ()
    demonym_prefixes: tuple[str, ...] = ()
    demonyms: frozenset[str] = frozenset()
    gazetteer: dict[tuple[str, ...], str] = field(default_factory=dict)
    max_gazetteer_len: int = 0
    first_names: frozenset[str] = frozenset()
    names_with_article: tuple[str, ...] = ()
    article_types: frozenset[str] = frozenset()
    name_particles: frozenset[str] = frozenset()

    @classmethod
    @lru_cache(maxsize=None)
    def load(cls, lang: str) -> "MentionRules":
        base = _lexicon(lang)
        cfg_path = base.joinpath("mentions.toml")
        if not cfg_path.is_file():
            return cls(labels={t: t for t in TYPES})
        cfg = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        rules = cfg.get("rules", {})
        gaz: dict[tuple[str, ...], str] = {}
        for line in _lines(base.joinpath(rules.get("gazetteer", "mentions-gazetteer.tsv"))):
            name, _, typ = line.partition("\t")
            typ = typ.strip()
            if typ not in TYPES:
                raise ValueError(f"{lang}/mentions-gazetteer.tsv: bad type {typ!r} for {name!r}")
            gaz[tuple(name.split())] = typ
        labels = dict(cfg.get("labels", {}))
        for label, typ in labels.items():
            if typ and typ not in TYPES:
                raise ValueError(f"{lang}/mentions.toml: label {label} maps to unknown type {typ!r}")
        return cls(
            labels=labels,
            articles=frozenset(rules.get("articles", [])),
            clitics=tuple(sorted(rules.get("clitics", []), key=len, reverse=True)),
            demonym_prefixes=tuple(rules.get("demonym_prefixes", [])),
            demonyms=frozenset(_lines(base.joinpath(rules.get("demonyms", "mentions-demonyms.txt")))),
            gazetteer=gaz,
            max_gazetteer_len=max((len(k) for k in gaz), default=0),
            first_names=frozenset(_lines(base.joinpath(rules.get("first_names", "mentions-firstnames.txt")))),
            name_particles=frozenset(rules.get("name_particles", [])),
            names_with_article=tuple(rules.get("names_with_article", [])),
            article_types=frozenset(rules.get("article_kept_for_types", [])),
        )

    def is_demonym(self, word: str) -> bool:
        if word in self.demonyms:
            return True
        for p in self.demonym_prefixes:
            if word.startswith(p) and word[len(p):] in self.demonyms:
                return True
        return False

    # -- spans are token ranges [i, j) with a type until the end ------------
    def spans(self, doc) -> list[tuple[int, int, str]]:
        out: dict[tuple[int, int], str] = {}
        for ent in doc.ents:
            typ = self.labels.get(ent.label_, "")
            if not typ:
                continue
            i, j = ent.start, ent.end
            # a statistical model sometimes takes in a quote mark or a line
            # break at an edge, or tags a lone mark: names have letters or digits
            while i < j and not _has_alnum(doc[i].text):
                i += 1
            while j > i and not _has_alnum(doc[j - 1].text):
                j -= 1
            if i == j:
                continue
            if not self._article_in_name(doc[i:j], typ):
                while i < j - 1 and self._is_article(doc[i]):
                    i += 1
            if i < j:
                out[(i, j)] = typ
        self._apply_first_names(doc, out)
        self._apply_gazetteer(doc, out)
        self._apply_demonyms(doc, out)
        return sorted((i, j, t) for (i, j), t in out.items())

    def _apply_gazetteer(self, doc, out: dict) -> None:
        if not self.gazetteer:
            return
        words = [t.text for t in doc]
        n = len(words)
        k = 0
        while k < n:
            hit = None
            for length in range(min(self.max_gazetteer_len, n - k), 0, -1):
                typ = self.gazetteer.get(tuple(words[k : k + length]))
                if typ:
                    hit = (k, k + length, typ)
                    break
            if hit is None:
                k += 1
                continue
            i, j, typ = hit
            overlapping = [s for s in out if s[0] < j and i < s[1]]
            if any(s[0] <= i and j <= s[1] and (s[0], s[1]) != (i, j) for s in overlapping):
                pass  # the model found a longer name around it: keep that whole
            else:
                for s in overlapping:
                    del out[s]
                out[(i, j)] = typ
            k = j

    def _article_in_name(self, span, typ: str) -> bool:
        """Titles of works (MISC: "Het Journaal") and the names listed in
        ``names_with_article`` ("De Morgen", "The Washington Post") keep it."""
        if not span[0].text[:1].isupper():
            return False
        if typ in self.article_types:
            return True
        return any(span.text.startswith(name) for name in self.names_with_article)

    def _is_article(self, tok) -> bool:
        """A leading article to cut: lower-case always ("het ISW"); capitalised
        only at the start of a sentence ("Het Kremlin ..."), since mid-sentence
        it is part of the name ("in De Morgen", "De Prins")."""
        if tok.text not in self.articles:
            return False
        return tok.text.islower() or tok.i == 0 or bool(tok.is_sent_start)

    @staticmethod
    def _capitalised(word: str) -> bool:
        return word[:1].isupper() and word.replace("-", "").replace("'", "").isalpha()

    def _apply_first_names(self, doc, out: dict) -> None:
        if not self.first_names:
            return
        n = len(doc)
        for tok in doc:
            i = tok.i
            if tok.text not in self.first_names:
                continue
            j = i + 1
            while j < n:
                k = j
                while k < n and doc[k].text in self.name_particles:
                    k += 1
                if (k < n and k - i <= 4 and "\n" not in doc[k - 1].whitespace_
                        and self._capitalised(doc[k].text) and not self.is_demonym(doc[k].text)):
                    j = k + 1
                else:
                    break
            if j == i + 1:
                continue  # a given name alone is left to the model
            overlapping = [sp for sp in out if sp[0] < j and i < sp[1]]
            if any(not (i <= a and b <= j) for a, b in overlapping):
                continue  # a name the model found that reaches outside: keep it
            for sp in overlapping:
                del out[sp]
            out[(i, j)] = "PER"

    def _apply_demonyms(self, doc, out: dict) -> None:
        if not self.demonyms:
            return
        taken = {}
        for (i, j) in out:
            for k in range(i, j):
                taken[k] = (i, j)
        for tok in doc:
            if not self.is_demonym(tok.text):
                continue
            span = taken.get(tok.i)
            if span is None:
                out[(tok.i, tok.i + 1)] = "MISC"
            elif span == (tok.i, tok.i + 1):
                out[span] = "MISC"

    def mentions(self, doc) -> list[Mention]:
        text = doc.text
        result = []
        for i, j, typ in self.spans(doc):
            start = doc[i].idx
            end = doc[j - 1].idx + len(doc[j - 1].text)
            for c in self.clitics:
                if text[start:end].endswith(c) and end - len(c) > start:
                    end -= len(c)
                    break
            result.append(Mention(start=start, end=end, text=text[start:end], type=typ))
        return result


@register_stage("mentions")
class MentionsStage:
    """Fills ``article.mentions`` from ``article._doc`` (set by ``tokens``)."""

    def __init__(self, lang: str, mode: str):
        self.lang = lang
        self.mode = mode
        self.rules = MentionRules.load(lang)

    def __call__(self, articles: list[Article]) -> None:
        for article in articles:
            doc = article._doc
            if doc is None:
                article.warnings.append("mentions: no tokens (the tokens stage did not run)")
                continue
            article.mentions = self.rules.mentions(doc)
