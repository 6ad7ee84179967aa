package netlog

// Sink is sink for the benchmarks of package netlog_test: a loopback
// listener that discards what it receives.
var Sink = sink
