// Package sharetest is the test support of share and of its demo agent: a viewer that follows a
// published session on a test relay and checks the numbering of what it sees, and helpers that
// read agent events.
package sharetest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// Check says what is wrong with the live event numbered seq (nil when nothing is); a Viewer
// calls it for every live event it takes.
type Check func(seq int64, raw json.RawMessage) error

// Viewer watches a session and checks that its live events come numbered without a gap, each
// passing the Viewer's Check.
type Viewer struct {
	// C is the viewer's connection; tests read the events Viewer does not take from it.
	C *servertest.Conn
	// Seen lists the live events taken so far, in order.
	Seen []viewer.ViewerEvent

	t     *testing.T
	check Check
	last  int64
}

// Watch connects a viewer to the session, takes its snapshot and greets. check, when not nil,
// checks every live event.
func Watch(t *testing.T, n *servertest.Node, u servertest.User, sessionID string, check Check) *Viewer {
	t.Helper()
	c := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": sessionID}})
	var hello viewer.SessionConnected
	c.NextInto(t, "connected", &hello)
	c.Emit(t, "connected", map[string]any{})
	return &Viewer{C: c, t: t, check: check, last: hello.LastSeq.Or(0)}
}

// Last is the seq of the last live event taken (the snapshot's when none was).
func (v *Viewer) Last() int64 { return v.last }

// Next returns the next live event, failing the test on a gap or an event its Check refuses.
func (v *Viewer) Next() viewer.ViewerEvent {
	v.t.Helper()
	for {
		var e viewer.ViewerEvent
		v.C.NextInto(v.t, "event", &e)
		seq, ok := e.Seq.Get()
		if !ok || seq <= v.last {
			continue // the snapshot sent on connecting
		}
		if seq != v.last+1 {
			v.t.Fatalf("event seq %d after %d: a gap", seq, v.last)
		}
		v.last = seq
		if v.check != nil {
			if err := v.check(seq, e.Event.Raw); err != nil {
				v.t.Fatalf("event %d: %v", seq, err)
			}
		}
		v.Seen = append(v.Seen, e)
		return e
	}
}

// Until returns the live events up to and including the first one for which ok is true.
func (v *Viewer) Until(ok func(typ string, raw json.RawMessage) bool) []viewer.ViewerEvent {
	v.t.Helper()
	var out []viewer.ViewerEvent
	for {
		e := v.Next()
		out = append(out, e)
		if ok(e.Event.Type, e.Event.Raw) {
			return out
		}
	}
}

// UntilType returns the live events up to and including the first of type typ.
func (v *Viewer) UntilType(typ string) []viewer.ViewerEvent {
	v.t.Helper()
	return v.Until(func(t string, _ json.RawMessage) bool { return t == typ })
}

// ExecResult waits for the exec_result answering id.
func (v *Viewer) ExecResult(id string) map[string]any {
	v.t.Helper()
	for {
		var r map[string]any
		if err := json.Unmarshal(v.C.Next(v.t, "exec_result"), &r); err != nil {
			v.t.Fatal(err)
		}
		if r["id"] == id {
			return r
		}
	}
}

// Command sends a collab command and checks that the relay forwarded it.
func (v *Viewer) Command(event string, payload any) {
	v.t.Helper()
	var ack viewer.CommandAck
	if err := ack.UnmarshalJSON(v.C.Ack(v.t, event, payload)); err != nil {
		v.t.Fatal(err)
	}
	if !ack.OK {
		v.t.Fatalf("%s not forwarded: %s", event, ack.AppendJSON(nil))
	}
}

// Field decodes the member of an event at path.
func Field[T any](t *testing.T, raw json.RawMessage, path ...string) T {
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

// AssistantText is the text of a message_end's assistant message ("" for other events).
func AssistantText(raw json.RawMessage) string {
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
