package bus

import (
	"context"
	"sync"
	"testing"
)

type recorder struct {
	mu  sync.Mutex
	got []*Message
}

func (r *recorder) Deliver(m *Message) {
	r.mu.Lock()
	r.got = append(r.got, m)
	r.mu.Unlock()
}

func TestLocalPublishJoinLeave(t *testing.T) {
	b := NewLocal()
	ctx := context.Background()
	a, c := &recorder{}, &recorder{}
	b.Join("t", a)
	b.Join("t", a) // twice is once
	b.Join("t", c)
	if n, _ := b.Publish(ctx, "t", NewMessage("/viewer", "event", []byte(`{"seq":1}`), 1)); n != 2 {
		t.Fatalf("reached %d", n)
	}
	b.Leave("t", a)
	b.Publish(ctx, "t", NewMessage("/viewer", "event", []byte(`{"seq":2}`), 2))
	if len(a.got) != 1 || len(c.got) != 2 {
		t.Fatalf("a got %d, c got %d", len(a.got), len(c.got))
	}
	if c.got[1].Frame().Packet() != `2/viewer,["event",{"seq":2}]` {
		t.Fatalf("frame %q", c.got[1].Frame().Packet())
	}
	b.Leave("t", c)
	if n, _ := b.Count(ctx, "t"); n != 0 {
		t.Fatalf("count %d", n)
	}
	if n, _ := b.Publish(ctx, "nobody", NewMessage("/relay", "input", []byte(`{}`), 0)); n != 0 {
		t.Fatal("published to an empty topic")
	}
}

func TestLocalConcurrent(t *testing.T) {
	b := NewLocal()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &recorder{}
			for j := 0; j < 200; j++ {
				b.Join("t", r)
				b.Publish(context.Background(), "t", NewMessage("/viewer", "event", []byte(`{}`), int64(j)))
				b.Leave("t", r)
			}
		}()
	}
	wg.Wait()
	if len(b.topics) != 0 {
		t.Fatalf("%d topics left", len(b.topics))
	}
}
