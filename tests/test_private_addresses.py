"""The private-address guard (issue #23): the address a request really goes to is checked, on
every hop, whatever the URL's spelling, and the connection goes to the address that was checked.

Real parts: FaultServers bound to the loopback address and to the wildcard address (a
dual-stack socket that 127.0.0.1, 0.0.0.0, ::1 and ::ffff:127.0.0.1 all reach) stand in for an
internal service; the system resolver answers the /etc/hosts and IP-spelling cases; the real
Fetcher, transport and DuckDB warehouse. Cases that need public DNS (a name with a public and a
private answer, a name whose answer changes) use a scripted resolver passed to the Fetcher; their
public address leads, through a simulated internet under the Fetcher's pinned backend, to a
local stand-in for the public site, so nothing leaves the machine. Every refusal asserts that
the internal server saw no request for the page; every kind of case has a control showing the
same request does arrive when private hosts are allowed.
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
import json
import socket
import ssl
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import httpcore
import pytest

from demosite.server import DemoSite
from demosite.site import Page, build_site
from demosite.truth import expected_articles
from extractors.content.extract_cmd import run_extract
from extractors.fetch import http
from extractors.fetch.discover import discover_source
from extractors.fetch.guard import PinnedBackend, refusal_reason
from extractors.fetch.http import Fetcher, FetchSettings
from extractors.models import FetchResult, Source
from tests.faultserver import FaultServer

PUBLIC_IP = "93.184.216.34"  # a public address; the simulated internet keeps it on this machine
ALLOWED = "outlet-a.test"  # a trusted route (FetchSettings.resolve) to the loopback server
SECRET = "/page/secret"


# --- servers, resolvers, the simulated internet ---------------------------------------------


@pytest.fixture(scope="module")
def loopback():
    with FaultServer("127.0.0.1") as server:
        yield server


@pytest.fixture(scope="module")
def wildcard():
    with FaultServer("::") as server:
        yield server


@pytest.fixture(scope="module")
def public_site():
    """What PUBLIC_IP reaches in the simulated internet: the "public" web server."""
    with FaultServer("127.0.0.1") as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_logs(loopback: FaultServer, wildcard: FaultServer, public_site: FaultServer):
    for server in (loopback, wildcard, public_site):
        with server.lock:
            server.hits.clear()


class ScriptedResolver:
    """host -> successive answers (the last one repeats); counts the lookups of each host."""

    def __init__(self, script: dict[str, list[list[str]]]) -> None:
        self.script = script
        self.lookups: Counter[str] = Counter()

    async def resolve(self, host: str) -> list[str]:
        self.lookups[host] += 1
        answers = self.script.get(host)
        if answers is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers[min(self.lookups[host], len(answers)) - 1]


class SimulatedInternet(httpcore.AsyncNetworkBackend):
    """Opens the Fetcher's sockets: a "public" address connects to its local stand-in server,
    a loopback address to itself, anything else is unreachable. Logs every address asked for."""

    def __init__(self, stand_ins: dict[str, int]) -> None:
        self.stand_ins = stand_ins
        self.asked: list[tuple[str, int]] = []
        self._real = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None,
                          socket_options=None) -> httpcore.AsyncNetworkStream:
        self.asked.append((host, port))
        if host in self.stand_ins:
            return await self._real.connect_tcp("127.0.0.1", self.stand_ins[host], timeout=timeout)
        if ipaddress.ip_address(host).is_loopback:
            return await self._real.connect_tcp(host, port, timeout=timeout)
        raise httpcore.ConnectError(f"{host} is unreachable in the simulated internet")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@pytest.fixture()
def internet(monkeypatch: pytest.MonkeyPatch, public_site: FaultServer) -> SimulatedInternet:
    net = SimulatedInternet({PUBLIC_IP: public_site.port})
    monkeypatch.setattr(PinnedBackend, "sockets", lambda: net)
    return net


def settings(loopback: FaultServer, **changes) -> FetchSettings:
    base = {"connect_timeout_s": 1.0, "read_timeout_s": 1.0, "total_timeout_s": 3.0,
            "max_retries": 0, "resolve": {ALLOWED: f"127.0.0.1:{loopback.port}"}}
    return FetchSettings(**(base | changes))


def fetch(fetch_settings: FetchSettings, *urls: str, resolver=None) -> list[FetchResult]:
    async def run() -> list[FetchResult]:
        async with Fetcher(fetch_settings, resolver=resolver) as fetcher:
            return [await fetcher.fetch_page(url, "test") for url in urls]

    return asyncio.run(run())


def paths(server: FaultServer, prefix: str = "/") -> list[str]:
    return [hit.path for hit in server.hits_for(prefix)]


# --- spellings answered by the real system resolver -----------------------------------------


def _etc_hosts_loopback_names() -> list[str]:
    """Names in /etc/hosts that the system resolver maps to loopback only (not localhost*)."""
    names: list[str] = []
    try:
        lines = Path("/etc/hosts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return names
    for line in lines:
        fields = line.split("#", 1)[0].split()
        try:
            if len(fields) < 2 or not ipaddress.ip_address(fields[0]).is_loopback:
                continue
        except ValueError:
            continue
        for name in fields[1:]:
            if "localhost" in name or name in names:
                continue
            try:
                answers = {i[4][0] for i in socket.getaddrinfo(name, None,
                                                               type=socket.SOCK_STREAM)}
            except OSError:
                continue
            if answers and all(ipaddress.ip_address(a).is_loopback for a in answers):
                names.append(name)
    return names


ETC_HOSTS = _etc_hosts_loopback_names()
_first_etc = ETC_HOSTS[0] if ETC_HOSTS else None
_etc_answer = (socket.getaddrinfo(_first_etc, None, type=socket.SOCK_STREAM)[0][4][0]
               if _first_etc else None)
_no_etc = pytest.mark.skip(reason="no /etc/hosts name maps to a loopback address here")

# (host as spelled in the URL, error class, refused address named in the error)
SPELLINGS = [
    pytest.param(_first_etc or "absent", "PrivateAddress", _etc_answer, id="etc-hosts-name",
                 marks=() if _first_etc else _no_etc),
    pytest.param((_first_etc or "absent").upper(), "PrivateAddress", _etc_answer,
                 id="etc-hosts-NAME", marks=() if _first_etc else _no_etc),
    pytest.param("2130706433", "PrivateAddress", "127.0.0.1", id="decimal"),
    pytest.param("0x7f000001", "PrivateAddress", "127.0.0.1", id="hex"),
    pytest.param("017700000001", "PrivateAddress", "127.0.0.1", id="octal"),
    pytest.param("0x7f.1", "PrivateAddress", "127.0.0.1", id="hex-short"),
    pytest.param("127.1", "PrivateAddress", "127.0.0.1", id="short"),
    pytest.param("127.0.0.1", "PrivateHost", "127.0.0.1", id="loopback"),
    pytest.param("127.0.0.2", "PrivateHost", "127.0.0.2", id="loopback-other"),
    pytest.param("0.0.0.0", "PrivateHost", "0.0.0.0", id="unspecified"),
    pytest.param("[::1]", "PrivateHost", "::1", id="ipv6-loopback"),
    pytest.param("[::]", "PrivateHost", "::", id="ipv6-unspecified"),
    pytest.param("[::ffff:127.0.0.1]", "PrivateHost", "127.0.0.1", id="ipv4-mapped"),
    pytest.param("[::ffff:7f00:1]", "PrivateHost", "127.0.0.1", id="ipv4-mapped-hex"),
    pytest.param("localhost", "PrivateHost", None, id="localhost"),
]


@pytest.mark.parametrize(("host", "error_class", "address"), SPELLINGS)
@pytest.mark.parametrize("bound", ["loopback", "wildcard"])
def test_every_spelling_of_a_local_address_is_refused_before_any_request(
    request: pytest.FixtureRequest, loopback: FaultServer, bound: str, host: str,
    error_class: str, address: str | None,
):
    server: FaultServer = request.getfixturevalue(bound)
    [result] = fetch(settings(loopback), f"http://{host}:{server.port}{SECRET}")
    assert result.error_class == error_class, result.error
    assert address is None or address in result.error
    assert "allow_private_hosts is off" in result.error
    assert result.html is None
    assert paths(server) == []  # not the page, not even robots.txt


@pytest.mark.parametrize(("host", "error_class", "address"), SPELLINGS)
def test_control_the_same_urls_reach_the_server_when_private_hosts_are_allowed(
    loopback: FaultServer, wildcard: FaultServer, host: str, error_class: str, address: str | None
):
    """Without the guard each spelling does reach the wildcard server: the refusals above are
    the guard's doing, not a URL that could not have been fetched anyway."""
    [result] = fetch(settings(loopback, allow_private_hosts=True),
                     f"http://{host}:{wildcard.port}{SECRET}")
    assert result.ok, result.error
    assert paths(wildcard, SECRET) == [SECRET]


