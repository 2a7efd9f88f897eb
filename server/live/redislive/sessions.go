package redislive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pizzapi/pizzapi/server/live"
)

// SessionStore keeps sessions and their events (a live.SessionStore and its live.EventStore) in
// Redis; see the package documentation for its keys.
type SessionStore struct {
	base
	keyTTL int64 // ms
}

var (
	_ live.SessionStore = (*SessionStore)(nil)
	_ live.EventStore   = (*SessionStore)(nil)
)

func (s *SessionStore) sessionKey(id string) string     { return s.opts.Prefix + "session:" + id }
func (s *SessionStore) historyKey(id string) string     { return s.opts.Prefix + "history:" + id }
func (s *SessionStore) sessionsKey() string             { return s.opts.Prefix + "sessions" }
func (s *SessionStore) userSessionsPrefix() string      { return s.opts.Prefix + "user-sessions:" }
func (s *SessionStore) userSessionsKey(u string) string { return s.userSessionsPrefix() + u }

func formatTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

func parseTime(v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, fmt.Errorf("redislive: bad time %q: %w", v, err)
	}
	return &t, nil
}

func encodeSession(sess *live.Session) (string, error) {
	c := *sess
	c.Seq, c.CLISeq, c.ExpiresAt = 0, 0, nil
	b, err := json.Marshal(&c)
	return string(b), err
}

// decodeSession builds a session from its fields d, seq, cli and exp.
func decodeSession(d, seq, cli, exp any) (*live.Session, error) {
	var sess live.Session
	if err := json.Unmarshal([]byte(str(d)), &sess); err != nil {
		return nil, fmt.Errorf("redislive: bad session record: %w", err)
	}
	var err error
	if sess.Seq, sess.CLISeq, sess.ExpiresAt, err = decodeCounters(seq, cli, exp); err != nil {
		return nil, err
	}
	return &sess, nil
}

// decodeCounters reads a session's fields seq, cli and exp.
func decodeCounters(seq, cli, exp any) (s, c int64, e *time.Time, err error) {
	if s, err = strconv.ParseInt(str(seq), 10, 64); err != nil {
		return 0, 0, nil, fmt.Errorf("redislive: bad session seq: %w", err)
	}
	if c, err = strconv.ParseInt(str(cli), 10, 64); err != nil {
		return 0, 0, nil, fmt.Errorf("redislive: bad session cli seq: %w", err)
	}
	if e, err = parseTime(str(exp)); err != nil {
		return 0, 0, nil, err
	}
	return s, c, e, nil
}

// CreateSession implements live.SessionStore.
func (s *SessionStore) CreateSession(ctx context.Context, sess *live.Session) error {
	d, err := encodeSession(sess)
	if err != nil {
		return err
	}
	hk, all, mine := s.sessionKey(sess.ID), s.sessionsKey(), s.userSessionsKey(sess.UserID)
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, hk, s.historyKey(sess.ID))
		p.HSet(ctx, hk, "d", d, "v", newVersion(), "u", sess.UserID,
			"seq", sess.Seq, "cli", sess.CLISeq, "exp", formatTime(sess.ExpiresAt))
		p.PExpire(ctx, hk, s.opts.KeyTTL)
		p.SAdd(ctx, all, sess.ID)
		p.PExpire(ctx, all, s.opts.KeyTTL)
		p.SAdd(ctx, mine, sess.ID)
		p.PExpire(ctx, mine, s.opts.KeyTTL)
		return nil
	})
	return err
}

// Session implements live.SessionStore.
func (s *SessionStore) Session(ctx context.Context, id string) (*live.Session, error) {
	v, err := s.rdb.HMGet(ctx, s.sessionKey(id), "d", "seq", "cli", "exp").Result()
	if err != nil {
		return nil, err
	}
	if v[0] == nil {
		return nil, live.ErrNotFound
	}
	return decodeSession(v[0], v[1], v[2], v[3])
}

