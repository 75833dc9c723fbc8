"""SSH to Linux hosts and firewalls with paramiko: verified host keys, bounded commands.

Host keys are checked against known_hosts (the file given, else ~/.ssh/known_hosts).
An unknown key is refused unless trust on first use is switched on explicitly; then it
is accepted, appended to that known_hosts file (so the next run verifies it) and
reported, so the collector can record it. A key that differs from the known one is
refused always, trust on first use or not. Only the key file or password given is
used: no agent, no search for keys in ~/.ssh, so a run behaves the same everywhere.

Each command has a time limit and an output bound. A connection that drops while a
command runs is reopened once and the command run again; a second loss ends the
session. Messages name the host (and the jump host) and never hold a secret.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import selectors
import socket
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Self

import paramiko
from paramiko.common import cMSG_CHANNEL_REQUEST
from paramiko.message import Message

from auditpack.credentials import Secret

from ..guard import CommandGuard

# paramiko logs a dropped connection at ERROR level; without a handler Python would print
# that on stderr, in the middle of a run's progress display. Errors reach the caller as SshError.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

HANDSHAKE_MIN = 10.0  # seconds for key exchange and for authentication, however short the connect timeout
DROP_GRACE = 1.0  # how long a channel closed without an exit status waits for the transport to die


class SshError(Exception):
    """A failed connection or command, said plainly; `fatal` when no further command can succeed."""

    def __init__(self, message: str, unreachable: bool = False, fatal: bool = False, timed_out: bool = False, reason: str = ""):
        super().__init__(message)
        self.unreachable = unreachable
        self.fatal = fatal or unreachable
        self.timed_out = timed_out  # the command did not finish within its time limit (and was stopped)
        # what was refused, for a caller that tells the host key apart from the logon (auditpack doctor):
        # host_key_unknown, host_key_changed, host_key_revoked, auth_refused, no_credential, key_file; "" otherwise
        self.reason = reason


@dataclass(frozen=True)
class SshTarget:
    address: str
    port: int
    user: str
    key_file: str | None
    password: Secret | None
    known_hosts: str | None
    trust_on_first_use: bool
    connect_timeout: float
    jump: SshTarget | None = None

    @property
    def label(self) -> str:
        return f"{self.user}@{self.address}:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{self.port}"

    @property
    def known_hosts_name(self) -> str:
        """The name OpenSSH files this host under in known_hosts."""
        return self.address if self.port == 22 else f"[{self.address}]:{self.port}"

    @property
    def known_hosts_path(self) -> Path:
        return Path(self.known_hosts).expanduser() if self.known_hosts else Path.home() / ".ssh" / "known_hosts"


@dataclass(frozen=True)
class CommandResult:
    command: str
    stdout: bytes
    stderr: bytes
    exit_code: int | None  # None: no exit status (killed by a signal, or cut off after the output bound)
    truncated: bool
    seconds: float
    retried: bool = False  # the connection dropped during the first attempt; this is the second, on a new connection


def fingerprint(key: paramiko.PKey) -> str:
    """'ssh-ed25519 SHA256:…', as `ssh-keygen -lf` shows it."""
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
    return f"{key.get_name()} SHA256:{digest}"


class _Dropped(Exception):
    """The connection died under a command (internal: triggers the one retry)."""


@dataclass
class _Hop:
    """One authenticated connection, and the jump connection it runs through."""

    target: SshTarget
    transport: paramiko.Transport
    via: _Hop | None
    host_key: str
    trusted_on_first_use: bool

    def close(self) -> None:
        self.transport.close()
        if self.via is not None:
            self.via.close()


class SshSession:
    """An authenticated SSH connection to one host (through a jump host if given). Use as a context manager.

    Every command passes the guard before it is sent; a collector always gives its own
    (None: the caller is not a collector, such as this transport's tests).
    """

    def __init__(self, target: SshTarget, guard: CommandGuard | None = None):
        self.target = target
        self.guard = guard
        self._pinned: dict[tuple[str, str], bytes] = {}  # keys seen in this session: a reconnect must meet the same
        self._broken: str | None = None
        self._hop: _Hop | None = _connect(target, self._pinned)
        self.host_key: str = self._hop.host_key
        self.hops: list[dict[str, Any]] = _describe(self._hop)  # jump host(s) first, the host itself last
        self.trusted_on_first_use: bool = any(h["trusted_on_first_use"] for h in self.hops)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._hop is not None:
            self._hop.close()
            self._hop = None

    def run(self, command: str, timeout: float, max_output: int = 16 * 1024 * 1024, stdin: bytes = b"") -> CommandResult:
        """Run one command; stdout and stderr are each kept up to max_output bytes.

        stdin is sent whole before the output is read, so keep it small (a passphrase, say).
        """
        if self.guard is not None:
            self.guard.check(command)  # raises CommandRefused: an undeclared command never reaches the channel
        if self._broken is not None:
            raise SshError(self._broken, unreachable=True)
        if self._hop is None:
            raise SshError("the SSH session is closed", fatal=True)
        began = time.monotonic()
        try:
            return self._attempt(command, timeout, max_output, stdin, began)
        except _Dropped:
            pass
        lost = f"connection to {self.target.endpoint} lost while running {_show(command)}"
        self.close()
        try:
            self._hop = _connect(self.target, self._pinned)
        except SshError as exc:
            self._broken = f"{lost}; retried once on a new connection, which failed: {exc}"
            raise SshError(self._broken, unreachable=exc.unreachable, fatal=True) from None
        try:
            result = self._attempt(command, timeout, max_output, stdin, time.monotonic())
        except _Dropped:
            self.close()
            self._broken = f"{lost}; retried once on a new connection and lost again"
            raise SshError(self._broken, unreachable=True) from None
        return replace(result, retried=True, seconds=time.monotonic() - began)

    def _attempt(self, command: str, timeout: float, max_output: int, stdin: bytes, began: float) -> CommandResult:
        assert self._hop is not None
        transport = self._hop.transport
        deadline = time.monotonic() + timeout
        if not transport.is_active():
            raise _Dropped
        try:
            chan = transport.open_session(timeout=max(timeout, 0.1))
        except paramiko.ChannelException as exc:
            raise SshError(f"{self.target.endpoint} refused a session for {_show(command)}: {exc.text}") from None
        except (paramiko.SSHException, EOFError, OSError):
            if _died(transport):
                raise _Dropped from None
            raise SshError(f"{self.target.endpoint} did not open a session for {_show(command)} within {timeout:g} s") from None
        try:
            return self._exchange(chan, transport, command, timeout, max_output, stdin, deadline, began)
        finally:
            chan.close()

    def _exchange(
        self,
        chan: paramiko.Channel,
        transport: paramiko.Transport,
        command: str,
        timeout: float,
        max_output: int,
        stdin: bytes,
        deadline: float,
        began: float,
    ) -> CommandResult:
        too_slow = f"{_show(command)} did not finish within {timeout:g} s"
        try:
            chan.exec_command(command)
            chan.settimeout(max(deadline - time.monotonic(), 0.01))
            if stdin:
                chan.sendall(stdin)
            chan.shutdown_write()
        except TimeoutError:
            _stop(chan)
            raise SshError(too_slow, timed_out=True) from None
        except (paramiko.SSHException, EOFError, OSError):
            if _died(transport):
                raise _Dropped from None
            raise SshError(f"{self.target.endpoint} refused to run {_show(command)}") from None
        out, err = bytearray(), bytearray()
        truncated = False
        with selectors.DefaultSelector() as selector:
            selector.register(chan.fileno(), selectors.EVENT_READ)
            while True:
                while chan.recv_ready() and not truncated:
                    out += chan.recv(65536)
                    truncated = len(out) > max_output
                while chan.recv_stderr_ready() and not truncated:
                    err += chan.recv_stderr(65536)
                    truncated = len(err) > max_output
                if truncated:
                    _stop(chan)
                    break
                finished = chan.closed or (chan.eof_received and chan.status_event.is_set())
                if finished and not chan.recv_ready() and not chan.recv_stderr_ready():
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    _stop(chan)
                    raise SshError(too_slow, timed_out=True)
                if chan.eof_received:  # no more data; the pipe stays readable, so wait for the exit status instead
                    chan.status_event.wait(min(remaining, 0.5))
                else:
                    selector.select(min(remaining, 1.0))
        exit_code = chan.exit_status if chan.status_event.is_set() and chan.exit_status != -1 else None
        if exit_code is None and not truncated and _died(transport):
            raise _Dropped
        return CommandResult(
            command, bytes(out[:max_output]), bytes(err[:max_output]), exit_code, truncated, time.monotonic() - began
        )


def _show(command: str) -> str:
    return repr(command if len(command) <= 80 else command[:77] + "...")


def _died(transport: paramiko.Transport) -> bool:
    """Whether the connection is gone; a channel is closed just before its transport is marked inactive."""
    until = time.monotonic() + DROP_GRACE
    while transport.is_active():
        if time.monotonic() >= until:
            return False
        time.sleep(0.02)
    return True


def _stop(chan: paramiko.Channel) -> None:
    """Ask sshd to end the command's process group ('signal' request, OpenSSH 7.9+), then close the channel."""
    try:
        if chan.active and not chan.closed:
            m = Message()
            m.add_byte(cMSG_CHANNEL_REQUEST)
            m.add_int(chan.remote_chanid)
            m.add_string("signal")
            m.add_boolean(False)
            m.add_string("KILL")
            chan.transport._send_user_message(m)
    except (paramiko.SSHException, EOFError, OSError):
        pass  # best effort: closing the channel below is what bounds the run
    chan.close()


def _describe(hop: _Hop) -> list[dict[str, Any]]:
    chain = [] if hop.via is None else _describe(hop.via)
    return chain + [{"host": hop.target.label, "host_key": hop.host_key, "trusted_on_first_use": hop.trusted_on_first_use}]


# --- connecting ---------------------------------------------------------------------------------


def _connect(target: SshTarget, pinned: dict[tuple[str, str], bytes]) -> _Hop:
    if target.jump is None:
        return _handshake(target, _tcp(target), None, pinned)
    jump = target.jump
    try:
        via = _connect(jump, pinned)
    except SshError as exc:
        raise SshError(
            f"jump host {jump.label}: {exc}", unreachable=exc.unreachable, fatal=exc.fatal, reason=exc.reason
        ) from None
    try:
        tunnel = via.transport.open_channel(
            "direct-tcpip", (target.address, target.port), ("127.0.0.1", 0), timeout=target.connect_timeout
        )
    except paramiko.ChannelException as exc:
        via.close()
        raise SshError(
            f"jump host {jump.label} could not open a connection to {target.endpoint}: {exc.text}", unreachable=True
        ) from None
    except (paramiko.SSHException, EOFError, OSError):
        alive = via.transport.is_active()
        via.close()
        what = (
            f"did not connect to {target.endpoint} within {target.connect_timeout:g} s"
            if alive
            else f"dropped the connection while opening a tunnel to {target.endpoint}"
        )
        raise SshError(f"jump host {jump.label} {what}", unreachable=True) from None
    try:
        return _handshake(target, tunnel, via, pinned)
    except SshError as exc:
        via.close()
        raise SshError(
            f"{exc} (reached through jump host {jump.label})", unreachable=exc.unreachable, fatal=exc.fatal, reason=exc.reason
        ) from None
    except BaseException:
        via.close()
        raise


def _tcp(target: SshTarget) -> socket.socket:
    where = target.endpoint
    try:
        sock = socket.create_connection((target.address, target.port), timeout=target.connect_timeout)
    except socket.gaierror:
        raise SshError(f"cannot resolve host name {target.address}", unreachable=True) from None
    except ConnectionRefusedError:
        raise SshError(f"cannot reach {where}: connection refused", unreachable=True) from None
    except TimeoutError:
        raise SshError(f"cannot reach {where}: no answer within {target.connect_timeout:g} s", unreachable=True) from None
    except OSError as exc:
        raise SshError(f"cannot reach {where}: {exc.strerror or exc.__class__.__name__}", unreachable=True) from None
    # small request/answer packets: without this, Nagle's algorithm and delayed ACKs add ~40 ms to each exchange
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _handshake(target: SshTarget, sock: Any, via: _Hop | None, pinned: dict[tuple[str, str], bytes]) -> _Hop:
    known, revoked = _read_known_hosts(target.known_hosts_path)
    entries = known.lookup(target.known_hosts_name)
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = target.connect_timeout
        transport.handshake_timeout = max(target.connect_timeout, HANDSHAKE_MIN)
        transport.auth_timeout = max(target.connect_timeout, HANDSHAKE_MIN)
        if entries:
            _prefer_known_key_types(transport, list(entries.keys()))
        _negotiate(transport, target)
        key = transport.get_remote_server_key()
        trusted = _verify_host_key(target, key, entries, revoked, pinned)
        _authenticate(transport, target)
    except BaseException:
        transport.close()
        raise
    return _Hop(target, transport, via, fingerprint(key), trusted)


def _negotiate(transport: paramiko.Transport, target: SshTarget) -> None:
    where = target.endpoint
    done = threading.Event()
    limit = target.connect_timeout + max(target.connect_timeout, HANDSHAKE_MIN)
    transport.start_client(event=done)
    if not done.wait(limit):
        raise SshError(f"{where} did not complete the SSH handshake within {limit:g} s", unreachable=True)
    if transport.is_active():
        return
    exc = transport.get_exception()
    text = str(exc or "")
    if "protocol banner" in text:
        if isinstance(exc.__context__, TimeoutError):
            raise SshError(f"{where} sent no SSH banner within {target.connect_timeout:g} s", unreachable=True)
        raise SshError(f"{where} closed the connection before the SSH banner", unreachable=True)
    if "protocol version" in text:
        raise SshError(f"{where} answers, but not as an SSH server", unreachable=True)
    if exc is None or isinstance(exc, (EOFError, OSError)):
        raise SshError(f"{where} closed the connection during the SSH handshake", unreachable=True)
    raise SshError(f"SSH negotiation with {where} failed: {text}", fatal=True)


def _prefer_known_key_types(transport: paramiko.Transport, known_types: list[str]) -> None:
    """Ask for the kind of host key known_hosts holds, as OpenSSH does, so a known host is not 'unknown'."""
    options = transport.get_security_options()
    wanted = []
    for kind in known_types:
        wanted += ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] if kind == "ssh-rsa" else [kind]
    first = [k for k in wanted if k in options.key_types]
    options.key_types = first + [k for k in options.key_types if k not in first]