def test_a_dotted_octal_address_is_not_even_a_valid_url(loopback: FaultServer,
                                                        wildcard: FaultServer):
    """`0177.0.0.1` (octal dotted quad) is refused by httpx's URL parser; nothing is sent."""
    [result] = fetch(settings(loopback), f"http://0177.0.0.1:{wildcard.port}{SECRET}")
    assert result.error_class == "InvalidURL"
    assert paths(wildcard) == []


@pytest.mark.parametrize(("host", "error_class", "address"), SPELLINGS)
def test_a_redirect_from_an_allowed_host_to_each_spelling_is_refused(
    loopback: FaultServer, wildcard: FaultServer, host: str, error_class: str, address: str | None
):
    target = f"http://{host}:{wildcard.port}{SECRET}"
    [result] = fetch(settings(loopback), f"http://{ALLOWED}/redirect?to={target}")
    assert result.error_class == error_class, result.error
    assert address is None or address in result.error
    assert result.final_url == target
    assert paths(loopback, "/redirect") == [f"/redirect?to={target}"]  # the hop did happen
    assert paths(wildcard) == [] and paths(loopback, SECRET) == []


# --- names only a resolver can tell: mixed answers, answers that change ------------------------


MIXED = {
    "mixed.test": [[PUBLIC_IP, "127.0.0.1"]],
    "mixed-v6.test": [["::1", PUBLIC_IP]],
    "metadata.test": [[PUBLIC_IP, "169.254.169.254"]],
    "mapped.test": [["::ffff:127.0.0.1"]],
    "nat64.test": [["64:ff9b::7f00:1"]],
    "shared.test": [["100.64.0.1"]],
    "private.test": [["10.1.2.3", PUBLIC_IP]],
    "sixtofour.test": [["2002:7f00:1::1"]],
}
BAD_ANSWER = {"mixed.test": "127.0.0.1", "mixed-v6.test": "::1",
              "metadata.test": "169.254.169.254", "mapped.test": "::ffff:127.0.0.1",
              "nat64.test": "64:ff9b::7f00:1", "shared.test": "100.64.0.1",
              "private.test": "10.1.2.3", "sixtofour.test": "2002:7f00:1::1"}


