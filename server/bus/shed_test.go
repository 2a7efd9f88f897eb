package bus

import (
	"context"
	"strings"
	"testing"
)

// laggard is a member with a fixed backlog that records being shed.
type laggard struct {
	recorder
	pending int64
	reason  string
}

func (l *laggard) Pending() int64 { return l.pending }

func (l *laggard) Shed(reason string) bool {
	if l.reason != "" {
		return false
	}
	l.reason = reason
	return true
}

// TestPublishSheds: a publisher whose queue passes its mark drops an eighth of the session's
// viewers, those furthest behind first, with a reason; one more eighth each shedInterval its
// queue did not shrink, none while it shrinks; never the members of other topics.
func TestPublishSheds(t *testing.T) {
	b := NewLocal()
	members := make([]*laggard, 16)
	for i := range members {
		members[i] = &laggard{pending: int64((i * 7) % 16)} // every backlog from 0 to 15 once
		b.Join(SessionViewers+"s", members[i])
	}
	cli := &laggard{pending: 1 << 30}
	b.Join(SessionCLI+"s", cli)
	var p Pressure
	ctx := WithPressure(context.Background(), &p)
	publish := func() {
		b.Publish(ctx, SessionViewers+"s", NewMessage("/viewer", "event", []byte(`{}`), 1))
		b.Publish(ctx, SessionCLI+"s", NewMessage("/relay", "input", []byte(`{}`), 0))
	}
	shed := func() (n int, least int64) {
		least = 1 << 62
		for _, m := range members {
			if m.reason != "" {
				n++
				least = min(least, m.pending)
				if !strings.Contains(m.reason, "relay overloaded") || !strings.Contains(m.reason, "bytes not yet sent") {
					t.Fatalf("reason %q", m.reason)
				}
			}
		}
		return n, least
	}

	publish()
	if n, _ := shed(); n != 0 {
		t.Fatalf("%d viewers shed without pressure", n)
	}
	later := func() { p.since = p.since.Add(-shedInterval) } // as if shedInterval had passed
	p.Set(50)
	publish()
	if n, least := shed(); n != 2 || least != 14 {
		t.Fatalf("past the mark: %d viewers shed (want the 2 furthest behind), the least behind had %d", n, least)
	}
	p.Set(80)
	publish()
	if n, _ := shed(); n != 2 {
		t.Fatalf("shed again at once: %d viewers", n)
	}
	later()
	publish()
	if n, least := shed(); n != 4 || least != 12 {
		t.Fatalf("the queue grew for shedInterval: %d viewers shed (want 4), the least behind had %d", n, least)
	}
	p.Set(70)
	later()
	publish()
	if n, _ := shed(); n != 4 {
		t.Fatalf("a shrinking queue shed %d viewers", n-4)
	}
	p.Set(0)
	publish()
	p.Set(10)
	publish()
	if n, least := shed(); n != 6 || least != 10 {
		t.Fatalf("past the mark again: %d viewers shed (want 6), the least behind had %d", n, least)
	}
	later()
	publish()
	if n, least := shed(); n != 8 || least != 8 {
		t.Fatalf("the queue did not shrink for shedInterval: %d viewers shed (want 8), the least behind had %d", n, least)
	}
	if cli.reason != "" {
		t.Fatal("a member of another topic was shed")
	}
	for _, m := range members {
		if len(m.got) != 8 {
			t.Fatalf("a member got %d of 8 messages", len(m.got))
		}
	}
}
