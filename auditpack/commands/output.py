"""How a command shows what it did: for people (tables, progress), for scripts (`--json`) and for cron (`--quiet`).

Three consoles: `console` (stdout, the result for people), `err_console` (stderr, errors and warnings: always shown)
and `notice_console` (stderr, progress and notices: silent under --quiet). Under --json or --quiet the stdout console is
silenced too, so nothing but the JSON document (or, for report and pack, the written paths) reaches stdout.

Text that hosts, files and inventories supply goes through `literal` before it is printed: it is never read as console
markup, and its control characters (ESC of an ANSI colour or title sequence, BEL, a carriage return that overwrites a
line) are shown as escapes instead of reaching the terminal.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click
from rich.console import Console
from rich.segment import Segment
from rich.text import Text

# A pipe or a file has no width: wide enough that no host name, path or problem text is folded (rich's default is 80).
PIPE_WIDTH = 4096
# From this many hosts on, collect and doctor show one line per host that is not ok and a total (--details: all).
SUMMARY_FROM = 21

# C0 and C1 controls and DEL (ESC starts every ANSI sequence; 0x9b is CSI on its own), the line and paragraph
# separators, and the bidirectional overrides that reorder what a terminal shows.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def literal(text: object) -> str:
    """TEXT as it may be shown on a terminal: each control character as its escape (ESC as \\x1b, CR as \\r)."""
    return _UNSAFE.sub(_escape, str(text))


class LiteralConsole(Console):
    """A rich Console that writes no control character it did not make itself.

    The safety net under `literal`: whatever reaches the terminal without it (a Text built elsewhere, a message
    with a host's answer in it) has its control characters escaped here, line breaks and tabs apart. rich has no
    public hook for the text it writes; `_render_buffer` is where every printed segment passes, after layout.
    """

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        safe = (s if s.control else Segment(_UNSAFE_IN_LINES.sub(_escape, s.text), s.style) for s in buffer)
        return super()._render_buffer(safe)


def cell(text: object, style: str | None = None) -> Text:
    """A table cell or progress text of external text: literal, never markup."""
    return Text(literal(text), style=style or "")


def _width_for(stream: Any) -> int | None:
    """None (rich measures the terminal) for a terminal or when COLUMNS says; a wide width for a pipe or a file."""
    if "COLUMNS" in os.environ:
        return None
    try:
        return None if stream.isatty() else PIPE_WIDTH
    except (AttributeError, ValueError):  # a closed or replaced stream
        return PIPE_WIDTH


def _console(stderr: bool) -> Console:
    # emoji off: a host called ":warning:" is shown as it is called
    return LiteralConsole(stderr=stderr, emoji=False, width=_width_for(sys.stderr if stderr else sys.stdout))


console = _console(stderr=False)
err_console = _console(stderr=True)
notice_console = _console(stderr=True)
CONSOLES = (console, err_console, notice_console)


@dataclass(frozen=True)
class View:
    """What a command was asked to show: `--quiet`, `--json`, `--details`."""

    quiet: bool = False
    json: bool = False
    details: bool = False

    @property
    def human(self) -> bool:
        """Tables and sentences on stdout (neither --json nor --quiet)."""
        return not (self.quiet or self.json)

    def summarised(self, count: int) -> bool:
        """Many hosts: only those not ok, and a total, unless --details."""
        return not self.details and count >= SUMMARY_FROM


def print_json(document: dict[str, Any]) -> None:
    """The one JSON document of --json, on stdout (past the silenced console)."""
    click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))


def print_line(text: str) -> None:
    """A line a script reads (a path under --quiet), on stdout as it is."""
    click.echo(literal(text))


@contextmanager
def shown_as(view: View, no_color: bool) -> Iterator[None]:
    """The consoles set for one command (and put back after it: the lab calls commands' helpers in-process)."""
    saved = [(c.quiet, c.no_color) for c in CONSOLES]
    for c in CONSOLES:
        c.no_color = c.no_color or no_color
    console.quiet = console.quiet or not view.human
    notice_console.quiet = notice_console.quiet or view.quiet
    try:
        yield
    finally:
        for c, (quiet, plain) in zip(CONSOLES, saved, strict=True):
            c.quiet, c.no_color = quiet, plain


_output_options = (
    click.option("-q", "--quiet", is_flag=True, help="Nothing on stdout but what a script needs; errors on stderr (for cron)."),
    click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout (docs/console.md describes it)."),
    click.option("--no-color", is_flag=True, help="No colours (also when NO_COLOR is set)."),
)
_details_option = click.option("--details", is_flag=True, help=f"Every host, also in runs of {SUMMARY_FROM} hosts or more.")


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--quiet, --json and --no-color (and --details when host_output_options added it); the command gets one `view`."""

    @functools.wraps(func)
    def command(*args: Any, quiet: bool, as_json: bool, no_color: bool, **kwargs: Any) -> Any:
        view = View(quiet=quiet, json=as_json, details=kwargs.pop("details", False))
        with shown_as(view, no_color):
            return func(*args, view=view, **kwargs)

    for option in reversed(_output_options):
        command = option(command)
    return command


def host_output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """output_options and --details, for the commands that list hosts (collect, check, doctor)."""
    return _details_option(output_options(func))
