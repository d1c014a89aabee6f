"""URL canonicalisation: one spelling per page, so the same article gets the same id.

Campaign links, fragments and default ports differ between a feed, a sitemap and a share button
but name one page; `canonicalize` folds them together. Path case is kept (servers are
case-sensitive there) and unknown query parameters are kept (they can select content).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Collection, Iterable
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from tld import get_fld

_FETCHABLE = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that only track clicks and never select content.
_TRACKING_EXACT = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "ttclid", "igshid",
        "mc_cid", "mc_eid", "ref_src", "ref_url", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok",
        "oly_anon_id", "oly_enc_id", "vero_id", "wickedid", "s_cid", "cmpid", "ocid", "smid",
        "spm", "__twitter_impression", "at_medium", "at_campaign",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")

# Characters allowed unescaped in a path / query piece; "%" stays so escapes are not doubled.
_PATH_SAFE = "/%:@!$&'()*+,;=~-._"
_QUERY_SAFE = _PATH_SAFE + "?"
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
_NOT_SAFE_PATH = re.compile(r"[^A-Za-z0-9" + re.escape(_PATH_SAFE) + r"]")
_NOT_SAFE_QUERY = re.compile(r"[^A-Za-z0-9" + re.escape(_QUERY_SAFE) + r"]")


def is_fetchable_scheme(url: str) -> bool:
    """True for http(s) URLs, the only ones the fetcher will request."""
    try:
        return urlsplit(url.strip()).scheme.lower() in _FETCHABLE
    except (ValueError, AttributeError):
        return False


def without_credentials(url: str) -> str:
    """`url` with any user:password@ removed, so no credential is fetched with or logged."""
    try:
        parts = urlsplit(url)
    except (ValueError, AttributeError):
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def canonicalize(url: str) -> str:
    """The canonical spelling of `url`; never raises (garbage comes back stripped)."""
    try:
        stripped = url.strip()
    except AttributeError:
        return url
    try:
        return _canonicalize(stripped)
    except (ValueError, UnicodeError):
        return stripped


def _canonicalize(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _FETCHABLE or not host:
        return url
    port = parts.port  # ValueError on a non-numeric or out-of-range port -> caller strips
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    # user:password@ is dropped: credentials are never part of an article's identity.
    path = _escape(parts.path or "/", _NOT_SAFE_PATH)
    return urlunsplit((scheme, netloc, path, _clean_query(parts.query), ""))


def _clean_query(query: str) -> str:
    """Drop tracking parameters and sort the rest, keeping each piece's own spelling."""
    kept = []
    for piece in query.split("&"):
        if not piece:
            continue
        key = unquote_plus(piece.partition("=")[0]).strip().lower()
        if key in _TRACKING_EXACT or key.startswith(_TRACKING_PREFIXES):
            continue
        kept.append(_escape(piece, _NOT_SAFE_QUERY))
    return "&".join(sorted(kept))


def _escape(text: str, unsafe: re.Pattern[str]) -> str:
    """Percent-encode unsafe characters (UTF-8) and upper-case existing escapes."""
    text = _ESCAPE.sub(lambda m: m.group(0).upper(), text)
    return unsafe.sub(lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode("utf-8")), text)


def article_id(canonical_url: str) -> str:
    """Stable short id of an article: the first 20 hex digits of SHA-1 of its canonical URL."""
    return hashlib.sha1(canonical_url.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def resolve_canonical(page_url: str, canonical_href: str | None) -> str:
    """Honour <link rel=canonical> when it is believable, else canonicalize the page URL.

    Believable: an absolute or relative http(s) URL with a real host name (a dot in it, or the
    page's own host), no user info, not an IP address unless the page is on that IP, and not the
    site's home page for a page that is not itself the home page (a common CMS template bug).
    """
    fallback = canonicalize(page_url)
    if not canonical_href or not canonical_href.strip():
        return fallback
    try:
        target = urlsplit(urljoin(page_url.strip(), canonical_href.strip()))
        page = urlsplit(page_url.strip())
        host = (target.hostname or "").rstrip(".")
        page_host = (page.hostname or "").rstrip(".")
        if target.scheme.lower() not in _FETCHABLE or not host or "@" in target.netloc:
            return fallback
        if host != page_host and (("." not in host) or _is_ip(host) or host == "localhost"):
            return fallback
        if target.path in ("", "/") and not target.query and page.path not in ("", "/"):
            return fallback
        return canonicalize(target.geturl())
    except ValueError:
        return fallback


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def registrable_domain(url_or_host: str) -> str:
    """The site a URL (or host name) belongs to: its registrable domain by the public suffix
    list (news.bbc.co.uk -> bbc.co.uk, a.b.github.io -> b.github.io); for a suffix the list
    does not know (outlet-a.test) the last two labels; an IP address or a single label as is.
    "" when there is no host."""
    text = url_or_host.strip()
    try:
        host = (urlsplit(text).hostname if "//" in text else text.split(":")[0]) or ""
    except ValueError:
        return ""
    host = host.lower().rstrip(".")
    if not host or _is_ip(host) or "." not in host:
        return host
    found = get_fld(host, fix_protocol=True, fail_silently=True)
    return str(found) if found else ".".join(host.split(".")[-2:])


def own_domains(urls: Iterable[str], declared: Iterable[str] = ()) -> frozenset[str]:
    """The sites an outlet publishes on: those of its feeds, sitemaps and URLs, and the
    domains its sources.toml entry declares."""
    return frozenset(d for d in map(registrable_domain, [*urls, *declared]) if d)


def adopt_canonical(
    page_url: str, canonical_href: str | None, domains: Collection[str] = ()
) -> tuple[str, str | None]:
    """(the article's canonical URL, a canonical URL the page declared but did not get).

    A <link rel=canonical> is adopted when it is believable (resolve_canonical) and on the
    page's own site or one of `domains` (the outlet's); one on another site is recorded, not
    adopted: a page must not take the identity, and so the stored article, of another
    outlet's page. A page with no site (a local file, `newsmon extract page.html`) adopts it.
    """
    page = canonicalize(page_url)
    canonical = resolve_canonical(page_url, canonical_href)
    if canonical == page:
        return page, None
    site, own = registrable_domain(canonical), registrable_domain(page)
    if not own or site == own or site in domains:  # not own: a local file has no site
        return canonical, None
    return page, canonical
