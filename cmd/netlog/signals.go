package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// outputHooks is what netlog serve needs from its outputs besides
// writing records: each output's check for /healthz, and the Reopen of
// each output that is a file, which SIGHUP calls (after an external
// rotation moved the file away).
type outputHooks struct {
	health []outputCheck
	reopen []func() error
}

// onHangup calls every reopen function at each SIGHUP, reporting on
// stderr, until the returned stop is called. Catching SIGHUP is also
// what keeps it from ending the process, its default.
func onHangup(reopen []func() error, stderr io.Writer) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range hup {
			failed := 0
			for _, r := range reopen {
				if err := r(); err != nil {
					fmt.Fprintln(stderr, "netlog: SIGHUP: reopen:", err)
					failed++
				}
			}
			fmt.Fprintf(stderr, "netlog: SIGHUP: reopened %d of %d output files\n", len(reopen)-failed, len(reopen))
		}
	}()
	return func() {
		signal.Stop(hup)
		close(hup)
		<-done
	}
}
