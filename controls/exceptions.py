"""Exceptions (waivers): a deviation that management accepted, for a while, with a name behind it.

An excepted deviation is shown as excepted, never dropped. An exception past its
expiry no longer applies; one that matched nothing is reported; one expiring
within the warning window is flagged.
"""

from __future__ import annotations

from datetime import date, timedelta
from fnmatch import fnmatchcase
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from auditpack.yamlfile import read_yaml, validate

EXPIRY_WARNING_DAYS = 30


class ExceptionEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    control: str
    scope: str = Field(description="glob on the subject (host, account, server…), case-insensitive; '*' for all")
    justification: str = Field(min_length=10)
    owner: str = Field(min_length=1)
    approver: str = Field(min_length=1)
    expires: date
    starts: date | None = None

    @field_validator("control")
    @classmethod
    def _known_control(cls, value: str) -> str:
        from .model import load_catalogue

        known = load_catalogue()
        if value not in known:
            raise ValueError(f"unknown control {value!r}; known: {', '.join(sorted(known))}")
        return value

    def covers(self, control_id: str, subject: str, day: date) -> bool:
        return (
            self.control == control_id
            and fnmatchcase(subject.lower(), self.scope.lower())
            and (self.starts is None or self.starts <= day)
            and day <= self.expires
        )

    def state(self, today: date, used: bool) -> str:
        if self.expires < today:
            return "expired"
        if not used:
            return "unused"
        if self.expires <= today + timedelta(days=EXPIRY_WARNING_DAYS):
            return "expiring_soon"
        return "active"


class ExceptionsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    exceptions: list[ExceptionEntry] = []


def load_exceptions(path: str | Path) -> list[ExceptionEntry]:
    doc, file = read_yaml(path)
    return validate(ExceptionsFile, doc, file).exceptions
