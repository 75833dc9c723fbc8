"""Benchmark: the SSH collector on 200 inventory hosts with 1, 8 and 32 workers.

Thirteen real sshd processes serve 16 loopback addresses each (127.0.1.1-127.0.1.200;
sshd listens on at most 16 sockets). Root logs in with /bin/sh inside the sshd's mount namespace: this
machine's /root/.bashrc runs `pyenv init`, which bash reads even for `ssh host command` and which costs
~150 ms per command, a cost of the test machine, not of a server or of auditpack;
every inventory host gets the Linux evidence (host firewall, accounts, admin
groups, listening sockets, ClamAV) plus the reachability probe, all written to a
fresh evidence store. Each worker count runs in its own child process so its peak
RSS is its own.

Run (as root, with openssh-server installed):  .venv/bin/python bench/bench_ssh.py [--hosts 200] [--workers 1 8 32]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from auditpack_lab.peers.sockets import refused_port  # noqa: E402
from auditpack_lab.peers.sshd import make_client_key, running_sshd  # noqa: E402

ADDRESSES_PER_SSHD = 16  # sshd's MAX_LISTEN_SOCKS
# up to 32 logins at once: lift sshd's limit on unauthenticated connections (default 10:30:100)
CONFIG = "MaxStartups 200\nMaxSessions 64\nLogLevel ERROR\n"


def address(n: int) -> str:
    return f"127.0.1.{n + 1}"


def inventory(hosts: list[tuple[str, int]], key: Path, known_hosts: Path) -> str:
    lines = ["all:", "  hosts:"]
    for number, (ip, port) in enumerate(hosts):
        fields = {
            "ansible_host": ip,
            "ansible_port": port,
            "ansible_user": "root",
            "ansible_connection": "ssh",
            "ansible_ssh_private_key_file": str(key),
            "auditpack_ssh_known_hosts": str(known_hosts),
            "auditpack_roles": ["server"],
        }
        lines.append(f"    srv{number:03d}: {json.dumps(fields)}")
    return "\n".join(lines) + "\n"


def child(inventory_path: str, store_path: str, workers: int) -> None:
    from auditpack.inventory import load_inventory
    from auditpack.runner import run_collection
    from auditpack.store import EvidenceStore

    inv = load_inventory(Path(inventory_path))
    store = EvidenceStore(Path(store_path))
    began = time.perf_counter()
    result = run_collection(store, inv, inv.hosts, "bench", workers=workers)
    took = time.perf_counter() - began
    statuses: dict[str, int] = {}
    for outcome in result.outcomes:
        statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
    items = len(store.items())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "workers": workers,
                "seconds": took,
                "hosts": len(result.outcomes),
                "statuses": statuses,
                "items": items,
                "peak_rss_mb": usage.ru_maxrss / 1024,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--child", nargs=3, metavar=("INVENTORY", "STORE", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    with tempfile.TemporaryDirectory(prefix="bench-ssh-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        key, public = make_client_key(work / "id_ed25519")
        per_server = ADDRESSES_PER_SSHD
        servers = -(-args.hosts // per_server)
        hosts: list[tuple[str, int]] = []
        known = []
        for server in range(servers):
            addresses = [address(n) for n in range(server * per_server, min(args.hosts, (server + 1) * per_server))]
            port = refused_port(addresses[0])
            extra = "".join(f"ListenAddress {ip}:{port}\n" for ip in addresses[1:])
            peer = stack.enter_context(
                running_sshd(
                    work / f"sshd{server}",
                    addresses[0],
                    port=port,
                    authorized_keys={"root": [public]},
                    extra_config=CONFIG + extra,
                    root_shell="/bin/sh",
                )
            )
            hosts += [(ip, port) for ip in addresses]
            known += [peer.known_hosts_line(ip) for ip in addresses]
        (work / "known_hosts").write_text("".join(known))
        (work / "inventory.yaml").write_text(inventory(hosts, key, work / "known_hosts"))
        print(f"{args.hosts} hosts on {servers} sshd processes; Python {sys.version.split()[0]}", flush=True)
        baseline = None
        for workers in args.workers:
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(work / "inventory.yaml"), str(work / f"store-{workers}"), str(workers)],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise SystemExit(f"child with {workers} workers failed:\n{done.stderr[-3000:]}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            baseline = baseline or result["seconds"]
            print(
                f"workers {workers:>2}: {result['seconds']:7.1f} s  speed-up {baseline / result['seconds']:4.1f}x  "
                f"peak RSS {result['peak_rss_mb']:6.1f} MB  auditpack CPU {result['cpu_seconds']:6.1f} s  items {result['items']}  hosts {result['statuses']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
