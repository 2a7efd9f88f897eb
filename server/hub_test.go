package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/hub"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestHubUpdates: the hub lists the user's sessions with real viewer counts and follows them as
// they register, change and end; other users' sessions never show up.
func TestHubUpdates(t *testing.T) {
	n := servertest.Start(t)
	u, other := n.NewUser(t), n.NewUser(t)
	cli(t, n, u, "s-hub-1")
	cli(t, n, other, "s-hub-other")
	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-hub-1"}})
	v.Next(t, "connected")

	h := n.Dial(t, "/hub", servertest.DialOptions{User: &u, Cookie: true})
	var list hub.Sessions
	h.NextInto(t, "sessions", &list)
	if len(list.Sessions) != 1 || list.Sessions[0].SessionID != "s-hub-1" || list.Sessions[0].ViewerCount.Or(-1) != 1 {
		t.Fatalf("sessions %s", list.AppendJSON(nil))
	}

	c2, reg2 := cli(t, n, u, "s-hub-2")
	var added protocol.SessionInfo
	h.NextInto(t, "session_added", &added)
	if added.SessionID != "s-hub-2" || added.IsActive {
		t.Fatalf("added %s", added.AppendJSON(nil))
	}
	c2.Emit(t, "event", agentEvent(reg2, 1, `{"type":"heartbeat","active":true,"model":{"provider":"anthropic","id":"opus"},"sessionName":"fixing"}`))
	var st hub.SessionStatus
	h.NextInto(t, "session_status", &st)
	if st.SessionID != "s-hub-2" || !st.IsActive || st.Model == nil || st.Model.ID != "opus" || st.SessionName == nil || *st.SessionName != "fixing" || st.LastHeartbeatAt == nil {
		t.Fatalf("status %s", st.AppendJSON(nil))
	}
	// A heartbeat that changes nothing the hub shows sends nothing.
	c2.Emit(t, "event", agentEvent(reg2, 2, `{"type":"heartbeat","active":true,"model":{"provider":"anthropic","id":"opus"}}`))
	h.None(t, "session_status", 150*time.Millisecond)

	// Viewer counts follow viewers.
	v2 := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-hub-2"}})
	v2.Next(t, "connected")
	h.NextInto(t, "session_status", &st)
	if st.ViewerCount.Or(-1) != 1 {
		t.Fatalf("status after a viewer joined %s", st.AppendJSON(nil))
	}

	c2.Emit(t, "session_end", map[string]any{"sessionId": "s-hub-2", "token": reg2.Token})
	var removed hub.SessionRemoved
	h.NextInto(t, "session_removed", &removed)
	if removed.SessionID != "s-hub-2" {
		t.Fatalf("removed %s", removed.AppendJSON(nil))
	}
	for _, name := range h.Names() {
		if name == "session_added" {
			t.Fatal("the hub saw another user's session")
		}
	}
	// The REST listing reports the same viewer count.
	infos, err := n.Server.Core().Sessions(context.Background(), u.ID)
	if err != nil || len(infos) != 1 || infos[0].ViewerCount.Or(-1) != 1 {
		t.Fatalf("core sessions %v %v", infos, err)
	}
}
