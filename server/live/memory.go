package live

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
)

// Memory is the live state of a single relay node, kept in process memory.
type Memory struct {
	historySize int
	now         func() time.Time

	mu        sync.RWMutex
	sessions  map[string]*memSession
	runners   map[string]*Runner
	terminals map[string]*Terminal
	outputs   map[string][]Output
	links     map[string]memLink
}

type memSession struct {
	mu        sync.Mutex
	s         Session
	ring      []Entry // the newest events, oldest first from start
	start     int
	heartbeat []byte
	state     []byte
}

type memLink struct {
	runnerID string
	expires  time.Time
}

// NewMemory returns an empty store keeping historySize events per session.
func NewMemory(historySize int) *Memory {
	return &Memory{
		historySize: historySize,
		now:         time.Now,
		sessions:    map[string]*memSession{},
		runners:     map[string]*Runner{},
		terminals:   map[string]*Terminal{},
		outputs:     map[string][]Output{},
		links:       map[string]memLink{},
	}
}

func (m *Memory) session(id string) (*memSession, error) {
	m.mu.RLock()
	ms := m.sessions[id]
	m.mu.RUnlock()
	if ms == nil {
		return nil, ErrNotFound
	}
	return ms, nil
}

// CreateSession implements Store.
func (m *Memory) CreateSession(_ context.Context, s *Session) error {
	ms := &memSession{s: *s}
	m.mu.Lock()
	m.sessions[s.ID] = ms
	m.mu.Unlock()
	return nil
}

// Session implements Store.
func (m *Memory) Session(_ context.Context, id string) (*Session, error) {
	ms, err := m.session(id)
	if err != nil {
		return nil, err
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	s := ms.s
	return &s, nil
}

// UpdateSession implements Store.
func (m *Memory) UpdateSession(_ context.Context, id string, fn func(*Session) error) (*Session, error) {
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

// DeleteSession implements Store.
func (m *Memory) DeleteSession(_ context.Context, id string) (*Session, bool, error) {
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

// UserSessions implements Store.
func (m *Memory) UserSessions(ctx context.Context, userID string) ([]*Session, error) {
	all, _ := m.Sessions(ctx)
	out := all[:0]
	for _, s := range all {
		if s.UserID == userID {
			out = append(out, s)
		}
	}
	return out, nil
}

// Sessions implements Store.
func (m *Memory) Sessions(_ context.Context) ([]*Session, error) {
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

// Append implements Store.
func (m *Memory) Append(_ context.Context, sessionID string, cliSeq int64, typ string, event []byte, expiresAt *time.Time) (int64, error) {
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

// History implements Store.
func (m *Memory) History(_ context.Context, sessionID string, afterSeq int64) ([]Entry, bool, error) {
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

// SetHeartbeat implements Store.
func (m *Memory) SetHeartbeat(_ context.Context, sessionID string, event []byte) error {
	ms, err := m.session(sessionID)
	if err != nil {
		return err
	}
	ms.mu.Lock()
	ms.heartbeat = event
	ms.mu.Unlock()
	return nil
}

// SetState implements Store.
func (m *Memory) SetState(_ context.Context, sessionID string, state []byte) error {
	ms, err := m.session(sessionID)
	if err != nil {
		return err
	}
	ms.mu.Lock()
	ms.state = state
	ms.mu.Unlock()
	return nil
}

// Snapshot implements Store.
func (m *Memory) Snapshot(_ context.Context, sessionID string) ([]byte, []byte, int64, error) {
	ms, err := m.session(sessionID)
	if err != nil {
		return nil, nil, 0, err
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.heartbeat, ms.state, ms.s.Seq, nil
}

func cloneRunner(r *Runner) *Runner {
	c := *r
	c.Roots = slices.Clone(r.Roots)
	c.Skills = slices.Clone(r.Skills)
	return &c
}

// PutRunner implements Store.
func (m *Memory) PutRunner(_ context.Context, r *Runner) error {
	m.mu.Lock()
	m.runners[r.ID] = cloneRunner(r)
	m.mu.Unlock()
	return nil
}

// Runner implements Store.
func (m *Memory) Runner(_ context.Context, id string) (*Runner, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r := m.runners[id]
	if r == nil {
		return nil, ErrNotFound
	}
	return cloneRunner(r), nil
}

// DeleteRunner implements Store.
func (m *Memory) DeleteRunner(_ context.Context, id, conn string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.runners[id]
	if r == nil || (conn != "" && r.Conn != conn) {
		return false, nil
	}
	delete(m.runners, id)
	return true, nil
}

// UserRunners implements Store.
func (m *Memory) UserRunners(_ context.Context, userID string) ([]*Runner, error) {
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

// SetRunnerSkills implements Store.
func (m *Memory) SetRunnerSkills(_ context.Context, id string, skills []protocol.RunnerSkill) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.runners[id]
	if r == nil {
		return ErrNotFound
	}
	r.Skills = slices.Clone(skills)
	return nil
}

// PutTerminal implements Store.
func (m *Memory) PutTerminal(_ context.Context, t *Terminal) error {
	m.mu.Lock()
	c := *t
	m.terminals[t.ID] = &c
	m.mu.Unlock()
	return nil
}

// Terminal implements Store.
func (m *Memory) Terminal(_ context.Context, id string) (*Terminal, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t := m.terminals[id]
	if t == nil {
		return nil, ErrNotFound
	}
	c := *t
	return &c, nil
}

// UpdateTerminal implements Store.
func (m *Memory) UpdateTerminal(_ context.Context, id string, fn func(*Terminal) error) (*Terminal, error) {
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

// DeleteTerminal implements Store.
func (m *Memory) DeleteTerminal(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.terminals[id]
	delete(m.terminals, id)
	delete(m.outputs, id)
	return ok, nil
}

// RunnerTerminals implements Store.
func (m *Memory) RunnerTerminals(_ context.Context, runnerID string) ([]*Terminal, error) {
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

// BufferOutput implements Store.
func (m *Memory) BufferOutput(_ context.Context, terminalID string, o Output, max int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	buf := append(m.outputs[terminalID], o)
	if len(buf) > max {
		buf = buf[len(buf)-max:]
	}
	m.outputs[terminalID] = buf
	return nil
}

// TakeOutput implements Store.
func (m *Memory) TakeOutput(_ context.Context, terminalID string) ([]Output, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.outputs[terminalID]
	delete(m.outputs, terminalID)
	return out, nil
}

// SetLink implements Store.
func (m *Memory) SetLink(_ context.Context, sessionID, runnerID string, ttl time.Duration) error {
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

// TakeLink implements Store.
func (m *Memory) TakeLink(_ context.Context, sessionID string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.links[sessionID]
	delete(m.links, sessionID)
	if !ok || !m.now().Before(l.expires) {
		return "", false, nil
	}
	return l.runnerID, true, nil
}
