"""A real OpenSSH server on a loopback address, with its own host key and config.

Logins: sshd runs as root and root logs in with the public keys given per test
(AuthorizedKeysFile in the workdir, one file per user). Accounts other than root,
and passwords (root's included), never touch the system: sshd then runs in a private
mount namespace (unshare -m) in which copies of /etc/passwd, /etc/group and
/etc/shadow holding the test accounts are bind-mounted over the real ones. Only
that sshd and the sessions it starts see them; the namespace dies with it. A
sudoers file for the test accounts is bind-mounted over /etc/sudoers the same way.

With `netns`, every connection is served by its own `sshd -i` inside that network
namespace (inetd.py accepts on the loopback address outside it): the sessions, and
what they run through sudo, see the namespace's rules and sockets, not the host's.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .sockets import refused_port

SSHD = "/usr/sbin/sshd"
FIRST_TEST_UID = 41000


def sshd_unavailable() -> str | None:
    if not Path(SSHD).exists():
        return "openssh-server is not installed (scripts/test.sh installs it)"
    if os.geteuid() != 0:
        return "sshd with privilege separation needs root"
    return None


def accounts_unavailable() -> str | None:
    """Why test accounts and passwords (a private mount namespace) cannot be had here, or None."""
    if (reason := sshd_unavailable()) is not None:
        return reason
    if shutil.which("unshare") is None or shutil.which("openssl") is None:
        return "unshare (util-linux) and openssl are needed for test accounts"
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        return f"cannot create a mount namespace: {probe.stderr.decode(errors='replace').strip()}"
    return None


@dataclass
class SshdPeer:
    address: str
    port: int
    host_key_pub: str
    process: subprocess.Popen
    workdir: Path | None = None
    log: Path | None = field(default=None, repr=False)

    @property
    def known_hosts_name(self) -> str:
        return self.address if self.port == 22 else f"[{self.address}]:{self.port}"

    @property
    def host_key_type(self) -> str:
        return self.host_key_pub.split()[0]

    @property
    def fingerprint(self) -> str:
        """'SHA256:…' of the host key, computed like `ssh-keygen -lf`."""
        blob = base64.b64decode(self.host_key_pub.split()[1])
        return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")

    def known_hosts_line(self, name: str | None = None) -> str:
        """The known_hosts line for this peer; `name` when it is reached by another name than its address."""
        kind, blob = self.host_key_pub.split()[:2]
        if name is not None and self.port != 22:
            name = f"[{name}]:{self.port}"
        return f"{name or self.known_hosts_name} {kind} {blob}\n"

    def add_to_known_hosts(self, path: Path) -> Path:
        """Append this peer's host key to a known_hosts file (created if missing)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as f:
            f.write(self.known_hosts_line())
        return path

    def session_pids(self) -> list[int]:
        """The processes serving connections: every descendant of the listening sshd."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
        found, todo = [], [self.process.pid]
        while todo:
            for child in children.get(todo.pop(), []):
                found.append(child)
                todo.append(child)
        return found

    def kill_sessions(self) -> int:
        """SIGKILL every connection's processes (the TCP connections drop); the listener stays. Returns how many."""
        pids = self.session_pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(pids)

    def stop(self) -> None:
        """Stop the listener and every session it serves."""
        pids = self.session_pids()
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def write_known_hosts(path: Path, *peers: SshdPeer) -> Path:
    """A known_hosts file holding exactly the given peers' host keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(peer.known_hosts_line() for peer in peers))
    return path


def make_client_key(path: Path, kind: str = "ed25519") -> tuple[Path, str]:
    """A passphrase-less client key pair; returns (private key path, public key line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    args = ["-b", "2048"] if kind == "rsa" else []
    subprocess.run(["ssh-keygen", "-q", "-t", kind, *args, "-N", "", "-C", "auditpack-test", "-f", str(path)], check=True)
    return path, Path(f"{path}.pub").read_text().strip()


def _hash_password(password: str) -> str:
    return subprocess.run(
        ["openssl", "passwd", "-6", "-stdin"], input=password, capture_output=True, text=True, check=True
    ).stdout.strip()


def _root_entry(line: str, shell: str | None, home: str | None) -> str:
    fields = line.split(":")
    fields[5], fields[6] = home or fields[5], shell or fields[6]
    return ":".join(fields)


def _account_files(etc: Path, users: dict[str, str], root_shell: str | None = None, root_home: str | None = None) -> None:
    """Copies of passwd/group/shadow with the test accounts; root keeps its entry but gets the given password."""
    passwd = Path("/etc/passwd").read_text().splitlines()
    passwd = [_root_entry(line, root_shell, root_home) if line.startswith("root:") else line for line in passwd]
    group = Path("/etc/group").read_text().splitlines()
    shadow = Path("/etc/shadow").read_text().splitlines()
    existing = {line.split(":")[0] for line in passwd}
    for offset, (name, password) in enumerate(sorted(users.items())):
        hashed = _hash_password(password) if password else "*"
        if name in existing:
            if name != "root":
                raise ValueError(f"{name} is a real account here; test accounts must be new (or root)")
            shadow = [f"root:{hashed}:" + line.split(":", 2)[2] if line.startswith("root:") else line for line in shadow]
            continue
        uid = FIRST_TEST_UID + offset
        passwd.append(f"{name}:x:{uid}:{uid}:auditpack test account:/:/bin/sh")
        group.append(f"{name}:x:{uid}:")
        shadow.append(f"{name}:{hashed}:19000:0:99999:7:::")
    etc.mkdir(parents=True, exist_ok=True)
    for file_name, lines in (("passwd", passwd), ("group", group), ("shadow", shadow)):
        path = etc / file_name
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600 if file_name == "shadow" else 0o644)


