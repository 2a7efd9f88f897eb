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

// Pressure tells a publisher's handlers whether to shed load, from how long its received events
// wait to be handled: a publisher whose context carries it (WithPressure) drops the eighth of a
// session's viewers furthest behind (Laggard), with a reason, when it publishes to them while its
// events wait too long, rather than letting its queue grow. At twice the rate the relay can fan
// out, the queue grows before the viewers' backlogs do (the relay, not the clients, is the
// limit), so no viewer is over its backlog limit; dropping viewers is then the only way to fan
// out every event without holding the publisher back.
//
// The signal is time, not bytes (as in CoDel, which keys on the time packets spend queued): the
// wait of the event about to be handled (Waited) is how late every viewer gets it, whatever the
// events' size. Once the wait has been over shedTarget for shedInterval, it is compared with the
// wait shedInterval before: viewers are shed when it grew, or fell too slowly to be back under
// shedTarget within shedHorizon, and it is looked at again shedInterval later; a wait under
// shedTarget starts over. So a sustained overload sheds an eighth every shedInterval until the
// queue drains fast enough (the viewers that stay are back under the target within
// shedHorizon), and a burst or a pause of the relay, after which the queue drains by itself,
// sheds no one. The queue's byte bound, which holds the publisher's reader back, stays the last
// resort (server/sio's inbox).
type Pressure struct {
	due   atomic.Int64 // the wait that calls for shedding, in nanoseconds (0: none)
	above atomic.Bool  // the wait was over shedTarget at the last look

	mu     sync.Mutex
	looked time.Time     // when the wait was last compared (zero: under shedTarget)
	last   time.Duration // the wait then
}

// The shedding constants, from bench/run.sh on the 2-core development machine (bench/RESULTS.md,
// 2026-12-07, shedding on the events' wait):
//   - shedTarget, 50 ms: at the sustainable 3,200 events/s to 1,000 viewers (case b, about 80 %
//     of what the relay fans out) 93 % of the publisher's events waited under 3.2 ms and none
//     over 25.6 ms; at twice the capacity (case e, 8,000 events/s) the wait grows by half a
//     second per second, so it passes 50 ms within 0.1 s.
//   - shedInterval, 100 ms: how long the wait must stay over the target before viewers go, and
//     the pace of shedding after: shed viewers stop costing fan-out at once (nothing more is
//     written to them), so 100 ms shows whether the wait turned; in case e the first half of the
//     viewers went within 0.6-0.8 s and the wait peaked at 0.2-0.4 s.
//   - shedHorizon, 2 s: how soon the wait must be back under the target at the rate it falls,
//     or more viewers go: a pause of 0.4 s at 80 % of the capacity (the wait then falls by a
//     quarter of a second per second) sheds no one; a longer horizon sheds fewer viewers under
//     overload and leaves the rest late longer.
const (
	shedTarget   = 50 * time.Millisecond
	shedInterval = 100 * time.Millisecond
	shedHorizon  = 2 * time.Second
)

// Waited records that the event handled next waited d in the publisher's queue; now is when its
// handling starts. The queue calls it for each event, one at a time.
func (p *Pressure) Waited(d time.Duration, now time.Time) {
	if d < shedTarget && !p.above.Load() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case d < shedTarget:
		p.looked = time.Time{}
		p.above.Store(false)
		p.due.Store(0)
		return
	case p.looked.IsZero():
		p.looked, p.last = now, d
		p.above.Store(true)
		return
	case now.Sub(p.looked) < shedInterval:
		return
	}
	elapsed, fell := now.Sub(p.looked), p.last-d
	p.looked, p.last = now, d
	// Shed unless, falling as it did, the wait is under the target within shedHorizon:
	// fell/elapsed < (d-shedTarget)/shedHorizon, in seconds to stay clear of overflow.
	if fell.Seconds()*shedHorizon.Seconds() < (d-shedTarget).Seconds()*elapsed.Seconds() {
		p.due.Store(int64(d))
	}
}

type pressureKey struct{}

// WithPressure returns a context of a publisher whose queue reports to p.
func WithPressure(ctx context.Context, p *Pressure) context.Context {
	return context.WithValue(ctx, pressureKey{}, p)
}

// shedFraction is the share of a session's viewers dropped at a time.
const shedFraction = 8

// shed drops the eighth of the topic's members furthest behind when the events of the publisher
// of ctx wait too long (Pressure); only a session's viewers are shed.
func shed(ctx context.Context, topic string, members []Member) {
	p, _ := ctx.Value(pressureKey{}).(*Pressure)
	if p == nil || p.due.Load() == 0 || !strings.HasPrefix(topic, SessionViewers) {
		return
	}
	wait := time.Duration(p.due.Swap(0))
	if wait == 0 {
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
	reason := "relay overloaded: the session's events wait " + wait.Round(time.Millisecond).String() +
		" before they are sent to its " + strconv.Itoa(len(members)) + " viewers; dropping the furthest behind"
	for _, l := range all {
		if want == 0 {
			break
		}
		if l.m.Shed(reason + " (" + strconv.FormatInt(l.pending, 10) + " bytes not yet sent)") {
			want--
		}
	}
}
