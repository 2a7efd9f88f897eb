// Package redisrate implements ratelimit.Counter in Redis, shared by the nodes of a cluster: one
// key per counted key, incremented and given its expiry by one script, so that concurrent
// attempts on several nodes are all counted.
package redisrate

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pizzapi/pizzapi/server/ratelimit"
)

// Counter is a ratelimit.Counter in Redis.
type Counter struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ ratelimit.Counter = (*Counter)(nil)

// New returns a counter keeping its keys under prefix.
func New(rdb redis.UniversalClient, prefix string) *Counter {
	return &Counter{rdb: rdb, prefix: prefix}
}

// addScript adds ARGV[1] to KEYS[1], starts a window of ARGV[2] ms when the key has no expiry, and
// deletes the key when its count falls to zero or below; it returns the count and the ms left.
var addScript = redis.NewScript(`
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n <= 0 then
  redis.call('DEL', KEYS[1])
  return {n, 0}
end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
return {n, left}
`)

// Add implements ratelimit.Counter.
func (c *Counter) Add(ctx context.Context, key string, n int64, window time.Duration) (int64, time.Duration, error) {
	res, err := addScript.Run(ctx, c.rdb, []string{c.prefix + key}, n, window.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, 0, fmt.Errorf("redisrate: %w", err)
	}
	if len(res) != 2 {
		return 0, 0, fmt.Errorf("redisrate: unexpected reply %v", res)
	}
	return res[0], time.Duration(res[1]) * time.Millisecond, nil
}

// Reset implements ratelimit.Counter.
func (c *Counter) Reset(ctx context.Context, key string) error {
	if err := c.rdb.Del(ctx, c.prefix+key).Err(); err != nil {
		return fmt.Errorf("redisrate: %w", err)
	}
	return nil
}
