"""Account controls: O-LVR (leavers), O-PWD (passwords), O-NDA (confidentiality), O-NTK (need to know)."""

from __future__ import annotations

from datetime import date
from typing import Any

from auditpack.controls.exceptions import ExceptionEntry
from auditpack.controls.result import Status
from evidence_factory import evaluate, evaluate_snapshot, item, register

SNAPSHOT = "2026-11-30"


def user(account: str, enabled: bool = True, **fields: Any) -> dict[str, Any]:
    base = {
        "account": account,
        "name": account.title(),
        "enabled": enabled,
        "password_never_expires": False,
        "password_not_required": False,
        "locked": False,
        "expires": None,
        "pwd_last_set": None,
        "last_logon": None,
        "created": "2020-01-06T09:00:00Z",
        "changed": "2026-01-06T09:00:00Z",
        "member_of": [],
    }
    return base | fields


def ad_users(*users: dict[str, Any], day: str = SNAPSHOT):
    return item("ad.users", {"users": list(users)}, host="dc01", day=day)


def devs(result) -> list[tuple[str, str, str]]:
    return [(d.subject, d.date, d.code) for d in result.deviations]


# --- O-LVR -----------------------------------------------------------------


def leaver(account: str, last_day: str, name: str | None = None) -> dict[str, Any]:
    return {"name": name or account.title(), "account": account, "last_working_day": last_day}


def disabled(*events: tuple[str, str], day: str = SNAPSHOT):
    return item(
        "ad.account_disabled_events",
        {"events": [{"account": a, "time": t, "by": "ict-beheer"} for a, t in events]},
        host="dc01",
        day=day,
    )


def badge(
    badge_id: str,
    holder: str,
    account: str | None = None,
    blocked_on: str | None = None,
    returned_on: str | None = None,
    role: str = "callcenter",
    server_room_access: bool = False,
) -> dict[str, Any]:
    return {
        "badge_id": badge_id,
        "holder": holder,
        "account": account,
        "role": role,
        "server_room_access": server_room_access,
        "blocked_on": blocked_on,
        "returned_on": returned_on,
    }


def lvr_evidence(
    last_day: str = "2026-05-15",
    enabled: bool = False,
    disabled_at: str | None = "2026-05-16T07:30:00Z",
    last_logon: str | None = "2026-05-15T16:00:00Z",
    blocked_on: str | None = "2026-05-15",
    returned_on: str | None = "2026-05-15",
    snapshot: str = SNAPSHOT,
) -> list:
    """One leaver, bpieters, handled correctly unless a keyword says otherwise."""
    evidence = [
        register("hr_leavers", [leaver("bpieters", last_day)]),
        ad_users(user("bpieters", enabled=enabled, last_logon=last_logon), user("other"), day=snapshot),
        register("badges", [badge("B-17", "Bpieters", "BPieters", blocked_on, returned_on)]),
    ]
    if disabled_at:
        evidence.append(disabled(("bpieters", disabled_at), day=snapshot))
    return evidence


def test_lvr_blocked_in_time_passes():
    result = evaluate("O-LVR", lvr_evidence())
    assert result.status == Status.EFFECTIVE
    assert result.population == ["bpieters"]
    assert result.tested == 1  # one leaver: account, logon and key are one tested instance
    assert not result.deviations and not result.gaps
    assert {e.kind for e in result.evidence} == {
        "register.hr_leavers",
        "ad.users",
        "ad.account_disabled_events",
        "register.badges",
    }


def test_lvr_blocked_exactly_one_day_after_last_day_passes_and_two_days_fails():
    assert evaluate("O-LVR", lvr_evidence(disabled_at="2026-05-16T23:59:00Z", blocked_on="2026-05-16")).status == Status.EFFECTIVE
    result = evaluate("O-LVR", lvr_evidence(disabled_at="2026-05-17T00:01:00Z", blocked_on="2026-05-16"))
    assert devs(result) == [("bpieters", "2026-05-15", "lvr.disabled_late")]
    assert result.deviations[0].facts["delay"] == 2


