from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # so tests can import their helpers (evidence_factory, year_store)

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"


def corpus_file(relative: str) -> Path:
    """A file of ../shared/corpus, used in place; skip with the reason when it is not there."""
    path = CORPUS / relative
    if not path.exists():
        pytest.skip(f"shared corpus not available: {path} (the tests read ../shared/corpus beside the checkout)")
    return path


@pytest.fixture
def store(tmp_path):
    from auditpack.store import EvidenceStore

    return EvidenceStore(tmp_path / "evidence")


@pytest.fixture
def cli_env(tmp_path):
    """Environment for auditpack subprocesses: the venv's auditpack, no inherited operator."""
    env = dict(os.environ)
    env["AUDITPACK_OPERATOR"] = "test-operator"
    env.pop("AUDITPACK_FAILPOINT", None)
    # keys are made on first use: in the test's directory, never in the tester's home
    env["AUDITPACK_SIGNING_KEY"] = str(tmp_path / "keys" / "signing-key.pem")
    env["AUDITPACK_PSEUDONYM_KEY"] = str(tmp_path / "keys" / "pseudonym-key")
    return env


def auditpack_bin() -> str:
    return str(Path(sys.executable).with_name("auditpack"))


@pytest.fixture(scope="module")
def tsa_peer(tmp_path_factory):
    """A real RFC 3161 TSA on loopback (openssl ts -reply behind HTTP, a test CA), answering at the real time."""
    from auditpack_lab.peers.tsa import running_tsa, tsa_unavailable

    if (reason := tsa_unavailable()) is not None:
        pytest.skip(reason)
    with running_tsa(tmp_path_factory.mktemp("tsa"), "127.0.9.3") as peer:
        yield peer
