package demo

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/clients/share"
	"github.com/pizzapi/pizzapi/internal/syncbuf"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// shared is the demo agent published on a test relay.
type shared struct {
	out, log *syncbuf.Buffer
	done     chan error
	stop     context.CancelFunc
}

// publish runs share.Run with the demo agent d until the test ends, and waits for the
// registration.
func publish(t *testing.T, n *servertest.Node, u servertest.User, id string, d *Demo, o share.Options) *shared {
	t.Helper()
	s := &shared{out: &syncbuf.Buffer{}, log: &syncbuf.Buffer{}, done: make(chan error, 1)}
	o.RelayURL, o.APIKey, o.SessionID, o.Source = n.URL, u.APIKey, id, d
	o.Cwd, o.Out, o.Log = "/home/ada/project", s.out, s.log
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go func() { s.done <- share.Run(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return")
		}
		if t.Failed() {
			t.Logf("publisher log:\n%s", s.log.String())
		}
	})
	deadline := time.Now().Add(servertest.Timeout)
	for !strings.Contains(s.out.String(), "/session/"+id) {
		if time.Now().After(deadline) {
			t.Fatalf("not registered\n%s", s.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

// end stops the publisher as Ctrl-C does and returns Run's result.
func (s *shared) end(t *testing.T) error {
	t.Helper()
	s.stop()
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

// testViewer watches a session and checks that its live events come numbered without a gap.
type testViewer struct {
	t    *testing.T
	c    *servertest.Conn
	last int64
	seen []viewer.ViewerEvent
}

// watch connects a viewer to the session, takes its snapshot and greets.
func watch(t *testing.T, n *servertest.Node, u servertest.User, sessionID string) *testViewer {
	t.Helper()
	c := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": sessionID}})
	var hello viewer.SessionConnected
	c.NextInto(t, "connected", &hello)
	c.Emit(t, "connected", map[string]any{})
	return &testViewer{t: t, c: c, last: hello.LastSeq.Or(0)}
}

// next returns the next live event.
func (v *testViewer) next() viewer.ViewerEvent {
	v.t.Helper()
	for {
		var e viewer.ViewerEvent
		v.c.NextInto(v.t, "event", &e)
		seq, ok := e.Seq.Get()
		if !ok || seq <= v.last {
			continue // the snapshot sent on connecting
		}
		if seq != v.last+1 {
			v.t.Fatalf("event seq %d after %d: a gap", seq, v.last)
		}
		v.last = seq
		v.seen = append(v.seen, e)
		return e
	}
}

// until returns the events up to and including the first one for which ok is true.
func (v *testViewer) until(ok func(typ string, raw json.RawMessage) bool) []viewer.ViewerEvent {
	v.t.Helper()
	var out []viewer.ViewerEvent
	for {
		e := v.next()
		out = append(out, e)
		if ok(e.Event.Type, e.Event.Raw) {
			return out
		}
	}
}

// untilType returns the events up to and including the first of type typ.
func (v *testViewer) untilType(typ string) []viewer.ViewerEvent {
	v.t.Helper()
	return v.until(func(t string, _ json.RawMessage) bool { return t == typ })
}

// execResult waits for the exec_result answering id.
func (v *testViewer) execResult(id string) map[string]any {
	v.t.Helper()
	for {
		var r map[string]any
		if err := json.Unmarshal(v.c.Next(v.t, "exec_result"), &r); err != nil {
			v.t.Fatal(err)
		}
		if r["id"] == id {
			return r
		}
	}
}

// command sends a collab command and checks that the relay forwarded it.
func (v *testViewer) command(event string, payload any) {
	v.t.Helper()
	var ack viewer.CommandAck
	if err := ack.UnmarshalJSON(v.c.Ack(v.t, event, payload)); err != nil {
		v.t.Fatal(err)
	}
	if !ack.OK {
		v.t.Fatalf("%s not forwarded: %s", event, ack.AppendJSON(nil))
	}
}

// field decodes one field of an event.
func field[T any](t *testing.T, raw json.RawMessage, path ...string) T {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range path {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	b, _ := json.Marshal(v)
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s at %v: %v", raw, path, err)
	}
	return out
}

// assistantText is the text of a message_end's assistant message ("" for other events).
func assistantText(t *testing.T, raw json.RawMessage) string {
	var ev struct {
		Type    string `json:"type"`
		Message struct {
			Role    string `json:"role"`
			Content []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
		} `json:"message"`
	}
	if json.Unmarshal(raw, &ev) != nil || ev.Type != "message_end" || ev.Message.Role != "assistant" {
		return ""
	}
	var b strings.Builder
	for _, c := range ev.Message.Content {
		if c.Type == "text" {
			b.WriteString(c.Text)
		}
	}
	return b.String()
}
