"""Recognise anti-virus and backup agents in a process list. Pure: records in, matches out."""

from __future__ import annotations

from typing import Any

# Process image name (lower case, without .exe) -> (category, product). Names are the
# binaries' own, so they do not depend on the display language of the host.
KNOWN_AGENTS: dict[str, tuple[str, str]] = {
    "clamd": ("antivirus", "ClamAV daemon"),
    "freshclam": ("antivirus", "ClamAV signature updater"),
    "clamonacc": ("antivirus", "ClamAV on-access scanner"),
    "mfetpd": ("antivirus", "Trellix/McAfee Endpoint Security for Linux"),
    "masvc": ("antivirus", "Trellix/McAfee Agent"),
    "macmnsvc": ("antivirus", "Trellix/McAfee Agent common services"),
    "macompatsvc": ("antivirus", "Trellix/McAfee Agent compatibility service"),
    "mcshield": ("antivirus", "McAfee on-access scanner"),
    "mfemms": ("antivirus", "Trellix/McAfee management service"),
    "mfeesp": ("antivirus", "Trellix/McAfee Endpoint Security platform"),
    "msmpeng": ("antivirus", "Microsoft Defender Antivirus"),
    "wdavdaemon": ("antivirus", "Microsoft Defender for Endpoint (Linux)"),
    "falcon-sensor": ("antivirus", "CrowdStrike Falcon sensor"),
    "savd": ("antivirus", "Sophos Anti-Virus"),
    "sophos_threat_detector": ("antivirus", "Sophos threat detector"),
    "esets_daemon": ("antivirus", "ESET daemon"),
    "borg": ("backup", "BorgBackup"),
    "restic": ("backup", "restic"),
    "veeamservice": ("backup", "Veeam Agent for Linux"),
    "veeam.backup.service": ("backup", "Veeam Backup & Replication"),
    "veeamagent": ("backup", "Veeam agent"),
    "bacula-fd": ("backup", "Bacula file daemon"),
    "bareos-fd": ("backup", "Bareos file daemon"),
    "urbackupclientbackend": ("backup", "UrBackup client"),
    "wbengine": ("backup", "Windows Server Backup engine"),
    "duplicati.server": ("backup", "Duplicati"),
    "dsmcad": ("backup", "IBM Storage Protect client"),
}


def _image_name(name: str) -> str:
    lowered = name.lower()
    return lowered[:-4] if lowered.endswith(".exe") else lowered


def classify_processes(processes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every process that is a known security or backup agent, with its category and product."""
    found = []
    for proc in processes:
        known = KNOWN_AGENTS.get(_image_name(proc.get("name") or ""))
        if known:
            found.append(
                {
                    "pid": proc.get("pid"),
                    "name": proc.get("name"),
                    "exe": proc.get("exe"),
                    "category": known[0],
                    "product": known[1],
                }
            )
    return sorted(found, key=lambda p: (p["category"], p["name"] or "", p["pid"] or 0))
