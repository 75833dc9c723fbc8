"""Pure part of the TLS probe: the probe's raw record in, the `tls.endpoints` shape out.

The raw record keeps what the servers sent that matters (the certificate as PEM,
the first bytes of a non-TLS answer); the certificate's notAfter is read here,
from that PEM, so the normalised value can always be recomputed from the raw.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from cryptography import x509

RAW_KEYS = (
    "endpoint",
    "url",
    "server_name",
    "protocol",
    "certificate_pem",
    "verified",
    "certificate_error",
    "plaintext",
    "error",
)


def certificate_not_after(pem: str) -> str:
    """notAfter of a PEM certificate as an ISO moment in UTC; ValueError when it cannot be read."""
    cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    return cert.not_valid_after_utc.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _endpoint(record: Any) -> dict[str, Any]:
    if not isinstance(record, dict) or any(k not in record for k in RAW_KEYS):
        raise ValueError(f"endpoint record without {', '.join(RAW_KEYS)}: {str(record)[:120]}")
    not_after, certificate_error = None, record["certificate_error"]
    if record["certificate_pem"]:
        try:
            not_after = certificate_not_after(record["certificate_pem"])
        except ValueError as exc:  # a certificate cryptography cannot read is a finding on that endpoint, not a garbled item
            certificate_error = f"{certificate_error + '; ' if certificate_error else ''}certificate could not be read: {exc}"
    return {
        "endpoint": record["endpoint"],
        "url": record["url"],
        "server_name": record["server_name"],
        "protocol": record["protocol"],
        "plaintext": bool(record["plaintext"]),
        "certificate_valid": bool(record["verified"]),
        "certificate_error": certificate_error,
        "not_after": not_after,
        "error": record["error"],
    }


def parse_tls_probe(raw: bytes) -> dict[str, Any]:
    """The probe's JSON record -> {"endpoints": [...]} in the order the inventory lists them."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"probe record is not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("endpoints"), list):
        raise ValueError("probe record without an endpoints list")
    return {"endpoints": [_endpoint(r) for r in doc["endpoints"]]}
