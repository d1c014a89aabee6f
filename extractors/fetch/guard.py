"""The private-address guard: connect only to public addresses, and only to the ones checked.

Feeds, sitemaps and redirects are written by other people, so a URL can point newsmon at a
service only the monitoring machine reaches (an admin page, a cloud metadata endpoint). Looking
at the URL's spelling is not enough: `vm` (from /etc/hosts), `2130706433`, `0x7f000001` and
`127.1` are all 127.0.0.1, and any DNS name can answer with a private address. So:

- `AddressGuard.destinations(host, port)` resolves the host (every A/AAAA answer, through the
  same `Resolver` the connection uses) and refuses it when ANY answer is not a public unicast
  address (`refusal_reason`). The checked answer is pinned for the guard's life (one Fetcher, one
  batch): the host is never looked up again, so a name that answers differently a moment later
  (DNS rebinding) cannot slip through.
- `PinnedTransport` is the Fetcher's httpx transport; its httpcore network backend
  (`PinnedBackend`) connects only to what `destinations` returned for the URL's host. httpcore
  still hands the URL's host name to TLS, so the certificate is verified against that name and
  SNI carries it, whatever address the socket went to.

Trusted operator settings, never applied to addresses from the network:
- routes (`FetchSettings.resolve`, env NEWSMON_RESOLVE): "host[:port]" -> "ip:port"; a routed
  host connects there without a lookup or a check (demo outlets, test servers);
- `allow_private_hosts`: answers are pinned but not checked (demo, tests, intranet monitoring).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

import httpcore
import httpx

from extractors.fetch import errors

Destination = tuple[str, int]  # (IP address, port): where one TCP connection may go
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_DEFAULT_PORTS = {"http": 80, "https": 443}
_RFC1918_OR_ULA = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598, carrier-grade NAT
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix: IPv4 in the low bits
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local-use translation
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765 SIIT "IPv4-translated"
_OFF = "(allow_private_hosts is off)"


class Resolver(Protocol):
    """Where connections look host names up; tests pass their own."""

    async def resolve(self, host: str) -> Sequence[str]:
        """Every address of `host` (A and AAAA answers) as strings; OSError when there is none."""
        ...


class SystemResolver:
    """The system's resolver (/etc/hosts, DNS, numeric spellings) via the event loop's
    getaddrinfo: what a plain connection to the name would have used."""

    async def resolve(self, host: str) -> Sequence[str]:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        return [info[4][0] for info in infos]


def refusal_reason(address: str | IPAddress) -> str | None:
    """Why a connection to `address` is refused ("a loopback address", ...); None when it is a
    public unicast address. IPv4 carried inside IPv6 is judged by the IPv4 address it reaches:
    mapped and NAT64 addresses ARE that address; 6to4, Teredo and SIIT-translated ones are
    refused when it is not public, and otherwise judged as IPv6."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket
            return _carried("an IPv4-mapped", ip.ipv4_mapped)
        if ip in _NAT64:  # a NAT64 gateway forwards to the low 32 bits
            return _carried("a NAT64", _low32(ip))
        if ip in _NAT64_LOCAL:
            return "a local-use NAT64 address (64:ff9b:1::/48)"
        carried = (("an IPv4-translated", _low32(ip) if ip in _TRANSLATED else None),
                   ("a 6to4", ip.sixtofour), ("a Teredo", ip.teredo[1] if ip.teredo else None))
        for kind, v4 in carried:
            if v4 is not None and (reason := _carried(kind, v4)):
                return reason
    return _own_reason(ip)


def _low32(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)


def _carried(kind: str, v4: ipaddress.IPv4Address) -> str | None:
    reason = _own_reason(v4)
    return None if reason is None else f"{kind} form of {v4}, {reason}"


def _own_reason(ip: IPAddress) -> str | None:
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip in _SHARED, "a shared address (100.64.0.0/10)"),
        (getattr(ip, "is_site_local", False), "a site-local address"),
        (any(ip in net for net in _RFC1918_OR_ULA), "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "an address that is not globally routable"),
    )
    return next((reason for hit, reason in checks if hit), None)


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _is_localhost_name(host: str) -> bool:
    """RFC 6761: `localhost` and names under it are loopback, whatever a resolver says."""
    name = host.rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def _parse_route(name: str, target: str) -> Destination:
    address, _, port = target.strip().rpartition(":")
    if not address or not port.isdigit():
        raise ValueError(f"route {name}={target}: the target must be ip:port")
    return address.strip("[]"), int(port)


