"""A WinRM (WS-Management / WinRS) peer on a loopback address, for testing pywinrm clients without Windows.

What is real:
- a TCP socket on a 127.0.0.0/8 address and HTTP/1.1 with keep-alive (NTLM authenticates the connection,
  not each request, so one client connection keeps its security context for every later message);
- on https, TLS with a server certificate from a throwaway test CA (peers/tls.py, ``cryptography``), carrying the
  name ``server_name`` and the peer's IP address as subject alternative names;
- NTLM in the ``Negotiate`` authorization header, accepted by pyspnego's NTLM acceptor with the users
  written to an NTLM_USER_FILE in ``workdir``; a wrong password or unknown user gets 401; Basic is never
  accepted (as on a Windows listener with Basic disabled);
- on http, MS-WSMV message encryption (``multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted"``)
  in both directions; a plain SOAP body gets 400, like ``AllowUnencrypted=false``;
- on https, NTLM channel binding (``tls-server-end-point``, RFC 5929 hash of the certificate) is required;
  a missing or wrong binding gets 401. There is no message encryption on https, as on a 5986 listener;
- SOAP envelopes shaped like the WinRS responses of Windows Server recorded in pypsrp's transcripts
  (../shared/corpus/winrm): CreateResponse, CommandResponse, ReceiveResponse (base64 streams,
  CommandState, ExitCode), SignalResponse, DeleteResponse, and WSManFault faults with HTTP 500.
  ``RelatesTo`` always echoes the request's ``MessageID``.

What is simulated:
- no process runs. ``powershell -encodedcommand <b64>`` is decoded (UTF-16-LE) and the script text goes
  to ``handler``; any other command line goes to ``handler`` as it is. The handler's bytes become the
  stdout/stderr streams and its exit code the ``ExitCode``. A handler that raises gives a WSManFault
  (ERROR_WSMAN_PROVIDER_FAILURE, HTTP 500) for that Command and the peer keeps serving;
- fault codes and texts come from the Windows SDK's WSMan error list (wsmerror.h), not from a capture;
- output is handed out in pieces of at most OUTPUT_PIECE bytes per Receive (Windows also splits large
  output over several Receive responses), without timing; stdin is ignored. ``timeouts_before_output=N``
  answers the first N Receives of each command at once with the OperationTimeout fault that Windows sends
  when no output arrives within OperationTimeout (the fault is built from documentation, not a capture);
- the work a script did on the host is what the handler says (``ScriptResult.records_read``, e.g. the event log
  records an incremental Security log read handed over); the peer records it per command with the bytes of the
  answer (``WinrmPeer.work``), so a benchmark can show how a collection's work grows;
- only the ``…/windows/shell/cmd`` resource with Create, Command, Receive, Signal and Delete exists; any
  other action gets an ActionNotSupported WSManFault;
- the client (requests_ntlm) and this acceptor are both pyspnego, so an interoperability bug against
  Microsoft SSPI would go unseen. pyspnego accepts an all-zero binding hash (like CbtHardeningLevel=Relaxed);
  Kerberos, CredSSP and certificate authentication are not offered.

Replay mode (``running_winrm_replay``): the WinRS service above is replaced by a recorded pypsrp transcript
(../shared/corpus/winrm, YAML ``messages: [{request, response, transport_error?}]``), answered in order with
the recorded bytes and HTTP status. Authentication, encryption and TLS are the same as above. The only rewrite
is ``RelatesTo`` (= the live ``MessageID``); pywinrm takes ShellId and CommandId from the recorded responses,
so those need none. A request whose action, ShellId, CommandId or command line differs from the recording
is answered with a "replay mismatch" fault, so a client that strays from the recording fails loudly.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import itertools
import os
import re
import socket
import ssl
import struct
import sys
import threading
import uuid
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import TCPServer
from string import Template
from typing import Protocol
from xml.sax.saxutils import escape, quoteattr

import spnego
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from ruamel.yaml import YAML
from spnego.channel_bindings import GssChannelBindings

from .tls import make_pki


@dataclass
class ScriptResult:
    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int = 0
    records_read: int = 0  # event log records the simulated script read: its work on the host, as the handler says


@dataclass(frozen=True)
class CommandWork:
    """What one command cost: the records its script read on the host and the bytes of its answer (stdout, stderr)."""

    script: str
    records_read: int
    answer_bytes: int


Handler = Callable[[str], ScriptResult]


@dataclass
class WinrmPeer:
    address: str
    port: int
    scheme: str  # "http" or "https"
    ca_file: Path | None  # for https: the CA that signed the server certificate
    server_name: str  # the DNS name in the server certificate
    received: list[str]  # every script/command the peer was asked to run, in order
    actions: list[str] = field(default_factory=list)  # every WS-Man action served, short names ("Receive"), in order
    work: list[CommandWork] = field(default_factory=list)  # per command run, in order: records read, answer bytes
    logons: list[str] = field(default_factory=list)  # every NTLM token judged at its last step: "accepted" or "refused"

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://{self.address}:{self.port}/wsman"


SERVER_NAME = "win-peer.test"
OUTPUT_PIECE = 64 * 1024  # base64 of 64 KiB stays below pywinrm's MaxEnvelopeSize of 153600

SOAP = "http://www.w3.org/2003/05/soap-envelope"
ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
NS = {"s": SOAP, "a": ADDRESSING, "w": WSMAN, "rsp": SHELL}

RESOURCE_CMD = f"{SHELL}/cmd"
ACTION_CREATE = f"{TRANSFER}/Create"
ACTION_DELETE = f"{TRANSFER}/Delete"
ACTION_COMMAND = f"{SHELL}/Command"
ACTION_RECEIVE = f"{SHELL}/Receive"
ACTION_SIGNAL = f"{SHELL}/Signal"
ANONYMOUS = f"{ADDRESSING}/role/anonymous"

ENCRYPTED_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
ENCRYPTED_CONTENT_TYPE = f'multipart/encrypted;protocol="{ENCRYPTED_PROTOCOL}";boundary="Encrypted Boundary"'
SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"
BOUNDARY = b"--Encrypted Boundary"
OCTET_STREAM_HEADER = b"\tContent-Type: application/octet-stream\r\n"

# --- response templates (shapes from Windows Server responses in pypsrp's recorded transcripts) -----------------

ENVELOPE = Template(
    '<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
    ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
    ' xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer"'
    ' xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing"'
    ' xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"'
    ' xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"'
    ' xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"'
    ' xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">'
    "<s:Header><a:Action>$action</a:Action><a:MessageID>$message_id</a:MessageID>"
    "<a:To>$to</a:To><a:RelatesTo>$relates_to</a:RelatesTo></s:Header>"
    "<s:Body>$body</s:Body></s:Envelope>"
)
CREATE_BODY = Template(
    "<x:ResourceCreated><a:Address>$address</a:Address><a:ReferenceParameters>"
    "<w:ResourceURI>$resource_uri</w:ResourceURI>"
    '<w:SelectorSet><w:Selector Name="ShellId">$shell_id</w:Selector></w:SelectorSet>'
    "</a:ReferenceParameters></x:ResourceCreated>"
    '<rsp:Shell xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">'
    "<rsp:ShellId>$shell_id</rsp:ShellId><rsp:ResourceUri>$resource_uri</rsp:ResourceUri>"
    "<rsp:Owner>$owner</rsp:Owner><rsp:ClientIP>$client_ip</rsp:ClientIP>"
    "<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut><rsp:InputStreams>stdin</rsp:InputStreams>"
    "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams><rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime>"
    "<rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>"
)
COMMAND_BODY = Template("<rsp:CommandResponse><rsp:CommandId>$command_id</rsp:CommandId></rsp:CommandResponse>")
RECEIVE_BODY = Template("<rsp:ReceiveResponse>$streams$state</rsp:ReceiveResponse>")
STREAM = Template("<rsp:Stream Name=$name CommandId=$command_id>$data</rsp:Stream>")
STREAM_END = Template("<rsp:Stream Name=$name CommandId=$command_id End=\"true\"></rsp:Stream>")
STATE_RUNNING = Template(f'<rsp:CommandState CommandId=$command_id State="{SHELL}/CommandState/Running"></rsp:CommandState>')
STATE_DONE = Template(
    f'<rsp:CommandState CommandId=$command_id State="{SHELL}/CommandState/Done">'
    "<rsp:ExitCode>$exit_code</rsp:ExitCode></rsp:CommandState>"
)
SIGNAL_BODY = "<rsp:SignalResponse/>"
FAULT_BODY = Template(
    "<s:Fault><s:Code><s:Value>s:$code</s:Value><s:Subcode><s:Value>$subcode</s:Value></s:Subcode></s:Code>"
    '<s:Reason><s:Text xml:lang="en-US">$reason</s:Text></s:Reason><s:Detail>'
    '<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="$wsman_code" Machine=$machine>'
    "<f:Message>$message</f:Message></f:WSManFault></s:Detail></s:Fault>"
)


def _envelope(action: str, relates_to: str, body: str) -> bytes:
    message_id = f"uuid:{_new_id()}"
    text = ENVELOPE.substitute(
        action=escape(action), message_id=message_id, to=ANONYMOUS, relates_to=escape(relates_to), body=body
    )
    return text.encode("utf-8")


def _new_id() -> str:
    return str(uuid.uuid4()).upper()  # Windows writes ShellId, CommandId and MessageID in upper case


# --- faults ------------------------------------------------------------------------------------------------------


class WsmanFault(Exception):
    """A fault the peer answers with HTTP 500, as Windows does for every WS-Management fault."""

    def __init__(self, subcode: str, wsman_code: int, reason: str, message: str | None = None, code: str = "Sender") -> None:
        super().__init__(reason)
        self.subcode, self.wsman_code, self.reason, self.code = subcode, wsman_code, reason, code
        self.message = message or reason

    @property
    def action(self) -> str:
        # WS-Addressing faults (a:...) carry the addressing fault action, the others the WS-Man one.
        return f"{ADDRESSING}/fault" if self.subcode.startswith("a:") else "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"

    def envelope(self, relates_to: str, machine: str) -> bytes:
        body = FAULT_BODY.substitute(
            code=self.code,
            subcode=escape(self.subcode),
            reason=escape(self.reason),
            wsman_code=self.wsman_code,
            machine=quoteattr(machine),
            message=escape(self.message),
        )
        return _envelope(self.action, relates_to, body)


def _action_not_supported(action: str) -> WsmanFault:
    reason = "The WS-Management service does not support the action specified in the request. "
    return WsmanFault("a:ActionNotSupported", 2150858771, reason, f"{reason}Action: {action}")  # ERROR_WSMAN_ACTION_NOT_SUPPORTED


def _invalid_selectors(what: str) -> WsmanFault:
    reason = (
        "The WS-Management service cannot process the request because the request contained invalid selectors for the resource. "
    )
    return WsmanFault("w:InvalidSelectors", 2150858843, reason, f"{reason}{what}")  # ERROR_WSMAN_UNEXPECTED_SELECTORS


def _provider_failure(error: Exception) -> WsmanFault:
    reason = "An error was encountered inside the plugin. "
    detail = f"{reason}{type(error).__name__}: {error}"
    return WsmanFault("w:InternalError", 2150858755, reason, detail, code="Receiver")  # ERROR_WSMAN_PROVIDER_FAILURE


def _operation_timed_out() -> WsmanFault:
    # Built from documentation, not from a capture: MS-WSMV's Receive rules say that when no output is ready
    # within OperationTimeout the server MUST answer a WSManFault with Code 2150858793 (ERROR_WSMAN_OPERATION_TIMEDOUT,
    # wsmerror.h), DSP0226 names that fault s:Receiver / w:TimedOut, and the text is wsmerror.h's for that code.
    reason = "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "
    return WsmanFault("w:TimedOut", 2150858793, reason, code="Receiver")


def _replay_mismatch(detail: str) -> WsmanFault:
    # Not a Windows fault: the replay peer's way to fail a client that departs from the recording.
    return WsmanFault("w:InternalError", 2150858755, f"Replay mismatch: {detail}", code="Receiver")


# --- requests ----------------------------------------------------------------------------------------------------


@dataclass
class WsmanRequest:
    action: str
    message_id: str
    resource_uri: str
    shell_id: str | None
    body: ET.Element


def parse_request(soap: bytes) -> WsmanRequest:
    """Read the headers the peer routes on; raises ValueError when the body is no WS-Man envelope."""
    try:
        root = ET.fromstring(soap)
    except ET.ParseError as error:
        raise ValueError(f"not XML: {error}") from None
    header, body = root.find("s:Header", NS), root.find("s:Body", NS)
    if root.tag != f"{{{SOAP}}}Envelope" or header is None or body is None:
        raise ValueError("not a SOAP 1.2 envelope")
    selector = header.find("w:SelectorSet/w:Selector[@Name='ShellId']", NS)
    return WsmanRequest(
        action=(header.findtext("a:Action", "", NS)).strip(),
        message_id=(header.findtext("a:MessageID", "", NS)).strip(),
        resource_uri=(header.findtext("w:ResourceURI", "", NS)).strip(),
        shell_id=selector.text.strip() if selector is not None and selector.text else None,
        body=body,
    )


def command_line(request: WsmanRequest) -> str:
    """``Command`` and its ``Arguments`` joined with spaces (pywinrm sends one Arguments, pypsrp one per word)."""
    words = [request.body.findtext("rsp:CommandLine/rsp:Command", "", NS).strip()]
    words += [(argument.text or "").strip() for argument in request.body.findall("rsp:CommandLine/rsp:Arguments", NS)]
    return " ".join(word for word in words if word)


def command_id_of(request: WsmanRequest) -> str | None:
    """The CommandId a Receive or Signal is about, None when the request names none."""
    element = request.body.find("rsp:Receive/rsp:DesiredStream", NS)
    if element is None:
        element = request.body.find("rsp:Signal", NS)
    return element.get("CommandId") if element is not None else None


_ENCODED_COMMAND = "encodedcommand"


def script_of(command_line: str) -> str:
    """The PowerShell script of ``powershell -encodedcommand <b64 UTF-16-LE>``, else the command line itself."""
    words = command_line.split()
    if not words or Path(words[0].lower()).stem not in ("powershell", "pwsh"):
        return command_line
    for flag, value in itertools.pairwise(words):
        name = flag.lower().lstrip("-/")
        # PowerShell accepts -ec and any prefix of -EncodedCommand (-e, -enc, ...).
        if flag[0] in "-/" and name and (name == "ec" or _ENCODED_COMMAND.startswith(name)):
            try:
                return base64.b64decode(value, validate=True).decode("utf-16-le")
            except (ValueError, UnicodeDecodeError):
                return command_line
    return command_line


# --- WinRS shells and commands -----------------------------------------------------------------------------------


@dataclass
class _Command:
    pending: deque[tuple[str, bytes]]  # (stream name, piece) still to hand out
    exit_code: int
    timeouts_left: int = 0  # Receives still to answer with the OperationTimeout fault


def _pieces(result: ScriptResult) -> deque[tuple[str, bytes]]:
    pieces: deque[tuple[str, bytes]] = deque()
    for name, data in (("stdout", result.stdout), ("stderr", result.stderr)):
        pieces.extend((name, data[i : i + OUTPUT_PIECE]) for i in range(0, len(data), OUTPUT_PIECE))
    return pieces


class WinrsService:
    """The WinRS cmd shell plugin: shells, commands and their output, shared by every connection."""

    def __init__(
        self,
        handler: Handler,
        received: list[str],
        endpoint: str,
        machine: str,
        timeouts_before_output: int = 0,
        work: list[CommandWork] | None = None,
    ) -> None:
        self._handler, self._received, self._endpoint, self.machine = handler, received, endpoint, machine
        self._work = work if work is not None else []
        self._timeouts_before_output = timeouts_before_output
        self._shells: dict[str, dict[str, _Command]] = {}
        self._lock = threading.Lock()

    def dispatch(self, request: WsmanRequest, owner: str, client_ip: str) -> tuple[int, bytes]:
        """(HTTP status, response envelope) for one request; faults come back as 500 like Windows."""
        operations: dict[str, Callable[[WsmanRequest], str]] = {
            ACTION_COMMAND: self._command,
            ACTION_RECEIVE: self._receive,
            ACTION_SIGNAL: self._signal,
            ACTION_DELETE: self._delete,
        }
        try:
            if request.resource_uri != RESOURCE_CMD:
                raise _action_not_supported(request.action)
            if request.action == ACTION_CREATE:
                body = self._create(owner, client_ip)
            elif request.action in operations:
                body = operations[request.action](request)
            else:
                raise _action_not_supported(request.action)
        except WsmanFault as fault:
            return 500, fault.envelope(request.message_id, self.machine)
        return 200, _envelope(f"{request.action}Response", request.message_id, body)

    def _create(self, owner: str, client_ip: str) -> str:
        shell_id = _new_id()
        with self._lock:
            self._shells[shell_id] = {}
        return CREATE_BODY.substitute(
            address=escape(self._endpoint),
            resource_uri=RESOURCE_CMD,
            shell_id=shell_id,
            owner=escape(owner),
            client_ip=escape(client_ip),
        )

    def _command(self, request: WsmanRequest) -> str:
        commands = self._shell(request)
        script = script_of(command_line(request))
        with self._lock:
            self._received.append(script)  # kept before running, so a failing handler still shows up
        try:
            result = self._handler(script)
        except Exception as error:  # a broken handler is a fault for this command, never a dead peer
            raise _provider_failure(error) from error
        command_id = _new_id()
        with self._lock:
            self._work.append(CommandWork(script, result.records_read, len(result.stdout) + len(result.stderr)))
            commands[command_id] = _Command(_pieces(result), result.exit_code, self._timeouts_before_output)
        return COMMAND_BODY.substitute(command_id=command_id)

    def _receive(self, request: WsmanRequest) -> str:
        command_id = command_id_of(request) or ""
        command = self._command_of(request, command_id)
        with self._lock:
            if command.timeouts_left:
                command.timeouts_left -= 1
                raise _operation_timed_out()
            taken = _take(command.pending)
            done = not command.pending
        quoted_id = quoteattr(command_id)
        streams = "".join(
            STREAM.substitute(name=quoteattr(name), command_id=quoted_id, data=base64.b64encode(piece).decode())
            for name, piece in taken
        )
        if not done:
            return RECEIVE_BODY.substitute(streams=streams, state=STATE_RUNNING.substitute(command_id=quoted_id))
        ends = "".join(STREAM_END.substitute(name=quoteattr(name), command_id=quoted_id) for name in ("stdout", "stderr"))
        state = STATE_DONE.substitute(command_id=quoted_id, exit_code=command.exit_code)
        return RECEIVE_BODY.substitute(streams=streams + ends, state=state)

    def _signal(self, request: WsmanRequest) -> str:
        command_id = command_id_of(request) or ""
        self._command_of(request, command_id)
        with self._lock:
            self._shells.get(request.shell_id or "", {}).pop(command_id, None)  # terminate ends the command
        return SIGNAL_BODY

    def _delete(self, request: WsmanRequest) -> str:
        self._shell(request)
        with self._lock:
            self._shells.pop(request.shell_id or "", None)
        return ""

    def _shell(self, request: WsmanRequest) -> dict[str, _Command]:
        with self._lock:
            commands = self._shells.get(request.shell_id or "")
        if commands is None:
            raise _invalid_selectors(f"No shell with ShellId {request.shell_id}.")
        return commands

    def _command_of(self, request: WsmanRequest, command_id: str) -> _Command:
        commands = self._shell(request)
        with self._lock:
            command = commands.get(command_id)
        if command is None:
            raise _invalid_selectors(f"No command with CommandId {command_id}.")
        return command


def _take(pending: deque[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Pieces for one ReceiveResponse: at least one, at most OUTPUT_PIECE bytes in all."""
    taken: list[tuple[str, bytes]] = []
    size = 0
    while pending and (not taken or size + len(pending[0][1]) <= OUTPUT_PIECE):
        name, piece = pending.popleft()
        taken.append((name, piece))
        size += len(piece)
    return taken


