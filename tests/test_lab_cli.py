"""`auditpack lab up|status|down` for real: the lab outlives `up`, answers on every endpoint, and `down` leaves nothing behind."""

from __future__ import annotations

import os
import socket
import time

import pytest
from test_cli import run

from auditpack_lab.runtime import LabState, lab_unavailable

pytestmark = pytest.mark.skipif(lab_unavailable() is not None, reason=f"the lab cannot run here: {lab_unavailable()}")


def _answers(endpoint: str) -> bool:
    address, port = endpoint.rsplit(":", 1)
    try:
        socket.create_connection((address, int(port)), timeout=1).close()
        return True
    except OSError:
        return False


def _group_alive(pgid: int) -> bool:
    deadline = time.monotonic() + 5  # an ended process may wait a moment for init to reap it
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.1)
    return True


def test_up_status_down(tmp_path, cli_env):
    up = run(["lab", "up", "--dir", "lab", "--seed", "7"], tmp_path, cli_env, timeout=600)
    assert up.returncode == 0, up.stdout + up.stderr
    state = LabState.read(tmp_path / "lab")
    try:
        assert state is not None and state.seed == 7 and "lab up (pid" in up.stdout
        assert (
            "  auditpack collect\n" in up.stdout
            and (tmp_path / "auditpack.toml").exists()
            and (tmp_path / "lab" / "inventory.yaml").exists()
        )
        again = run(["lab", "up", "--dir", "lab"], tmp_path, cli_env)
        assert again.returncode == 2 and "already running" in again.stderr
        status = run(["lab", "status", "--dir", "lab"], tmp_path, cli_env)
        endpoints = [e for found in state.endpoints.values() for e in found]
        assert status.returncode == 0, status.stdout
        assert f"{len(endpoints)} of {len(endpoints)} endpoints answer" in status.stdout
        assert all(_answers(e) for e in endpoints)
    finally:
        down = run(["lab", "down", "--dir", "lab"], tmp_path, cli_env)
    assert down.returncode == 0 and "stopped" in down.stdout
    assert not _group_alive(state.pid)  # the lab's process and everything it started (samba, sshd, the namespace holder)
    assert not any(_answers(e) for e in endpoints)
    after = run(["lab", "status", "--dir", "lab"], tmp_path, cli_env)
    assert after.returncode == 2 and "No lab is running" in after.stderr
