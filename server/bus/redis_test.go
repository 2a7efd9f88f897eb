package bus

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pizzapi/pizzapi/internal/redistest"
)

func newRedisPair(t *testing.T) (*Redis, *Redis) {
	t.Helper()
	addr := redistest.Start(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mk := func(node string) *Redis {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		b := NewRedis(rdb, node, "info-"+node, "test:", log)
		t.Cleanup(func() { b.Close(); rdb.Close() })
		return b
	}
	return mk("a"), mk("b")
}

// waitMembers waits until a recorder has n messages.
func waitMessages(t *testing.T, r *recorder, n int) []*Message {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		got := len(r.got)
		r.mu.Unlock()
		if got >= n {
			r.mu.Lock()
			defer r.mu.Unlock()
			return r.got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages arrived", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRedisAcrossNodes(t *testing.T) {
	a, b := newRedisPair(t)
	ctx := context.Background()
	onA, onB, alsoOnB := &recorder{}, &recorder{}, &recorder{}
	a.Join("viewers:s", onA)
	b.Join("viewers:s", onB)
	b.Join("viewers:s", alsoOnB)
	time.Sleep(50 * time.Millisecond) // subscriptions are asynchronous on the Redis side
	const n = 200
	for i := 1; i <= n; i++ {
		reached, err := a.Publish(ctx, "viewers:s", NewMessage("/viewer", "event", []byte(fmt.Sprintf(`{"seq":%d}`, i)), int64(i)))
		if err != nil || reached != 2 { // one local member and one other node
			t.Fatalf("publish %d reached %d: %v", i, reached, err)
		}
	}
	for _, r := range []*recorder{onA, onB, alsoOnB} {
		got := waitMessages(t, r, n)
		for i, m := range got {
			if m.Seq != int64(i+1) || m.Frame().Packet() != fmt.Sprintf(`2/viewer,["event",{"seq":%d}]`, i+1) {
				t.Fatalf("message %d: seq %d frame %s", i, m.Seq, m.Frame())
			}
		}
	}
	if c, err := a.Count(ctx, "viewers:s"); err != nil || c != 3 {
		t.Fatalf("count %d %v", c, err)
	}
	// Control messages and the sender survive the trip.
	b.Leave("viewers:s", alsoOnB)
	m := &Message{Nsp: "/relay", Control: ControlReplace, From: "conn-1"}
	a.Publish(ctx, "viewers:s", m)
	got := waitMessages(t, onB, n+1)[n]
	if got.Control != ControlReplace || got.From != "conn-1" || got.Frame() != nil {
		t.Fatalf("control message %+v", got)
	}
	if c, _ := b.Count(ctx, "viewers:s"); c != 2 {
		t.Fatalf("count after leave %d", c)
	}
	// A topic nobody has is reached by nobody.
	if reached, _ := a.Publish(ctx, "cli:none", NewMessage("/relay", "input", []byte(`{}`), 0)); reached != 0 {
		t.Fatalf("reached %d", reached)
	}
	// A node that leaves stops counting.
	b.Leave("viewers:s", onB)
	if c, _ := a.Count(ctx, "viewers:s"); c != 1 {
		t.Fatalf("count after b left %d", c)
	}
}

func TestRedisPublishOrderUnderConcurrency(t *testing.T) {
	a, b := newRedisPair(t)
	ctx := context.Background()
	r := &recorder{}
	b.Join("viewers:x", r)
	time.Sleep(50 * time.Millisecond)
	var wg sync.WaitGroup
	const per = 100
	for s := 0; s < 4; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= per; i++ {
				a.Publish(ctx, "viewers:x", NewMessage("/viewer", "event", []byte(fmt.Sprintf(`{"s":%d}`, s)), int64(s*per+i)))
			}
		}()
	}
	wg.Wait()
	got := waitMessages(t, r, 4*per)
	last := map[int64]int64{}
	for _, m := range got {
		stream := (m.Seq - 1) / per
		if m.Seq <= last[stream] {
			t.Fatalf("stream %d out of order: %d after %d", stream, m.Seq, last[stream])
		}
		last[stream] = m.Seq
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	m := &Message{Nsp: "/viewer", Event: "event", Payload: []byte(`{"a":"ü"}`), Seq: 42, Control: ControlLeave, From: "c"}
	node, back, err := decodeEnvelope(encodeEnvelope("node-1", m))
	if err != nil || node != "node-1" || back.Nsp != m.Nsp || back.Event != m.Event || string(back.Payload) != string(m.Payload) ||
		back.Seq != 42 || back.Control != m.Control || back.From != "c" || back.Frame().Packet() != `2/viewer,["event",{"a":"ü"}]` {
		t.Fatalf("%q %+v %v", node, back, err)
	}
	for _, bad := range [][]byte{nil, {9}, {1, 5, 'a'}} {
		if _, _, err := decodeEnvelope(bad); err == nil {
			t.Errorf("decoded %v", bad)
		}
	}
}