def _read_known_hosts(path: Path) -> tuple[paramiko.HostKeys, list[bytes]]:
    """Host keys and @revoked keys of a known_hosts file; lines that cannot be read are skipped, as OpenSSH does."""
    known = paramiko.HostKeys()
    revoked: list[bytes] = []
    if not path.exists():
        return known, revoked
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise SshError(f"cannot read known_hosts file {path}: {exc.strerror or exc}", fatal=True) from None
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if fields[0].startswith("@"):  # @cert-authority is not supported; @revoked keys are refused
            if fields[0] == "@revoked" and len(fields) >= 4:
                try:
                    revoked.append(base64.b64decode(fields[3], validate=True))
                except ValueError:
                    pass
            continue
        try:
            entry = paramiko.hostkeys.HostKeyEntry.from_line(" ".join(fields[:3]), number)
        except (
            paramiko.SSHException,
            paramiko.hostkeys.InvalidHostKey,
            paramiko.pkey.UnknownKeyType,
            ValueError,
            TypeError,
            IndexError,
        ):
            entry = None  # a line paramiko cannot read: skipped
        for name in entry.hostnames if entry is not None else []:
            if not name.startswith("|1|") or _hashed_name_is_sound(name):
                known.add(name, entry.key.get_name(), entry.key)
    return known, revoked


