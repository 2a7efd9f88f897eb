package share

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/clients/share/internal/sharetest"
	"github.com/pizzapi/pizzapi/internal/syncbuf"
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

// settled waits until the relay has processed every event the publisher has numbered so far
// (its event_ack caught up), so that a viewer connecting next gets the relay's state as of the
// last of them, however far behind a loaded machine left the relay.
func (s *shared) settled(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(servertest.Timeout)
	for {
		s.p.mu.Lock()
		seq, acked := s.p.seq, s.p.ackedSeq
		s.p.mu.Unlock()
		if acked >= seq {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the relay acknowledged events up to %d of %d", acked, seq)
		}
		time.Sleep(10 * time.Millisecond)
	}
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

// watch connects a viewer to the session that checks each live event against the one the
// publisher numbered with its seq (the relay numbers the session's events as the CLI did, since
// every CLI event is published once).
func watch(t *testing.T, n *servertest.Node, u servertest.User, sessionID string, tr *trace) *sharetest.Viewer {
	t.Helper()
	v := sharetest.Watch(t, n, u, sessionID, tr.check)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("viewer: connected %v, last seq %d, publisher's last seq %d, not taken: %v", v.C.Connected(), v.Last(), tr.lastSeq(), v.C.Names())
		}
	})
	return v
}

// check implements sharetest.Check: the event numbered seq is the one the publisher numbered
// with it.
func (tr *trace) check(seq int64, raw json.RawMessage) error {
	want, ok := tr.get(seq)
	if !ok {
		return fmt.Errorf("%s was never published", raw)
	}
	if !sameEvent(want, raw) {
		return fmt.Errorf("it is\n%s\nwant\n%s", raw, want)
	}
	return nil
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
