package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/config"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestExpirySweep: an ephemeral session without activity expires; its CLI is told and
// disconnected, its viewers are told.
func TestExpirySweep(t *testing.T) {
	n := servertest.Start(t, func(c *config.Config) {
		c.EphemeralTTL = 400 * time.Millisecond
		c.SweepInterval = 100 * time.Millisecond
	})
	u := n.NewUser(t)
	c, _ := cli(t, n, u, "s-expire")
	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-expire"}})
	v.Next(t, "connected")
	h := n.Dial(t, "/hub", servertest.DialOptions{User: &u})
	h.Next(t, "sessions")
	var exp struct{ SessionID string }
	_ = json.Unmarshal(c.Next(t, "session_expired"), &exp)
	if exp.SessionID != "s-expire" {
		t.Fatalf("session_expired %+v", exp)
	}
	if r := c.WaitDisconnect(t); r != "io server disconnect" {
		t.Fatalf("CLI disconnect %q", r)
	}
	var d viewer.Disconnected
	v.NextInto(t, "disconnected", &d)
	if d.Reason != "Session expired" || d.Code.Or("") != viewer.DisconnectCodeSessionExpired {
		t.Fatalf("viewer disconnected %s", d.AppendJSON(nil))
	}
	h.Next(t, "session_removed")
}

// TestActivityKeepsSessionAlive: events refresh the expiry of an ephemeral session.
func TestActivityKeepsSessionAlive(t *testing.T) {
	n := servertest.Start(t, func(c *config.Config) {
		c.EphemeralTTL = 400 * time.Millisecond
		c.SweepInterval = 100 * time.Millisecond
	})
	u := n.NewUser(t)
	c, reg := cli(t, n, u, "s-alive")
	for i := 1; i <= 8; i++ {
		c.Emit(t, "event", agentEvent(reg, i, `{"type":"heartbeat","active":false}`))
		time.Sleep(150 * time.Millisecond)
	}
	c.None(t, "session_expired", 10*time.Millisecond)
}

// serverGoroutines counts the goroutines running relay or Socket.IO server code.
func serverGoroutines() (int, string) {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	var sample string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "socket.io/servers/") || strings.Contains(g, "pizzapi/pizzapi/server/core") ||
			strings.Contains(g, "pizzapi/pizzapi/server/sio") || strings.Contains(g, "pizzapi/pizzapi/server.(*Server)") {
			n++
			sample = g
		}
	}
	return n, sample
}

// TestGracefulShutdown: with clients connected, shutdown takes well under 2 s, clients see a
// transport close (so they reconnect elsewhere), and no server goroutine is left behind.
func TestGracefulShutdown(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	c, reg := cli(t, n, u, "s-shutdown")
	c.Emit(t, "event", agentEvent(reg, 1, `{"type":"x"}`))
	c.Next(t, "event_ack")
	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-shutdown"}})
	v.Next(t, "connected")
	h := n.Dial(t, "/hub", servertest.DialOptions{User: &u, Cookie: true})
	h.Next(t, "sessions")
	if busy, _ := serverGoroutines(); busy == 0 {
		t.Fatal("no server goroutines while serving?")
	}
	start := time.Now()
	n.Stop(t)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	for _, conn := range []*servertest.Conn{c, v, h} {
		if r := conn.WaitDisconnect(t); r != "transport close" {
			t.Errorf("client saw %q", r)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		left, sample := serverGoroutines()
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d server goroutines left after shutdown, e.g.:\n%s", left, sample)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHealthAndMetrics: /health answers, /metrics exposes the relay's metrics.
func TestHealthAndMetrics(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	c, reg := cli(t, n, u, "s-metrics")
	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-metrics"}})
	v.Next(t, "connected")
	c.Emit(t, "event", agentEvent(reg, 1, `{"type":"x"}`))
	v.Next(t, "event")
	c.Emit(t, "bogus", `{}`)
	c.Next(t, "error")
	get := func(path string) (int, string) {
		resp, err := http.Get(n.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/health"); code != 200 || body != `{"status":"ok"}` {
		t.Fatalf("health %d %s", code, body)
	}
	code, body := get("/metrics")
	for _, want := range []string{
		`pizzapi_connections{namespace="/relay"} 1`,
		`pizzapi_connections{namespace="/viewer"} 1`,
		`pizzapi_events_received_total{event="event",namespace="/relay"} 1`,
		`pizzapi_events_invalid_total{event="unknown",namespace="/relay"} 1`,
		`pizzapi_fanout_seconds_count 1`,
		`pizzapi_packets_sent_total{namespace="/viewer"}`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestReconnectGrace: a CLI whose connection drops has the grace period to resume; after it, the
// session ends.
func TestReconnectGrace(t *testing.T) {
	n := servertest.Start(t, func(c *config.Config) { c.ReconnectGrace = 300 * time.Millisecond })
	u := n.NewUser(t)
	c, _ := cli(t, n, u, "s-grace")
	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-grace"}})
	v.Next(t, "connected")
	c.DropTransport()
	v.None(t, "disconnected", 150*time.Millisecond)
	var d viewer.Disconnected
	v.NextInto(t, "disconnected", &d)
	if d.Reason != "Session ended" || d.Code.Or("") != viewer.DisconnectCodeSessionEnded {
		t.Fatalf("disconnected %s", d.AppendJSON(nil))
	}
}
