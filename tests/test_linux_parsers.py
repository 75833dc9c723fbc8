"""Pure parsers of the SSH collector's Linux commands, on the real output of those commands on this machine.

The oracle is independent of the parser: Python's pwd and grp modules read the
same databases, and a socket this test opens must show up in `ss`.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditpack.collectors.parsers import linux


def output(*argv: str) -> bytes:
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not on this machine")
    return subprocess.run(argv, capture_output=True, check=False).stdout


def test_getent_passwd_gives_every_account_the_system_knows():
    accounts = {a["name"]: a for a in linux.passwd(output("getent", "passwd"))}
    expected = {p.pw_name: p for p in pwd.getpwall()}
    assert accounts.keys() == expected.keys()
    for name, entry in expected.items():
        assert (accounts[name]["uid"], accounts[name]["shell"]) == (entry.pw_uid, entry.pw_shell)
    assert accounts["root"]["login_shell"] and not accounts.get("nobody", {"login_shell": False})["login_shell"]


def test_getent_group_keeps_only_the_groups_that_may_become_root():
    groups = linux.admin_groups(output("getent", "group"))
    expected = {g.gr_name: g.gr_mem for g in grp.getgrall() if g.gr_name in linux.ADMIN_GROUPS}
    assert groups == expected and "root" in groups


def test_ss_shows_a_socket_this_test_listens_on():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        found = linux.listening(output("ss", "-Htulnp"))
    [mine] = [s for s in found if s["port"] == port]
    assert (mine["protocol"], mine["address"]) == ("tcp", "127.0.0.1")
    if os.geteuid() == 0:  # only root sees other processes' names
        assert mine["process"].startswith("python")


@pytest.mark.parametrize(
    "version,daemon,signatures,database",
    [
        (b"ClamAV 1.0.7/27480/Wed Nov 25 09:33:05 2026\n", b"active\n", "2026-11-25", 27480),
        (b"ClamAV 1.0.7\n", b"inactive\n", None, None),  # installed, but freshclam never ran: no signatures at all
    ],
)
def test_clamav_version_line_with_and_without_a_signature_database(version, daemon, signatures, database):
    status = linux.clamav_report(version + daemon)
    assert (status["signature_date"], status["database"], status["realtime"]) == (signatures, database, daemon == b"active\n")
    assert status["engine_version"] == "1.0.7"


def test_retention_numbers_are_read_and_garbage_is_refused():
    moment = datetime(2026, 11, 28, tzinfo=UTC)
    ages = linux.file_ages(b"12\n1700000000.5\n3\n", "/srv/opnames", 92, moment)
    assert (ages["file_count"], ages["oldest_mtime"], ages["older_than_limit"]) == (12, "2023-11-14T22:13:20Z", 3)
    assert linux.file_ages(b"0\n\n0\n", "/srv/leeg", 92, moment)["oldest_mtime"] is None
    with pytest.raises(ValueError, match="/srv/opnames"):
        linux.file_ages(b"find: permission denied\n", "/srv/opnames", 92, moment)


@given(st.binary(max_size=300))
def test_parsers_on_garbage_raise_only_value_error(data):
    for parse in (linux.passwd, linux.admin_groups, linux.listening, linux.clamav_report):
        try:
            parse(data)
        except ValueError:
            pass
