package server_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/config"
	"github.com/pizzapi/pizzapi/server/servertest"
)

func seqsOf(evs []viewer.ViewerEvent) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq.Or(0)
	}
	return out
}

// TestGapReplayAfterReconnect: a viewer that comes back with its lastSeq gets exactly the events
// it missed, with their original sequence numbers, and no snapshot.
func TestGapReplayAfterReconnect(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	c, reg := cli(t, n, u, "s-gap")
	c.Emit(t, "event", agentEvent(reg, 1, `{"type":"session_active","state":{"messages":[]}}`))
	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-gap"}})
	v.Next(t, "connected")
	viewerEvents(t, v.Take(t, "event", 1)) // the snapshot
	for i := 2; i <= 4; i++ {
		c.Emit(t, "event", agentEvent(reg, i, fmt.Sprintf(`{"type":"message_update","i":%d}`, i)))
	}
	viewerEvents(t, v.Take(t, "event", 3))
	v.Close()
	// Events 5..9 happen while the viewer is away.
	for i := 5; i <= 9; i++ {
		c.Emit(t, "event", agentEvent(reg, i, fmt.Sprintf(`{"type":"message_update","i":%d}`, i)))
	}
	c.Take(t, "event_ack", 9)
	v2 := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-gap", "lastSeq": 4}})
	var hello viewer.SessionConnected
	v2.NextInto(t, "connected", &hello)
	if hello.LastSeq.Or(0) != 4 {
		t.Fatalf("connected %s", hello.AppendJSON(nil))
	}
	missed := viewerEvents(t, v2.Take(t, "event", 5))
	if fmt.Sprint(seqsOf(missed)) != "[5 6 7 8 9]" {
		t.Fatalf("replayed %v", seqsOf(missed))
	}
	c.Emit(t, "event", agentEvent(reg, 10, `{"type":"message_update","i":10}`))
	if live := viewerEvents(t, v2.Take(t, "event", 1)); live[0].Seq.Or(0) != 10 {
		t.Fatalf("live %v", seqsOf(live))
	}
	v2.None(t, "event", 100*time.Millisecond)
}

// TestSnapshotWhenGapLeftHistory: when the missed events are no longer in the bounded history,
// the viewer gets a snapshot stamped with the real current sequence number.
func TestSnapshotWhenGapLeftHistory(t *testing.T) {
	n := servertest.Start(t, func(c *config.Config) { c.EventBufferSize = 5 })
	u := n.NewUser(t)
	c, reg := cli(t, n, u, "s-snap")
	c.Emit(t, "event", agentEvent(reg, 1, `{"type":"session_active","state":{"messages":["m"]}}`))
	c.Emit(t, "event", agentEvent(reg, 2, `{"type":"heartbeat","active":true,"model":{"provider":"p","id":"m"}}`))
	for i := 3; i <= 20; i++ {
		c.Emit(t, "event", agentEvent(reg, i, `{"type":"message_update"}`))
	}
	c.Take(t, "event_ack", 20)
	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-snap", "lastSeq": 3}})
	var hello viewer.SessionConnected
	v.NextInto(t, "connected", &hello)
	if hello.LastSeq.Or(0) != 20 || !hello.IsActive.Or(false) {
		t.Fatalf("connected %s", hello.AppendJSON(nil))
	}
	snap := viewerEvents(t, v.Take(t, "event", 2))
	if snap[0].Event.Type != "heartbeat" || snap[1].Event.Type != "session_active" || snap[0].Seq.Or(0) != 20 || snap[1].Seq.Or(0) != 20 {
		t.Fatalf("snapshot %s / %s", snap[0].AppendJSON(nil), snap[1].AppendJSON(nil))
	}
	// Resync with a lastSeq still in history replays; without one, it sends the snapshot again.
	for i := 21; i <= 22; i++ {
		c.Emit(t, "event", agentEvent(reg, i, `{"type":"message_update"}`))
	}
	viewerEvents(t, v.Take(t, "event", 2))
	v.Emit(t, "resync", map[string]any{"lastSeq": 19})
	if got := seqsOf(viewerEvents(t, v.Take(t, "event", 3))); fmt.Sprint(got) != "[20 21 22]" {
		t.Fatalf("resync replay %v", got)
	}
	v.Emit(t, "resync", map[string]any{})
	again := viewerEvents(t, v.Take(t, "event", 2))
	if again[1].Event.Type != "session_active" || again[1].Seq.Or(0) != 22 {
		t.Fatalf("resync snapshot %s", again[1].AppendJSON(nil))
	}
	v.None(t, "connected", 50*time.Millisecond)
}

