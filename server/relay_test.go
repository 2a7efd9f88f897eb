package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// cli connects a CLI for a new session of u and registers it.
func cli(t *testing.T, n *servertest.Node, u servertest.User, sessionID string) (*servertest.Conn, relay.Registered) {
	t.Helper()
	c := n.Dial(t, "/relay", servertest.DialOptions{User: &u})
	var reg relay.Registered
	if err := reg.UnmarshalJSON(c.Ack(t, "register", map[string]any{"sessionId": sessionID, "cwd": "/home/ada/project"})); err != nil {
		t.Fatal(err)
	}
	c.Next(t, "registered")
	return c, reg
}

// agentEvent is a /relay event payload.
func agentEvent(reg relay.Registered, seq int, inner string) string {
	return fmt.Sprintf(`{"sessionId":%q,"token":%q,"seq":%d,"event":%s}`, reg.SessionID, reg.Token, seq, inner)
}

func viewerEvents(t *testing.T, raws []json.RawMessage) []viewer.ViewerEvent {
	out := make([]viewer.ViewerEvent, len(raws))
	for i, r := range raws {
		if err := out[i].UnmarshalJSON(r); err != nil {
			t.Fatalf("%s: %v", r, err)
		}
	}
	return out
}

func TestStreamToViewer(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	c, reg := cli(t, n, u, "s-stream")
	if !strings.HasSuffix(reg.ShareURL, "/session/s-stream") || len(reg.Token) != 64 || !reg.IsEphemeral || !reg.CollabMode {
		t.Fatalf("registered: %+v", reg)
	}
	c.Emit(t, "event", agentEvent(reg, 1, `{"type":"session_active","state":{"messages":[],"sessionName":"demo"}}`))
	c.Next(t, "event_ack")

	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Cookie: true, Auth: map[string]any{"sessionId": "s-stream"}})
	var hello viewer.SessionConnected
	v.NextInto(t, "connected", &hello)
	if seq, _ := hello.LastSeq.Get(); seq != 1 {
		t.Fatalf("connected: %s", hello.AppendJSON(nil))
	}
	snap := viewerEvents(t, v.Take(t, "event", 1))[0]
	if snap.Event.Type != "session_active" || snap.Seq.Or(0) != 1 {
		t.Fatalf("snapshot: %s", snap.AppendJSON(nil))
	}
	for i := 2; i <= 50; i++ {
		c.Emit(t, "event", agentEvent(reg, i, fmt.Sprintf(`{"type":"message_update","assistantMessageEvent":{"type":"text_delta","delta":"%d"}}`, i)))
	}
	evs := viewerEvents(t, v.Take(t, "event", 49))
	for i, e := range evs {
		if e.Seq.Or(0) != int64(i+2) {
			t.Fatalf("event %d has seq %d", i, e.Seq.Or(0))
		}
	}
	acks := c.Take(t, "event_ack", 49)
	var last relay.EventAck
	_ = last.UnmarshalJSON(acks[len(acks)-1])
	if last.Seq != 50 {
		t.Fatalf("last ack %d", last.Seq)
	}
}