# --- replay of a recorded transcript -----------------------------------------------------------------------------


@dataclass
class Exchange:
    """One recorded request and the answer Windows gave: HTTP status and SOAP text."""

    request: WsmanRequest
    status: int
    response: str


def load_transcript(path: Path) -> list[Exchange]:
    """The messages of a pypsrp recording (``messages: [{request, response, transport_error?}]``)."""
    messages = YAML(typ="safe").load(path.read_text(encoding="utf-8"))["messages"]
    return [
        Exchange(
            parse_request(m["request"].encode("utf-8")), int((m.get("transport_error") or {}).get("code", 200)), m["response"]
        )
        for m in messages
    ]


_RELATES_TO = re.compile(r"(<(?:\w+:)?RelatesTo>)[^<]*(</)")


class ReplayService:
    """Answers each request with the next recorded exchange, after checking the client asked what was recorded."""

    def __init__(self, exchanges: list[Exchange], received: list[str], machine: str) -> None:
        self._exchanges, self._received, self.machine = deque(exchanges), received, machine
        self._lock = threading.Lock()

    def dispatch(self, request: WsmanRequest, owner: str, client_ip: str) -> tuple[int, bytes]:
        if request.action == ACTION_COMMAND:
            self._received.append(script_of(command_line(request)))
        with self._lock:  # one transcript, answered strictly in order
            exchange = self._exchanges.popleft() if self._exchanges else None
        if exchange is None:
            return self._mismatch(request, "the recording has no more messages")
        problem = _departure(exchange.request, request)
        if problem:
            return self._mismatch(request, problem)
        # pywinrm checks RelatesTo against its MessageID: the one field that must follow the live client.
        response = _RELATES_TO.sub(lambda m: m.group(1) + escape(request.message_id) + m.group(2), exchange.response, count=1)
        return exchange.status, response.encode("utf-8")

    def _mismatch(self, request: WsmanRequest, problem: str) -> tuple[int, bytes]:
        return 500, _replay_mismatch(problem).envelope(request.message_id, self.machine)


