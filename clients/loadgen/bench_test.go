package loadgen

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/servertest"
)

func TestRun(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	res, err := Run(context.Background(), Config{
		URL: n.URL, APIKey: u.APIKey,
		Sessions: 3, Viewers: 4, Rate: 50,
		Duration: 600 * time.Millisecond, Warmup: 200 * time.Millisecond,
		Settle: 50 * time.Millisecond, Payload: 300,
		ServerPID:     os.Getpid(),     // the node runs in this process
		SlowThreshold: time.Nanosecond, // every measured delivery counts as slow
		Logf:          t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res.WriteText(&out)
	t.Log("\n" + out.String())
	if res.PublishersConnected != 3 || res.ViewersConnected != 12 || res.ViewerConnectFailures != 0 {
		t.Fatalf("connections: %+v", res)
	}
	if res.SentMeasured < 3*25 || res.Sent != res.Planned || res.Acked != res.Sent {
		t.Errorf("sent %d measured, %d of %d planned, %d acked", res.SentMeasured, res.Sent, res.Planned, res.Acked)
	}
	if res.Expected != res.SentMeasured*4 || res.Received != res.Expected || res.Lost != 0 {
		t.Errorf("expected %d, received %d, lost %d", res.Expected, res.Received, res.Lost)
	}
	if res.WarmupReceived != (res.Sent-res.SentMeasured)*4 {
		t.Errorf("warm-up: received %d of %d", res.WarmupReceived, (res.Sent-res.SentMeasured)*4)
	}
	if res.Duplicates+res.OutOfOrder+res.Gaps+res.Malformed != 0 || res.ViewersDropped != 0 {
		t.Errorf("order: %+v", res)
	}
	l := res.Latency
	if !(l.P50 > 0 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
		t.Errorf("latency: %+v", l)
	}
	if res.Server == nil || res.Server.RSSAfterViewersKiB <= 0 || res.Server.CPUSeconds <= 0 {
		t.Errorf("server: %+v", res.Server)
	}
	if res.SlowDeliveries != res.Received || int64(len(res.Slow)) != res.Received || res.SlowDropped != 0 {
		t.Errorf("slow deliveries: %d counted, %d listed, %d received", res.SlowDeliveries, len(res.Slow), res.Received)
	}
	perSession := map[int]int64{}
	for i, d := range res.Slow {
		if i > 0 && d.At < res.Slow[i-1].At {
			t.Fatalf("slow deliveries out of order at %d: %v after %v", i, d.At, res.Slow[i-1].At)
		}
		if d.Latency <= 0 || d.At <= d.Latency {
			t.Fatalf("slow delivery %d: %+v", i, d)
		}
		perSession[d.Session]++
	}
	if len(perSession) != 3 {
		t.Errorf("slow deliveries by session: %v", perSession)
	}
	if !strings.Contains(out.String(), "lost 0") {
		t.Errorf("report:\n%s", out.String())
	}
}

func TestRunIdleAndFailures(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	res, err := Run(context.Background(), Config{
		URL: n.URL, APIKey: u.APIKey, Sessions: 1, Viewers: 5, Rate: 0,
		Duration: 100 * time.Millisecond, Settle: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ViewersConnected != 5 || res.Sent != 0 || res.Expected != 0 || res.SlowDeliveries != 0 || res.Slow != nil {
		t.Errorf("idle: %+v", res)
	}

	_, err = Run(context.Background(), Config{URL: n.URL, APIKey: "pzp_wrong", Sessions: 2, Viewers: 1, Duration: time.Second})
	if err == nil || !strings.Contains(err.Error(), "unauthorized") {
		t.Errorf("wrong key: %v", err)
	}
	if _, err := Run(context.Background(), Config{URL: n.URL, APIKey: "k", Sessions: 100, Viewers: 1000}); err == nil {
		t.Error("too many connections accepted")
	}
	if _, err := Run(context.Background(), Config{URL: n.URL, APIKey: "k", Duration: time.Hour}); err == nil {
		t.Error("unbounded duration accepted")
	}
	many := Config{URL: n.URL, APIKey: "k", Sessions: 1000, Viewers: 1, PublisherCommand: []string{"/bin/false"}}
	if _, err := Run(context.Background(), many); err == nil || !strings.Contains(err.Error(), "publisher process") {
		t.Errorf("a process for each of 1,000 sessions: %v", err)
	}
}

// TestRunPublisherProcess runs the publisher in a process of its own (this test binary again, as
// TestPublisherProcessHelper): every event is delivered, in order, with the timestamps of the
// child's clock read by the parent's viewers, and the child's counts come back.
func TestRunPublisherProcess(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	t.Setenv("LOADGEN_PUBLISHER_CHILD", "1")
	res, err := Run(context.Background(), Config{
		URL: n.URL, APIKey: u.APIKey,
		Sessions: 2, Viewers: 3, Rate: 50,
		Duration: 600 * time.Millisecond, Warmup: 200 * time.Millisecond,
		Settle: 50 * time.Millisecond, Payload: 300,
		PublisherCommand: []string{os.Args[0], "-test.run=^TestPublisherProcessHelper$"},
		Logf:             t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.PublishersConnected != 2 || res.ViewersConnected != 6 || res.PublishersFailed != 0 {
		t.Fatalf("connections: %+v", res)
	}
	if res.SentMeasured < 2*25 || res.Sent != res.Planned || res.Acked != res.Sent {
		t.Errorf("sent %d measured, %d of %d planned, %d acked", res.SentMeasured, res.Sent, res.Planned, res.Acked)
	}
	if res.Expected != res.SentMeasured*3 || res.Received != res.Expected || res.Duplicates+res.OutOfOrder+res.Gaps != 0 {
		t.Errorf("expected %d, received %d: %+v", res.Expected, res.Received, res)
	}
	// A clock of the child that disagreed with the parent's by more than the run would show as
	// negative latencies (recorded as 0) or latencies longer than the run.
	if l := res.Latency; !(l.P50 > 0 && l.Max < 10_000) {
		t.Errorf("latency: %+v", l)
	}
	if res.PublisherMaxEmitMs <= 0 || res.PublisherMaxBlockMs > res.PublisherMaxEmitMs {
		t.Errorf("publisher: block %.3f ms, emit %.3f ms", res.PublisherMaxBlockMs, res.PublisherMaxEmitMs)
	}
}

// TestPublisherProcessHelper is the publisher process of TestRunPublisherProcess.
func TestPublisherProcessHelper(t *testing.T) {
	if os.Getenv("LOADGEN_PUBLISHER_CHILD") != "1" {
		t.Skip("the publisher process of TestRunPublisherProcess")
	}
	if err := ServePublisher(context.Background(), os.Stdin, os.Stdout); err != nil {
		t.Fatal(err)
	}
}
