package share

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/internal/syncbuf"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// trace records every event the publisher numbers.
type trace struct {
	mu     sync.Mutex
	events map[int64]json.RawMessage
	last   int64
}

func newTrace() *trace { return &trace{events: map[int64]json.RawMessage{}} }

func (tr *trace) record(seq int64, raw []byte) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.events[seq] = raw
	tr.last = seq
}

func (tr *trace) get(seq int64) (json.RawMessage, bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	raw, ok := tr.events[seq]
	return raw, ok
}

func (tr *trace) lastSeq() int64 {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.last
}

// wait waits until an event containing substr has been published.
func (tr *trace) wait(t *testing.T, substr string) {
	t.Helper()
	deadline := time.Now().Add(servertest.Timeout)
	for {
		tr.mu.Lock()
		for _, raw := range tr.events {
			if strings.Contains(string(raw), substr) {
				tr.mu.Unlock()
				return
			}
		}
		tr.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no event with %s was published", substr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// shared is a session published in-process for a test.
type shared struct {
	p     *publisher
	trace *trace
	log   *syncbuf.Buffer
	out   *syncbuf.Buffer
	done  chan error
	stop  context.CancelFunc
}

// share runs Run with o against the node until the test ends, and waits for the registration.
func share(t *testing.T, n *servertest.Node, u servertest.User, o Options) *shared {
	t.Helper()
	s := &shared{trace: newTrace(), log: &syncbuf.Buffer{}, out: &syncbuf.Buffer{}, done: make(chan error, 1)}
	if o.RelayURL == "" {
		o.RelayURL = n.URL
	}
	o.APIKey = u.APIKey
	if o.Cwd == "" {
		o.Cwd = "/home/ada/project"
	}
	o.Out, o.Log = s.out, s.log
	// Fast retries keep the reconnection tests short.
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 2 * time.Second
	}
	if o.ReconnectDelay == 0 {
		o.ReconnectDelay, o.ReconnectDelayMax = 100*time.Millisecond, 500*time.Millisecond
	}
	started := make(chan *publisher, 1)
	o.started = func(p *publisher) { started <- p }
	if hook := o.published; hook != nil {
		o.published = func(seq int64, raw []byte) { s.trace.record(seq, raw); hook(seq, raw) }
	} else {
		o.published = s.trace.record
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go func() { s.done <- Run(ctx, o) }()
	select {
	case s.p = <-started:
	case err := <-s.done:
		t.Fatalf("Run: %v", err)
	}
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
	select {
	case <-s.p.firstRegistration:
	case err := <-s.done:
		t.Fatalf("Run: %v\n%s", err, s.log.String())
	case <-time.After(servertest.Timeout):
		t.Fatalf("not registered\n%s", s.log.String())
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

// testViewer watches a session and checks that it sees every numbered event exactly once, in
// order: after the snapshot, each event carries the next seq and is the event the publisher
// numbered with it (the relay numbers the session's events as the CLI did, since every CLI
// event is published once).
type testViewer struct {
	t     *testing.T
	c     *servertest.Conn
	trace *trace
	last  int64
	seen  []viewer.ViewerEvent
}

// watch connects a viewer to the session, takes its snapshot and greets.
func watch(t *testing.T, n *servertest.Node, u servertest.User, sessionID string, tr *trace) *testViewer {
	t.Helper()
	c := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": sessionID}})
	var hello viewer.SessionConnected
	c.NextInto(t, "connected", &hello)
	v := &testViewer{t: t, c: c, trace: tr, last: hello.LastSeq.Or(0)}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("viewer: connected %v, last seq %d, publisher's last seq %d, not taken: %v", c.Connected(), v.last, tr.lastSeq(), c.Names())
		}
	})
	c.Emit(t, "connected", map[string]any{})
	return v
}

// next returns the next live event, checking its number and content.
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
		want, ok := v.trace.get(seq)
		if !ok {
			v.t.Fatalf("event %d (%s) was never published", seq, e.Event.Raw)
		}
		if !sameEvent(want, e.Event.Raw) {
			v.t.Fatalf("event %d is\n%s\nwant\n%s", seq, e.Event.Raw, want)
		}
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

// sameEvent compares two events as JSON values. The relay adds durationSeconds to the thinking
// blocks of message_end and turn_end, so those are compared without it.
func sameEvent(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	strip(x)
	strip(y)
	return reflect.DeepEqual(x, y)
}

func strip(v any) {
	switch t := v.(type) {
	case map[string]any:
		delete(t, "durationSeconds")
		for _, e := range t {
			strip(e)
		}
	case []any:
		for _, e := range t {
			strip(e)
		}
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
