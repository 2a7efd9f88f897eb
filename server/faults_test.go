package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/internal/pgtest"
	"github.com/pizzapi/pizzapi/internal/redistest"
	"github.com/pizzapi/pizzapi/server/config"
	"github.com/pizzapi/pizzapi/server/servertest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitHealth waits until /health answers with code.
func waitHealth(t *testing.T, n *servertest.Node, code int) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, body := get(t, n.URL+"/health")
		if c == code {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("health stayed %d %s, want %d", c, body, code)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRedisUnavailableAtStart: a node whose Redis is down keeps retrying and says so on /health
// (everything else answers 503) instead of exiting or serving half-configured; it becomes ready
// when Redis comes up.
func TestRedisUnavailableAtStart(t *testing.T) {
	rds := redistest.Reserve(t)
	db := pgtest.Database(t)
	n := servertest.StartNotReady(t, func(c *config.Config) {
		c.RedisURL = "redis://" + rds.Addr
		c.DatabaseURL = db
	})
	if body := waitHealth(t, n, 503); body != `{"status":"starting","redis":"unreachable"}` {
		t.Fatalf("health %s", body)
	}
	if code, body := get(t, n.URL+"/api/sessions"); code != 503 || !strings.Contains(body, "waiting for Redis") {
		t.Fatalf("api while starting: %d %s", code, body)
	}
	time.Sleep(300 * time.Millisecond) // a few retries
	rds.Start()
	waitHealth(t, n, 200)
	n.WaitReady(t)
	u := n.NewUser(t)
	c, _ := cli(t, n, u, "s-late")
	c.None(t, "error", 50*time.Millisecond)
}

// TestRedisRestartMidRun: Redis goes away and comes back (empty); nodes report it on /health,
// reconnect, and carry on across nodes.
func TestRedisRestartMidRun(t *testing.T) {
	rds := redistest.StartServer(t)
	nodes := servertest.StartClusterOn(t, rds, 2)
	a, b := nodes[0], nodes[1]
	u := a.NewUser(t)
	c, reg := cli(t, a, u, "s-before")
	c.Emit(t, "event", agentEvent(reg, 1, `{"type":"x"}`))
	c.Next(t, "event_ack")

	rds.Stop()
	if body := waitHealth(t, a, 503); body != `{"status":"unavailable","redis":"down"}` {
		t.Fatalf("health during the outage: %s", body)
	}
	// Events fail with an error, nothing panics, the socket stays.
	start := time.Now()
	c.Emit(t, "event", agentEvent(reg, 2, `{"type":"x"}`))
	c.Next(t, "error")
	t.Logf("error event after %v", time.Since(start))

	rds.Start()
	waitHealth(t, a, 200)
	waitHealth(t, b, 200)
	// Redis lost the live state: the old registration is gone, a new one works across nodes.
	c2, reg2 := cli(t, a, u, "s-after")
	v := b.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-after"}})
	v.Next(t, "connected")
	// B's pub/sub connection reconnects on its own; until then a publication may not reach it.
	deadline := time.Now().Add(servertest.Timeout)
	for seq := 1; ; seq++ {
		c2.Emit(t, "event", agentEvent(reg2, seq, `{"type":"after"}`))
		c2.Next(t, "event_ack")
		if _, ok := v.TryNext("event", 500*time.Millisecond); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("events do not cross nodes after the Redis restart")
		}
	}
}

// TestShutdownWithRedisDown: a node whose Redis went away still shuts down within its deadline,
// with clients connected (their disconnection handlers and the node's own clean-up all want Redis).
func TestShutdownWithRedisDown(t *testing.T) {
	rds := redistest.StartServer(t)
	n := servertest.StartClusterOn(t, rds, 1)[0]
	u := n.NewUser(t)
	for _, id := range []string{"s-down-1", "s-down-2", "s-down-3"} {
		cli(t, n, u, id)
	}
	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-down-1"}})
	v.Next(t, "connected")
	rds.Stop()
	waitHealth(t, n, 503)

	const budget = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	start := time.Now()
	_ = n.Server.Shutdown(ctx)
	if took := time.Since(start); took > budget+500*time.Millisecond {
		t.Fatalf("shutdown took %v with a %v deadline", took, budget)
	}
}