def _departure(recorded: WsmanRequest, live: WsmanRequest) -> str | None:
    """How the live request differs from the recorded one, in what the recorded answer depends on; None if not."""
    recorded_command = command_id_of(recorded)
    checks = [
        ("action", recorded.action, live.action),
        # pywinrm reuses the ShellId and CommandId of the recorded responses, so a mismatch means a mixed-up order.
        ("ShellId", recorded.shell_id, live.shell_id),
        # pypsrp's fail_poll_process recorded a Receive without CommandId, which pywinrm cannot send: not compared.
        ("CommandId", recorded_command, command_id_of(live) if recorded_command else None),
        ("command line", command_line(recorded), command_line(live)),
    ]
    return next((f"expected {name} {expected!r}, got {got!r}" for name, expected, got in checks if expected != got), None)


class Service(Protocol):
    """What the HTTP layer needs from the scripted and the replay WinRS service."""

    machine: str

    def dispatch(self, request: WsmanRequest, owner: str, client_ip: str) -> tuple[int, bytes]: ...


# --- NTLM and MS-WSMV encryption ---------------------------------------------------------------------------------

# pyspnego's NTLM acceptor reads its users from the file named by NTLM_USER_FILE, at creation and at the
# last step. The lock lets two peers with different user files run in one process.
_USER_FILE_LOCK = threading.Lock()


