package server_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/internal/syncbuf"
	"github.com/pizzapi/pizzapi/server/config"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestSlowViewerDropped (P5): a viewer that stops reading is dropped once its backlog passes
// --max-backlog-bytes while the relay cannot write to it, with the reason logged, and counted;
// the publisher is not held back meanwhile (each of its events is acknowledged before it sends
// more); a viewer that keeps reading gets every event in order; the backlog is a metric.
func TestSlowViewerDropped(t *testing.T) {
	logs := &syncbuf.Buffer{}
	n := servertest.StartLogged(t, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		func(c *config.Config) { c.MaxBacklogBytes = 64 << 10 })
	u := n.NewUser(t)
	c, reg := cli(t, n, u, "s-slow")
	fast := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-slow"}})
	fast.Next(t, "connected")

	slow := dialRaw(t, n)
	slow.send(`40/viewer,{"apiKey":"` + u.APIKey + `","sessionId":"s-slow"}`)
	for got := slow.next(); !strings.HasPrefix(got, "40/viewer,{"); got = slow.next() {
		if strings.HasPrefix(got, "44/") {
			t.Fatalf("viewer connect: %q", got)
		}
	}
	// From here on the slow viewer reads nothing: the socket buffers of the loopback connection
	// fill up, then its backlog on the relay grows.
	pad := strings.Repeat("p", 8<<10)
	dropped := `pizzapi_clients_dropped_total{namespace="/viewer"} 1`
	seq := 0
	deadline := time.Now().Add(20 * time.Second)
	for {
		for range 8 {
			seq++
			c.Emit(t, "event", agentEvent(reg, seq, `{"type":"x","pad":"`+pad+`"}`))
		}
		c.Take(t, "event_ack", 8)
		_, body := get(t, n.URL+"/metrics")
		if strings.Contains(body, dropped) {
			if !strings.Contains(body, `pizzapi_backlog_bytes{namespace="/viewer"}`) {
				t.Error("no backlog metric")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slow viewer was not dropped after %d events of 8 KiB:\n%s", seq, body)
		}
	}
	if !strings.Contains(logs.String(), `reason="client too slow: `) {
		t.Errorf("no reason logged for the dropped viewer:\n%s", logs.String())
	}
	evs := viewerEvents(t, fast.Take(t, "event", seq))
	for i, e := range evs {
		if e.Seq.Or(0) != int64(i+1) {
			t.Fatalf("fast viewer: event %d has seq %d", i, e.Seq.Or(0))
		}
	}
}
