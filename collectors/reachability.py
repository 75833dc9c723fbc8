"""The `reachability` collector: can the host be reached, and does it speak the expected protocol?

No credentials are sent. For SSH it reads the server's identification line;
for WinRM it sends an empty, unauthenticated WS-Management POST and records
which authentication schemes the server offers (HTTP 401 + WWW-Authenticate).
The answer, or the exact failure with its timing, is the evidence.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from auditpack.canonical import canonical_json, utcnow
from auditpack.evidence import ItemStatus, Observation
from auditpack.inventory import Host

from .base import CollectContext
from .guard import NUMBER

MAX_BANNER = 255  # RFC 4253 caps the SSH identification line at 255 bytes


@dataclass
class ProbeResult:
    reachable: bool
    seconds: float
    detail: str  # one line a person reads: "SSH-2.0-OpenSSH_9.2p1" or "connection refused"
    facts: dict = field(default_factory=dict)
    raw: bytes = b""


def _failure(exc: BaseException, seconds: float, timeout: float) -> ProbeResult:
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return ProbeResult(False, seconds, f"no answer within {timeout:g} s")
    if isinstance(exc, ConnectionRefusedError):
        return ProbeResult(False, seconds, f"connection refused after {seconds:.1f} s")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ProbeResult(False, seconds, f"TLS certificate not trusted: {exc.verify_message}")
    if isinstance(exc, socket.gaierror):
        return ProbeResult(False, seconds, f"name does not resolve: {exc.strerror}")
    return ProbeResult(False, seconds, f"{exc.__class__.__name__}: {exc} after {seconds:.1f} s")


def probe_ssh(address: str, port: int, timeout: float) -> ProbeResult:
    start = time.monotonic()
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            data = b""
            while b"\n" not in data and len(data) < MAX_BANNER:
                chunk = sock.recv(MAX_BANNER - len(data))
                if not chunk:
                    break
                data += chunk
    except OSError as exc:
        return _failure(exc, time.monotonic() - start, timeout)
    seconds = time.monotonic() - start
    line = data.split(b"\n", 1)[0].rstrip(b"\r").decode("ascii", errors="replace")
    if not line.startswith("SSH-"):
        return ProbeResult(False, seconds, f"port {port} answers, but not as an SSH server: {line[:60]!r}", raw=data)
    proto, _, software = line[4:].partition("-")
    return ProbeResult(True, seconds, line, {"protocol": proto, "software": software.split(" ")[0]}, raw=data)


def probe_winrm(address: str, port: int, scheme: str, timeout: float, verify: bool, ca_file: str | None) -> ProbeResult:
    start = time.monotonic()
    if scheme == "https":
        context = ssl.create_default_context(cafile=ca_file)
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(address, port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        conn.request("POST", "/wsman", body=b"", headers={"Content-Type": "application/soap+xml;charset=UTF-8"})
        response = conn.getresponse()
        response.read(4096)
    except (OSError, http.client.HTTPException) as exc:
        return _failure(exc, time.monotonic() - start, timeout)
    finally:
        conn.close()
    seconds = time.monotonic() - start
    schemes = sorted({h.split(" ", 1)[0] for h in response.headers.get_all("WWW-Authenticate") or []})
    raw = f"HTTP/1.1 {response.status} {response.reason}\r\n{response.headers}".encode()
    facts = {"http_status": response.status, "auth_schemes": schemes, "server": response.headers.get("Server", "")}
    if response.status != 401 or not schemes:
        return ProbeResult(
            False, seconds, f"HTTP {response.status} without an authentication offer: not a WinRM listener", facts, raw
        )
    return ProbeResult(True, seconds, f"WinRM over {scheme}, offers {', '.join(schemes)}", facts, raw)


def probe_tcp(address: str, port: int, timeout: float) -> ProbeResult:
    """For LDAP-only hosts: the port accepts connections (the AD collector does the TLS and the bind)."""
    start = time.monotonic()
    try:
        socket.create_connection((address, port), timeout=timeout).close()
    except OSError as exc:
        return _failure(exc, time.monotonic() - start, timeout)
    seconds = time.monotonic() - start
    return ProbeResult(True, seconds, f"TCP port {port} accepts connections", {})


def probe_host(host: Host, timeout: float | None = None) -> ProbeResult:
    timeout = timeout or host.connect_timeout
    port = host.effective_port or 0
    if host.connection == "winrm":
        return probe_winrm(host.address, port, host.winrm_scheme, timeout, host.verify_tls, host.tls_ca_file)
    if host.connection == "ldap":
        return probe_tcp(host.address, port, timeout)
    return probe_ssh(host.address, port, timeout)


def describe_probe(host: Host) -> str:
    port = host.effective_port
    if host.connection == "winrm":
        return f"{host.winrm_scheme.upper()} POST {host.winrm_scheme}://{host.address}:{port}/wsman (empty body, no credentials)"
    if host.connection == "ldap":
        return f"TCP connect {host.address}:{port}"
    return f"TCP connect {host.address}:{port}, read SSH identification line"


class ReachabilityCollector:
    name = "reachability"
    transport = "probe"
    allowed_commands = (  # as describe_probe names them
        "TCP connect {address}:{port}, read SSH identification line",
        "HTTP POST http://{address}:{port}/wsman (empty body, no credentials)",
        "HTTPS POST https://{address}:{port}/wsman (empty body, no credentials)",
        "TCP connect {address}:{port}",
    )
    command_placeholders = {"{address}": r"[^\s/,']+", "{port}": NUMBER}

    def applies_to(self, host: Host) -> bool:
        return host.connection != "local"

    def collect(self, host: Host, ctx: CollectContext) -> Iterator[Observation]:
        started = utcnow()
        budget = max(0.1, min(host.connect_timeout, ctx.deadline - time.monotonic()))
        ctx.guard_for(self).check(describe_probe(host))  # before the probe connects
        result = probe_host(host, budget)
        normalized = {
            "address": host.address,
            "port": host.effective_port,
            "connection": host.connection,
            "reachable": result.reachable,
            "seconds": round(result.seconds, 3),
            "detail": result.detail,
            **result.facts,
        }
        yield Observation(
            kind="host.reachability",
            command=describe_probe(host),
            raw=result.raw or canonical_json(normalized),
            normalized=normalized,
            started=started,
            ended=utcnow(),
            status=ItemStatus.OK if result.reachable else ItemStatus.UNREACHABLE,
            errors=[] if result.reachable else [f"unreachable: {result.detail}"],
        )
