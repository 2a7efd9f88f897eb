package share

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/clients/share/internal/sharetest"
	"github.com/pizzapi/pizzapi/protocol/commands"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// ticker is a Source that publishes {"type":"tick","n":i} for i = 1..count, one every pace, and
// then idles. Before tick i it calls gate(i) when set.
type ticker struct {
	commands.UnimplementedHandler
	count int
	pace  time.Duration
	gate  func(i int)
}

func (tk *ticker) Run(ctx context.Context, sink Sink) error {
	for i := 1; i <= tk.count; i++ {
		if tk.gate != nil {
			tk.gate(i)
		}
		if tk.pace > 0 {
			select {
			case <-time.After(tk.pace):
			case <-ctx.Done():
				return nil
			}
		}
		sink.Event(json.RawMessage(fmt.Sprintf(`{"type":"tick","n":%d}`, i)))
	}
	<-ctx.Done()
	return nil
}

func (tk *ticker) Input(context.Context, Input) error { return nil }

func tickOf(t *testing.T, e viewer.ViewerEvent) int {
	if e.Event.Type != "tick" {
		return 0
	}
	return sharetest.Field[int](t, e.Event.Raw, "n")
}

// registered reports whether the publisher's connection is registered now.
func (p *publisher) isRegistered() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.registered
}

// TestReconnectWithoutGaps cuts the publisher's connection three times while events keep
// coming; the viewer sees every event exactly once, in order, without noticing.
func TestReconnectWithoutGaps(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	const count = 2000
	src := &ticker{count: count, pace: time.Millisecond}
	s := share(t, n, u, Options{SessionID: "s-reconnect", Source: src})
	v := watch(t, n, u, "s-reconnect", s.trace)

	go func() {
		for _, at := range []int64{400, 1000, 1600} {
			for s.trace.lastSeq() < at {
				time.Sleep(time.Millisecond)
			}
			s.p.conn().DropTransport()
		}
	}()
	last := 0
	for last < count {
		e := v.Next() // checks: gap-free, and exactly the event the publisher numbered
		if n := tickOf(t, e); n != 0 {
			if n != last+1 && last != 0 {
				t.Fatalf("tick %d after tick %d", n, last)
			}
			last = n
		}
	}
	v.C.None(t, "disconnected", 50*time.Millisecond)
	log := s.log.String()
	if got := strings.Count(log, "reconnected; resending"); got != 3 || strings.Contains(log, "snapshot") {
		t.Fatalf("%d resumptions:\n%s", got, log)
	}
	t.Logf("publisher log:\n%s", log)
}

// TestOverflowFallsBackToSnapshot: when the buffer had to forget events the relay never got,
// the reconnection sends a fresh snapshot instead, and the stream goes on.
func TestOverflowFallsBackToSnapshot(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	start, burst, resume := make(chan struct{}), make(chan struct{}), make(chan struct{})
	src := &ticker{count: 450, gate: func(i int) {
		switch i {
		case 1:
			<-start
		case 51:
			<-burst
		case 401:
			<-resume
		}
	}}
	s := share(t, n, u, Options{SessionID: "s-overflow", Source: src, BufferEvents: 100,
		ReconnectDelay: 500 * time.Millisecond, ReconnectDelayMax: time.Second})
	v := watch(t, n, u, "s-overflow", s.trace)
	close(start)
	v.Until(func(typ string, raw json.RawMessage) bool {
		return typ == "tick" && sharetest.Field[int](t, raw, "n") == 50
	})

	// Cut the connection; 350 events come while it is down, more than the buffer holds, and 50
	// more once it is back.
	s.p.conn().DropTransport()
	for s.p.isRegistered() {
		time.Sleep(time.Millisecond)
	}
	close(burst)
	for !s.p.isRegistered() {
		time.Sleep(time.Millisecond)
	}
	close(resume)

	// The viewer's numbers stay gap-free (the relay numbers what it publishes); after the
	// snapshot the ticks resume where the publisher is.
	last, snapshot, ticksAfter := v.Last(), false, 0
	prevTick := 50
	for prevTick < 450 {
		var e viewer.ViewerEvent
		v.C.NextInto(t, "event", &e)
		seq, ok := e.Seq.Get()
		if !ok || seq <= last {
			continue
		}
		if seq != last+1 {
			t.Fatalf("seq %d after %d", seq, last)
		}
		last = seq
		switch e.Event.Type {
		case "session_active":
			snapshot = true
		case "tick":
			n := tickOf(t, e)
			if !snapshot {
				t.Fatalf("tick %d before the snapshot", n)
			}
			if ticksAfter > 0 && n != prevTick+1 {
				t.Fatalf("tick %d after %d", n, prevTick)
			}
			prevTick = n
			ticksAfter++
		}
	}
	if !strings.Contains(s.log.String(), "no longer buffered; sent a fresh snapshot") {
		t.Fatalf("log:\n%s", s.log.String())
	}
	v.C.None(t, "disconnected", 50*time.Millisecond)
}