def test_lvr_blocked_late_by_three_days():
    result = evaluate("O-LVR", lvr_evidence(disabled_at="2026-05-18T10:00:00Z"))
    assert result.status == Status.NOT_EFFECTIVE
    assert devs(result) == [("bpieters", "2026-05-15", "lvr.disabled_late")]
    assert result.deviations[0].facts == {"disabled_on": "2026-05-18", "delay": 3, "allowed": 1, "last_day": "2026-05-15"}
    assert "3 days after the last working day (2026-05-15)" in result.deviations[0].text("en")
    assert result.tested == 1


def test_lvr_newest_disable_event_counts():
    # disabled once long before leaving (and re-enabled), then late after the last day
    evidence = lvr_evidence(disabled_at=None) + [
        disabled(("CORP\\BPieters", "2026-05-20T09:00:00Z"), ("bpieters", "2026-02-01T09:00:00Z"))
    ]
    result = evaluate("O-LVR", evidence)
    assert result.deviations[0].facts["disabled_on"] == "2026-05-20"


def test_lvr_still_enabled():
    result = evaluate(
        "O-LVR",
        lvr_evidence(
            last_day="2026-06-30",
            enabled=True,
            disabled_at=None,
            last_logon="2026-06-30T15:00:00Z",
            blocked_on="2026-06-30",
            returned_on="2026-07-01",
        ),
    )
    assert devs(result) == [("bpieters", "2026-06-30", "lvr.enabled")]
    assert result.deviations[0].facts == {"days": 153, "last_day": "2026-06-30", "snapshot": SNAPSHOT}
    assert result.status == Status.NOT_EFFECTIVE


def test_lvr_enabled_in_a_snapshot_older_than_the_deadline_is_unknown_not_a_deviation():
    result = evaluate("O-LVR", lvr_evidence(enabled=True, disabled_at=None, snapshot="2026-05-16"))
    assert not result.deviations
    assert [(g.subject, g.code, g.facts) for g in result.gaps] == [
        ("bpieters", "lvr.state_unknown", {"snapshot": "2026-05-16", "deadline": "2026-05-16"})
    ]


def test_lvr_logged_on_after_last_day():
    result = evaluate("O-LVR", lvr_evidence(last_logon="2026-05-19T08:12:00Z"))
    assert devs(result) == [("bpieters", "2026-05-15", "lvr.logon_after")]
    # evidence without last_logon_source was collected when last_logon was lastLogonTimestamp alone
    assert result.deviations[0].facts == {
        "last_logon": "2026-05-19",
        "last_day": "2026-05-15",
        "last_logon_source": "lastLogonTimestamp",
    }
    assert "14" in result.deviations[0].text("nl") and "lower bound" in result.deviations[0].text("en")


TIMESTAMP = "lastLogonTimestamp (replicated, may lag up to 14 days)"


def two_dcs(dc01_logon: dict[str, Any], dc02_logon: dict[str, Any]) -> list:
    """bpieters left on 2026-05-15, blocked in time; each DC's snapshot of the same day has its own last logon."""
    evidence = lvr_evidence()
    dc01 = next(e for e in evidence if e.kind == "ad.users")
    dc02 = item("ad.users", {"users": [user("bpieters", enabled=False, **dc02_logon)]}, host="dc02", day=SNAPSHOT)
    dc01 = item("ad.users", {"users": [user("bpieters", enabled=False, **dc01_logon), user("other")]}, host="dc01", day=SNAPSHOT)
    # dc02 first: dc01's snapshot is the newest item, the one the account itself is judged on
    return [dc02 if e.kind == "ad.users" else e for e in evidence] + [dc01]


