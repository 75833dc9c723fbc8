"""The TSA peer itself (lab/auditpack_lab/peers/tsa.py): real openssl answers, dated as of the lab's clock when
given one (faketime), refusals a client can tell apart, certificates checked as of the token's time; and the lab clock's ticking moment it is dated by."""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from auditpack.timestamping import TimestampError, Tsa, check_token, load_tsa_certificates, request_token
from auditpack_lab.clock import CLOCK_FILE, LabClock
from auditpack_lab.peers.tsa import running_tsa

MOMENT = datetime(2026, 3, 3, 6, 0, 5, tzinfo=UTC)


@pytest.mark.skipif(not (shutil.which("openssl") and shutil.which("faketime")), reason="openssl and faketime are needed")
def test_a_tsa_with_a_clock_dates_its_tokens_as_of_that_clock(tmp_path):
    with running_tsa(
        tmp_path / "tsa", "127.0.9.4", now=lambda: MOMENT, valid_from=MOMENT - timedelta(days=30), valid_days=60
    ) as peer:
        tsa = Tsa(peer.url, peer.pki.ca_file, load_tsa_certificates(peer.pki.ca_file))
        token = request_token(tsa, b"manifest bytes")
    assert abs(check_token(token, tsa.roots, data=b"manifest bytes") - MOMENT) < timedelta(seconds=5)
    assert peer.answered == [MOMENT.isoformat()]
    with pytest.raises(TimestampError, match="about other bytes"):
        check_token(token, tsa.roots, data=b"other bytes")
    # a TSA whose certificate ran out before the token's time: its answer is refused when it comes in
    with running_tsa(tmp_path / "old", "127.0.9.4", now=lambda: MOMENT, valid_from=MOMENT - timedelta(days=30)) as peer:
        with pytest.raises(TimestampError, match="certificate has expired"):
            request_token(Tsa(peer.url, peer.pki.ca_file, load_tsa_certificates(peer.pki.ca_file)), b"x")


def test_the_tsa_refuses_what_is_not_a_time_stamp_query_and_listens_on_loopback_only(tsa_peer, tmp_path):
    request = urllib.request.Request(tsa_peer.url, data=b"hello", headers={"Content-Type": "text/plain"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 415
    garbage = urllib.request.Request(tsa_peer.url, data=b"hello", headers={"Content-Type": "application/timestamp-query"})
    with urllib.request.urlopen(garbage, timeout=5) as answer:  # RFC 3161: a rejection is a reply with a status
        rejection = answer.read()
    with pytest.raises(TimestampError, match="refused the request .status 2"):
        check_token(rejection, load_tsa_certificates(tsa_peer.pki.ca_file), data=b"hello")
    with pytest.raises(ValueError, match="loopback"), running_tsa(tmp_path / "x", "192.0.2.1"):
        pass


def test_the_lab_clock_ticks_from_the_moment_it_was_set_and_is_real_time_today(tmp_path):
    built = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    clock = LabClock(tmp_path, built)
    assert clock.ticking() is None  # never set: the lab's own moment, the real time
    (tmp_path / CLOCK_FILE).write_text(json.dumps({"now": MOMENT.isoformat()}))
    os.utime(tmp_path / CLOCK_FILE, (time.time() - 6, time.time() - 6))  # set six seconds ago
    assert timedelta(seconds=5) < clock.ticking() - MOMENT < timedelta(seconds=60)
    (tmp_path / CLOCK_FILE).unlink()
    (tmp_path / CLOCK_FILE).write_text(json.dumps({"now": built.isoformat()}))
    assert clock.ticking() is None  # set back to the lab's own moment: real time again
