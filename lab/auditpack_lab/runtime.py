"""Build and run the whole lab in this process: every peer of Klantcontact Demo BV, stopped together.

`running_lab` is a context manager: the builders run in parallel (the directory,
the backup repositories, the registers), then the peers start on their loopback
addresses and the inventory is written. Leaving the context stops every peer.
`serve.py` runs it in a process of its own so the lab outlives `auditpack lab up`.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from . import layout
from .company import CERTIFICATE_DAYS, COMPANY_NAME, DEFAULT_SEED, DOMAIN, Company, build_company
from .inventory import LabHosts, sudoers_of, windows_addresses, write_inventory
from .year import COLLECTION_FREQUENCY, MINIMUM_COVERAGE

STATE_FILE = "lab.json"
CONFIG_FILE = "auditpack.toml"  # the lab's settings for auditpack: its inventory, store, profile and TSA
CONFIG_MARK = "# Written by `auditpack lab up`"  # a ./auditpack.toml that starts so is the lab's to replace
LAB_MARK = ".auditpack-lab"  # only a directory holding this is ever emptied by the lab
Progress = Callable[[str], None]


@dataclass
class LabState:
    """What `lab status`, `demo` and the tests need to know about a running lab (no secrets)."""

    pid: int
    seed: int
    built: str
    first_day: str
    today: str
    inventory: str
    profile: str
    exceptions: str
    egress_register: str
    registers: dict[str, str]
    endpoints: dict[str, list[str]]  # host -> ["127.0.2.10:636", ...] that must answer
    firewall_netns: str = ""  # fw01's network namespace (/proc/PID/ns/net): where the demo exports its ruleset by hand
    tsa_url: str = ""  # the company's Time-Stamp Authority: AUDITPACK_TSA_URL for its collections
    tsa_ca: str = ""  # and its CA certificate: AUDITPACK_TSA_CA

    def tsa_environment(self) -> dict[str, str]:
        """The variables that make auditpack timestamp every run and pack with the lab's TSA."""
        return {"AUDITPACK_TSA_URL": self.tsa_url, "AUDITPACK_TSA_CA": self.tsa_ca} if self.tsa_url else {}

    def write(self, directory: Path) -> Path:
        path = directory / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)
        return path

    @classmethod
    def read(cls, directory: Path) -> LabState | None:
        try:
            found = json.loads((directory / STATE_FILE).read_text())
        except FileNotFoundError:
            return None
        # a lab started by another version of auditpack: what this one knows, so `lab down` can still stop it
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in found.items() if key in known})


def lab_config_text(state: LabState) -> str:
    """The auditpack configuration that points every command at the lab (absolute paths: it is written twice)."""
    lab_dir = Path(state.inventory).parent
    quoted = json.dumps  # a JSON string is a TOML basic string
    lines = [
        f"{CONFIG_MARK} for the lab in {lab_dir}; `auditpack lab down` says what to do with it.",
        f"# The lab's passwords stay in the environment: export {layout.PASSWORD_ENV} and {layout.BORG_ENV}.",
        f"inventory = {quoted(state.inventory)}",
        "# The lab's evidence store, emptied with the lab's directory by the next `auditpack lab up`",
        f"store = {quoted(str(lab_dir / 'evidence'))}",
        f"profile = {quoted(state.profile)}",
        f"exceptions = {quoted(state.exceptions)}",
    ]
    if state.tsa_url:
        lines += ["", "[tsa]", f"url = {quoted(state.tsa_url)}", f"ca = {quoted(state.tsa_ca)}"]
    return "\n".join(lines) + "\n"


def lab_unavailable() -> str | None:
    """Why the lab cannot run on this machine, or None."""
    from .peers.netns import netns_unavailable
    from .peers.samba_dc import samba_unavailable
    from .peers.sshd import accounts_unavailable

    for check in (samba_unavailable, accounts_unavailable, netns_unavailable):
        if (reason := check()) is not None:
            return reason
    for tool in ("borg", "faketime", "nsenter", "sudo"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/demo.sh installs what the lab needs)"
    return None