def test_lvr_last_logon_is_the_latest_across_every_dc_and_names_its_source():
    evidence = two_dcs(
        {"last_logon": "2026-05-14T16:00:00Z", "last_logon_source": TIMESTAMP},
        {"last_logon": "2026-05-19T08:12:00Z", "last_logon_source": "lastLogon on dc02"},
    )
    result = evaluate("O-LVR", evidence)
    assert devs(result) == [("bpieters", "2026-05-15", "lvr.logon_after")]
    [deviation] = result.deviations
    # the collector's English description of the source becomes the attribute and the DC it was read on
    assert deviation.facts == {"last_logon": "2026-05-19", "last_day": "2026-05-15", "last_logon_source": "lastLogon (dc02)"}
    dc02 = next(e for e in evidence if e.kind == "ad.users" and e.host == "dc02")
    assert dc02.item_id in deviation.evidence  # the DC that saw the logon is cited
    assert "last logon according to AD 2026-05-19, from lastLogon (dc02), the latest across every" in deviation.text("en")
    assert "uit lastLogon (dc02), de laatste" in deviation.text("nl")
    assert {(e.kind, e.host) for e in result.evidence} >= {("ad.users", "dc01"), ("ad.users", "dc02")}


def test_lvr_logons_before_leaving_at_every_dc_pass():
    evidence = two_dcs(
        {"last_logon": "2026-05-15T16:00:00Z", "last_logon_source": "lastLogon on dc01"},
        {"last_logon": "2026-05-02T08:12:00Z", "last_logon_source": TIMESTAMP},
    )
    result = evaluate("O-LVR", evidence)
    assert result.status == Status.EFFECTIVE and not result.deviations and not result.gaps


def test_lvr_disabled_with_unknown_date_is_a_gap():
    result = evaluate("O-LVR", lvr_evidence(disabled_at=None))
    assert not result.deviations
    assert [(g.subject, g.date, g.code) for g in result.gaps] == [("bpieters", "2026-05-15", "lvr.disabled_date_unknown")]
    assert "date it was disabled is unknown" in result.gaps[0].text("en")
    assert result.tested == 0 and result.status == Status.NOT_EVIDENCED  # the only leaver cannot be shown


def test_lvr_account_removed_from_ad_passes():
    evidence = [
        register("hr_leavers", [leaver("gone", "2026-03-31")]),
        ad_users(user("other")),
        register("badges", [badge("B-2", "Gone", "gone", "2026-03-31", "2026-03-31")]),
    ]
    result = evaluate("O-LVR", evidence)
    assert result.status == Status.EFFECTIVE and result.tested == 1 and result.population == ["gone"]


def test_lvr_badge_not_returned_and_not_blocked():
    result = evaluate("O-LVR", lvr_evidence(blocked_on=None, returned_on=None))
    assert devs(result) == [
        ("bpieters", "2026-05-15", "lvr.badge_not_blocked"),
        ("bpieters", "2026-05-15", "lvr.badge_not_returned"),
    ]
    assert result.deviations[1].facts == {"badge_id": "B-17"}


def test_lvr_badge_blocked_late_and_badge_matched_by_name():
    evidence = [
        register("hr_leavers", [leaver("bpieters", "2026-05-15", name="Bert Pieters")]),
        ad_users(user("bpieters", enabled=False)),
        disabled(("bpieters", "2026-05-15T17:00:00Z")),
        register(
            "badges",
            [
                badge("B-9", "bert  PIETERS", None, "2026-05-20", "2026-05-15"),
                badge("B-10", "Bert Pieters", "bpieters2", None, None),
            ],
        ),
    ]  # another Bert
    result = evaluate("O-LVR", evidence)
    assert devs(result) == [("bpieters", "2026-05-15", "lvr.badge_blocked_late")]
    assert result.deviations[0].facts == {
        "badge_id": "B-9",
        "blocked_on": "2026-05-20",
        "delay": 5,
        "allowed": 1,
        "last_day": "2026-05-15",
    }


