#!/usr/bin/env bash
# The platforms of docs/platforms.md: vets (so compiles, tests included)
# every target, then runs the unit tests (-short: interop tests skip) as
# 32-bit and as big-endian. 32-bit runs as linux/386 where this kernel
# executes 386 binaries, else as linux/arm under qemu-arm-static (qemu's
# i386 emulation crashes Go's 386 runtime); big-endian runs as linux/s390x
# under qemu-s390x-static. Needs qemu-user-static (install-peers.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
for target in linux/amd64 linux/386 linux/arm linux/arm64 linux/mips linux/riscv64 linux/s390x \
  darwin/amd64 darwin/arm64 windows/amd64 windows/arm64 \
  freebsd/amd64 openbsd/amd64 netbsd/amd64 solaris/amd64 illumos/amd64; do
  GOOS=${target%/*} GOARCH=${target#*/} go vet ./... ./cmd/netlog/... || { echo "platforms: go vet fails for $target" >&2; exit 1; }
done
echo "platforms: go vet clean for 16 targets ($((SECONDS - start)) s)"

# The unit-tested packages: cmd/netlog's tests start the command and real
# peers, so they run natively only.
pkgs=(. ./internal/mail ./internal/pickle ./internal/relp ./internal/spool ./internal/syslog ./internal/transport ./receive ./record ./internal/otlp ./otlp ./internal/kafka ./kafka)
# qemu-user passes neither TCP_QUICKACK (getsockopt) nor SO_RXQ_OVFL
# (ancillary data) on to the program, and a test that starts its own
# binary as a child cannot (the kernel does not run a foreign binary
# without binfmt_misc): these run in the native passes.
emulated='^(TestQuickAck|TestKernelDropsCounted|TestLockDirKilled|TestAllocFileDiskFull|TestDurableDiskFull|TestDurableReadOnly)$'
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'package main\nfunc main() {}\n' >"$probe/main.go"
if (cd "$probe" && GOARCH=386 go build -o probe main.go && ./probe) 2>/dev/null; then
  bits=(env GOARCH=386 go test -short -count=1)
else
  bits=(env GOARCH=arm GOARM=7 go test -short -count=1 -exec qemu-arm-static -skip "$emulated")
fi
start=$SECONDS
"${bits[@]}" "${pkgs[@]}"
echo "platforms: unit tests pass as 32-bit (${bits[1]}, $((SECONDS - start)) s)"
start=$SECONDS
GOARCH=s390x go test -short -count=1 -exec qemu-s390x-static -skip "$emulated" "${pkgs[@]}"
echo "platforms: unit tests pass as big-endian (s390x, $((SECONDS - start)) s)"
