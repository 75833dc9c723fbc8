"""RFC 3161 timestamps from a Time-Stamp Authority (TSA): asked for when a manifest is written, checked offline.

A token is the TSA's signed statement that a SHA-256 digest existed at its time. auditpack asks for one over
the bytes of every run manifest at commit and over a pack's MANIFEST.json, and keeps the TSA's whole answer
(a TimeStampResp, what `openssl ts -reply` writes and `openssl ts -verify -in` reads) as a `.tsr` file beside
the file it is about. The processor holds the store and the signing key and could rebuild a year; it cannot
make a TSA date a manifest in the past, so the tokens prove the chronology.

Configured like the store and the signing key (auditpack/config.py), for every command that writes to the store:

    AUDITPACK_TSA_URL or `url` under [tsa]   the TSA's endpoint (http or https), e.g. https://freetsa.org/tsr
    AUDITPACK_TSA_CA or `ca` under [tsa]     a PEM file with the certificate(s) the TSA's signing certificate chains to

The protocol (request, response, signature and certificate checks) is rfc3161-client's; nothing here reads ASN.1.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from .errors import AuditpackError

TSA_URL_ENV = "AUDITPACK_TSA_URL"
TSA_CA_ENV = "AUDITPACK_TSA_CA"
TIMEOUT_SECONDS = 10.0  # a TSA answers in well under a second; a run is committed all the same when it does not
MAX_REPLY = 1 << 20  # a time-stamp reply is a few kilobytes; more is not one
QUERY_TYPE = "application/timestamp-query"
# A token asked for at commit is seconds younger than the run's end; one much younger was asked for later
# (`auditpack timestamp`) and proves only that the manifest existed by then.
LATE_AFTER = timedelta(minutes=15)


class TimestampError(AuditpackError):
    """A token that could not be had or does not hold, said as the reason (recorded beside the run).

    `code` names the kind for the report, which says it in its own language: unreachable, timeout, http,
    refused (the TSA's status), invalid (the answer does not verify) or config.
    """

    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Tsa:
    """A configured Time-Stamp Authority: where to ask, and the certificates its answers must chain to."""

    url: str
    ca_file: Path
    roots: tuple[x509.Certificate, ...]
    timeout: float = TIMEOUT_SECONDS

    @property
    def ca_pem(self) -> bytes:
        return b"".join(cert.public_bytes(Encoding.PEM) for cert in self.roots)


def load_tsa_certificates(path: Path) -> tuple[x509.Certificate, ...]:
    """The certificates of a PEM file; a TimestampError that names the file and what to give instead."""
    try:
        data = Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise TimestampError(f"cannot read the TSA certificate file {path}: {exc.strerror or exc}", "config") from None
    try:
        certificates = tuple(x509.load_pem_x509_certificates(data))
    except ValueError:
        certificates = ()
    if not certificates:
        raise TimestampError(
            f"{path} holds no PEM certificate: give the certificate of the TSA's CA (-----BEGIN CERTIFICATE-----)", "config"
        )
    return certificates


def certificate_fingerprint(certificates: tuple[x509.Certificate, ...]) -> str:
    """SHA-256 of the first certificate's DER, as `openssl x509 -outform DER | sha256sum` prints it."""
    return hashlib.sha256(certificates[0].public_bytes(Encoding.DER)).hexdigest()


def _check_url(url: str, where: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TimestampError(f"{where}={url!r} is not an http(s) URL of a Time-Stamp Authority", "config")
    if parts.username or parts.password:  # never echo it: it may hold a password
        raise TimestampError(f"{where} holds a user or password; auditpack sends none to the TSA", "config")
    return url


def configured_tsa() -> Tsa | None:
    """The TSA the settings name (AUDITPACK_TSA_URL and AUDITPACK_TSA_CA, or [tsa] url and ca); None without a URL."""
    from .config import current

    settings = current()
    url = settings.resolve("tsa.url")
    if not url.value:
        return None
    ca = settings.resolve("tsa.ca")
    if not ca.value:
        raise TimestampError(
            f"a Time-Stamp Authority is set ({url.source}) but not its certificate: set {TSA_CA_ENV} or `ca` under "
            f"[tsa] to the PEM file of the TSA's CA certificate, so every token can be checked",
            "config",
        )
    where = TSA_URL_ENV if url.source.startswith("environment") else f"[tsa] url ({url.source})"
    return Tsa(_check_url(url.value, where), Path(ca.value), load_tsa_certificates(Path(ca.value)))


def request_token(tsa: Tsa, data: bytes) -> bytes:
    """Ask the TSA for a token over SHA-256(DATA) and check it at once (nonce, signature, chain, imprint).

    Returns the TSA's answer (DER); raises TimestampError with the reason when it cannot be had or does not hold.
    """
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder, VerifierBuilder

    query = TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256).cert_request(cert_request=True).build()
    request = urllib.request.Request(
        tsa.url, data=query.as_bytes(), headers={"Content-Type": QUERY_TYPE, "Accept": "application/timestamp-reply"}
    )
    try:
        with urllib.request.urlopen(request, timeout=tsa.timeout) as answer:
            reply = answer.read(MAX_REPLY + 1)
    except urllib.error.HTTPError as exc:
        raise TimestampError(f"the TSA {tsa.url} answered HTTP {exc.code} {exc.reason}", "http") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise TimestampError(f"the TSA {tsa.url} did not answer within {tsa.timeout:.0f} s", "timeout") from None
        raise TimestampError(f"the TSA {tsa.url} cannot be reached: {exc.reason}", "unreachable") from None
    except TimeoutError:
        raise TimestampError(f"the TSA {tsa.url} did not answer within {tsa.timeout:.0f} s", "timeout") from None
    except OSError as exc:
        raise TimestampError(f"the TSA {tsa.url} cannot be reached: {exc.strerror or exc}", "unreachable") from None
    if len(reply) > MAX_REPLY:
        raise TimestampError(f"the TSA {tsa.url} answered more than {MAX_REPLY} bytes: not a time-stamp reply", "http")
    verifier = VerifierBuilder.from_request(query)
    check_token(reply, tsa.roots, data=data, verifier=verifier)
    return reply


def check_token(
    token: bytes,
    roots: tuple[x509.Certificate, ...],
    *,
    data: bytes | None = None,
    digest: bytes | None = None,
    verifier=None,
) -> datetime:
    """The time a token states for DATA (or for its SHA-256 DIGEST), after checking it against ROOTS.

    Raises TimestampError saying why it does not hold: not a reply, not granted, not signed by a certificate
    that chains to ROOTS, or about other bytes.
    """
    from rfc3161_client import PKIStatus, VerificationError, VerifierBuilder, decode_timestamp_response

    try:
        reply = decode_timestamp_response(token)
    except ValueError:
        raise TimestampError("not an RFC 3161 time-stamp reply (it cannot be decoded)") from None
    if PKIStatus(reply.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        said = "; ".join(reply.status_string) or "no reason given"
        raise TimestampError(f"the TSA refused the request (status {reply.status}: {said})", "refused")
    builder = verifier or VerifierBuilder()
    for root in roots:
        builder = builder.add_root_certificate(root)
    try:
        if data is not None:
            builder.build().verify_message(reply, data)
        else:
            assert digest is not None
            if reply.tst_info.message_imprint.hash_algorithm.dotted_string != "2.16.840.1.101.3.4.2.1":
                raise VerificationError("the token is not over a SHA-256 digest")
            builder.build().verify(reply, digest)
    except VerificationError as exc:
        reason = str(exc)
        if "Mismatch between messages" in reason:
            raise TimestampError("the token is about other bytes than this file's: the file was changed") from None
        raise TimestampError(f"the token does not verify against the TSA certificate given: {reason}") from None
    except ValueError as exc:
        raise TimestampError(f"the token does not verify: {exc}") from None
    return token_time(reply.tst_info.gen_time)


def token_time(moment: datetime) -> datetime:
    """A token's genTime as an aware UTC moment (the library gives it naive or aware by version)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def stated_time(token: bytes) -> datetime | None:
    """The time a token states, read without checking it (for reports; `auditpack verify` checks); None if unreadable."""
    from rfc3161_client import decode_timestamp_response

    try:
        return token_time(decode_timestamp_response(token).tst_info.gen_time)
    except ValueError:
        return None