def fresh_directory(directory: Path, mark: str) -> None:
    """Empty `directory` for a new start, but only when an earlier start marked it: never a directory someone chose
    by mistake (their home, an evidence store)."""
    if directory.exists() and any(directory.iterdir()):
        if not (directory / mark).exists():
            raise RuntimeError(
                f"{directory} is not empty and was not made by auditpack ({mark} is missing): choose another directory"
            )
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / mark).write_text("made by auditpack; emptied on its next start\n")


def profile_text(company: Company) -> str:
    director = next(p.name for p in company.current_staff if p.department == "Directie")
    return (
        f"name: Klantcontact Demo BV - Voorbeeld Verzekeringen NV\n"
        f"processor: {COMPANY_NAME}\n"
        f"customer: Voorbeeld Verzekeringen NV\n"
        f"agreement: Verwerkersovereenkomst VV-2024-07, bijlage 2 (beveiligingsmaatregelen)\n"
        f"# the company collects on the first Tuesday of every month (lab/auditpack_lab/year.py)\n"
        f"collection_frequency: {COLLECTION_FREQUENCY}\n"
        f"minimum_coverage: {MINIMUM_COVERAGE}\n"
        f"signatory: {{name: {director}, role: directeur, place: Utrecht}}  # signs the management statement\n"
    )


