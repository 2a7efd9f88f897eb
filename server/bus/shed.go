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
// when it publishes to a session's viewers: as the queue passes its mark, and then every
// shedInterval in which it did not shrink, it drops the eighth of the viewers furthest behind
// (Laggard), with a reason, rather than being held back by a queue that fan-out does not empty.
// A queue back under its mark starts over.
//
// At twice the rate the relay can fan out, the queue grows before the viewers' backlogs do (the
// relay, not the clients, is the limit), so that no viewer is over its backlog limit; dropping
// viewers is then the only way to fan out every event without holding the publisher back, and
// the queue has to shrink again for the viewers that stay to get events without delay.
type Pressure struct {
	over   atomic.Int64 // bytes past the mark, set by the queue
	active atomic.Bool  // the queue was past its mark at the last look

	mu    sync.Mutex
	held  int64     // the bytes past the mark at the last look
	since time.Time // when the last look was (zero: under the mark)
}

// shedInterval is how long the queue has to shrink after viewers were shed before more go.
const shedInterval = 250 * time.Millisecond

// Set records how many bytes the queue holds past its mark (0 under it).
func (p *Pressure) Set(over int64) { p.over.Store(over) }

// take reports whether to shed viewers now.
func (p *Pressure) take(now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	over := p.over.Load()
	switch {
	case over == 0:
		p.since = time.Time{}
		p.active.Store(false)
		return false
	case !p.since.IsZero() && now.Sub(p.since) < shedInterval:
		return false
	}
	grew := p.since.IsZero() || over >= p.held
	p.held, p.since = over, now
	p.active.Store(true)
	return grew
}

type pressureKey struct{}

// WithPressure returns a context of a publisher whose queue reports to p.
func WithPressure(ctx context.Context, p *Pressure) context.Context {
	return context.WithValue(ctx, pressureKey{}, p)
}

// shedFraction is the share of a session's viewers dropped at a time.
const shedFraction = 8

// shed drops the eighth of the topic's members furthest behind when the publisher of ctx is
// under pressure; only a session's viewers are shed.
func shed(ctx context.Context, topic string, members []Member) {
	p, _ := ctx.Value(pressureKey{}).(*Pressure)
	if p == nil || p.over.Load() == 0 && !p.active.Load() || !strings.HasPrefix(topic, SessionViewers) || !p.take(time.Now()) {
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
	want := (len(all) + shedFraction - 1) / shedFraction
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
