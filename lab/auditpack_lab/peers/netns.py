"""Run commands in a fresh network namespace, so real firewall rulesets never touch the host."""

from __future__ import annotations

import os
import shutil
import subprocess


def netns_unavailable() -> str | None:
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is missing"
    if shutil.which("nft") is None:
        return "nftables is not installed (scripts/test.sh installs it)"
    if os.geteuid() != 0:
        return "creating network namespaces and loading rulesets needs root"
    probe = subprocess.run(["unshare", "-n", "nft", "list", "ruleset"], capture_output=True)
    if probe.returncode != 0:
        return f"cannot use nftables in a new network namespace: {probe.stderr.decode(errors='replace').strip()}"
    return None


def in_netns(script: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a shell script in a new, empty network namespace that dies with it."""
    return subprocess.run(["unshare", "-n", "sh", "-ec", script], capture_output=True, text=True, env=env, timeout=timeout)
