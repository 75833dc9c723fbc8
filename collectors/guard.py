"""The read-only promise, enforced: a collector sends nothing but what its `allowed_commands` declares.

Each collector declares every command, script, query and request it may send in
`allowed_commands`. The runner builds a `CommandGuard` from that declaration and hands
it to the collector in its `CollectContext`; the collector hands it to its transport,
and the transport calls `check()` before anything goes out: `SshSession.run` (SSH),
`PywinrmTransport.run_ps` (WinRM), `read_entry`/`paged_entries` (LDAP searches) and
`commands.run_command` (local programs). Where a collector talks itself (psutil calls,
the ePO request, the TLS handshakes, the reachability probe) it calls `check()` just
before. An undeclared command raises `CommandRefused` before a byte is sent; the runner
records it as an error item of the host (kind `<collector>.refused`, naming the command
and the collector) and goes on with the next collector.

Matching is exact. A declared command is literal text, except for the markers the
collector lists in `command_placeholders` (marker -> regular expression): values that
are filled in per host, such as a retention path, a backup repository or a base DN.
A sent command is allowed when it equals a declared one with each marker replaced by a
value that matches the marker's expression in full. The expressions admit one quoted
shell word, one PowerShell literal, one number or one escaped LDAP value, so a filled-in
value cannot carry a second command.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Protocol

# What a filled-in value may be.
NUMBER = r"[0-9]+"
# One word as shlex.quote writes it: bare when it is made of safe characters, else single-quoted,
# with each ' inside written '"'"'.
SHELL_WORD = r"""[A-Za-z0-9_@%+=:,./-]+|'[^']*'(?:"'"'[^']*')*"""
# An assertion value as ldap3's escape_filter_chars writes it: no unescaped * ( ) \ or NUL.
LDAP_VALUE = r"(?:[^*()\\\x00]|\\[0-9a-fA-F]{2})+"
DN = r"[^'\n]+"  # a base DN, shown between single quotes
WORD = r"[^\s,;']+"  # a host name, address, URL or endpoint: one word


class Declaring(Protocol):
    name: str
    allowed_commands: tuple[str, ...]


def refusal(collector: str, command: str) -> str:
    """What a refused command's error item says."""
    return (
        f"collector {collector} tried to send a command it does not declare in allowed_commands; "
        f"refused, nothing was sent: {command!r}"
    )


class CommandRefused(Exception):
    """A collector tried to send a command it does not declare; nothing was sent."""

    def __init__(self, collector: str, command: str):
        super().__init__(refusal(collector, command))
        self.collector = collector
        self.command = command


class CommandGuard:
    """Checks each command a collector sends against the commands it declares (see the module docstring)."""

    def __init__(self, collector: str, declared: Iterable[str], placeholders: Mapping[str, str] | None = None):
        self.collector = collector
        self.declared = tuple(declared)
        self.placeholders = dict(placeholders or {})
        self.refused: list[str] = []  # every command refused, in order: the runner records each one
        self._exact = {d for d in self.declared if not self._has_marker(d)}
        self._templates = [self._pattern(d) for d in self.declared if self._has_marker(d)]

    @classmethod
    def for_collector(cls, collector: Declaring) -> CommandGuard:
        """The guard of a collector's own declaration: `allowed_commands`, with its `command_placeholders` if any."""
        return cls(collector.name, collector.allowed_commands, getattr(collector, "command_placeholders", None))

    def _has_marker(self, declared: str) -> bool:
        return any(marker in declared for marker in self.placeholders)

    def _pattern(self, declared: str) -> re.Pattern[str]:
        markers = sorted(self.placeholders, key=len, reverse=True)  # the longest first, should one contain another
        parts = re.split("(" + "|".join(re.escape(m) for m in markers) + ")", declared)
        return re.compile(
            "".join(f"(?:{self.placeholders[p]})" if p in self.placeholders else re.escape(p) for p in parts), re.DOTALL
        )

    def allows(self, command: str) -> bool:
        return command in self._exact or any(t.fullmatch(command) for t in self._templates)

    def check(self, command: str) -> None:
        """Return when the command is declared; otherwise note it and raise CommandRefused, before anything is sent."""
        if not self.allows(command):
            self.refused.append(command)
            raise CommandRefused(self.collector, command)
