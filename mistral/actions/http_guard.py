"""Where std.http may connect and how much it may read: [action_http] denied_networks and max_response_size.

NOTE: the deny-list is checked in the connection layer, on the addresses that
name resolution returned and that the socket is then connected to, so a name
cannot resolve to an allowed address when checked and to a denied one when
used (DNS rebinding). Every connection goes through it: the first request,
each redirect, and an HTTP proxy named by the workflow.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family

from mistral.config import CONF

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Bytes read from a response at a time while counting towards the cap.
CHUNK = 64 * 1024


class RefusedError(Exception):
    """A request std.http will not make or a response it will not read; the message names the option.

    NOTE: deliberately not an OSError, so urllib3 and requests neither retry it nor wrap it.
    """


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())
    except ValueError as exc:
        raise RefusedError(f"[action_http] denied_networks has an entry that is no network: {exc}") from exc


def denied_network(address: str) -> Network | None:
    """The network of [action_http] denied_networks that ``address`` is in, if any."""
    ip: Address = ipaddress.ip_address(address)
    # An IPv4 address written as IPv6 (::ffff:169.254.169.254) reaches the IPv4 host.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for network in _networks(tuple(CONF.action_http.denied_networks)):
        if ip.version == network.version and ip in network:
            return network
    return None


def create_connection(
    address: tuple[str, int],
    timeout: Any,
    source_address: tuple[str, int] | None = None,
    socket_options: Any = None,
) -> socket.socket:
    """Resolve ``address`` once and connect to the first of its addresses that is not denied."""
    host, port = address
    host = host.strip("[]")
    found = socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
    allowed, refused = [], []
    for info in found:
        ip = str(info[4][0])  # an AF_INET or AF_INET6 address: the host is text
        network = denied_network(ip.split("%")[0])
        if network is None:
            allowed.append(info)
        else:
            refused.append(f"{host} is {ip}, in {network} of [action_http] denied_networks")
    if not allowed and refused:
        raise RefusedError(refused[0])
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in allowed:
        sock = socket.socket(family, kind, proto)
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
            if timeout is None or isinstance(timeout, int | float):
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error or OSError(f"no address to connect to for {host}")


class _GuardedConnectionMixin:
    """urllib3's own connection, but it connects through ``create_connection`` above."""

    def _new_conn(self) -> socket.socket:
        conn: Any = self
        try:
            return create_connection(
                (conn._dns_host, conn.port),
                conn.timeout,
                source_address=conn.source_address,
                socket_options=conn.socket_options,
            )
        # The same translation urllib3 makes, so requests reports these as it always did.
        except socket.gaierror as exc:
            raise NameResolutionError(conn.host, conn, exc) from exc
        except TimeoutError as exc:
            raise ConnectTimeoutError(
                conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})"
            ) from exc
        except OSError as exc:
            raise NewConnectionError(conn, f"Failed to establish a new connection: {exc}") from exc


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


_POOLS = {"http": GuardedHTTPConnectionPool, "https": GuardedHTTPSConnectionPool}


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose every connection, direct or to a proxy, is checked."""

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        if not proxy.lower().startswith(("http://", "https://")):
            # NOTE: a SOCKS proxy resolves and connects by itself, out of reach of the check.
            raise RefusedError(f"proxy {proxy} is not an HTTP proxy; std.http allows only http(s) proxies")
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


def session() -> requests.Session:
    """A session that connects only where [action_http] denied_networks allows and caps each body."""
    sess = requests.Session()
    adapter = GuardedAdapter()
    sess.mount("http://", adapter)
    sess.mount("https://", adapter)
    # NOTE: the hook runs on every response, redirects included, before requests
    # reads a redirect's body to discard it, so no body is read beyond the cap.
    sess.hooks["response"].append(_read_capped)
    return sess


def _read_capped(resp: requests.Response, **_: Any) -> requests.Response:
    """Read the (streamed) body of ``resp``, stopping at [action_http] max_response_size."""
    cap = CONF.action_http.max_response_size
    chunks, size = [], 0
    for chunk in resp.iter_content(CHUNK):
        size += len(chunk)
        if cap and size > cap:
            resp.close()
            raise RefusedError(
                f"the response from {resp.url} is larger than [action_http] max_response_size ({cap} bytes)"
            )
        chunks.append(chunk)
    # NOTE: what Response.content itself does after reading; later .content, .text and .json() use it.
    resp._content = b"".join(chunks)  # noqa: SLF001
    # types-requests leaves out this private attribute, which Response.__init__ sets.
    resp._content_consumed = True  # type: ignore[attr-defined]  # noqa: SLF001
    return resp
