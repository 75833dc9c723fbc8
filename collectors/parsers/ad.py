"""Decode Active Directory attributes into the ad.* evidence shapes. Pure: entries in, records out.

An entry is ``{"dn": str, "attributes": {name: [value, ...]}}`` with values as the
directory sends them (strings; binary values such as objectSid as bytes).
Attribute names are matched case-insensitively, as LDAP does.

Deleted objects (tombstones: `isDeleted: TRUE`, under CN=Deleted Objects, sent
with the show-deleted control or by a DC that returns them) keep their
sAMAccountName and userAccountControl, so they would read as live accounts:
`is_deleted` tells them apart and `without_deleted` leaves them out, counted.

`last_logon` is the later of lastLogon (exact, but kept per DC and never
replicated) and lastLogonTimestamp (replicated, but updated only every 9-14
days); `last_logon_source` says which of the two it is, and from which DC.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

T = TypeVar("T")

FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
NEVER = {0, 0x7FFFFFFFFFFFFFFF}  # accountExpires and FILETIME "no value" markers
INTERVAL_NEVER = -0x8000000000000000  # maxPwdAge / lockoutDuration meaning "never" / "until unlocked"

# userAccountControl bits (MS-ADTS 2.2.16) and the computed lockout bit
UF_ACCOUNTDISABLE = 0x2
UF_PASSWD_NOTREQD = 0x20
UF_DONT_EXPIRE_PASSWD = 0x10000
UF_LOCKOUT = 0x10

USER_ATTRIBUTES = [
    "sAMAccountName",
    "displayName",
    "userAccountControl",
    "msDS-User-Account-Control-Computed",
    "accountExpires",
    "pwdLastSet",
    "lastLogonTimestamp",
    "whenCreated",
    "whenChanged",
    "memberOf",
    "lastLogon",
    "isDeleted",
]
COMPUTER_ATTRIBUTES = [
    "cn",
    "dNSHostName",
    "operatingSystem",
    "operatingSystemVersion",
    "userAccountControl",
    "lastLogonTimestamp",
    "whenCreated",
    "lastLogon",
    "isDeleted",
]
POLICY_ATTRIBUTES = [
    "minPwdLength",
    "pwdProperties",
    "maxPwdAge",
    "minPwdAge",
    "pwdHistoryLength",
    "lockoutThreshold",
    "lockoutDuration",
    "lockOutObservationWindow",
    "objectSid",
]
PSO_ATTRIBUTES = [
    "cn",
    "msDS-PasswordSettingsPrecedence",
    "msDS-MinimumPasswordLength",
    "msDS-PasswordComplexityEnabled",
    "msDS-MaximumPasswordAge",
    "msDS-MinimumPasswordAge",
    "msDS-PasswordHistoryLength",
    "msDS-LockoutThreshold",
    "msDS-LockoutDuration",
    "msDS-PSOAppliesTo",
]
GROUP_ATTRIBUTES = ["cn", "sAMAccountName", "objectSid", "member", "isDeleted"]
PWD_COMPLEX = 0x1
TIMESTAMP_SOURCE = "lastLogonTimestamp (replicated, may lag up to 14 days)"
DELETED_RDN = ("\\0ADEL:", "\nDEL:")  # a tombstone's mangled RDN, as an LDAP DN string and as ldb prints it


def _values(entry: dict[str, Any], name: str) -> list[Any]:
    attrs = entry["attributes"]
    for key, values in attrs.items():
        if key.lower() == name.lower():
            return values if isinstance(values, list) else [values]
    return []


def _one(entry: dict[str, Any], name: str) -> Any:
    values = _values(entry, name)
    return values[0] if values else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _int(entry: dict[str, Any], name: str) -> int | None:
    value = _text(_one(entry, name))
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{entry['dn']}: {name} is not a number: {value!r}") from None


def filetime(value: int | None) -> str | None:
    """A FILETIME (100 ns since 1601) as ISO 8601 UTC; 0 and the maximum mean 'no value'."""
    if value is None or value in NEVER or value < 0:
        return None
    moment = FILETIME_EPOCH + timedelta(microseconds=value // 10)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def generalized_time(value: Any) -> str | None:
    """whenCreated-style GeneralizedTime (20261123181010.0Z) as ISO 8601 UTC."""
    text = _text(value)
    if not text:
        return None
    try:
        moment = datetime.strptime(text[:14], "%Y%m%d%H%M%S")
    except ValueError:
        raise ValueError(f"not a GeneralizedTime: {text!r}") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def interval_days(value: int | None) -> int | None:
    """A negative 100 ns interval (maxPwdAge, lockoutDuration) in whole days; None when it means 'never'."""
    if value is None or value in (0, INTERVAL_NEVER):
        return None
    return int(abs(value) // (10_000_000 * 86400))


def interval_minutes(value: int | None) -> int | None:
    if value is None or value == INTERVAL_NEVER:
        return None
    return int(abs(value) // (10_000_000 * 60))


def sid_string(value: Any) -> str | None:
    """A binary objectSid as S-1-5-…, the form that does not depend on the directory's language."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.startswith("S-") else None
    data = bytes(value)
    if len(data) < 8:
        raise ValueError("objectSid too short")
    count = data[1]
    authority = int.from_bytes(data[2:8], "big")
    subs = [int.from_bytes(data[8 + 4 * i : 12 + 4 * i], "little") for i in range(count)]
    if len(data) != 8 + 4 * count:
        raise ValueError("objectSid length does not match its sub-authority count")
    return "S-" + "-".join(str(x) for x in [data[0], authority, *subs])


