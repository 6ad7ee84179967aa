#!/usr/bin/env bash
# The size check of issue 12: a program that only sends with
# NewSocketHandler (internal/sizecheck/socket) against the same program
# with slog.NewJSONHandler on a TCP connection (internal/sizecheck/slogjson).
# It fails if no parsing code (the receiver's decoders, the syslog parsers)
# is left out of the sender, or if the difference grows over
# NETLOG_SIZE_LIMIT bytes. The issue's target is 1.5 MB; the limit stays
# above it while the socket handler links crypto/tls (its "tls" network)
# and the root package imports go-mail (the SMTP handler): see
# docs/design.md, "Binary size".
set -euo pipefail
cd "$(dirname "$0")/.."

limit=${NETLOG_SIZE_LIMIT:-5000000}
target=1500000
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/socket" ./internal/sizecheck/socket
go build -o "$dir/slogjson" ./internal/sizecheck/slogjson
socket=$(wc -c <"$dir/socket")
json=$(wc -c <"$dir/slogjson")
diff=$((socket - json))
echo "sizecheck: socket-only sender $socket bytes, slog.NewJSONHandler $json bytes: +$diff (target +$target, limit +$limit)"
if parsers=$(go tool nm "$dir/socket" | grep -E ' T .*(internal/pickle\.Decode|internal/syslog\.Parse|go-syslog/v4/(rfc5424|rfc3164|octetcounting)|netlog/record\.Decode|netlog/receive\.)'); then
  echo "sizecheck: parsing code linked into a sender:" >&2
  echo "$parsers" | head >&2
  exit 1
fi
if [ "$diff" -gt "$limit" ]; then
  echo "sizecheck: the socket-only sender grew over the limit" >&2
  exit 1
fi
if [ "$diff" -gt "$target" ]; then
  echo "sizecheck: over issue 12's target by $((diff - target)) bytes (crypto/tls and go-mail; see docs/design.md)"
fi
