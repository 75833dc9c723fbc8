"""The `epo` collector: the central anti-virus console (McAfee/Trellix ePO) over its Web API.

Two read-only calls, core.executeQuery on EPOLeafNode (the systems) and on EPOEvents (the detections), over
HTTPS with the certificate verified; Basic authentication is only ever sent inside TLS. The detections are read
incrementally: the first time all the console keeps, then only those since the day before the last read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from typing import Any

import requests

from auditpack.canonical import utcnow
from auditpack.credentials import CredentialError
from auditpack.evidence import ItemStatus, Observation
from auditpack.inventory import Host

from .base import CollectContext
from .guard import NUMBER
from .parsers.epo import parse_epo_detections, parse_epo_systems

DEFAULT_SELECT = "(select EPOLeafNode.NodeName EPOLeafNode.LastUpdate EPOProdPropsView_VIRUSCAN.datdate)"
# Threat events as the console keeps them; ThreatHandled says whether the product dealt with the threat.
DETECTIONS_SELECT = (
    "(select EPOEvents.TargetHostName EPOEvents.DetectedUTC EPOEvents.ThreatName EPOEvents.ThreatActionTaken"
    " EPOEvents.ThreatHandled)"
)
# After the first read, only the detections of the days since the last one: newerThan counts milliseconds back from
# the console's now, so the where clause is one number (__MS__), the time since the start day's midnight (UTC).
SINCE_WHERE = "(where (newerThan EPOEvents.DetectedUTC __MS__))"
CONSOLE_URL = r"https://[^\s?#&']+"  # auditpack_epo_url: no query of its own, so the declared one is the one sent
DETECTIONS = "av.detections"


def _request(console: str, target: str, select: str, where: str | None = None) -> str:
    """The request as sent and as declared: GET, the console's URL and the query in its order."""
    query = f"target={target}&select={select}" + (f"&where={where}" if where else "") + "&:output=json"
    return f"GET {console}/remote/core.executeQuery?{query}"


def since_where(since: date, now: datetime) -> str:
    """The where clause for the detections since the start of the UTC day SINCE (whole seconds, rounded up)."""
    start = datetime.combine(since, time(0), UTC)
    return SINCE_WHERE.replace("__MS__", str(max(0, math.ceil((now - start).total_seconds())) * 1000))


HELP_REQUEST = "GET {console}/remote/core.help"


class EpoCollector:
    name = "epo"
    transport = "https"
    allowed_commands = (
        _request("{console}", "EPOLeafNode", DEFAULT_SELECT),
        _request("{console}", "EPOEvents", DETECTIONS_SELECT),  # the first read: every detection the console keeps
        _request("{console}", "EPOEvents", DETECTIONS_SELECT, SINCE_WHERE),
        HELP_REQUEST,  # auditpack doctor: the commands this account may run, the login tested without reading data
    )
    command_placeholders = {"{console}": CONSOLE_URL, "__MS__": NUMBER}

    def applies_to(self, host: Host) -> bool:
        return bool(host.epo_url)

    def collect(self, host: Host, ctx: CollectContext) -> Iterator[Observation]:
        console = host.epo_url.rstrip("/")
        if not console.startswith("https://"):
            now = utcnow()
            for kind in ("epo.systems", DETECTIONS):
                yield Observation(
                    kind,
                    f"GET {console} as {host.user}",
                    b"",
                    now,
                    now,
                    status=ItemStatus.ERROR,
                    errors=["epo: the console URL must be https:// (the API uses Basic authentication)"],
                )
            return
        try:
            secret = host.password.resolve(host.user, f"{host.user} on {host.name}") if host.password else None
        except CredentialError as exc:
            now = utcnow()
            for kind in ("epo.systems", DETECTIONS):
                yield Observation(
                    kind, f"GET {console} as {host.user}", b"", now, now, status=ItemStatus.ERROR, errors=[f"epo: {exc}"]
                )
            return
        auth = (host.user or "", secret.reveal() if secret else "")
        systems = self._query(host, ctx, auth, "epo.systems", ("EPOLeafNode", DEFAULT_SELECT, None), parse_epo_systems)
        yield systems
        since = ctx.since(host.name, self.name, DETECTIONS)
        where = since_where(since, utcnow()) if since else None
        if systems.status in (ItemStatus.OK, ItemStatus.GARBLED):
            detections = self._query(
                host, ctx, auth, DETECTIONS, ("EPOEvents", DETECTIONS_SELECT, where), lambda raw: parse_epo_detections(raw, since)
            )
            yield detections
            return
        # TLS, the password or the console failed: asking again could lock the account and cannot succeed
        now = utcnow()
        yield Observation(
            DETECTIONS,
            f"{_request(console, 'EPOEvents', DETECTIONS_SELECT, where)} as {host.user}",
            b"",
            now,
            now,
            status=systems.status,
            errors=[f"epo detections: not tried after: {'; '.join(systems.errors)}"],
        )

    def _query(
        self,
        host: Host,
        ctx: CollectContext,
        auth: tuple[str, str],
        kind: str,
        query: tuple[str, str, str | None],
        parse: Callable[[bytes], dict[str, Any]],
    ) -> Observation:
        """One core.executeQuery call as an observation: the raw answer kept, parsed, or its failure recorded."""
        console = host.epo_url.rstrip("/")
        target, select, where = query
        request = _request(console, target, select, where)  # what is sent, as checked
        started = utcnow()

        def observation(raw: bytes, **kw: Any) -> Observation:
            return Observation(
                kind, f"{request} as {host.user}", raw, started, utcnow(), tool_version=f"requests {requests.__version__}", **kw
            )

        ctx.guard_for(self).check(request)  # the request below must be this declared one, else nothing is sent
        params = {"target": target, "select": select} | ({"where": where} if where else {}) | {":output": "json"}
        try:
            response = requests.get(
                f"{console}/remote/core.executeQuery",
                params=params,
                auth=auth,
                verify=(host.tls_ca_file or True) if host.verify_tls else False,
                timeout=host.connect_timeout * 6,
            )
        except requests.exceptions.SSLError as exc:
            why = f"epo: TLS with {host.epo_url} failed ({exc.__class__.__name__}); give the CA with auditpack_tls_ca_file"
            return observation(b"", status=ItemStatus.ERROR, errors=[why])
        except requests.exceptions.RequestException as exc:
            return observation(
                b"", status=ItemStatus.UNREACHABLE, errors=[f"epo: cannot reach {host.epo_url}: {exc.__class__.__name__}"]
            )
        if response.status_code != 200:
            return observation(
                response.content, status=ItemStatus.ERROR, errors=[f"epo: HTTP {response.status_code} from {console}"]
            )
        try:
            return observation(response.content, normalized=parse(response.content))
        except (ValueError, UnicodeDecodeError) as exc:
            return observation(response.content, status=ItemStatus.GARBLED, errors=[f"epo: answer could not be read: {exc}"])
