"""The `tls` collector: a TLS handshake with each endpoint a host lists in `auditpack_tls_endpoints` (T-TLS).

Only the handshake is ever sent: a ClientHello and the rest of the client's
handshake, then a close_notify; never a request. The certificate is verified
against `auditpack_tls_ca_file` (or the system CAs) and the name checked is
`auditpack_tls_server_name` or else the endpoint's host. Verification is what
this probe measures, so `auditpack_tls_insecure` does not switch it off. When
verification (or the negotiation under default settings) fails, a second
handshake without verification reads the protocol and certificate all the same.

"plaintext" is true only when the endpoint itself talks without TLS: a listed
TLS endpoint (host:port, https://, ldaps://…) that answers the ClientHello
with bytes that are not TLS, or a listed plaintext endpoint (http://, ldap://…)
that accepts the connection and does not negotiate TLS. Plaintext siblings of
TLS endpoints (port 80 beside 443) are not guessed: list them to test them.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import cryptography

from auditpack.canonical import canonical_json, utcnow
from auditpack.evidence import ItemStatus, Observation
from auditpack.inventory import Host, TlsEndpoint

from .base import CollectContext
from .guard import WORD
from .parsers.tls import parse_tls_probe

PROBE = "TCP connect and TLS handshake only, no application data"
ENDPOINT_PROBE = PROBE + ": {endpoint}, server name {name}"  # what the guard checks per endpoint, before connecting
SECOND = "a second handshake without verification reads protocol and certificate when the first fails"
REPLY_KEPT = 64  # bytes of a non-TLS answer kept as evidence (an HTTP status line, an SMTP banner)
TLS_RECORD_TYPES = range(20, 24)  # change_cipher_spec, alert, handshake, application_data


@dataclass
class Handshake:
    connected: bool = False
    protocol: str | None = None  # set when the handshake completed
    certificate: bytes | None = None  # DER of the server's certificate
    reply: bytes = b""  # the first bytes the server sent
    failure: str | None = None
    verify_error: str | None = None  # the handshake failed on the certificate (chain, name, dates)

    @property
    def spoke_tls(self) -> bool:
        return len(self.reply) >= 2 and self.reply[0] in TLS_RECORD_TYPES and self.reply[1] == 3


def verifying_context(ca_file: str | None) -> ssl.SSLContext:
    """Default client settings: chain and name checked, TLS 1.2 or newer, OpenSSL's default security level."""
    return ssl.create_default_context(cafile=ca_file)


def reading_context() -> ssl.SSLContext:
    """No verification and every protocol OpenSSL still has: only to read what a server offers."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context


def _connect_failure(exc: OSError, timeout: float) -> str:
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"no connection within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"name does not resolve: {exc.strerror}"
    return f"cannot connect: {exc.strerror or exc}"


def _send(sock: socket.socket, outgoing: ssl.MemoryBIO) -> None:
    data = outgoing.read()
    if data:
        sock.sendall(data)


def _drive(
    tls: ssl.SSLObject, sock: socket.socket, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO, result: Handshake, deadline: float
) -> None:
    """Run the client handshake over our own socket, so the server's first bytes can be kept."""
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            _send(sock, outgoing)
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            data = sock.recv(16384)
            if len(result.reply) < REPLY_KEPT:
                result.reply += data[: REPLY_KEPT - len(result.reply)]
            if not data:
                incoming.write_eof()
            else:
                incoming.write(data)
    _send(sock, outgoing)  # the client's Finished
    result.protocol, result.certificate = tls.version(), tls.getpeercert(binary_form=True)
    try:
        tls.unwrap()  # close_notify; the server's answer to it is not awaited
    except ssl.SSLError:
        pass
    _send(sock, outgoing)


def handshake(endpoint: TlsEndpoint, server_name: str, context: ssl.SSLContext, timeout: float) -> Handshake:
    """One handshake within timeout seconds (connect included); every failure is described, none raised."""
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
    except OSError as exc:
        return Handshake(failure=_connect_failure(exc, timeout))
    result = Handshake(connected=True)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    with sock:
        try:
            _drive(context.wrap_bio(incoming, outgoing, server_hostname=server_name), sock, incoming, outgoing, result, deadline)
        except ssl.SSLCertVerificationError as exc:
            result.verify_error = exc.verify_message or str(exc)
            result.failure = f"certificate not accepted: {result.verify_error}"
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
            result.failure = "connection closed during the TLS handshake"
        except ssl.SSLError as exc:
            result.failure = f"TLS handshake failed: {exc.reason or exc}"
        except TimeoutError:
            result.failure = f"no TLS answer within {timeout:g} s"
        except OSError as exc:
            result.failure = f"connection lost during the TLS handshake: {exc.strerror or exc}"
    return result