@contextmanager
def running_lab(directory: Path, seed: int = DEFAULT_SEED, progress: Progress = lambda step: None) -> Iterator[LabState]:
    from .backup_server import backup_sshd_config, build_backup_server
    from .clock import LabClock, watch_clock
    from .directory import build_directory
    from .firewall import egress_register_yaml, firewall_namespace, inventory_vars, ruleset_follower
    from .peers.epo import running_epo
    from .peers.sshd import make_client_key, running_sshd, write_known_hosts
    from .peers.tsa import running_tsa
    from .peers.winrm import running_winrm
    from .registers import write_exceptions, write_registers
    from .windows_hosts import FS01_DATA_PATHS, epo_rows, handler_for

    directory = directory.resolve()  # sshd re-executes itself and reads its files again: no relative paths
    fresh_directory(directory, LAB_MARK)
    company = build_company(seed)
    progress(
        f"{COMPANY_NAME}: {len(company.current_staff)} staff, {len(company.leavers)} leavers, "
        f"{len(company.workstations)} workstations (seed {seed})"
    )
    with ExitStack() as stack:
        with ThreadPoolExecutor(3) as pool:
            progress("building the domain controller, the backup repositories and the registers")
            directory_job = pool.submit(build_directory, company, directory / "dc01", layout.DOMAIN_CONTROLLER)
            backups_job = pool.submit(build_backup_server, company, directory / "backup01")
            registers = write_registers(company, directory / "registers")
            exceptions = write_exceptions(company, directory / "exceptions.yaml")
            egress = directory / "egress-register.yaml"
            egress.write_text(egress_register_yaml(company))
            backup_server = backups_job.result()
            progress(
                "backup server: "
                + " and ".join(f"{count} nightly archives of {server}" for server, count in backup_server.archives.items())
                + " in borg"
            )
            ad = directory_job.result()
        progress("starting Samba AD DC (LDAP, LDAPS, Kerberos)")
        ad.dc.start(maximum_runtime=7 * 24 * 3600)  # a lab left up stops by itself after a week
        stack.callback(ad.dc.stop)
        progress("starting the perimeter firewall (nftables in a network namespace) and the backup server (OpenSSH)")
        namespace = stack.enter_context(firewall_namespace(company, directory / "fw01"))
        clock = LabClock(directory, company.built)  # the moment the peers answer as of (the demo moves it)
        stop_clock = threading.Event()
        watcher = threading.Thread(
            target=watch_clock, args=(directory, clock, ruleset_follower(company, namespace), stop_clock), daemon=True
        )
        watcher.start()
        stack.callback(watcher.join)
        stack.callback(stop_clock.set)
        key_file, public_key = make_client_key(directory / "auditpack-ssh-key")
        # the audit account logs on, without root; sudo gives it exactly the documented commands
        account = {"users": {layout.AUDIT_ACCOUNT: ""}, "authorized_keys": {layout.AUDIT_ACCOUNT: [public_key]}}
        fw01 = stack.enter_context(
            running_sshd(
                directory / "fw01-sshd",
                layout.FIREWALL,
                netns=namespace.netns,  # every session (and what it runs through sudo) inside the firewall
                sudoers=sudoers_of("fw01", **inventory_vars()),
                **account,
            )
        )
        backup01 = stack.enter_context(
            running_sshd(
                directory / "backup01-sshd",
                layout.BACKUP_SERVER,
                root_home=str(backup_server.borg_home),  # sudo sets HOME: borg finds its keys and cache there
                sudoers=sudoers_of("backup01", auditpack_backups=backup_server.inventory_backups()),
                extra_config=backup_sshd_config(),
                **account,
            )
        )
        known_hosts = write_known_hosts(directory / "known_hosts", fw01, backup01)
        progress(f"starting {len(company.workstations) + 3} Windows hosts (WinRM with NTLM) and the anti-virus console")
        users_name = f"{DOMAIN}\\{layout.AUDIT_ACCOUNT}"  # the console, too, knows the audit account from AD
        users = {users_name: layout.AUDIT_PASSWORD}
        windows = windows_addresses(company)
        for name, address in windows.items():
            stack.enter_context(
                running_winrm(
                    directory / "winrm" / name,
                    address,
                    users,
                    handler_for(company, name, clock.now),
                    port=layout.WINRM_PORT,
                    poll_interval=0.5,
                    switched_on=lambda host=name: not company.year.host_down(host, clock.now().date()),
                )
            )
        epo = stack.enter_context(
            running_epo(
                directory / "epo01",
                layout.AV_CONSOLE,
                users_name,
                layout.AUDIT_PASSWORD,
                lambda: epo_rows(company, clock.now()),
                port=layout.EPO_PORT,
                certificate_from=company.certificates_valid_from,
                certificate_days=CERTIFICATE_DAYS,
            )
        )
        progress("starting the Time-Stamp Authority (openssl ts -reply, answering as of the lab's clock)")
        tsa = stack.enter_context(
            running_tsa(
                directory / "tsa",
                layout.TSA,
                port=layout.TSA_PORT,
                now=clock.ticking,
                valid_from=company.certificates_valid_from,
                valid_days=CERTIFICATE_DAYS,
            )
        )
        hosts = LabHosts(
            ldap_ca_file=ad.ca_file,
            ldap_server_name=ad.server_name,
            ldap_bind_user=ad.bind_user,
            data_access_groups=ad.data_access_groups,
            ssh_key_file=key_file,
            known_hosts=known_hosts,
            ssh_ports={"fw01": fw01.port, "backup01": backup01.port},
            firewall_vars=inventory_vars(),
            backups=backup_server.inventory_backups(),
            fs01_data_paths=list(FS01_DATA_PATHS),
            epo_url=epo.url,
            epo_ca_file=epo.pki.ca_file,
        )
        inventory = write_inventory(company, hosts, directory / "inventory.yaml")
        profile = directory / "profile.yaml"
        profile.write_text(profile_text(company))
        endpoints = {
            "dc01": [f"{layout.DOMAIN_CONTROLLER}:636", f"{layout.DOMAIN_CONTROLLER}:{layout.WINRM_PORT}"],
            "fw01": [f"{layout.FIREWALL}:{fw01.port}"],
            "backup01": [f"{layout.BACKUP_SERVER}:{backup01.port}"],
            "epo01": [f"{layout.AV_CONSOLE}:{layout.EPO_PORT}"],
            "tsa": [f"{layout.TSA}:{layout.TSA_PORT}"],
        }
        endpoints |= {name: [f"{address}:{layout.WINRM_PORT}"] for name, address in windows.items() if name != "dc01"}
        state = LabState(
            pid=os.getpid(),
            seed=seed,
            built=company.built.isoformat(),
            first_day=company.first_day.isoformat(),
            today=company.today.isoformat(),
            inventory=str(inventory),
            profile=str(profile),
            exceptions=str(exceptions),
            egress_register=str(egress),
            registers={name: str(path) for name, path in registers.items()},
            endpoints=endpoints,
            firewall_netns=namespace.netns,
            tsa_url=tsa.url,
            tsa_ca=str(tsa.pki.ca_file),
        )
        state.write(directory)
        try:
            yield state
        finally:
            (directory / STATE_FILE).unlink(missing_ok=True)
