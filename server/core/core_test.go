package core

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/bus"
	"github.com/pizzapi/pizzapi/server/live"
	"github.com/pizzapi/pizzapi/server/store/sqlstore"
)

// fakeConn is an in-process connection that records what the core sends it.
type fakeConn struct {
	id string
	mu sync.Mutex
	in []string // events received, by name
}

func (f *fakeConn) Deliver(m *bus.Message) {
	f.mu.Lock()
	f.in = append(f.in, m.Event)
	f.mu.Unlock()
}
func (f *fakeConn) Send(event string, _ []byte) error {
	f.Deliver(&bus.Message{Event: event})
	return nil
}
func (f *fakeConn) ID() string                              { return f.id }
func (f *fakeConn) Greet(event string, p []byte) error      { return f.Send(event, p) }
func (f *fakeConn) SendSeq(event string, p []byte, _ int64) { _ = f.Send(event, p) }
func (f *fakeConn) Pause()                                  {}
func (f *fakeConn) Resume(int64)                            {}
func (f *fakeConn) OnControl(func(*bus.Message))            {}
func (f *fakeConn) Close()                                  {}

// countingBus counts viewer-count queries.
type countingBus struct {
	*bus.Local
	counts atomic.Int64
}

func (b *countingBus) Count(ctx context.Context, topic string) (int, error) {
	b.counts.Add(1)
	return b.Local.Count(ctx, topic)
}

// recordingNotifier keeps the notifications it is given.
type recordingNotifier struct{ got chan Notification }

func (r *recordingNotifier) Notify(_ context.Context, n Notification) { r.got <- n }

func newTestCore(t *testing.T) (*Core, *countingBus, *recordingNotifier) {
	t.Helper()
	db, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := &countingBus{Local: bus.NewLocal()}
	n := &recordingNotifier{got: make(chan Notification, 10)}
	c := New(Options{BaseURL: "http://relay", EphemeralTTL: time.Minute, ReconnectGrace: time.Minute, SpawnWait: time.Second,
		RequestTimeout: time.Second, TerminalBuffer: 10, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		live.NewMemory(100), db, b, n, nil)
	t.Cleanup(c.Close)
	return c, b, n
}

func dispatch(t *testing.T, h relay.ServerHandler, event, payload string) []byte {
	t.Helper()
	ack, err := relay.DispatchServer(context.Background(), h, event, []byte(payload))
	if err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	return ack
}

// TestPushDecision: a session starting, agent_end, AskUserQuestion, cli_error and the session
// ending notify, worded as PizzaPi words them, only when nobody is watching; the common events
// are decided on their type alone (no viewer count).
func TestPushDecision(t *testing.T) {
	c, b, n := newTestCore(t)
	h := c.ConnectCLI(&fakeConn{id: "cli"}, User{ID: "u1", Name: "Ada"})
	dispatch(t, h, "register", `{"sessionId":"s1-0123456789","cwd":"/work"}`)
	h.mu.Lock()
	token := h.token
	h.mu.Unlock()
	event := func(seq int, inner string) {
		dispatch(t, h, "event", `{"sessionId":"s1-0123456789","token":"`+token+`","seq":`+strconv.Itoa(seq)+`,"event":`+inner+`}`)
	}
	next := func(what string) Notification {
		t.Helper()
		select {
		case got := <-n.got:
			if got.UserID != "u1" || got.SessionID != "s1-0123456789" || got.URL != "http://relay/session/s1-0123456789" {
				t.Fatalf("%s: notification %+v", what, got)
			}
			return got
		case <-time.After(5 * time.Second):
			t.Fatalf("no notification for %s", what)
		}
		return Notification{}
	}
	if got := next("the start"); got.Kind != NotifySessionStarted || got.Body != `Session "s1-01234" started in /work.` {
		t.Fatalf("start: %+v", got)
	}
	before := b.counts.Load()
	for i := 1; i <= 50; i++ {
		event(i, `{"type":"message_update","assistantMessageEvent":{"type":"text_delta"}}`)
	}
	event(51, `{"type":"tool_execution_start","toolName":"bash","args":{}}`)
	if got := b.counts.Load() - before; got != 0 {
		t.Fatalf("%d viewer counts for events that never notify", got)
	}
	event(52, `{"type":"agent_end","messages":[]}`)
	if got := next("agent_end"); got.Kind != NotifyAgentFinished || !strings.HasPrefix(got.ID, "s1-0123456789:") || !strings.HasSuffix(got.ID, ":52") ||
		got.Title != "Agent finished" || got.Body != `Your agent in "s1-01234" has finished its task.` {
		t.Fatalf("agent_end: %+v", got)
	}
	event(53, `{"type":"heartbeat","active":true,"isCompacting":false,"ts":1,"sessionName":"fix tests"}`)
	question := strings.Repeat("q", 200)
	event(54, `{"type":"tool_execution_start","toolName":"AskUserQuestion","args":{"question":"`+question+`"}}`)
	if got := next("AskUserQuestion"); got.Kind != NotifyAgentNeedsInput || got.SessionName != "fix tests" ||
		got.Body != `Agent in "fix tests" asks: `+question[:120] {
		t.Fatalf("AskUserQuestion: %+v", got)
	}
	event(55, `{"type":"cli_error","message":""}`)
	if got := next("cli_error"); got.Kind != NotifyAgentError || got.Body != `An error occurred in session "fix tests".` {
		t.Fatalf("cli_error: %+v", got)
	}
	// With a viewer watching, nothing is sent.
	c.bus.Join(bus.SessionViewers+"s1-0123456789", &fakeConn{id: "viewer"})
	event(56, `{"type":"cli_error","message":"boom"}`)
	event(57, `{"type":"agent_end","messages":[]}`)
	c.endSession(context.Background(), "s1-0123456789", viewer.DisconnectCodeSessionEnded)
	select {
	case got := <-n.got:
		t.Fatalf("notified while watched: %+v", got)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestPushSessionEnded: a session nobody watches tells its owner it ended, once.
func TestPushSessionEnded(t *testing.T) {
	c, _, n := newTestCore(t)
	h := c.ConnectCLI(&fakeConn{id: "cli"}, User{ID: "u1", Name: "Ada"})
	dispatch(t, h, "register", `{"sessionId":"s2","cwd":"/","sessionName":"nightly"}`)
	if got := <-n.got; got.Kind != NotifySessionStarted {
		t.Fatalf("first notification %+v", got)
	}
	c.endSession(context.Background(), "s2", viewer.DisconnectCodeSessionEnded)
	c.endSession(context.Background(), "s2", viewer.DisconnectCodeSessionEnded)
	if got := <-n.got; got.Kind != NotifySessionEnded || got.Body != `Session "nightly" has ended.` || got.ID == "" {
		t.Fatalf("end: %+v", got)
	}
	select {
	case got := <-n.got:
		t.Fatalf("a second notification %+v", got)
	case <-time.After(100 * time.Millisecond):
	}
}
