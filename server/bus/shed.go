package bus

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Laggard is a member that can say how far behind it is and be dropped: the relay's sockets.
type Laggard interface {
	// Pending returns the bytes sent to the member that its client has not taken yet.
	Pending() int64
	// Shed drops the member's client, unless it was already dropped, and reports whether it did.
	Shed(reason string) bool
}

// Pressure is how far a publisher's queue of received events, not yet published, has grown
// past its high-water mark (Set). A publisher whose context carries it (WithPressure) sheds load
// when it publishes to a session's viewers: for each step the queue grew past the mark since it
// last shed, and once more whenever the queue did not shrink for holdTime, it drops the eighth of
// the viewers furthest behind (Laggard), with a reason, rather than being held back by a queue
// that fan-out does not empty. A queue back under its mark starts over.
//
// At twice the rate the relay can fan out, the queue grows before the viewers' backlogs do (the
// relay, not the clients, is the limit), so that no viewer is over its backlog limit; dropping
// viewers is then the only way to fan out every event without holding the publisher back, and
// the queue has to shrink again for the viewers that stay to get events without delay.
type Pressure struct {
	over atomic.Int64 // bytes past the mark, set by the queue
	step atomic.Int64 // bytes per step, set by the queue

	level atomic.Int64 // the step last shed for
	mu    sync.Mutex
	held  int64     // the bytes past the mark when the hold started
	since time.Time // when the hold started
}

// holdTime is how long the queue may go without shrinking before more viewers go.
const holdTime = time.Second

// Set records how many bytes the queue holds past its mark (0 under it) and the size of a step.
func (p *Pressure) Set(over, step int64) {
	p.over.Store(over)
	p.step.Store(max(1, step))
}

// take returns how many steps of viewers to shed now.
func (p *Pressure) take(now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	over := p.over.Load()
	if over == 0 {
		p.level.Store(0)
		return 0
	}
	level, shed := over/p.step.Load()+1, p.level.Load()
	steps := int64(0)
	switch {
	case level > shed:
		steps = level - shed
	case now.Sub(p.since) < holdTime:
		return 0
	case over >= p.held:
		steps = 1 // it did not shrink
	}
	p.level.Store(level)
	p.held, p.since = over, now
	return int(steps)
}

type pressureKey struct{}

// WithPressure returns a context of a publisher whose queue reports to p.
func WithPressure(ctx context.Context, p *Pressure) context.Context {
	return context.WithValue(ctx, pressureKey{}, p)
}

// shedFraction is the share of a session's viewers dropped per step of pressure.
const shedFraction = 8

// shed drops, for each step of pressure the publisher of ctx reports since it last shed, the
// eighth of the topic's members furthest behind; only a session's viewers are shed.
func shed(ctx context.Context, topic string, members []Member) {
	p, _ := ctx.Value(pressureKey{}).(*Pressure)
	if p == nil || p.over.Load() == 0 && p.level.Load() == 0 || !strings.HasPrefix(topic, SessionViewers) {
		return
	}
	steps := p.take(time.Now())
	if steps == 0 {
		return
	}
	type laggard struct {
		m       Laggard
		pending int64
	}
	var all []laggard
	for _, m := range members {
		if l, ok := m.(Laggard); ok {
			all = append(all, laggard{l, l.Pending()})
		}
	}
	slices.SortStableFunc(all, func(a, b laggard) int { return cmp.Compare(b.pending, a.pending) })
	want := steps * ((len(all) + shedFraction - 1) / shedFraction)
	reason := "relay overloaded: the session's events arrive faster than they can be sent to its " +
		strconv.Itoa(len(members)) + " viewers; dropping the furthest behind"
	for _, l := range all {
		if want == 0 {
			break
		}
		if l.m.Shed(reason + " (" + strconv.FormatInt(l.pending, 10) + " bytes not yet sent)") {
			want--
		}
	}
}
