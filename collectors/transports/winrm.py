"""WinRM to a Windows host with pywinrm, behind a small interface so pypsrp could take its place.

Never Basic over HTTP: NTLM (or Kerberos/CredSSP) with message encryption over
HTTP, certificate verification over HTTPS by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import requests
import winrm
from winrm import exceptions as winrm_errors

from auditpack.credentials import Secret
from auditpack.inventory import Host

from ..guard import CommandGuard

MAX_SCRIPT = 2400  # pywinrm passes the script as UTF-16 base64 on one cmd.exe line of at most ~8191 characters


class WinrmError(Exception):
    """A failed call; `fatal` when no further call can succeed (host unreachable, credentials refused)."""

    def __init__(self, message: str, unreachable: bool = False, fatal: bool = False, reason: str = ""):
        super().__init__(message)
        self.unreachable = unreachable
        self.fatal = fatal or unreachable
        self.reason = reason  # auth_refused or tls where that is what failed; "" otherwise


@dataclass(frozen=True)
class ScriptOutput:
    stdout: bytes
    stderr: bytes
    exit_code: int


class Transport(Protocol):
    endpoint: str

    def run_ps(self, script: str) -> ScriptOutput: ...


class PywinrmTransport:
    """Every script passes the guard before it is sent; a collector always gives its own (None: not a collector's call)."""

    def __init__(self, host: Host, password: Secret | None, timeout: float, guard: CommandGuard | None = None):
        self.guard = guard
        if not host.user:
            raise WinrmError("no user: set ansible_user (DOMAIN\\user or user@domain)")
        self.endpoint = f"{host.winrm_scheme}://{host.address}:{host.effective_port}/wsman"
        read_timeout = max(int(timeout), 30)
        self.session = winrm.Session(
            self.endpoint,
            auth=(host.user, password.reveal() if password else ""),
            transport=host.winrm_transport,
            server_cert_validation="validate" if host.verify_tls else "ignore",
            ca_trust_path=host.tls_ca_file or "legacy_requests",
            # encrypted messages on HTTP; HTTPS is encrypted already
            message_encryption="always" if host.winrm_scheme == "http" else "auto",
            read_timeout_sec=read_timeout,
            operation_timeout_sec=read_timeout - 10,
        )

    def run_ps(self, script: str) -> ScriptOutput:
        if self.guard is not None:
            self.guard.check(script)  # raises CommandRefused: an undeclared script is never sent
        if len(script) > MAX_SCRIPT:
            raise WinrmError(f"script of {len(script)} characters exceeds the command-line limit ({MAX_SCRIPT})")
        try:
            response = self.session.run_ps(script)
        except winrm_errors.InvalidCredentialsError:
            raise WinrmError(
                f"logon to {self.endpoint} refused: invalid credentials", fatal=True, reason="auth_refused"
            ) from None
        except requests.exceptions.SSLError as exc:
            raise WinrmError(
                f"TLS with {self.endpoint} failed: {exc}; give the CA with auditpack_tls_ca_file", fatal=True, reason="tls"
            ) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise WinrmError(f"cannot reach {self.endpoint}: {exc.__class__.__name__}", unreachable=True) from None
        except (winrm_errors.WinRMError, winrm_errors.WSManFaultError, winrm_errors.WinRMTransportError) as exc:
            raise WinrmError(f"{self.endpoint}: {exc.__class__.__name__}: {exc}") from None
        return ScriptOutput(response.std_out, response.std_err, response.status_code)
