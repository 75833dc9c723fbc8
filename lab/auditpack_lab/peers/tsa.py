"""An RFC 3161 Time-Stamp Authority on a loopback address: `openssl ts -reply` behind a small HTTP endpoint.

Real: the HTTP POST of an `application/timestamp-query` (RFC 3161 section 3.4), the time-stamp response
`openssl ts -reply` signs with a TSA certificate (extended key usage timeStamping, critical) issued by a
throwaway CA made here with `cryptography`, and its serial-number file. Simulated: nothing in the protocol;
the lab's TSA answers as of the lab's clock (NOW, applied to the one openssl process with faketime), a test's
TSA at the real time. `refuse` makes it answer HTTP 503, as a TSA that is down for maintenance does.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .http_server import send, serving

POLICY = "1.3.6.1.4.1.99999.3161.1"  # a private-arc policy OID: this TSA promises nothing beyond the lab
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"


@dataclass(frozen=True)
class TsaPki:
    ca_file: Path  # what a verifier trusts (auditpack's AUDITPACK_TSA_CA, openssl's -CAfile)
    cert_file: Path  # the TSA's signing certificate
    key_file: Path


@dataclass
class TsaPeer:
    url: str
    pki: TsaPki
    answered: list[str] = field(default_factory=list)  # the genTime source of each answer: "real" or an ISO moment
    refuse: bool = False  # answer 503 to every request while set


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_tsa_pki(directory: Path, valid_from: datetime.datetime | None = None, valid_days: float = 2) -> TsaPki:
    """A CA and a TSA certificate valid from VALID_FROM (default: a day ago) for VALID_DAYS."""
    start = valid_from or datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    end = start + datetime.timedelta(days=valid_days)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("auditpack test TSA CA"))
        .issuer_name(_name("auditpack test TSA CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # keyCertSign, cRLSign
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("auditpack test TSA"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        # RFC 3161 2.3: the TSA's certificate has exactly this one purpose, marked critical
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    pki = TsaPki(directory / "tsa-ca.pem", directory / "tsa.pem", directory / "tsa.key")
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    pki.key_file.chmod(0o600)
    return pki


def _openssl_config(directory: Path, pki: TsaPki) -> Path:
    """The [tsa] section `openssl ts -reply` reads: who signs, with which digest, under which policy."""
    (directory / "serial").write_text("01\n")
    config = directory / "tsa.cnf"
    config.write_text(
        f"""\
[ tsa ]
default_tsa = lab_tsa

[ lab_tsa ]
serial = {directory / "serial"}
crypto_device = builtin
signer_cert = {pki.cert_file}
signer_key = {pki.key_file}
signer_digest = sha256
default_policy = {POLICY}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""
    )
    return config


def tsa_unavailable(with_clock: bool = False) -> str | None:
    """Why the TSA cannot run here, or None (faketime only for a TSA that answers as of a clock)."""
    for tool in ("openssl", *(("faketime",) if with_clock else ())):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/setup.sh installs it)"
    return None


@contextmanager
def running_tsa(
    directory: Path,
    address: str,
    port: int = 0,
    now: Callable[[], datetime.datetime | None] | None = None,
    valid_from: datetime.datetime | None = None,
    valid_days: float = 2,
) -> Iterator[TsaPeer]:
    """The TSA on http://ADDRESS:PORT/ (port 0 takes a free one). NOW, when given, is the moment each answer is
    dated (None: the real time); its certificates are valid from VALID_FROM for VALID_DAYS."""
    if not ipaddress.ip_address(address).is_loopback:
        raise ValueError(f"the TSA peer listens on loopback addresses only, not {address}")
    directory.mkdir(parents=True, exist_ok=True)
    pki = make_tsa_pki(directory, valid_from, valid_days)
    config = _openssl_config(directory, pki)
    serial_lock = threading.Lock()  # openssl reads and rewrites the serial file: one answer at a time
    peer: TsaPeer

    def reply(query: bytes) -> bytes:
        moment = now() if now else None
        command = ["openssl", "ts", "-reply", "-config", str(config)]
        if moment is not None:
            command = ["faketime", "-f", f"@{moment.astimezone(datetime.UTC):%Y-%m-%d %H:%M:%S}", *command]
        env = {**os.environ, "TZ": "UTC"}  # faketime reads the moment in local time
        with tempfile.TemporaryDirectory(dir=directory) as work, serial_lock:
            query_file, answer_file = Path(work) / "query.tsq", Path(work) / "reply.tsr"
            query_file.write_bytes(query)
            done = subprocess.run(
                [*command, "-queryfile", str(query_file), "-out", str(answer_file)], capture_output=True, timeout=30, env=env
            )
            if done.returncode != 0 or not answer_file.exists():
                raise RuntimeError(done.stderr.decode(errors="replace").strip() or "openssl ts -reply wrote nothing")
            peer.answered.append(moment.isoformat() if moment else "real")
            return answer_file.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if peer.refuse:
                self._answer(503, b"the time-stamp service is down for maintenance\n", "text/plain")
            elif self.headers.get("Content-Type") != QUERY_TYPE:
                self._answer(415, f"send {QUERY_TYPE}\n".encode(), "text/plain")
            else:
                try:
                    self._answer(200, reply(body), REPLY_TYPE)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    self._answer(400, f"{exc}\n".encode(), "text/plain")  # a query openssl cannot read

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            send(self, status, body, {"Content-Type": content_type})

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer((address, port), Handler)
    peer = TsaPeer(f"http://{address}:{server.server_port}/", pki)
    with serving(server):
        yield peer