def _hashed_name_is_sound(name: str) -> bool:
    """A hashed name whose salt is not base64 would make every lookup in the file fail."""
    try:
        paramiko.HostKeys.hash_host("probe", name)
    except (ValueError, TypeError, IndexError):
        return False
    return True


def _verify_host_key(
    target: SshTarget, key: paramiko.PKey, entries: Any, revoked: list[bytes], pinned: dict[tuple[str, str], bytes]
) -> bool:
    """Refuse an unknown or changed key; return True when an unknown key was trusted on first use (and recorded)."""
    shown, path, where = fingerprint(key), target.known_hosts_path, target.endpoint
    seen = pinned.get((target.known_hosts_name, str(path)))
    if seen is not None and seen != key.asbytes():
        raise SshError(
            f"host key of {where} changed since this session connected: now {shown}; refused",
            fatal=True,
            reason="host_key_changed",
        )
    if key.asbytes() in revoked:
        raise SshError(
            f"host key of {where} ({shown}) is marked @revoked in {path}; refused", fatal=True, reason="host_key_revoked"
        )
    if entries:
        known_key = entries.get(key.get_name())
        if known_key is None or known_key.asbytes() != key.asbytes():
            expected = ", ".join(fingerprint(k) for k in entries.values())
            raise SshError(
                f"host key of {where} does not match {path}: the server shows {shown}, known is {expected}; "
                f"refused (a changed key may mean the host was reinstalled, or that someone is in between; "
                f"once verified, remove the old line with: ssh-keygen -R '{target.known_hosts_name}' -f {path})",
                fatal=True,
                reason="host_key_changed",
            )
        pinned[(target.known_hosts_name, str(path))] = key.asbytes()
        return False
    if not target.trust_on_first_use:
        raise SshError(
            f"host key of {where} is unknown ({shown}, not in {path}); refused. Compare it with "
            "`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the host and add it to known_hosts, "
            "or set auditpack_ssh_trust_on_first_use: true to accept and remember it once",
            fatal=True,
            reason="host_key_unknown",
        )
    _remember(path, target.known_hosts_name, key, where)
    pinned[(target.known_hosts_name, str(path))] = key.asbytes()
    return True


