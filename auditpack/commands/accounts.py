"""`auditpack sudoers`: the sudoers lines each SSH host's audit account needs (docs/service-accounts.md)."""

from __future__ import annotations

import click

from auditpack.errors import AuditpackError

from .shared import Outcome, err_console, host_option, inventory_option, load_inventory


@click.command()
@inventory_option
@host_option
def sudoers(inventory_path: str | None, hosts: tuple[str, ...]) -> Outcome:
    """Print the sudoers lines that let each SSH host's audit account run, as root,
    exactly the commands the collector sends through sudo (auditpack_become: sudo).

    One block per host, for /etc/sudoers.d/auditpack on that host: every command
    with its exact arguments, each backup repository by name, environment reset,
    no tty, noexec. Check a block with `visudo -cf FILE` before installing it,
    and `sudo -n -l` as the account afterwards (docs/service-accounts.md).

    \b
    Examples:
      auditpack sudoers -i site.yaml
      auditpack sudoers -i site.yaml --host backup01 > auditpack.sudoers
      visudo -cf auditpack.sudoers && install -m 0440 auditpack.sudoers /etc/sudoers.d/auditpack
    Exit codes: 0 lines for every chosen SSH host, 1 some SSH host logs on without
    auditpack_become: sudo (named; as root, or as an account that cannot read what needs
    root), 2 bad input or no SSH host chosen.
    """
    from auditpack.collectors.sudoers import sudoers_for

    inventory = load_inventory(inventory_path)
    chosen = [h for h in inventory.select(list(hosts)) if h.connection == "ssh"]
    if not chosen:
        raise AuditpackError("No SSH host chosen: sudoers lines are for hosts reached over SSH")
    blocks, without = [], []
    for host in chosen:
        if host.become != "sudo":
            without.append(host)
            continue
        try:
            blocks.append(sudoers_for(host))
        except ValueError as exc:
            raise AuditpackError(str(exc)) from None
    click.echo("\n".join(blocks), nl=False)
    for host in without:
        account = host.user or "root"
        err_console.print(
            f"{host.name}: no auditpack_become: sudo; its commands run as {account} without sudo"
            + (" (root: more than reading needs)" if account == "root" else ""),
            style="yellow",
            markup=False,
            highlight=False,
        )
    return Outcome.FINDINGS if without else Outcome.OK


COMMANDS = (sudoers,)
