#!/usr/bin/env bash
# The main job on the built-in default, from a fresh Debian machine: install, then
# collect evidence from this machine, evaluate, write the report, verify the store.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
# nftables/iptables let auditpack read this machine's firewall; without them that evidence is "absent".
if [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null 2>&1; then
  ensure_debian_packages nft:nftables iptables-save:iptables
  ensure_debian_libraries "${PDF_LIBRARIES[@]}"
fi
ensure_venv
cd "$repo"
exec "$repo/.venv/bin/auditpack" demo "$@"
