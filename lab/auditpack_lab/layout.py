"""Where the lab's hosts listen and which throwaway credentials they take. Loopback only."""

from __future__ import annotations

FIREWALL = "127.0.2.1"
DOMAIN_CONTROLLER = "127.0.2.10"
FILE_SERVER = "127.0.2.11"
BACKUP_SERVER = "127.0.2.20"
AV_CONSOLE = "127.0.2.30"
TSA = "127.0.9.1"  # the Time-Stamp Authority the company uses (an outside service, so not in its 127.0.2.0/24)
WINRM_PORT = 5985
EPO_PORT = 8443
TSA_PORT = 3161


def workstation_address(number: int) -> str:
    """WS-001 listens on 127.0.3.1, WS-100 on 127.0.3.100."""
    return f"127.0.3.{number}"


# The lab's read-only audit account on the directory, the Windows hosts and the console. These are
# throwaway secrets of a lab that only listens on loopback; the inventory refers to them through
# environment variables, as a real site's inventory would.
AUDIT_ACCOUNT = "svc-auditpack"
AUDIT_PASSWORD = "Lab-Alleen-Lezen-2026!"
BORG_PASSPHRASE = "lab-borg-passphrase-2026"
PASSWORD_ENV = "KCDEMO_AUDIT_PASSWORD"
BORG_ENV = "KCDEMO_BORG_PASSPHRASE"
