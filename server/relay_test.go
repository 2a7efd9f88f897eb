package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

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

// TestOrderingUnderConcurrentSends streams several sessions at once; each viewer must see its
// session's events exactly once, gap-free, in the order the CLI sent them.
func TestOrderingUnderConcurrentSends(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	const sessions, perSession = 4, 300
	type pair struct {
		c   *servertest.Conn
		reg relay.Registered
		v   *servertest.Conn
	}
	pairs := make([]pair, sessions)
	for i := range pairs {
		c, reg := cli(t, n, u, fmt.Sprintf("s-order-%d", i))
		v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": reg.SessionID}})
		v.Next(t, "connected")
		pairs[i] = pair{c, reg, v}
	}
	done := make(chan struct{})
	for _, p := range pairs {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 1; i <= perSession; i++ {
				if err := p.c.Send("event", []byte(agentEvent(p.reg, i, fmt.Sprintf(`{"type":"tool_execution_update","n":%d}`, i)))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range pairs {
		<-done
	}
	for _, p := range pairs {
		evs := viewerEvents(t, p.v.Take(t, "event", perSession))
		for i, e := range evs {
			var inner struct{ N int }
			_ = json.Unmarshal(e.Event.Raw, &inner)
			if e.Seq.Or(0) != int64(i+1) || inner.N != i+1 {
				t.Fatalf("%s: event %d has seq %d and n %d", p.reg.SessionID, i, e.Seq.Or(0), inner.N)
			}
		}
		p.v.None(t, "event", 100*time.Millisecond)
	}
}

// TestResumeResendsWithoutDuplicates: a CLI that reconnects with resume keeps the session; events
// it resends that were already processed are acknowledged but not published twice.
func TestResumeResendsWithoutDuplicates(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	c, reg := cli(t, n, u, "s-resume")
	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-resume"}})
	v.Next(t, "connected")
	for i := 1; i <= 5; i++ {
		c.Emit(t, "event", agentEvent(reg, i, `{"type":"message_update"}`))
	}
	c.Take(t, "event_ack", 5)
	viewerEvents(t, v.Take(t, "event", 5))
	c.DropTransport() // a network failure: the session waits for the CLI to come back
	c.WaitDisconnect(t)

	c2 := n.Dial(t, "/relay", servertest.DialOptions{User: &u})
	var reg2 relay.Registered
	_ = reg2.UnmarshalJSON(c2.Ack(t, "register", map[string]any{"sessionId": "s-resume", "cwd": "/", "resume": true}))
	if !reg2.Resumed.Or(false) || reg2.AckedSeq.Or(-1) != 5 || reg2.Token == reg.Token {
		t.Fatalf("resumed registration: %s", reg2.AppendJSON(nil))
	}
	// The viewer stayed attached: no "disconnected".
	v.None(t, "disconnected", 100*time.Millisecond)
	// Resend 4 and 5 (duplicates), then 6 and 7.
	for i := 4; i <= 7; i++ {
		c2.Emit(t, "event", agentEvent(reg2, i, fmt.Sprintf(`{"type":"message_update","n":%d}`, i)))
	}
	acks := c2.Take(t, "event_ack", 4)
	var last relay.EventAck
	_ = last.UnmarshalJSON(acks[3])
	if last.Seq != 7 {
		t.Fatalf("ack %d", last.Seq)
	}
	evs := viewerEvents(t, v.Take(t, "event", 2))
	if evs[0].Seq.Or(0) != 6 || evs[1].Seq.Or(0) != 7 {
		t.Fatalf("after resume: seqs %d %d", evs[0].Seq.Or(0), evs[1].Seq.Or(0))
	}
	v.None(t, "event", 150*time.Millisecond)
	// The old token no longer works.
	c2.Emit(t, "event", agentEvent(reg, 8, `{"type":"x"}`))
	var e struct{ Message string }
	_ = json.Unmarshal(c2.Next(t, "error"), &e)
	if e.Message != "Invalid token" {
		t.Fatalf("error %q", e.Message)
	}
}

// TestReregisterWithoutResumeReplaces keeps PizzaPi's behaviour for its CLI: registering the same
// id again ends the old session ("Session reconnected") and starts a new one at seq 1.
func TestReregisterWithoutResumeReplaces(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	c, reg := cli(t, n, u, "s-again")
	c.Emit(t, "event", agentEvent(reg, 1, `{"type":"x"}`))
	c.Next(t, "event_ack")
	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-again"}})
	v.Next(t, "connected")
	_, reg2 := cli(t, n, u, "s-again")
	var d viewer.Disconnected
	v.NextInto(t, "disconnected", &d)
	if d.Reason != "Session reconnected" || d.Code.Or("") != viewer.DisconnectCodeSessionReconnected || reg2.Resumed.Or(true) || reg2.AckedSeq.Or(-1) != 0 {
		t.Fatalf("disconnected %s, registered %s", d.AppendJSON(nil), reg2.AppendJSON(nil))
	}
}

func TestSessionIDOfAnotherUserIsRefused(t *testing.T) {
	n := servertest.Start(t)
	a, b := n.NewUser(t), n.NewUser(t)
	cli(t, n, a, "s-owned")
	c := n.Dial(t, "/relay", servertest.DialOptions{User: &b})
	c.Emit(t, "register", map[string]any{"sessionId": "s-owned", "cwd": "/"})
	var e struct{ Message, Event string }
	_ = json.Unmarshal(c.Next(t, "error"), &e)
	if !strings.Contains(e.Message, "belongs to another user") || e.Event != "register" {
		t.Fatalf("error %+v", e)
	}
	c.None(t, "registered", 100*time.Millisecond)
}

// TestCollabRoundTrip: viewer input, model switch and commands reach the CLI; the CLI's
// exec_result reaches the viewer; with collab mode off they are refused.
func TestCollabRoundTrip(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	c, _ := cli(t, n, u, "s-collab")
	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Cookie: true, Auth: map[string]any{"sessionId": "s-collab"}})
	v.Next(t, "connected")
	v.Emit(t, "connected", map[string]any{})
	c.Next(t, "connected")

	ack := v.Ack(t, "input", map[string]any{"text": "hi", "client": "web", "attachments": []any{map[string]any{"filename": "x"}, map[string]any{"attachmentId": "a1"}}})
	if string(ack) != `{"ok":true}` {
		t.Fatalf("input ack %s", ack)
	}
	in := c.Next(t, "input")
	if string(in) != `{"text":"hi","attachments":[{"attachmentId":"a1"}],"client":"web"}` {
		t.Fatalf("input %s", in)
	}
	if ack := v.Ack(t, "model_set", map[string]any{"provider": "anthropic", "modelId": "opus"}); string(ack) != `{"ok":true}` {
		t.Fatalf("model_set ack %s", ack)
	}
	c.Next(t, "model_set")
	if ack := v.Ack(t, "exec", map[string]any{"id": "c1", "command": "set_thinking_level", "level": "high"}); string(ack) != `{"ok":true}` {
		t.Fatalf("exec ack %s", ack)
	}
	if exec := c.Next(t, "exec"); string(exec) != `{"id":"c1","command":"set_thinking_level","level":"high"}` {
		t.Fatalf("exec %s", exec)
	}
	c.Emit(t, "exec_result", map[string]any{"id": "c1", "ok": true, "command": "set_thinking_level", "result": map[string]any{"thinkingLevel": "high"}})
	if res := v.Next(t, "exec_result"); string(res) != `{"id":"c1","ok":true,"command":"set_thinking_level","result":{"thinkingLevel":"high"}}` {
		t.Fatalf("exec_result %s", res)
	}

	// Collab mode off: refused with a reason.
	c2 := n.Dial(t, "/relay", servertest.DialOptions{User: &u})
	c2.Ack(t, "register", map[string]any{"sessionId": "s-solo", "cwd": "/", "collabMode": false})
	v2 := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-solo"}})
	v2.Next(t, "connected")
	if ack := v2.Ack(t, "input", map[string]any{"text": "hi"}); !strings.Contains(string(ack), "collab mode is off") {
		t.Fatalf("ack %s", ack)
	}
	c2.None(t, "input", 100*time.Millisecond)
}

func TestSessionMessages(t *testing.T) {
	n := servertest.Start(t)
	u, other := n.NewUser(t), n.NewUser(t)
	a, regA := cli(t, n, u, "s-msg-a")
	b, _ := cli(t, n, u, "s-msg-b")
	cli(t, n, other, "s-msg-other")
	ack := a.Ack(t, "session_message", map[string]any{"token": regA.Token, "targetSessionId": "s-msg-b", "message": "hello b"})
	if string(ack) != `{"ok":true}` {
		t.Fatalf("ack %s", ack)
	}
	var got relay.SessionMessage
	b.NextInto(t, "session_message", &got)
	if got.FromSessionID != "s-msg-a" || got.Message != "hello b" || got.Ts == "" {
		t.Fatalf("message %s", got.AppendJSON(nil))
	}
	// Another user's session is not reachable.
	ack = a.Ack(t, "session_message", map[string]any{"token": regA.Token, "targetSessionId": "s-msg-other", "message": "hi"})
	if !strings.Contains(string(ack), `"ok":false`) {
		t.Fatalf("ack %s", ack)
	}
	a.Next(t, "session_message_error")
}

// TestThinkingDurations: the relay times thinking blocks and stamps the duration on message_end.
func TestThinkingDurations(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	c, reg := cli(t, n, u, "s-think")
	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-think"}})
	v.Next(t, "connected")
	c.Emit(t, "event", agentEvent(reg, 1, `{"type":"message_update","assistantMessageEvent":{"type":"thinking_start","contentIndex":0}}`))
	time.Sleep(1100 * time.Millisecond)
	c.Emit(t, "event", agentEvent(reg, 2, `{"type":"message_update","assistantMessageEvent":{"type":"thinking_end","contentIndex":0}}`))
	c.Emit(t, "event", agentEvent(reg, 3, `{"type":"message_end","message":{"role":"assistant","content":[{"type":"thinking","thinking":"hmm"},{"type":"text","text":"done"}]}}`))
	evs := viewerEvents(t, v.Take(t, "event", 3))
	want := `{"type":"message_end","message":{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","durationSeconds":2},{"type":"text","text":"done"}]}}`
	if string(evs[2].Event.Raw) != want {
		t.Fatalf("message_end\n got %s\nwant %s", evs[2].Event.Raw, want)
	}

	// The CLI's next snapshot does not know the duration; the relay adds the remembered one to
	// the matching block only, so a viewer that opens the session later sees it too.
	c.Emit(t, "event", agentEvent(reg, 4, `{"type":"session_active","state":{"messages":[`+
		`{"role":"user","content":"q"},`+
		`{"role":"assistant","content":[{"type":"thinking","thinking":"hmm"},{"type":"text","text":"done"}]},`+
		`{"role":"assistant","content":[{"type":"thinking","thinking":"other"}]}]}}`))
	wantState := `{"type":"session_active","state":{"messages":[` +
		`{"role":"user","content":"q"},` +
		`{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","durationSeconds":2},{"type":"text","text":"done"}]},` +
		`{"role":"assistant","content":[{"type":"thinking","thinking":"other"}]}]}}`
	if got := viewerEvents(t, v.Take(t, "event", 1))[0].Event.Raw; string(got) != wantState {
		t.Fatalf("session_active\n got %s\nwant %s", got, wantState)
	}
	late := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-think"}})
	late.Next(t, "connected")
	if got := viewerEvents(t, late.Take(t, "event", 1))[0].Event.Raw; string(got) != wantState {
		t.Fatalf("snapshot\n got %s\nwant %s", got, wantState)
	}
}
