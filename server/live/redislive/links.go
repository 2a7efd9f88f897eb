package redislive

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// SetLink implements live.Store.
func (s *Store) SetLink(ctx context.Context, sessionID, runnerID string, ttl time.Duration) error {
	if ttl < time.Millisecond {
		return s.rdb.Del(ctx, s.linkKey(sessionID)).Err()
	}
	return s.rdb.Set(ctx, s.linkKey(sessionID), runnerID, ttl.Round(time.Millisecond)).Err()
}

// TakeLink implements live.Store.
func (s *Store) TakeLink(ctx context.Context, sessionID string) (string, bool, error) {
	id, err := s.rdb.GetDel(ctx, s.linkKey(sessionID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return id, true, nil
}
