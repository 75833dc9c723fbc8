"""An HTTPS server answering ePO's Web API call core.executeQuery the way the console does.

Real: the TLS socket, HTTP Basic authentication, the URL and query
parameters. Simulated: the rows, which the test gives (in the shape ePO's
JSON output uses: "OK:" then a list of objects keyed Table.Column), as a list
or as a function asked on every query (the lab's console answers as of its clock),
and core.help: "OK:" then one line per command the account may run (the test
gives the names; the descriptions are short ones of our own).
"""

from __future__ import annotations

import base64
import json
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
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


@contextmanager
def running_epo(
    directory: Path,
    address: str,
    user: str,
    password: str,
    rows: list[dict] | Callable[[], list[dict]],
    port: int = 0,
    certificate_from: datetime | None = None,
    certificate_days: float = 2,
    commands: tuple[str, ...] = HELP_COMMANDS,
) -> Iterator[EpoPeer]:
    """The console on (address, port); port 0 takes a free one. Its certificate is valid from CERTIFICATE_FROM
    (default: now) for CERTIFICATE_DAYS. COMMANDS: what core.help lists for the account."""
    pki = make_pki(directory, "epo.test", address, valid_from=certificate_from, valid_days=certificate_days)
    answer = rows if callable(rows) else lambda: rows
    peer: EpoPeer

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
            else:
                self._answer(200, b"OK:\r\n" + json.dumps(answer(), indent=2).encode())

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
