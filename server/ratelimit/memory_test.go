package ratelimit_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/ratelimit"
	"github.com/pizzapi/pizzapi/server/ratelimit/ratetest"
)

// clock is a settable time for the memory counter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) step(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestMemory(t *testing.T) {
	clocks := map[ratelimit.Counter]*clock{}
	var mu sync.Mutex
	ratetest.Run(t, func(t *testing.T) ratelimit.Counter {
		c := &clock{t: time.Unix(1_700_000_000, 0)}
		m := ratelimit.NewMemoryClock(c.now)
		mu.Lock()
		clocks[m] = c
		mu.Unlock()
		return m
	}, func(t *testing.T, c ratelimit.Counter, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		clocks[c].step(d)
	})
}

// TestMemoryForgetsEndedWindows: one key per attacker address must not grow the map forever.
func TestMemoryForgetsEndedWindows(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	m := ratelimit.NewMemoryClock(c.now)
	for i := range 5000 {
		if _, _, err := m.Add(t.Context(), fmt.Sprint("addr-", i), 1, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	c.step(2 * time.Second)
	for i := range 2000 {
		_, _, _ = m.Add(t.Context(), fmt.Sprint("new-", i), 1, time.Second)
	}
	if n := m.Len(); n > 2000 {
		t.Errorf("%d keys kept; the 5000 ended windows should have been swept", n)
	}
}
