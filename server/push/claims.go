package push

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Claims makes each notification go out once across the nodes of a cluster: a node sends a
// notification only after claiming its id, and a claim succeeds once per id within ttl.
type Claims interface {
	// Claim reports whether this caller is the first to claim key within ttl.
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// MemoryClaims are the claims of a single node.
type MemoryClaims struct {
	mu   sync.Mutex
	keys map[string]time.Time // key -> expiry
	now  func() time.Time
}

// NewMemoryClaims returns claims kept in this process.
func NewMemoryClaims() *MemoryClaims {
	return &MemoryClaims{keys: map[string]time.Time{}, now: time.Now}
}

// Claim implements Claims. Expired keys are dropped as the map grows, so memory stays bounded by
// the claims made within one ttl.
func (m *MemoryClaims) Claim(_ context.Context, key string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if exp, ok := m.keys[key]; ok && now.Before(exp) {
		return false, nil
	}
	if len(m.keys) >= 1024 && len(m.keys)%1024 == 0 {
		for k, exp := range m.keys {
			if !now.Before(exp) {
				delete(m.keys, k)
			}
		}
	}
	m.keys[key] = now.Add(ttl)
	return true, nil
}

// RedisClaims are the claims of a cluster, shared in Redis (SET NX with an expiry).
type RedisClaims struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedisClaims returns claims kept in Redis under keys starting with prefix.
func NewRedisClaims(rdb redis.UniversalClient, prefix string) *RedisClaims {
	return &RedisClaims{rdb: rdb, prefix: prefix + "push:claim:"}
}

// Claim implements Claims.
func (r *RedisClaims) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := r.rdb.SetNX(ctx, r.prefix+key, 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("push: claiming %s: %w", key, err)
	}
	return ok, nil
}
