"""A real OpenSSH server on a loopback address, with its own host key and config."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .sockets import refused_port

SSHD = "/usr/sbin/sshd"


def sshd_unavailable() -> str | None:
    if not Path(SSHD).exists():
        return "openssh-server is not installed (scripts/test.sh installs it)"
    if os.geteuid() != 0:
        return "sshd with privilege separation needs root"
    return None


@dataclass
class SshdPeer:
    address: str
    port: int
    host_key_pub: str
    process: subprocess.Popen


@contextmanager
def running_sshd(workdir: Path, address: str = "127.0.0.1") -> Iterator[SshdPeer]:
    workdir.mkdir(parents=True, exist_ok=True)
    key = workdir / "ssh_host_ed25519_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege-separation directory sshd insists on
    port = refused_port(address)
    config = workdir / "sshd_config"
    config.write_text(
        f"ListenAddress {address}:{port}\nHostKey {key}\nPidFile {workdir}/sshd.pid\n"
        "UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        f"AuthorizedKeysFile {workdir}/authorized_keys\nStrictModes no\n"
    )
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        import socket

        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {proc.stderr.read().decode(errors='replace')}")
            try:
                socket.create_connection((address, port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("sshd did not start listening within 10 s") from None
                time.sleep(0.05)
        yield SshdPeer(address, port, (workdir / "ssh_host_ed25519_key.pub").read_text(), proc)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)
