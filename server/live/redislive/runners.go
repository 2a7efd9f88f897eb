package redislive

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/server/live"
)

// RunnerStore keeps the connected runners (a live.RunnerStore) in Redis.
type RunnerStore struct {
	base
	runnerTTL int64 // ms
}

var _ live.RunnerStore = (*RunnerStore)(nil)

func (s *RunnerStore) runnerKey(id string) string     { return s.opts.Prefix + "runner:" + id }
func (s *RunnerStore) userRunnersPrefix() string      { return s.opts.Prefix + "user-runners:" }
func (s *RunnerStore) userRunnersKey(u string) string { return s.userRunnersPrefix() + u }

func encodeRunner(r *live.Runner) (d, sk string, err error) {
	c := *r
	c.Skills = nil
	b, err := json.Marshal(&c)
	if err != nil {
		return "", "", err
	}
	skills, err := json.Marshal(r.Skills)
	return string(b), string(skills), err
}

func decodeRunner(d, sk any) (*live.Runner, error) {
	var r live.Runner
	if err := json.Unmarshal([]byte(str(d)), &r); err != nil {
		return nil, fmt.Errorf("redislive: bad runner record: %w", err)
	}
	if err := json.Unmarshal([]byte(str(sk)), &r.Skills); err != nil {
		return nil, fmt.Errorf("redislive: bad runner skills: %w", err)
	}
	return &r, nil
}

// PutRunner implements live.RunnerStore.
func (s *RunnerStore) PutRunner(ctx context.Context, r *live.Runner) error {
	d, sk, err := encodeRunner(r)
	if err != nil {
		return err
	}
	rk, mine := s.runnerKey(r.ID), s.userRunnersKey(r.UserID)
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, rk, "d", d, "sk", sk, "u", r.UserID, "c", r.Conn)
		p.PExpire(ctx, rk, s.opts.RunnerTTL)
		p.SAdd(ctx, mine, r.ID)
		p.PExpire(ctx, mine, s.opts.RunnerTTL)
		return nil
	})
	return err
}

// Runner implements live.RunnerStore.
func (s *RunnerStore) Runner(ctx context.Context, id string) (*live.Runner, error) {
	v, err := s.rdb.HMGet(ctx, s.runnerKey(id), "d", "sk").Result()
	if err != nil {
		return nil, err
	}
	if v[0] == nil {
		return nil, live.ErrNotFound
	}
	return decodeRunner(v[0], v[1])
}

// DeleteRunner implements live.RunnerStore.
func (s *RunnerStore) DeleteRunner(ctx context.Context, id, conn string) (bool, error) {
	n, err := deleteRunnerScript.Run(ctx, s.rdb, []string{s.runnerKey(id)}, conn, id, s.userRunnersPrefix()).Int64()
	return n == 1, err
}

// UserRunners implements live.RunnerStore.
func (s *RunnerStore) UserRunners(ctx context.Context, userID string) ([]*live.Runner, error) {
	recs, err := s.list(ctx, s.userRunnersKey(userID), s.opts.Prefix+"runner:", "u", userID, s.runnerTTL, "d", "sk")
	if err != nil {
		return nil, err
	}
	return decodeSorted(recs,
		func(f []any) (*live.Runner, error) { return decodeRunner(f[0], f[1]) },
		func(r *live.Runner) (time.Time, string) { return r.ConnectedAt, r.ID })
}

// SetRunnerSkills implements live.RunnerStore.
func (s *RunnerStore) SetRunnerSkills(ctx context.Context, id string, skills []protocol.RunnerSkill) error {
	sk, err := json.Marshal(skills)
	if err != nil {
		return err
	}
	n, err := setFieldsScript.Run(ctx, s.rdb, []string{s.runnerKey(id)}, s.runnerTTL, "", "sk", sk).Int64()
	if err != nil {
		return err
	}
	if n == 0 {
		return live.ErrNotFound
	}
	return nil
}

// TouchRunners refreshes the TTLs of runners and their index entries, and returns the ids of
// those that no longer exist. The node holding a runner's connection must call it at least every
// TouchInterval; a runner it reports gone while its connection is open should be put again.
func (s *RunnerStore) TouchRunners(ctx context.Context, ids ...string) ([]string, error) {
	return s.touch(ctx, ids, func(id string) []string {
		return []string{s.runnerKey(id)}
	}, s.runnerTTL, "u", s.userRunnersPrefix())
}

// TouchRunner refreshes the TTL of a runner; live.ErrNotFound when it no longer exists.
func (s *RunnerStore) TouchRunner(ctx context.Context, id string) error {
	return touchedOne(s.TouchRunners(ctx, id))
}
