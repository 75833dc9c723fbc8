"""Decode Active Directory attributes into the ad.* evidence shapes. Pure: entries in, records out.

An entry is ``{"dn": str, "attributes": {name: [value, ...]}}`` with values as the
directory sends them (strings; binary values such as objectSid as bytes).
Attribute names are matched case-insensitively, as LDAP does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

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
]
COMPUTER_ATTRIBUTES = [
    "cn",
    "dNSHostName",
    "operatingSystem",
    "operatingSystemVersion",
    "userAccountControl",
    "lastLogonTimestamp",
    "whenCreated",
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
GROUP_ATTRIBUTES = ["cn", "sAMAccountName", "objectSid", "member"]
PWD_COMPLEX = 0x1


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


def user_record(entry: dict[str, Any], now: datetime) -> dict[str, Any]:
    uac = _int(entry, "userAccountControl") or 0
    computed = _int(entry, "msDS-User-Account-Control-Computed") or 0
    expires = filetime(_int(entry, "accountExpires"))
    pwd_last_set_raw = _int(entry, "pwdLastSet")
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
        "last_logon": filetime(_int(entry, "lastLogonTimestamp")),
        "created": generalized_time(_one(entry, "whenCreated")),
        "changed": generalized_time(_one(entry, "whenChanged")),
        "member_of": sorted(_text(v) for v in _values(entry, "memberOf")),
        "user_account_control": uac,
    }


def users(entries: Iterable[dict[str, Any]], now: datetime) -> Iterator[dict[str, Any]]:
    for entry in entries:
        yield user_record(entry, now)


def computer_record(entry: dict[str, Any]) -> dict[str, Any]:
    uac = _int(entry, "userAccountControl") or 0
    return {
        "name": _text(_one(entry, "dNSHostName")) or _text(_one(entry, "cn")),
        "cn": _text(_one(entry, "cn")),
        "os": _text(_one(entry, "operatingSystem")),
        "os_version": _text(_one(entry, "operatingSystemVersion")),
        "enabled": not uac & UF_ACCOUNTDISABLE,
        "last_logon": filetime(_int(entry, "lastLogonTimestamp")),
        "created": generalized_time(_one(entry, "whenCreated")),
    }


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
