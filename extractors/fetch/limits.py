"""How much newsmon reads of anything, in one place: a body over its cap is refused there.

Pages are capped where real article pages never reach (5 MiB); feeds and sitemaps at the
sitemap protocol's own limit, also after gzip (a gzip bomb stops there); robots.txt at what
RFC 9309 asks crawlers to parse.
"""

from __future__ import annotations

MiB = 1024 * 1024
PAGE_MAX_BYTES = 5 * MiB  # one HTML page fetched over the network
DOCUMENT_MAX_BYTES = 50 * MiB  # one feed or sitemap, compressed or decompressed
ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309: parse at least 500 KiB


def describe_bytes(n: int) -> str:
    """A cap as people say it in a message: "5 MiB", or "512000 bytes" under a MiB."""
    if n >= MiB:
        return f"{n / MiB:g} MiB"
    return f"{n} bytes"