def test_lvr_leaver_without_badge_and_badges_switched_off():
    evidence = lvr_evidence()[:2] + [disabled(("bpieters", "2026-05-15T17:00:00Z")), register("badges", [])]
    assert devs(evaluate("O-LVR", evidence)) == [("bpieters", "2026-05-15", "lvr.no_badge")]
    result = evaluate("O-LVR", evidence, check_badges=False)
    assert result.status == Status.EFFECTIVE and result.tested == 1


def test_lvr_only_leavers_in_the_period_and_already_gone_count():
    rows = [leaver("last-year", "2025-12-31"), leaver("early", "2026-01-01"), leaver("future", "2026-09-01")]
    evidence = [register("hr_leavers", rows), ad_users(day="2026-08-30")]
    result = evaluate("O-LVR", evidence, today=date(2026, 8, 31), check_badges=False)
    assert result.population == ["early"]


def test_lvr_missing_hr_register_or_ad_is_not_evidenced():
    no_hr = evaluate("O-LVR", lvr_evidence()[1:])
    assert no_hr.status == Status.NOT_EVIDENCED and no_hr.tested == 0
    assert [(g.subject, g.date, g.code, g.facts) for g in no_hr.gaps] == [
        ("register.hr_leavers", "2026-12-31", "evidence.no_register", {"register": "hr_leavers"})
    ]
    failed_ldap = item("ad.users", None, status="error", errors=("LDAP bind refused",))
    no_ad = evaluate("O-LVR", [lvr_evidence()[0], failed_ldap])
    assert no_ad.status == Status.NOT_EVIDENCED
    assert [(g.subject, g.code, g.facts, g.evidence) for g in no_ad.gaps] == [
        ("ad.users", "evidence.missing", {"why": "ad.users: LDAP bind refused"}, [failed_ldap.item_id])
    ]


def test_lvr_missing_badge_register_leaves_a_gap_beside_the_account_tests():
    result = evaluate("O-LVR", [e for e in lvr_evidence() if e.kind != "register.badges"])
    assert [(g.subject, g.code) for g in result.gaps] == [("register.badges", "evidence.no_register")]
    assert result.tested == 1 and result.status == Status.NOT_EFFECTIVE


def test_lvr_unreadable_last_working_day_is_a_gap_not_a_silent_skip():
    evidence = lvr_evidence() + [register("hr_leavers", [leaver("bpieters", "2026-05-15"), leaver("x", "eind mei")])]
    result = evaluate("O-LVR", evidence)
    assert [(g.subject, g.code, g.facts) for g in result.gaps] == [
        ("register.hr_leavers row 3", "evidence.missing", {"why": "last_working_day: 'eind mei'"})
    ]
    assert result.population == ["bpieters", "register.hr_leavers row 3"]


def exception(expires: date, scope: str = "BPIETERS") -> ExceptionEntry:
    return ExceptionEntry(
        control="O-LVR",
        scope=scope,
        justification="account kept open to hand over the mailbox",
        owner="HR",
        approver="CISO",
        expires=expires,
    )


def test_lvr_exception_moves_the_deviation_to_excepted():
    evidence = [
        register("hr_leavers", [leaver("bpieters", "2026-05-15"), leaver("other", "2026-04-30")]),
        ad_users(user("bpieters", enabled=False), user("other", enabled=False)),
        disabled(("bpieters", "2026-05-18T10:00:00Z"), ("other", "2026-05-04T10:00:00Z")),
        register(
            "badges",
            [
                badge("B-17", "Bpieters", "bpieters", "2026-05-15", "2026-05-15"),
                badge("B-18", "Other", "other", "2026-04-30", "2026-04-30"),
            ],
        ),
    ]
    result = evaluate("O-LVR", evidence, exceptions=[exception(date(2027, 6, 30))])
    assert [(e.deviation.subject, e.deviation.code, e.scope) for e in result.excepted] == [
        ("bpieters", "lvr.disabled_late", "BPIETERS")
    ]
    assert devs(result) == [("other", "2026-04-30", "lvr.disabled_late")]  # not in the exception's scope
    assert result.exceptions[0].state == "active" and result.exceptions[0].matched == 1


