package transport

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// maxUnixPath is the size of sockaddr_un.sun_path less its terminating NUL
// on Linux.
const maxUnixPath = 107

// CheckAddress validates a network and address the way net.Dial takes
// them, without resolving anything, and names the bad part in its error.
// networks lists the networks the caller accepts.
func CheckAddress(network, address string, networks ...string) error {
	known := false
	for _, n := range networks {
		known = known || n == network
	}
	if !known {
		return fmt.Errorf("unknown network %q (want one of %s)", network, strings.Join(networks, ", "))
	}
	if strings.HasPrefix(network, "unix") {
		switch {
		case unsupported(network) != nil:
			return unsupported(network)
		case address == "":
			return fmt.Errorf("empty Unix socket path for network %q", network)
		case len(address) > maxUnixPath:
			return fmt.Errorf("unix socket path %q is %d bytes, over the limit of %d", address, len(address), maxUnixPath)
		}
		return nil
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("bad address %q: %w", address, err)
	}
	if err := checkPort(network, port); err != nil {
		return fmt.Errorf("bad address %q: %w", address, err)
	}
	if err := checkHost(host); err != nil {
		return fmt.Errorf("bad address %q: %w", address, err)
	}
	return nil
}

func checkPort(network, port string) error {
	if port == "" {
		return fmt.Errorf("missing port")
	}
	if n, err := strconv.Atoi(port); err == nil {
		if n < 1 || n > 65535 {
			return fmt.Errorf("port %d is outside 1-65535", n)
		}
		return nil
	}
	// A service name such as "syslog"; /etc/services, no network lookup.
	if _, err := net.LookupPort(network, port); err != nil {
		return fmt.Errorf("unknown port %q", port)
	}
	return nil
}

// checkHost accepts an IP address or a syntactically valid host name; an
// empty host means the local system, as in net.Dial.
func checkHost(host string) error {
	if host == "" || net.ParseIP(host) != nil {
		return nil
	}
	if len(host) > 253 {
		return fmt.Errorf("host name of %d bytes is over 253", len(host))
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("bad host %q: empty or over-long label", host)
		}
		for _, c := range label {
			if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return fmt.Errorf("bad host %q: character %q", host, c)
			}
		}
	}
	return nil
}
