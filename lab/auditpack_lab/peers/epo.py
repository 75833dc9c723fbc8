"""An HTTPS server answering ePO's Web API call core.executeQuery the way the console does.

Real: the TLS socket, HTTP Basic authentication, the URL and query
parameters. Simulated: the rows, which the test gives (in the shape ePO's
JSON output uses: "OK:" then a list of objects keyed Table.Column), as a list
or as a function asked on every query (the lab's console answers as of its clock),
for the systems (EPOLeafNode) and the threat events (EPOEvents, which a newerThan
where clause cuts to the recent ones, as the console does).
and core.help: "OK:" then one line per command the account may run (the test
gives the names; the descriptions are short ones of our own).
"""

from __future__ import annotations

import base64
import json
import re
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from .http_server import send, serving
from .tls import TestPki, make_pki

HELP_TEXTS = {
    "core.executeQuery": "Runs a query and returns its rows",
    "core.help": "Lists the commands this account may run",
    "core.listQueries": "Lists the saved queries",
    "system.find": "Finds systems by name or tag",
}
HELP_COMMANDS = tuple(HELP_TEXTS)


@dataclass
class EpoPeer:
    url: str
    pki: TestPki
    requests: list[dict] = field(default_factory=list)
    answered: list[tuple[str, int, int]] = field(default_factory=list)  # per query: target, rows, answer bytes


# The one where clause the console understands here: SQUID's newerThan, milliseconds back from the console's now.
NEWER_THAN = re.compile(r"\(where \(newerThan EPOEvents\.DetectedUTC ([0-9]+)\)\)")


@contextmanager
def running_epo(
    directory: Path,
    address: str,
    user: str,
    password: str,
    rows: list[dict] | Callable[[], list[dict]],
    port: int = 0,
    events: list[dict] | Callable[[], list[dict]] = (),
    certificate_from: datetime | None = None,
    certificate_days: float = 2,
    commands: tuple[str, ...] = HELP_COMMANDS,
) -> Iterator[EpoPeer]:
    """The console on (address, port); port 0 takes a free one. Its certificate is valid from CERTIFICATE_FROM
    (default: now) for CERTIFICATE_DAYS. ROWS answer target=EPOLeafNode, EVENTS target=EPOEvents (threat events,
    keyed EPOEvents.Column); a where clause other than newerThan on DetectedUTC is answered with an error.
    COMMANDS: what core.help lists for the account."""
    pki = make_pki(directory, "epo.test", address, valid_from=certificate_from, valid_days=certificate_days)
    tables = {
        "EPOLeafNode": rows if callable(rows) else lambda: rows,
        "EPOEvents": events if callable(events) else lambda: list(events),
    }
    peer: EpoPeer

    def query(parameters: dict[str, list[str]]) -> tuple[list[dict], str] | None:
        """The rows a query asks for and its target; None when the console would not understand it."""
        target = (parameters.get("target") or [""])[0]
        if target not in tables:
            return None
        found = tables[target]()
        where = parameters.get("where")
        if where is None:
            return found, target
        newer = NEWER_THAN.fullmatch(where[0])
        if target != "EPOEvents" or newer is None:
            return None
        since = datetime.now(UTC) - timedelta(milliseconds=int(newer.group(1)))
        return [r for r in found if datetime.fromisoformat(r["EPOEvents.DetectedUTC"]) > since], target

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            peer.requests.append({"path": url.path, "query": parse_qs(url.query)})
            expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                self._answer(401, b"Error 0:\r\nInvalid credentials\r\n", {"WWW-Authenticate": 'Basic realm="ePO"'})
            elif url.path == "/remote/core.help":
                listing = "".join(f"{name} - {HELP_TEXTS.get(name, name)}\r\n" for name in commands)
                self._answer(200, b"OK:\r\n" + listing.encode())
            elif url.path != "/remote/core.executeQuery" or "core.executeQuery" not in commands:
                self._answer(404, b"Error 1:\r\nUnknown command\r\n")
            elif (asked := query(parse_qs(url.query))) is None:
                self._answer(200, b"Error 2:\r\nInvalid query\r\n")
            else:
                found, target = asked
                body = b"OK:\r\n" + json.dumps(found, indent=2).encode()
                peer.answered.append((target, len(found), len(body)))
                self._answer(200, body)

        def _answer(self, status: int, body: bytes, headers: dict | None = None) -> None:
            send(self, status, body, {"Content-Type": "text/plain; charset=UTF-8", **(headers or {})})

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer((address, port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.cert_file, pki.key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    peer = EpoPeer(f"https://{address}:{server.server_port}", pki)
    with serving(server):
        yield peer
