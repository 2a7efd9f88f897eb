// Package ratetest is a conformance suite for ratelimit.Counter implementations.
package ratetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/ratelimit"
)

// Run runs the suite. open returns a new, empty counter for each subtest; sleep lets the time pass
// for windows to end (a real sleep for Redis, a clock step for memory).
func Run(t *testing.T, open func(t *testing.T) ratelimit.Counter, sleep func(t *testing.T, c ratelimit.Counter, d time.Duration)) {
	t.Run("Counts", func(t *testing.T) {
		c := open(t)
		ctx := t.Context()
		for i := int64(1); i <= 3; i++ {
			n, left, err := c.Add(ctx, "k", 1, time.Minute)
			if err != nil || n != i || left <= 0 || left > time.Minute {
				t.Fatalf("Add %d: %d, %v, %v", i, n, left, err)
			}
		}
		if n, _, err := c.Add(ctx, "other", 1, time.Minute); err != nil || n != 1 {
			t.Errorf("another key: %d, %v", n, err)
		}
		if n, _, err := c.Add(ctx, "k", -1, time.Minute); err != nil || n != 2 {
			t.Errorf("giving one back: %d, %v", n, err)
		}
		if err := c.Reset(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if n, _, err := c.Add(ctx, "k", 1, time.Minute); err != nil || n != 1 {
			t.Errorf("after Reset: %d, %v", n, err)
		}
	})
	t.Run("GivingBackToZeroEndsTheWindow", func(t *testing.T) {
		c := open(t)
		ctx := t.Context()
		if _, _, err := c.Add(ctx, "k", 1, time.Minute); err != nil {
			t.Fatal(err)
		}
		if n, _, err := c.Add(ctx, "k", -1, time.Minute); err != nil || n != 0 {
			t.Fatalf("give back: %d, %v", n, err)
		}
		n, left, err := c.Add(ctx, "k", 1, 2*time.Minute)
		if err != nil || n != 1 || left <= time.Minute {
			t.Errorf("a new window: %d, %v, %v", n, left, err)
		}
	})
	t.Run("WindowEnds", func(t *testing.T) {
		c := open(t)
		ctx := t.Context()
		for range 5 {
			if _, _, err := c.Add(ctx, "k", 1, 200*time.Millisecond); err != nil {
				t.Fatal(err)
			}
		}
		sleep(t, c, 300*time.Millisecond)
		if n, _, err := c.Add(ctx, "k", 1, 200*time.Millisecond); err != nil || n != 1 {
			t.Errorf("after the window: %d, %v", n, err)
		}
	})
	t.Run("ConcurrentAddsAreAllCounted", func(t *testing.T) {
		c := open(t)
		ctx := t.Context()
		var wg sync.WaitGroup
		seen := make([]int64, 50)
		for i := range seen {
			wg.Go(func() {
				n, _, err := c.Add(ctx, "k", 1, time.Minute)
				if err != nil {
					t.Error(err)
				}
				seen[i] = n
			})
		}
		wg.Wait()
		got := map[int64]bool{}
		for _, n := range seen {
			got[n] = true
		}
		for i := int64(1); i <= 50; i++ {
			if !got[i] {
				t.Fatalf("no Add returned %d: each of 50 concurrent Adds must see its own count (%v)", i, fmt.Sprint(seen))
			}
		}
	})
}
