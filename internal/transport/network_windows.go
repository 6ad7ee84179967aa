package transport

import "fmt"

// unsupported refuses a network Windows lacks: it has Unix stream sockets
// but no Unix datagram sockets.
func unsupported(network string) error {
	if network == "unixgram" || network == "unixpacket" {
		return fmt.Errorf("network %q: windows has no Unix datagram sockets", network)
	}
	return nil
}
