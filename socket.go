package netlog

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/netlog-go/netlog/internal/transport"
)

// NewSocketHandler returns the handler Python calls SocketHandler: it sends
// each record as one length-prefixed frame over a stream connection.
// network is "tcp", "tcp4", "tcp6", "unix" or "tls" (TCP with TLS, verified
// as Options.TLS says; Python's SocketHandler has none; it needs package
// netlog/tlsclient imported);
// address is "host:port" or a socket path. Nothing is dialed until the first record, so a receiver that
// is not up yet is not an error; a malformed address, an unknown network or
// codec, or a bad Backoff are.
func NewSocketHandler(network, address string, opts *Options) (Handler, error) {
	return newHandler(network, address, opts, true)
}

// NewDatagramHandler returns the handler Python calls DatagramHandler: it
// sends each record as one datagram holding the same frame as
// NewSocketHandler, length prefix included. network is "udp", "udp4",
// "udp6" or "unixgram". A record whose frame is larger than
// Options.MaxDatagram is refused with ErrTooLarge, never truncated.
func NewDatagramHandler(network, address string, opts *Options) (Handler, error) {
	return newHandler(network, address, opts, false)
}

func newHandler(network, address string, opts *Options, stream bool) (*socketHandler, error) {
	if opts == nil {
		opts = &Options{}
	}
	networks := []string{"udp", "udp4", "udp6", "unixgram"}
	maxFrame := 0
	if stream {
		networks = []string{"tcp", "tcp4", "tcp6", "unix", "tls"}
	} else {
		maxFrame = opts.MaxDatagram
		if maxFrame == 0 {
			maxFrame = DefaultMaxDatagram
		}
		if maxFrame < transport.PrefixLen {
			return nil, fmt.Errorf("netlog: %s %s: MaxDatagram %d is too small for any frame", network, address, maxFrame)
		}
	}
	dest := network + " " + strings.Join(append([]string{address}, opts.Fallbacks...), ",")
	dial, err := dialer(network, address, opts, networks...)
	if err != nil {
		return nil, fmt.Errorf("netlog: %s: %w", dest, err)
	}
	fallbacks, err := fallbacks(network, opts, func(a string) (dialFunc, error) { return dialer(network, a, opts, networks...) })
	if err != nil {
		return nil, fmt.Errorf("netlog: %s: %w", dest, err)
	}
	link, err := transport.NewLink(transport.Config{
		Dial:          dial,
		DialTimeout:   opts.DialTimeout,
		WriteTimeout:  opts.WriteTimeout,
		Backoff:       opts.Backoff.internal(),
		Stream:        stream,
		Name:          address,
		Fallbacks:     fallbacks,
		FailoverAfter: opts.FailoverAfter,
	})
	if err != nil {
		return nil, fmt.Errorf("netlog: %s: %w", dest, err)
	}
	c, err := newCore(opts, dest, link, maxFrame)
	if err != nil {
		return nil, fmt.Errorf("netlog: %s: %w", dest, err)
	}
	return &socketHandler{c: c}, nil
}

type dialFunc = func(context.Context) (net.Conn, error)

// fallbacks checks o.Fallbacks, addresses on network, and returns how to
// reach each; dial checks one and says how to connect to it.
func fallbacks(network string, o *Options, dial func(address string) (dialFunc, error)) ([]transport.Dest, error) {
	var ds []transport.Dest
	for _, a := range o.Fallbacks {
		if scheme, _, ok := strings.Cut(a, "://"); ok {
			return nil, fmt.Errorf("fallback %q: a fallback is an address on the handler's network %q, not a URL (%s)", a, network, scheme)
		}
		d, err := dial(a)
		if err != nil {
			return nil, fmt.Errorf("fallback %q: %w", a, err)
		}
		ds = append(ds, transport.Dest{Name: a, Dial: d})
	}
	return ds, nil
}

// dialer checks network and address and returns how to connect: over TLS,
// verified, for the "tls" network, which TLS options must go with.
func dialer(network, address string, o *Options, networks ...string) (dialFunc, error) {
	var d net.Dialer
	if !slices.Contains(networks, network) {
		return nil, transport.CheckAddress(network, address, networks...) // names the networks
	}
	if network != "tls" {
		if o.TLS != nil {
			return nil, fmt.Errorf("TLS applies only to the tls network, not %q", network)
		}
		if err := transport.CheckAddress(network, address, networks...); err != nil {
			return nil, err
		}
		return func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, network, address) }, nil
	}
	if err := transport.CheckAddress("tcp", address, "tcp"); err != nil {
		return nil, err
	}
	return tlsDialer(address, o)
}
