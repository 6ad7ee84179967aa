// Command kfake runs franz-go's in-process Kafka cluster (pkg/kfake) as a
// program, so that netlog's tests can start, kill and restart a broker
// that speaks the Kafka wire protocol, as they do rsyslogd. It is its own
// module because kfake needs a newer Go than the netlog module asks of its
// users; scripts/install-peers.sh builds it into the peers' cache, where
// internal/peer finds it.
//
//	kfake -port 9092 -data-dir DIR -topic logs
//
// listens on 127.0.0.1:port, keeps its state in DIR (so that a restart on
// the same port and DIR serves the records produced before it), creates
// the topics named (one partition each), prints "ready" on stdout once it
// listens, and stops on SIGTERM or SIGINT.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 0, "port to listen on, on 127.0.0.1 (0: any free one)")
	dir := flag.String("data-dir", "", "directory that keeps the cluster's state across restarts")
	topics := flag.String("topic", "", "comma-separated topics to create, with one partition each")
	flag.Parse()
	opts := []kfake.Opt{kfake.Ports(*port), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1)}
	if *dir != "" {
		opts = append(opts, kfake.DataDir(*dir))
	}
	if *topics != "" {
		opts = append(opts, kfake.SeedTopics(1, strings.Split(*topics, ",")...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfake:", err)
		os.Exit(1)
	}
	fmt.Println("ready", strings.Join(c.ListenAddrs(), ","))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	c.Close()
}
