"""A fetched page's bytes as text: the charset the page says or implies, as browsers read it.

No network here (the extraction workers import it): the flow's fetcher hands the extraction
worker a page's bytes undecoded, the worker decodes them within the page's CPU budget, and
the flow stores the page's UTF-8 as it came when that is what decoding would give
(`utf8_as_served`), without decoding it.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

from extractors.models import FetchResult

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE
)


def decode_html(body: bytes, content_type: str | None) -> str:
    """Decode a page: BOM, then the header charset, then <meta charset>/http-equiv, then UTF-8
    if it is valid, then charset_normalizer's guess (cp1252 as the last resort)."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, errors="replace").lstrip("\ufeff")
    for name in _declared(body, content_type):
        try:
            return body.decode(name, errors="replace")
        except LookupError:
            continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return body.decode(_guess_encoding(body), errors="replace")


def _guess_encoding(body: bytes) -> str:
    """charset_normalizer's pick, except that windows-1252 wins when it is nearly as plausible:
    on short Western texts the detector wavers between Latin code pages (café -> cafĂ©), and
    windows-1252 is what browsers assume for undeclared pages."""
    matches = list(charset_normalizer.from_bytes(body))
    if not matches:
        return "cp1252"
    best = matches[0]
    for match in matches:
        if match.encoding in ("cp1252", "latin_1", "iso8859_15") and (
            match.chaos <= best.chaos + 0.1
        ):
            return "cp1252"
    return best.encoding


# Browsers (WHATWG Encoding) read these labels as their supersets; so must we.
_WHATWG_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
                   "us-ascii": "cp1252", "ascii": "cp1252", "iso-8859-9": "cp1254",
                   "tis-620": "cp874", "gb2312": "gb18030", "gbk": "gb18030"}


def _declared(body: bytes, content_type: str | None) -> list[str]:
    """The charsets a page declares, in order of evidence: its header's, then its <meta>'s
    (WHATWG supersets for the labels browsers read so)."""
    declared = []
    if content_type and "charset=" in content_type.lower():
        value = content_type.lower().split("charset=", 1)[1].split(";")[0]
        declared.append(value.strip().strip("\"'"))
    match = _META_CHARSET.search(body[:4096])
    if match:
        declared.append(match.group(1).decode("ascii").lower())
    return [_WHATWG_ALIASES.get(name, name) for name in declared]


def utf8_as_served(body: bytes, content_type: str | None) -> bool:
    """True when decode_html would read `body` as UTF-8 (no BOM; the first charset it
    declares that Python knows is UTF-8, or none is declared): then, if `body` is valid
    UTF-8, its decoded text's UTF-8 is `body` itself. The caller checks validity (Arrow
    does it without building a str)."""
    if any(body.startswith(bom) for bom, _ in _BOMS):
        return False
    for name in _declared(body, content_type):
        try:
            return codecs.lookup(name).name == "utf-8"
        except LookupError:
            continue
    return True


def page_html(page: FetchResult) -> str | None:
    """A fetched page's HTML: as decoded, or decoded now from the bytes it came with."""
    if page.html is not None or page.body is None:
        return page.html
    return decode_html(page.body, page.content_type)
