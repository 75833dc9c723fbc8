"""The `epo` collector: the central anti-virus console (McAfee/Trellix ePO) over its Web API.

One read-only call, core.executeQuery on EPOLeafNode, over HTTPS with the
certificate verified; Basic authentication is only ever sent inside TLS.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests

from auditpack.canonical import utcnow
from auditpack.credentials import CredentialError
from auditpack.evidence import ItemStatus, Observation
from auditpack.inventory import Host

from .base import CollectContext
from .parsers.epo import parse_epo_systems

DEFAULT_SELECT = "(select EPOLeafNode.NodeName EPOLeafNode.LastUpdate EPOProdPropsView_VIRUSCAN.datdate)"
CONSOLE_URL = r"https://[^\s?#&']+"  # auditpack_epo_url: no query of its own, so the declared one is the one sent
HELP_REQUEST = "GET {console}/remote/core.help"


class EpoCollector:
    name = "epo"
    transport = "https"
    allowed_commands = (
        f"GET {{console}}/remote/core.executeQuery?target=EPOLeafNode&select={DEFAULT_SELECT}&:output=json",
        HELP_REQUEST,  # auditpack doctor: the commands this account may run, the login tested without reading data
    )
    command_placeholders = {"{console}": CONSOLE_URL}

    def applies_to(self, host: Host) -> bool:
        return bool(host.epo_url)

    def collect(self, host: Host, ctx: CollectContext) -> Iterator[Observation]:
        url = f"{host.epo_url.rstrip('/')}/remote/core.executeQuery"
        params = {"target": "EPOLeafNode", "select": DEFAULT_SELECT, ":output": "json"}
        request = f"GET {url}?" + "&".join(f"{key}={value}" for key, value in params.items())  # what is sent, as checked
        command = f"{request} as {host.user}"
        started = utcnow()

        def observation(raw: bytes, **kw: Any) -> Observation:
            return Observation(
                "epo.systems", command, raw, started, utcnow(), tool_version=f"requests {requests.__version__}", **kw
            )

        if not url.startswith("https://"):
            yield observation(
                b"", status=ItemStatus.ERROR, errors=["epo: the console URL must be https:// (the API uses Basic authentication)"]
            )
            return
        ctx.guard_for(self).check(request)  # the request below must be this declared one, else nothing is sent
        try:
            secret = host.password.resolve(host.user, f"{host.user} on {host.name}") if host.password else None
            response = requests.get(
                url,
                params=params,
                auth=(host.user or "", secret.reveal() if secret else ""),
                verify=(host.tls_ca_file or True) if host.verify_tls else False,
                timeout=host.connect_timeout * 6,
            )
        except CredentialError as exc:
            yield observation(b"", status=ItemStatus.ERROR, errors=[f"epo: {exc}"])
            return
        except requests.exceptions.SSLError as exc:
            yield observation(
                b"",
                status=ItemStatus.ERROR,
                errors=[
                    f"epo: TLS with {host.epo_url} failed ({exc.__class__.__name__}); give the CA with auditpack_tls_ca_file"
                ],
            )
            return
        except requests.exceptions.RequestException as exc:
            yield observation(
                b"", status=ItemStatus.UNREACHABLE, errors=[f"epo: cannot reach {host.epo_url}: {exc.__class__.__name__}"]
            )
            return
        if response.status_code != 200:
            yield observation(response.content, status=ItemStatus.ERROR, errors=[f"epo: HTTP {response.status_code} from {url}"])
            return
        try:
            normalized = parse_epo_systems(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            yield observation(response.content, status=ItemStatus.GARBLED, errors=[f"epo: answer could not be read: {exc}"])
            return
        yield observation(response.content, normalized=normalized)
