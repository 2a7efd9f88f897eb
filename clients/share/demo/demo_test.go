package demo

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/clients/share"
	"github.com/pizzapi/pizzapi/protocol/commands"
)

// memSink is a Sink that keeps the events in memory.
type memSink struct {
	mu     sync.Mutex
	events []json.RawMessage
	state  share.State
	signal chan struct{}
}

func newMemSink() *memSink { return &memSink{signal: make(chan struct{}, 1)} }

func (m *memSink) Event(ev json.RawMessage) {
	m.mu.Lock()
	m.events = append(m.events, ev)
	m.mu.Unlock()
	select {
	case m.signal <- struct{}{}:
	default:
	}
}

func (m *memSink) Update(f func(*share.State), _ bool) {
	m.mu.Lock()
	f(&m.state)
	m.mu.Unlock()
}

// waitFor waits for an event after index from that contains substr and returns the index after it.
func (m *memSink) waitFor(t *testing.T, from int, substr string) int {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		m.mu.Lock()
		for i := from; i < len(m.events); i++ {
			if strings.Contains(string(m.events[i]), substr) {
				m.mu.Unlock()
				return i + 1
			}
		}
		m.mu.Unlock()
		select {
		case <-m.signal:
		case <-deadline:
			t.Fatalf("no event with %s after %d", substr, from)
		}
	}
}

// TestDemoAbortRepeatedly aborts runs at once and checks the next message always starts a run.
func TestDemoAbortRepeatedly(t *testing.T) {
	d := &Demo{Speed: 20, NoOpening: true}
	sink := newMemSink()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx, sink)
	for !d.isRunning() {
		time.Sleep(time.Millisecond)
	}
	at := 0
	for i := 0; i < 100; i++ {
		if err := d.Input(ctx, share.Input{Text: "first"}); err != nil {
			t.Fatal(err)
		}
		at = sink.waitFor(t, at, `"agent_start"`)
		if i%2 == 0 {
			at = sink.waitFor(t, at, `"thinking_delta"`)
		}
		if err := d.Abort(ctx, &commands.AbortParams{}); err != nil {
			t.Fatal(err)
		}
		at = sink.waitFor(t, at, `"agent_end"`)
	}
	if err := d.Input(ctx, share.Input{Text: "last one"}); err != nil {
		t.Fatal(err)
	}
	at = sink.waitFor(t, at, `You said: “last one”`)
	sink.waitFor(t, at, `"agent_end"`)
}

func (d *Demo) isRunning() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.wake != nil
}