def _pem(der: bytes | None) -> str | None:
    return ssl.DER_cert_to_PEM_cert(der) if der else None


def blank_record(endpoint: TlsEndpoint, server_name: str) -> dict[str, Any]:
    return {
        "endpoint": endpoint.address,
        "url": str(endpoint),
        "server_name": server_name,
        "tls_expected": endpoint.expects_tls,
        "protocol": None,
        "certificate_pem": None,
        "verified": False,
        "certificate_error": None,
        "plaintext": False,
        "reply_start": None,
        "error": None,
        "handshakes": 0,
        "seconds": 0.0,
    }


def probe_endpoint(endpoint: TlsEndpoint, server_name: str, verifying: ssl.SSLContext, timeout: float) -> dict[str, Any]:
    """The raw record of one endpoint (see parsers/tls.py for the fields)."""
    started = time.monotonic()
    record = blank_record(endpoint, server_name)
    record["handshakes"] = 1
    first = handshake(endpoint, server_name, verifying, timeout)
    if first.protocol:
        record.update(protocol=first.protocol, certificate_pem=_pem(first.certificate), verified=True)
    elif not first.connected:
        record["error"] = first.failure
    elif not first.spoke_tls:
        # Non-TLS bytes answer a ClientHello: a plaintext service. Silence or a close only counts where
        # the inventory lists the plaintext scheme (an LDAP server just hangs up on a ClientHello).
        record["reply_start"] = first.reply.decode("ascii", errors="backslashreplace") if first.reply else None
        if first.reply or not endpoint.expects_tls:
            record["plaintext"] = True
        else:
            record["error"] = first.failure
    else:
        second = handshake(endpoint, server_name, reading_context(), timeout)
        record["handshakes"] = 2
        record["certificate_error"] = first.verify_error or f"not verified: no handshake with default settings ({first.failure})"
        if second.protocol:
            record.update(protocol=second.protocol, certificate_pem=_pem(second.certificate))
        else:
            record["error"] = first.failure if first.verify_error is None else second.failure
    record["seconds"] = round(time.monotonic() - started, 3)
    return record


def describe(host: Host, timeout: float) -> str:
    """The evidence's command: exactly what was probed, with what trust and which name."""
    trust = f"CA file {host.tls_ca_file}" if host.tls_ca_file else "the system CAs"
    name = host.tls_server_name or "each endpoint's host"
    return (
        f"{PROBE}; certificate verified against {trust}, name checked: {name}; {SECOND}; "
        f"at most {timeout:g} s per handshake; endpoints: {', '.join(str(e) for e in host.tls_endpoints)}"
    )


class TlsCollector:
    name = "tls"
    transport = "tls"  # the probe runs from the collecting machine, whatever the host's own connection
    allowed_commands = (PROBE, ENDPOINT_PROBE)  # the item's command starts with PROBE; each endpoint is ENDPOINT_PROBE
    command_placeholders = {"{endpoint}": WORD, "{name}": WORD}

    def applies_to(self, host: Host) -> bool:
        return bool(host.tls_endpoints)

    def collect(self, host: Host, ctx: CollectContext) -> Iterator[Observation]:
        started = utcnow()
        command = describe(host, host.connect_timeout)
        tool = f"{ssl.OPENSSL_VERSION}, cryptography {cryptography.__version__}"
        try:
            verifying = verifying_context(host.tls_ca_file)
        except (OSError, ssl.SSLError) as exc:
            yield Observation(
                "tls.endpoints",
                command,
                b"",
                started,
                utcnow(),
                status=ItemStatus.ERROR,
                tool_version=tool,
                errors=[f"tls: cannot read auditpack_tls_ca_file {host.tls_ca_file}: {exc}"],
            )
            return
        records = []
        guard = ctx.guard_for(self)
        for endpoint in host.tls_endpoints:
            budget = min(host.connect_timeout, ctx.deadline - time.monotonic())
            name = host.tls_server_name or endpoint.host
            if budget <= 0.05:
                records.append({**blank_record(endpoint, name), "error": "not probed: the host's time budget ran out"})
                continue
            guard.check(ENDPOINT_PROBE.format(endpoint=endpoint, name=name))
            records.append(probe_endpoint(endpoint, name, verifying, budget))
        raw = canonical_json({"endpoints": records})
        notes = [f"tls: {r['url']}: {r['error']}" for r in records if r["error"]]
        yield Observation(
            "tls.endpoints", command, raw, started, utcnow(), normalized=parse_tls_probe(raw), errors=notes, tool_version=tool
        )
