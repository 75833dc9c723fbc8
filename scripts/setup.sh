# Sourced by demo.sh and test.sh: installs what auditpack needs on Debian, from nothing.
# Idempotent: what is already there is left alone.

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "auditpack setup: root is needed to run: $*" >&2; return 1
  fi
}

install_debian_packages() {
  echo "auditpack setup: installing Debian packages: $*" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Each argument is COMMAND:PACKAGE[,PACKAGE…]; the packages are installed when the command is missing.
has_command() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

ensure_debian_packages() {
  local missing=() pair pkgs
  for pair in "$@"; do
    has_command "${pair%%:*}" && continue
    IFS=, read -r -a pkgs <<< "${pair#*:}"
    missing+=("${pkgs[@]}")
  done
  [ "${#missing[@]}" -eq 0 ] || install_debian_packages "${missing[@]}"
}

# Each argument is a Debian package (a library, which has no command to look for); installed when missing.
ensure_debian_libraries() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] || install_debian_packages "${missing[@]}"
}

# What the demo lab's real peers need: a Samba AD DC, OpenSSH, sudo (the SSH audit account is not root), nftables in
# network namespaces, borg, faketime, and
# openssl (certificates, and the Time-Stamp Authority: `openssl ts -reply`, dated by the lab's clock through faketime).
LAB_PACKAGES=(nft:nftables iptables-save:iptables sshd:openssh-server ssh-keygen:openssh-client sudo:sudo unshare:util-linux
  nsenter:util-linux openssl:openssl samba:samba-ad-dc,samba-ad-provision ldbadd:ldb-tools faketime:faketime borg:borgbackup)

# What the PDF report (WeasyPrint) needs from the system: Pango for text layout, and a font.
PDF_LIBRARIES=(libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)

# Creates .venv (Python >= 3.11) and installs auditpack into it, with the demo lab (lab/, a distribution of its own
# that adds `auditpack lab` and `auditpack demo`); $1 is the pip extra, if any.
ensure_venv() {
  ensure_debian_packages python3:python3
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "auditpack needs Python 3.11 or newer; this python3 is $(python3 -V)" >&2; return 1; }
  python3 -c 'import ensurepip, venv' 2>/dev/null || install_debian_packages python3-venv
  [ -x "$repo/.venv/bin/python" ] || python3 -m venv "$repo/.venv"
  "$repo/.venv/bin/python" -m pip install -q --disable-pip-version-check -e "$repo${1:+[$1]}" -e "$repo/lab"
}
