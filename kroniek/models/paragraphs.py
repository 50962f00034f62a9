"""``kroniek_paragraph_breaks``: sentence boundaries that the layout and the
punctuation decide, before any statistical splitter.

- A line break always starts a new sentence (headings, list items and
  paragraphs often end without punctuation).
- So does a capitalised word after a full stop, question or exclamation mark
  that stands alone as a token (abbreviations keep their full stop inside the
  token: the tokenizer's exceptions), also when an opening quote or bracket
  comes first ('zei hij. "Wij ...') or a closing one follows the mark
  ('"Wij gaan." Daarna ...').
- Within a line, a sentence never starts after a token that cannot end one
  (a word, a comma, a number): statistical splitters otherwise break names
  before a capitalised surname ("Jan Peter | Balkenende").

The senter/parser that run after it keep these boundaries, both ways, and
decide the rest. On its own (the fast pipeline has no senter) it scores
sentence F1 0.985 on LassySmall test (bench/parse.py).

Vectorised over the token table: it runs on every token of every document,
and a loop over spaCy Token objects cost more than the tokenizer itself.
"""

from __future__ import annotations

import numpy as np
from spacy.attrs import IDX, IS_SPACE, LENGTH, SENT_START, SPACY
from spacy.language import Language
from spacy.tokens import Doc

SENTENCE_FINAL = {".", "!", "?", "...", "…", "?!", "!?"}
CLOSERS = {'"', "'", "”", "’", "»", ")"}
OPENERS = {'"', "'", "“", "‘", "„", "«", "("}
# last characters of a token after which a sentence may end
CAN_END = np.array(sorted(map(ord, ".!?…:;" + "".join(CLOSERS) + "]")), dtype=np.uint32)
CLOSER_CODES = np.array(sorted(map(ord, "".join(CLOSERS))), dtype=np.uint32)
OPENER_CODES = np.array(sorted(map(ord, "".join(OPENERS))), dtype=np.uint32)


def _upper(codes: np.ndarray) -> np.ndarray:
    uniq, inv = np.unique(codes, return_inverse=True)
    return np.array([chr(c).isupper() for c in uniq], dtype=bool)[inv]


@Language.component("kroniek_paragraph_breaks")
def paragraph_breaks(doc: Doc) -> Doc:
    n = len(doc)
    if n < 2:
        return doc
    table = doc.to_array([IDX, LENGTH, SPACY, IS_SPACE]).astype(np.int64)
    idx, length = table[:, 0], table[:, 1]
    trailing_space, is_space = table[:, 2].astype(bool), table[:, 3].astype(bool)
    text = doc.text
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    first, last = codes[idx], codes[idx + np.maximum(length, 1) - 1]
    word = ~is_space
    # the previous non-space token of each token (-1: none)
    positions = np.where(word, np.arange(n), -1)
    prev_word = np.concatenate(([-1], np.maximum.accumulate(positions)[:-1]))
    # a space token holding a line break between that token and this one
    newline = np.zeros(n, dtype=bool)
    for i in np.nonzero(is_space)[0]:
        newline[i] = "\n" in text[idx[i]:idx[i] + length[i]]
    breaks = np.cumsum(newline)
    before = np.concatenate(([0], breaks[:-1]))
    after_break = before - np.where(prev_word >= 0, breaks[np.maximum(prev_word, 0)], 0) > 0
    # the token just before stands alone as a sentence-final mark, with a space after it
    stop = np.zeros(n, dtype=bool)
    for i in np.nonzero(word & trailing_space & np.isin(last, CAN_END))[0]:
        stop[i] = text[idx[i]:idx[i] + length[i]] in SENTENCE_FINAL
    # ... or a closing quote or bracket right after such a mark ('"Wij gaan." Daarna')
    closer = word & trailing_space & (length == 1) & np.isin(first, CLOSER_CODES)
    for i in np.nonzero(closer[1:])[0] + 1:
        j = i - 1
        stop[i] = not trailing_space[j] and text[idx[j]:idx[j] + length[j]] in SENTENCE_FINAL
    after_stop = np.concatenate(([False], stop[:-1]))
    can_end = np.where(prev_word >= 0, np.isin(last[np.maximum(prev_word, 0)], CAN_END), True)
    upper = _upper(first)
    # an opening quote or bracket that a capitalised word follows
    opener = np.isin(first, OPENER_CODES) & (length == 1)
    opener[:-1] &= upper[1:] & ~trailing_space[:-1]
    opener[-1] = False
    starts = word & (after_break | (after_stop & (upper | opener)))
    # a closing mark glued to the word before it ('Defensie.”') ends a sentence, never starts one
    glued_closer = np.zeros(n, dtype=bool)
    glued_closer[1:] = np.isin(first[1:], CLOSER_CODES) & ~trailing_space[:-1] & word[:-1]
    values = np.where(starts, 1, np.where(word & (~can_end | glued_closer), -1, 0))
    values[0] = 1  # so the doc always has sentence annotation (doc.sents needs some)
    doc.from_array([SENT_START], values.astype(np.int64).astype(np.uint64).reshape(-1, 1))
    return doc