def is_deleted(entry: dict[str, Any]) -> bool:
    """A tombstone (or a recycled object): isDeleted TRUE, or the DEL-mangled RDN should isDeleted not be sent."""
    flag = (_text(_one(entry, "isDeleted")) or "").upper() == "TRUE"
    return flag or any(mark in entry["dn"] for mark in DELETED_RDN)


def without_deleted(records: Iterable[T | None]) -> tuple[list[T], int]:
    """The records of live objects, and how many deleted ones (None) were left out."""
    live, deleted = [], 0
    for found in records:
        if found is None:
            deleted += 1
        else:
            live.append(found)
    return live, deleted


def last_logon(entry: dict[str, Any], dc: str | None = None) -> tuple[str | None, str | None]:
    """(moment, source): the later of this DC's lastLogon and the replicated lastLogonTimestamp.

    On a tie lastLogon is named: it is the exact value, the timestamp only confirms it.
    """
    here = filetime(_int(entry, "lastLogon"))
    replicated = filetime(_int(entry, "lastLogonTimestamp"))
    if here and (not replicated or here >= replicated):  # ISO 8601 UTC strings of one width compare as moments
        return here, f"lastLogon on {dc}" if dc else "lastLogon"
    if replicated:
        return replicated, TIMESTAMP_SOURCE
    return None, None


def user_record(entry: dict[str, Any], now: datetime, dc: str | None = None) -> dict[str, Any]:
    uac = _int(entry, "userAccountControl") or 0
    computed = _int(entry, "msDS-User-Account-Control-Computed") or 0
    expires = filetime(_int(entry, "accountExpires"))
    pwd_last_set_raw = _int(entry, "pwdLastSet")
    logon, logon_source = last_logon(entry, dc)
    return {
        "account": _text(_one(entry, "sAMAccountName")),
        "name": _text(_one(entry, "displayName")),
        "dn": entry["dn"],
        "enabled": not uac & UF_ACCOUNTDISABLE,
        "password_never_expires": bool(uac & UF_DONT_EXPIRE_PASSWD),
        "password_not_required": bool(uac & UF_PASSWD_NOTREQD),
        "locked": bool(computed & UF_LOCKOUT),
        "expires": expires,
        "expired": bool(expires and expires < now.strftime("%Y-%m-%dT%H:%M:%SZ")),
        "pwd_last_set": filetime(pwd_last_set_raw),
        "must_change_password": pwd_last_set_raw == 0,
        "last_logon": logon,
        "last_logon_source": logon_source,
        "created": generalized_time(_one(entry, "whenCreated")),
        "changed": generalized_time(_one(entry, "whenChanged")),
        "member_of": sorted(_text(v) for v in _values(entry, "memberOf")),
        "user_account_control": uac,
    }


