"""Content-Encoding decoding that never holds more than a cap, however the body is stacked.

A response may stack encodings (`Content-Encoding: gzip, gzip`, `deflate, gzip`): a body of a
few kilobytes can hold gigabytes two layers down. httpx decodes each raw chunk through every
layer in one go, so the inner layer inflates in full before any size check sees it. Here every
layer inflates at most `STEP` bytes at a time (zlib's `max_length`), hands them to the next
layer at once, and the decoded size is checked after every step: decoding stops as soon as the
body passes its cap, having held at most one step per layer.

gzip, x-gzip, deflate (zlib-wrapped or raw, as browsers accept) and identity are decoded.
newsmon only asks for gzip and deflate (Accept-Encoding); a body compressed any other way (br,
zstd, compress, ...) is refused rather than read as if it were plain. Other tokens (servers
send `none`, `utf-8`, `binary`) name no encoding and are ignored, as httpx and browsers do.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator

STEP = 64 * 1024  # bytes a layer inflates before handing them on
# An inner (still encoded) layer may exceed the decoded cap by a little (stored blocks and
# headers of an incompressible body); never by more than this share plus a few KiB.
INNER_SLACK = 0.01
_IDENTITY = frozenset({"identity", ""})
# Compressions newsmon never asks for and does not undo (IANA's registry and common aliases).
_UNDECODED = frozenset({"br", "zstd", "compress", "x-compress", "bzip2", "x-bzip2", "xz", "lzma",
                        "sdch", "exi", "pack200-gzip", "aes128gcm", "dcb", "dcz"})
_ZLIB = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class UnsupportedEncoding(ValueError):
    """A Content-Encoding newsmon does not decode (and did not ask for)."""


class BadEncoding(ValueError):
    """The body is not valid data of its declared encoding."""


class OverCap(ValueError):
    """A layer of the body decodes to more bytes than allowed."""


def encodings_of(header: str | None) -> list[str]:
    """The encodings a Content-Encoding header lists that newsmon undoes, in the order they
    were applied; UnsupportedEncoding for a compression it does not undo (br, zstd, ...)."""
    names = [part.strip().lower() for part in (header or "").split(",")]
    for name in names:
        if name in _UNDECODED:
            raise UnsupportedEncoding(f"unsupported Content-Encoding {name!r}")
    return [name for name in names if name in _ZLIB]


class _Layer:
    """One zlib layer, inflating at most STEP bytes per call."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._inflater = zlib.decompressobj(_ZLIB[name])
        self._first = True
        self.done = False  # end of stream: whatever follows is ignored (as httpx does)

    def steps(self, data: bytes) -> Iterator[bytes]:
        while data and not self.done:
            try:
                out = self._inflater.decompress(data, STEP)
            except zlib.error as exc:
                if self._first and self.name == "deflate":  # raw deflate, no zlib header
                    self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._first = False
                    continue
                raise BadEncoding(f"invalid {self.name} data: {exc}") from exc
            self._first = False
            data = self._inflater.unconsumed_tail
            self.done = self._inflater.eof
            if out:
                yield out

    def finish(self) -> Iterator[bytes]:
        if not self.done:
            try:
                out = self._inflater.flush()
            except zlib.error as exc:
                raise BadEncoding(f"invalid {self.name} data: {exc}") from exc
            if out:
                yield out


class BoundedDecoder:
    """Decode a body chunk by chunk through its encodings, the decoded size capped.

        decoder = BoundedDecoder(encodings_of(headers.get("content-encoding")), max_bytes)
        for raw in chunks:
            decoder.feed(raw, out)
        decoder.finish(out)

    `feed` and `finish` add the decoded pieces to `out` and raise OverCap as soon as the
    decoded body (or an inner layer) passes `max_bytes` (inner layers: plus INNER_SLACK), the
    pieces up to exactly `max_bytes` added (the first `max_bytes` of a body that is longer);
    BadEncoding on corrupt data.
    """

    def __init__(self, encodings: Iterable[str], max_bytes: int) -> None:
        # Applied in the listed order, so undone from the last to the first.
        self._layers = [_Layer(name) for name in reversed(list(encodings))]
        self._max = max_bytes
        inner_cap = int(max_bytes * (1 + INNER_SLACK)) + 4 * 1024
        # The last layer's output is the body, capped (and cut) in _push.
        self._caps = [inner_cap] * (len(self._layers) - 1) + [None]
        self._sizes = [0] * len(self._layers)
        self.size = 0  # decoded bytes so far

    @property
    def complete(self) -> bool:
        """Every layer reached the end of its stream (False: the body was cut short)."""
        return all(layer.done for layer in self._layers)

    def feed(self, raw: bytes, out: list[bytes]) -> None:
        self._push(0, raw, out.append)

    def finish(self, out: list[bytes]) -> None:
        for i, layer in enumerate(self._layers):
            for piece in layer.finish():
                self._pass_on(i, piece, out.append)

    def _push(self, i: int, data: bytes, emit: Callable[[bytes], None]) -> None:
        if i == len(self._layers):
            room = self._max - self.size
            if len(data) > room:
                if room > 0:
                    emit(data[:room])
                self.size = self._max
                raise OverCap(f"decoded body exceeds {self._max} bytes")
            self.size += len(data)
            emit(data)
            return
        for piece in self._layers[i].steps(data):
            self._pass_on(i, piece, emit)

    def _pass_on(self, i: int, piece: bytes, emit: Callable[[bytes], None]) -> None:
        self._sizes[i] += len(piece)
        cap = self._caps[i]
        if cap is not None and self._sizes[i] > cap:
            raise OverCap(f"{self._layers[i].name} layer decodes to over {cap} bytes")
        self._push(i + 1, piece, emit)


def inflate(data: bytes, encodings: Iterable[str], max_bytes: int) -> bytes:
    """A whole body decoded through `encodings` (OverCap past `max_bytes`)."""
    decoder, out = BoundedDecoder(encodings, max_bytes), []
    decoder.feed(data, out)
    decoder.finish(out)
    return b"".join(out)
