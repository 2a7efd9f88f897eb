package redisgate

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestGateSpacesOutDials: fifty loops that redial at once on every failure, as the Socket.IO
// adapter's PUB/SUB loops do, make a handful of attempts while Redis is down, the outage is
// reported once, and the recovery once.
func TestGateSpacesOutDials(t *testing.T) {
	var downs, ups atomic.Int32
	g := New(Options{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond,
		OnDown: func(error) { downs.Add(1) }, OnUp: func(time.Duration) { ups.Add(1) }})
	var reachable atomic.Bool
	dial := g.DialHook(func(context.Context, string, string) (net.Conn, error) {
		if reachable.Load() {
			c1, c2 := net.Pipe()
			c2.Close()
			return c1, nil
		}
		return nil, errors.New("connect: connection refused")
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var calls atomic.Int64
	for range 50 {
		wg.Go(func() {
			for ctx.Err() == nil {
				calls.Add(1)
				if c, err := dial(ctx, "tcp", "redis"); err == nil {
					c.Close()
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
	time.Sleep(time.Second)
	down := g.Attempts()
	// Without the gate each loop would dial thousands of times a second. With it: the first
	// failure, then one probe per 25–200 ms: at most 1 + 1 s / 25 ms.
	if down > 41 {
		t.Errorf("%d dials in a second while Redis was down, want at most 41", down)
	}
	if !g.Down() || downs.Load() != 1 || ups.Load() != 0 {
		t.Errorf("down=%v, outage reported %d times, recovery %d times", g.Down(), downs.Load(), ups.Load())
	}
	reachable.Store(true)
	deadline := time.Now().Add(10 * time.Second) // a hang guard: the next probe is due within 200 ms
	for g.Attempts() == down && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !g.Down() {
		t.Error("a dial that succeeded ended the outage before any command did")
	}
	// A command that succeeds ends it.
	_ = g.ProcessHook(func(context.Context, redis.Cmder) error { return nil })(ctx, redis.NewStatusCmd(ctx, "ping"))
	cancel()
	wg.Wait()
	if g.Down() || ups.Load() != 1 || downs.Load() != 1 {
		t.Errorf("after Redis came back: down=%v, outage reported %d times, recovery %d times", g.Down(), downs.Load(), ups.Load())
	}
	if g.Attempts() <= down {
		t.Error("no dial went through after Redis came back")
	}
	t.Logf("%d dials while down (of %d calls)", down, calls.Load())
}
