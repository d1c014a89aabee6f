"""Errors raised inside the acquisition layer.

    NewsmonError
    ├── SourcesConfigError        sources.toml is unreadable or invalid (names file, source, field)
    └── FetchError                one URL could not be fetched; never leaves `Fetcher`, which turns
        │                         it into FetchResult(error_class=<class name>, error=<message>)
        ├── TransientFetchError   worth retrying with backoff
        │   ├── ConnectTimeout    no TCP/TLS connection within the connect timeout
        │   ├── ConnectError      connection refused, DNS failure, TLS failure
        │   ├── ReadTimeout       the server stopped sending for longer than the read timeout
        │   └── ConnectionLost    the server reset or closed the connection mid-response
        ├── HTTPStatusError       an error status; 408, 429 and 5xx are retried first (honouring
        │                         Retry-After), 404, 410 and other 4xx are final at once
        ├── TotalTimeout          one attempt took longer than the total timeout (slow drip)
        ├── TooLarge              body over the byte cap, decoded through every Content-Encoding
        │                         layer (read and decoding stop there)
        ├── UndecodableBody       a Content-Encoding newsmon does not decode (br, zstd: never
        │                         asked for) or corrupt gzip/deflate data
        ├── NotHTML               a page URL answered with a non-HTML type (PDF, image, ...)
        ├── NotFeed               a feed/sitemap URL answered with a media type (PDF, image, ...)
        ├── TooManyRedirects      more redirects than allowed (loops end here)
        ├── RobotsDisallowed      robots.txt forbids the path (or robots.txt answered 5xx)
        ├── UnsupportedScheme     not http(s)
        ├── InvalidURL            cannot be parsed as a URL (bad port, broken IPv6 literal, ...)
        └── PrivateHost           the URL's host is a non-public IP address (any spelling that
            │                     parses as one: 127.0.0.1, [::1], [::ffff:127.0.0.1], 0.0.0.0)
            │                     or a localhost name, while private hosts are not allowed
            └── PrivateAddress    the host NAME resolves to a non-public address (/etc/hosts,
                                  DNS, numeric spellings like 2130706433, 0x7f000001, 127.1);
                                  one bad answer among good ones is enough

PrivateHost and PrivateAddress come from the private-address guard (extractors.fetch.guard),
which checks every hop (redirects, robots.txt) and pins the checked address for the connection;
the message and `.address` name the address refused. Neither is retried.

Only transport failures (TransientFetchError) and the transient statuses are retried: a 404,
a PDF or a robots refusal will not change by asking again.
"""

from __future__ import annotations

# Statuses that may go away when asked again: retried within a run, and by the next run.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 522, 524})


class NewsmonError(Exception):
    """Base of every error newsmon raises on purpose."""


class SourcesConfigError(NewsmonError, ValueError):
    """sources.toml cannot be used; the message names the file, the source and the field."""


class FetchError(NewsmonError):
    """One URL could not be fetched; carries what is known about the attempt."""

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 1,
        status_code: int | None = None,
        final_url: str | None = None,
        content_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.status_code = status_code
        self.final_url = final_url
        self.content_type = content_type


class TransientFetchError(FetchError):
    """A failure that may go away when retried."""


class ConnectTimeout(TransientFetchError):
    pass


class ConnectError(TransientFetchError):
    pass


class ReadTimeout(TransientFetchError):
    pass


class ConnectionLost(TransientFetchError):
    pass


class HTTPStatusError(FetchError):
    pass


class TotalTimeout(FetchError):
    pass


class TooLarge(FetchError):
    pass


class UndecodableBody(FetchError):
    pass


class NotHTML(FetchError):
    pass


class NotFeed(FetchError):
    pass


class TooManyRedirects(FetchError):
    pass


class RobotsDisallowed(FetchError):
    pass


class UnsupportedScheme(FetchError):
    pass


class InvalidURL(FetchError):
    pass


class PrivateHost(FetchError):
    """Refused by the private-address guard; `address` is the address refused (if any)."""

    def __init__(self, message: str, *, address: str | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.address = address


class PrivateAddress(PrivateHost):
    pass


def is_worth_retrying_later(error_class: str | None, status_code: int | None) -> bool:
    """Whether a page that failed in one run should be fetched again by the next run.

    Transient network failures and retryable HTTP statuses are; a 404, a PDF or a robots.txt
    refusal is not (retrying what is not transient only hammers the site).
    """
    if error_class is None:
        return False
    if error_class == HTTPStatusError.__name__:
        return status_code in RETRY_STATUSES
    # A slow drip is not retried within a run (it would stall it), but may be fine tomorrow.
    pending, transient = [TransientFetchError], {TotalTimeout.__name__}
    while pending:
        cls = pending.pop()
        transient.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return error_class in transient
