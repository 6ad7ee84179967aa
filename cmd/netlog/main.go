// Command netlog receives log records over the network and prints them,
// and sends them.
//
//	netlog serve [flags]
//	netlog send [--to URL] [--level L] [--name N] [--attr k=v ...] [message ...]
//	netlog version
//
// serve listens by default on 127.0.0.1:9020/tcp and 127.0.0.1:9021/udp,
// Python's logging ports, and prints one line per record to standard
// output. send is logger(1) for every destination netlog.Open names: the
// message, or with none each line of standard input, as one record; its
// exit status is 1 if any record was not delivered. Run "netlog serve -h"
// or "netlog send -h" for the flags.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	_ "github.com/netlog-go/netlog/kafka" // kafka:// for --out and --to
	_ "github.com/netlog-go/netlog/otlp"  // otlp+http:// and otlp+https:// for serve --out and send --to
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: netlog serve [flags]
       netlog send [--to URL] [flags] [message ...]
       netlog version

Commands:
  serve   receive records from Python's SocketHandler/DatagramHandler,
          syslog senders and netlog's handlers, and print them
  send    send the message, or each line of standard input, as a record
          to the destination URL (default ` + DefaultTo + `)
  version print the module version and the commit it was built from`

// run is the whole command, so that tests can run it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "send":
		return send(ctx, args[1:], stdin, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, version())
		return 0
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "netlog: unknown command %q\n%s\n", args[0], usage)
	return 2
}

// version says which netlog this is, from the build information Go
// embeds: the module version (a tag with go install …@version, a
// pseudo-version naming the commit in a checkout built with go build),
// and the commit when the version does not name one (go run).
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "netlog (no build information)"
	}
	v := "netlog " + bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && bi.Main.Version == "(devel)" {
			v += " " + s.Value[:min(12, len(s.Value))]
		}
	}
	return v + " " + bi.GoVersion
}
