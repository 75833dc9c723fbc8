"""Every file of ../shared/corpus that a control can read, through the command line to that control's verdict.

Each test feeds a corpus file, in place, to the real `auditpack import …` (a subprocess; the first import makes
the store in the test's directory, there is no `init`), then reads the control's part of `auditpack report
--control ID --from D --to D --format json --lang en`: its status, the exit code, and the exact deviations, gaps
and observations (subject, date, code) the file must give. The expected findings were read from the files
themselves, not from auditpack: the EVTX records with the `evtx` package (`PyEvtxParser(path).records_json()`, as
SOURCES.md counted them: event ids, `System/TimeCreated`, the `EventData`/`UserData` fields), the other formats by
reading them. Each case says what in its file gives each finding.

Corpus file → control(s) → where its import → report verdict is tested:

  1102 clears: DE_1102…, 4624 LT3 …JuicyPotato, CA_chrome_firefox_opera_4663, LM_ScheduledTask_ATSVC…,
    NTLM2SelfRelay…                                              T-LOG-2         here (LOG_CLEARS)
  ACL_ForcePwd_SPNAdd_User_Computer_Accounts (1102, 8 × 4719)     T-LOG-2         test_evtx_import.py
  logs of part of a day: CA_4624_4625…chrome, LM_5145…, Security_short_selected, 4renwald Security,
    sesellis Security, DE_Fake_ComputerAccount_4720, post-Security, ID4720-4726…
                                                                  T-LOG-2, O-NTK  here (PART_OF_A_DAY); O-NTK of
                                                                                  ID4720-4726: test_evtx_import.py
  weeks of a log: omerbenamram security.evtx and Security_with_size_t, marvioncriddle Security.evtx
                                                                  T-LOG-2, O-NTK  here (WEEKS)
  antivirus/4renwald…/WindowsDefenderOperational.evtx (16 × 1151, 1116/1117)
                                                                  T-AV            test_evtx_import.py
  antivirus/sbousseaden…/WinDefender_Events_1117_1116…            T-AV            here, through the pack
  firewall: pfsense config.xml, FortiGate example.conf, batfish host1.iptables
                                                                  T-FWP           test_firewall_import.py
  firewall: opnsense config.xml.sample, FortiGate global.conf and vdom.conf, batfish host2.iptables,
    nftables sample-ruleset.nft, 0021prio_0.nft, nat_addr_port.nft
                                                                  T-FWP           here (BACKUPS)
  windows_audit_policy/y3man…/auditpol.txt                        T-LOG-1         here; the /r and /backup CSV
                                                                                  made from it: test_auditpol_import.py
  backup/borgbase__vorta/list_stdout.json (`borg list --json`)    T-BAK-1         here, through `collect` over SSH
                                                                                  (no import reads a backup listing)
  cases the corpus lacks, made from a real record (tests/evtx_reencode.py): Windows Firewall 2003 → T-FWH and
  System 104 → T-LOG-2 in test_evtx_import.py; the auditpol /r CSV with "Active code page: 437", UTF-16LE with BOM
  → T-LOG-1 in test_auditpol_import.py; Security 4950 → T-FWH here.

Read by no control, so not here:
  - windows_audit_policy/y3man…/secpol.cfg: collectors/parsers/secedit.py reads it (test_secedit_parser.py), but no
    import command or collector hands it to O-PWD.
  - windows_security_json/OTRF…/*.zip: Mordor JSON lines; `import evtx` reads EVTX only, nothing reads JSON events.
  - backup/borgbase__vorta/info, create, check and prune outputs: read by parsers (test_borg_parser.py) that no
    collector or import uses.
  - ad_ldap/samba-team__samba/*: a directory reaches O-PWD/O-NDA/O-LVR only over LDAP from a live DC
    (test_ad_collector.py, a real Samba DC); the dumps are decoded in test_ad_corpus.py.
  - winrm/jborean93__pypsrp/*: WS-Man transcripts of the transport, replayed in test_winrm_replay.py; what they run
    (`cmd /c set`, test scripts) is evidence for no control.
  - the 4725 (account disabled) of marvioncriddle Security.evtx: O-LVR reads it only beside the users of an AD
    collection (ad.users), which no import gives.
"""

from __future__ import annotations

