"""``kroniek_paragraph_breaks``: a line break in the text always starts a new
sentence (headings, list items and paragraphs end without punctuation often),
and so does a capitalised word after a full stop, question or exclamation
mark that stands alone as a token (abbreviations keep their full stop inside
the token: the tokenizer's exceptions). Runs before the senter/parser, which
keep boundaries that are already set."""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc


SENTENCE_FINAL = {".", "!", "?", "...", "…", "?!", "!?"}
CLOSERS = {'"', "'", "”", "’", "»", ")"}


@Language.component("kroniek_paragraph_breaks")
def paragraph_breaks(doc: Doc) -> Doc:
    for i in range(1, len(doc)):
        prev, tok = doc[i - 1], doc[i]
        if tok.is_space:
            continue
        if "\n" in prev.whitespace_ or (prev.is_space and "\n" in prev.text):
            tok.is_sent_start = True
        elif prev.whitespace_ and prev.text in SENTENCE_FINAL and tok.text[:1].isupper():
            tok.is_sent_start = True
    return doc