def users(entries: Iterable[dict[str, Any]], now: datetime, dc: str | None = None) -> Iterator[dict[str, Any]]:
    for entry in entries:
        yield user_record(entry, now, dc)


def live_user(entry: dict[str, Any], now: datetime, dc: str | None = None) -> dict[str, Any] | None:
    """A user's record, or None for a deleted one (see without_deleted)."""
    return None if is_deleted(entry) else user_record(entry, now, dc)


def computer_record(entry: dict[str, Any], dc: str | None = None) -> dict[str, Any]:
    uac = _int(entry, "userAccountControl") or 0
    logon, logon_source = last_logon(entry, dc)
    return {
        "name": _text(_one(entry, "dNSHostName")) or _text(_one(entry, "cn")),
        "cn": _text(_one(entry, "cn")),
        "os": _text(_one(entry, "operatingSystem")),
        "os_version": _text(_one(entry, "operatingSystemVersion")),
        "enabled": not uac & UF_ACCOUNTDISABLE,
        "last_logon": logon,
        "last_logon_source": logon_source,
        "created": generalized_time(_one(entry, "whenCreated")),
    }


def live_computer(entry: dict[str, Any], dc: str | None = None) -> dict[str, Any] | None:
    """A computer's record, or None for a deleted one (see without_deleted)."""
    return None if is_deleted(entry) else computer_record(entry, dc)


def domain_policy(entry: dict[str, Any]) -> dict[str, Any]:
    """The domain's default password and lockout policy, from the attributes of the domain root."""
    return {
        "min_length": _int(entry, "minPwdLength") or 0,
        "complexity": bool((_int(entry, "pwdProperties") or 0) & PWD_COMPLEX),
        "max_age_days": interval_days(_int(entry, "maxPwdAge")),
        "min_age_days": interval_days(_int(entry, "minPwdAge")) or 0,
        "history_length": _int(entry, "pwdHistoryLength") or 0,
        "lockout_threshold": _int(entry, "lockoutThreshold") or 0,
        "lockout_duration_minutes": interval_minutes(_int(entry, "lockoutDuration")),
        "lockout_window_minutes": interval_minutes(_int(entry, "lockOutObservationWindow")),
        "domain_sid": sid_string(_one(entry, "objectSid")),
    }


def fine_grained_policy(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": _text(_one(entry, "cn")),
        "dn": entry["dn"],
        "precedence": _int(entry, "msDS-PasswordSettingsPrecedence"),
        "min_length": _int(entry, "msDS-MinimumPasswordLength") or 0,
        "complexity": (_text(_one(entry, "msDS-PasswordComplexityEnabled")) or "").upper() == "TRUE",
        "max_age_days": interval_days(_int(entry, "msDS-MaximumPasswordAge")),
        "min_age_days": interval_days(_int(entry, "msDS-MinimumPasswordAge")) or 0,
        "history_length": _int(entry, "msDS-PasswordHistoryLength") or 0,
        "lockout_threshold": _int(entry, "msDS-LockoutThreshold") or 0,
        "lockout_duration_minutes": interval_minutes(_int(entry, "msDS-LockoutDuration")),
        "applies_to": sorted(_text(v) for v in _values(entry, "msDS-PSOAppliesTo")),
    }


def member_account(entry: dict[str, Any]) -> str | None:
    """The account name of one entry of a group-members search."""
    return _text(_one(entry, "sAMAccountName"))


def group_record(entry: dict[str, Any], transitive_members: list[str]) -> dict[str, Any]:
    return {
        "name": _text(_one(entry, "sAMAccountName")) or _text(_one(entry, "cn")),
        "dn": entry["dn"],
        "sid": sid_string(_one(entry, "objectSid")),
        "direct_members": sorted(_text(v) for v in _values(entry, "member")),
        "members": sorted(transitive_members),
    }
