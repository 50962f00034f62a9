"""``kroniek_paragraph_breaks``: a line break in the text always starts a new
sentence (headings, list items and paragraphs end without punctuation often),
and so does a capitalised word after a full stop, question or exclamation
mark that stands alone as a token (abbreviations keep their full stop inside
the token: the tokenizer's exceptions). Within a line, a sentence never
starts after a token that cannot end one (a word, a comma, a number): the
statistical splitter otherwise breaks names before a capitalised surname
("Jan Peter | Balkenende"). Runs before the senter/parser, which keep
boundaries that are already set, both ways."""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc


SENTENCE_FINAL = {".", "!", "?", "...", "…", "?!", "!?"}
CLOSERS = {'"', "'", "”", "’", "»", ")"}
# last characters of a token after which a sentence may end
CAN_END = frozenset(".!?…:;" + "".join(CLOSERS) + "]")


@Language.component("kroniek_paragraph_breaks")
def paragraph_breaks(doc: Doc) -> Doc:
    # one pass, cheap tests first: this runs on every token of every document
    after_break = after_stop = False
    can_end = True
    for tok in doc:
        text = tok.text
        if tok.i and not tok.is_space:
            if after_break or (after_stop and text[:1].isupper()):
                tok.is_sent_start = True
            elif not can_end:
                tok.is_sent_start = False
        ws = tok.whitespace_
        if tok.is_space:
            after_break = after_break or "\n" in text
            after_stop = False
        else:
            after_break = "\n" in ws
            after_stop = bool(ws) and text in SENTENCE_FINAL
            can_end = text[-1] in CAN_END
    return doc
