"""A real Samba Active Directory domain controller on a loopback address, provisioned in a temp dir.

Follows ../shared/notes/samba-ad-dc.md: LDAP and KDC only, bound to one
127.x address, no DNS, nothing written outside the directory; stopped by PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ldap3

REALM, DOMAIN = "KCDEMO.TEST", "KCDEMO"
BASE_DN = "DC=kcdemo,DC=test"
ADMIN_PASSWORD = "Adm1n!Passw0rd-Test"  # a throwaway lab domain's password, used only by the tests
USER_PASSWORD = "Us3r!Passw0rd-Test"


def samba_unavailable() -> str | None:
    for tool in ("samba", "samba-tool", "ldbadd"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/test.sh installs samba-ad-dc)"
    if os.geteuid() != 0:
        return "the Samba AD DC test peer needs root (privileged LDAP ports)"
    return None


@dataclass
class SambaDC:
    address: str
    directory: Path
    process: subprocess.Popen | None = None

    @property
    def conf(self) -> str:
        return str(self.directory / "etc" / "smb.conf")

    def tool(self, *args: str, faketime: str | None = None) -> str:
        """samba-tool against the local database (no network), optionally with a faked clock for back-dating."""
        cmd = ["samba-tool", *args, "-s", self.conf]
        if faketime:
            cmd = ["faketime", faketime, *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"samba-tool {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def ldbadd(self, ldif: str) -> None:
        done = subprocess.run(
            ["ldbadd", "--nosync", "-H", str(self.directory / "private" / "sam.ldb")],
            input=ldif,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"ldbadd failed: {done.stderr.strip()}")

    def admin(self) -> ldap3.Connection:
        """An administrator's connection for seeding test data (the collector itself never writes)."""
        tls = ldap3.Tls(validate=0)
        server = ldap3.Server(self.address, port=636, use_ssl=True, tls=tls, get_info=ldap3.NONE)
        return ldap3.Connection(server, f"Administrator@{REALM.lower()}", ADMIN_PASSWORD, auto_bind=True)

    def start(self, maximum_runtime: int = 3600) -> None:
        """Start samba; it ends by itself after maximum_runtime seconds, so a forgotten peer does not linger."""
        self.process = subprocess.Popen(
            ["samba", "-i", "-M", "single", f"--maximum-runtime={maximum_runtime}", "-s", self.conf],
            stdout=open(self.directory / "log" / "samba.out", "wb"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"samba exited: {(self.directory / 'log' / 'samba.out').read_text()[-2000:]}")
            try:
                server = ldap3.Server(self.address, port=389, get_info=ldap3.NONE, connect_timeout=0.5)
                conn = ldap3.Connection(server, auto_bind=True)
                conn.search("", "(objectClass=*)", search_scope=ldap3.BASE, attributes=["defaultNamingContext"])
                conn.unbind()
                if conn.result["result"] == 0:
                    return
            except ldap3.core.exceptions.LDAPException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("samba did not answer LDAP within 30 s")
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def provision(directory: Path, address: str, host_name: str = "dc1") -> SambaDC:
    directory.mkdir(parents=True, exist_ok=True)
    for sub in ("run", "log"):
        (directory / sub).mkdir(exist_ok=True)
    d = str(directory)
    options = {
        "interfaces": f"{address}/8",
        "bind interfaces only": "yes",
        "disable netbios": "yes",
        "server services": "ldap, kdc",
        "dns update command": "/bin/true",
        "spn update command": "/bin/true",
        "pid directory": f"{d}/run",
        "ncalrpc dir": f"{d}/run/ncalrpc",
        "winbindd socket directory": f"{d}/run/winbindd",
        "ntp signd socket directory": f"{d}/run/ntp_signd",
        "log file": f"{d}/log/log.%m",
    }
    cmd = [
        "samba-tool",
        "domain",
        "provision",
        f"--targetdir={d}",
        f"--realm={REALM}",
        f"--domain={DOMAIN}",
        "--server-role=dc",
        "--dns-backend=NONE",
        f"--adminpass={ADMIN_PASSWORD}",
        f"--host-name={host_name}",
        *(f"--option={k}={v}" for k, v in options.items()),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"provision failed: {done.stdout[-1500:]} {done.stderr[-1500:]}")
    conf = directory / "etc" / "smb.conf"
    # provision drops this option (see the notes), and nosync makes seeding fast
    text = conf.read_text().replace("[global]\n", "[global]\n\tldap server require strong auth = no\n\tldb:nosync = true\n", 1)
    conf.write_text(text)
    return SambaDC(address, directory)


@contextmanager
def running_dc(directory: Path, address: str) -> Iterator[SambaDC]:
    dc = provision(directory, address)
    try:
        dc.start()
        yield dc
    finally:
        dc.stop()
        shutil.rmtree(directory, ignore_errors=True)
