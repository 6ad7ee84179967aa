// Command socket is the size check's program that sends with netlog's
// socket handler only; scripts/test.sh compares its size with slogjson's.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/netlog-go/netlog"
)

func main() {
	h, err := netlog.NewSocketHandler("tcp", "127.0.0.1:9020", nil)
	if err != nil {
		os.Exit(1)
	}
	slog.New(h).Info("hello", "n", 1)
	h.Close(context.Background())
}
