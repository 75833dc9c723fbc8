"""T-FWH: a host firewall refuses unsolicited inbound traffic on every workstation."""

from __future__ import annotations

from typing import Any

from ..evidence_view import EvidenceView, Period, RunView
from ..model import Control
from ..result import ControlResult, Deviation, overall_status

FAMILIES = ("ipv4", "ipv6")


def inbound_defaults(items: list[EvidenceView]) -> dict[str, str]:
    """Default inbound verdict per address family over every firewall backend read on the host."""
    verdict = {fam: "accept" for fam in FAMILIES}
    for item in items:
        for fam in FAMILIES:
            if item.normalized["defaults"]["input"].get(fam) == "drop":
                verdict[fam] = "drop"  # in netfilter a drop in any base chain is final
    return verdict


def evaluate(control: Control, params: dict[str, Any], period: Period, runs: list[RunView],
             evidence: list[EvidenceView]) -> ControlResult:
    families = FAMILIES if params["require_ipv6"] else ("ipv4",)
    by_run_host: dict[tuple[int, str], list[EvidenceView]] = {}
    for item in evidence:
        by_run_host.setdefault((item.run_seq, item.host), []).append(item)
    population: set[str] = set()
    tested, deviations, gaps = 0, [], []
    for run in runs:
        for host in run.hosts_with_roles(control.applies_to_roles):
            population.add(host)
            items = by_run_host.get((run.seq, host), [])
            usable = [i for i in items if i.status == "ok"]
            ids = [i.item_id for i in items]
            if not usable:
                host_errors = run.hosts[host].get("errors") or []
                why = "; ".join(host_errors) if host_errors and not items else "; ".join(e for i in items for e in i.errors)
                gaps.append(Deviation(host, run.date, "evidence.missing", {"why": why or "nothing collected"}, ids))
                continue
            tested += 1
            verdict = inbound_defaults(usable)
            open_families = [f for f in families if verdict[f] != "drop"]
            if open_families:
                backends = ", ".join(sorted({i.normalized["backend"] for i in usable}))
                deviations.append(Deviation(host, run.date, "fw.inbound_open",
                                            {"families": open_families, "backends": backends}, ids))
    status = overall_status(len(population), tested, len(deviations), len(gaps), params["tolerated_deviation_rate"])
    return ControlResult(
        control_id=control.id, status=status, period_start=period.start.isoformat(), period_end=period.end.isoformat(),
        population=sorted(population), tested=tested, deviations=deviations, gaps=gaps,
        evidence=[i.ref() for i in evidence], parameters=params,
    )
