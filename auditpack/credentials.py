"""Credential references: the inventory names where a secret lives, never the secret.

Accepted forms (string or one-key mapping):
  env:NAME                 environment variable NAME
  keyring:SERVICE[:USER]   OS keyring entry (user defaults to the host's login user)
  prompt                   asked interactively when first needed
"""

from __future__ import annotations

import getpass
import os
import re
import sys
from dataclasses import dataclass
from typing import Literal

from .errors import AuditpackError

REFERENCE_HELP = (
    "use a credential reference instead: 'env:VARIABLE' (environment variable), "
    "'keyring:SERVICE' or 'keyring:SERVICE:USER' (OS keyring) or 'prompt' (asked at run time)"
)

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# Answers typed at a prompt, per account, so a run asks once and before its progress display starts.
_PROMPT_ANSWERS: dict[str | None, Secret] = {}


class CredentialError(AuditpackError, ValueError):
    """A reference that cannot be parsed or resolved; the message never holds a secret."""


@dataclass(frozen=True)
class Secret:
    """A resolved secret whose repr and str never show the value."""

    value: str = ""

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__

    def reveal(self) -> str:
        return self.value


@dataclass(frozen=True)
class CredentialRef:
    scheme: Literal["env", "keyring", "prompt"]
    name: str = ""
    user: str | None = None

    def __str__(self) -> str:
        if self.scheme == "prompt":
            return "prompt"
        if self.scheme == "keyring" and self.user:
            return f"keyring:{self.name}:{self.user}"
        return f"{self.scheme}:{self.name}"

    def describe_availability(self, login_user: str | None) -> tuple[bool, str]:
        """Whether the secret could be resolved now, without reading it into evidence."""
        if self.scheme == "env":
            if self.name in os.environ:
                return True, f"environment variable {self.name} is set"
            return False, f"environment variable {self.name} is not set"
        if self.scheme == "prompt":
            if not sys.stdin.isatty():
                return False, "'prompt' needs an interactive terminal (use env: or keyring: for scheduled runs)"
            return True, "will be asked at run time"
        try:
            found = _keyring_get(self.name, self.user or login_user) is not None
        except CredentialError as exc:
            return False, str(exc)
        where = f"keyring entry {self.name!r} for user {self.user or login_user!r}"
        return found, f"{where} {'found' if found else 'not found'}"

    def resolve(self, login_user: str | None, prompt_label: str) -> Secret:
        if self.scheme == "env":
            if self.name not in os.environ:
                raise CredentialError(f"environment variable {self.name} is not set")
            return Secret(os.environ[self.name])
        if self.scheme == "keyring":
            value = _keyring_get(self.name, self.user or login_user, prompt_label)
            if value is None:
                raise CredentialError(
                    f"no keyring entry {self.name!r} for user {self.user or login_user!r}; "
                    f"add it with: keyring set {self.name} {self.user or login_user or 'USER'}"
                )
            return Secret(value)
        if login_user in _PROMPT_ANSWERS:
            return _PROMPT_ANSWERS[login_user]
        if not sys.stdin.isatty():
            raise CredentialError(
                f"password for {prompt_label} is set to 'prompt', but there is no terminal to ask on; "
                "use env: or keyring: for scheduled runs"
            )
        _PROMPT_ANSWERS[login_user] = Secret(getpass.getpass(f"Password for {prompt_label}: "))
        return _PROMPT_ANSWERS[login_user]


# What to do where no desktop keyring is unlocked: a server, cron, a systemd service (docs/inventory.md says more).
HEADLESS_HELP = (
    "a scheduled or headless run has no unlocked desktop keyring: install keyrings.alt and set "
    "PYTHON_KEYRING_BACKEND=keyrings.alt.file.PlaintextKeyring for the account that runs auditpack (an owner-only file "
    "in its home; store the secret with `keyring set SERVICE USER` as that account), or use an env: reference filled "
    "from an owner-only file (`auditpack schedule install --env-file FILE`); see docs/inventory.md"
)


def _keyring_get(service: str, user: str | None, label: str | None = None) -> str | None:
    if not user:
        raise CredentialError(f"keyring reference {service!r} needs a user (keyring:SERVICE:USER or ansible_user)")
    where = f"keyring:{service}:{user}" + (f" (the password for {label})" if label else "")
    try:
        import keyring
        from keyring.errors import KeyringLocked, NoKeyringError

        return keyring.get_password(service, user)
    except KeyringLocked:  # a desktop keyring, unlocked only in its owner's login session
        why = "the OS keyring is locked"
    except NoKeyringError:
        why = "there is no OS keyring on this machine"
    except (RuntimeError, ImportError, ValueError) as exc:  # a backend named in PYTHON_KEYRING_BACKEND or keyringrc.cfg
        # that cannot start here (no D-Bus session under cron, a missing module); KeyringError is a RuntimeError
        why = f"the OS keyring cannot be used ({type(exc).__name__}: {exc})"
    raise CredentialError(f"{where} cannot be read: {why}; {HEADLESS_HELP}")


def parse_reference(value: object) -> CredentialRef:
    """Parse a reference; raise CredentialError (without echoing the value) if it is not one."""
    if isinstance(value, dict) and len(value) == 1:
        ((scheme, name),) = value.items()
        value = "prompt" if scheme == "prompt" else f"{scheme}:{name}"
    if not isinstance(value, str):
        raise CredentialError(f"not a credential reference; {REFERENCE_HELP}")
    text = value.strip()
    if text == "prompt":
        return CredentialRef("prompt")
    scheme, sep, rest = text.partition(":")
    if sep and scheme == "env" and _ENV_NAME.match(rest):
        return CredentialRef("env", rest)
    if sep and scheme == "keyring" and rest:
        service, _, user = rest.partition(":")
        if service:
            return CredentialRef("keyring", service, user or None)
    raise CredentialError(f"not a credential reference; {REFERENCE_HELP}")
