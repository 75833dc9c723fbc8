"""The WinRM test peer speaks the real protocol: unmodified pywinrm talks to it over a loopback socket.

HTTPS and the server name: the peer's certificate carries both ``win-peer.test`` and the peer's IP address
as subject alternative names. pywinrm (through requests) checks the name in the URL, so the clients
connect to ``https://127.0.0.1:<port>/wsman`` with ``server_cert_validation="validate"`` and
``ca_trust_path=peer.ca_file``: no hosts file and no DNS. The DNS name is checked separately with the
ssl module, which can verify a chosen name (``server_hostname``) on a connection to the IP address.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import random
import socket
import ssl
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import spnego
import winrm
import xmltodict
from requests_ntlm import HttpNtlmAuth
from spnego.channel_bindings import GssChannelBindings
from winrm.encryption import Encryption
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMTransportError,
    WSManFaultError,
)

from auditpack_lab.peers.winrm import ScriptResult, WinrmPeer, running_winrm, script_of

ADDRESS = "127.0.0.1"
USER = "KCDEMO\\svc-audit"
PASSWORD = "Zomer-2024!"
RESOURCE_CMD = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"

# Scripts the handler knows; collectors make PowerShell emit base64 of UTF-8 JSON to survive codepage 437.
STATUS_SCRIPT = (
    "$r = @{state = 'Beëindigd ✓'} | ConvertTo-Json -Compress; [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($r))"
)
STATUS_JSON = {"state": "Beëindigd ✓"}
DENIED_SCRIPT = "auditpol /get /category:*"
CLIXML_ERROR = (
    b"#< CLIXML\r\n"
    b'<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
    b'<S S="Error">A required privilege is not held by the client._x000D__x000A_</S></Objs>'
)
BIG_SCRIPT = "Get-WinEvent -LogName Security"
BIG_OUTPUT = random.Random(20240601).randbytes(1024 * 1024)
CRASH_SCRIPT = "Get-MpComputerStatus"


def scripted(script: str) -> ScriptResult:
    """Canned results standing in for a Windows host; the peer only carries them."""
    if script == STATUS_SCRIPT:
        return ScriptResult(stdout=base64.b64encode(json.dumps(STATUS_JSON).encode("utf-8")) + b"\r\n")
    if script == DENIED_SCRIPT:
        return ScriptResult(stdout=b"partial\r\n", stderr=CLIXML_ERROR, exit_code=1)
    if script == BIG_SCRIPT:
        return ScriptResult(stdout=BIG_OUTPUT)
    if script == CRASH_SCRIPT:
        raise RuntimeError("handler exploded on purpose")
    return ScriptResult(stdout=f"ran: {script}\r\n".encode())


@pytest.fixture
def http_peer(tmp_path: Path) -> Iterator[WinrmPeer]:
    with running_winrm(tmp_path / "winrm", ADDRESS, {USER: PASSWORD}, scripted) as peer:
        yield peer


@pytest.fixture
def https_peer(tmp_path: Path) -> Iterator[WinrmPeer]:
    with running_winrm(tmp_path / "winrm", ADDRESS, {USER: PASSWORD}, scripted, scheme="https") as peer:
        yield peer


def endpoint(peer: WinrmPeer) -> str:
    return f"{peer.scheme}://{peer.address}:{peer.port}/wsman"


def http_session(peer: WinrmPeer, user: str = USER, password: str = PASSWORD, **options: object) -> winrm.Session:
    options = {"transport": "ntlm", "message_encryption": "always", "ca_trust_path": None, "proxy": None, **options}
    return winrm.Session(endpoint(peer), auth=(user, password), **options)


def https_session(peer: WinrmPeer, **options: object) -> winrm.Session:
    options = {
        "transport": "ntlm",
        "server_cert_validation": "validate",
        "ca_trust_path": str(peer.ca_file),
        "proxy": None,
        **options,
    }
    return winrm.Session(endpoint(peer), auth=(USER, PASSWORD), **options)


def create_shell_xml(
    message_id: uuid.UUID | None = None, action: str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
) -> bytes:
    """A request as pywinrm builds it (its own header builder), for sending by hand."""
    protocol = winrm.Protocol("http://unused/wsman", username=USER, password=PASSWORD)
    envelope = protocol.build_wsman_header(action=action, resource_uri=RESOURCE_CMD, message_id=message_id)
    envelope.setdefault("env:Body", {})["rsp:Shell"] = {"rsp:InputStreams": "stdin", "rsp:OutputStreams": "stdout stderr"}
    return xmltodict.unparse({"env:Envelope": envelope}).encode("utf-8")


def relates_to(response: bytes | str) -> str:
    root = ET.fromstring(response)
    return root.findtext("{*}Header/{*}RelatesTo") or ""


# --- running scripts over NTLM with message encryption -----------------------------------------------------------


def test_run_ps_delivers_the_script_and_returns_unicode_output(http_peer: WinrmPeer) -> None:
    result = http_session(http_peer).run_ps(STATUS_SCRIPT)

    assert result.status_code == 0
    assert json.loads(base64.b64decode(result.std_out)) == STATUS_JSON
    assert http_peer.received == [STATUS_SCRIPT]  # decoded from UTF-16-LE, non-ASCII intact


def test_stderr_and_non_zero_exit_code(http_peer: WinrmPeer) -> None:
    result = http_session(http_peer).run_ps(DENIED_SCRIPT)

    assert result.status_code == 1
    assert result.std_out == b"partial\r\n"
    assert result.std_err == b"A required privilege is not held by the client."  # pywinrm unpacked the CLIXML


def test_received_lists_scripts_and_plain_commands_in_order(http_peer: WinrmPeer) -> None:
    session = http_session(http_peer)
    session.run_ps("Get-Date")
    ipconfig = session.run_cmd("ipconfig", ["/all"])
    session.run_ps("hostname")

    assert ipconfig.std_out == b"ran: ipconfig /all\r\n"
    assert http_peer.received == ["Get-Date", "ipconfig /all", "hostname"]


def test_large_output_arrives_intact_over_several_receives(http_peer: WinrmPeer) -> None:
    assert http_session(http_peer).run_ps(BIG_SCRIPT).std_out == BIG_OUTPUT

    protocol = http_session(http_peer).protocol
    shell_id = protocol.open_shell()
    command_id = protocol.run_command(shell_id, BIG_SCRIPT)
    first, _, _, done = protocol.get_command_output_raw(shell_id, command_id)
    rest, _, exit_code = protocol.get_command_output(shell_id, command_id)
    protocol.cleanup_command(shell_id, command_id)
    protocol.close_shell(shell_id)

    assert not done and 0 < len(first) < len(BIG_OUTPUT)  # Running until the last piece, as Windows does
    assert first + rest == BIG_OUTPUT
    assert exit_code == 0


# --- authentication and encryption are enforced ------------------------------------------------------------------


@pytest.mark.parametrize(("user", "password"), [(USER, "wrong-password"), ("KCDEMO\\nobody", PASSWORD)])
def test_bad_credentials_raise_invalid_credentials(http_peer: WinrmPeer, user: str, password: str) -> None:
    with pytest.raises(InvalidCredentialsError):
        http_session(http_peer, user=user, password=password).run_ps("Get-Date")
    assert http_peer.received == []


def test_basic_auth_is_never_accepted(http_peer: WinrmPeer) -> None:
    with pytest.raises(InvalidCredentialsError):
        http_session(http_peer, transport="basic", message_encryption="never").run_ps("Get-Date")

    with requests.Session() as session:
        session.trust_env = False
        response = session.post(endpoint(http_peer), data=create_shell_xml(), auth=(USER, PASSWORD))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Negotiate"
    assert http_peer.received == []


def test_unencrypted_body_is_refused_with_400(http_peer: WinrmPeer) -> None:
    with requests.Session() as session:
        session.trust_env = False
        session.auth = HttpNtlmAuth(USER, PASSWORD)
        assert session.post(endpoint(http_peer), data=b"").status_code == 200  # NTLM done on this connection

        plain = session.post(
            endpoint(http_peer), data=create_shell_xml(), headers={"Content-Type": "application/soap+xml;charset=UTF-8"}
        )
        assert plain.status_code == 400

        # The same message sealed with the connection's NTLM keys is served, so the 400 was about encryption.
        encryption = Encryption(session, "ntlm")
        sealed = session.send(encryption.prepare_encrypted_request(session, endpoint(http_peer), create_shell_xml()))
        assert sealed.status_code == 200
        assert b"ShellId" in encryption.parse_encrypted_response(sealed)


def test_pywinrm_without_encryption_gets_400(http_peer: WinrmPeer) -> None:
    with pytest.raises(WinRMTransportError) as raised:
        http_session(http_peer, message_encryption="never").run_ps("Get-Date")
    assert raised.value.code == 400


# --- WS-Management behaviour -------------------------------------------------------------------------------------


def test_handler_exception_is_a_wsman_fault_and_the_peer_keeps_running(http_peer: WinrmPeer) -> None:
    session = http_session(http_peer)
    with pytest.raises(WSManFaultError) as raised:
        session.run_ps(CRASH_SCRIPT)

    assert raised.value.code == 500
    assert raised.value.wsman_fault_code == 2150858755  # ERROR_WSMAN_PROVIDER_FAILURE
    assert "handler exploded on purpose" in raised.value.response
    assert http_session(http_peer).run_ps("Get-Date").std_out == b"ran: Get-Date\r\n"
    assert http_peer.received == [CRASH_SCRIPT, "Get-Date"]


def test_relates_to_echoes_the_message_id(http_peer: WinrmPeer) -> None:
    protocol = http_session(http_peer).protocol
    message_id = uuid.uuid4()

    response = protocol.send_message(create_shell_xml(message_id).decode())

    assert relates_to(response) == f"uuid:{message_id}"


def test_unknown_action_is_a_soap_fault_with_http_500(http_peer: WinrmPeer) -> None:
    protocol = http_session(http_peer).protocol
    message_id = uuid.uuid4()

    with pytest.raises(WSManFaultError) as raised:
        protocol.send_message(create_shell_xml(message_id, action="http://schemas.xmlsoap.org/ws/2004/09/transfer/Get").decode())

    assert raised.value.code == 500
    assert raised.value.fault_subcode == "a:ActionNotSupported"
    assert raised.value.wsman_fault_code == 2150858771  # ERROR_WSMAN_ACTION_NOT_SUPPORTED
    assert relates_to(raised.value.response) == f"uuid:{message_id}"


def test_deleted_shell_is_gone(http_peer: WinrmPeer) -> None:
    protocol = http_session(http_peer).protocol
    shell_id = protocol.open_shell()
    protocol.close_shell(shell_id)

    with pytest.raises(WSManFaultError) as raised:
        protocol.run_command(shell_id, "hostname")
    assert raised.value.wsman_fault_code == 2150858843  # invalid selectors: no such shell
    assert http_peer.received == []


@pytest.mark.parametrize(
    ("command_line", "script"),
    [
        ("powershell -encodedcommand " + base64.b64encode("Get-Date".encode("utf-16-le")).decode(), "Get-Date"),
        (
            "PowerShell.exe -NoProfile -NonInteractive -EncodedCommand " + base64.b64encode("ë ✓".encode("utf-16-le")).decode(),
            "ë ✓",
        ),
        ("powershell -ec " + base64.b64encode("hostname".encode("utf-16-le")).decode(), "hostname"),
        ("powershell -ExecutionPolicy Bypass -File c:\\x.ps1", "powershell -ExecutionPolicy Bypass -File c:\\x.ps1"),
        ("ipconfig /all", "ipconfig /all"),
    ],
)
def test_script_of_decodes_only_encoded_powershell(command_line: str, script: str) -> None:
    assert script_of(command_line) == script


# --- HTTPS with channel binding ----------------------------------------------------------------------------------


def test_https_with_the_test_ca_works(https_peer: WinrmPeer) -> None:
    result = https_session(https_peer).run_ps(STATUS_SCRIPT)

    assert json.loads(base64.b64decode(result.std_out)) == STATUS_JSON
    assert https_peer.received == [STATUS_SCRIPT]


def test_https_certificate_names_the_server(https_peer: WinrmPeer) -> None:
    context = ssl.create_default_context(cafile=str(https_peer.ca_file))
    raw = socket.create_connection((https_peer.address, https_peer.port))
    with context.wrap_socket(raw, server_hostname=https_peer.server_name) as tls:  # verifies the DNS name
        names = tls.getpeercert()["subjectAltName"]

    assert ("DNS", "win-peer.test") in names
    assert ("IP Address", ADDRESS) in names


def test_https_without_the_test_ca_is_refused_by_the_client(https_peer: WinrmPeer) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        https_session(https_peer, ca_trust_path=None).run_ps("Get-Date")
    assert https_peer.received == []


def test_https_without_channel_binding_is_rejected(https_peer: WinrmPeer) -> None:
    with pytest.raises(InvalidCredentialsError):
        https_session(https_peer, send_cbt=False).run_ps("Get-Date")
    assert https_peer.received == []


def ntlm_over_tls(peer: WinrmPeer, binding_for: Callable[[bytes], bytes]) -> int:
    """NTLM by hand on one TLS connection; returns the status of the AUTHENTICATE leg."""
    connection = http.client.HTTPSConnection(
        peer.address, peer.port, context=ssl.create_default_context(cafile=str(peer.ca_file))
    )
    connection.connect()
    certificate = connection.sock.getpeercert(binary_form=True)
    bindings = GssChannelBindings(application_data=b"tls-server-end-point:" + binding_for(certificate))
    client = spnego.client(USER, PASSWORD, hostname=peer.address, service="http", protocol="ntlm", channel_bindings=bindings)
    try:
        challenge = post_token(connection, client.step())
        assert challenge.status == 401
        token = base64.b64decode(challenge.getheader("WWW-Authenticate").split(" ", 1)[1])
        return post_token(connection, client.step(token)).status
    finally:
        connection.close()


def post_token(connection: http.client.HTTPSConnection, token: bytes | None) -> http.client.HTTPResponse:
    connection.request(
        "POST", "/wsman", body=b"", headers={"Authorization": f"Negotiate {base64.b64encode(token or b'').decode()}"}
    )
    response = connection.getresponse()
    response.read()
    return response


@pytest.mark.parametrize(
    ("binding_for", "status"),
    [
        (lambda der: hashlib.sha256(der).digest(), 200),  # RFC 5929 hash of the certificate (signed with SHA-256)
        (lambda der: hashlib.sha256(b"another certificate").digest(), 401),
    ],
    ids=["right-binding", "wrong-binding"],
)
def test_https_channel_binding_must_match_the_certificate(
    https_peer: WinrmPeer, binding_for: Callable[[bytes], bytes], status: int
) -> None:
    assert ntlm_over_tls(https_peer, binding_for) == status


# --- the peer itself ---------------------------------------------------------------------------------------------


def test_peer_stops_cleanly_with_client_connections_open(tmp_path: Path) -> None:
    threads_before = threading.active_count()
    with running_winrm(tmp_path / "winrm", ADDRESS, {USER: PASSWORD}, scripted) as peer:
        session = http_session(peer)
        session.run_ps("Get-Date")  # leaves a keep-alive connection open in the session's pool

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((peer.address, peer.port), timeout=2).close()
    assert threading.active_count() == threads_before
    del session


def test_only_loopback_addresses_are_allowed(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="loopback"), running_winrm(tmp_path / "winrm", "10.0.0.1", {USER: PASSWORD}, scripted):
        pass