@pytest.mark.parametrize("name", sorted(MIXED))
@pytest.mark.parametrize("via_redirect", [False, True], ids=["direct", "redirect"])
def test_a_name_with_any_non_public_answer_is_refused(
    internet: SimulatedInternet, loopback: FaultServer, wildcard: FaultServer, name: str,
    via_redirect: bool,
):
    resolver = ScriptedResolver(MIXED)
    target = f"http://{name}:{wildcard.port}{SECRET}"
    url = f"http://{ALLOWED}/redirect?to={target}" if via_redirect else target
    [result] = fetch(settings(loopback), url, resolver=resolver)
    assert result.error_class == "PrivateAddress", result.error
    assert f"resolves to {BAD_ANSWER[name]}," in result.error
    # no connection to the refused name at all: only the trusted route of the redirect
    assert internet.asked == ([("127.0.0.1", loopback.port)] if via_redirect else [])
    assert paths(wildcard) == []


def test_the_address_checked_is_the_address_connected_to(
    internet: SimulatedInternet, loopback: FaultServer, wildcard: FaultServer,
    public_site: FaultServer,
):
    """DNS rebinding: `rebind.test` answers a public address once, then 127.0.0.1. Within a
    Fetcher the checked answer is pinned: robots.txt and two pages all go to the public site,
    the name is looked up once, the internal server sees nothing. The next Fetcher (next batch)
    looks it up again, gets 127.0.0.1 and refuses it."""
    resolver = ScriptedResolver({"rebind.test": [[PUBLIC_IP], ["127.0.0.1"]]})
    base = f"http://rebind.test:{wildcard.port}"

    async def two_pages():
        async with Fetcher(settings(loopback), resolver=resolver) as fetcher:
            first = await fetcher.fetch_page(f"{base}/page/one", "test")
            second = await fetcher.fetch_page(f"{base}/page/two", "test")
            return first, second

    first, second = asyncio.run(two_pages())
    assert first.ok and second.ok, (first.error, second.error)
    assert resolver.lookups["rebind.test"] == 1
    assert {address for address, _ in internet.asked} == {PUBLIC_IP}
    assert paths(public_site) == ["/robots.txt", "/page/one", "/page/two"]
    assert {hit.host for hit in public_site.hits_for("/")} == {f"rebind.test:{wildcard.port}"}
    assert paths(wildcard) == []

    [later] = fetch(settings(loopback), f"{base}{SECRET}", resolver=resolver)
    assert later.error_class == "PrivateAddress"
    assert "rebind.test: it resolves to 127.0.0.1, a loopback address" in later.error
    assert resolver.lookups["rebind.test"] == 2
    assert paths(wildcard) == []


