"""The `ssh` collector: Linux hosts, perimeter firewalls and backup servers over SSH (paramiko).

Read-only: the listing commands in `allowed_commands` only. A backup passphrase
is resolved here and handed to the tool on stdin, never on a command line.
An account without root (`auditpack_become: sudo`) runs the commands that need root
through `sudo -n`, never waiting for a password; a refusal is that command's error
(the sudoers lines: collectors/sudoers.py and docs/service-accounts.md).
Firewalls that are not Linux (pfSense/OPNsense, FortiGate) get only their
configuration read; the transport (transports/ssh.py) and the parsers are apart.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from auditpack.canonical import utcnow
from auditpack.credentials import CredentialError
from auditpack.evidence import ItemStatus, Observation
from auditpack.inventory import Host, Role

from .base import CollectContext
from .guard import NUMBER, SHELL_WORD
from .parsers import linux
from .parsers.backup_logs import parse_backup_log
from .parsers.borg import parse_borg_list
from .parsers.fortigate import parse_fortigate_config
from .parsers.iptables import parse_iptables_save
from .parsers.netfilter_rules import parse_iptables_rules, parse_nft_rules
from .parsers.nftables import parse_nft_json
from .parsers.pfsense import parse_pfsense_config
from .parsers.restic import parse_restic_snapshots
from .transports.ssh import CommandResult, SshError, SshSession, SshTarget

MAX_OUTPUT = 64 * 1024 * 1024
NOT_FOUND = 127  # the shell's exit code for a command that does not exist
NFT, IPTABLES, IP6TABLES = "nft -j list ruleset", "iptables-save", "ip6tables-save"
# count, oldest mtime (epoch seconds), files older than the limit: ages only, never names or contents
RETENTION = (
    'sh -c \'[ -d "$1" ] || exec ls -d "$1"; find "$1" -type f | wc -l; find "$1" -type f -printf "%T@\\n" | sort -n | head -n 1; '
    'find "$1" -type f -mtime +"$2" | wc -l\' _ {path} {days}'
)
BACKUP_COMMANDS = {  # the passphrase arrives on stdin, so it never shows in a process list or the evidence
    "borg": 'sh -c \'BORG_PASSPHRASE="$(cat)" exec borg list --json "$1"\' _ {repository}',
    "restic": 'sh -c \'RESTIC_PASSWORD="$(cat)" exec restic -r "$1" snapshots --json\' _ {repository}',
    "log": "cat {repository}",
}
# the same through sudo: the passphrase variable is kept by the sudoers line's env_keep, the tool itself runs as root
SUDO = "sudo -n "
SUDO_BACKUP_COMMANDS = {
    "borg": 'sh -c \'BORG_PASSPHRASE="$(cat)" exec sudo -n borg list --json "$1"\' _ {repository}',
    "restic": 'sh -c \'RESTIC_PASSWORD="$(cat)" exec sudo -n restic -r "$1" snapshots --json\' _ {repository}',
    "log": SUDO + BACKUP_COMMANDS["log"],
}
CLAMAV = "sh -c 'clamscan --version || exit 127; systemctl is-active clamav-daemon || true'"
FIREWALL_CONFIG = {"pfsense": "cat /conf/config.xml", "opnsense": "cat /conf/config.xml", "fortigate": "show firewall policy"}
LISTENING = "ss -Htulnp"
LINUX_COMMANDS = (NFT, IPTABLES, IP6TABLES, "getent passwd", "getent group", LISTENING, CLAMAV)
# what an ordinary account cannot read: the rulesets (CAP_NET_ADMIN), the processes behind other users'
# sockets, an appliance's configuration. Accounts, groups, ClamAV's version and file ages need no root.
ROOT_COMMANDS = (NFT, IPTABLES, IP6TABLES, LISTENING, FIREWALL_CONFIG["pfsense"])
# what sudo is asked to run for a backup source (inside the sh -c of SUDO_BACKUP_COMMANDS, or alone)
SUDO_BACKUP_RUNS = {
    "borg": "borg list --json {repository}",
    "restic": "restic -r {repository} snapshots --json",
    "log": BACKUP_COMMANDS["log"],
}
SUDO_LIST = "sudo -n -l "  # auditpack doctor: may the account run this command as root? (exit 0 when it may)
SUDO_MISSING = re.compile(r"\bsudo: (command )?not found")  # dash and bash; sudo's own is "sudo: nft: command not found"
# how sudo says no (its messages in the C locale); the collector never waits for a password (-n)
SUDO_REFUSALS = (
    "a password is required",
    "is not allowed to execute",
    "is not in the sudoers file",
    "may not run sudo",
    "a terminal is required",
    "you must have a tty",
)
LOGON_CHECK = "id -un"  # auditpack doctor's one command after the logon: which account the session runs as


@dataclass(frozen=True)
class Answer:
    result: CommandResult
    started: datetime
    ended: datetime


@dataclass(frozen=True)
class Step:
    kind: str
    command: str
    parse: Callable[[bytes], Any]
    stdin: bytes = b""
    fallback: Step | None = None  # run instead when this command is not installed (nft missing: iptables-save)
    refused: str | None = None  # why the command is not sent at all (its credential could not be had)
    sudo: bool = False  # runs through `sudo -n`: a refusal by sudo is told apart from the command's own failure


def root_reads(host: Host) -> list[str]:
    """The rulesets, sockets or appliance configuration the host's collection reads as root (ROOT_COMMANDS)."""
    if host.firewall_type == "fortigate":
        return []  # no shell, no sudo
    if host.firewall_type != "linux":
        return [FIREWALL_CONFIG[host.firewall_type]]
    return [NFT, IPTABLES, IP6TABLES, LISTENING]


