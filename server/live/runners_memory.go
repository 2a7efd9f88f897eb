package live

import (
	"context"
	"slices"
	"sync"

	"github.com/pizzapi/pizzapi/protocol"
)

// MemoryRunnerStore keeps the connected runners in process memory, for a single relay node.
type MemoryRunnerStore struct {
	mu      sync.RWMutex
	runners map[string]*Runner
}

var _ RunnerStore = (*MemoryRunnerStore)(nil)

// NewMemoryRunnerStore returns an empty store.
func NewMemoryRunnerStore() *MemoryRunnerStore {
	return &MemoryRunnerStore{runners: map[string]*Runner{}}
}

func cloneRunner(r *Runner) *Runner {
	c := *r
	c.Roots = slices.Clone(r.Roots)
	c.Skills = slices.Clone(r.Skills)
	return &c
}

// PutRunner implements RunnerStore.
func (m *MemoryRunnerStore) PutRunner(_ context.Context, r *Runner) error {
	m.mu.Lock()
	m.runners[r.ID] = cloneRunner(r)
	m.mu.Unlock()
	return nil
}

// Runner implements RunnerStore.
func (m *MemoryRunnerStore) Runner(_ context.Context, id string) (*Runner, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r := m.runners[id]
	if r == nil {
		return nil, ErrNotFound
	}
	return cloneRunner(r), nil
}

// DeleteRunner implements RunnerStore.
func (m *MemoryRunnerStore) DeleteRunner(_ context.Context, id, conn string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.runners[id]
	if r == nil || (conn != "" && r.Conn != conn) {
		return false, nil
	}
	delete(m.runners, id)
	return true, nil
}

// UserRunners implements RunnerStore.
func (m *MemoryRunnerStore) UserRunners(_ context.Context, userID string) ([]*Runner, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*Runner
	for _, r := range m.runners {
		if r.UserID == userID {
			out = append(out, cloneRunner(r))
		}
	}
	slices.SortFunc(out, func(a, b *Runner) int { return a.ConnectedAt.Compare(b.ConnectedAt) })
	return out, nil
}

// SetRunnerSkills implements RunnerStore.
func (m *MemoryRunnerStore) SetRunnerSkills(_ context.Context, id string, skills []protocol.RunnerSkill) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.runners[id]
	if r == nil {
		return ErrNotFound
	}
	r.Skills = slices.Clone(skills)
	return nil
}
