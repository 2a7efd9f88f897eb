package sio

import (
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
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