// TestEndedSessionReplay: a viewer of an ended session gets the persisted snapshot and is told
// the session is no longer live.
func TestEndedSessionReplay(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	c, reg := cli(t, n, u, "s-ended")
	c.Emit(t, "event", agentEvent(reg, 1, `{"type":"session_active","state":{"messages":["hello"]}}`))
	c.Next(t, "event_ack")
	c.Emit(t, "session_end", map[string]any{"sessionId": "s-ended", "token": reg.Token})
	time.Sleep(50 * time.Millisecond)
	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-ended"}})
	var hello viewer.SessionConnected
	v.NextInto(t, "connected", &hello)
	if !hello.ReplayOnly.Or(false) {
		t.Fatalf("connected %s", hello.AppendJSON(nil))
	}
	ev := viewerEvents(t, v.Take(t, "event", 1))[0]
	if string(ev.Event.Raw) != `{"type":"session_active","state":{"messages":["hello"]}}` {
		t.Fatalf("replay %s", ev.Event.Raw)
	}
	var d viewer.Disconnected
	v.NextInto(t, "disconnected", &d)
	if d.Reason != "Session is no longer live (snapshot replay)." || d.Code.Or("") != viewer.DisconnectCodeReplayOnly {
		t.Fatalf("disconnected %s", d.AppendJSON(nil))
	}
	if r := v.WaitDisconnect(t); r != "io server disconnect" {
		t.Fatalf("disconnect %q", r)
	}
}

// TestViewersOnlySeeTheirOwnSessions: another user can neither watch a session nor replay it.
func TestViewersOnlySeeTheirOwnSessions(t *testing.T) {
	n := servertest.Start(t)
	a, b := n.NewUser(t), n.NewUser(t)
	c, reg := cli(t, n, a, "s-private")
	c.Emit(t, "event", agentEvent(reg, 1, `{"type":"session_active","state":{"secret":true}}`))
	c.Next(t, "event_ack")
	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &b, Cookie: true, Auth: map[string]any{"sessionId": "s-private"}})
	var e struct{ Message string }
	_ = json.Unmarshal(v.Next(t, "error"), &e)
	if e.Message != "Session not found" {
		t.Fatalf("error %q", e.Message)
	}
	v.None(t, "event", 100*time.Millisecond)
	if r := v.WaitDisconnect(t); r != "io server disconnect" {
		t.Fatalf("disconnect %q", r)
	}
	// No session id at all.
	v2 := n.Dial(t, "/viewer", servertest.DialOptions{User: &a})
	_ = json.Unmarshal(v2.Next(t, "error"), &e)
	if e.Message != "Missing session ID" {
		t.Fatalf("error %q", e.Message)
	}
}

// TestViewerJoinLosesNothing: events published while a viewer is being attached are neither lost
// nor repeated (PizzaPi lost the ones between its seq read and room join).
func TestViewerJoinLosesNothing(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	c, reg := cli(t, n, u, "s-join")
	stop := make(chan struct{})
	sent := make(chan int, 1)
	go func() {
		i := 0
		defer func() { sent <- i }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			i++
			if err := c.Send("event", []byte(agentEvent(reg, i, `{"type":"message_update"}`))); err != nil {
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	var viewers []*servertest.Conn
	for i := 0; i < 5; i++ {
		time.Sleep(20 * time.Millisecond)
		viewers = append(viewers, n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-join"}}))
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	total := <-sent
	c.Take(t, "event_ack", total) // everything processed
	for _, v := range viewers {
		var hello viewer.SessionConnected
		v.NextInto(t, "connected", &hello)
		first := hello.LastSeq.Or(0) + 1
		evs := viewerEvents(t, v.Take(t, "event", int(int64(total)-first+1)))
		for i, e := range evs {
			if e.Seq.Or(0) != first+int64(i) {
				t.Fatalf("viewer joined at %d: event %d has seq %d", first-1, i, e.Seq.Or(0))
			}
		}
		v.None(t, "event", 20*time.Millisecond)
	}
}
