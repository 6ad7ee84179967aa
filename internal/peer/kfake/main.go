// Command kfake runs franz-go's in-process Kafka cluster (pkg/kfake) as a
// program, so that netlog's tests can start, kill and restart a broker
// that speaks the Kafka wire protocol, as they do rsyslogd. It is its own
// module because kfake needs a newer Go than the netlog module asks of its
// users; scripts/install-peers.sh builds it into the peers' cache, where
// internal/peer finds it.
//
//	kfake -port 9092 -data-dir DIR -topic logs [-tls-cert F -tls-key F] [-sasl MECHANISM:USER:PASSWORD]
//
// listens on 127.0.0.1:port, keeps its state in DIR (so that a restart on
// the same port and DIR serves the records produced before it), creates
// the topics named (one partition each), prints "ready" on stdout once it
// listens, and stops on SIGTERM or SIGINT. With -tls-cert and -tls-key it
// speaks TLS only; with -sasl it requires SASL (PLAIN, SCRAM-SHA-256 or
// SCRAM-SHA-512) with that user.
package main

import (
	"crypto/tls"
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
	cert := flag.String("tls-cert", "", "PEM certificate: listen with TLS")
	key := flag.String("tls-key", "", "PEM key of -tls-cert")
	user := flag.String("sasl", "", "MECHANISM:USER:PASSWORD: require SASL")
	flag.Parse()
	opts := []kfake.Opt{kfake.Ports(*port), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1)}
	if *dir != "" {
		opts = append(opts, kfake.DataDir(*dir))
	}
	if *topics != "" {
		opts = append(opts, kfake.SeedTopics(1, strings.Split(*topics, ",")...))
	}
	opts, err := secure(opts, *cert, *key, *user)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfake:", err)
		os.Exit(2)
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

// secure adds the TLS and SASL options asked for.
func secure(opts []kfake.Opt, cert, key, user string) ([]kfake.Opt, error) {
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{pair}}))
	}
	if user != "" {
		parts := strings.SplitN(user, ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("-sasl %q: want MECHANISM:USER:PASSWORD", user)
		}
		opts = append(opts, kfake.EnableSASL(), kfake.Superuser(parts[0], parts[1], parts[2]))
	}
	return opts, nil
}
