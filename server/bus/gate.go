package bus

import "sync"

// MaxHeld bounds how many messages a paused Gate keeps before its member is dropped as too slow.
const MaxHeld = 10000

// Gate orders what one member writes, whatever its transport: a delivered message is written
// unless it repeats an event already written (by sequence number), deliveries wait while the
// gate is paused (a viewer being sent its snapshot or replay) and are written on Resume without
// loss or repetition, and control messages reach the member's control function after the write.
// Every write, delivered or sent directly, happens under the gate's lock, so writes keep order.
type Gate struct {
	write func(*Message)      // writes a message's event; called with mu held
	kick  func(reason string) // drops the member; called without mu

	mu      sync.Mutex
	paused  bool
	held    []*Message
	lastSeq int64
	control func(*Message)
}

// NewGate returns a gate that writes through write and drops its member through kick when too
// many messages wait while it is paused.
func NewGate(write func(*Message), kick func(reason string)) *Gate {
	return &Gate{write: write, kick: kick}
}

// OnControl sets the function that handles control messages (see the Control constants).
func (g *Gate) OnControl(fn func(*Message)) {
	g.mu.Lock()
	g.control = fn
	g.mu.Unlock()
}

// Now runs fn, a direct write, in order with deliveries and ahead of any held while paused.
func (g *Gate) Now(fn func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn()
}

// NowSeq runs fn, a direct write of the event numbered seq, and records the number, so that a
// later delivery of the same or an older event is skipped.
func (g *Gate) NowSeq(seq int64, fn func()) {
	g.mu.Lock()
	fn()
	g.lastSeq = max(g.lastSeq, seq)
	g.mu.Unlock()
}

// Deliver implements Member: it writes the message, or holds it while the gate is paused.
func (g *Gate) Deliver(m *Message) {
	g.mu.Lock()
	if g.paused {
		if len(g.held) >= MaxHeld {
			g.mu.Unlock()
			g.kick("too many events waiting while paused")
			return
		}
		g.held = append(g.held, m)
		g.mu.Unlock()
		return
	}
	g.deliver(m)
	control := g.control
	g.mu.Unlock()
	if m.Control != "" && control != nil {
		control(m)
	}
}

// deliver writes one message unless it repeats an event already written; the caller holds mu.
func (g *Gate) deliver(m *Message) {
	if m.Seq > 0 {
		if m.Seq <= g.lastSeq {
			return
		}
		g.lastSeq = m.Seq
	}
	if m.Event != "" {
		g.write(m)
	}
}

// Pause holds deliveries until Resume.
func (g *Gate) Pause() {
	g.mu.Lock()
	g.paused = true
	g.mu.Unlock()
}

// Resume writes the held messages whose sequence number is above afterSeq (and those without
// one), then writes messages as they arrive.
func (g *Gate) Resume(afterSeq int64) {
	g.mu.Lock()
	g.lastSeq = max(g.lastSeq, afterSeq)
	held := g.held
	g.held = nil
	g.paused = false
	var controls []*Message
	for _, m := range held {
		g.deliver(m)
		if m.Control != "" {
			controls = append(controls, m)
		}
	}
	control := g.control
	g.mu.Unlock()
	if control != nil {
		for _, m := range controls {
			control(m)
		}
	}
}

// LastSeq returns the highest sequence number written.
func (g *Gate) LastSeq() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lastSeq
}
