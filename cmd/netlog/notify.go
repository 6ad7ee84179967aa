package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// notifyTimeout bounds the wait for a full notification socket.
const notifyTimeout = 5 * time.Second

// notify sends state ("READY=1") to the service manager, as
// sd_notify(3) does: one datagram to the Unix socket $NOTIFY_SOCKET
// names (a leading @ is Linux's abstract namespace, which package net
// handles). Without NOTIFY_SOCKET it does nothing; a failure is a
// warning, since the service manager then reports it too.
func notify(stderr io.Writer, state string) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err == nil {
		// A manager that does not read must not stop the server.
		c.SetWriteDeadline(time.Now().Add(notifyTimeout))
		_, err = c.Write([]byte(state))
		c.Close()
	}
	if err != nil {
		fmt.Fprintf(stderr, "netlog: warning: NOTIFY_SOCKET: %s: %v\n", state, err)
	}
}
