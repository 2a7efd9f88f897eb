package live

import (
	"context"
	"sync"
)

// MemoryTerminalStore keeps the terminals and their buffered output in process memory, for a
// single relay node.
type MemoryTerminalStore struct {
	mu        sync.RWMutex
	terminals map[string]*Terminal
	outputs   map[string][]Output
}

var _ TerminalStore = (*MemoryTerminalStore)(nil)

// NewMemoryTerminalStore returns an empty store.
func NewMemoryTerminalStore() *MemoryTerminalStore {
	return &MemoryTerminalStore{terminals: map[string]*Terminal{}, outputs: map[string][]Output{}}
}

// PutTerminal implements TerminalStore.
func (m *MemoryTerminalStore) PutTerminal(_ context.Context, t *Terminal) error {
	m.mu.Lock()
	c := *t
	m.terminals[t.ID] = &c
	m.mu.Unlock()
	return nil
}

// Terminal implements TerminalStore.
func (m *MemoryTerminalStore) Terminal(_ context.Context, id string) (*Terminal, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t := m.terminals[id]
	if t == nil {
		return nil, ErrNotFound
	}
	c := *t
	return &c, nil
}

// UpdateTerminal implements TerminalStore.
func (m *MemoryTerminalStore) UpdateTerminal(_ context.Context, id string, fn func(*Terminal) error) (*Terminal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.terminals[id]
	if t == nil {
		return nil, ErrNotFound
	}
	c := *t
	if err := fn(&c); err != nil {
		return nil, err
	}
	*t = c
	return &c, nil
}

// DeleteTerminal implements TerminalStore.
func (m *MemoryTerminalStore) DeleteTerminal(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.terminals[id]
	delete(m.terminals, id)
	delete(m.outputs, id)
	return ok, nil
}

// RunnerTerminals implements TerminalStore.
func (m *MemoryTerminalStore) RunnerTerminals(_ context.Context, runnerID string) ([]*Terminal, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*Terminal
	for _, t := range m.terminals {
		if t.RunnerID == runnerID {
			c := *t
			out = append(out, &c)
		}
	}
	return out, nil
}

// BufferOutput implements TerminalStore.
func (m *MemoryTerminalStore) BufferOutput(_ context.Context, terminalID string, o Output, max int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	buf := append(m.outputs[terminalID], o)
	if len(buf) > max {
		buf = buf[len(buf)-max:]
	}
	m.outputs[terminalID] = buf
	return nil
}

// TakeOutput implements TerminalStore.
func (m *MemoryTerminalStore) TakeOutput(_ context.Context, terminalID string) ([]Output, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.outputs[terminalID]
	delete(m.outputs, terminalID)
	return out, nil
}
