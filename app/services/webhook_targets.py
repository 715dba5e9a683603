"""Where a webhook may send: a public address, over https in production.

A URL is checked when it is saved and again before each attempt, since what a name
resolves to can change in between: every address the host resolves to must be public
(not loopback, private, link-local such as the cloud metadata address 169.254.169.254,
multicast, reserved or shared), and the attempt then connects to an address just checked,
so a second lookup cannot swap in another. `WEBHOOK_ALLOW_PRIVATE_TARGETS` turns the check
off, for tests and closed networks.
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from app.config import Environment, Settings
from app.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    """A checked URL, and the address to connect to (None: connect by name)."""

    url: SplitResult
    address: IPAddress | None

    @property
    def host(self) -> str:
        return self.url.hostname or ""


def _refused(detail: str) -> InvalidInput:
    return InvalidInput(detail, field="url")


def check_form(url: str, settings: Settings) -> SplitResult:
    """The URL's parts, once its scheme and host may be sent to."""
    parts = urlsplit(url)
    schemes = {"https"}
    if settings.environment is not Environment.PRODUCTION or settings.webhook_allow_private_targets:
        schemes.add("http")
    if parts.scheme not in schemes:
        raise _refused(f"The webhook's URL must use {' or '.join(sorted(schemes))}.")
    if not parts.hostname:
        raise _refused("The webhook's URL has no host.")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError as exc:
        raise _refused("The webhook's URL has an invalid port.") from exc
    return parts


def not_public(address: IPAddress) -> str | None:
    """What kind of non-public address `address` is; None if it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local (cloud metadata)"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    if address.is_reserved or address.is_unspecified or not address.is_global:
        return "reserved"
    return None


async def resolve(url: str, settings: Settings) -> Target:
    """The target `url` names, checked: refused (InvalidInput on `url`) unless every
    address its host resolves to is public."""
    parts = check_form(url, settings)
    if settings.webhook_allow_private_targets:
        return Target(parts, None)
    host = parts.hostname or ""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise _refused(f"The webhook's host {host} cannot be resolved.") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in found]
    for address in addresses:
        kind = not_public(address)
        if kind is not None:
            raise _refused(
                f"The webhook's URL must reach a public address: {host} is {address}, "
                f"a {kind} address."
            )
    if not addresses:
        raise _refused(f"The webhook's host {host} cannot be resolved.")
    return Target(parts, addresses[0])
