package live

import (
	"context"
	"slices"
	"sync"
)

// MemorySessionStore keeps sessions and their events (a SessionStore and its EventStore) in
// process memory, for a single relay node.
type MemorySessionStore struct {
	historySize int

	mu       sync.RWMutex // guards the map; each session has a lock of its own
	sessions map[string]*memSession
}

var (
	_ SessionStore = (*MemorySessionStore)(nil)
	_ EventStore   = (*MemorySessionStore)(nil)
)

// memSession is a session with its events.
type memSession struct {
	mu        sync.Mutex
	s         Session
	ring      []Entry // the newest events, oldest first from start
	start     int
	heartbeat []byte
	state     []byte
}

// NewMemorySessionStore returns an empty store keeping historySize events per session.
func NewMemorySessionStore(historySize int) *MemorySessionStore {
	return &MemorySessionStore{historySize: historySize, sessions: map[string]*memSession{}}
}

func (m *MemorySessionStore) session(id string) (*memSession, error) {
	m.mu.RLock()
	ms := m.sessions[id]
	m.mu.RUnlock()
	if ms == nil {
		return nil, ErrNotFound
	}
	return ms, nil
}

// CreateSession implements SessionStore.
func (m *MemorySessionStore) CreateSession(_ context.Context, s *Session) error {
	ms := &memSession{s: *s}
	m.mu.Lock()
	m.sessions[s.ID] = ms
	m.mu.Unlock()
	return nil
}

// Session implements SessionStore.
func (m *MemorySessionStore) Session(_ context.Context, id string) (*Session, error) {
	ms, err := m.session(id)
	if err != nil {
		return nil, err
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	s := ms.s
	return &s, nil
}

// UpdateSession implements SessionStore.
func (m *MemorySessionStore) UpdateSession(_ context.Context, id string, fn func(*Session) error) (*Session, error) {
	ms, err := m.session(id)
	if err != nil {
		return nil, err
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	s := ms.s
	if err := fn(&s); err != nil {
		return nil, err
	}
	ms.s = s
	return &s, nil
}

// DeleteSession implements SessionStore.
func (m *MemorySessionStore) DeleteSession(_ context.Context, id string) (*Session, bool, error) {
	m.mu.Lock()
	ms := m.sessions[id]
	delete(m.sessions, id)
	m.mu.Unlock()
	if ms == nil {
		return nil, false, nil
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	s := ms.s
	return &s, true, nil
}

// UserSessions implements SessionStore.
func (m *MemorySessionStore) UserSessions(ctx context.Context, userID string) ([]*Session, error) {
	all, _ := m.Sessions(ctx)
	out := all[:0]
	for _, s := range all {
		if s.UserID == userID {
			out = append(out, s)
		}
	}
	return out, nil
}

// Sessions implements SessionStore.
func (m *MemorySessionStore) Sessions(_ context.Context) ([]*Session, error) {
	m.mu.RLock()
	list := make([]*memSession, 0, len(m.sessions))
	for _, ms := range m.sessions {
		list = append(list, ms)
	}
	m.mu.RUnlock()
	out := make([]*Session, 0, len(list))
	for _, ms := range list {
		ms.mu.Lock()
		s := ms.s
		ms.mu.Unlock()
		out = append(out, &s)
	}
	slices.SortFunc(out, func(a, b *Session) int { return a.StartedAt.Compare(b.StartedAt) })
	return out, nil
}
