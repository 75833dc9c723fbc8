"""The command line starts without its heavy libraries: they are imported where they are used.

`auditpack --help`, `verify --help` and `collect --help` (and the lab's commands, which load through an entry
point) must not pull in the report writers, the transports or the data libraries; each costs a user time on
every call. Figures before and after are in docs/benchmarks.md (`python -X importtime`).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = (
    "openpyxl", "numpy", "pandas", "paramiko", "weasyprint", "matplotlib", "ldap3", "winrm", "trestle", "jsonschema", "py_ocsf_models", "apprise",
)  # fmt: skip
PROBE = """
import sys
sys.argv = ["auditpack", *sys.argv[1:]]
from auditpack.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
print("LOADED", code, *[m for m in {heavy!r} if m in sys.modules])
"""


@pytest.mark.parametrize(
    "args",
    [["--help"], ["verify", "--help"], ["collect", "--help"], ["notify", "run", "--help"], ["lab", "--help"], ["demo", "--help"]],
)
def test_help_loads_no_heavy_library(args):
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args], capture_output=True, text=True, timeout=60)
    loaded = done.stdout.strip().splitlines()[-1].split()
    assert loaded[:2] == ["LOADED", "0"], done.stderr
    assert loaded[2:] == []


def test_the_probe_sees_a_heavy_library_when_one_is_loaded():
    """The check above can fail: a command that does load one is seen."""
    done = subprocess.run(
        [sys.executable, "-c", "import openpyxl\n" + PROBE.format(heavy=HEAVY), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "openpyxl" in done.stdout.strip().splitlines()[-1].split()[2:]
