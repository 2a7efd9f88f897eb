package core

import (
	"context"
	"errors"
	"sync"

	"github.com/pizzapi/pizzapi/server/store"
)

// seqBlock is how far ahead of the events it has numbered the relay reserves sequence numbers in
// the durable store. A session registered again after its live state was lost (a restarted single
// node keeps it in memory) numbers its events after the reservation, so that numbers a viewer has
// seen never come again; the price is one store write per seqBlock/2 events and a jump of at most
// seqBlock + seqBlock/2 in the numbers after a restart, which viewers take as a reset (a snapshot).
const seqBlock = 1000

// seqMarks are the reservations this node knows to be stored, per session.
type seqMarks struct {
	mu sync.Mutex
	m  map[string]int64
}

func (s *seqMarks) get(id string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id]
	return v, ok
}

func (s *seqMarks) set(id string, v int64) {
	s.mu.Lock()
	if s.m == nil {
		s.m = map[string]int64{}
	}
	s.m[id] = max(s.m[id], v)
	s.mu.Unlock()
}

func (s *seqMarks) forget(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

// reserveSeq keeps the session's stored reservation ahead of seq, the number just given to an
// event: when seq comes within half a block of what this node knows to be reserved (or the node
// does not know, the session having moved from another node), it reserves a block beyond seq.
// Called before the event is published, so the stored reservation is always ahead of every number
// a viewer has seen while the store works.
func (c *Core) reserveSeq(ctx context.Context, id string, seq int64) {
	if mark, ok := c.marks.get(id); ok && seq <= mark-seqBlock/2 {
		return
	}
	want := seq + seqBlock
	err := c.db.ReserveRelaySessionSeq(ctx, id, want)
	switch {
	case err == nil:
		c.marks.set(id, want)
	case errors.Is(err, store.ErrNotFound):
		// No durable record (it failed to save): nothing to keep ahead of.
		c.marks.set(id, want)
	default:
		c.log.Warn("reserving sequence numbers", "session", id, "seq", seq, "error", err)
	}
}
