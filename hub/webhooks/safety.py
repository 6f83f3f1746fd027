"""Where a webhook may be sent. An endpoint's URL is typed by an admin but fetched by our
workers, inside our network: without this check it is a way to reach the database, the
metadata service or anything else behind the firewall (SSRF). Pure code: the resolver is a
parameter, so tests run without DNS."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

MAX_URL_LENGTH = 500
Resolver = Callable[[str, int], Iterable[str]]


class UnsafeDestination(ValueError):
    """A URL Homing refuses to call; ``code`` says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestination("unresolvable", f"{host} does not resolve") from exc
    return [info[4][0] for info in infos]


def check_url(url: str, *, allow_private: bool, resolve: Resolver = system_resolver) -> str:
    """The URL back when Homing may POST to it; UnsafeDestination otherwise. Production
    (``allow_private`` false) wants https and public addresses only; tests and closed
    networks may allow plain http and private addresses."""
    url = (url or "").strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeDestination("invalid_url", f"a URL of 1 to {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeDestination("invalid_url", "not a URL") from exc
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeDestination("scheme_refused", "the URL must start with https://")
    if not parts.hostname or parts.username or parts.password:
        raise UnsafeDestination("invalid_url", "a host is needed, without user or password")
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = list(resolve(parts.hostname, port))
    if not addresses:
        raise UnsafeDestination("unresolvable", f"{parts.hostname} does not resolve")
    if not allow_private:
        for address in addresses:
            if not _public(address):
                raise UnsafeDestination(
                    "private_address",
                    f"{parts.hostname} is a private or reserved address ({address})")
    return url


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
