// Command openim-test-components is TEST INFRASTRUCTURE for openim-supervisor,
// not part of any package we ship: it serves, on loopback, the two components
// of the real OpenIM 3.8.3 that Debian does not package, so the tests can run
// the real OpenIM binaries:
//
//   - a Kafka-protocol broker (github.com/twmb/franz-go/pkg/kfake, in memory)
//     with OpenIM's topics (toRedis, toMongo, toPush, toOfflinePush) seeded
//     with 8 partitions; other topics are created on first use with 8
//     partitions, so every test deployment can use topic names of its own;
//   - an S3-compatible object store (github.com/johannesboyne/gofakes3 with its
//     in-memory backend) for openim-rpc-third's "minio" object storage. It
//     accepts any access key and secret (it does not check signatures).
//
// Nothing is kept on disk: a restart starts empty.
//
//	openim-test-components -kafka 127.0.0.1:19094 -s3 127.0.0.1:19005
//
// With -secure-dir DIR it also serves a Kafka that speaks only TLS (with
// client certificates) and SASL PLAIN, on a free port, for tests of
// clients that follow kafka.yml's tls and login settings (secure.go).
//
// It is a module of its own (test/components/go.mod) so these dependencies
// stay out of the supervisor's go.mod. scripts/test-services.sh builds and
// starts it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/twmb/franz-go/pkg/kfake"
)

// openIMTopics are the topic names of OpenIM 3.8.3's kafka.yml.
var openIMTopics = []string{"toRedis", "toMongo", "toPush", "toOfflinePush"}

func main() {
	kafkaAddr := flag.String("kafka", "127.0.0.1:19094", "Kafka listen address (loopback only; empty: no Kafka)")
	s3Addr := flag.String("s3", "127.0.0.1:19005", "S3 listen address (empty: no S3)")
	partitions := flag.Int("partitions", 8, "partitions of seeded and auto-created topics")
	secureDir := flag.String("secure-dir", "", "also serve a TLS + SASL PLAIN Kafka on a free port; its CA, client certificate, login and address go to this dir (see secure.go)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *kafkaAddr, *s3Addr, *secureDir, *partitions); err != nil {
		fmt.Fprintln(os.Stderr, "openim-test-components:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, kafkaAddr, s3Addr, secureDir string, partitions int) error {
	if kafkaAddr == "" && s3Addr == "" && secureDir == "" {
		return errors.New("nothing to serve: give -kafka, -s3 and/or -secure-dir")
	}
	if secureDir != "" {
		c, err := startSecureKafka(secureDir, partitions)
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Fprintf(os.Stderr, "openim-test-components: Kafka with TLS and SASL PLAIN on %s, client files in %s\n",
			strings.Join(c.ListenAddrs(), ","), secureDir)
	}
	if kafkaAddr != "" {
		c, err := startKafka(kafkaAddr, partitions)
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Fprintf(os.Stderr, "openim-test-components: Kafka on %s, topics %s (%d partitions)\n",
			strings.Join(c.ListenAddrs(), ","), strings.Join(openIMTopics, ","), partitions)
	}
	errc := make(chan error, 1)
	if s3Addr != "" {
		srv, err := startS3(s3Addr, errc)
		if err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
		fmt.Fprintf(os.Stderr, "openim-test-components: S3 on http://%s\n", s3Addr)
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

// startKafka starts a one-broker kfake cluster on addr, which must be a
// loopback address (kfake always listens on 127.0.0.1).
func startKafka(addr string, partitions int) (*kfake.Cluster, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-kafka %q: %w", addr, err)
	}
	if host != "127.0.0.1" {
		return nil, fmt.Errorf("-kafka %q: the broker listens on 127.0.0.1 only; write 127.0.0.1:PORT", addr)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return nil, fmt.Errorf("-kafka %q: bad port", addr)
	}
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(partitions),
		kfake.SeedTopics(int32(partitions), openIMTopics...),
	)
	if err != nil {
		return nil, fmt.Errorf("start Kafka on %s: %w", addr, err)
	}
	return c, nil
}

// startS3 serves gofakes3 on addr; a serve error after start goes to errc.
func startS3(addr string, errc chan<- error) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start S3: %w", err)
	}
	fake := gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(false))
	srv := &http.Server{Handler: fake.Server(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("S3 on %s: %w", addr, err)
		}
	}()
	return srv, nil
}