@contextmanager
def _user_file(path: Path) -> Iterator[None]:
    with _USER_FILE_LOCK:
        previous = os.environ.get("NTLM_USER_FILE")
        os.environ["NTLM_USER_FILE"] = str(path)
        try:
            yield
        finally:
            # Once set it stays set: removing it while a client thread of this process iterates os.environ
            # (requests does, looking for proxies) makes that client fail with KeyError('NTLM_USER_FILE').
            if previous is not None:
                os.environ["NTLM_USER_FILE"] = previous


def write_user_file(workdir: Path, users: dict[str, str]) -> Path:
    """Heimdal-style ``DOMAIN:user:password`` lines, the format pyspnego's acceptor reads."""
    lines = []
    for account, password in users.items():
        domain, _, user = account.rpartition("\\")
        if any(c in part for part in (domain, user, password) for c in ":\r\n"):
            raise ValueError(f"NTLM_USER_FILE cannot hold ':' or line breaks: {account!r}")
        lines.append(f"{domain}:{user}:{password}\n")
    path = workdir / "ntlm_users"
    path.write_text("".join(lines), encoding="utf-8")
    path.chmod(0o600)
    return path


class NtlmConnection:
    """NTLM state of one TCP connection."""

    def __init__(self, user_file: Path, bindings: GssChannelBindings | None) -> None:
        self._user_file, self._bindings = user_file, bindings
        self.context: spnego.ContextProxy | None = None

    @property
    def authenticated(self) -> bool:
        return self.context is not None and self.context.complete

    def step(self, token: bytes) -> bytes | None:
        """The challenge for a NEGOTIATE message, None once AUTHENTICATE is accepted; raises when refused."""
        if token.startswith(b"NTLMSSP\x00\x01\x00\x00\x00"):  # NEGOTIATE starts a new context on this connection
            with _user_file(self._user_file):
                self.context = spnego.server(protocol="ntlm", channel_bindings=self._bindings)
        elif self.context is None or self.context.complete:
            raise ValueError("NTLM message out of order")
        context = self.context
        try:
            with _user_file(self._user_file):
                return context.step(token)
        except Exception:
            self.context = None
            raise

    @property
    def user(self) -> str:
        return (self.context.client_principal if self.context else None) or ""


