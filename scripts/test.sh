#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs the real peers the
# tests start (OpenSSH server, nftables, iptables, a Samba AD domain controller,
# borg and restic repositories, openssl for the RFC 3161 Time-Stamp Authority (`openssl ts -reply`) and the pack's
# plain-tools recipe, systemd-analyze to verify the schedule's units offline, Chromium and LibreOffice to open the report and the workbook, pdftotext)
# and the Python packages, then runs pytest.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
ensure_debian_packages "${LAB_PACKAGES[@]}" systemd-analyze:systemd restic:restic chromium:chromium soffice:libreoffice-calc pdftotext:poppler-utils
ensure_debian_libraries "${PDF_LIBRARIES[@]}"
ensure_venv test
cd "$repo"
exec "$repo/.venv/bin/python" -m pytest "$@"
