package main

import (
	"bufio"
	"encoding/binary"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestServeSocketActivation passes the binary two sockets as systemd
// does (descriptors 3 and 4, LISTEN_FDS, LISTEN_FDNAMES, and LISTEN_PID
// set to its pid by the shell that execs it): the listeners named
// systemd:NAME serve them, and what is sent to their addresses arrives.
func TestServeSocketActivation(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	lnFile, _ := ln.(*net.TCPListener).File()
	pcFile, _ := pc.(*net.UDPConn).File()
	defer lnFile.Close()
	defer pcFile.Close()
	cmd := exec.Command("sh", "-c", `LISTEN_PID=$$ exec "$0" "$@"`, buildNetlog(t), "serve",
		"--tcp", "", "--syslog-tcp", "systemd:syslog", "--udp", "systemd:frames")
	cmd.ExtraFiles = []*os.File{lnFile, pcFile}
	cmd.Env = append(os.Environ(), "LISTEN_FDS=2", "LISTEN_FDNAMES=syslog:frames")
	b := startCmd(t, 2, cmd)
	if b.addrs["syslog+tcp"] != ln.Addr().String() || b.addrs["udp"] != pc.LocalAddr().String() {
		t.Fatalf("listening on %v; systemd passed %s and %s", b.addrs, ln.Addr(), pc.LocalAddr())
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("<13>1 2026-12-01T10:00:00Z host app - - - over an inherited socket\n"))
	payload := `{"name":"dgram","msg":"a datagram on an inherited socket","levelname":"INFO","levelno":20}`
	u, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(payload))), payload...))
	printed := bufio.NewScanner(b.stdout)
	var got []string
	for len(got) < 2 && printed.Scan() {
		got = append(got, printed.Text())
	}
	if all := strings.Join(got, "\n"); !strings.Contains(all, "over an inherited socket") || !strings.Contains(all, "a datagram on an inherited socket") {
		t.Errorf("printed %q", got)
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	if err := b.cmd.Wait(); err != nil {
		t.Errorf("exit: %v", err)
	}
}

// TestSocketActivationErrors: a systemd: address names a socket that
// was not passed.
func TestSocketActivationErrors(t *testing.T) {
	t.Setenv("LISTEN_PID", "")
	if code, stderr := runServe("--tcp", "systemd:frames", "--udp", ""); code != 1 || !strings.Contains(stderr, "--tcp: systemd passed no sockets to this process") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	t.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()))
	t.Setenv("LISTEN_FDS", "0")
	if code, stderr := runServe("--tcp", "", "--udp", "systemd:frames"); code != 1 || !strings.Contains(stderr, `--udp: systemd passed no socket named "frames"`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
