"""The sudoers lines an SSH audit account without root needs: exactly what the ssh collector sends through sudo.

Pure text from a host of the inventory (`auditpack_become: sudo`): each command with its exact arguments
(sudoers allows any arguments to a command named without them, so a command without arguments is written
with ""), an environment reset, no tty and no programs started from the allowed ones (noexec). The
backup listings name their repositories one by one; only the passphrase variable passes to them.
docs/service-accounts.md shows these lines and a test keeps the two the same.
"""

from __future__ import annotations

import re
import shlex

from auditpack.inventory import Host

from .ssh import root_backup_runs, root_reads

# where Debian (and most Linux distributions) install the programs; FreeBSD (pfSense, OPNsense) has cat in /bin
PROGRAMS = {
    "nft": "/usr/sbin/nft",
    "iptables-save": "/usr/sbin/iptables-save",
    "ip6tables-save": "/usr/sbin/ip6tables-save",
    "ss": "/usr/bin/ss",
    "borg": "/usr/bin/borg",
    "restic": "/usr/bin/restic",
    "cat": "/usr/bin/cat",
}
BSD_CAT = "/bin/cat"
SECURE_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
PASSPHRASE_VARIABLES = {"borg": "BORG_PASSPHRASE", "restic": "RESTIC_PASSWORD"}
SPECIAL = re.compile(r"([\\,:=\"])")  # characters sudoers reads as syntax inside a command's arguments


def _argument(text: str) -> str:
    if not text or any(c.isspace() for c in text):
        raise ValueError(f"{text!r}: a sudoers line cannot name an empty argument or one with spaces exactly")
    return SPECIAL.sub(r"\\\1", text)


def _command(program: str, *arguments: str) -> str:
    return " ".join([program, *map(_argument, arguments)]) if arguments else f'{program} ""'


def sudoers_command(host: Host, command: str) -> str:
    """One of ssh.root_commands as sudoers names it: the program's full path and the exact arguments."""
    program, *arguments = shlex.split(command)
    path = BSD_CAT if program == "cat" and host.firewall_type in ("pfsense", "opnsense") else PROGRAMS[program]
    return _command(path, *arguments)


def sudoers_for(host: Host) -> str:
    """The sudoers file (for /etc/sudoers.d/auditpack) that lets HOST's audit account run exactly its commands."""
    user = host.user
    if not user or user == "root":
        raise ValueError(f"{host.name}: sudoers lines are for an audit account other than root (ansible_user)")
    reads = [sudoers_command(host, c) for c in root_reads(host)]
    backups = [sudoers_command(host, c) for c in root_backup_runs(host)]
    variables = sorted({PASSPHRASE_VARIABLES[s.tool] for s in host.backups if s.tool in PASSPHRASE_VARIABLES})
    lines = [
        f"# auditpack: what {user} may run as root on {host.name}, read-only (docs/service-accounts.md)",
        f'Defaults:{user} secure_path="{SECURE_PATH}", !requiretty, !lecture',
    ]
    aliases = []
    if reads:
        lines.append("Cmnd_Alias AUDITPACK_READ = " + ", ".join(reads))
        lines.append("Defaults!AUDITPACK_READ env_reset, noexec")
        aliases.append("AUDITPACK_READ")
    if backups:
        lines.append("Cmnd_Alias AUDITPACK_BACKUP = " + ", ".join(backups))
        keep = f', env_keep += "{" ".join(variables)}"' if variables else ""
        lines.append(f"Defaults!AUDITPACK_BACKUP env_reset, noexec{keep}")
        aliases.append("AUDITPACK_BACKUP")
    if not aliases:
        raise ValueError(f"{host.name}: none of its commands needs root")
    lines.append(f"{user} ALL=(root) NOPASSWD: {', '.join(aliases)}")
    return "\n".join(lines) + "\n"
