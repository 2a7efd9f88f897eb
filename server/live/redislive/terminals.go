package redislive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pizzapi/pizzapi/server/live"
)

// TerminalStore keeps the terminals and their buffered output (a live.TerminalStore) in Redis.
type TerminalStore struct {
	base
	terminalTTL int64 // ms
}

var _ live.TerminalStore = (*TerminalStore)(nil)

func (s *TerminalStore) terminalKey(id string) string       { return s.opts.Prefix + "terminal:" + id }
func (s *TerminalStore) outputKey(id string) string         { return s.opts.Prefix + "terminal-output:" + id }
func (s *TerminalStore) runnerTerminalsPrefix() string      { return s.opts.Prefix + "runner-terminals:" }
func (s *TerminalStore) runnerTerminalsKey(r string) string { return s.runnerTerminalsPrefix() + r }

func decodeTerminal(d any) (*live.Terminal, error) {
	var t live.Terminal
	if err := json.Unmarshal([]byte(str(d)), &t); err != nil {
		return nil, fmt.Errorf("redislive: bad terminal record: %w", err)
	}
	return &t, nil
}

// PutTerminal implements live.TerminalStore.
func (s *TerminalStore) PutTerminal(ctx context.Context, t *live.Terminal) error {
	d, err := json.Marshal(t)
	if err != nil {
		return err
	}
	tk, set := s.terminalKey(t.ID), s.runnerTerminalsKey(t.RunnerID)
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, tk, "d", d, "v", newVersion(), "r", t.RunnerID)
		p.PExpire(ctx, tk, s.opts.TerminalTTL)
		p.SAdd(ctx, set, t.ID)
		p.PExpire(ctx, set, s.opts.TerminalTTL)
		return nil
	})
	return err
}

// Terminal implements live.TerminalStore.
func (s *TerminalStore) Terminal(ctx context.Context, id string) (*live.Terminal, error) {
	d, err := s.rdb.HGet(ctx, s.terminalKey(id), "d").Result()
	if errors.Is(err, redis.Nil) {
		return nil, live.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return decodeTerminal(d)
}

// UpdateTerminal implements live.TerminalStore with update.
func (s *TerminalStore) UpdateTerminal(ctx context.Context, id string, fn func(*live.Terminal) error) (*live.Terminal, error) {
	return update(ctx, s.base, record[*live.Terminal]{
		what:   "terminal " + id,
		id:     id,
		key:    s.terminalKey(id),
		fields: []string{"d", "v"},
		ttl:    s.terminalTTL,
		decode: func(read []any) (*live.Terminal, error) { return decodeTerminal(read[0]) },
		encode: func(t *live.Terminal, _ []any) ([]string, []any, error) {
			d, err := json.Marshal(t)
			if err != nil {
				return nil, nil, err
			}
			return []string{s.runnerTerminalsKey(t.RunnerID), s.outputKey(id)}, []any{"d", d, "r", t.RunnerID}, nil
		},
	}, fn)
}

// DeleteTerminal implements live.TerminalStore.
func (s *TerminalStore) DeleteTerminal(ctx context.Context, id string) (bool, error) {
	keys := []string{s.terminalKey(id), s.outputKey(id)}
	n, err := deleteTerminalScript.Run(ctx, s.rdb, keys, id, s.runnerTerminalsPrefix()).Int64()
	return n == 1, err
}

// RunnerTerminals implements live.TerminalStore.
func (s *TerminalStore) RunnerTerminals(ctx context.Context, runnerID string) ([]*live.Terminal, error) {
	recs, err := s.list(ctx, s.runnerTerminalsKey(runnerID), s.opts.Prefix+"terminal:", "r", runnerID, s.terminalTTL, "d")
	if err != nil {
		return nil, err
	}
	return decodeSorted(recs,
		func(f []any) (*live.Terminal, error) { return decodeTerminal(f[0]) },
		func(t *live.Terminal) (time.Time, string) { return t.CreatedAt, t.ID })
}

func encodeOutput(o live.Output) []byte {
	b := strconv.AppendInt(nil, int64(len(o.Event)), 10)
	b = append(b, ':')
	b = append(b, o.Event...)
	return append(b, o.Payload...)
}

func decodeOutput(v string) (live.Output, error) {
	n, rest, ok := strings.Cut(v, ":")
	l, err := strconv.Atoi(n)
	if !ok || err != nil || l < 0 || l > len(rest) {
		return live.Output{}, fmt.Errorf("redislive: bad buffered output %.40q", v)
	}
	return live.Output{Event: rest[:l], Payload: []byte(rest[l:])}, nil
}

// BufferOutput implements live.TerminalStore.
func (s *TerminalStore) BufferOutput(ctx context.Context, terminalID string, o live.Output, max int) error {
	ok := s.outputKey(terminalID)
	if max <= 0 {
		return s.rdb.Del(ctx, ok).Err()
	}
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, ok, encodeOutput(o))
		p.LTrim(ctx, ok, int64(-max), -1)
		p.PExpire(ctx, ok, s.opts.TerminalTTL)
		return nil
	})
	return err
}

// TakeOutput implements live.TerminalStore.
func (s *TerminalStore) TakeOutput(ctx context.Context, terminalID string) ([]live.Output, error) {
	ok := s.outputKey(terminalID)
	var lr *redis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		lr = p.LRange(ctx, ok, 0, -1)
		p.Del(ctx, ok)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []live.Output
	for _, v := range lr.Val() {
		o, err := decodeOutput(v)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// TouchTerminals refreshes the TTLs of terminals, their buffered output and their index entries,
// and returns the ids of those that no longer exist. The node holding a terminal's runner must
// call it at least every TouchInterval.
func (s *TerminalStore) TouchTerminals(ctx context.Context, ids ...string) ([]string, error) {
	return s.touch(ctx, ids, func(id string) []string {
		return []string{s.terminalKey(id), s.outputKey(id)}
	}, s.terminalTTL, "r", s.runnerTerminalsPrefix())
}

// TouchTerminal refreshes the TTL of a terminal; live.ErrNotFound when it no longer exists.
func (s *TerminalStore) TouchTerminal(ctx context.Context, id string) error {
	return touchedOne(s.TouchTerminals(ctx, id))
}
