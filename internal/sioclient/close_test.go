package sioclient_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestCloseLeavesTheNamespace: Close sends the namespace DISCONNECT before the connection drops,
// every time, so that the server sees a client that left ("client namespace disconnect"), not a
// lost connection: a CLI that closes its /relay connection ends its session at once instead of
// after the two-minute reconnect grace. Every other close has events still being written when
// Close is called, so that the DISCONNECT queues behind them. (With the library's transport the
// server saw a lost connection in 26 closes of 30.)
func TestCloseLeavesTheNamespace(t *testing.T) {
	const closes = 100
	n := servertest.Start(t)
	u := n.NewUser(t)
	hub := n.Dial(t, "/hub", servertest.DialOptions{User: &u})
	hub.Next(t, "sessions")
	var slowest time.Duration
	for i := range closes {
		c := n.Dial(t, "/relay", servertest.DialOptions{User: &u})
		var reg relay.Registered
		if err := reg.UnmarshalJSON(c.Ack(t, "register", map[string]any{"sessionId": fmt.Sprintf("s-close-%d", i), "cwd": "/tmp"})); err != nil {
			t.Fatal(err)
		}
		hub.Next(t, "session_added")
		if i%2 == 1 {
			for seq := 1; seq <= 20; seq++ {
				payload := fmt.Sprintf(`{"sessionId":%q,"token":%q,"seq":%d,"event":{"type":"message_update","n":%d}}`, reg.SessionID, reg.Token, seq, seq)
				if err := c.Send("event", []byte(payload)); err != nil {
					t.Fatal(err)
				}
			}
		}
		start := time.Now()
		c.Close()
		slowest = max(slowest, time.Since(start))
		// A lost connection would end the session only after the reconnect grace (2 minutes).
		if _, ok := hub.TryNext("session_removed", servertest.Timeout); !ok {
			t.Fatalf("close %d of %d: the session did not end: the server saw a lost connection, not a client that left", i+1, closes)
		}
	}
	t.Logf("%d of %d closes left the namespace; the slowest Close took %v", closes, closes, slowest.Round(time.Millisecond))
}

// TestAbandonKeepsTheSession: a client that is abandoned (replaced by a new connection) does not
// leave the namespace: the CLI's session waits for its CLI instead of ending.
func TestAbandonKeepsTheSession(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	hub := n.Dial(t, "/hub", servertest.DialOptions{User: &u})
	hub.Next(t, "sessions")
	c := n.Dial(t, "/relay", servertest.DialOptions{User: &u, Reconnect: true})
	c.Ack(t, "register", map[string]any{"sessionId": "s-abandoned", "cwd": "/tmp"})
	hub.Next(t, "session_added")
	c.Abandon()
	hub.None(t, "session_removed", 2*time.Second) // a client that left would end it at once
	if c.Connected() {
		t.Error("the abandoned client reconnected") // with Reconnect, it would have by now
	}
}
