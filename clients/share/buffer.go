package share

// Default bounds of the buffer of events the relay has not acknowledged yet.
const (
	DefaultBufferEvents = 10_000
	DefaultBufferBytes  = 64 << 20
)

// entry is one numbered event.
type entry struct {
	seq int64
	raw []byte
}

// resendBuffer keeps the numbered events the relay has not acknowledged, oldest first, with
// consecutive numbers. It is bounded in count and bytes: when full it forgets the oldest events
// and remembers the highest number it forgot, so that a reconnection can tell whether the relay
// has missed something it can no longer get. It is not safe for concurrent use.
type resendBuffer struct {
	maxEvents int
	maxBytes  int64

	entries []entry
	head    int // entries[head:] are live
	bytes   int64
	// dropped is the highest number evicted before it was acknowledged (0: none).
	dropped int64
	// floor is the number of the last event a snapshot replaced: the events up to it are no
	// longer needed once the events after it arrive.
	floor int64
}

func newResendBuffer(maxEvents int, maxBytes int64) *resendBuffer {
	if maxEvents <= 0 {
		maxEvents = DefaultBufferEvents
	}
	if maxBytes <= 0 {
		maxBytes = DefaultBufferBytes
	}
	return &resendBuffer{maxEvents: maxEvents, maxBytes: maxBytes}
}

// Len is the number of events kept.
func (b *resendBuffer) Len() int { return len(b.entries) - b.head }

// push appends the event numbered seq (one more than the last one pushed) and evicts the oldest
// events beyond the bounds.
func (b *resendBuffer) push(seq int64, raw []byte) {
	b.entries = append(b.entries, entry{seq, raw})
	b.bytes += int64(len(raw))
	for b.Len() > b.maxEvents || (b.bytes > b.maxBytes && b.Len() > 1) {
		b.dropped = b.entries[b.head].seq
		b.popFront()
	}
}

func (b *resendBuffer) popFront() {
	b.bytes -= int64(len(b.entries[b.head].raw))
	b.entries[b.head] = entry{}
	b.head++
	if b.head == len(b.entries) {
		b.entries, b.head = b.entries[:0], 0
	} else if b.head >= 1024 && b.head*2 >= len(b.entries) {
		n := copy(b.entries, b.entries[b.head:])
		clear(b.entries[n:])
		b.entries, b.head = b.entries[:n], 0
	}
}

// ackThrough forgets the events numbered up to seq: the relay has them.
func (b *resendBuffer) ackThrough(seq int64) {
	for b.Len() > 0 && b.entries[b.head].seq <= seq {
		b.popFront()
	}
}

// missing reports whether the buffer no longer holds every event after seq that it once held,
// i.e. a relay that has processed the events up to seq cannot be brought up to date from it.
func (b *resendBuffer) missing(seq int64) bool {
	return b.dropped > seq
}

// next returns the event numbered seq+1. ok is false when there is none (yet); gap is true when
// it was evicted before it could be sent.
func (b *resendBuffer) next(seq int64) (e entry, ok, gap bool) {
	seq = max(seq, b.floor)
	if b.Len() == 0 {
		return entry{}, false, b.dropped > seq
	}
	first := b.entries[b.head].seq
	if seq+1 < first {
		return entry{}, false, true
	}
	i := b.head + int(seq+1-first)
	if i >= len(b.entries) {
		return entry{}, false, false
	}
	return b.entries[i], true, false
}

// reset forgets every event up to through (the last one numbered): a snapshot published next
// replaces them.
func (b *resendBuffer) reset(through int64) {
	clear(b.entries)
	b.entries, b.head, b.bytes, b.dropped, b.floor = b.entries[:0], 0, 0, 0, through
}
