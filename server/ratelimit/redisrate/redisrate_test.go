package redisrate_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pizzapi/pizzapi/internal/redistest"
	"github.com/pizzapi/pizzapi/server/ratelimit"
	"github.com/pizzapi/pizzapi/server/ratelimit/ratetest"
	"github.com/pizzapi/pizzapi/server/ratelimit/redisrate"
)

func TestCounter(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: redistest.Start(t)})
	t.Cleanup(func() { _ = rdb.Close() })
	var n atomic.Int64
	ratetest.Run(t, func(t *testing.T) ratelimit.Counter {
		return redisrate.New(rdb, fmt.Sprintf("test%d:", n.Add(1)))
	}, func(t *testing.T, _ ratelimit.Counter, d time.Duration) { time.Sleep(d) })
}

// TestCounterSharedByNodes: two nodes (two clients) count into the same windows.
func TestCounterSharedByNodes(t *testing.T) {
	addr := redistest.Start(t)
	a := redisrate.New(redis.NewClient(&redis.Options{Addr: addr}), "p:")
	b := redisrate.New(redis.NewClient(&redis.Options{Addr: addr}), "p:")
	for i := range 3 {
		if _, _, err := a.Add(t.Context(), "k", 1, time.Minute); err != nil {
			t.Fatal(i, err)
		}
	}
	if n, _, err := b.Add(t.Context(), "k", 1, time.Minute); err != nil || n != 4 {
		t.Errorf("the other node counted %d (%v), want 4", n, err)
	}
}
