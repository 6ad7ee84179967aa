#!/usr/bin/env bash
# Installs the real programs the interop tests talk to, on Debian or Ubuntu,
# if any is missing. Needs root or sudo to install; does nothing when all
# are present.
set -euo pipefail

# command → Debian package that provides it
declare -A peers=(
  [python3]=python3
  [rsyslogd]=rsyslog
  [logger]=bsdutils
  [openssl]=openssl
)
# rsyslog's TLS driver is a module, not a command.
extra=()
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ] || ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1 || extra+=(rsyslog-gnutls)

missing=("${extra[@]}")
for cmd in "${!peers[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${peers[$cmd]}")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-peers: all present: ${!peers[*]}"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-peers: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "install-peers: installing ${missing[*]}"
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
