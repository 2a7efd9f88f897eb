package redislive

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pizzapi/pizzapi/server/live"
)

// LinkStore keeps the pending runner links (a live.LinkStore) in Redis.
type LinkStore struct {
	base
}

var _ live.LinkStore = (*LinkStore)(nil)

func (s *LinkStore) linkKey(sessionID string) string { return s.opts.Prefix + "link:" + sessionID }

// SetLink implements live.LinkStore.
func (s *LinkStore) SetLink(ctx context.Context, sessionID, runnerID string, ttl time.Duration) error {
	if ttl < time.Millisecond {
		return s.rdb.Del(ctx, s.linkKey(sessionID)).Err()
	}
	return s.rdb.Set(ctx, s.linkKey(sessionID), runnerID, ttl.Round(time.Millisecond)).Err()
}

// TakeLink implements live.LinkStore.
func (s *LinkStore) TakeLink(ctx context.Context, sessionID string) (string, bool, error) {
	id, err := s.rdb.GetDel(ctx, s.linkKey(sessionID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return id, true, nil
}
