"""The sudoers lines an SSH audit account without root needs: exactly what the ssh collector sends through sudo.

Pure text from a host of the inventory (`auditpack_become: sudo`): each command with its exact arguments
(sudoers allows any arguments to a command named without them, so a command without arguments is written
with ""), an environment reset, no tty and no programs started from the allowed ones (noexec). The
backup listings name their repositories one by one; only the passphrase variable passes to them.
docs/service-accounts.md shows these lines and a test keeps the two the same.
"""

from __future__ import annotations

import re

from auditpack.inventory import Host

from .ssh import BACKUP_COMMANDS, FIREWALL_CONFIG, LISTENING, NFT

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


def read_commands(host: Host) -> list[str]:
    """The rulesets, sockets and appliance configuration the collector reads as root (ssh.ROOT_COMMANDS)."""
    if host.firewall_type in ("pfsense", "opnsense"):
        return [_command(BSD_CAT, FIREWALL_CONFIG[host.firewall_type].split()[1])]
    if host.firewall_type != "linux":
        return []  # a FortiGate has no shell and no sudo: its read-only administrator profile is the limit
    return [
        _command(PROGRAMS["nft"], *NFT.split()[1:]),
        _command(PROGRAMS["iptables-save"]),
        _command(PROGRAMS["ip6tables-save"]),
        _command(PROGRAMS["ss"], *LISTENING.split()[1:]),
    ]


def backup_commands(host: Host) -> list[str]:
    """One line per repository or report: the listing command and nothing else."""
    lines = []
    for source in host.backups:
        if source.tool == "borg":
            lines.append(_command(PROGRAMS["borg"], "list", "--json", source.repository))
        elif source.tool == "restic":
            lines.append(_command(PROGRAMS["restic"], "-r", source.repository, "snapshots", "--json"))
        else:
            lines.append(_command(PROGRAMS["cat"], source.repository))
    assert set(BACKUP_COMMANDS) == {"borg", "restic", "log"}  # a new tool needs its line here
    return lines


def sudoers_for(host: Host) -> str:
    """The sudoers file (for /etc/sudoers.d/auditpack) that lets HOST's audit account run exactly its commands."""
    user = host.user
    if not user or user == "root":
        raise ValueError(f"{host.name}: sudoers lines are for an audit account other than root (ansible_user)")
    reads, backups = read_commands(host), backup_commands(host)
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
