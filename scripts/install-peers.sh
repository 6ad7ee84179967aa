#!/usr/bin/env bash
# Installs the real programs the interop tests talk to, on Debian or Ubuntu,
# if any is missing. Needs root or sudo to install; does nothing when all
# are present.
set -euo pipefail

export PATH="$PATH:/usr/sbin:/sbin"

# command → Debian package that provides it
declare -A peers=(
  [python3]=python3
  [logrotate]=logrotate # external rotation of the file output, with SIGHUP (internal/rotate)
  [rsyslogd]=rsyslog
  [logger]=bsdutils
  [openssl]=openssl
  [ip]=iproute2
  [qemu-s390x-static]=qemu-user-static # the test command's big-endian and 32-bit ARM runs
  [stress-ng]=stress-ng                # acceptance runs under CPU load
  [kcat]=kcat                          # librdkafka's client: reads back what the Kafka tests produce
)
# rsyslog's TLS driver and RELP modules are modules, not commands.
extra=()
ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1 || extra+=(rsyslog-gnutls)
ls /usr/lib/*/rsyslog/imrelp.so >/dev/null 2>&1 || extra+=(rsyslog-relp)

missing=("${extra[@]}")
for cmd in "${!peers[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${peers[$cmd]}")
done
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-peers: need root or sudo to install peers" >&2; exit 1; }
  sudo=sudo
fi
# Python's smtpd is gone from 3.12 on; the SMTP interop test then uses aiosmtpd.
if command -v python3 >/dev/null 2>&1 && ! python3 -W ignore -c 'import smtpd' 2>/dev/null &&
   ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  missing+=(python3-aiosmtpd)
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-peers: all present: ${!peers[*]}"
else
  echo "install-peers: installing ${missing[*]}"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

# syslog-ng conflicts with rsyslog as Debian's system logger, so it runs
# from its unpacked packages in a cache directory (internal/peer finds it).
syslog_ng_dir="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/netlog-peers/syslog-ng" # as internal/peer looks for it
if ! command -v syslog-ng >/dev/null 2>&1 && [ ! -x "$syslog_ng_dir/usr/sbin/syslog-ng" ]; then
  echo "install-peers: unpacking syslog-ng into $syslog_ng_dir"
  tmp=$(mktemp -d)
  (cd "$tmp" && chmod 777 . && $sudo apt-get download syslog-ng-core libivykis0 libnet1 libwrap0 libpcre3) ||
    { $sudo apt-get update && (cd "$tmp" && $sudo apt-get download syslog-ng-core libivykis0 libnet1 libwrap0 libpcre3); }
  mkdir -p "$syslog_ng_dir"
  for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$syslog_ng_dir"; done
  rm -rf "$tmp"
fi

# The Kafka tests' broker is franz-go's kfake cluster, run as a program
# built from internal/peer/kfake (its own module: kfake needs a newer Go
# than netlog asks of its users) into the cache where internal/peer finds it.
kfake_dir="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/netlog-peers/kfake" # as internal/peer looks for it
kfake_src="$(cd "$(dirname "$0")/.." && pwd)/internal/peer/kfake"
if [ ! -x "$kfake_dir/kfake" ] || [ -n "$(find "$kfake_src" -newer "$kfake_dir/kfake" -type f)" ]; then
  echo "install-peers: building kfake into $kfake_dir"
  mkdir -p "$kfake_dir"
  (cd "$kfake_src" && GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" go build -o "$kfake_dir/kfake" .) # no VCS stamp: a fresh clone's ownership can make git refuse
fi

# The OpenTelemetry Collector: built from its Go modules (internal/peer/otelcol,
# a module of its own, every collector module at one release) into the cache
# where internal/peer looks for it; rebuilt when its source changes.
otelcol_dir="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/netlog-peers/otelcol" # as internal/peer looks for it
otelcol_src="$(cd "$(dirname "$0")/.." && pwd)/internal/peer/otelcol"
if [ ! -x "$otelcol_dir/netlog-otelcol" ] || [ -n "$(find "$otelcol_src" -newer "$otelcol_dir/netlog-otelcol" -type f)" ]; then
  echo "install-peers: building the OpenTelemetry Collector into $otelcol_dir (a few minutes the first time)"
  mkdir -p "$otelcol_dir"
  (cd "$otelcol_src" && GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -o "$otelcol_dir/netlog-otelcol.new" . &&
    mv "$otelcol_dir/netlog-otelcol.new" "$otelcol_dir/netlog-otelcol")
fi
