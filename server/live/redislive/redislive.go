// Package redislive keeps the relay's live state in Redis, shared by every relay node: a store
// for each concern of package live (SessionStore for sessions and their events, RunnerStore,
// TerminalStore, LinkStore) and Store, a live.Store made of the four on one client.
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
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

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

// base is what the stores of the package share: the client and the options.
type base struct {
	rdb  redis.UniversalClient
	opts Options
}

// newBase fills in the defaults of opts.
func newBase(rdb redis.UniversalClient, opts Options) base {
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
	return base{rdb: rdb, opts: opts}
}

// ms converts a TTL to milliseconds, as the scripts take them.
func ms(d time.Duration) int64 { return max(1, d.Milliseconds()) }

// Store is a live.Store in Redis: the store of each concern on one client and one set of
// options.
type Store struct {
	base
	*SessionStore
	*RunnerStore
	*TerminalStore
	*LinkStore
}

var (
	_ live.Store   = (*Store)(nil)
	_ live.Toucher = (*Store)(nil)
)

// New returns a store on rdb.
func New(rdb redis.UniversalClient, opts Options) *Store {
	b := newBase(rdb, opts)
	return &Store{
		base:          b,
		SessionStore:  &SessionStore{base: b, keyTTL: ms(b.opts.KeyTTL)},
		RunnerStore:   &RunnerStore{base: b, runnerTTL: ms(b.opts.RunnerTTL)},
		TerminalStore: &TerminalStore{base: b, terminalTTL: ms(b.opts.TerminalTTL)},
		LinkStore:     &LinkStore{base: b},
	}
}

// NewSessionStore returns the store of sessions and their events on rdb.
func NewSessionStore(rdb redis.UniversalClient, opts Options) *SessionStore {
	return New(rdb, opts).SessionStore
}

// NewRunnerStore returns the store of runners on rdb.
func NewRunnerStore(rdb redis.UniversalClient, opts Options) *RunnerStore {
	return New(rdb, opts).RunnerStore
}

// NewTerminalStore returns the store of terminals on rdb.
func NewTerminalStore(rdb redis.UniversalClient, opts Options) *TerminalStore {
	return New(rdb, opts).TerminalStore
}

// NewLinkStore returns the store of runner links on rdb.
func NewLinkStore(rdb redis.UniversalClient, opts Options) *LinkStore {
	return New(rdb, opts).LinkStore
}

// Options returns the options in force, defaults filled in.
func (s *Store) Options() Options { return s.opts }

// TouchInterval is how often a node must touch the runners and terminals it holds.
func (s *Store) TouchInterval() time.Duration {
	return min(s.opts.RunnerTTL, s.opts.TerminalTTL, s.opts.KeyTTL) / 3
}

// newVersion returns a version token for a record write. Tokens are random so that a record that
// was deleted and created again never shows a version an earlier reader saw.
func newVersion() string { return strconv.FormatUint(rand.Uint64(), 36) }

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
