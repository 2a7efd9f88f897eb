// Package redislive keeps the relay's live state (live.Store) in Redis, shared by every relay node.
//
// # Keys
//
// Every key starts with Options.Prefix (P below, "pizzapi:" by default). Sessions, runners and
// terminals are hashes; their Go values are stored as JSON in the field d, except the counters
// that Append moves, which are fields of their own so that an update of the session never
// rewrites them.
//
//	P session:<id>            hash    one live session:
//	                                    d    JSON of live.Session without Seq, CLISeq and ExpiresAt
//	                                    v    version, a random token replaced by every write of d
//	                                    u    owner user id (for index cleanup)
//	                                    seq  last sequence number given to an event (Session.Seq)
//	                                    cli  highest CLI event number processed (Session.CLISeq)
//	                                    exp  Session.ExpiresAt, RFC 3339 with nanoseconds, "" for none
//	                                    hb   last heartbeat event (raw JSON), absent until one
//	                                    st   last session_active event (raw JSON), absent until one
//	                                  TTL KeyTTL, refreshed by every write and by TouchSessions
//	P history:<id>            stream  the newest HistorySize events of the session; the entry id
//	                                  is <seq>-0, the fields are t (event type) and e (the event);
//	                                  trimmed exactly (XADD MAXLEN =). TTL: as the session hash
//	P sessions                set     ids of all live sessions. TTL KeyTTL, refreshed on
//	                                  CreateSession, TouchSessions and when Sessions lists any
//	P user-sessions:<user>    set     ids of a user's live sessions. TTL KeyTTL, refreshed on
//	                                  CreateSession, UpdateSession, TouchSessions and listing
//	P runner:<id>             hash    a connected runner: d (JSON of live.Runner without Skills),
//	                                  sk (JSON of the skills), u (owner user id), c (connection id).
//	                                  TTL RunnerTTL, refreshed by PutRunner, SetRunnerSkills and
//	                                  TouchRunners
//	P user-runners:<user>     set     ids of a user's runners. TTL RunnerTTL, refreshed with its
//	                                  runners and when listed
//	P terminal:<id>           hash    a terminal: d (JSON of live.Terminal), v (version, as for
//	                                  sessions), r (runner id). TTL TerminalTTL, refreshed by every
//	                                  write and by TouchTerminals
//	P terminal-output:<id>    list    output buffered for a terminal without viewer, oldest first;
//	                                  each element is <len(event)>:<event><payload>. TTL TerminalTTL,
//	                                  refreshed with the terminal and by BufferOutput
//	P runner-terminals:<id>   set     ids of a runner's terminals. TTL TerminalTTL, refreshed with
//	                                  its terminals and when listed
//	P link:<session id>       string  runner id of a pending runner link. TTL: SetLink's
//
// Index sets may hold ids whose record expired or moved to another owner; listing removes them
// (atomically with the check, so an id that is being created again is not lost).
//
// # Expiry
//
// No Redis TTL decides when a session ends: ephemeral expiry is the session's ExpiresAt, acted on
// by the relay's sweep. KeyTTL (24 h) only collects what a crashed cluster leaves behind; every
// write refreshes it. Runners and terminals are records of connections held by one node: that
// node must call TouchRunners and TouchTerminals for them at least every TouchInterval (a third
// of their TTL), and should call TouchSessions for the sessions whose CLI it holds. Records of a
// node that died then disappear within RunnerTTL/TerminalTTL (3 minutes by default), while the
// records of a live node never expire. Touch reports the records that were already gone, which a
// node whose connection is still open should put again.
//
// # Round trips
//
// Append is one EVALSHA. Session, Snapshot, PutRunner, Runner, Terminal, the link operations,
// History, BufferOutput, TakeOutput, the deletes and the listings are one round trip each;
// UpdateSession and UpdateTerminal are two (read, then compare-and-set), more when they conflict.
//
// # Redis Cluster
//
// Scripts touch several keys of a record and the index sets, and compute index keys from stored
// owner ids. On Redis Cluster, give a prefix with a hash tag, such as "{pizzapi}:", so that every
// key is in one slot.
package redislive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/server/live"
)

// Defaults of Options.
const (
	DefaultPrefix      = "pizzapi:"
	DefaultHistorySize = 1000
	DefaultKeyTTL      = 24 * time.Hour
	DefaultRunnerTTL   = 3 * time.Minute
	DefaultTerminalTTL = 3 * time.Minute
)