@contextmanager
def running_sshd(
    workdir: Path,
    address: str = "127.0.0.1",
    *,
    port: int | None = None,
    users: dict[str, str] | None = None,
    authorized_keys: dict[str, list[str]] | None = None,
    password_auth: bool = False,
    host_key_type: str = "ed25519",
    allow_tcp_forwarding: bool = True,
    hosts: dict[str, str] | None = None,
    extra_config: str = "",
    root_shell: str | None = None,
    root_home: str | None = None,
    sudoers: str | None = None,
    netns: str | None = None,
) -> Iterator[SshdPeer]:
    """sshd on address:port (a free port unless given) with a fresh host key.

    users: test accounts {name: password} ("" for none); "root" sets root's password only in the namespace.
    authorized_keys: {user: [public key lines]}; root needs no entry in `users` for that.
    hosts: {name: address} lines that this sshd (and so a tunnel through it) resolves; needs the namespace too.
    root_shell: root's login shell for this sshd's sessions only (/bin/sh skips the machine's ~/.bashrc, which
    bash reads even for `ssh host command`); needs the namespace too.
    root_home: root's home for this sshd's sessions only (what `sudo` sets HOME to); needs the namespace too.
    sudoers: the whole /etc/sudoers this sshd's sessions see (root-owned, 0440); needs the namespace too.
    netns: a network namespace (/proc/PID/ns/net) every session runs in; the listener stays on ADDRESS outside it.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    key = workdir / f"ssh_host_{host_key_type}_key"
    args = ["-b", "2048"] if host_key_type == "rsa" else []
    subprocess.run(["ssh-keygen", "-q", "-t", host_key_type, *args, "-N", "", "-f", str(key)], check=True)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege-separation directory sshd insists on
    port = port or refused_port(address)
    keys_dir = workdir / "authorized_keys"
    keys_dir.mkdir(exist_ok=True)
    for user, lines in (authorized_keys or {}).items():
        (keys_dir / user).write_text("".join(line.strip() + "\n" for line in lines))
    config = workdir / "sshd_config"
    config.write_text(
        f"ListenAddress {address}:{port}\nHostKey {key}\nPidFile {workdir}/sshd.pid\n"
        f"UsePAM no\nPasswordAuthentication {'yes' if password_auth else 'no'}\nKbdInteractiveAuthentication no\n"
        f"PermitRootLogin {'yes' if password_auth else 'prohibit-password'}\n"
        f"AuthorizedKeysFile {keys_dir}/%u\nStrictModes no\n"
        f"AllowTcpForwarding {'yes' if allow_tcp_forwarding else 'no'}\n" + extra_config
    )
    log = workdir / "sshd.log"
    command = [SSHD, "-D", "-e", "-f", str(config)]
    if netns:
        inetd = [sys.executable, str(Path(__file__).with_name("inetd.py")), address, str(port), netns]
        command = [*inetd, SSHD, "-i", "-e", "-f", str(config)]
    if users or hosts or root_shell or root_home or sudoers:
        # sshd reads AuthorizedKeysFile as the user logging in, who cannot enter the root-only test directory:
        # a command run as root hands the keys over instead.
        with open(config, "a") as f:
            f.write(f"AuthorizedKeysCommand /bin/cat {keys_dir}/%u\nAuthorizedKeysCommandUser root\n")
        etc = workdir / "etc"
        _account_files(etc, users or {}, root_shell, root_home)
        mounts = [f"mount --bind {etc}/{name} /etc/{name}" for name in ("passwd", "group", "shadow")]
        if sudoers is not None:
            (etc / "sudoers").write_text(sudoers)
            (etc / "sudoers").chmod(0o440)  # sudo refuses a sudoers file others may write
            mounts.append(f"mount --bind {etc}/sudoers /etc/sudoers")
        if hosts:
            (etc / "hosts").write_text(Path("/etc/hosts").read_text() + "".join(f"{ip} {name}\n" for name, ip in hosts.items()))
            mounts.append(f"mount --bind {etc}/hosts /etc/hosts")
        script = " && ".join(mounts + ["exec " + shlex.join(command)])
        command = ["unshare", "--mount", "--propagation", "private", "sh", "-ec", script]
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log_file)
    peer = SshdPeer(address, port, Path(f"{key}.pub").read_text(), proc, workdir, log)
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {log.read_text(errors='replace')}")
            try:
                socket.create_connection((address, port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("sshd did not start listening within 10 s") from None
                time.sleep(0.05)
        yield peer
    finally:
        peer.stop()
        shutil.rmtree(workdir, ignore_errors=True)