def test_control_connections_use_the_resolvers_answer(
    internet: SimulatedInternet, loopback: FaultServer, wildcard: FaultServer
):
    """With private hosts allowed, a name the system cannot resolve reaches the server its
    scripted answer names: the tests above exercise the connection path, not a dead end."""
    resolver = ScriptedResolver({"intranet.test": [["127.0.0.1"]]})
    [result] = fetch(settings(loopback, allow_private_hosts=True),
                     f"http://intranet.test:{wildcard.port}{SECRET}", resolver=resolver)
    assert result.ok, result.error
    assert paths(wildcard, SECRET) == [SECRET]
    assert internet.asked == [("127.0.0.1", wildcard.port)]  # one kept-alive connection


def test_an_unresolvable_name_is_a_connect_error_not_a_refusal(
    internet: SimulatedInternet, loopback: FaultServer
):
    [result] = fetch(settings(loopback), "http://nowhere.test/page", resolver=ScriptedResolver({}))
    assert result.error_class == "ConnectError"
    assert "Name or service not known" in result.error
    assert internet.asked == []


# --- every hop: robots.txt, feeds, sitemaps, `newsmon extract` --------------------------------


def _sneaky_site(wildcard: FaultServer) -> DemoSite:
    """A public-looking outlet whose robots.txt redirects to 127.1, whose feed lives on a name
    from /etc/hosts and whose sitemap index names a child on 0x7f000001."""
    internal = wildcard.port
    index = (f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap>'
             f"<loc>http://0x7f000001:{internal}/sitemap/news.xml</loc></sitemap>"
             f"</sitemapindex>").encode()
    pages = {("sneaky.test", "/sitemap_index.xml"): Page(index, "application/xml")}

    def robots_to_loopback(handler, host: str, path: str) -> bool:
        if host == "robots.test" and path == "/robots.txt":
            handler.send_response(302)
            handler.send_header("Location", f"http://127.1:{internal}/robots.txt")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return True
        return False

    return DemoSite(pages=pages, fault=robots_to_loopback)


def test_robots_txt_redirecting_to_a_local_address_is_refused(
    loopback: FaultServer, wildcard: FaultServer
):
    with _sneaky_site(wildcard) as site:
        strict = settings(loopback, resolve={"robots.test": f"127.0.0.1:{site.port}"})
        [result] = fetch(strict, "http://robots.test/page/x")
        log = site.request_log
    assert result.error_class == "PrivateAddress"
    assert result.error.startswith("robots.txt: refusing host 127.1: it resolves to 127.0.0.1")
    assert [entry[2] for entry in log] == ["/robots.txt"]  # the page itself was never asked
    assert paths(wildcard) == []


@pytest.mark.skipif(not ETC_HOSTS, reason="no /etc/hosts name maps to a loopback address here")
def test_feeds_and_sitemaps_on_local_addresses_are_refused(
    loopback: FaultServer, wildcard: FaultServer
):
    feed = f"http://{ETC_HOSTS[0]}:{wildcard.port}/feed/good"
    with _sneaky_site(wildcard) as site:
        strict = settings(loopback, resolve={"sneaky.test": f"127.0.0.1:{site.port}"})
        source = Source(name="sneaky", feeds=(feed,),
                        sitemaps=("http://sneaky.test/sitemap_index.xml",))

        async def discover():
            async with Fetcher(strict) as fetcher:
                return await discover_source(fetcher, source, since=None, validators={})

        found = asyncio.run(discover())
    by_url = {doc.url: doc for doc in found.documents}
    child = f"http://0x7f000001:{wildcard.port}/sitemap/news.xml"
    assert by_url[feed].error_class == "PrivateAddress"
    assert by_url[child].error_class == "PrivateAddress"
    assert "it resolves to 127.0.0.1" in by_url[child].error
    assert by_url["http://sneaky.test/sitemap_index.xml"].error_class is None  # read fine
    assert found.candidates == []
    assert paths(wildcard) == []


