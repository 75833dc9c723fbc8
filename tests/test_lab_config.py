"""After `auditpack lab up`, the README's tour works without -i: the lab's configuration file names its inventory,
store, profile and TSA; `lab down` says what to do with it. Starts the lab: run it under
`flock /tmp/auditpack-lab.lock` (the lab's loopback addresses are fixed)."""

from __future__ import annotations

import pytest
from test_config import isolated_env, run

from auditpack_lab.runtime import lab_unavailable

pytestmark = pytest.mark.skipif(lab_unavailable() is not None, reason=f"the lab cannot run here: {lab_unavailable()}")


# --- the lab --------------------------------------------------------------------------------------------------------


def test_after_lab_up_the_tour_runs_without_inventory_or_store(tmp_path):
    """`lab up` writes ./auditpack.toml (or, when the user has one, only the lab's copy and says to use --config);
    doctor and collect then reach the lab's hosts, store and TSA with no -i, --store or TSA variables."""
    from auditpack_lab import layout

    env = {**isolated_env(tmp_path), layout.PASSWORD_ENV: layout.AUDIT_PASSWORD, layout.BORG_ENV: layout.BORG_PASSPHRASE}
    (tmp_path / "auditpack.toml").write_text("# the user's own\n")
    up = run(tmp_path, env, "lab", "up", "--dir", "lab", timeout=900)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        lab_config = (tmp_path / "lab" / "auditpack.toml").resolve()
        assert "exists and is not the lab's" in up.stdout and f"auditpack --config {lab_config} collect" in up.stdout
        assert (tmp_path / "auditpack.toml").read_text() == "# the user's own\n"  # left alone
        (tmp_path / "auditpack.toml").unlink()
        down = run(tmp_path, env, "lab", "down", "--dir", "lab")
        assert down.returncode == 0
        up = run(tmp_path, env, "lab", "up", "--dir", "lab", timeout=900)
        assert up.returncode == 0, up.stdout + up.stderr
        assert (tmp_path / "auditpack.toml").read_text() == lab_config.read_text()
        assert "  auditpack collect\n" in up.stdout and "-i " not in up.stdout
        doctor = run(tmp_path, env, "doctor", "--host", "dc01", "--host", "fw01", "--host", "backup01")
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert all(host in doctor.stdout for host in ("dc01", "fw01", "backup01"))
        collect = run(tmp_path, env, "collect", "--host", "fw01", "--host", "epo01", timeout=600)
        assert collect.returncode == 0, collect.stdout + collect.stderr
        store = tmp_path / "lab" / "evidence"
        assert f"Created a new evidence store at {store.resolve()}" in " ".join(collect.stderr.split())
        assert "Run 1 timestamped (RFC 3161 token" in collect.stderr  # the lab's TSA, from the file
        assert (store / "STORE").exists() and not (tmp_path / "evidence").exists()
    finally:
        down = run(tmp_path, env, "lab", "down", "--dir", "lab")
    assert down.returncode == 0 and "still points auditpack at this lab" in down.stdout
    assert "rm auditpack.toml" in down.stdout
