package live

import (
	"context"
	"sync"
	"time"
)

// MemoryLinkStore keeps the pending runner links in process memory, for a single relay node.
type MemoryLinkStore struct {
	now func() time.Time

	mu    sync.Mutex
	links map[string]memLink
}

var _ LinkStore = (*MemoryLinkStore)(nil)

type memLink struct {
	runnerID string
	expires  time.Time
}

// NewMemoryLinkStore returns an empty store.
func NewMemoryLinkStore() *MemoryLinkStore {
	return &MemoryLinkStore{now: time.Now, links: map[string]memLink{}}
}

// SetLink implements LinkStore.
func (m *MemoryLinkStore) SetLink(_ context.Context, sessionID, runnerID string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for id, l := range m.links {
		if !now.Before(l.expires) {
			delete(m.links, id)
		}
	}
	m.links[sessionID] = memLink{runnerID: runnerID, expires: now.Add(ttl)}
	return nil
}

// TakeLink implements LinkStore.
func (m *MemoryLinkStore) TakeLink(_ context.Context, sessionID string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.links[sessionID]
	delete(m.links, sessionID)
	if !ok || !m.now().Before(l.expires) {
		return "", false, nil
	}
	return l.runnerID, true, nil
}