// Options configure a Store; zero fields take the defaults.
type Options struct {
	// Prefix starts every key.
	Prefix string
	// HistorySize is the number of events kept per session.
	HistorySize int
	// KeyTTL is the safety TTL of sessions and their index sets, refreshed on every write.
	KeyTTL time.Duration
	// RunnerTTL is how long a runner that is no longer touched stays.
	RunnerTTL time.Duration
	// TerminalTTL is how long a terminal (and its buffered output) that is no longer touched stays.
	TerminalTTL time.Duration
}

// Store is a live.Store in Redis.
type Store struct {
	rdb  redis.UniversalClient
	opts Options
	// TTLs in milliseconds, as the scripts take them.
	keyTTL, runnerTTL, terminalTTL int64
}

var _ live.Store = (*Store)(nil)

// New returns a store on rdb.
func New(rdb redis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.HistorySize <= 0 {
		opts.HistorySize = DefaultHistorySize
	}
	if opts.KeyTTL <= 0 {
		opts.KeyTTL = DefaultKeyTTL
	}
	if opts.RunnerTTL <= 0 {
		opts.RunnerTTL = DefaultRunnerTTL
	}
	if opts.TerminalTTL <= 0 {
		opts.TerminalTTL = DefaultTerminalTTL
	}
	return &Store{
		rdb: rdb, opts: opts,
		keyTTL:      ms(opts.KeyTTL),
		runnerTTL:   ms(opts.RunnerTTL),
		terminalTTL: ms(opts.TerminalTTL),
	}
}

func ms(d time.Duration) int64 { return max(1, d.Milliseconds()) }

// Options returns the options in force, defaults filled in.
func (s *Store) Options() Options { return s.opts }

// TouchInterval is how often a node must touch the runners and terminals it holds.
func (s *Store) TouchInterval() time.Duration {
	return min(s.opts.RunnerTTL, s.opts.TerminalTTL, s.opts.KeyTTL) / 3
}

// Keys.

func (s *Store) sessionKey(id string) string        { return s.opts.Prefix + "session:" + id }
func (s *Store) historyKey(id string) string        { return s.opts.Prefix + "history:" + id }
func (s *Store) sessionsKey() string                { return s.opts.Prefix + "sessions" }
func (s *Store) userSessionsPrefix() string         { return s.opts.Prefix + "user-sessions:" }
func (s *Store) runnerKey(id string) string         { return s.opts.Prefix + "runner:" + id }
func (s *Store) userRunnersPrefix() string          { return s.opts.Prefix + "user-runners:" }
func (s *Store) terminalKey(id string) string       { return s.opts.Prefix + "terminal:" + id }
func (s *Store) outputKey(id string) string         { return s.opts.Prefix + "terminal-output:" + id }
func (s *Store) runnerTerminalsPrefix() string      { return s.opts.Prefix + "runner-terminals:" }
func (s *Store) linkKey(sessionID string) string    { return s.opts.Prefix + "link:" + sessionID }
func (s *Store) userSessionsKey(u string) string    { return s.userSessionsPrefix() + u }
func (s *Store) userRunnersKey(u string) string     { return s.userRunnersPrefix() + u }
func (s *Store) runnerTerminalsKey(r string) string { return s.runnerTerminalsPrefix() + r }

// newVersion returns a version token for a record write. Tokens are random so that a record that
// was deleted and created again never shows a version an earlier reader saw.
func newVersion() string { return strconv.FormatUint(rand.Uint64(), 36) }

// Sessions.

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

// str returns a reply value as a string ("" for nil).
func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

// decodeSession builds a session from its fields d, seq, cli and exp.
func decodeSession(d, seq, cli, exp any) (*live.Session, error) {
	var sess live.Session
	if err := json.Unmarshal([]byte(str(d)), &sess); err != nil {
		return nil, fmt.Errorf("redislive: bad session record: %w", err)
	}
	var err error
	if sess.Seq, err = strconv.ParseInt(str(seq), 10, 64); err != nil {
		return nil, fmt.Errorf("redislive: bad session seq: %w", err)
	}
	if sess.CLISeq, err = strconv.ParseInt(str(cli), 10, 64); err != nil {
		return nil, fmt.Errorf("redislive: bad session cli seq: %w", err)
	}
	if sess.ExpiresAt, err = parseTime(str(exp)); err != nil {
		return nil, err
	}
	return &sess, nil
}