// UpdateSession implements live.SessionStore with update. The write fails when the version or the
// sequence number changed since the read (another update, or an Append). Only the counters fn
// changed are written.
func (s *SessionStore) UpdateSession(ctx context.Context, id string, fn func(*live.Session) error) (*live.Session, error) {
	return update(ctx, s.base, record[*live.Session]{
		what:     "session " + id,
		id:       id,
		key:      s.sessionKey(id),
		fields:   []string{"d", "v", "seq", "cli", "exp"},
		checkSeq: true,
		ttl:      s.keyTTL,
		decode: func(read []any) (*live.Session, error) {
			return decodeSession(read[0], read[2], read[3], read[4])
		},
		encode: func(sess *live.Session, read []any) ([]string, []any, error) {
			seq, cli, exp, err := decodeCounters(read[2], read[3], read[4])
			if err != nil {
				return nil, nil, err
			}
			d, err := encodeSession(sess)
			if err != nil {
				return nil, nil, err
			}
			fields := []any{"d", d, "u", sess.UserID}
			if sess.Seq != seq {
				fields = append(fields, "seq", sess.Seq)
			}
			if sess.CLISeq != cli {
				fields = append(fields, "cli", sess.CLISeq)
			}
			if !sameTime(sess.ExpiresAt, exp) {
				fields = append(fields, "exp", formatTime(sess.ExpiresAt))
			}
			return []string{s.userSessionsKey(sess.UserID), s.historyKey(id)}, fields, nil
		},
	}, fn)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// DeleteSession implements live.SessionStore.
func (s *SessionStore) DeleteSession(ctx context.Context, id string) (*live.Session, bool, error) {
	keys := []string{s.sessionKey(id), s.historyKey(id), s.sessionsKey()}
	v, err := deleteSessionScript.Run(ctx, s.rdb, keys, id, s.userSessionsPrefix()).Slice()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if len(v) != 4 {
		return nil, false, fmt.Errorf("redislive: unexpected delete reply %v", v)
	}
	sess, err := decodeSession(v[0], v[1], v[2], v[3])
	if err != nil {
		// It is deleted all the same: report it so that the end of the session is acted on.
		return &live.Session{ID: id}, true, err
	}
	return sess, true, nil
}

func (s *SessionStore) listSessions(ctx context.Context, set, owner string) ([]*live.Session, error) {
	ownerField := ""
	if owner != "" {
		ownerField = "u"
	}
	recs, err := s.list(ctx, set, s.opts.Prefix+"session:", ownerField, owner, s.keyTTL, "d", "seq", "cli", "exp")
	if err != nil {
		return nil, err
	}
	return decodeSorted(recs,
		func(f []any) (*live.Session, error) { return decodeSession(f[0], f[1], f[2], f[3]) },
		func(sess *live.Session) (time.Time, string) { return sess.StartedAt, sess.ID })
}

// UserSessions implements live.SessionStore.
func (s *SessionStore) UserSessions(ctx context.Context, userID string) ([]*live.Session, error) {
	return s.listSessions(ctx, s.userSessionsKey(userID), userID)
}

// Sessions implements live.SessionStore.
func (s *SessionStore) Sessions(ctx context.Context) ([]*live.Session, error) {
	return s.listSessions(ctx, s.sessionsKey(), "")
}

// TouchSessions refreshes the TTLs of sessions and their index entries, and returns the ids of
// those that no longer exist. A node should call it for the sessions whose CLI it holds.
func (s *SessionStore) TouchSessions(ctx context.Context, ids ...string) ([]string, error) {
	return s.touch(ctx, ids, func(id string) []string {
		return []string{s.sessionKey(id), s.historyKey(id), s.sessionsKey()}
	}, s.keyTTL, "u", s.userSessionsPrefix())
}

// TouchSession refreshes the TTLs of a session; live.ErrNotFound when it no longer exists.
func (s *SessionStore) TouchSession(ctx context.Context, id string) error {
	return touchedOne(s.TouchSessions(ctx, id))
}
