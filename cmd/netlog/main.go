// Command netlog receives log records over the network and prints them.
//
//	netlog serve [flags]
//
// By default it listens on 127.0.0.1:9020/tcp and 127.0.0.1:9021/udp,
// Python's logging ports, and prints one line per record to standard
// output. Run "netlog serve -h" for the flags.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: netlog serve [flags]

Commands:
  serve   receive records from Python's SocketHandler/DatagramHandler and
          netlog's handlers, and print them`

// run is the whole command, so that tests can run it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "netlog: unknown command %q\n%s\n", args[0], usage)
	return 2
}
