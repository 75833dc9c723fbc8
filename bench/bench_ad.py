"""Benchmark: the AD collector against a real Samba DC with many users, beside a bare ldap3 paged search.

Run (as root, with samba-ad-dc installed):  .venv/bin/python bench/bench_ad.py [--users 10000] [--page-size 500]
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import ldap3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from auditpack.collectors import ad  # noqa: E402
from auditpack.collectors.base import CollectContext  # noqa: E402
from auditpack.collectors.parsers.ad import USER_ATTRIBUTES  # noqa: E402
from auditpack.inventory import parse_inventory  # noqa: E402
from auditpack_lab.peers.samba_dc import ADMIN_PASSWORD, BASE_DN, running_dc  # noqa: E402

ADDRESS = "127.0.0.41"


def bare_search(page_size: int) -> tuple[float, int]:
    server = ldap3.Server(ADDRESS, port=636, use_ssl=True, tls=ldap3.Tls(validate=ssl.CERT_NONE), get_info=ldap3.NONE)
    conn = ldap3.Connection(server, "Administrator@kcdemo.test", ADMIN_PASSWORD, auto_bind=True)
    began, count = time.perf_counter(), 0
    for _ in conn.extend.standard.paged_search(
        BASE_DN, ad.USERS_FILTER, attributes=USER_ATTRIBUTES, paged_size=page_size, generator=True
    ):
        count += 1
    conn.unbind()
    return time.perf_counter() - began, count


def collector_users(page_size: int, trace_memory: bool) -> tuple[float, int, float]:
    os.environ["BENCH_DC_PW"] = ADMIN_PASSWORD
    host = parse_inventory(
        f"all:\n  hosts:\n    dc1:\n      ansible_host: {ADDRESS}\n      ansible_connection: ldap\n"
        f"      auditpack_roles: [domain_controller]\n      ansible_user: Administrator@kcdemo.test\n"
        f"      auditpack_password: env:BENCH_DC_PW\n      auditpack_tls_insecure: true\n"
        f"      auditpack_ldap_page_size: {page_size}\n".encode()
    ).hosts[0]
    if trace_memory:
        tracemalloc.start()
    began = time.perf_counter()
    for obs in ad.AdCollector().collect(host, CollectContext(time.monotonic() + 600, "bench")):
        if obs.kind == "ad.users":
            took = time.perf_counter() - began
            count = len(obs.normalized["users"])
            break
    if not trace_memory:
        return took, count, 0.0
    _, peak = tracemalloc.get_traced_memory()  # tracing slows Python down, so this pass is not timed
    tracemalloc.stop()
    return took, count, peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_dc(Path(tmp) / "dc", ADDRESS) as dc:
        began = time.perf_counter()
        dc.ldbadd(
            "".join(
                f"dn: CN=user{i:05d},CN=Users,{BASE_DN}\nobjectClass: user\nsAMAccountName: user{i:05d}\n"
                f"displayName: Medewerker {i}\nuserAccountControl: 512\n\n"
                for i in range(args.users)
            )
        )
        print(f"seeded {args.users} users with ldbadd in {time.perf_counter() - began:.1f} s")
        for round_ in (1, 2, 3):
            bare, n1 = bare_search(args.page_size)
            took, n2, _ = collector_users(args.page_size, trace_memory=False)
            print(
                f"round {round_}: bare ldap3 paged search {n1} entries {bare:.2f} s; "
                f"collector (connect, bind, rootDSE, users, records, raw spool) {n2} users {took:.2f} s"
            )
        _, n3, peak = collector_users(args.page_size, trace_memory=True)
        print(f"collector Python heap peak for {n3} users (tracemalloc, separate pass): {peak:.1f} MB")


if __name__ == "__main__":
    main()
