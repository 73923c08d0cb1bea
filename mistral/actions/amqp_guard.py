"""Which brokers std.amqp and std.amqp_wait may reach: [action_amqp] denied_networks and allow_mistral_broker.

NOTE: the addresses are checked after resolving the broker's name and before connecting; the client
library resolves the name again when it connects, so unlike std.http's guard this one does not stop
a name whose answer changes in between (DNS rebinding). An operator who needs that closes it at the
network level or lists brokers by address.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from mistral.config import CONF

SCHEMES = {"amqp": 5672, "pyamqp": 5672, "amqps": 5671}


class RefusedError(Exception):
    """A broker the actions will not connect to; the message names the reason or the option."""


@dataclass(frozen=True)
class Broker:
    """Where a URL points: host, port and virtual host (``/`` by default, as kombu reads it)."""

    host: str
    port: int
    virtual_host: str
    ssl: bool


def parse(url: str) -> Broker:
    """The broker of an ``amqp://`` or ``amqps://`` URL; ValueError names what is wrong with it."""
    if not isinstance(url, str) or not url:
        raise ValueError("url must be an amqp:// or amqps:// URL")
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"url must start with amqp:// or amqps://, got scheme {parts.scheme!r}")
    try:
        port = parts.port or SCHEMES[parts.scheme]
    except ValueError as exc:
        raise ValueError(f"url has a bad port: {exc}") from exc
    if not parts.hostname:
        raise ValueError("url names no broker host")
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    return Broker(parts.hostname, port, vhost, parts.scheme == "amqps")


def _addresses(host: str, port: int) -> set[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedError(f"cannot resolve broker host {host!r}: {exc}") from exc
    return {str(info[4][0]).split("%")[0] for info in infos}


def _denied(address: str) -> str | None:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for entry in CONF.action_amqp.denied_networks:
        try:
            network = ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError as exc:
            raise RefusedError(
                f"[action_amqp] denied_networks has an entry that is no network: {exc}"
            ) from exc
        if ip.version == network.version and ip in network:
            return str(network)
    return None


def _mistral_brokers() -> list[tuple[str, int, str]]:
    """(host, port, virtual host) of Mistral's own RPC transport; none for the in-process one."""
    url = urlsplit(str(CONF.transport_url or ""))
    if not url.scheme.startswith(("rabbit", "amqp", "kombu")):
        return []
    vhost = unquote(url.path[1:]) if len(url.path) > 1 else "/"
    found = []
    # NOTE: oslo.messaging's multi-host form: user:pass@host1:port1,user:pass@host2:port2/vhost
    for part in url.netloc.split(","):
        host = urlsplit("//" + part.rpartition("@")[2])
        if host.hostname:
            found.append((host.hostname, host.port or 5672, vhost))
    return found


def check(broker: Broker) -> None:
    """Raise RefusedError unless the options let the actions connect to ``broker``."""
    addresses = _addresses(broker.host, broker.port)
    for address in sorted(addresses):
        network = _denied(address)
        if network:
            raise RefusedError(
                f"broker {broker.host} ({address}) is in {network} of [action_amqp] denied_networks"
            )
    if CONF.action_amqp.allow_mistral_broker:
        return
    for host, port, vhost in _mistral_brokers():
        if port == broker.port and vhost == broker.virtual_host and addresses & _addresses(host, port):
            raise RefusedError(
                f"virtual host {vhost!r} of {broker.host}:{broker.port} carries Mistral's own RPC "
                "(see [action_amqp] allow_mistral_broker)"
            )