def test_newsmon_extract_urls_are_checked(loopback: FaultServer, wildcard: FaultServer):
    urls = [f"http://2130706433:{wildcard.port}{SECRET}", f"http://[::1]:{wildcard.port}{SECRET}"]
    urls += [f"http://{name}:{wildcard.port}{SECRET}" for name in ETC_HOSTS[:1]]
    out = io.StringIO()
    code = run_extract(urls, None, out, FetchSettings(max_retries=0))
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 1
    assert [r["input"] for r in records] == urls
    for record in records:
        assert record["status"] == "failed"
        assert "PrivateAddress" in record["reason"] or "PrivateHost" in record["reason"]
        assert "allow_private_hosts is off" in record["reason"]
    assert paths(wildcard) == []


# --- TLS still verifies the URL's host name over a pinned connection --------------------------


def _certificates(tmp_path: Path) -> tuple[str, Path, Path]:
    """A throw-away CA (PEM text) and a server certificate and key for `secure.test`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def builder(subject: str, key) -> x509.CertificateBuilder:
        return (x509.CertificateBuilder().subject_name(name(subject))
                .issuer_name(name("newsmon test CA")).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    ca_key.public_key()), critical=False))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (builder("newsmon test CA", ca_key)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(
              digital_signature=True, key_cert_sign=True, crl_sign=True,
              content_commitment=False, key_encipherment=False, data_encipherment=False,
              key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (builder("secure.test", key)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("secure.test")]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "secure.pem", tmp_path / "secure.key"
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca.public_bytes(serialization.Encoding.PEM).decode(), cert_path, key_path


class _TLSHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        self.server.requests.append((self.headers.get("Host"), self.path))  # type: ignore[attr-defined]
        body = b"<html><body><p>over TLS</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_tls_verifies_the_url_host_name_over_the_pinned_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loopback: FaultServer
):
    ca_pem, cert, key = _certificates(tmp_path)
    server_names: list[str | None] = []
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    server_tls.sni_callback = lambda sock, sni, ctx: server_names.append(sni)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TLSHandler)
    server.daemon_threads = True
    server.requests = []  # type: ignore[attr-defined]
    server.socket = server_tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    internet = SimulatedInternet({PUBLIC_IP: server.server_address[1]})
    monkeypatch.setattr(PinnedBackend, "sockets", lambda: internet)
    monkeypatch.setattr(http, "tls_context", lambda: ssl.create_default_context(cadata=ca_pem))
    resolver = ScriptedResolver({"secure.test": [[PUBLIC_IP]], "impostor.test": [[PUBLIC_IP]]})
    try:
        good, bad = fetch(settings(loopback, obey_robots=False), "https://secure.test/page",
                          "https://impostor.test/page", resolver=resolver)
    finally:
        server.shutdown()
        server.server_close()
    assert good.ok and "over TLS" in good.html, good.error
    assert bad.error_class == "ConnectError" and "certificate" in bad.error.lower(), bad.error
    assert internet.asked == [(PUBLIC_IP, 443), (PUBLIC_IP, 443)]  # both went to the pinned IP
    assert server_names == ["secure.test", "impostor.test"]  # SNI: the URL's name, not the IP
    assert server.requests == [("secure.test", "/page")]  # the impostor never got to ask


# --- a refusal is recorded and the run goes on ----------------------------------------------


def test_refused_urls_land_in_fetch_log_and_the_run_goes_on(
    prefect_server, wildcard: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A monitor run over a feed whose entries point at the internal server under several
    spellings: the run completes, the public article is stored, each refused URL is in
    fetch_log with PrivateAddress/PrivateHost and the refused address, and the internal server
    saw nothing."""
    from flows.monitor import monitor
    from flows.settings import format_resolve

    article = next(a for a in expected_articles() if a.outlet == "outlet-a.test")
    internal = wildcard.port
    refused = {f"http://2130706433:{internal}/news/a": ("PrivateAddress", "127.0.0.1"),
               f"http://[::ffff:127.0.0.1]:{internal}/news/b": ("PrivateHost", "127.0.0.1"),
               f"http://0.0.0.0:{internal}/news/c": ("PrivateHost", "0.0.0.0")}
    if ETC_HOSTS:
        refused[f"http://{ETC_HOSTS[0]}:{internal}/news/d"] = ("PrivateAddress", _etc_answer)
    items = "".join(f"<item><title>Item {i}</title><link>{url}</link></item>"
                    for i, url in enumerate([article.canonical_url, *refused]))
    feed = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Guarded</title>'
            f"{items}</channel></rss>").encode()
    pages = build_site() | {("guarded.test", "/feed.xml"): Page(feed, "application/rss+xml")}
    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\nname = "Guarded"\nfeeds = ["http://guarded.test/feed.xml"]\n'
                       f'sitemaps = ["http://127.1:{internal}/sitemap/news.xml"]\n',
                       encoding="utf-8")
    db = tmp_path / "newsmon.duckdb"
    with DemoSite(pages=pages) as site:
        monkeypatch.setenv("NEWSMON_RESOLVE", format_resolve(site.resolve_map))
        monkeypatch.delenv("NEWSMON_ALLOW_PRIVATE_HOSTS", raising=False)
        summary = monitor(sources=str(sources), warehouse=str(db))

    con = duckdb.connect(str(db), read_only=True)
    try:
        status = con.execute("SELECT status FROM runs WHERE run_id = ?",
                             [summary.run_id]).fetchall()
        stored = {row[0] for row in con.execute("SELECT canonical_url FROM articles").fetchall()}
        log = {url: (cls, err) for url, cls, err in con.execute(
            "SELECT url, error_class, error FROM fetch_log WHERE error_class IS NOT NULL")
            .fetchall()}
    finally:
        con.close()
    assert status == [("partial",)]  # its sitemap was refused: the source was read in part
    assert article.canonical_url in stored
    for url, (error_class, address) in refused.items():
        assert log[url][0] == error_class, (url, log.get(url))
        assert address in log[url][1], log[url]
    sitemap = f"http://127.1:{internal}/sitemap/news.xml"
    assert log[sitemap][0] == "PrivateAddress" and "127.0.0.1" in log[sitemap][1]
    assert paths(wildcard) == []


