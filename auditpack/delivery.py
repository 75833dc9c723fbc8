"""Sending a message through apprise URLs (mailto://, mailtos://, msteams://, slack://, json://, ...), and saying
which URL failed and why without ever showing the URL's secret: its password, token or webhook path."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

MASK = "****"
# Webhook-style URLs whose path is the secret (the endpoint's token), which apprise's privacy mode keeps as it is
PATH_IS_SECRET = {"json", "jsons", "xml", "xmls", "form", "forms", "http", "https"}


@dataclass(frozen=True)
class DeliveryFailure:
    channel: str  # the masked URL
    reason: str  # apprise's reason, the URL's secrets taken out


def _secrets_of(url: str) -> list[str]:
    """The parts of URL that may be a secret, longest first, to take out of any text that might repeat them."""
    try:
        parts = urlsplit(url)
        password = parts.password or ""
    except ValueError:
        return [url]
    found = [parts.username or "", parts.query, *parts.path.split("/")]
    found += [value for pair in parts.query.split("&") for value in pair.split("=")[1:]]
    # a password however short; other parts only when long enough to be a token, not a word such as "hook"
    found = {p for p in found if len(p) >= 8} | ({password} if len(password) >= 3 else set())
    return sorted(found, key=len, reverse=True)


def _fallback_mask(url: str) -> str:
    """scheme://user:****@host:port/**** from any URL apprise could not read: only where it goes is kept."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return f"{url.partition('://')[0]}://{MASK}"
    user = f"{parts.username}:{MASK}@" if parts.username and parts.password else (f"{MASK}@" if parts.username else "")
    path = f"/{MASK}" if parts.path.strip("/") else ""
    return f"{parts.scheme}://{user}{host}{port}{path}"


def mask_url(url: str) -> str:
    """URL as it may be printed and stored: apprise's privacy form (tokens shortened, passwords starred), without
    its options; for webhooks whose path is the token, and for URLs apprise cannot read, only where it goes."""
    import apprise

    scheme = url.partition("://")[0].lower()
    try:
        plugin = apprise.Apprise.instantiate(url)
    except Exception:  # a URL apprise cannot parse: masked by hand
        plugin = None
    if plugin is None or scheme in PATH_IS_SECRET:
        return _fallback_mask(url)
    return plugin.url(privacy=True).split("?", 1)[0].rstrip("/")


def scrub(text: str, url: str) -> str:
    """TEXT with every part of URL that may be secret replaced by ****."""
    for secret in _secrets_of(url):
        text = text.replace(secret, MASK)
    return text


def send(url: str, title: str, body: str) -> DeliveryFailure | None:
    """Send one plain-text message to URL; None when it was delivered, else why not (in apprise's words)."""
    import apprise

    channel = mask_url(url)
    sender = apprise.Apprise()
    if not sender.add(url):
        return DeliveryFailure(channel, "not a URL apprise can send to (unknown scheme or a malformed URL)")
    with apprise.LogCapture(level=logging.DEBUG) as log:  # the cause ("Connection refused") is logged as debug
        delivered = sender.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT)
    if delivered:
        return None
    return DeliveryFailure(channel, scrub(_reason(log.getvalue()), url) or "apprise gave no reason")


def _reason(log: str) -> str:
    """Apprise's warnings and errors, and the exception under them, from its log lines ("time - LEVEL - text")."""
    said = []
    for line in log.splitlines():
        _, level, text = (line.split(" - ", 2) + ["", ""])[:3]
        if level in ("WARNING", "ERROR", "CRITICAL") or "Exception" in text:
            said.append(text.strip())
    return "; ".join(said)
