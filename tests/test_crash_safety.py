"""A collection killed with SIGKILL at any moment leaves a store that verify accepts."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from auditpack.store import EvidenceStore
from conftest import auditpack_bin

FAILPOINTS = ["blob-tmp-written", "blob-renamed", "manifest-tmp-written", "manifest-renamed", "index-midway"]
# Without root the firewall listing fails and the run is partial (exit 1); either way it must finish.
COMPLETE_OR_PARTIAL = (0, 1)
COMMITTED_AT = {"manifest-renamed", "index-midway"}  # the manifest is on disk: the run counts


def collect(store_dir, env, **extra_env):
    return subprocess.run(
        [auditpack_bin(), "collect", "--store", str(store_dir)],
        env={**env, **extra_env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=store_dir.parent,
    )


def verify(store_dir, env):
    return subprocess.run(
        [auditpack_bin(), "verify", "--store", str(store_dir)], env=env, capture_output=True, text=True, timeout=120
    )


def assert_consistent(store_dir, env):
    result = verify(store_dir, env)
    assert result.returncode == 0, result.stdout + result.stderr
    store = EvidenceStore(store_dir, create=False)
    per_run = {}
    for item in store.items():
        per_run.setdefault(item.run_seq, []).append(item)
        store.read_blob(item.raw_sha256)  # every visible item is whole
    for ref in store.manifest_refs():
        assert len(per_run.get(ref.seq, [])) == len(store.load_manifest(ref)["items"])
    return store


@pytest.mark.parametrize("point", FAILPOINTS)
def test_sigkill_at_each_write_step(point, tmp_path, cli_env):
    store_dir = tmp_path / "evidence"
    assert collect(store_dir, cli_env).returncode in COMPLETE_OR_PARTIAL
    killed = collect(store_dir, cli_env, AUDITPACK_FAILPOINT=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    store = assert_consistent(store_dir, cli_env)
    assert len(store.manifest_refs()) == (2 if point in COMMITTED_AT else 1)
    after = collect(store_dir, cli_env)
    assert after.returncode in COMPLETE_OR_PARTIAL, after.stderr
    store = assert_consistent(store_dir, cli_env)
    refs = store.manifest_refs()
    assert store.load_manifest(refs[-1])["prev"] == refs[-2].sha256


@pytest.mark.parametrize("delay", [0.3, 0.5, 0.7, 0.9, 1.1, 1.3])
def test_sigkill_at_arbitrary_moments(delay, tmp_path, cli_env):
    store_dir = tmp_path / "evidence"
    assert collect(store_dir, cli_env).returncode in COMPLETE_OR_PARTIAL
    proc = subprocess.Popen(
        [auditpack_bin(), "collect", "--store", str(store_dir)],
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert_consistent(store_dir, cli_env)
    assert collect(store_dir, cli_env).returncode in COMPLETE_OR_PARTIAL
    assert_consistent(store_dir, cli_env)
