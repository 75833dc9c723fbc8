"""The TLS probe against real TLS and HTTP servers on 127.0.4.40-49, from handshake to T-TLS verdict."""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from auditpack.collectors.base import CollectContext
from auditpack.collectors.parsers.tls import parse_tls_probe
from auditpack.collectors.registry import collectors_for
from auditpack.collectors.tls import TlsCollector
from auditpack.controls.evaluate import evaluate_controls
from auditpack.controls.profiles import Profile
from auditpack.inventory import InventoryError, parse_inventory
from auditpack.periods import Period
from auditpack.runner import run_collection
from auditpack_lab.peers.sockets import refused_port, silent_server
from auditpack_lab.peers.tls import make_pki

VALID, UNTRUSTED, WRONG_NAME, EXPIRED, REFUSED, PLAIN_HTTP, SILENT = (f"127.0.4.{n}" for n in range(41, 48))


@dataclass
class TlsPeer:
    port: int
    sessions: list[dict] = field(default_factory=list)  # per connection: did the handshake finish, what came after it


@contextmanager
def tls_server(address: str, cert_file: Path, key_file: Path, max_version: ssl.TLSVersion | None = None) -> Iterator[TlsPeer]:
    """A TLS server that completes handshakes and records any byte a client sends after one."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    if max_version:
        context.maximum_version = max_version
    listener = socket.create_server((address, 0))
    peer = TlsPeer(listener.getsockname()[1])
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        session = {"handshake": False, "after": b""}
        peer.sessions.append(session)
        conn.settimeout(5)
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                session["handshake"] = True
                while chunk := tls.recv(4096):
                    session["after"] += chunk
        except (OSError, ssl.SSLError):
            pass  # a client that refuses our certificate aborts the handshake

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        stop.set()
        thread.join()
        listener.close()


@contextmanager
def http_server(address: str) -> Iterator[tuple[int, list[bytes]]]:
    """Python's own HTTP server, plain; keeps the first line of every request it was sent."""
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def parse_request(self) -> bool:
            received.append(self.raw_requestline)
            return super().parse_request()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer((address, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port, received
    finally:
        server.shutdown()
        server.server_close()


def expired_pki(directory: Path, address: str) -> tuple[Path, Path, Path]:
    """A CA (valid) and a server certificate for address that expired yesterday: (ca, cert, key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired-test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=60))
        .not_valid_after(now + datetime.timedelta(days=60))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired.test")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=30))
        .not_valid_after(now - datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@dataclass
class Site:
    bundle: Path  # the CAs the prober trusts
    endpoints: dict[str, str]  # case -> endpoint as the inventory lists it
    peers: dict[str, TlsPeer]
    http_requests: list[bytes]
    valid_not_after: str  # notAfter of the valid certificate, as the probe must report it


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    base = tmp_path_factory.mktemp("tls")
    good = make_pki(base / "good", "tls-good.test", VALID)
    stranger = make_pki(base / "stranger", "stranger.test", UNTRUSTED)  # its CA is not in the bundle
    expired_ca, expired_cert, expired_key = expired_pki(base / "expired", EXPIRED)
    bundle = base / "bundle.pem"
    # one make_pki CA only: they all carry the same subject name, so OpenSSL would check against the wrong one
    bundle.write_bytes(good.ca_file.read_bytes() + expired_ca.read_bytes())
    with ExitStack() as stack:
        peers = {
            "valid": stack.enter_context(tls_server(VALID, good.cert_file, good.key_file)),
            "tls12": stack.enter_context(tls_server(VALID, good.cert_file, good.key_file, ssl.TLSVersion.TLSv1_2)),
            "untrusted": stack.enter_context(tls_server(UNTRUSTED, stranger.cert_file, stranger.key_file)),
            # the valid certificate, served from an address it does not name
            "wrong_name": stack.enter_context(tls_server(WRONG_NAME, good.cert_file, good.key_file)),
            "expired": stack.enter_context(tls_server(EXPIRED, expired_cert, expired_key)),
        }
        http_port, requests = stack.enter_context(http_server(PLAIN_HTTP))
        silent = stack.enter_context(silent_server(SILENT))
        endpoints = {
            "valid": f"https://{VALID}:{peers['valid'].port}",
            "tls12": f"ldaps://{VALID}:{peers['tls12'].port}",
            "untrusted": f"{UNTRUSTED}:{peers['untrusted'].port}",
            "wrong_name": f"https://{WRONG_NAME}:{peers['wrong_name'].port}",
            "expired": f"https://{EXPIRED}:{peers['expired'].port}",
            "refused": f"https://{REFUSED}:{refused_port(REFUSED)}",
            "plain_http": f"http://{PLAIN_HTTP}:{http_port}",
            "silent": f"https://{SILENT}:{silent}",
        }
        cert = x509.load_pem_x509_certificate(good.cert_file.read_bytes())
        yield Site(bundle, endpoints, peers, requests, cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"))


def inventory_text(site: Site, name: str = "prober", extra: str = "", cases: list[str] | None = None) -> str:
    listed = ", ".join(f'"{site.endpoints[c]}"' for c in (cases or site.endpoints))
    return (
        f"    {name}:\n      ansible_connection: local\n      auditpack_connect_timeout: 1\n"
        f"      auditpack_tls_ca_file: {site.bundle}\n      auditpack_tls_endpoints: [{listed}]\n{extra}"
    )


def prober(site: Site, extra: str = "", cases: list[str] | None = None):
    return parse_inventory(("all:\n  hosts:\n" + inventory_text(site, extra=extra, cases=cases)).encode()).hosts[0]


def collect(host, seconds: float = 60):
    [obs] = list(TlsCollector().collect(host, CollectContext(time.monotonic() + seconds, "tester")))
    return obs


def by_case(site: Site, obs, cases: list[str] | None = None) -> dict[str, dict]:
    found = {ep["url"]: ep for ep in obs.normalized["endpoints"]}
    return {case: found[site.endpoints[case]] for case in cases or site.endpoints}


def test_each_endpoint_is_probed_and_its_failure_stays_its_own(site):
    began = time.monotonic()
    obs = collect(prober(site))
    took = time.monotonic() - began
    assert obs.status == "ok" and obs.kind == "tls.endpoints"
    ep = by_case(site, obs)
    assert ep["valid"] == {
        "endpoint": site.endpoints["valid"].removeprefix("https://"),
        "url": site.endpoints["valid"],
        "server_name": VALID,
        "protocol": "TLSv1.3",
        "plaintext": False,
        "certificate_valid": True,
        "certificate_error": None,
        "not_after": site.valid_not_after,
        "error": None,
    }
    assert ep["tls12"]["protocol"] == "TLSv1.2" and ep["tls12"]["certificate_valid"] is True
    untrusted = ep["untrusted"]
    # make_pki's CAs share one subject name: OpenSSL finds the trusted one by that name, and its signature does not match
    assert untrusted["certificate_valid"] is False and untrusted["certificate_error"] == "certificate signature failure"
    assert (
        untrusted["protocol"] == "TLSv1.3" and untrusted["not_after"] and untrusted["error"] is None
    )  # read by the second handshake
    assert ep["wrong_name"]["certificate_valid"] is False and "mismatch" in ep["wrong_name"]["certificate_error"]
    assert ep["wrong_name"]["not_after"] == site.valid_not_after
    expired = ep["expired"]
    assert expired["certificate_valid"] is False and "expired" in expired["certificate_error"]
    assert expired["not_after"] < time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    assert ep["refused"]["error"] == "connection refused" and ep["refused"]["plaintext"] is False
    assert ep["plain_http"]["plaintext"] is True and ep["plain_http"]["error"] is None and ep["plain_http"]["protocol"] is None
    assert ep["silent"]["error"] == "no TLS answer within 1 s" and ep["silent"]["plaintext"] is False
    assert took < 4, f"one silent endpoint may cost its 1 s connect timeout, not more ({took:.1f} s)"
    assert sorted(obs.errors) == sorted(
        [f"tls: {site.endpoints['refused']}: connection refused", f"tls: {site.endpoints['silent']}: no TLS answer within 1 s"]
    )


def test_the_evidence_says_what_was_probed_and_keeps_what_the_servers_sent(site):
    obs = collect(prober(site, cases=["valid", "plain_http"]))
    assert obs.command.startswith(TlsCollector.allowed_commands[0])
    assert (
        str(site.bundle) in obs.command and site.endpoints["valid"] in obs.command and site.endpoints["plain_http"] in obs.command
    )
    raw = json.loads(obs.raw)
    valid, plain = raw["endpoints"]
    assert valid["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----") and valid["handshakes"] == 1
    assert plain["reply_start"] and plain["certificate_pem"] is None
    assert parse_tls_probe(obs.raw) == obs.normalized  # the normalised form is recomputable from the raw


def test_only_the_handshake_is_ever_sent(site):
    collect(prober(site))
    finished = [s for peer in site.peers.values() for s in peer.sessions if s["handshake"]]
    assert finished and all(s["after"] == b"" for s in finished)  # no request after any completed handshake
    assert site.http_requests and all(line[:2] == b"\x16\x03" for line in site.http_requests)  # a ClientHello, never GET


def test_server_name_is_checked_instead_of_the_address_when_given(site):
    cases = ["valid", "wrong_name"]
    named = by_case(site, collect(prober(site, "      auditpack_tls_server_name: tls-good.test\n", cases)), cases)
    assert named["wrong_name"]["certificate_valid"] is True and named["wrong_name"]["server_name"] == "tls-good.test"
    assert named["valid"]["certificate_valid"] is True  # the certificate names both its address and tls-good.test
    other = by_case(site, collect(prober(site, "      auditpack_tls_server_name: other.test\n", cases)), cases)
    assert not other["valid"]["certificate_valid"] and "mismatch" in other["valid"]["certificate_error"]


def test_system_cas_are_used_without_a_ca_file_and_a_missing_ca_file_is_an_error(site, tmp_path):
    text = ("all:\n  hosts:\n" + inventory_text(site, cases=["valid"])).replace(
        f"      auditpack_tls_ca_file: {site.bundle}\n", ""
    )
    [ep] = collect(parse_inventory(text.encode()).hosts[0]).normalized["endpoints"]
    assert ep["certificate_valid"] is False and ep["not_after"] == site.valid_not_after  # the test CA is not a system CA
    missing = collect(prober(site, cases=["valid"]).model_copy(update={"tls_ca_file": str(tmp_path / "nope.pem")}))
    assert missing.status == "error" and "auditpack_tls_ca_file" in missing.errors[0]


def test_endpoints_left_when_the_time_budget_runs_out_are_named(site):
    obs = collect(prober(site, cases=["silent", "valid"]), seconds=1.02)
    silent, valid = obs.normalized["endpoints"]
    assert silent["error"].startswith("no TLS answer within")
    assert valid["error"] == "not probed: the host's time budget ran out" and valid["protocol"] is None


def test_t_tls_verdict_from_collected_evidence(site, store):
    inv = parse_inventory(("all:\n  hosts:\n" + inventory_text(site)).encode())
    assert "tls" in [c.name for c in collectors_for(inv.hosts[0])]
    run_collection(store, inv, inv.hosts, "tester")
    now = datetime.datetime.now(datetime.UTC)
    period = Period(
        datetime.datetime(now.year, 1, 1, tzinfo=datetime.UTC), datetime.datetime(now.year + 1, 1, 1, tzinfo=datetime.UTC)
    )
    [result] = evaluate_controls(store, period, control_ids=["T-TLS"])
    address = {case: url.split("://")[-1] for case, url in site.endpoints.items()}
    assert {(d.subject, d.code) for d in result.deviations} == {
        (address["untrusted"], "tls.invalid_certificate"),
        (address["wrong_name"], "tls.invalid_certificate"),
        (address["expired"], "tls.invalid_certificate"),
        (address["expired"], "tls.expired"),
        (address["plain_http"], "tls.plaintext"),
    }
    assert {(g.subject, g.code) for g in result.gaps} == {
        (address["refused"], "tls.probe_failed"),
        (address["silent"], "tls.probe_failed"),
    }
    # make_pki certificates live two days: inside the 30-day warning window
    assert (address["valid"], "tls.expires_soon") in {(o.subject, o.code) for o in result.observations}
    strict = Profile(name="strict", parameters={"T-TLS": {"min_tls_version": "TLSv1.3"}})
    [stricter] = evaluate_controls(store, period, control_ids=["T-TLS"], profile=strict)
    assert {d.code for d in stricter.deviations if d.subject == address["tls12"]} == {"tls.old_version"}
    assert not [d for d in stricter.deviations if d.subject == address["valid"]]


ENDPOINT_MISTAKES = [
    ('["dc01"]', "entry 1: 'dc01' has no port"),
    ('["htps://epo01"]', "did you mean 'https'?"),
    ('["https://epo01:8443/remote/core.help"]', "the probe fetches no page"),
    ('["dc01:636", "ldaps://dc01"]', "entry 2: dc01:636 is listed twice"),
    ('["ldaps://dc01:70000"]', "from 1 to 65535"),
    ('["2001:db8::5:443"]', "IPv6 address in brackets"),
    ('{dc01: 636}', "must be a list of endpoints"),
]


@pytest.mark.parametrize("value,fragment", ENDPOINT_MISTAKES, ids=[m[1][:28] for m in ENDPOINT_MISTAKES])
def test_endpoint_mistakes_are_named_with_line_and_key(value, fragment):
    text = f"all:\n  hosts:\n    edge:\n      ansible_connection: local\n      auditpack_tls_endpoints: {value}\n"
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text.encode(), "site.yaml")
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.key) == ("site.yaml", 5, "all.hosts.edge.auditpack_tls_endpoints")
    assert fragment in problem.message


def test_a_password_in_an_endpoint_is_refused_and_never_echoed():
    text = b"all:\n  hosts:\n    edge:\n      auditpack_tls_endpoints: https://audit:Geheim-2026@epo01\n"
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text)
    assert "no credentials" in str(caught.value.problems[0]) and "Geheim-2026" not in str(caught.value.problems[0])


def test_accepted_endpoint_forms():
    text = (
        b"all:\n  hosts:\n    edge:\n      auditpack_tls_endpoints: [ldaps://DC01, 'epo01:8443', 'http://[2001:db8::5]', "
        b"'https://epo01.corp.example:8443/', smtp://mail01]\n"
    )
    [host] = parse_inventory(text).hosts
    assert [(str(e), e.address, e.expects_tls) for e in host.tls_endpoints] == [
        ("ldaps://dc01:636", "dc01:636", True),
        ("epo01:8443", "epo01:8443", True),
        ("http://[2001:db8::5]:80", "[2001:db8::5]:80", False),
        ("https://epo01.corp.example:8443", "epo01.corp.example:8443", True),
        ("smtp://mail01:25", "mail01:25", False),
    ]


@pytest.mark.parametrize("raw", [b"\xff", b"[]", b'{"endpoints": {}}', b'{"endpoints": [{"endpoint": "x:1"}]}'])
def test_a_garbled_probe_record_is_refused(raw):
    with pytest.raises(ValueError):
        parse_tls_probe(raw)


def test_a_plaintext_scheme_counts_only_what_does_not_speak_tls(site):
    tls_port = site.endpoints["valid"].rsplit(":", 1)[1]
    silent_port = site.endpoints["silent"].rsplit(":", 1)[1]
    text = ("all:\n  hosts:\n" + inventory_text(site, cases=["valid"])).replace(
        site.endpoints["valid"], f"http://{VALID}:{tls_port}\", \"ldap://{SILENT}:{silent_port}"
    )
    speaks_tls, hangs = collect(parse_inventory(text.encode()).hosts[0]).normalized["endpoints"]
    assert speaks_tls["plaintext"] is False and speaks_tls["protocol"] == "TLSv1.3" and speaks_tls["certificate_valid"] is True
    # listed as ldap://, it accepts the connection and never negotiates TLS (an LDAP server ignores a ClientHello)
    assert hangs["plaintext"] is True and hangs["error"] is None and hangs["protocol"] is None
