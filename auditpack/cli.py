"""The auditpack command line: the root group, the commands it is made of, and the one place that picks the exit code.

The commands live in auditpack/commands/, one module per group. Other distributions add commands through the
`auditpack.commands` entry point group (the demo lab adds `lab` and `demo` that way), so an audit machine can
install auditpack without them.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from pathlib import Path

import click

from . import __version__
from .commands import accounts, collect, config, imports, key, notify, report, schedule, verify
from .commands.shared import EXIT_CODES_HELP, Outcome, err_console, print_error
from .errors import AuditpackError

PLUGIN_GROUP = "auditpack.commands"


class AuditpackGroup(click.Group):
    """The built-in commands, plus those that installed plugins add; a plugin is imported only when it is listed or run."""

    def _plugins(self) -> dict[str, object]:
        return {ep.name: ep for ep in entry_points(group=PLUGIN_GROUP) if ep.name not in self.commands}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self._plugins()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        plugin = self._plugins().get(cmd_name)
        return plugin.load() if plugin is not None else None


@click.group(
    cls=AuditpackGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}, epilog=EXIT_CODES_HELP
)
@click.version_option(__version__, prog_name="auditpack")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The configuration file (TOML). Default: $AUDITPACK_CONFIG, else ./auditpack.toml, else "
    "~/.config/auditpack/config.toml, else /etc/auditpack/config.toml. `auditpack config show` shows what is in force.",
)
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Collect evidence that the promised security measures are in place, evaluate it
    over a period, and report on it.

    \b
    Typical use:
      auditpack doctor              is every host reached, does every credential work?
      auditpack check               spot check: collect now and show each control's result
      auditpack collect             collect evidence into the store (e.g. daily from cron)
      auditpack report --period 2026   the annual report over everything collected
      auditpack verify              prove that no evidence was changed or lost
      auditpack notify run          send the day's new findings (after each collection)
      auditpack key backup DIR      back up the signing and pseudonym keys (irreplaceable)
      auditpack config show         the settings in force, and where each comes from
    """
    from .config import activate, deactivate

    activate(config_path)  # read when the command first asks for a setting
    ctx.call_on_close(deactivate)


for _module in (collect, report, imports, verify, notify, schedule, key, accounts, config):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Run a command and exit with its Outcome; expected faults are printed, never shown as a traceback."""
    try:
        outcome = cli.main(args=argv, prog_name="auditpack", standalone_mode=False)
    except click.exceptions.Exit as exc:  # --help and --version
        sys.exit(exc.exit_code)
    except click.ClickException as exc:  # a wrong option or argument: click says which
        exc.show()
        sys.exit(Outcome.ERROR)
    except click.Abort:  # Ctrl-C, or end of input at a prompt
        err_console.print("Interrupted; what was committed before stays in the store.", style="red", markup=False)
        sys.exit(Outcome.ERROR)
    except AuditpackError as exc:
        print_error(exc)
        sys.exit(Outcome.ERROR)
    except OSError as exc:  # a full disk, a directory that cannot be written: said plainly
        err_console.print(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), style="red", markup=False, highlight=False)
        sys.exit(Outcome.ERROR)
    except Exception:  # a bug: show where, and never exit 1, which would read as "deviations found"
        err_console.print_exception()
        err_console.print(
            "auditpack stopped on an unexpected error (a bug: please report it with the lines above).", style="red", markup=False
        )
        sys.exit(Outcome.ERROR)
    sys.exit(int(outcome) if outcome is not None else Outcome.OK)
