package wstransport

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"golang.org/x/sync/semaphore"
)

// ErrFrameTooLarge is the error a connection closes with when a client sends a message over the
// limit of its connection, or a large message the shared budget cannot take in time.
var ErrFrameTooLarge = errors.New("message over the connection's limit")

// Limits decides how large an incoming message may be. A connection starts with the small limit,
// which covers the Engine.IO handshake and a namespace CONNECT; authenticating a socket raises its
// connection's limit (see Raise). Every message over the small limit is read only within a
// budget shared by all connections, so the memory held by large messages in flight is bounded
// however many clients send them at once.
type Limits struct {
	small  int64
	budget *semaphore.Weighted
	size   int64
	wait   time.Duration
	used   atomic.Int64
	// polling holds the raised limits of sessions on long-polling, by Engine.IO session id (int64
	// values), for GuardPolling.
	polling sync.Map
}

// NewLimits returns limits with the given small (unauthenticated) limit and a shared budget of
// budget bytes for larger messages; a large message waits at most wait for its share.
func NewLimits(small, budget int64, wait time.Duration) *Limits {
	return &Limits{small: small, budget: semaphore.NewWeighted(budget), size: budget, wait: wait}
}

// Small returns the limit of a connection that has not been raised.
func (l *Limits) Small() int64 { return l.small }

// Raise lets the sockets of an Engine.IO connection send messages up to limit, on its current
// transport and on the websocket it may upgrade to. It never lowers a limit. A nil Limits
// raises nothing.
func (l *Limits) Raise(conn engine.Socket, limit int64) {
	if l == nil || limit <= 0 {
		return
	}
	t := conn.Transport()
	if !raise(t, limit) {
		return
	}
	// Only a session on polling may still upgrade; one that started on websocket keeps no
	// listener for an upgrade that never comes.
	if !conn.Upgraded() && t.Name() == transports.POLLING {
		l.raisePolling(conn, limit)
		_ = conn.Once("upgrade", func(a ...any) {
			if t, ok := a[0].(transports.Transport); ok {
				raise(t, limit)
			}
		})
	}
}

// raise raises a transport's limit and reports whether it changed.
func raise(t transports.Transport, limit int64) bool {
	if w, ok := t.(*transport); ok {
		for {
			old := w.limit.Load()
			if old >= limit {
				return false
			}
			if w.limit.CompareAndSwap(old, limit) {
				return true
			}
		}
	}
	if t.MaxHttpBufferSize() >= limit {
		return false
	}
	t.SetMaxHttpBufferSize(limit)
	return true
}

// acquire reserves n bytes of the shared budget, waiting at most the configured time.
func (l *Limits) acquire(n int64) error {
	if n > l.size {
		return ErrFrameTooLarge
	}
	if !l.budget.TryAcquire(n) {
		ctx, cancel := context.WithTimeout(context.Background(), l.wait)
		defer cancel()
		if err := l.budget.Acquire(ctx, n); err != nil {
			return ErrFrameTooLarge
		}
	}
	l.used.Add(n)
	return nil
}

// release returns n bytes to the shared budget.
func (l *Limits) release(n int64) {
	if n > 0 {
		l.used.Add(-n)
		l.budget.Release(n)
	}
}

// InFlight returns the bytes of large messages being read now.
func (l *Limits) InFlight() int64 { return l.used.Load() }
