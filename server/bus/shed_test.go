package bus

import (
	"context"
	"strings"
	"testing"
	"time"
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

// shedding is a session of 16 viewers, one with each backlog from 0 to 15 bytes, and a member of
// another topic, published to with a Pressure fed by a clock of the test.
type shedding struct {
	t       *testing.T
	b       *Local
	viewers []*laggard
	cli     *laggard
	p       Pressure
	ctx     context.Context
	start   time.Time
	sent    int
}

func newShedding(t *testing.T) *shedding {
	s := &shedding{t: t, b: NewLocal(), viewers: make([]*laggard, 16), cli: &laggard{pending: 1 << 30}, start: time.Unix(1000, 0)}
	for i := range s.viewers {
		s.viewers[i] = &laggard{pending: int64((i * 7) % 16)} // every backlog from 0 to 15 once
		s.b.Join(SessionViewers+"s", s.viewers[i])
	}
	s.b.Join(SessionCLI+"s", s.cli)
	s.ctx = WithPressure(context.Background(), &s.p)
	return s
}

// handle is one event handled at ms after the start, having waited wait ms: its handler
// publishes to the viewers and to the CLI.
func (s *shedding) handle(ms, wait int) {
	s.p.Waited(time.Duration(wait)*time.Millisecond, s.start.Add(time.Duration(ms)*time.Millisecond))
	s.b.Publish(s.ctx, SessionViewers+"s", NewMessage("/viewer", "event", []byte(`{}`), 1))
	s.b.Publish(s.ctx, SessionCLI+"s", NewMessage("/relay", "input", []byte(`{}`), 0))
	s.sent++
}

// shed checks that want viewers were shed so far, those furthest behind, with a reason that says
// how long the events waited, and never the CLI.
func (s *shedding) shed(want int, why string) {
	s.t.Helper()
	n := 0
	for _, v := range s.viewers {
		if v.reason == "" {
			continue
		}
		n++
		if v.pending < int64(16-want) {
			s.t.Errorf("%s: a viewer %d bytes behind was shed before one further behind", why, v.pending)
		}
		if !strings.Contains(v.reason, "relay overloaded") || !strings.Contains(v.reason, "bytes not yet sent") || !strings.Contains(v.reason, "ms before they are sent") {
			s.t.Errorf("%s: reason %q", why, v.reason)
		}
	}
	if n != want {
		s.t.Fatalf("%s: %d viewers shed, want %d", why, n, want)
	}
	if s.cli.reason != "" {
		s.t.Fatalf("%s: a member of another topic was shed", why)
	}
	for _, v := range s.viewers {
		if len(v.got) != s.sent {
			s.t.Fatalf("%s: a viewer got %d of %d messages", why, len(v.got), s.sent)
		}
	}
}

// TestShedsWhileWaitsStayHigh: once the events' wait has been over the target for an interval and
// grows, the eighth of the viewers furthest behind is shed, with a reason, and one more eighth each
// interval it does not come down fast enough; shedding stops when the wait falls fast enough and
// starts over when it is back under the target.
func TestShedsWhileWaitsStayHigh(t *testing.T) {
	s := newShedding(t)
	for ms := 0; ms <= 1000; ms += 10 {
		s.handle(ms, 1)
	}
	s.shed(0, "short waits")
	s.handle(1000, 60)
	s.handle(1050, 80)
	s.shed(0, "over the target for less than an interval")
	s.handle(1100, 100)
	s.shed(2, "over the target for an interval and growing")
	s.handle(1110, 105)
	s.handle(1150, 120)
	s.shed(2, "within the interval after shedding")
	s.handle(1200, 140)
	s.shed(4, "still growing an interval later")
	s.handle(1300, 138)
	s.shed(6, "falling too slowly to be under the target within the horizon (88 ms at 20 ms/s)")
	s.handle(1400, 100)
	s.shed(6, "falling fast enough (50 ms at 350 ms/s)")
	s.handle(1500, 90)
	s.shed(6, "falling fast enough (40 ms at 100 ms/s)")
	s.handle(1510, 20)
	s.handle(1600, 300)
	s.shed(6, "over the target again, for less than an interval")
	s.handle(1700, 310)
	s.shed(8, "over the target again for an interval, and growing")
}

// TestShortSpikeDoesNotShed: a pause of the relay or a burst makes events wait far over the target
// for a while, but the wait falls fast enough by itself, or is over the target for less than an
// interval; nobody is shed.
func TestShortSpikeDoesNotShed(t *testing.T) {
	s := newShedding(t)
	// A 90 ms pause: the events queued meanwhile wait up to 90 ms, and are handled within 40 ms.
	s.handle(0, 1)
	s.handle(90, 90)
	s.handle(100, 70)
	s.handle(130, 45)
	s.handle(140, 2)
	// A 400 ms pause at 80 % of the capacity: the wait falls at 250 ms/s, under the target in 1.4 s.
	wait := 400
	for ms := 1000; wait >= 0; ms += 4 {
		s.handle(ms, wait)
		wait--
	}
	s.shed(0, "pauses the queue recovers from")
	// Noise around the target does not add up.
	for ms := 3000; ms < 4000; ms += 20 {
		s.handle(ms, 40+(ms/20%2)*20)
	}
	s.shed(0, "waits around the target, under it every other event")
}
