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
    """Sentences that cover every non-blank character of the text, each
    trimmed of surrounding whitespace."""
    text = doc.text
    out = []
    for sent in doc.sents:
        start, end = sent.start_char, sent.end_char
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            out.append(Sentence(start=start, end=end))
    return out
