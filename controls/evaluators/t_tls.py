"""T-TLS: endpoints carrying personal data use current TLS with a valid certificate, never plaintext."""

from __future__ import annotations

from datetime import date

from ..framework import EvaluationContext, Findings, parse_moment

CONTROL_ID = "T-TLS"
VERSIONS = ["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]


def _version_rank(protocol: str | None) -> int:
    return VERSIONS.index(protocol) if protocol in VERSIONS else -1


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    required = ctx.params["min_tls_version"]
    for item in ctx.items("tls.endpoints"):
        ids = findings.use([item])
        day = date.fromisoformat(item.day)
        for ep in item.normalized["endpoints"]:
            name = ep["endpoint"]
            if ep.get("error") and not ep.get("plaintext"):
                findings.gap(name, day, "tls.probe_failed", ids, attributes={"error": ep["error"]}, error=ep["error"])
                continue
            attributes = {
                "server_name": ep.get("server_name"),
                "plaintext": bool(ep.get("plaintext")),
                "protocol": ep.get("protocol"),
                "certificate_valid": ep.get("certificate_valid"),
                "certificate_error": ep.get("certificate_error"),
                "not_after": ep.get("not_after"),
            }
            problems: list[tuple[str, dict]] = []
            if ep.get("plaintext"):
                problems.append(("tls.plaintext", {}))
            else:
                if _version_rank(ep.get("protocol")) < _version_rank(required):
                    problems.append(("tls.old_version", {"protocol": ep.get("protocol"), "required": required}))
                if not ep.get("certificate_valid"):
                    problems.append(("tls.invalid_certificate", {}))
                not_after = parse_moment(ep.get("not_after"))
                if not_after and not_after.date() < day:
                    problems.append(("tls.expired", {"not_after": not_after.date().isoformat()}))
                elif not_after and (not_after.date() - day).days <= ctx.params["warn_expiry_days"]:
                    findings.observe(
                        name,
                        day,
                        "tls.expires_soon",
                        ids,
                        not_after=not_after.date().isoformat(),
                        days=(not_after.date() - day).days,
                    )
            for code, facts in problems:
                findings.deviation(name, day, code, ids, attributes=attributes, **facts)
            if not problems:
                findings.passed(name, day, attributes=attributes, evidence=ids)
    return findings