def unseal(context: spnego.ContextProxy, body: bytes) -> bytes:
    """The SOAP text of an MS-WSMV encrypted body: <int32 sig len><signature><sealed>, framed by boundaries."""
    head, found, rest = body.partition(OCTET_STREAM_HEADER)
    length = re.search(rb"Length=(\d+)", head)
    if not found or not length or not head.startswith(BOUNDARY):
        raise ValueError("not an MS-WSMV encrypted body")
    size = int(length.group(1))
    (signature_length,) = struct.unpack("<i", rest[:4])
    signature, sealed = rest[4 : 4 + signature_length], rest[4 + signature_length :]
    if sealed[size:] != BOUNDARY + b"--\r\n":
        raise ValueError("encrypted body does not end with the closing boundary")
    return context.unwrap_winrm(signature, sealed[:size])


def seal(context: spnego.ContextProxy, soap: bytes) -> bytes:
    wrapped = context.wrap_winrm(soap)
    return b"".join(
        (
            BOUNDARY + b"\r\n",
            f"\tContent-Type: {ENCRYPTED_PROTOCOL}\r\n".encode(),
            f"\tOriginalContent: type={SOAP_CONTENT_TYPE};Length={len(soap)}\r\n".encode(),
            BOUNDARY + b"\r\n",
            OCTET_STREAM_HEADER,
            struct.pack("<i", len(wrapped.header)),
            wrapped.header,
            wrapped.data,
            BOUNDARY + b"--\r\n",
        )
    )