class AddressGuard:
    """Resolves, checks and pins the addresses of hosts, for one Fetcher (see the module doc).

    `destinations` raises errors.PrivateHost (the URL names a non-public IP address, or a
    localhost name) or errors.PrivateAddress (the name resolves to one) when refused, and
    OSError when the name cannot be resolved (not pinned: the next connection asks again).
    """

    def __init__(
        self,
        resolver: Resolver | None = None,
        *,
        routes: Mapping[str, str] | None = None,
        allow_private: bool = False,
        timeout_s: float | None = None,
    ) -> None:
        self._resolver = resolver or SystemResolver()
        self._routes = {k.lower(): _parse_route(k, v) for k, v in (routes or {}).items()}
        self._allow_private = allow_private
        self._timeout_s = timeout_s
        self._pins: dict[str, tuple[str, ...] | errors.PrivateHost] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def check_url(self, url: str) -> None:
        """Refuse `url` before any request when its host is refused (every hop calls this; the
        connection would be refused anyway). A name that cannot be resolved passes here: the
        request then fails with ConnectError and is retried like any connection failure."""
        if self._allow_private:
            return
        try:
            parsed = httpx.URL(url)  # the host exactly as httpcore will ask the backend for it
            host = parsed.raw_host.decode("ascii")
        except (httpx.InvalidURL, UnicodeError):
            return  # the request reports it as InvalidURL, before any connection
        try:
            await self.destinations(host, parsed.port or _DEFAULT_PORTS.get(parsed.scheme, 80))
        except OSError:
            return

    async def destinations(self, host: str, port: int) -> tuple[Destination, ...]:
        """Where a connection to host:port may go: its route, or its checked, pinned addresses."""
        host = host.lower()
        route = self._routes.get(f"{host}:{port}") or self._routes.get(host)
        if route is not None:
            return (route,)
        pinned = self._pins.get(host)
        if pinned is None:
            async with self._locks.setdefault(host, asyncio.Lock()):
                pinned = self._pins.get(host)
                if pinned is None:
                    pinned = self._pins[host] = await self._look_up(host)
        if isinstance(pinned, errors.PrivateHost):
            raise type(pinned)(str(pinned), address=pinned.address, attempts=0)
        return tuple((address, port) for address in pinned)

    async def _look_up(self, host: str) -> tuple[str, ...] | errors.PrivateHost:
        """The host's addresses when every one passes, else the refusal (both get pinned)."""
        literal = _ip_literal(host)
        if literal is not None:
            addresses: tuple[str, ...] = (str(literal),)
        elif _is_localhost_name(host) and not self._allow_private:
            return errors.PrivateHost(f"refusing host {host}: localhost names are loopback {_OFF}")
        else:
            async with asyncio.timeout(self._timeout_s):
                addresses = tuple(dict.fromkeys(await self._resolver.resolve(host)))
            if not addresses:
                raise OSError(f"no address found for {host}")
        if self._allow_private:
            return addresses
        for address in addresses:
            reason = refusal_reason(address)
            if reason is None:
                continue
            if literal is not None:
                return errors.PrivateHost(f"refusing host {host}: {reason} {_OFF}",
                                          address=address)
            among = f" (all answers: {', '.join(addresses)})" if len(addresses) > 1 else ""
            return errors.PrivateAddress(
                f"refusing host {host}: it resolves to {address}, {reason}{among} {_OFF}",
                address=address,
            )
        return addresses


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only where `AddressGuard.destinations` says.

    httpcore passes the URL's host name; the socket goes to a checked address and the stream
    returned still starts TLS with the host name (SNI, certificate check) in httpcore.
    Addresses are tried in the resolver's order, each within the connect timeout.
    """

    # What opens the sockets. Tests stand a simulated internet in here, so that "public"
    # addresses from a test resolver lead to local servers instead of leaving the machine.
    sockets: Callable[[], httpcore.AsyncNetworkBackend] = httpcore.AnyIOBackend

    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard
        self._inner = type(self).sockets()  # via the class: a plain function stays unbound

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            destinations = await self._guard.destinations(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"looking up {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or f"cannot resolve {host}") from exc
        failure: Exception | None = None
        for address, to_port in destinations:
            try:
                return await self._inner.connect_tcp(
                    address, to_port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # destinations is never empty
        if len(destinations) == 1:
            raise failure
        tried = ", ".join(address for address, _ in destinations)
        raise type(failure)(f"{failure or 'connection failed'} (tried {tried})") from failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("newsmon does not connect to unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own HTTP transport with a `PinnedBackend` under its connection pool."""

    def __init__(
        self, guard: AddressGuard, *, ssl_context: ssl.SSLContext, limits: httpx.Limits
    ) -> None:
        super().__init__(verify=ssl_context, limits=limits)
        # httpx takes no network backend argument: rebuild its httpcore pool with ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(guard),
        )
