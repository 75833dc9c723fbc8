"""Recorded Windows answers replayed to unmodified pywinrm over the WinRM peer's real NTLM/encryption stack.

The transcripts are pypsrp's recordings of real Windows hosts (MIT, jborean93/pypsrp
tests/tests_pypsrp/responses), read in place from ../shared/corpus/winrm. The expected values below were
read from their base64 streams. The operation-timeout tests use the scripted peer instead: the corpus has no
timeout recording.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import winrm
from winrm.exceptions import WinRMOperationTimeoutError, WSManFaultError

from auditpack_lab.peers.winrm import ScriptResult, WinrmPeer, running_winrm, running_winrm_replay
from conftest import corpus_file

ADDRESS = "127.0.0.1"
USER = "KCDEMO\\svc-audit"
PASSWORD = "Zomer-2024!"
PYPSRP = "winrm/jborean93__pypsrp"
WINRS_SEQUENCE = ["Create", "Command", "Receive", "Signal", "Delete"]


@contextmanager
def replaying(tmp_path: Path, name: str, scheme: str = "http") -> Iterator[WinrmPeer]:
    transcript = corpus_file(f"{PYPSRP}/{name}")  # skips when ../shared is absent
    with running_winrm_replay(tmp_path / "winrm", ADDRESS, {USER: PASSWORD}, transcript, scheme=scheme) as peer:
        yield peer


def session(peer: WinrmPeer) -> winrm.Session:
    """pywinrm as a collector uses it: NTLM, encrypted on http, the test CA on https."""
    if peer.scheme == "https":
        options = {"server_cert_validation": "validate", "ca_trust_path": str(peer.ca_file)}
    else:
        options = {"message_encryption": "always", "ca_trust_path": None}
    return winrm.Session(peer.endpoint, auth=(USER, PASSWORD), transport="ntlm", proxy=None, **options)


# --- recorded WinRS exchanges ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_standard_recording_returns_its_stdout_and_exit_code(tmp_path: Path, scheme: str) -> None:
    with replaying(tmp_path, "test_winrs_standard.yml", scheme) as peer:
        result = session(peer).run_cmd("cmd.exe", ["/c", "echo", "hi"])

    assert (result.std_out, result.std_err, result.status_code) == (b"hi\r\n", b"", 0)  # stdout aGkNCg==
    assert peer.received == ["cmd.exe /c echo hi"]
    assert peer.actions == WINRS_SEQUENCE  # the whole transcript was served, Signal and Delete included


def test_stderr_recording_returns_both_streams_and_exit_code_1(tmp_path: Path) -> None:
    with replaying(tmp_path, "test_winrs_stderr_rc.yml") as peer:
        result = session(peer).run_cmd("cmd.exe", ["/c echo out && echo err>&2 && exit 1"])

    assert result.std_out == b"out \r\n"  # b3V0IA0K
    assert result.std_err == b"err \r\n"  # ZXJyIA0K
    assert result.status_code == 1
    assert peer.actions == WINRS_SEQUENCE


def test_unicode_recording_arrives_intact(tmp_path: Path) -> None:
    with replaying(tmp_path, "test_winrs_unicode.yml") as peer:
        result = session(peer).run_cmd("powershell.exe", ["Write-Host こんにちは"])

    # Two recorded stdout pieces, 44GT44KT44Gr44Gh44Gv and Cg==: UTF-8 of the greeting, then a newline.
    assert result.std_out.decode("utf-8") == "こんにちは\n"
    assert result.status_code == 0
    assert peer.received == ["powershell.exe Write-Host こんにちは"]


def test_recorded_fault_surfaces_as_wsman_fault_error(tmp_path: Path) -> None:
    with replaying(tmp_path, "test_winrs_fail_poll_process.yml") as peer:
        protocol = session(peer).protocol
        shell_id = protocol.open_shell()
        # The recording polls without running a command; pywinrm always names one, the peer does not compare it.
        with pytest.raises(WSManFaultError) as raised:
            protocol.get_command_output(shell_id, "00000000-0000-0000-0000-000000000000")
        protocol.close_shell(shell_id)  # the shell survives the fault, as on the recorded host

    fault = raised.value
    assert shell_id == "8ABEA8D2-0438-4D75-A594-55DCA786B4E1"
    assert fault.code == 500  # the recorded transport_error
    assert (fault.fault_code, fault.fault_subcode) == ("s:Sender", "w:InvalidParameter")
    assert fault.wsman_fault_code == 87  # ERROR_INVALID_PARAMETER from winrscmd.dll
    assert fault.reason == "The parameter is incorrect. "
    assert peer.actions == ["Create", "Receive", "Delete"]


def test_a_client_that_departs_from_the_recording_gets_a_mismatch_fault(tmp_path: Path) -> None:
    with replaying(tmp_path, "test_winrs_standard.yml") as peer, pytest.raises(WSManFaultError) as raised:
        session(peer).run_cmd("cmd.exe", ["/c", "echo", "bye"])

    assert raised.value.reason == "Replay mismatch: expected command line 'cmd.exe /c echo hi', got 'cmd.exe /c echo bye'"


# --- operation timeout (scripted peer) ---------------------------------------------------------------------------


def slow_host(script: str) -> ScriptResult:
    return ScriptResult(stdout=f"done: {script}\r\n".encode())


@pytest.mark.parametrize("timeouts", [1, 3])
def test_run_ps_retries_receive_after_operation_timeouts(tmp_path: Path, timeouts: int) -> None:
    with running_winrm(tmp_path / "winrm", ADDRESS, {USER: PASSWORD}, slow_host, timeouts_before_output=timeouts) as peer:
        result = session(peer).run_ps("Get-Date")

    assert (result.std_out, result.status_code) == (b"done: Get-Date\r\n", 0)
    assert peer.actions.count("Receive") == timeouts + 1
    assert peer.received == ["Get-Date"]


def test_operation_timeout_is_the_fault_pywinrm_recognises(tmp_path: Path) -> None:
    with running_winrm(tmp_path / "winrm", ADDRESS, {USER: PASSWORD}, slow_host, timeouts_before_output=1) as peer:
        protocol = session(peer).protocol
        shell_id = protocol.open_shell()
        command_id = protocol.run_command(shell_id, "hostname")
        # Only WSManFault Code 2150858793 becomes WinRMOperationTimeoutError; any other fault is WSManFaultError.
        with pytest.raises(WinRMOperationTimeoutError):
            protocol.get_command_output_raw(shell_id, command_id)
        stdout, _, exit_code, done = protocol.get_command_output_raw(shell_id, command_id)
        protocol.cleanup_command(shell_id, command_id)
        protocol.close_shell(shell_id)

    assert (stdout, exit_code, done) == (b"done: hostname\r\n", 0, True)