# --- TLS ---------------------------------------------------------------------------------------------------------


@dataclass
class _Tls:
    ca_file: Path
    context: ssl.SSLContext
    bindings: GssChannelBindings


def make_tls(workdir: Path, address: str, server_name: str) -> _Tls:
    """Server side of TLS: the shared test CA and certificate, and the channel binding NTLM must carry."""
    pki = make_pki(workdir / "pki", server_name, address)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.cert_file, pki.key_file)
    cert = x509.load_pem_x509_certificate(pki.cert_file.read_bytes())
    bindings = GssChannelBindings(application_data=b"tls-server-end-point:" + certificate_hash(cert))
    return _Tls(pki.ca_file, context, bindings)


def certificate_hash(cert: x509.Certificate) -> bytes:
    """RFC 5929 tls-server-end-point: the certificate's signature hash, SHA-256 in place of MD5/SHA-1."""
    algorithm = cert.signature_hash_algorithm
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    return hashlib.new(algorithm.name, cert.public_bytes(serialization.Encoding.DER)).digest()


# --- HTTP --------------------------------------------------------------------------------------------------------


class _WsmanServer(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the connection threads: a clean stop
    block_on_close = True

    def __init__(
        self,
        address: str,
        scheme: str,
        user_file: Path,
        tls: _Tls | None,
        port: int = 0,
        switched_on: Callable[[], bool] = lambda: True,
    ) -> None:
        super().__init__((address, port), _WsmanRequestHandler)
        self.scheme, self.user_file, self.tls, self.switched_on = scheme, user_file, tls, switched_on
        self.winrs: Service | None = None
        self.actions: list[str] = []
        self.logons: list[str] = []
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._stopping = False

    def server_bind(self) -> None:
        TCPServer.server_bind(self)  # HTTPServer's version asks DNS for the fqdn: slow, and not needed
        self.server_name, self.server_port = self.server_address[:2]

    def track(self, connection: socket.socket, alive: bool) -> None:
        with self._connections_lock:
            if not alive:
                self._connections.discard(connection)
            elif self._stopping:
                _cut(connection)  # accepted just before the stop: do not let it keep a thread waiting
            else:
                self._connections.add(connection)

    def close_connections(self) -> None:
        """Wake the threads blocked on keep-alive connections, so server_close() can join them."""
        with self._connections_lock:
            self._stopping = True
            for connection in self._connections:
                _cut(connection)

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that go away, refuse our certificate or are cut off at stop are normal here.
        if not isinstance(sys.exc_info()[1], (OSError, ValueError)):
            super().handle_error(request, client_address)


def _cut(connection: socket.socket) -> None:
    try:
        socket.socket.shutdown(connection, socket.SHUT_RDWR)  # the plain socket call, also for TLS sockets
    except OSError:
        pass


class _WsmanRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: NTLM is per connection
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    server: _WsmanServer

    def setup(self) -> None:
        if not self.server.switched_on():  # a host that is off: the connection ends before a byte is answered
            _cut(self.request)
            raise ConnectionAbortedError("the host is switched off")
        if self.server.tls is not None:
            self.request = self.server.tls.context.wrap_socket(self.request, server_side=True, do_handshake_on_connect=False)
        self.server.track(self.request, alive=True)  # before the handshake, so a stop can cut it short
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        self.ntlm = NtlmConnection(self.server.user_file, self.server.tls.bindings if self.server.tls else None)
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.request, alive=False)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep pytest output clean

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.split("?")[0].lower() != "/wsman":
            self._reply(404)
        elif self._authenticated():
            self._serve(body)

    def _authenticated(self) -> bool:
        """True when the request may proceed; otherwise the 401 has been sent."""
        header = self.headers.get("Authorization")
        if header is None:
            if self.ntlm.authenticated:
                return True
            return self._challenge()
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("negotiate", "ntlm"):
            return self._challenge()  # Basic and anything else: never accepted
        try:
            reply = self.ntlm.step(base64.b64decode(token, validate=True))
        except Exception:  # noqa: BLE001 - wrong password, unknown user, bad channel binding, garbage: all a plain 401
            self.server.logons.append("refused")
            return self._challenge()
        if reply is not None:
            self._reply(401, headers={"WWW-Authenticate": f"{scheme} {base64.b64encode(reply).decode()}"})
            return False
        self.server.logons.append("accepted")
        return True

    def _challenge(self) -> bool:
        self._reply(401, headers={"WWW-Authenticate": "Negotiate"})
        return False

    def _serve(self, body: bytes) -> None:
        if not body:
            self._reply(200)  # pywinrm's empty POST that sets up the security context
            return
        encrypted = self.headers.get("Content-Type", "").lower().startswith("multipart/encrypted")
        if not encrypted and self.server.scheme == "http":
            self._reply(400)  # AllowUnencrypted=false
            return
        context = self.ntlm.context
        try:
            request = parse_request(unseal(context, body) if encrypted and context else body)
        except Exception:  # noqa: BLE001 - bad signature, bad framing or no envelope: Windows answers 400 too
            self._reply(400)
            return
        assert self.server.winrs is not None
        self.server.actions.append(request.action.rsplit("/", 1)[-1])
        status, response = self.server.winrs.dispatch(request, self.ntlm.user, self.client_address[0])
        if encrypted and context:
            self._reply(status, seal(context, response), ENCRYPTED_CONTENT_TYPE)
        else:
            self._reply(status, response, SOAP_CONTENT_TYPE)

    def _reply(
        self, status: int, body: bytes = b"", content_type: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _shutdown(server: _WsmanServer) -> None:
    """Stop serve_forever without waiting out its poll interval: a connection wakes its select() at once."""
    stopper = threading.Thread(target=server.shutdown, daemon=True)
    stopper.start()
    while stopper.is_alive():
        try:
            socket.create_connection(server.server_address[:2], timeout=1).close()
        except OSError:
            pass  # the listener is busy or already gone: the poll interval ends the wait anyway
        stopper.join(0.01)


def _require_loopback(address: str) -> None:
    if ipaddress.ip_address(address) not in ipaddress.ip_network("127.0.0.0/8"):
        raise ValueError(f"the WinRM peer only listens on loopback addresses, not {address}")


@contextmanager
def running_winrm(
    workdir: Path,
    address: str,
    users: dict[str, str],
    handler: Handler,
    scheme: str = "http",
    timeouts_before_output: int = 0,
    port: int = 0,
    poll_interval: float = 0.05,
    switched_on: Callable[[], bool] = lambda: True,
) -> Iterator[WinrmPeer]:
    """A WinRM listener on (address, port; 0: a free one) in a background thread, stopped at exit.

    ``timeouts_before_output``: answer the first N Receives of every command with the OperationTimeout fault.
    ``poll_interval``: how often the idle listener wakes up; a process serving many peers wants it long (the stop
    does not wait for it).
    ``switched_on``: asked on every connection; while it says False the host is off: each connection is cut
    before anything is answered, so the collector records the host as failed at once (a machine really
    switched off would make it wait for its connect timeout instead).
    """

    def service(peer: WinrmPeer) -> Service:
        return WinrsService(handler, peer.received, peer.endpoint, SERVER_NAME, timeouts_before_output, peer.work)

    with _serving(workdir, address, users, scheme, service, port, poll_interval, switched_on) as peer:
        yield peer


@contextmanager
def running_winrm_replay(
    workdir: Path, address: str, users: dict[str, str], transcript: Path, scheme: str = "http"
) -> Iterator[WinrmPeer]:
    """Like running_winrm, but answering with a recorded pypsrp transcript (read in place) instead of a handler."""
    exchanges = load_transcript(transcript)  # before binding: a bad file fails without a listener to clean up
    with _serving(workdir, address, users, scheme, lambda peer: ReplayService(exchanges, peer.received, SERVER_NAME)) as peer:
        yield peer


@contextmanager
def _serving(
    workdir: Path,
    address: str,
    users: dict[str, str],
    scheme: str,
    service: Callable[[WinrmPeer], Service],
    port: int = 0,
    poll_interval: float = 0.05,
    switched_on: Callable[[], bool] = lambda: True,
) -> Iterator[WinrmPeer]:
    _require_loopback(address)
    if scheme not in ("http", "https"):
        raise ValueError(f"scheme must be http or https, not {scheme!r}")
    workdir.mkdir(parents=True, exist_ok=True)
    user_file = write_user_file(workdir, users)
    tls = make_tls(workdir, address, SERVER_NAME) if scheme == "https" else None
    server = _WsmanServer(address, scheme, user_file, tls, port, switched_on)
    peer = WinrmPeer(address, server.server_address[1], scheme, tls.ca_file if tls else None, SERVER_NAME, [])
    server.winrs, server.actions, server.logons = service(peer), peer.actions, peer.logons
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": poll_interval}, name=f"winrm-peer-{peer.port}", daemon=True
    )
    thread.start()
    try:
        yield peer
    finally:
        _shutdown(server)
        server.close_connections()
        server.server_close()
        thread.join()


__all__ = [
    "SERVER_NAME",
    "CommandWork",
    "Handler",
    "ScriptResult",
    "WinrmPeer",
    "load_transcript",
    "running_winrm",
    "running_winrm_replay",
    "script_of",
]
