"""Shared by the CLI jobs: which inventory to use, and the collection runs of a period."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from auditpack.periods import Period

from .inventory import Inventory, load_inventory, parse_inventory
from .store import EvidenceStore

DEFAULT_INVENTORY_NAME = "inventory.yaml"


def builtin_inventory() -> Inventory:
    data = resources.files("auditpack").joinpath("default_inventory.yaml").read_bytes()
    return parse_inventory(data, "<built-in inventory>")


def find_inventory(path: str | None) -> Inventory:
    """The inventory named, else ./inventory.yaml, else the built-in one (this machine only)."""
    if path:
        return load_inventory(path)
    if Path(DEFAULT_INVENTORY_NAME).exists():
        return load_inventory(DEFAULT_INVENTORY_NAME)
    return builtin_inventory()


def run_rows(store: EvidenceStore, period: Period) -> list[dict[str, Any]]:
    """The period's collection runs as the report document lists them."""
    return [
        {
            "seq": ref.seq,
            "sha256": ref.sha256,
            "run_id": body["run_id"],
            "started": body["started"],
            "operator": body["operator"],
            "status": body["status"],
            "hosts": body["hosts"],
            "catalogue": (body.get("catalogue") or {}).get("version"),  # runs before catalogue versions: None
            "timestamp": store.timestamp_facts(ref, body),
        }
        for ref, body in store.manifests_started(period.start, period.end)
    ]