# --- the address rules ------------------------------------------------------------------------


@pytest.mark.parametrize("address", [
    "8.8.8.8", "93.184.216.34", "2606:4700::1111", "2001:4860:4860::8888",
    "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
])
def test_public_addresses_pass(address: str):
    assert refusal_reason(address) is None


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "a loopback address"),
    ("10.0.0.8", "a private address"),
    ("172.16.5.4", "a private address"),
    ("192.168.1.1", "a private address"),
    ("169.254.169.254", "a link-local address"),
    ("0.0.0.0", "an unspecified address"),
    ("0.1.2.3", "an address that is not globally routable"),
    ("100.64.0.1", "a shared address (100.64.0.0/10)"),
    ("224.0.0.1", "a multicast address"),
    ("239.255.255.250", "a multicast address"),
    ("240.0.0.1", "a reserved address"),
    ("255.255.255.255", "a reserved address"),
    ("192.0.2.1", "an address that is not globally routable"),
    ("198.18.0.1", "an address that is not globally routable"),
    ("::", "an unspecified address"),
    ("::1", "a loopback address"),
    ("fe80::1", "a link-local address"),
    ("fc00::1", "a private address"),
    ("fd12:3456::1", "a private address"),
    ("fec0::1", "a site-local address"),
    ("ff02::1", "a multicast address"),
    ("2001:db8::1", "an address that is not globally routable"),
    ("::127.0.0.1", "a reserved address"),  # IPv4-compatible (deprecated)
    ("::ffff:127.0.0.1", "an IPv4-mapped form of 127.0.0.1, a loopback address"),
    ("::ffff:10.0.0.1", "an IPv4-mapped form of 10.0.0.1, a private address"),
    ("64:ff9b::a9fe:a9fe", "a NAT64 form of 169.254.169.254, a link-local address"),
    ("64:ff9b:1::1", "a local-use NAT64 address (64:ff9b:1::/48)"),
    ("::ffff:0:7f00:1", "an IPv4-translated form of 127.0.0.1, a loopback address"),
    ("2002:7f00:1::1", "a 6to4 form of 127.0.0.1, a loopback address"),
    ("2002:a00:1::1", "a 6to4 form of 10.0.0.1, a private address"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "a Teredo form of 127.0.0.1, a loopback address"),
])
def test_non_public_addresses_are_refused_with_their_reason(address: str, reason: str):
    assert refusal_reason(address) == reason
