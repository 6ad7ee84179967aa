package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// outputCheck is how an output reports to /healthz: check returns nil
// while the output can deliver (its destination is reachable), or why it
// cannot. It is called at each request, so it must not block.
type outputCheck struct {
	name  string
	check func() error
}

// alwaysHealthy is the check of an output that cannot be unreachable
// (standard output).
func alwaysHealthy() error { return nil }

// listenerState is one listener in /healthz's answer.
type listenerState struct {
	Listener string `json:"listener"`
	// State is bound (open, not served yet), accepting, draining (the
	// command is stopping), stopped or failed.
	State string `json:"state"`
	Error string `json:"error,omitempty"`
}

// health is what /healthz and /readyz report: the state of each listener
// and output, and whether netlog serve has started and not begun to stop.
type health struct {
	mu        sync.Mutex
	listeners []listenerState
	outputs   []outputCheck
	ready     bool
	draining  bool
	running   int
	stopped   chan struct{} // closed once every listener has stopped
}

// newHealth tracks the listeners ls: it wraps each one's serve so that
// its state follows.
func newHealth(ls []listener, outputs []outputCheck) *health {
	h := &health{outputs: outputs, running: len(ls), stopped: make(chan struct{})}
	for i := range ls {
		h.listeners = append(h.listeners, listenerState{Listener: ls[i].desc, State: "bound"})
		serve := ls[i].serve
		ls[i].serve = func(ctx context.Context) error {
			h.set(i, "accepting", nil)
			err := serve(ctx)
			h.set(i, "stopped", err)
			return err
		}
	}
	return h
}

// set records listener i's state; a listener that returns an error has
// failed, and one that starts after the drain has begun is draining.
func (h *health) set(i int, state string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err != nil:
		state = "failed"
		h.listeners[i].Error = err.Error()
	case state == "accepting" && h.draining:
		state = "draining"
	}
	h.listeners[i].State = state
	if state == "stopped" || state == "failed" {
		if h.running--; h.running == 0 {
			close(h.stopped)
		}
	}
}

// serving marks netlog serve ready, and tells systemd; when ctx ends,
// the drain begins: it is marked, and systemd told.
func (h *health) serving(ctx context.Context, stderr io.Writer) {
	h.mu.Lock()
	h.ready = true
	h.mu.Unlock()
	notify(stderr, "READY=1")
	context.AfterFunc(ctx, func() {
		h.mu.Lock()
		h.draining = true
		for i := range h.listeners {
			if h.listeners[i].State == "accepting" || h.listeners[i].State == "bound" {
				h.listeners[i].State = "draining"
			}
		}
		h.mu.Unlock()
		notify(stderr, "STOPPING=1")
	})
}

// outputState is one output in /healthz's answer.
type outputState struct {
	Output string `json:"output"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
}

// healthz answers 200 while every listener is accepting and every output
// reachable, else 503, with the state of each as JSON.
func (h *health) healthz(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	body := struct {
		Listeners []listenerState `json:"listeners"`
		Outputs   []outputState   `json:"outputs"`
	}{Listeners: append([]listenerState(nil), h.listeners...)}
	h.mu.Unlock()
	ok := true
	for _, l := range body.Listeners {
		ok = ok && l.State == "accepting"
	}
	for _, o := range h.outputs {
		s := outputState{Output: o.name, OK: true}
		if err := o.check(); err != nil {
			s.OK, s.Error, ok = false, err.Error(), false
		}
		body.Outputs = append(body.Outputs, s)
	}
	answer(w, ok, body)
}

// readyz answers 200 once every listener is bound and every output open,
// until the drain begins; else 503.
func (h *health) readyz(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	state := "starting"
	switch {
	case h.draining:
		state = "draining"
	case h.ready:
		state = "ready"
	}
	h.mu.Unlock()
	answer(w, state == "ready", struct {
		State string `json:"state"`
	}{state})
}

// answer writes body as JSON, with status 200 if ok, else 503.
func answer(w http.ResponseWriter, ok bool, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprintf(w, "%s\n", b)
}