def _remember(path: Path, name: str, key: paramiko.PKey, where: str) -> None:
    line = f"{name} {key.get_name()} {key.get_base64()}\n"
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(path, "ab") as f:
            if f.tell() > 0:
                with open(path, "rb") as existing:
                    existing.seek(-1, os.SEEK_END)
                    if existing.read(1) != b"\n":
                        line = "\n" + line
            f.write(line.encode())
    except OSError as exc:
        raise SshError(
            f"host key of {where} was to be trusted on first use, but cannot be written to {path}: "
            f"{exc.strerror or exc}; refused",
            fatal=True,
        ) from None


def _authenticate(transport: paramiko.Transport, target: SshTarget) -> None:
    user, where = target.user, target.endpoint
    if not target.key_file and target.password is None:
        raise SshError(
            f"no key file or password for {user} on {where} (set ansible_ssh_private_key_file or auditpack_password)",
            fatal=True,
            reason="no_credential",
        )
    why: list[str] = []
    try:
        if target.key_file:
            key = _load_key(target.key_file)
            try:
                further = transport.auth_publickey(user, key)
                if not transport.is_authenticated():
                    why.append(f"after the key the server asks for more: {', '.join(further)}")
            except paramiko.BadAuthenticationType as exc:
                why.append(f"the server does not take keys (it offers {', '.join(exc.allowed_types)})")
            except paramiko.AuthenticationException:
                why.append(f"key {target.key_file} not accepted")
        if not transport.is_authenticated() and target.password is not None:
            try:
                transport.auth_password(user, target.password.reveal())
            except paramiko.BadAuthenticationType as exc:
                why.append(f"the server does not take passwords (it offers {', '.join(exc.allowed_types)})")
            except paramiko.AuthenticationException:
                why.append("password not accepted")
    except (paramiko.SSHException, EOFError, OSError):
        if not transport.is_active():
            raise SshError(f"{where} closed the connection during authentication as {user}", unreachable=True) from None
        raise SshError(
            f"authentication as {user} on {where} failed: no answer within {transport.auth_timeout:g} s", fatal=True
        ) from None
    if not transport.is_authenticated():
        raise SshError(f"authentication as {user} refused by {where} ({'; '.join(why)})", fatal=True, reason="auth_refused")


def _load_key(path: str) -> paramiko.PKey:
    try:
        return paramiko.PKey.from_path(path)
    except FileNotFoundError:
        raise SshError(f"key file {path} not found", fatal=True, reason="key_file") from None
    except (paramiko.PasswordRequiredException, TypeError):
        raise SshError(
            f"key file {path} is protected by a passphrase; auditpack uses no agent, "
            "so give it a key of its own without a passphrase (readable only by the auditor)",
            fatal=True,
            reason="key_file",
        ) from None
    except OSError as exc:
        raise SshError(f"cannot read key file {path}: {exc.strerror or exc}", fatal=True, reason="key_file") from None
    except Exception:  # noqa: BLE001 - cryptography and paramiko raise many kinds for a file that is no usable key
        raise SshError(
            f"key file {path} is not a private key auditpack can use (ed25519, ECDSA or RSA)", fatal=True, reason="key_file"
        ) from None
