package live

import (
	"context"
	"time"
)

// Append implements EventStore.
func (m *MemorySessionStore) Append(_ context.Context, sessionID string, cliSeq int64, typ string, event []byte, expiresAt *time.Time) (int64, error) {
	ms, err := m.session(sessionID)
	if err != nil {
		return 0, err
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if cliSeq > 0 {
		if cliSeq <= ms.s.CLISeq {
			return 0, ErrDuplicate
		}
		ms.s.CLISeq = cliSeq
	}
	if expiresAt != nil {
		ms.s.ExpiresAt = expiresAt
	}
	ms.s.Seq++
	e := Entry{Seq: ms.s.Seq, Type: typ, Event: event}
	if len(ms.ring) < m.historySize {
		ms.ring = append(ms.ring, e)
	} else {
		ms.ring[ms.start] = e
		ms.start = (ms.start + 1) % len(ms.ring)
	}
	return e.Seq, nil
}

// History implements EventStore.
func (m *MemorySessionStore) History(_ context.Context, sessionID string, afterSeq int64) ([]Entry, bool, error) {
	ms, err := m.session(sessionID)
	if err != nil {
		return nil, false, err
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	n := int64(len(ms.ring))
	oldest := ms.s.Seq - n + 1
	complete := afterSeq+1 >= oldest
	from := max(afterSeq+1, oldest)
	var out []Entry
	for seq := from; seq <= ms.s.Seq; seq++ {
		out = append(out, ms.ring[(int64(ms.start)+seq-oldest)%n])
	}
	return out, complete, nil
}

// SetHeartbeat implements EventStore.
func (m *MemorySessionStore) SetHeartbeat(_ context.Context, sessionID string, event []byte) error {
	ms, err := m.session(sessionID)
	if err != nil {
		return err
	}
	ms.mu.Lock()
	ms.heartbeat = event
	ms.mu.Unlock()
	return nil
}

// SetState implements EventStore.
func (m *MemorySessionStore) SetState(_ context.Context, sessionID string, state []byte) error {
	ms, err := m.session(sessionID)
	if err != nil {
		return err
	}
	ms.mu.Lock()
	ms.state = state
	ms.mu.Unlock()
	return nil
}

// Snapshot implements EventStore.
func (m *MemorySessionStore) Snapshot(_ context.Context, sessionID string) ([]byte, []byte, int64, error) {
	ms, err := m.session(sessionID)
	if err != nil {
		return nil, nil, 0, err
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.heartbeat, ms.state, ms.s.Seq, nil
}
