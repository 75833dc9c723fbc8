"""auditpack's own errors: one base class, so the command line prints every expected fault the same way."""

from __future__ import annotations


class AuditpackError(Exception):
    """An expected fault a user can act on; `problems` are located lines such as 'file:line: key: what'."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = list(problems or [])
