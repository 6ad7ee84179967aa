//go:build !windows

package transport

// unsupported refuses a network this platform lacks: none here.
func unsupported(string) error { return nil }