def test_lvr_expired_exception_no_longer_applies():
    result = evaluate("O-LVR", lvr_evidence(disabled_at="2026-05-18T10:00:00Z"), exceptions=[exception(date(2026, 5, 1))])
    assert devs(result) == [("bpieters", "2026-05-15", "lvr.disabled_late")]
    assert not result.excepted
    assert result.exceptions[0].state == "expired" and result.exceptions[0].matched == 0


# --- O-PWD -----------------------------------------------------------------


def policy(
    min_length: int = 12, complexity: bool = True, max_age_days: int | None = 60, lockout_threshold: int = 5, **extra: Any
) -> dict[str, Any]:
    return {
        "min_length": min_length,
        "complexity": complexity,
        "max_age_days": max_age_days,
        "min_age_days": 1,
        "history_length": 24,
        "lockout_threshold": lockout_threshold,
        "lockout_duration_minutes": 30,
    } | extra


def pwd_evidence(domain: dict[str, Any], fine_grained: list[dict[str, Any]] = (), users: list[dict[str, Any]] = ()):
    return [
        item("ad.password_policy", domain, host="dc01"),
        item("ad.fine_grained_policies", {"policies": list(fine_grained)}, host="dc01"),
        ad_users(*users, day="2026-06-01"),
    ]


RULE_SUBJECTS = [
    "domain policy: complexity",
    "domain policy: lockout_threshold",
    "domain policy: max_age_days",
    "domain policy: min_length",
]


def test_pwd_strong_policy_and_personal_accounts_pass():
    result = evaluate_snapshot(
        "O-PWD",
        pwd_evidence(
            policy(), users=[user("jdoe"), user("svc-backup", password_never_expires=True), user("temp1", enabled=False)]
        ),
    )
    assert result.status == Status.EFFECTIVE
    assert result.population == RULE_SUBJECTS + ["jdoe", "svc-backup"]
    assert result.tested == 6


def test_pwd_boundary_values_pass_and_one_beyond_fails():
    at_limit = policy(min_length=8, max_age_days=90, lockout_threshold=10)
    assert evaluate_snapshot("O-PWD", pwd_evidence(at_limit)).status == Status.EFFECTIVE
    beyond = policy(min_length=7, max_age_days=91, lockout_threshold=11)
    result = evaluate_snapshot("O-PWD", pwd_evidence(beyond))
    assert [(d.subject, d.code, d.facts) for d in result.deviations] == [
        ("domain policy: lockout_threshold", "pwd.lockout_high", {"value": 11, "required": 10}),
        ("domain policy: max_age_days", "pwd.max_age", {"value": 91, "required": 90}),
        ("domain policy: min_length", "pwd.min_length", {"value": 7, "required": 8}),
    ]
    assert all(d.date == "2026-06-01" for d in result.deviations)


def test_pwd_weak_policies_and_accounts_deviate():
    fine = [dict(policy(max_age_days=0, complexity=False), name="Callcenter", precedence=10, applies_to=["cn=cc"])]
    users = [
        user("jdoe", password_never_expires=True),
        user("kvries", password_not_required=True),
        user("Balie2"),
        user("Administrator"),
        user("svc-sql", password_never_expires=True),
        user("test-old", enabled=False, password_not_required=True),
    ]
    result = evaluate("O-PWD", pwd_evidence(policy(max_age_days=None, lockout_threshold=0), fine, users))
    assert result.status == Status.NOT_EFFECTIVE
    assert [(d.subject, d.code, d.facts) for d in result.deviations] == [  # sorted by date, subject, code
        ("Administrator", "pwd.generic", {"pattern": "administrator"}),
        ("Balie2", "pwd.generic", {"pattern": "balie*"}),
        ("domain policy: lockout_threshold", "pwd.lockout_off", {"required": 10}),
        ("domain policy: max_age_days", "pwd.max_age_never", {"required": 90}),
        ("fine-grained policy Callcenter: complexity", "pwd.complexity", {}),
        ("fine-grained policy Callcenter: max_age_days", "pwd.max_age_never", {"required": 90}),
        ("jdoe", "pwd.never_expires", {}),
        ("kvries", "pwd.not_required", {}),
    ]
    assert "test-old" not in result.population and "svc-sql" in result.population


