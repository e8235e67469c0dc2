// B3: a franz-go consumer, the fastest Kafka client we know of, with the
// JavaScript clients' fetch settings (maxWait 500 ms, min bytes 1, 10 MiB per
// fetch, 1 MiB per partition), a fresh group from earliest, and a no-op
// handler that sums the values' sizes. It speaks bench/clients/report.mjs's
// line protocol on stdout and exits when its stdin closes.
//
//	franz-consumer <brokers> <topic> <group> <expected> poll
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// emit prints one protocol line: {"bench": event, ...fields}.
func emit(event string, fields map[string]any) {
	line := map[string]any{"bench": event}
	for k, v := range fields {
		line[k] = v
	}
	out, _ := json.Marshal(line)
	os.Stdout.Write(append(out, '\n'))
}

func fail(err error) {
	emit("error", map[string]any{"message": err.Error()})
	os.Exit(1)
}

// counter is the no-op handler's bookkeeping: messages, value bytes, and the
// window from the first message to the expected last one.
type counter struct {
	expected int
	messages int
	bytes    int
	first    time.Time
}

// see counts one record; true once the expected count was reached.
func (c *counter) see(value []byte) bool {
	if c.messages == 0 {
		c.first = time.Now()
		emit("first", nil)
	}
	c.bytes += len(value)
	c.messages++
	if c.messages == c.expected {
		elapsed := float64(time.Since(c.first).Nanoseconds()) / 1e6
		emit("done", map[string]any{"messages": c.messages, "bytes": c.bytes, "elapsedMs": elapsed})
		return true
	}
	return false
}

func main() {
	if len(os.Args) != 6 {
		fail(fmt.Errorf("usage: <brokers> <topic> <group> <expected messages> poll"))
	}
	brokers, topic, group := strings.Split(os.Args[1], ","), os.Args[2], os.Args[3]
	expected, err := strconv.Atoi(os.Args[4])
	if err != nil || expected < 1 {
		fail(fmt.Errorf("expected messages must be a positive integer: current value is %q", os.Args[4]))
	}
	client, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ClientID("bench-franz"),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(30*time.Second),
		kgo.RebalanceTimeout(60*time.Second),
		kgo.HeartbeatInterval(3*time.Second),
		kgo.FetchMaxWait(500*time.Millisecond),
		kgo.FetchMinBytes(1),
		kgo.FetchMaxBytes(10*1024*1024),
		kgo.FetchMaxPartitionBytes(1024*1024),
	)
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// The benchmark closes stdin to ask the client to stop.
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	c := counter{expected: expected}
	done := false
	for !done {
		fetches := client.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fetches.EachError(func(t string, p int32, err error) {
			fail(fmt.Errorf("fetching %s[%d]: %w", t, p, err))
		})
		fetches.EachRecord(func(r *kgo.Record) {
			if c.see(r.Value) {
				done = true
			}
		})
	}
	<-ctx.Done()
	client.Close()
}
