package sio

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"

	"github.com/pizzapi/pizzapi/server/bus"
)

// TestInboxBounded: a client that sends faster than its events are handled is held back once
// the inbox holds its limit, every event is handled once and in order, and an event larger than
// the limit is taken when the inbox is empty.
func TestInboxBounded(t *testing.T) {
	const payload, events, capacity = 100, 200, 10
	size := int64(packetOverhead + payload)
	in := &inbox{limit: capacity * size}
	var admitted atomic.Int64
	step := make(chan struct{})
	done := make(chan struct{})
	var handled int64
	in.handle = func(p *parser.Packet) {
		<-step
		if a := admitted.Load(); a-handled > capacity {
			t.Errorf("%d events admitted while %d were handled: more than %d queued", a, handled, capacity)
		}
		if got, want := p.Id, uint64(handled); got == nil || *got != want {
			t.Errorf("event %v handled as number %d", got, want)
		}
		handled++
		if handled == events+1 {
			close(done)
		}
	}
	go func() {
		raw := json.RawMessage(`"` + strings.Repeat("x", payload-2) + `"`)
		for i := range uint64(events) {
			id := i
			in.Packet(&parser.Packet{Type: parser.EVENT, Id: &id, Data: []any{raw}})
			admitted.Add(1)
		}
		// Larger than the whole inbox: taken once the others are handled.
		big := json.RawMessage(`"` + strings.Repeat("y", int(in.limit)) + `"`)
		id := uint64(events)
		in.Packet(&parser.Packet{Type: parser.EVENT, Id: &id, Data: []any{big}})
		admitted.Add(1)
	}()
	for range events + 1 {
		step <- struct{}{}
	}
	<-done
}

// viewer is a bus member with a backlog that records being shed.
type viewer struct {
	pending int64
	shed    atomic.Pointer[string]
}

func (v *viewer) Deliver(*bus.Message) {}

func (v *viewer) Pending() int64 { return v.pending }

func (v *viewer) Shed(reason string) bool { return v.shed.CompareAndSwap(nil, &reason) }

// TestInboxPressureShedsViewers: the inbox tells its pressure how long each event waited, so that
// events that keep waiting longer than the target make the handler that publishes next drop the
// eighth of the session's viewers furthest behind, before the reader ever waits for room; events
// handled promptly drop no one. The inbox's clock is the test's: each handler takes 30 ms of it.
func TestInboxPressureShedsViewers(t *testing.T) {
	var clock atomic.Int64
	in := &inbox{clock: func() time.Time { return time.Unix(0, clock.Load()) }}
	b := bus.NewLocal()
	viewers := make([]*viewer, 16)
	for i := range viewers {
		viewers[i] = &viewer{pending: int64(i)}
		b.Join(bus.SessionViewers+"s", viewers[i])
	}
	ctx := bus.WithPressure(context.Background(), &in.pressure)
	step := make(chan struct{})
	handled := make(chan struct{})
	shed := func() (n int) {
		for i, v := range viewers {
			reason := v.shed.Load()
			if reason == nil {
				continue
			}
			n++
			if i < 14 {
				t.Errorf("viewer %d shed while viewers further behind were not", i)
			}
			if !strings.Contains(*reason, "relay overloaded") || !strings.Contains(*reason, "180ms") {
				t.Errorf("reason %q", *reason)
			}
		}
		return n
	}
	in.handle = func(*parser.Packet) {
		<-step
		_, _ = b.Publish(ctx, bus.SessionViewers+"s", bus.NewMessage("/viewer", "event", []byte(`{}`), 1))
		clock.Add(int64(30 * time.Millisecond))
		handled <- struct{}{}
	}
	raw := json.RawMessage(`"x"`)
	// Handled one at a time, each right after the one before: nobody waits.
	for range 4 {
		in.Packet(&parser.Packet{Type: parser.EVENT, Data: []any{raw}})
		step <- struct{}{}
		<-handled
	}
	if n := shed(); n != 0 {
		t.Fatalf("%d viewers shed while events were handled at once", n)
	}
	// Eight events queued at once: they wait 0, 30, ... 210 ms, over the target from the third,
	// and growing an interval later (180 ms).
	for range 8 {
		in.Packet(&parser.Packet{Type: parser.EVENT, Data: []any{raw}})
	}
	for range 8 {
		step <- struct{}{}
		<-handled
	}
	if n := shed(); n != 2 {
		t.Fatalf("%d viewers shed, want an eighth", n)
	}
}

// TestInboxWait: each event's wait in the inbox is observed once, and an event queued behind one
// whose handler is blocked waited at least as long as it was blocked after the event arrived.
func TestInboxWait(t *testing.T) {
	const blocked = 20 * time.Millisecond
	var waits []time.Duration
	release := make(chan struct{})
	handled := make(chan struct{}, 2)
	in := &inbox{}
	in.waited = func(d time.Duration) { waits = append(waits, d) } // on the inbox's goroutine only
	first := true
	in.handle = func(*parser.Packet) {
		if first {
			first = false
			<-release
		}
		handled <- struct{}{}
	}
	in.Packet(&parser.Packet{Type: parser.EVENT, Data: []any{json.RawMessage(`{}`)}})
	in.Packet(&parser.Packet{Type: parser.EVENT, Data: []any{json.RawMessage(`{}`)}})
	time.Sleep(blocked) // the second event has been queued for at least this long
	close(release)
	<-handled
	<-handled
	in.push(func() {}) // the disconnect is not an event: no wait observed
	in.mu.Lock()
	for in.running {
		in.mu.Unlock()
		time.Sleep(time.Millisecond)
		in.mu.Lock()
	}
	in.mu.Unlock()
	if len(waits) != 2 || waits[1] < blocked {
		t.Fatalf("waits observed: %v; want two, the second at least %v", waits, blocked)
	}
}
