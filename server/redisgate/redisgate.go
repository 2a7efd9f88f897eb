// Package redisgate spaces out the connection attempts of a Redis client while Redis is
// unreachable, and reports the outage once when it starts and once when it ends.
//
// Every user of a node's Redis client (the bus, live state, presence, sweeps and the Socket.IO
// adapter, whose PUB/SUB loops retry at once on every error) reconnects through the client's
// dialer. The go-redis pool stops dialing after a burst of failures, but PUB/SUB connections do
// not go through that circuit breaker: with Redis down, an idle node made thousands of connection
// attempts a second and used half a core. The Gate is a go-redis dial hook: after a failed dial,
// the next one waits for a jittered delay that doubles from Min up to Max, only one dial at a time
// probes while Redis is down, and a successful dial opens the gate for everyone.
package redisgate

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Gate is a go-redis hook (redis.Hook) that backs off dials. The zero value is not usable: use New.
type Gate struct {
	min, max time.Duration
	onDown   func(err error)
	onUp     func(outage time.Duration)

	isDown atomic.Bool // down, for the commands' fast path

	mu      sync.Mutex
	down    bool
	since   time.Time // when the outage began
	delay   time.Duration
	next    time.Time     // no dial before this while down
	probing bool          // a dial is in progress while down
	lastErr error         // the error of the last failed dial
	wake    chan struct{} // closed when the state changes
	closed  chan struct{} // closed by Close
	once    sync.Once

	attempts atomic.Int64
}

// Options configure a Gate.
type Options struct {
	// Min and Max bound the delay between attempts while Redis is unreachable (defaults 100 ms
	// and 5 s).
	Min, Max time.Duration
	// OnDown is called once when a dial fails after Redis was reachable (or at the first dial).
	OnDown func(err error)
	// OnUp is called once when a command succeeds after an outage, with how long it lasted.
	OnUp func(outage time.Duration)
}

// New returns a gate; add it to a client with AddHook.
func New(o Options) *Gate {
	if o.Min <= 0 {
		o.Min = 100 * time.Millisecond
	}
	if o.Max < o.Min {
		o.Max = max(5*time.Second, o.Min)
	}
	return &Gate{min: o.Min, max: o.Max, onDown: o.OnDown, onUp: o.OnUp, wake: make(chan struct{}), closed: make(chan struct{})}
}

// Close makes every dial waiting at the gate, and every later one, fail with redis.ErrClosed at
// once: call it when the client is closed, so that nothing waits out a backoff delay for a
// client that will never dial again.
func (g *Gate) Close() { g.once.Do(func() { close(g.closed) }) }

var _ redis.Hook = (*Gate)(nil)

// Attempts returns how many dials the gate has let through.
func (g *Gate) Attempts() int64 { return g.attempts.Load() }

// Down reports whether Redis is unreachable: a dial failed and no command succeeded since.
func (g *Gate) Down() bool { return g.isDown.Load() }

// DialHook implements redis.Hook.
func (g *Gate) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		probe, err := g.wait(ctx)
		if err != nil {
			return nil, err
		}
		g.attempts.Add(1)
		conn, err := next(ctx, network, addr)
		g.record(probe, err, ctx.Err() != nil)
		return conn, err
	}
}

// ProcessHook implements redis.Hook: a command that succeeds while the gate is down ends the
// outage.
func (g *Gate) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if g.isDown.Load() && (err == nil || errors.Is(err, redis.Nil)) {
			g.up()
		}
		return err
	}
}

// ProcessPipelineHook implements redis.Hook, as ProcessHook.
func (g *Gate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if g.isDown.Load() && (err == nil || errors.Is(err, redis.Nil)) {
			g.up()
		}
		return err
	}
}

// up ends an outage.
func (g *Gate) up() {
	g.mu.Lock()
	if !g.down {
		g.mu.Unlock()
		return
	}
	g.down = false
	g.isDown.Store(false)
	outage := time.Since(g.since)
	close(g.wake)
	g.wake = make(chan struct{})
	g.mu.Unlock()
	if g.onUp != nil {
		g.onUp(outage)
	}
}

// maxWait bounds how long a dial waits at a closed gate before it fails with the last dial's
// error without dialing: long enough that a caller retrying at once on every error (the Socket.IO
// adapter's loops) costs nothing, short enough that a command (which go-redis retries a few
// times) fails within a second or two while Redis is down.
const maxWait = 250 * time.Millisecond

// wait returns when a dial may go ahead: at once while Redis is reachable; while it is down, when
// the delay has passed and no other dial is probing (probe says the caller is that one dial).
// Any other dial fails, without dialing, with the last dial's error when a probe ends with Redis
// still down or after maxWait.
func (g *Gate) wait(ctx context.Context) (probe bool, err error) {
	woken := false
	deadline := time.Now().Add(maxWait)
	for {
		select {
		case <-g.closed:
			return false, redis.ErrClosed
		default:
		}
		g.mu.Lock()
		if !g.down {
			g.mu.Unlock()
			return false, nil
		}
		if woken {
			err := g.lastErr
			g.mu.Unlock()
			return false, err
		}
		now := time.Now()
		if !g.probing && !now.Before(g.next) {
			g.probing = true
			g.mu.Unlock()
			return true, nil
		}
		if !now.Before(deadline) {
			err := g.lastErr
			g.mu.Unlock()
			return false, err
		}
		// Another dial is probing (its result wakes the waiters), or the delay runs.
		wake, until := g.wake, min(g.next.Sub(now), deadline.Sub(now))
		if g.probing {
			until = deadline.Sub(now)
		}
		g.mu.Unlock()
		t := time.NewTimer(max(until, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-wake:
			t.Stop()
			woken = true
		case <-g.closed:
			t.Stop()
		case <-t.C:
		}
	}
}

// record updates the state after a dial; a dial abandoned because its context ended says nothing
// about Redis. While Redis is down, a dial that succeeds keeps the delay (the connection may
// still fail its handshake) and one that fails doubles it; a command that succeeds ends the
// outage (see up).
func (g *Gate) record(probe bool, err error, canceled bool) {
	g.mu.Lock()
	if probe {
		g.probing = false
	}
	var down func(error)
	switch {
	case err != nil && (canceled || errors.Is(err, context.Canceled)):
	case err != nil && !g.down:
		g.down, g.since, g.delay, g.lastErr = true, time.Now(), g.min, err
		g.isDown.Store(true)
		down = g.onDown
		g.next = jittered(g.delay)
	case err != nil:
		g.delay, g.lastErr = min(g.delay*2, g.max), err
		g.next = jittered(g.delay)
	case g.down:
		g.next = jittered(g.delay)
	}
	close(g.wake)
	g.wake = make(chan struct{})
	g.mu.Unlock()
	if down != nil {
		down(err)
	}
}

// jittered is a time between delay/2 and delay from now: nodes that lost Redis together do not
// retry in step.
func jittered(delay time.Duration) time.Time {
	return time.Now().Add(delay/2 + rand.N(delay/2+1))
}

// IsConnErr reports whether err is Redis being unreachable (a failed dial, a dropped connection, a
// network timeout) rather than a failed command: the gate reports those once for the node, so the
// users of the client log them at debug level only.
func IsConnErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, redis.ErrClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}
