#!/usr/bin/env bash
# The whole test suite, as the README gives it and CI runs it: installs the
# interop peers, checks formatting and vet, runs every test with the race
# detector (a missing peer fails, never skips), fuzzes each parser for a
# while, and runs each benchmark (and bench/'s side-by-side suite) once so
# that none rots.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v go >/dev/null 2>&1 || { echo "test: Go 1.25 or newer is required (https://go.dev/dl/)" >&2; exit 1; }
# Go's build cache and the unpacked syslog-ng live under $HOME/.cache.
[ -n "${HOME:-}" ] || export HOME=/tmp
bash scripts/install-peers.sh

export NETLOG_REQUIRE_PEERS=1

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "test: gofmt would change: $unformatted" >&2
  exit 1
fi
# The library and the command are separate modules in one workspace
# (go.work); ./... covers only the module it is in, so each is named.
modules=(./... ./cmd/netlog/...)
go vet "${modules[@]}"
bash scripts/platforms.sh
go test -race -count=1 "${modules[@]}"
go test -run '^$' -bench . -benchtime 1x "${modules[@]}" >/dev/null
echo "test: benchmarks ran once each"
# Each fuzz target, briefly: its seed corpus (testdata/fuzz) and then new
# inputs. NETLOG_FUZZTIME sets how long each runs. Minimising an input
# is bounded to 2 s: with Go's default, 60 s, FuzzReceivePath spent a
# whole short run minimising its first new inputs (about 100 executions).
# Go before 1.27 may end a clean run with a bare "context deadline
# exceeded" (its coordinator races the -fuzztime deadline:
# go.dev/issue/75804); a real finding always writes its input to
# testdata/fuzz, so only that, or any other failure, fails.
for target in internal/pickle:FuzzDecode internal/pickle:FuzzFastPath record:FuzzDecodeJSON internal/transport:FuzzFrameReader internal/transport:FuzzSyslogReader \
  internal/syslog:FuzzParse internal/relp:FuzzReader internal/mail:FuzzHeaderText .:FuzzOpen \
  receive:FuzzReceivePath cmd/netlog:FuzzConfig internal/otlp:FuzzRequest internal/spool:FuzzSegment; do
  pkg=${target%%:*} name=${target#*:}
  if ! out=$(go test -run '^$' -fuzz "^$name\$" -fuzztime "${NETLOG_FUZZTIME:-10s}" -fuzzminimizetime 2s "./$pkg" 2>&1); then
    if echo "$out" | grep -q 'context deadline exceeded' && ! echo "$out" | grep -q 'Failing input written'; then
      echo "test: $name: the deadline race of Go's fuzz coordinator, no finding (go.dev/issue/75804)"
    else
      echo "$out" >&2
      exit 1
    fi
  fi
  echo "test: $name: $(echo "$out" | grep -o 'execs: [0-9]*' | tail -1)"
done
bash scripts/sizecheck.sh
# The side-by-side suites (their own module): build, test, and run every
# sender and every receiver and relay on a few records.
(cd bench && go vet ./... && go test -race -count=1 ./... && go run . -n 2000 -chart '' >/dev/null && go run . -receivers -n 2000 -chart '' >/dev/null && go run . -relp -n 2000 >/dev/null && go run . -relay -n 2000 -chart '' >/dev/null && go run . -durable -n 2000 >/dev/null)
echo "test: bench/ ran every contender, every receiver, every relay and every queue"