def root_backup_runs(host: Host) -> list[str]:
    """The backup listings and logs the host's collection reads as root, as sudo is asked to run them."""
    if host.firewall_type != "linux":
        return []
    return [SUDO_BACKUP_RUNS[s.tool].format(repository=shlex.quote(s.repository)) for s in host.backups]


def root_commands(host: Host) -> list[str]:
    """Everything the host's collection runs as root with `auditpack_become: sudo`: the sudoers lines
    (sudoers.py) and doctor's `sudo -n -l` check come from these lists, never from a copy."""
    return root_reads(host) + root_backup_runs(host)


def with_become(host: Host, step: Step) -> Step:
    """STEP as the host's account sends it: through `sudo -n` when it needs root and the inventory says so."""
    if host.become != "sudo" or step.command not in ROOT_COMMANDS:
        return step
    fallback = with_become(host, step.fallback) if step.fallback else None
    return replace(step, command=SUDO + step.command, sudo=True, fallback=fallback)


def _jump(host: Host) -> SshTarget | None:
    if not host.ssh_jump:
        return None
    user, _, rest = host.ssh_jump.rpartition("@")
    address, _, port = rest.partition(":")
    return SshTarget(
        address=address,
        port=int(port or 22),
        user=user or host.user or "root",
        key_file=host.ssh_key_file,
        password=None,
        known_hosts=host.ssh_known_hosts,
        trust_on_first_use=host.ssh_trust_on_first_use,
        connect_timeout=host.connect_timeout,
    )


def target_of(host: Host) -> SshTarget:
    secret = host.password.resolve(host.user, f"{host.user} on {host.name}") if host.password else None
    return SshTarget(
        address=host.address,
        port=host.effective_port or 22,
        user=host.user or "root",
        key_file=host.ssh_key_file,
        password=secret,
        known_hosts=host.ssh_known_hosts,
        trust_on_first_use=host.ssh_trust_on_first_use,
        connect_timeout=host.connect_timeout,
        jump=_jump(host),
    )


def perimeter_steps(host: Host) -> list[Step]:
    """The rules of the perimeter firewall, in the one rule model T-FWP reads."""
    device, wan = host.name, host.firewall_wan
    if host.firewall_type == "fortigate":
        return [Step("firewall.ruleset", FIREWALL_CONFIG["fortigate"], lambda b: parse_fortigate_config(b, device, wan))]
    if host.firewall_type in ("pfsense", "opnsense"):
        return [
            Step(
                "firewall.ruleset",
                FIREWALL_CONFIG[host.firewall_type],
                lambda b: parse_pfsense_config(b, device, wan or ("wan",)),
            )
        ]
    legacy = Step("firewall.ruleset", IPTABLES, lambda b: parse_iptables_rules(b, device, "ipv4", wan))
    return [Step("firewall.ruleset", NFT, lambda b: parse_nft_rules(b, device, wan), fallback=legacy)]


