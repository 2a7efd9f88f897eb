package redislive

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pizzapi/pizzapi/server/live"
)

// Append implements live.EventStore in one round trip (appendScript).
func (s *SessionStore) Append(ctx context.Context, sessionID string, cliSeq int64, typ string, event []byte, expiresAt *time.Time) (int64, error) {
	keys := []string{s.sessionKey(sessionID), s.historyKey(sessionID)}
	n, err := appendScript.Run(ctx, s.rdb, keys, cliSeq, typ, event, formatTime(expiresAt), s.opts.HistorySize, s.keyTTL).Int64()
	switch {
	case err != nil:
		return 0, err
	case n == 0:
		return 0, live.ErrDuplicate
	case n < 0:
		return 0, live.ErrNotFound
	}
	return n, nil
}

// History implements live.EventStore: the sequence number and the events after afterSeq are read in
// one transaction. Entry ids are sequence numbers and the kept events are the newest, without
// gaps, so the history is complete exactly when it starts right after afterSeq.
func (s *SessionStore) History(ctx context.Context, sessionID string, afterSeq int64) ([]live.Entry, bool, error) {
	start := "-"
	if afterSeq >= 0 {
		start = strconv.FormatUint(uint64(afterSeq)+1, 10) + "-0" // no overflow at MaxInt64
	}
	var seqCmd *redis.StringCmd
	var rangeCmd *redis.XMessageSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		seqCmd = p.HGet(ctx, s.sessionKey(sessionID), "seq")
		rangeCmd = p.XRange(ctx, s.historyKey(sessionID), start, "+")
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return nil, false, live.ErrNotFound
	}
	if err != nil {
		return nil, false, err
	}
	seq, err := seqCmd.Int64()
	if err != nil {
		return nil, false, fmt.Errorf("redislive: bad session seq: %w", err)
	}
	msgs := rangeCmd.Val()
	var out []live.Entry
	if len(msgs) > 0 {
		out = make([]live.Entry, 0, len(msgs))
	}
	for _, m := range msgs {
		id, _, _ := strings.Cut(m.ID, "-")
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return nil, false, fmt.Errorf("redislive: bad history entry id %q", m.ID)
		}
		out = append(out, live.Entry{Seq: n, Type: str(m.Values["t"]), Event: []byte(str(m.Values["e"]))})
	}
	complete := afterSeq >= seq
	if len(out) > 0 {
		complete = out[0].Seq == afterSeq+1
	}
	return out, complete, nil
}

func (s *SessionStore) setSessionField(ctx context.Context, sessionID, field string, value []byte) error {
	keys := []string{s.sessionKey(sessionID), s.historyKey(sessionID)}
	args := []any{s.keyTTL, "", field, value}
	if value == nil {
		args = []any{s.keyTTL, field}
	}
	n, err := setFieldsScript.Run(ctx, s.rdb, keys, args...).Int64()
	if err != nil {
		return err
	}
	if n == 0 {
		return live.ErrNotFound
	}
	return nil
}

// SetHeartbeat implements live.EventStore.
func (s *SessionStore) SetHeartbeat(ctx context.Context, sessionID string, event []byte) error {
	return s.setSessionField(ctx, sessionID, "hb", event)
}

// SetState implements live.EventStore.
func (s *SessionStore) SetState(ctx context.Context, sessionID string, state []byte) error {
	return s.setSessionField(ctx, sessionID, "st", state)
}

// Snapshot implements live.EventStore: one HMGET, so the three values are consistent.
func (s *SessionStore) Snapshot(ctx context.Context, sessionID string) ([]byte, []byte, int64, error) {
	v, err := s.rdb.HMGet(ctx, s.sessionKey(sessionID), "hb", "st", "seq").Result()
	if err != nil {
		return nil, nil, 0, err
	}
	if v[2] == nil {
		return nil, nil, 0, live.ErrNotFound
	}
	seq, err := strconv.ParseInt(str(v[2]), 10, 64)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("redislive: bad session seq: %w", err)
	}
	var hb, state []byte
	if v[0] != nil {
		hb = []byte(str(v[0]))
	}
	if v[1] != nil {
		state = []byte(str(v[1]))
	}
	return hb, state, seq, nil
}
