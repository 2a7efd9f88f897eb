package core

import (
	"context"
	"strconv"
	"testing"

	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/server/bus"
)

// quietConn is a CLI connection that drops what the core sends it (fakeConn's record grows).
type quietConn struct{ fakeConn }

func (*quietConn) Send(string, []byte) error { return nil }

// maxPublishAllocs is what one /relay event (decoded, checked, numbered, kept in the history,
// acknowledged and delivered to ten viewers) allocates in the core, the bus and the generated
// codec, the socket and its transport aside (server.BenchmarkPublish measures the whole path):
// the decoded message (1), the session's new expiry (1), the viewers' topic (1), the broadcast
// message, its frame and the frame's buffer (3), the acknowledgement's payload as it grows (2),
// and nothing per viewer.
const maxPublishAllocs = 9

// TestPublishAllocations fails when the publish path allocates more per event than it did: fewer
// bytes allocated per event means fewer collections, and a collection's mark phase is where
// deliveries run late (bench/RESULTS.md, P2). Lower maxPublishAllocs when a change saves some.
func TestPublishAllocations(t *testing.T) {
	c, _, _ := newTestCore(t)
	h := c.ConnectCLI(&quietConn{fakeConn{id: "cli"}}, User{ID: "u1", Name: "Ada"})
	const id = "9b2f6c1e-2d4a-4f0b-8c3e-5a7d9e1f3b20"
	dispatch(t, h, "register", `{"sessionId":"`+id+`","cwd":"/work"}`)
	h.mu.Lock()
	token := h.token
	h.mu.Unlock()
	written := 0
	for range 10 {
		c.bus.Join(bus.SessionViewers+id, bus.NewGate(func(*bus.Message) { written++ }, func(string) {}))
	}
	// Payloads are made before they are measured; the first 200 fill the session's history (100
	// events in newTestCore), after which an event replaces the oldest without growing it.
	const warm, runs = 200, 100
	payloads := make([][]byte, warm+runs+1)
	for i := range payloads {
		payloads[i] = []byte(`{"sessionId":"` + id + `","token":"` + token + `","seq":` + strconv.Itoa(i+1) +
			`,"event":{"type":"bench","m":1,"ts":1765000000000000000,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}`)
	}
	ctx := context.Background()
	next := 0
	publish := func() {
		if _, err := relay.DispatchServer(ctx, h, relay.EventEvent, payloads[next]); err != nil {
			t.Fatal(err)
		}
		next++
	}
	for range warm {
		publish()
	}
	n := testing.AllocsPerRun(runs, publish)
	if written != 10*(warm+runs+1) {
		t.Fatalf("the viewers were written %d events, want %d", written, 10*(warm+runs+1))
	}
	if n > maxPublishAllocs {
		t.Fatalf("publishing an event allocates %.1f times, at most %d expected", n, maxPublishAllocs)
	}
	t.Logf("%.1f allocations per event", n)
}