def linux_steps(host: Host) -> list[Step]:
    steps = [
        Step("host_firewall.nftables", NFT, parse_nft_json),
        Step("host_firewall.iptables", IPTABLES, lambda b: parse_iptables_save(b, "ipv4")),
        Step("host_firewall.ip6tables", IP6TABLES, lambda b: parse_iptables_save(b, "ipv6")),
        Step("accounts.local", "getent passwd", linux.passwd),
        Step("accounts.admin_groups", "getent group", linux.admin_groups),
        Step("network.listening", "ss -Htulnp", linux.listening),
        Step("av.host_status", CLAMAV, linux.clamav_report),
    ]
    for path in host.data_paths:  # one item per location, so one unreadable path does not hide the others
        steps.append(
            Step(
                "retention.files",
                RETENTION.format(path=shlex.quote(path), days=host.retention_days),
                lambda b, path=path: retention_files(b, path, host.retention_days),
            )
        )
    return steps


def retention_files(stdout: bytes, path: str, limit_days: int) -> dict[str, Any]:
    return {"limit_days": limit_days, "locations": [linux.file_ages(stdout, path, limit_days, utcnow())]}


BACKUP_PARSERS: dict[str, Callable[..., dict[str, Any]]] = {
    "borg": parse_borg_list,
    "restic": parse_restic_snapshots,
    "log": parse_backup_log,
}


def backup_steps(host: Host) -> list[Step]:
    steps = []
    commands = SUDO_BACKUP_COMMANDS if host.become == "sudo" else BACKUP_COMMANDS
    for source in host.backups:
        parse = BACKUP_PARSERS[source.tool]
        server, job = source.server or host.name, source.job or source.tool
        step = Step(
            "backup.runs",
            commands[source.tool].format(repository=shlex.quote(source.repository)),
            lambda data, parse=parse, server=server, job=job: parse(data, server=server, job=job),
            sudo=host.become == "sudo",
        )
        if source.passphrase is not None:
            try:
                secret = source.passphrase.resolve(source.key, f"the {source.tool} repository {source.repository}")
                step = replace(step, stdin=secret.reveal().encode() + b"\n")
            except CredentialError as exc:  # this repository stays unread; the host's other evidence does not wait on it
                step = replace(step, refused=f"passphrase not available: {exc}")
        steps.append(step)
    return steps


def steps_for(host: Host) -> list[Step]:
    if host.firewall_type != "linux":
        steps = perimeter_steps(host)  # an appliance: its configuration is all there is to read
    else:
        steps = linux_steps(host) + (perimeter_steps(host) if Role.FIREWALL in host.roles else [])
        steps += backup_steps(host)
    return [with_become(host, step) for step in steps]


def sudo_refusal(step: Step, result: CommandResult) -> str | None:
    """Why sudo (not the command) said no, or None: sudo missing, no sudoers line, a password or tty demanded."""
    if not step.sudo:
        return None
    stderr = result.stderr.decode("utf-8", errors="replace")
    if result.exit_code == NOT_FOUND and SUDO_MISSING.search(stderr):  # the shell's word, not sudo's
        return "sudo is not installed on the host (auditpack_become: sudo needs it)"
    lines = [line.strip() for line in stderr.splitlines() if "sudo" in line.lower()]
    for line in lines:
        if any(phrase in line for phrase in SUDO_REFUSALS):
            return f"sudo refused the command ({line[:200]}): the account lacks its sudoers line (docs/service-accounts.md)"
    return None


def sudo_not_found(step: Step, result: CommandResult) -> bool:
    """sudo ran but found no such program: like the shell's exit code 127, the tool is not installed."""
    stderr = result.stderr.decode("utf-8", errors="replace")
    return (
        step.sudo
        and result.exit_code == 1
        and any(line.startswith("sudo: ") and line.endswith("command not found") for line in stderr.splitlines())
    )


def _failed(step: Step, started: Any, exc: SshError) -> Observation:
    status = ItemStatus.UNREACHABLE if exc.unreachable else ItemStatus.TIMEOUT if exc.timed_out else ItemStatus.ERROR
    return Observation(step.kind, step.command, b"", started, utcnow(), status=status, errors=[f"ssh: {exc}"])


