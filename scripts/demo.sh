#!/usr/bin/env bash
# The main job on the built-in default, from a fresh Debian machine: install, start the demo lab
# (Klantcontact Demo BV on loopback addresses), collect, evaluate, write the report, build and
# verify the signed pack, stop the lab. Needs root: the lab binds privileged ports and makes
# network namespaces.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
ensure_debian_packages "${LAB_PACKAGES[@]}"
ensure_debian_libraries "${PDF_LIBRARIES[@]}"
ensure_venv
cd "$repo"
if [ "$(id -u)" -ne 0 ]; then
  exec sudo "$repo/.venv/bin/auditpack" demo "$@"
fi
exec "$repo/.venv/bin/auditpack" demo "$@"
