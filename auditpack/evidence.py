"""What a collector hands to the store: one observation of one thing on one host."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, BinaryIO


class ItemStatus(StrEnum):
    OK = "ok"  # collected and parsed
    GARBLED = "garbled"  # collected, but the parser could not read it: raw kept, flagged
    ERROR = "error"  # the command or query failed on the host
    UNREACHABLE = "unreachable"  # the host could not be reached at all
    TIMEOUT = "timeout"  # the host's time budget ran out
    ABSENT = "absent"  # the thing looked for is not on this host (e.g. no nft binary)


@dataclass
class Observation:
    kind: str  # what it is evidence of, e.g. "host_firewall.nftables"
    command: str  # the exact command, query or API call that produced raw
    raw: bytes | BinaryIO  # output byte for byte (a spooled file for large outputs)
    started: datetime
    ended: datetime
    normalized: Any = None  # parsed records (JSON-able); None when parsing failed
    status: ItemStatus = ItemStatus.OK
    errors: list[str] = field(default_factory=list)
    tool_version: str = ""  # version of the program on the host that answered (nft, psutil…)
    # The day the evidence speaks for, when that is not the day it was read: a firewall backup of 1 March
    # imported on 3 March speaks for 1 March. None: the day it was collected.
    as_of: date | None = None