def observe(step: Step, result: CommandResult, started: datetime, ended: datetime) -> Observation:
    """What one command's result is evidence of: raw output always kept, parsed when it can be."""
    obs = Observation(step.kind, step.command, result.stdout, started, ended)
    notes = ["the connection dropped; the command ran again on a new connection"] if result.retried else []
    if result.truncated:
        obs.status, obs.errors = ItemStatus.ERROR, [f"output exceeded {MAX_OUTPUT} bytes; only the first part is kept"]
    elif (refusal := sudo_refusal(step, result)) is not None:
        obs.status, obs.errors = ItemStatus.ERROR, [refusal]
    elif result.exit_code == NOT_FOUND or sudo_not_found(step, result):
        obs.status, obs.errors = ItemStatus.ABSENT, [f"not installed: {result.stderr.decode('utf-8', 'replace').strip()[:200]}"]
    elif result.exit_code != 0:
        message = result.stderr.decode("utf-8", errors="replace").strip()[:500]
        obs.status, obs.errors = ItemStatus.ERROR, [f"exit code {result.exit_code}: {message}"]
    else:
        try:
            obs.normalized = step.parse(result.stdout)
        except (ValueError, KeyError, TypeError) as exc:
            obs.status, obs.errors = ItemStatus.GARBLED, [f"output could not be read: {exc}"]
    obs.errors = notes + obs.errors
    return obs


class SshCollector:
    name = "ssh"
    transport = "ssh"
    allowed_commands = (
        *LINUX_COMMANDS,
        RETENTION,
        *BACKUP_COMMANDS.values(),
        *FIREWALL_CONFIG.values(),
        LOGON_CHECK,
        *(SUDO + command for command in ROOT_COMMANDS),  # auditpack_become: sudo
        *SUDO_BACKUP_COMMANDS.values(),
        *(SUDO_LIST + command for command in (*ROOT_COMMANDS, *SUDO_BACKUP_RUNS.values())),  # doctor
    )
    # filled in with shlex.quote (one shell word) and a whole number of days
    command_placeholders = {"{path}": SHELL_WORD, "{repository}": SHELL_WORD, "{days}": NUMBER}

    def applies_to(self, host: Host) -> bool:
        return host.connection == "ssh"

    def collect(self, host: Host, ctx: CollectContext) -> Iterator[Observation]:
        started = utcnow()
        label = f"SSH to {host.user or 'root'}@{host.address}:{host.effective_port or 22}"
        try:
            steps = steps_for(host)
            session = SshSession(target_of(host), guard=ctx.guard_for(self))
        except (CredentialError, SshError) as exc:
            status = ItemStatus.UNREACHABLE if getattr(exc, "unreachable", False) else ItemStatus.ERROR
            yield Observation("ssh.connection", label, b"", started, utcnow(), status=status, errors=[f"ssh: {exc}"])
            return
        with session:
            facts = {"host_key": session.host_key, "trusted_on_first_use": session.trusted_on_first_use, "hops": session.hops}
            yield Observation(
                "ssh.connection",
                label,
                repr(facts).encode(),
                started,
                utcnow(),
                normalized=facts,
                errors=["host key trusted on first use (explicit switch)"] if session.trusted_on_first_use else [],
            )
            answers: dict[tuple[str, bytes], Answer] = {}
            for step in steps:
                obs = self._run(session, step, min(host.command_timeout, ctx.deadline - time.monotonic()), answers)
                yield obs
                if obs.status == ItemStatus.UNREACHABLE:
                    return  # the connection is gone (retried once already): the rest cannot succeed

    def _run(self, session: SshSession, step: Step, timeout: float, answers: dict[tuple[str, bytes], Answer]) -> Observation:
        """Run a step's command, or reuse its answer when an earlier step of this host already ran it
        (a Linux firewall's ruleset is evidence of two kinds; a fallback may be another step's command)."""
        started = utcnow()
        if step.refused:
            return Observation(step.kind, step.command, b"", started, utcnow(), status=ItemStatus.ERROR, errors=[step.refused])
        answer = answers.get((step.command, step.stdin))
        if answer is None:
            timeout = max(1.0, timeout)  # a host out of time still gets its answer a last second
            try:
                result = session.run(step.command, timeout=timeout, max_output=MAX_OUTPUT, stdin=step.stdin)
            except SshError as exc:
                return _failed(step, started, exc)
            answer = answers[(step.command, step.stdin)] = Answer(result, started, utcnow())
        missing = answer.result.exit_code == NOT_FOUND or sudo_not_found(step, answer.result)
        if missing and sudo_refusal(step, answer.result) is None and step.fallback is not None:
            return self._run(session, step.fallback, timeout, answers)
        return observe(step, answer.result, answer.started, answer.ended)
