"""How much newsmon reads of anything, in one place: a body over its cap is refused there.

Pages are capped where real article pages never reach (5 MiB); feeds and sitemaps at the
sitemap protocol's own limit; robots.txt at what RFC 9309 asks crawlers to parse (a longer one
is read up to there). Every cap holds for the body decoded through all its Content-Encoding
layers (a gzip bomb, stacked or not, stops there: extractors/fetch/inflate.py).

A feed or sitemap is read up to a number of entries: the sitemap protocol's own 50,000 for
sitemaps, fewer for feeds (feedparser takes ~0.5 ms per entry, and real feeds list tens or
hundreds). How many of a document's new entries one run fetches is a setting
(NEWSMON_MAX_NEW_ENTRIES_PER_DOCUMENT, extractors/fetch/ledger.py).
"""

from __future__ import annotations

MiB = 1024 * 1024
PAGE_MAX_BYTES = 5 * MiB  # one HTML page fetched over the network
DOCUMENT_MAX_BYTES = 50 * MiB  # one feed or sitemap, compressed or decompressed
ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309: parse at least 500 KiB
SITEMAP_MAX_ENTRIES = 50_000  # the sitemap protocol's limit per file
FEED_MAX_ENTRIES = 10_000  # entries read of one RSS/Atom feed


def describe_bytes(n: int) -> str:
    """A cap as people say it in a message: "5 MiB", or "512000 bytes" under a MiB."""
    if n >= MiB:
        return f"{n / MiB:g} MiB"
    return f"{n} bytes"
