// Package ratelimit counts events per key in fixed time windows, for the relay's limits on logins
// and sign-ups. The Counter interface has two implementations: Memory for a single node and
// redisrate for a cluster, whose nodes must share the counts (an attacker could otherwise reset a
// limit by sending each attempt to another node, or by waiting for a node to restart).
package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Counter counts events per key. Implementations are safe for concurrent use.
type Counter interface {
	// Add adds n (negative to give back what an earlier Add took) to the count of key in its
	// current window, starting a window of length window when key has none, and returns the new
	// count and the time left in the window. A count that falls to zero or below ends the window.
	Add(ctx context.Context, key string, n int64, window time.Duration) (count int64, left time.Duration, err error)
	// Reset forgets the count of key.
	Reset(ctx context.Context, key string) error
}

// sweepEvery is how many Adds a Memory lets pass between sweeps of its expired windows, which
// bounds its memory by the number of keys used within a window.
const sweepEvery = 1024

// Memory is a Counter in the memory of one node.
type Memory struct {
	now func() time.Time

	mu    sync.Mutex
	adds  int
	count map[string]*window
}

type window struct {
	n    int64
	ends time.Time
}

// NewMemory returns an empty in-memory counter.
func NewMemory() *Memory { return NewMemoryClock(time.Now) }

// NewMemoryClock returns an empty in-memory counter that reads the time from now (for tests).
func NewMemoryClock(now func() time.Time) *Memory {
	return &Memory{now: now, count: map[string]*window{}}
}

// Add implements Counter.
func (m *Memory) Add(_ context.Context, key string, n int64, length time.Duration) (int64, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if m.adds++; m.adds >= sweepEvery {
		m.adds = 0
		for k, w := range m.count {
			if !w.ends.After(now) {
				delete(m.count, k)
			}
		}
	}
	w := m.count[key]
	if w == nil || !w.ends.After(now) {
		w = &window{ends: now.Add(length)}
		m.count[key] = w
	}
	w.n += n
	left := w.ends.Sub(now)
	if w.n <= 0 {
		delete(m.count, key)
		return w.n, 0, nil
	}
	return w.n, left, nil
}

// Reset implements Counter.
func (m *Memory) Reset(_ context.Context, key string) error {
	m.mu.Lock()
	delete(m.count, key)
	m.mu.Unlock()
	return nil
}

// Len returns how many keys have a window (for tests of the memory bound).
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.count)
}
