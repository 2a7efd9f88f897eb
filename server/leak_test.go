package server_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestNoLeakAfterManyEvents: rounds of sessions, each streaming 500 events to viewers and a hub
// and then ending, leave no goroutine behind in the node (or in the test's clients): after every
// client has gone, the process is back to the goroutines it had before the first round.
func TestNoLeakAfterManyEvents(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	round := func(i int) {
		id := fmt.Sprintf("s-leak-%d", i)
		h := n.Dial(t, "/hub", servertest.DialOptions{User: &u})
		h.Next(t, "sessions")
		c, reg := cli(t, n, u, id)
		viewers := make([]*servertest.Conn, 5)
		for j := range viewers {
			viewers[j] = n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": id}})
			viewers[j].Next(t, "connected")
		}
		const events = 500
		for seq := 1; seq <= events; seq++ {
			c.Emit(t, "event", agentEvent(reg, seq, fmt.Sprintf(`{"type":"message_update","n":%d,"text":%q}`, seq, strings.Repeat("x", 200))))
		}
		for _, v := range viewers {
			if evs := viewerEvents(t, v.Take(t, "event", events)); evs[events-1].Seq.Or(0) != events {
				t.Fatalf("last seq %d", evs[events-1].Seq.Or(0))
			}
		}
		c.Emit(t, "session_end", map[string]any{"sessionId": id, "token": reg.Token})
		h.Next(t, "session_removed")
		for _, v := range viewers {
			v.Close()
		}
		c.Close()
		h.Close()
	}
	round(0) // the first round starts what lives as long as the node (pools, timers)
	baseline := settledGoroutines()
	for i := 1; i <= 4; i++ {
		round(i)
	}
	// 2,000 more events through 4 sessions, 20 viewers and 4 hub connections.
	deadline := time.Now().Add(servertest.Timeout)
	for {
		got := settledGoroutines()
		if got <= baseline+2 {
			t.Logf("goroutines: %d after the first round, %d after four more", baseline, got)
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d after the first round, %d after four more:\n%s", baseline, got, buf[:runtime.Stack(buf, true)])
		}
	}
}

// settledGoroutines counts the goroutines once closing connections have had a moment to end.
func settledGoroutines() int {
	time.Sleep(300 * time.Millisecond)
	return runtime.NumGoroutine()
}