import json
import shlex
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from evtx_reencode import reencode
from test_eval_backup_continuity import days
from test_evtx_import import findings, reports, run
from test_firewall_rules import nft_json_of

from auditpack.canonical import utcnow
from auditpack_lab.peers.sshd import accounts_unavailable, make_client_key, running_sshd, write_known_hosts
from conftest import corpus_file

SECURITY = "windows_security_evtx"
ATTACKS = f"{SECURITY}/sbousseaden__EVTX-ATTACK-SAMPLES"
OMER = f"{SECURITY}/omerbenamram__evtx"
ENGLISH = ("--lang", "en")


def imported(tmp_path: Path, env: dict, *args: str) -> str:
    """`auditpack import …` that must store: its console output."""
    done = run(tmp_path, env, "import", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def listed(result: dict, bucket: str) -> list[tuple[str, str, str]]:
    """(subject, date, code) of every finding of a bucket, repeats kept."""
    return sorted((f["subject"], f["date"], f["code"]) for f in result[bucket])


def no_directory_evidence(ntk: dict, last: str) -> None:
    """O-NTK on a Security log alone: the account changes are listed, the reviews cannot be tested."""
    assert ntk["status"] == "not_evidenced" and ntk["deviations"] == []
    assert listed(ntk, "gaps") == [
        ("ad.groups", last, "evidence.missing"),
        ("register.access_reviews", last, "evidence.no_register"),
    ]


# --- T-LOG-2: a Security log cleared (1102) --------------------------------------------------------------------

# (file, --host, the 1102's day, its TimeCreated, its UserData LogFileCleared SubjectDomainName\SubjectUserName).
# Each log spans seconds to minutes of its day (SOURCES.md, time range), so no day is covered whole: the clear is
# the day's one test, and a subject-date tested is not also a gap.
LOG_CLEARS = [
    (f"{ATTACKS}/DE_1102_security_log_cleared.evtx", "pc01", "2019-03-19", "23:35:07.524202Z", "EXAMPLE\\user01"),
    (
        f"{ATTACKS}/4624 LT3 AnonymousLogon Localhost - JuicyPotato.evtx",
        "alice",
        "2019-11-15",
        "08:19:02.298512Z",
        "insecurebank\\bob",
    ),
    (f"{ATTACKS}/CA_chrome_firefox_opera_4663.evtx", "iewin7", "2019-04-27", "19:27:55.274060Z", "IEWIN7\\IEUser"),
    (f"{ATTACKS}/LM_ScheduledTask_ATSVC_target_host.evtx", "win77", "2019-03-19", "00:02:00.383090Z", "EXAMPLE\\administrator"),
    (f"{ATTACKS}/NTLM2SelfRelay-med0x2e-security_4624_4688.evtx", "wind10", "2022-05-01", "04:40:18.084003Z", "WIND10\\admin"),
]


@pytest.mark.parametrize(("relative", "host", "day", "time", "by"), LOG_CLEARS, ids=[Path(c[0]).stem for c in LOG_CLEARS])
def test_a_cleared_security_log_is_t_log_2s_deviation_of_that_day(tmp_path, cli_env, relative, host, day, time, by):
    out = imported(tmp_path, cli_env, "evtx", str(corpus_file(relative)), "--host", host)
    assert "found: 1 log clears" in out
    code, results = reports(tmp_path, cli_env, ["T-LOG-2"], day, day, *ENGLISH)
    result = results["T-LOG-2"]
    assert (code, result["status"], result["tested"]) == (1, "not_effective", 1)
    assert listed(result, "deviations") == [(host, day, "log2.cleared")] and result["gaps"] == []
    [cleared] = result["deviations"]
    assert f"Security log cleared (1102) at {day}T{time} by {by}" == cleared["text"]
    assert set(cleared["evidence"]) <= {e["item_id"] for e in result["evidence"]}  # the cited log is in the report


# --- T-LOG-2 and O-NTK: a log that spans part of a day ---------------------------------------------------------

# (file, --host, the days it spans, what `import evtx` found, O-NTK's observations and how many).
# The span (first and last TimeCreated) starts after 00:00 or ends before 24:00 UTC on each of its days, so each
# day is "not evidenced" (evidence.no_day), never a gap in logging. The account changes: 4720/4726 name the account
# as TargetDomainName\TargetUserName; 4728/4732 carry MemberName "-" for a local account, so the member is its SID.
PART_OF_A_DAY = [
    (
        f"{ATTACKS}/CA_4624_4625_LogonType2_LogonProc_chrome.evtx",
        "msedgewin10",
        ["2020-09-09"],
        "nothing the controls read",
        set(),
        0,
    ),
    (f"{ATTACKS}/LM_5145_Remote_FileCopy.evtx", "pc01", ["2019-03-18"], "nothing the controls read", set(), 0),
    (f"{OMER}/Security_short_selected.evtx", "temporal", ["2016-06-29"], "nothing the controls read", set(), 0),
    (f"{SECURITY}/4renwald__evtx-python/Security.evtx", "desktop-sfbtefs", ["2021-02-13"], "nothing the controls read", set(), 0),
    # 23 March 05:25 to 24 March 17:45: two days, neither whole
    (f"{SECURITY}/sesellis__ETWTool/Security.evtx", "mbp", ["2017-03-23", "2017-03-24"], "nothing the controls read", set(), 0),
    # two 4720s of one account name "$" in domain 3B (the fake computer account), TargetSid …-107103 and …-107104
    (
        f"{ATTACKS}/DE_Fake_ComputerAccount_4720.evtx",
        "win16-ir",
        ["2020-09-16"],
        "2 account changes",
        {("3B\\$", "2020-09-16", "ntk.account_created")},
        2,
    ),
    # John-PC: 4720 John, then 4728 (None) and 4732 (Users, Administrators) of its SID …-1000
    (
        f"{OMER}/post-Security.evtx",
        "john-pc",
        ["2017-12-13"],
        "4 account changes",
        {
            ("John-PC\\John", "2017-12-13", "ntk.account_created"),
            ("S-1-5-21-3838055588-3125202756-3154177548-1000", "2017-12-13", "ntk.member_added"),
        },
        4,
    ),
    # its O-NTK observations are tested in test_evtx_import.py (None: not asked here)
    (
        f"{SECURITY}/mdecrevoisier__EVTX-to-MITRE-Attack/ID4720-4726 Fast created-deleted user.evtx",
        "dc01",
        ["2020-07-12"],
        "2 account changes",
        None,
        0,
    ),
]


@pytest.mark.parametrize(
    ("relative", "host", "spanned", "found", "accounts", "changes"),
    PART_OF_A_DAY,
    ids=[Path(c[0]).parent.name + "-" + Path(c[0]).stem for c in PART_OF_A_DAY],
)
def test_a_log_of_part_of_a_day_leaves_t_log_2_not_evidenced(
    tmp_path, cli_env, relative, host, spanned, found, accounts, changes
):
    out = imported(tmp_path, cli_env, "evtx", str(corpus_file(relative)), "--host", host)
    assert f"found: {found}" in out
    controls = ["T-LOG-2"] if accounts is None else ["T-LOG-2", "O-NTK"]
    code, results = reports(tmp_path, cli_env, controls, spanned[0], spanned[-1], *ENGLISH)
    log = results["T-LOG-2"]
    assert (code, log["status"], log["tested"], log["deviations"]) == (1, "not_evidenced", 0, [])
    assert listed(log, "gaps") == [(host, day, "evidence.no_day") for day in spanned]
    assert log["reason"]["code"] == "reason.no_usable_evidence"
    assert (log["coverage"]["expected"], log["coverage"]["evidenced"]) == (len(spanned), 0)
    if accounts is not None:
        ntk = results["O-NTK"]
        assert findings(ntk, "observations") == accounts and len(ntk["observations"]) == changes
        no_directory_evidence(ntk, spanned[-1])


# --- T-LOG-2 and O-NTK: weeks of a workstation's log -----------------------------------------------------------

SID_03D = "S-1-5-21-2603537626-3982775912-406486804-"
SID_DF1 = "S-1-5-21-944049504-3068507572-2194890940-"
# (file, --host, first and last day of the span, the whole days in between that hold a logon or logoff event
# (4624/4625/4634/4647), the 1102s (day, time), the O-NTK observations and how many).
WEEKS = [
    # 2015-08-23 10:29 to 2015-09-13 04:18 (two computer names in one log: --host names it); whole days 24 Aug to
    # 12 Sep, with logons on four of them
    (
        f"{OMER}/Security_with_size_t.evtx",
        "ws26",
        "2015-08-23",
        "2015-09-13",
        ["2015-08-24", "2015-09-02", "2015-09-03", "2015-09-12"],
        [],
        set(),
        0,
    ),
    # 2016-07-08 18:12 to 2017-04-14 01:21; 279 whole days, 11 with logons. Two local accounts are made on 8 July
    # (fsir, then archir by fsir) and their SIDs …-1000 and …-1001 put in groups (4728 None; 4732 Users,
    # Administrators, Performance Log Users) on 8, 9 and 16 July
    (
        f"{OMER}/security.evtx",
        "ws37",
        "2016-07-08",
        "2017-04-14",
        ["2016-07-09", "2016-07-16", "2016-07-17", "2016-07-23", "2016-07-24", "2016-07-25", "2016-07-26"]
        + ["2016-07-29", "2016-07-30", "2016-08-01", "2017-03-21"],
        [],
        {
            ("WIN-03DLIIOFRRA\\fsir", "2016-07-08", "ntk.account_created"),
            ("WIN-03DLIIOFRRA\\archir", "2016-07-08", "ntk.account_created"),
            (SID_03D + "1000", "2016-07-08", "ntk.member_added"),
            (SID_03D + "1001", "2016-07-08", "ntk.member_added"),
            (SID_03D + "1001", "2016-07-09", "ntk.member_added"),
            (SID_03D + "1000", "2016-07-16", "ntk.member_added"),
        },
        10,
    ),
    # 2026-06-07 08:04 (the VM's clock) to 2026-07-01 03:22; the log was cleared a second after its first record,
    # so 7 June is tested by its clear; whole days 8 to 30 June, logons only on the 30th. On 1 July df1admin makes
    # Jonathan and Sarah (…-1000, …-1001), each put in None (4728), Users and Remote Desktop Users (4732)
    (
        f"{SECURITY}/marvioncriddle__Authentication-Artifact-Analysis/Security.evtx",
        "win-k2pj",
        "2026-06-07",
        "2026-07-01",
        ["2026-06-30"],
        [("2026-06-07", "2026-06-07T08:04:45.200780Z by WIN-K2PJV6RA7JR\\Administrator")],
        {
            ("df1-vm\\Jonathan", "2026-07-01", "ntk.account_created"),
            ("df1-vm\\Sarah", "2026-07-01", "ntk.account_created"),
            (SID_DF1 + "1000", "2026-07-01", "ntk.member_added"),
            (SID_DF1 + "1001", "2026-07-01", "ntk.member_added"),
        },
        8,
    ),
]


@pytest.mark.parametrize(
    ("relative", "host", "first", "last", "logged", "clears", "accounts", "changes"), WEEKS, ids=[c[1] for c in WEEKS]
)
def test_weeks_of_a_log_give_a_t_log_2_finding_for_every_day(
    tmp_path, cli_env, relative, host, first, last, logged, clears, accounts, changes
):
    imported(tmp_path, cli_env, "evtx", str(corpus_file(relative)), "--host", host)
    code, results = reports(tmp_path, cli_env, ["T-LOG-2", "O-NTK"], first, last, *ENGLISH)
    log = results["T-LOG-2"]
    whole = [d.isoformat() for d in days(first, last)][1:-1]
    cleared = {day for day, _ in clears}
    assert set(logged) <= set(whole)
    assert (code, log["status"], log["tested"]) == (1, "not_effective", len(whole) + len(cleared))
    # every whole day without a logon or logoff event is a gap in logging; the partial first and last day are not
    # evidenced, unless a clear tests them
    expected = [(host, day, "log2.no_logons") for day in whole if day not in logged]
    expected += [(host, day, "log2.cleared") for day in cleared]
    assert listed(log, "deviations") == sorted(expected)
    assert listed(log, "gaps") == [(host, day, "evidence.no_day") for day in (first, last) if day not in cleared]
    texts = [d["text"] for d in log["deviations"] if d["code"] == "log2.cleared"]
    assert texts == [f"Security log cleared (1102) at {text}" for _, text in clears]
    ntk = results["O-NTK"]
    assert findings(ntk, "observations") == accounts and len(ntk["observations"]) == changes
    no_directory_evidence(ntk, last)


# --- T-AV: Defender detections (1116/1117), through to the signed pack -----------------------------------------

ATOMIC_DEFENDER = "antivirus/sbousseaden__EVTX-ATTACK-SAMPLES/WinDefender_Events_1117_1116_AtomicRedTeam.evtx"
ATOMIC_SHA256 = "d7bebbe4a9bd6fdcfe53e019e7386a983f89c2fc7919fc51ecf249453ed60780"  # SOURCES.md


def test_unresolved_defender_detections_fail_t_av_and_travel_in_the_pack(tmp_path, cli_env):
    # 6 × 1116 of 5 Detection IDs (Jsprat is detected twice) and 5 × 1117; the 1117s of Powersploit.M and
    # Exeselrun.gen!A carry Error Code 0x80508023 ("could not find the malware"): not resolved; Jsprat, Ace.T and
    # Sehyioa.A!cl were removed (0x00000000). No 1151: the host's own state is not reported in this log.
    log = corpus_file(ATOMIC_DEFENDER)
    assert "found: 5 detections" in imported(tmp_path, cli_env, "evtx", str(log), "--host", "ws-020")
    out = tmp_path / "out"
    packed = run(tmp_path, cli_env, "pack", "--from", "2019-07-18", "--to", "2019-07-18", *ENGLISH, "--out", str(out))
    assert packed.returncode == 1, packed.stderr  # deviations: the pack is built all the same
    [pack] = out.glob("*.zip")
    with zipfile.ZipFile(pack) as archive:
        names = set(archive.namelist())
        raw = archive.read(f"evidence/raw/{ATOMIC_SHA256}")
        [document] = [json.loads(archive.read(n)) for n in names if n.startswith("report/") and n.endswith("-en.json")]
    [av] = [c for c in document["controls"] if c["id"] == "T-AV"]
    assert (av["status"], av["tested"]) == ("not_effective", 5)
    assert av["population"]["subjects"] == [
        "ws-020 · Backdoor:ASP/Ace.T",
        "ws-020 · HackTool:JS/Jsprat",
        "ws-020 · Trojan:PowerShell/Powersploit.M",
        "ws-020 · Trojan:Win32/Sehyioa.A!cl",
        "ws-020 · Trojan:XML/Exeselrun.gen!A",
    ]
    assert listed(av, "deviations") == [
        ("ws-020 · Trojan:PowerShell/Powersploit.M", "2019-07-18", "av.unresolved"),
        ("ws-020 · Trojan:XML/Exeselrun.gen!A", "2019-07-18", "av.unresolved"),
    ]
    assert [d["text"].split(" not resolved ")[0] for d in av["deviations"]] == [
        "detection Trojan:PowerShell/Powersploit.M on ws-020 at 2019-07-18T20:40:00.730676Z",
        "detection Trojan:XML/Exeselrun.gen!A on ws-020 at 2019-07-18T20:40:16.396422Z",
    ]
    # the log the deviations cite is in the pack, byte for byte, with its item record
    assert raw == log.read_bytes()
    assert {f"evidence/{i}.json" for d in av["deviations"] for i in d["evidence"]} <= names
    verified = run(tmp_path, cli_env, "verify", str(pack), "--key", str(out / "signing-key.pub"))
    assert verified.returncode == 0 and "Pack intact" in verified.stdout, verified.stdout + verified.stderr


# --- T-FWP: firewall backups ------------------------------------------------------------------------------------

FORTI = "firewall/acidjunk__fortigate-config-parser"
NFT = "firewall/debiansid__nftables-fullcone"
NFT_SAMPLE_ALLOWS = (
    [f"trusted_forward/{n}" for n in ("121", "122", "123", "126/22", "126/443", "131")]
    + [f"voip_forward/{n}" for n in (133, 139, 140)]
    + ["guest_forward/142"]
    + [f"public_output/{n}" for n in (155, 157, 159, 161, 162, 164, 166)]
)
# (file, --type, --device, extra options, what the import says, T-FWP's deviations in order as (code, text part))
BACKUPS = [
    # the factory config: the legacy <filter> is empty; the MVC filter holds "Default allow LAN to any rule" for IPv4
    # and IPv6 (sequence 1 and 11), pass from lan to any: outbound open, and no reason in a register
    (
        "firewall/opnsense__core/config.xml.sample",
        "opnsense",
        "opn01",
        ["--date", "2026-03-02"],
        "Stored 2 rules of opn01 (default inbound drop, outbound accept)",
        [
            ("fwp.default_open", "outbound traffic is allowed by default"),
            ("fwp.unjustified", "rule sequence-1 (allow lan -> any any)"),
            ("fwp.unjustified", "rule sequence-11 (allow lan -> any any)"),
        ],
    ),
    # one VDOM's backup (#global_vdom=0:vd_name=root): policy 1 accepts HTTP and HTTPS from port1 to port2;
    # policy 2 has no `set action`, so it denies (FortiOS' default); FortiOS denies what no policy accepts
    (
        f"{FORTI}/vdom.conf",
        "fortigate",
        "fgt03",
        ["--date", "2026-03-02"],
        "Stored 2 rules of fgt03 (default inbound drop, outbound drop)",
        [("fwp.unjustified", "rule root/1 (allow google-play -> android tcp/80,tcp/443)")],
    ),
    # *filter: INPUT DROP, FORWARD ACCEPT (transit traffic in and out), OUTPUT ACCEPT; its allow rule is INPUT
    # tcp/22 (inbound) and its OUTPUT rule drops; dated by "# Generated by iptables-save v1.4.7 on Thu Dec 5 07:40:27 2013"
    (
        "firewall/batfish__batfish/host2.iptables",
        "iptables",
        "host2",
        [],
        "dated 2013-12-05 from the time iptables-save wrote in it",
        [
            ("fwp.default_open", "inbound traffic is allowed by default"),
            ("fwp.default_open", "outbound traffic is allowed by default"),
        ],
    ),
    # INPUT, FORWARD and OUTPUT policy drop; the forward chains of eth1/eth2.10/eth2.20 (@if_forward) accept to eth0
    # or to unnamed interfaces, public_output accepts out of eth0: every accept there is outbound (two of them any to
    # any); the home_output accepts go to the LAN, public_forward's to eth2.10 come in
    (
        f"{NFT}/sample-ruleset.nft",
        "nftables",
        "gw01",
        ["--date", "2026-03-02", "--wan", "eth0"],
        "Stored 63 rules of gw01 (default inbound drop, outbound drop)",
        [("fwp.any_to_any", "rule inet/filter/trusted_forward/121 "), ("fwp.any_to_any", "rule inet/filter/guest_forward/142 ")]
        + [("fwp.unjustified", f"rule inet/filter/{rule} ") for rule in NFT_SAMPLE_ALLOWS],
    ),
    # six tables of base chains at every priority, all policy accept, no rule
    (
        f"{NFT}/0021prio_0.nft",
        "nftables",
        "gw02",
        ["--date", "2026-03-02"],
        "Stored 0 rules of gw02 (default inbound accept, outbound accept)",
        [
            ("fwp.default_open", "inbound traffic is allowed by default"),
            ("fwp.default_open", "outbound traffic is allowed by default"),
        ],
    ),
    # nat chains only: nothing filters
    (
        f"{NFT}/nat_addr_port.nft",
        "nftables",
        "gw03",
        ["--date", "2026-03-02"],
        "Stored 0 rules of gw03 (default inbound accept, outbound accept)",
        [
            ("fwp.default_open", "inbound traffic is allowed by default"),
            ("fwp.default_open", "outbound traffic is allowed by default"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("relative", "kind", "device", "extra", "said", "expected"), BACKUPS, ids=[Path(c[0]).name for c in BACKUPS]
)
def test_a_firewall_backup_gets_its_t_fwp_verdict(tmp_path, cli_env, relative, kind, device, extra, said, expected):
    path = corpus_file(relative)
    if kind == "nftables":  # `import firewall` reads `nft -j list ruleset`: the dump loaded into nft and saved so
        json_path = tmp_path / f"{path.stem}.json"
        json_path.write_bytes(nft_json_of(path.name))
        path = json_path
    out = imported(tmp_path, cli_env, "firewall", str(path), "--type", kind, "--device", device, *extra)
    assert said in out
    day = out.split("; dated ")[1][:10]
    code, results = reports(tmp_path, cli_env, ["T-FWP"], day, day, *ENGLISH)
    result = results["T-FWP"]
    assert (code, result["status"], result["tested"], result["gaps"]) == (1, "not_effective", 1, [])
    assert [(d["subject"], d["date"], d["code"]) for d in result["deviations"]] == [(device, day, c) for c, _ in expected]
    assert [part in d["text"] for d, (_, part) in zip(result["deviations"], expected, strict=True)] == [True] * len(expected)


def test_an_nft_text_dump_is_refused_as_not_the_json_the_import_reads(tmp_path, cli_env):
    done = run(
        tmp_path,
        cli_env,
        "import",
        "firewall",
        str(corpus_file(f"{NFT}/sample-ruleset.nft")),
        "--type",
        "nftables",
        "--device",
        "gw01",
    )
    assert done.returncode == 2 and "could not be read as nftables (nothing was stored): not nft JSON output" in done.stderr


def test_a_fortigate_whose_allow_rule_has_its_reasons_passes_t_fwp(tmp_path, cli_env):
    # global.conf: the same two policies as vdom.conf inside a full vdom-mode backup; the register gives a reason for
    # each service of policy 1 (HTTP, HTTPS). It is in force from the day it is imported, so the backup is of today.
    (tmp_path / "egress.yaml").write_text(
        "entries:\n"
        "  - {device: fgt02, service: tcp/443, reason: Play store over HTTPS}\n"
        "  - {device: fgt02, service: tcp/80, reason: Play store over HTTP}\n"
    )
    assert "Stored 2 egress reasons" in imported(tmp_path, cli_env, "egress-register", "egress.yaml")
    today = utcnow().date().isoformat()
    backup = str(corpus_file(f"{FORTI}/global.conf"))
    assert "(default inbound drop, outbound drop)" in imported(
        tmp_path, cli_env, "firewall", backup, "--type", "fortigate", "--device", "fgt02", "--date", today
    )
    code, results = reports(tmp_path, cli_env, ["T-FWP"], today, today, *ENGLISH)
    result = results["T-FWP"]
    assert (code, result["status"], result["tested"]) == (0, "effective", 1)
    assert result["deviations"] == result["gaps"] == [] and result["population"]["subjects"] == ["fgt02"]
    assert {e["kind"] for e in result["evidence"]} == {"firewall.ruleset", "register.egress"}


# --- T-LOG-1: a saved `auditpol /get /category:*` ---------------------------------------------------------------


def test_the_real_audit_policy_text_fails_t_log_1(tmp_path, cli_env):
    # UTF-16LE with BOM (FF FE), CRLF; 59 subcategory lines, all "No Auditing" but Credential Validation ("Success and
    # Failure"): of the 8 required, Credential Validation alone is met
    policy = corpus_file("windows_audit_policy/y3man__WS19_DC_CIS/auditpol.txt")
    out = imported(tmp_path, cli_env, "auditpol", str(policy), "--host", "dc02", "--date", "2026-11-02")
    assert "as of 2026-11-02 (/get text, 59 subcategories)" in out
    code, results = reports(tmp_path, cli_env, ["T-LOG-1"], "2026-11-02", "2026-11-02", *ENGLISH)
    result = results["T-LOG-1"]
    assert (code, result["status"], result["tested"], result["gaps"]) == (1, "not_effective", 1, [])
    assert listed(result, "deviations") == [("dc02", "2026-11-02", "log1.subcategory")]
    lacking = [f"{name} ({kind})" for name in ("Logon", "Logoff", "Account Lockout") for kind in ("success", "failure")]
    lacking.remove("Logoff (failure)")  # not required
    for name in ("Kerberos Authentication Service", "File System", "File Share", "Detailed File Share"):
        lacking += [f"{name} (success)", f"{name} (failure)"]
    assert result["deviations"][0]["text"] == "audit policy lacks " + " and ".join(lacking)


# --- T-FWH: Security 4950, a case the corpus lacks ---------------------------------------------------------------

LOG_CLEARED = f"{ATTACKS}/DE_1102_security_log_cleared.evtx"


def test_a_4950_firewall_setting_is_listed_by_t_fwh_in_its_own_words(tmp_path, cli_env):
    # No Security log of the corpus holds a 4950 (SOURCES.md: Windows Firewall events are in the holdout only). Made
    # as tests/test_evtx_summary.py does: the real first record of LOG_CLEARED re-encoded as 4950 with the fields a
    # 4950 carries (tests/evtx_reencode.py recomputes the sizes and checksums). Its values are rendered text in the
    # host's language, so T-FWH lists it (an observation) rather than judging it; a 2003 that turns a profile off is a
    # deviation (test_evtx_import.py).
    fields = {"ProfileChanged": "Public", "SettingType": "Enable Windows Defender Firewall", "SettingValue": "No"}
    log = tmp_path / "ws-017-security.evtx"
    log.write_bytes(reencode(corpus_file(LOG_CLEARED).read_bytes(), 4950, fields, "EventData", None, datetime(2026, 3, 4, 11)))
    assert "found: 1 firewall changes" in imported(tmp_path, cli_env, "evtx", str(log), "--host", "ws-017")
    code, results = reports(tmp_path, cli_env, ["T-FWH"], "2026-03-04", "2026-03-04", *ENGLISH)
    result = results["T-FWH"]
    assert (code, result["status"], result["deviations"]) == (0, "not_applicable", [])
    assert listed(result, "observations") == [("ws-017", "2026-03-04", "fw.windows_setting_changed")]
    [seen] = result["observations"]
    assert "Public / Enable Windows Defender Firewall / No" in seen["text"] and "2026-03-04T11:00:00" in seen["text"]
    assert "None" not in seen["text"]  # a value the event does not carry is unknown ("?"), not Python's None


# --- T-BAK-1: a `borg list --json`, read by a collection (there is no import for backup listings) ---------------


@pytest.mark.skipif(accounts_unavailable() is not None, reason=str(accounts_unavailable()))
def test_a_borg_listing_collected_over_ssh_gives_t_bak_1_its_nights(tmp_path, cli_env):
    # The listing Vorta's developers captured from a BorgBase repository: six archives, started 4 Nov 23:19,
    # 5 Nov 22:12, 22:13 and 23:05, 6 Nov 09:35 and 12:35 (2018, as borg lists them: the host's local time).
    # Played as test_ssh_collector.py plays appliances: a real sshd whose ForceCommand answers the collector's
    # `borg list --json` with the file; any other command is "not installed". A listing covers its server's nights
    # from its first archive to the night before it was collected (today), so 7 and 8 November had no backup.
    listing = corpus_file("backup/borgbase__vorta/list_stdout.json")
    answer = tmp_path / "answer.sh"
    answer.write_text(
        '#!/bin/sh\ncase "$SSH_ORIGINAL_COMMAND" in\n'
        f'  *"borg list --json"*) exec cat {shlex.quote(str(listing))};;\nesac\n'
        'echo "sh: 1: $SSH_ORIGINAL_COMMAND: not found" >&2\nexit 127\n'
    )
    answer.chmod(0o755)
    key, public = make_client_key(tmp_path / "id_ed25519")
    with running_sshd(
        tmp_path / "sshd", authorized_keys={"root": [public]}, extra_config=f"ForceCommand {answer}\n", root_shell="/bin/sh"
    ) as peer:
        known = write_known_hosts(tmp_path / "known_hosts", peer)
        (tmp_path / "inventory.yaml").write_text(
            "all:\n  hosts:\n    nyx2:\n"
            f"      {{ansible_host: {peer.address}, ansible_port: {peer.port}, ansible_user: root,"
            f" ansible_ssh_private_key_file: {key}, auditpack_ssh_known_hosts: {known}, auditpack_roles: [server],"
            " auditpack_backups: [{tool: borg, repository: 'ssh://i0fis593@i0fis593.repo.borgbase.com/./repo'}]}\n"
        )
        collected = run(tmp_path, cli_env, "collect", "-i", "inventory.yaml")
    assert collected.returncode in (0, 1), collected.stdout + collected.stderr
    code, results = reports(tmp_path, cli_env, ["T-BAK-1"], "2018-11-03", "2018-11-08", *ENGLISH)
    result = results["T-BAK-1"]
    assert (code, result["status"], result["population"]["subjects"]) == (1, "not_effective", ["nyx2"])
    assert result["tested"] == 5  # 4 to 8 November: three nights with archives, two missed
    assert listed(result, "deviations") == [("nyx2", "2018-11-07", "bak1.missed"), ("nyx2", "2018-11-08", "bak1.missed")]
    assert listed(result, "gaps") == [("nyx2", "2018-11-03", "evidence.no_day")]  # before the oldest archive
