package bus

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
)

// Local is the bus of a single node: members are sockets (and waiters) in this process.
type Local struct {
	mu     sync.RWMutex
	topics map[string]*topic
}

// topic holds its members as an immutable slice swapped on change, so that publishing takes no
// lock while it delivers.
type topic struct {
	members atomic.Pointer[[]Member]
}

// NewLocal returns an empty bus.
func NewLocal() *Local { return &Local{topics: map[string]*topic{}} }

// Join implements Bus.
func (b *Local) Join(name string, m Member) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.topics[name]
	if t == nil {
		t = &topic{}
		b.topics[name] = t
	}
	var next []Member
	if cur := t.members.Load(); cur != nil {
		if slices.Contains(*cur, m) {
			return
		}
		next = slices.Clone(*cur)
	}
	next = append(next, m)
	t.members.Store(&next)
}

// Leave implements Bus.
func (b *Local) Leave(name string, m Member) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.topics[name]
	if t == nil {
		return
	}
	cur := *t.members.Load()
	i := slices.Index(cur, m)
	if i < 0 {
		return
	}
	if len(cur) == 1 {
		delete(b.topics, name)
		return
	}
	next := slices.Delete(slices.Clone(cur), i, i+1)
	t.members.Store(&next)
}

// Members returns the members of a topic on this node.
func (b *Local) Members(name string) []Member {
	b.mu.RLock()
	t := b.topics[name]
	b.mu.RUnlock()
	if t == nil {
		return nil
	}
	return *t.members.Load()
}

// Publish implements Bus. A publisher whose context carries a Pressure first sheds viewers.
func (b *Local) Publish(ctx context.Context, name string, m *Message) (int, error) {
	members := b.Members(name)
	shed(ctx, name, members)
	for _, mem := range members {
		mem.Deliver(m)
	}
	return len(members), nil
}

// Count implements Bus.
func (b *Local) Count(_ context.Context, name string) (int, error) {
	return len(b.Members(name)), nil
}

// Close implements Bus.
func (b *Local) Close() error { return nil }
