"""The tree is clean under the project's ruff configuration (pyproject.toml): lint and format, as a reviewer reads it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed (it is in the test extra: pip install -e '.[test]')")
@pytest.mark.parametrize("args", [["check", "--no-fix"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_is_clean(args):
    done = subprocess.run([RUFF, *args, "."], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
