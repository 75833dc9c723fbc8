"""The runner: collectors over hosts, concurrently, each host within its own time budget.

One failing host never stops the run: an unreachable host, a crashing collector
or a host that runs out of time becomes evidence of its own, and the run is
marked partial.

Each collector gets a CommandGuard built from its own `allowed_commands`
(collectors/guard.py); its transports check every command against it before
sending. A command it does not declare is refused unsent and becomes an error
item naming the command and the collector; that collector stops for the host,
the others go on.

Collectors that can read only what is new (the Windows Security log, backup histories) get the store as their
CollectionHistory: where the last good read of a host ended, so the next asks from the day before that.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from typing import Any

from auditpack.collectors.base import CollectContext, CollectionHistory, Collector
from auditpack.collectors.guard import CommandGuard, CommandRefused, refusal
from auditpack.collectors.registry import collectors_for

from .canonical import canonical_json, utcnow
from .evidence import ItemStatus, Observation
from .inventory import Host, Inventory
from .store import EvidenceStore, ManifestRef, RunWriter

BAD_ITEM = {ItemStatus.ERROR, ItemStatus.GARBLED}


@dataclass
class HostOutcome:
    host: str
    status: str = "ok"  # ok | partial | unreachable | timeout
    items: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class RunResult:
    manifest: ManifestRef
    body: dict[str, Any]
    outcomes: list[HostOutcome]

    @property
    def partial(self) -> bool:
        return any(o.status != "ok" for o in self.outcomes)


class Progress:
    """Callbacks the CLI uses to draw per-host progress; the default draws nothing."""

    def host_started(self, host: Host, steps: int) -> None: ...

    def item_done(self, host: Host, obs: Observation) -> None: ...

    def host_finished(self, host: Host, outcome: HostOutcome) -> None: ...


def _crash_observation(collector: Collector, exc: BaseException, started) -> Observation:
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return Observation(
        kind=f"{collector.name}.crash",
        command=f"collector {collector.name}",
        raw=detail.encode(),
        started=started,
        ended=utcnow(),
        status=ItemStatus.ERROR,
        errors=[f"collector {collector.name} failed: {detail}"],
    )


def _refused_observation(collector: Collector, command: str) -> Observation:
    now = utcnow()
    return Observation(
        kind=f"{collector.name}.refused",
        command=command,
        raw=b"",
        started=now,
        ended=now,
        status=ItemStatus.ERROR,
        errors=[refusal(collector.name, command)],
    )


def _collect_host(
    host: Host,
    run: RunWriter,
    operator: str,
    outcome: HostOutcome,
    progress: Progress,
    collectors: list[Collector],
    history: CollectionHistory | None = None,
) -> None:
    host_ctx = CollectContext(deadline=time.monotonic() + host.timeout, operator=operator, history=history)
    unreachable = False
    for collector in collectors:
        if unreachable and collector.transport == host.connection:
            continue  # its own connection failed; other transports (LDAP to a DC) may still answer
        started = utcnow()
        guard = CommandGuard.for_collector(collector)
        try:
            for obs in collector.collect(host, replace(host_ctx, guard=guard)):
                if run.add(host.name, collector.name, obs) is None:
                    return  # the host was timed out meanwhile
                outcome.items += 1
                progress.item_done(host, obs)
                if obs.status == ItemStatus.UNREACHABLE and collector.transport in ("probe", host.connection):
                    outcome.status = "unreachable"
                    outcome.errors.extend(obs.errors)
                    unreachable = True
                elif obs.status in BAD_ITEM or obs.status == ItemStatus.UNREACHABLE:  # e.g. LDAP down, WinRM fine
                    outcome.status = "partial" if outcome.status == "ok" else outcome.status
                    outcome.errors.extend(obs.errors)
        except CommandRefused:
            pass  # recorded below from the guard, which also keeps refusals a collector caught itself
        except Exception as exc:  # a bug or surprise in one collector must not cost the other hosts
            _add_error(host, run, collector, outcome, _crash_observation(collector, exc, started))
        for command in guard.refused:
            _add_error(host, run, collector, outcome, _refused_observation(collector, command))


def _add_error(host: Host, run: RunWriter, collector: Collector, outcome: HostOutcome, obs: Observation) -> None:
    if run.add(host.name, collector.name, obs) is not None:
        outcome.items += 1
        outcome.status = "partial" if outcome.status == "ok" else outcome.status
        outcome.errors.extend(obs.errors)


def _run_one(host: Host, run: RunWriter, operator: str, progress: Progress, history: CollectionHistory) -> HostOutcome:
    outcome = HostOutcome(host.name)
    collectors = collectors_for(host)
    progress.host_started(host, len(collectors))
    start = time.monotonic()
    worker = threading.Thread(
        target=_collect_host,
        args=(host, run, operator, outcome, progress, collectors, history),
        name=f"collect-{host.name}",
        daemon=True,
    )
    worker.start()
    worker.join(host.timeout)
    outcome.seconds = time.monotonic() - start
    if worker.is_alive():
        # Python cannot kill a thread; it is abandoned (daemon) and its late answers are refused.
        message = f"timed out after {host.timeout:g} s; {outcome.items} item(s) were collected before"
        now = utcnow()
        run.add(
            host.name,
            "runner",
            Observation(
                kind="host.timeout",
                command=f"collect {host.name} within {host.timeout:g} s",
                raw=canonical_json({"timeout_seconds": host.timeout, "items_before": outcome.items}),
                started=now,
                ended=now,
                status=ItemStatus.TIMEOUT,
                errors=[message],
            ),
        )
        outcome.status, outcome.errors = "timeout", outcome.errors + [message]
    run.close_host(host, outcome.status, outcome.errors)
    progress.host_finished(host, outcome)
    return outcome


def run_collection(
    store: EvidenceStore,
    inventory: Inventory,
    hosts: list[Host],
    operator: str,
    workers: int = 8,
    progress: Progress | None = None,
) -> RunResult:
    progress = progress or Progress()
    run = store.begin_run(operator, inventory.path, inventory.sha256)
    todo: queue.Queue[Host] = queue.Queue()
    for host in hosts:
        todo.put(host)
    outcomes: dict[str, HostOutcome] = {}

    def work() -> None:
        while True:
            try:
                host = todo.get_nowait()
            except queue.Empty:
                return
            outcomes[host.name] = _run_one(host, run, operator, progress, store)

    threads = [threading.Thread(target=work, name=f"worker-{i}", daemon=True) for i in range(max(1, min(workers, len(hosts))))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ref, body = run.commit()
    return RunResult(ref, body, [outcomes[h.name] for h in hosts])