func TestResendBuffer(t *testing.T) {
	b := newResendBuffer(5, 1000)
	for i := int64(1); i <= 10; i++ {
		b.push(i, []byte(`{"type":"x"}`))
	}
	if b.Len() != 5 || !b.missing(4) || b.missing(5) {
		t.Fatalf("len %d, dropped %d", b.Len(), b.dropped)
	}
	if e, ok, gap := b.next(5); !ok || gap || e.seq != 6 {
		t.Fatalf("next(5): %v %v %v", e.seq, ok, gap)
	}
	if _, ok, gap := b.next(3); ok || !gap {
		t.Fatal("next(3) should be a gap")
	}
	if _, ok, gap := b.next(10); ok || gap {
		t.Fatal("next(10) should be nothing yet")
	}
	b.ackThrough(7)
	if b.Len() != 3 {
		t.Fatalf("len %d after ack", b.Len())
	}
	// A snapshot replaces everything so far: the next event to send is the first after it.
	b.reset(10)
	b.push(11, []byte(`{"type":"session_active","state":{}}`))
	if e, ok, gap := b.next(3); !ok || gap || e.seq != 11 || b.missing(3) {
		t.Fatalf("after reset: %v %v %v", e.seq, ok, gap)
	}
	// The byte bound.
	b = newResendBuffer(100, 30)
	for i := int64(1); i <= 4; i++ {
		b.push(i, []byte(`{"type":"0123"}`)) // 15 bytes
	}
	if b.Len() != 2 || b.dropped != 2 {
		t.Fatalf("len %d, dropped %d", b.Len(), b.dropped)
	}
	// Compaction keeps the order.
	b = newResendBuffer(3000, 1<<30)
	for i := int64(1); i <= 5000; i++ {
		b.push(i, []byte(`{}`))
		if i%7 == 0 {
			b.ackThrough(i - 100)
		}
	}
	for seq := int64(4899); seq < 5000; seq++ {
		if e, ok, _ := b.next(seq); !ok || e.seq != seq+1 {
			t.Fatalf("next(%d) = %d %v", seq, e.seq, ok)
		}
	}
}

// TestHungConnectionIsReplaced: a connection attempt that neither completes nor fails (the
// relay never answers the namespace connection) is abandoned for a new connection.
func TestHungConnectionIsReplaced(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	proxy := blackHoleFirst(t, strings.TrimPrefix(n.URL, "http://"))
	s := share(t, n, u, Options{SessionID: "s-hung", RelayURL: proxy, Source: &recordingSource{}})
	if !strings.Contains(s.log.String(), "the connection attempt hangs; starting a new connection") {
		t.Fatalf("log:\n%s", s.log.String())
	}
}

// blackHoleFirst is a TCP proxy to target whose first connection passes the HTTP upgrade
// request and everything the server sends, but swallows what the client sends after the
// request: the Engine.IO connection opens, the namespace connection never gets an answer.
// Later connections pass everything.
func blackHoleFirst(t *testing.T, target string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for first := true; ; first = false {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			t.Cleanup(func() { c.Close(); up.Close() })
			go io.Copy(c, up)
			if !first {
				go io.Copy(up, c)
				continue
			}
			go func() {
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					up.Write([]byte(line))
					if line == "\r\n" {
						break
					}
				}
				io.Copy(io.Discard, r)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}
