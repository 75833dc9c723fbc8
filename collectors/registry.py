"""Which collectors exist, in the order they run on a host."""

from __future__ import annotations

from auditpack.inventory import Host

from .ad import AdCollector
from .base import Collector
from .epo import EpoCollector
from .local import LocalCollector
from .reachability import ReachabilityCollector
from .ssh import SshCollector
from .tls import TlsCollector
from .windows import WindowsCollector

ALL_COLLECTORS: list[Collector] = [
    ReachabilityCollector(),
    LocalCollector(),
    AdCollector(),
    WindowsCollector(),
    EpoCollector(),
    SshCollector(),
    TlsCollector(),
]


def collectors_for(host: Host) -> list[Collector]:
    return [c for c in ALL_COLLECTORS if c.applies_to(host)]