def test_pwd_complexity_not_tested_when_not_required():
    result = evaluate_snapshot("O-PWD", pwd_evidence(policy(complexity=False)), require_complexity=False)
    assert result.status == Status.EFFECTIVE
    assert "domain policy: complexity" not in result.population


def test_pwd_missing_evidence_is_not_evidenced():
    result = evaluate("O-PWD", pwd_evidence(policy())[:2])
    assert result.status == Status.NOT_EVIDENCED and result.tested == 0
    assert [(g.subject, g.code, g.facts) for g in result.gaps] == [("ad.users", "evidence.missing", {"why": "ad.users"})]


def directory_read(day: str, seq: int, domain: dict[str, Any], users: list[dict[str, Any]] = (), kinds: int = 3):
    """One collection of the directory on DAY; KINDS < 3 leaves the user list (and then the policies) out."""
    read = [
        item("ad.password_policy", domain, host="dc01", day=day, seq=seq),
        item("ad.fine_grained_policies", {"policies": []}, host="dc01", day=day, seq=seq),
        item("ad.users", {"users": list(users)}, host="dc01", day=day, seq=seq),
    ]
    return read[:kinds]


def test_pwd_is_tested_on_every_collection_not_only_the_latest():
    # Before the fix only the year's last read counted: a weak policy in March vanished once it was repaired,
    # and coverage read one collection for the whole year.
    evidence = [
        *directory_read("2026-03-03", 1, policy(min_length=6), [user("jdoe")]),
        *directory_read("2026-03-03", 2, policy(min_length=6), [user("jdoe")]),  # a second read that day: one test
        *directory_read("2026-04-07", 3, policy(), [user("jdoe")]),
        *directory_read("2026-05-05", 4, policy(), kinds=2),  # the user list was not read that day
    ]
    result = evaluate_snapshot("O-PWD", evidence)
    assert result.status == Status.NOT_EFFECTIVE
    assert [(d.subject, d.date, d.code) for d in result.deviations] == [
        ("domain policy: min_length", "2026-03-03", "pwd.min_length")
    ]
    assert [(g.subject, g.date, g.code) for g in result.gaps] == [("ad.users", "2026-05-05", "evidence.missing")]
    assert result.tested == 2 * 5  # two complete days, four policy rules and one account each


# --- O-NDA -----------------------------------------------------------------


def nda(account: str, signed_on: str, name: str | None = None) -> dict[str, Any]:
    return {"name": name or account.title(), "account": account, "signed_on": signed_on}


BUILT_IN = [user("krbtgt", enabled=False), user("Administrator"), user("svc-print"), user("WS01$"), user("Guest")]


def test_nda_every_enabled_person_signed_in_time():
    users = [user("jdoe", created="2026-02-01T09:00:00Z"), user("old", enabled=False), *BUILT_IN]
    result = evaluate("O-NDA", [register("nda", [nda("JDoe", "2026-01-20")]), ad_users(*users)])
    assert result.status == Status.EFFECTIVE
    assert result.population == ["jdoe"]


def test_nda_signed_exactly_30_days_after_creation_passes_31_fails():
    users = [user("ontime", created="2026-02-01T09:00:00Z"), user("late", created="2026-02-01T09:00:00Z")]
    register_rows = [nda("ontime", "2026-03-03"), nda("late", "2026-03-04")]
    result = evaluate("O-NDA", [register("nda", register_rows), ad_users(*users)])
    assert [(d.subject, d.date, d.code, d.facts) for d in result.deviations] == [
        ("late", SNAPSHOT, "nda.late", {"signed_on": "2026-03-04", "created": "2026-02-01", "days": 31, "allowed": 30})
    ]
    assert result.tested == 2 and result.status == Status.NOT_EFFECTIVE


