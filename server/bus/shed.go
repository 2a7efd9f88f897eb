package bus

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
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
// past its high-water mark, in steps (Set). A publisher whose context carries it (WithPressure)
// sheds load when it publishes to a session's viewers: for each step the queue grew since it
// last shed, and for each holdTime the queue stays at the same step, it drops the eighth of the
// viewers furthest behind (Laggard), with a reason, rather than being held back by a queue that
// fan-out does not empty. A queue that shrinks sheds no one; one back under its mark starts over.
//
// At twice the rate the relay can fan out, the queue grows before the viewers' backlogs do (the
// relay, not the clients, is the limit), so that no viewer is over its backlog limit; dropping
// viewers is then the only way to fan out every event without holding the publisher back, and
// the queue has to shrink again for the viewers that stay to get events without delay.
type Pressure struct {
	level atomic.Int32 // set by the queue
	shed  atomic.Int32 // the level last shed for (lowered as the queue shrinks)
	last  atomic.Int64 // when viewers were last shed, unix nanoseconds
}

// holdTime is how long the queue may stay at one step before more viewers go.
const holdTime = time.Second

// Set records the queue's level: 0 under its high-water mark, else the steps past it.
func (p *Pressure) Set(level int) { p.level.Store(int32(level)) }

// take returns how many steps of viewers to shed now and marks them shed. One publisher's
// handlers call it one at a time.
func (p *Pressure) take(now time.Time) int {
	level, shed := p.level.Load(), p.shed.Load()
	steps := int32(0)
	switch {
	case level < shed || level == 0:
		// Shrinking: the hold starts over at the lower step.
		p.shed.Store(level)
		p.last.Store(now.UnixNano())
		return 0
	case level > shed:
		steps = level - shed
	case now.Sub(time.Unix(0, p.last.Load())) >= holdTime:
		steps = 1
	default:
		return 0
	}
	p.shed.Store(level)
	p.last.Store(now.UnixNano())
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
	if p == nil || p.level.Load() == 0 && p.shed.Load() == 0 || !strings.HasPrefix(topic, SessionViewers) {
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
