#!/usr/bin/env bash
# The size check of issue 12: a program that only sends with
# NewSocketHandler (internal/sizecheck/socket) against the same program
# with slog.NewJSONHandler on a TCP connection (internal/sizecheck/slogjson).
# It fails if the difference is over NETLOG_SIZE_LIMIT bytes (default: the
# issue's target, 1.5 MB), or if the sender links what it never asks for:
# parsing code (the receiver's decoders, the syslog parsers), crypto/tls
# (package tlsclient's), or the SMTP client (package smtp's). See
# docs/design.md, "Binary size".
set -euo pipefail
cd "$(dirname "$0")/.."

limit=${NETLOG_SIZE_LIMIT:-1500000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/socket" ./internal/sizecheck/socket
go build -o "$dir/slogjson" ./internal/sizecheck/slogjson
socket=$(wc -c <"$dir/socket")
json=$(wc -c <"$dir/slogjson")
diff=$((socket - json))
echo "sizecheck: socket-only sender $socket bytes, slog.NewJSONHandler $json bytes: +$diff (limit +$limit)"
unwanted='internal/pickle\.Decode|internal/syslog\.Parse|go-syslog/v4/(rfc5424|rfc3164|octetcounting)|netlog/record\.Decode|netlog/receive\.|crypto/tls\.|crypto/x509\.|wneessen/go-mail'
if linked=$(go tool nm "$dir/socket" | grep -E " [TtRrDd] .*($unwanted)"); then
  echo "sizecheck: linked into a socket-only sender, which never asks for it:" >&2
  echo "$linked" | head >&2
  exit 1
fi
if [ "$diff" -gt "$limit" ]; then
  echo "sizecheck: the socket-only sender is over the limit by $((diff - limit)) bytes" >&2
  exit 1
fi
