// Command slogjson is the size check's baseline: the socket program's
// work with slog's JSON handler on a TCP connection.
package main

import (
	"log/slog"
	"net"
	"os"
)

func main() {
	c, err := net.Dial("tcp", "127.0.0.1:9020")
	if err != nil {
		os.Exit(1)
	}
	slog.New(slog.NewJSONHandler(c, nil)).Info("hello", "n", 1)
	c.Close()
}