def test_nda_missing_agreement_and_matching_by_name():
    users = [user("ajansen", name="Anna Jansen"), user("ajansen2", name="Anna Jansen")] + [user(f"agent{n}") for n in range(19)]
    rows = [nda("", "2020-01-10", name="Anna Jansen")] + [nda(f"agent{n}", "2020-01-10") for n in range(19)]
    result = evaluate("O-NDA", [register("nda", rows), ad_users(*users)])
    # a row without an account matches by name; both Annas carry that name, so both are covered
    assert not result.deviations
    rows[0] = nda("ajansen", "2020-01-10", name="Anna Jansen")
    result = evaluate("O-NDA", [register("nda", rows), ad_users(*users)])
    assert [(d.subject, d.code, d.facts) for d in result.deviations] == [("ajansen2", "nda.missing", {"created": "2020-01-06"})]
    assert result.tested == 21 and result.status == Status.EFFECTIVE_WITH_DEVIATIONS  # 1/21 within 5 %


def test_nda_missing_register_is_not_evidenced():
    result = evaluate("O-NDA", [ad_users(user("jdoe"))])
    assert result.status == Status.NOT_EVIDENCED
    assert [(g.subject, g.code, g.facts) for g in result.gaps] == [("register.nda", "evidence.no_register", {"register": "nda"})]


# --- O-NTK -----------------------------------------------------------------


def groups(*named: tuple[str, int]):
    return item(
        "ad.groups",
        {
            "groups": [
                {"name": n, "dn": f"CN={n},OU=Data,DC=corp,DC=local", "members": [f"user{i}" for i in range(count)]}
                for n, count in named
            ]
        },
        host="dc01",
        day="2026-10-01",
    )


def review(group: str, reviewed_on: str) -> dict[str, Any]:
    return {"group": group, "reviewed_on": reviewed_on, "reviewer": "teamleider"}


def test_ntk_groups_reviewed_within_a_year_pass():
    evidence = [
        groups(("GG-Klant-A", 12), ("GG-HR", 3)),
        register("access_reviews", [review("gg-klant-a", "2026-03-01"), review("GG-HR", "2026-09-15")]),
    ]
    result = evaluate("O-NTK", evidence)
    assert result.status == Status.EFFECTIVE and result.population == ["GG-HR", "GG-Klant-A"]


def test_ntk_review_exactly_365_days_before_the_last_day_passes_366_fails():
    evidence = [
        groups(("A", 1), ("B", 2)),
        register("access_reviews", [review("A", "2025-12-31"), review("B", "2025-12-30"), review("B", "2025-06-01")]),
    ]
    result = evaluate("O-NTK", evidence)
    assert [(d.subject, d.date, d.code, d.facts) for d in result.deviations] == [
        (
            "B",
            "2026-10-01",
            "ntk.review_stale",
            {"members": 2, "last_review": "2025-12-30", "age": 366, "allowed": 365, "until": "2026-12-31"},
        )
    ]


def test_ntk_group_never_reviewed_in_the_period():
    evidence = [groups(("GG-Klant-B", 7)), register("access_reviews", [review("GG-Klant-B", "2027-01-05")])]
    result = evaluate("O-NTK", evidence)
    assert result.status == Status.NOT_EFFECTIVE
    assert [(d.subject, d.code, d.facts) for d in result.deviations] == [
        ("GG-Klant-B", "ntk.never_reviewed", {"members": 7, "last_review": None, "until": "2026-12-31"})
    ]


def test_ntk_missing_review_register_is_not_evidenced():
    result = evaluate("O-NTK", [groups(("A", 1))])
    assert result.status == Status.NOT_EVIDENCED
    assert [(g.subject, g.code) for g in result.gaps] == [("register.access_reviews", "evidence.no_register")]
