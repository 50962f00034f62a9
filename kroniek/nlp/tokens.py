"""Tokens and sentences: the spaCy pipeline named for the language and mode.

Later stages read ``article._doc``. The pipeline comes from
``lexicon/languages.toml``: a model shipped under ``kroniek/models/``, an
installed spaCy package, or a blank tokenizer with the rule-based sentencizer.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import spacy
from spacy.language import Language

from ..document import Article, Sentence
from .pipeline import language_table, register_stage


@lru_cache(maxsize=None)
def load_spacy(spec: str) -> Language:
    """Load once per process."""
    if spec.startswith("blank:"):
        nlp = spacy.blank(spec.split(":", 1)[1])
        nlp.add_pipe("sentencizer")
        return nlp
    shipped = files("kroniek.models").joinpath(spec)
    if shipped.is_dir():
        return spacy.load(str(shipped))
    return spacy.load(spec)


@register_stage("tokens")
class TokensStage:
    def __init__(self, lang: str, mode: str):
        self.nlp = load_spacy(language_table()[lang]["spacy"][mode])

    def __call__(self, articles: list[Article]) -> None:
        docs = self.nlp.pipe((a.text for a in articles), batch_size=len(articles) or 1)
        for article, doc in zip(articles, docs):
            article._doc = doc
            article.sentences = sentences_of(doc)


def sentences_of(doc) -> list[Sentence]:
    """Sentences that cover the text: trailing whitespace stays with the
    sentence before it, so offsets never point into nothing."""
    out = []
    for sent in doc.sents:
        start = sent.start_char
        end = sent.end_char
        if start == end or not doc.text[start:end].strip():
            continue
        out.append(Sentence(start=start, end=end))
    return out