// CreateSession implements live.Store.
func (s *Store) CreateSession(ctx context.Context, sess *live.Session) error {
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

// Session implements live.Store.
func (s *Store) Session(ctx context.Context, id string) (*live.Session, error) {
	v, err := s.rdb.HMGet(ctx, s.sessionKey(id), "d", "seq", "cli", "exp").Result()
	if err != nil {
		return nil, err
	}
	if v[0] == nil {
		return nil, live.ErrNotFound
	}
	return decodeSession(v[0], v[1], v[2], v[3])
}

// maxAttempts bounds the compare-and-set retries of one update.
const maxAttempts = 200

// backoff waits a little before a retry of a conflicting update, longer after many conflicts.
func backoff(ctx context.Context, attempt int) error {
	if attempt < 2 {
		return ctx.Err()
	}
	d := time.Duration(rand.Int64N(int64(min(attempt, 50))*int64(50*time.Microsecond)) + 1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// UpdateSession implements live.Store: an optimistic read, fn, compare-and-set loop. The write
// fails when the version or the sequence number changed since the read (another update, or an
// Append), and is then retried with the new values. Only the counters fn changed are written.
func (s *Store) UpdateSession(ctx context.Context, id string, fn func(*live.Session) error) (*live.Session, error) {
	hk := s.sessionKey(id)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err := backoff(ctx, attempt); err != nil {
			return nil, err
		}
		v, err := s.rdb.HMGet(ctx, hk, "d", "v", "seq", "cli", "exp").Result()
		if err != nil {
			return nil, err
		}
		if v[0] == nil {
			return nil, live.ErrNotFound
		}
		sess, err := decodeSession(v[0], v[2], v[3], v[4])
		if err != nil {
			return nil, err
		}
		seq, cli, exp := sess.Seq, sess.CLISeq, sess.ExpiresAt
		if err := fn(sess); err != nil {
			return nil, err
		}
		d, err := encodeSession(sess)
		if err != nil {
			return nil, err
		}
		args := []any{str(v[1]), str(v[2]), s.keyTTL, id, "d", d, "v", newVersion(), "u", sess.UserID}
		if sess.Seq != seq {
			args = append(args, "seq", sess.Seq)
		}
		if sess.CLISeq != cli {
			args = append(args, "cli", sess.CLISeq)
		}
		if !sameTime(sess.ExpiresAt, exp) {
			args = append(args, "exp", formatTime(sess.ExpiresAt))
		}
		keys := []string{hk, s.userSessionsKey(sess.UserID), s.historyKey(id)}
		n, err := casScript.Run(ctx, s.rdb, keys, args...).Int64()
		if err != nil {
			return nil, err
		}
		switch n {
		case 1:
			return sess, nil
		case -1:
			return nil, live.ErrNotFound
		}
	}
	return nil, fmt.Errorf("redislive: session %s: gave up after %d conflicting updates", id, maxAttempts)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// DeleteSession implements live.Store.
func (s *Store) DeleteSession(ctx context.Context, id string) (*live.Session, bool, error) {
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

// list reads the records of an index set (see listScript); each record comes as its id and the
// values of fields.
func (s *Store) list(ctx context.Context, set, recordPrefix, ownerField, owner string, ttl int64, fields ...string) ([][]any, error) {
	args := []any{recordPrefix, ownerField, owner, ttl}
	for _, f := range fields {
		args = append(args, f)
	}
	v, err := listScript.Run(ctx, s.rdb, []string{set}, args...).Slice()
	if err != nil {
		return nil, err
	}
	stride := 1 + len(fields)
	if len(v)%stride != 0 {
		return nil, fmt.Errorf("redislive: unexpected list reply of %d values", len(v))
	}
	out := make([][]any, 0, len(v)/stride)
	for i := 0; i < len(v); i += stride {
		out = append(out, v[i:i+stride])
	}
	return out, nil
}

func (s *Store) listSessions(ctx context.Context, set, owner string) ([]*live.Session, error) {
	ownerField := ""
	if owner != "" {
		ownerField = "u"
	}
	recs, err := s.list(ctx, set, s.opts.Prefix+"session:", ownerField, owner, s.keyTTL, "d", "seq", "cli", "exp")
	if err != nil {
		return nil, err
	}
	out := make([]*live.Session, 0, len(recs))
	for _, r := range recs {
		sess, err := decodeSession(r[1], r[2], r[3], r[4])
		if err != nil {
			return nil, err
		}
		out = append(out, sess)
	}
	slices.SortFunc(out, func(a, b *live.Session) int {
		if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// UserSessions implements live.Store.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]*live.Session, error) {
	return s.listSessions(ctx, s.userSessionsKey(userID), userID)
}

// Sessions implements live.Store.
func (s *Store) Sessions(ctx context.Context) ([]*live.Session, error) {
	return s.listSessions(ctx, s.sessionsKey(), "")
}

// Append implements live.Store in one round trip (appendScript).
func (s *Store) Append(ctx context.Context, sessionID string, cliSeq int64, typ string, event []byte, expiresAt *time.Time) (int64, error) {
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

// History implements live.Store: the sequence number and the events after afterSeq are read in
// one transaction. Entry ids are sequence numbers and the kept events are the newest, without
// gaps, so the history is complete exactly when it starts right after afterSeq.
func (s *Store) History(ctx context.Context, sessionID string, afterSeq int64) ([]live.Entry, bool, error) {
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

func (s *Store) setSessionField(ctx context.Context, sessionID, field string, value []byte) error {
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

// SetHeartbeat implements live.Store.
func (s *Store) SetHeartbeat(ctx context.Context, sessionID string, event []byte) error {
	return s.setSessionField(ctx, sessionID, "hb", event)
}

// SetState implements live.Store.
func (s *Store) SetState(ctx context.Context, sessionID string, state []byte) error {
	return s.setSessionField(ctx, sessionID, "st", state)
}

// Snapshot implements live.Store: one HMGET, so the three values are consistent.
func (s *Store) Snapshot(ctx context.Context, sessionID string) ([]byte, []byte, int64, error) {
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

// TouchSessions refreshes the TTLs of sessions and their index entries, and returns the ids of
// those that no longer exist. A node should call it for the sessions whose CLI it holds.
func (s *Store) TouchSessions(ctx context.Context, ids ...string) ([]string, error) {
	return s.touch(ctx, ids, func(id string) []string {
		return []string{s.sessionKey(id), s.historyKey(id), s.sessionsKey()}
	}, s.keyTTL, "u", s.userSessionsPrefix())
}

// TouchSession refreshes the TTLs of a session; live.ErrNotFound when it no longer exists.
func (s *Store) TouchSession(ctx context.Context, id string) error {
	return touchedOne(s.TouchSessions(ctx, id))
}

// Runners.

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

// PutRunner implements live.Store.
func (s *Store) PutRunner(ctx context.Context, r *live.Runner) error {
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

// Runner implements live.Store.
func (s *Store) Runner(ctx context.Context, id string) (*live.Runner, error) {
	v, err := s.rdb.HMGet(ctx, s.runnerKey(id), "d", "sk").Result()
	if err != nil {
		return nil, err
	}
	if v[0] == nil {
		return nil, live.ErrNotFound
	}
	return decodeRunner(v[0], v[1])
}

// DeleteRunner implements live.Store.
func (s *Store) DeleteRunner(ctx context.Context, id, conn string) (bool, error) {
	n, err := deleteRunnerScript.Run(ctx, s.rdb, []string{s.runnerKey(id)}, conn, id, s.userRunnersPrefix()).Int64()
	return n == 1, err
}

// UserRunners implements live.Store.
func (s *Store) UserRunners(ctx context.Context, userID string) ([]*live.Runner, error) {
	recs, err := s.list(ctx, s.userRunnersKey(userID), s.opts.Prefix+"runner:", "u", userID, s.runnerTTL, "d", "sk")
	if err != nil {
		return nil, err
	}
	out := make([]*live.Runner, 0, len(recs))
	for _, rec := range recs {
		r, err := decodeRunner(rec[1], rec[2])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *live.Runner) int {
		if c := a.ConnectedAt.Compare(b.ConnectedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// SetRunnerSkills implements live.Store.
func (s *Store) SetRunnerSkills(ctx context.Context, id string, skills []protocol.RunnerSkill) error {
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
func (s *Store) TouchRunners(ctx context.Context, ids ...string) ([]string, error) {
	return s.touch(ctx, ids, func(id string) []string {
		return []string{s.runnerKey(id)}
	}, s.runnerTTL, "u", s.userRunnersPrefix())
}

// TouchRunner refreshes the TTL of a runner; live.ErrNotFound when it no longer exists.
func (s *Store) TouchRunner(ctx context.Context, id string) error {
	return touchedOne(s.TouchRunners(ctx, id))
}

// Terminals.

func decodeTerminal(d any) (*live.Terminal, error) {
	var t live.Terminal
	if err := json.Unmarshal([]byte(str(d)), &t); err != nil {
		return nil, fmt.Errorf("redislive: bad terminal record: %w", err)
	}
	return &t, nil
}

// PutTerminal implements live.Store.
func (s *Store) PutTerminal(ctx context.Context, t *live.Terminal) error {
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

// Terminal implements live.Store.
func (s *Store) Terminal(ctx context.Context, id string) (*live.Terminal, error) {
	d, err := s.rdb.HGet(ctx, s.terminalKey(id), "d").Result()
	if errors.Is(err, redis.Nil) {
		return nil, live.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return decodeTerminal(d)
}

// UpdateTerminal implements live.Store (optimistic, as UpdateSession).
func (s *Store) UpdateTerminal(ctx context.Context, id string, fn func(*live.Terminal) error) (*live.Terminal, error) {
	tk := s.terminalKey(id)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err := backoff(ctx, attempt); err != nil {
			return nil, err
		}
		v, err := s.rdb.HMGet(ctx, tk, "d", "v").Result()
		if err != nil {
			return nil, err
		}
		if v[0] == nil {
			return nil, live.ErrNotFound
		}
		t, err := decodeTerminal(v[0])
		if err != nil {
			return nil, err
		}
		if err := fn(t); err != nil {
			return nil, err
		}
		d, err := json.Marshal(t)
		if err != nil {
			return nil, err
		}
		keys := []string{tk, s.runnerTerminalsKey(t.RunnerID), s.outputKey(id)}
		args := []any{str(v[1]), "", s.terminalTTL, id, "d", d, "v", newVersion(), "r", t.RunnerID}
		n, err := casScript.Run(ctx, s.rdb, keys, args...).Int64()
		if err != nil {
			return nil, err
		}
		switch n {
		case 1:
			return t, nil
		case -1:
			return nil, live.ErrNotFound
		}
	}
	return nil, fmt.Errorf("redislive: terminal %s: gave up after %d conflicting updates", id, maxAttempts)
}

// DeleteTerminal implements live.Store.
func (s *Store) DeleteTerminal(ctx context.Context, id string) (bool, error) {
	keys := []string{s.terminalKey(id), s.outputKey(id)}
	n, err := deleteTerminalScript.Run(ctx, s.rdb, keys, id, s.runnerTerminalsPrefix()).Int64()
	return n == 1, err
}

// RunnerTerminals implements live.Store.
func (s *Store) RunnerTerminals(ctx context.Context, runnerID string) ([]*live.Terminal, error) {
	recs, err := s.list(ctx, s.runnerTerminalsKey(runnerID), s.opts.Prefix+"terminal:", "r", runnerID, s.terminalTTL, "d")
	if err != nil {
		return nil, err
	}
	out := make([]*live.Terminal, 0, len(recs))
	for _, rec := range recs {
		t, err := decodeTerminal(rec[1])
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *live.Terminal) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
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

// BufferOutput implements live.Store.
func (s *Store) BufferOutput(ctx context.Context, terminalID string, o live.Output, max int) error {
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

// TakeOutput implements live.Store.
func (s *Store) TakeOutput(ctx context.Context, terminalID string) ([]live.Output, error) {
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
func (s *Store) TouchTerminals(ctx context.Context, ids ...string) ([]string, error) {
	return s.touch(ctx, ids, func(id string) []string {
		return []string{s.terminalKey(id), s.outputKey(id)}
	}, s.terminalTTL, "r", s.runnerTerminalsPrefix())
}

// TouchTerminal refreshes the TTL of a terminal; live.ErrNotFound when it no longer exists.
func (s *Store) TouchTerminal(ctx context.Context, id string) error {
	return touchedOne(s.TouchTerminals(ctx, id))
}

// Links.

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

// Touch.

// touch runs touchScript for each id in one pipeline and returns the ids whose record is gone.
func (s *Store) touch(ctx context.Context, ids []string, keys func(string) []string, ttl int64, ownerField, setPrefix string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	for attempt := 0; ; attempt++ {
		cmds := make([]*redis.Cmd, len(ids))
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				cmds[i] = touchScript.EvalSha(ctx, p, keys(id), ttl, ownerField, setPrefix)
			}
			return nil
		})
		if err != nil && attempt == 0 && isNoScript(err) {
			if err := touchScript.Load(ctx, s.rdb).Err(); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		var gone []string
		for i, c := range cmds {
			if n, _ := c.Int64(); n == 0 {
				gone = append(gone, ids[i])
			}
		}
		return gone, nil
	}
}

func isNoScript(err error) bool {
	return errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")
}

func touchedOne(gone []string, err error) error {
	if err != nil {
		return err
	}
	if len(gone) > 0 {
		return live.ErrNotFound
	}
	return nil
}
