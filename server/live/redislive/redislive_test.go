package redislive

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pizzapi/pizzapi/internal/redistest"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/server/live"
	"github.com/pizzapi/pizzapi/server/live/livetest"
)

// client connects to addr; the client is closed when the test ends.
func client(t testing.TB, addr string) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

var prefixes atomic.Int64

// prefix returns a key prefix no other test of this process uses.
func prefix() string { return fmt.Sprintf("t%d:", prefixes.Add(1)) }

func TestConformance(t *testing.T) {
	rdb := client(t, redistest.Start(t))
	livetest.Run(t, func(t *testing.T) live.Store {
		return New(rdb, Options{Prefix: prefix(), HistorySize: livetest.HistorySize})
	})
}

// TestConformanceTwoNodes runs the suite with every call going to one of two clients (two relay
// nodes) in turn.
func TestConformanceTwoNodes(t *testing.T) {
	addr := redistest.Start(t)
	a, b := client(t, addr), client(t, addr)
	livetest.Run(t, func(t *testing.T) live.Store {
		p := prefix()
		opts := Options{Prefix: p, HistorySize: livetest.HistorySize}
		return &alternating{stores: []*Store{New(a, opts), New(b, opts)}}
	})
}

// TestConcernStores runs each concern's suite on that concern's store alone.
func TestConcernStores(t *testing.T) {
	rdb := client(t, redistest.Start(t))
	opts := func() Options { return Options{Prefix: prefix(), HistorySize: livetest.HistorySize} }
	sessions := func(*testing.T) livetest.Sessions { return NewSessionStore(rdb, opts()) }
	t.Run("Sessions", func(t *testing.T) { livetest.RunSessions(t, sessions) })
	t.Run("Events", func(t *testing.T) { livetest.RunEvents(t, sessions) })
	t.Run("Runners", func(t *testing.T) {
		livetest.RunRunners(t, func(*testing.T) live.RunnerStore { return NewRunnerStore(rdb, opts()) })
	})
	t.Run("Terminals", func(t *testing.T) {
		livetest.RunTerminals(t, func(*testing.T) live.TerminalStore { return NewTerminalStore(rdb, opts()) })
	})
	t.Run("Links", func(t *testing.T) {
		livetest.RunLinks(t, func(*testing.T) live.LinkStore { return NewLinkStore(rdb, opts()) })
	})
}

// alternating sends each call to the next of several stores.
type alternating struct {
	stores []*Store
	n      atomic.Uint64
}

func (m *alternating) next() *Store { return m.stores[m.n.Add(1)%uint64(len(m.stores))] }

func (m *alternating) CreateSession(ctx context.Context, s *live.Session) error {
	return m.next().CreateSession(ctx, s)
}
func (m *alternating) Session(ctx context.Context, id string) (*live.Session, error) {
	return m.next().Session(ctx, id)
}
func (m *alternating) UpdateSession(ctx context.Context, id string, fn func(*live.Session) error) (*live.Session, error) {
	return m.next().UpdateSession(ctx, id, fn)
}
func (m *alternating) DeleteSession(ctx context.Context, id string) (*live.Session, bool, error) {
	return m.next().DeleteSession(ctx, id)
}
func (m *alternating) UserSessions(ctx context.Context, userID string) ([]*live.Session, error) {
	return m.next().UserSessions(ctx, userID)
}
func (m *alternating) Sessions(ctx context.Context) ([]*live.Session, error) {
	return m.next().Sessions(ctx)
}
func (m *alternating) Append(ctx context.Context, id string, cliSeq int64, typ string, event []byte, exp *time.Time) (int64, error) {
	return m.next().Append(ctx, id, cliSeq, typ, event, exp)
}
func (m *alternating) History(ctx context.Context, id string, after int64) ([]live.Entry, bool, error) {
	return m.next().History(ctx, id, after)
}
func (m *alternating) SetHeartbeat(ctx context.Context, id string, event []byte) error {
	return m.next().SetHeartbeat(ctx, id, event)
}
func (m *alternating) SetState(ctx context.Context, id string, state []byte) error {
	return m.next().SetState(ctx, id, state)
}
func (m *alternating) Snapshot(ctx context.Context, id string) ([]byte, []byte, int64, error) {
	return m.next().Snapshot(ctx, id)
}
func (m *alternating) PutRunner(ctx context.Context, r *live.Runner) error {
	return m.next().PutRunner(ctx, r)
}
func (m *alternating) Runner(ctx context.Context, id string) (*live.Runner, error) {
	return m.next().Runner(ctx, id)
}
func (m *alternating) DeleteRunner(ctx context.Context, id, conn string) (bool, error) {
	return m.next().DeleteRunner(ctx, id, conn)
}
func (m *alternating) UserRunners(ctx context.Context, userID string) ([]*live.Runner, error) {
	return m.next().UserRunners(ctx, userID)
}
func (m *alternating) SetRunnerSkills(ctx context.Context, id string, skills []protocol.RunnerSkill) error {
	return m.next().SetRunnerSkills(ctx, id, skills)
}
func (m *alternating) PutTerminal(ctx context.Context, t *live.Terminal) error {
	return m.next().PutTerminal(ctx, t)
}
func (m *alternating) Terminal(ctx context.Context, id string) (*live.Terminal, error) {
	return m.next().Terminal(ctx, id)
}
func (m *alternating) UpdateTerminal(ctx context.Context, id string, fn func(*live.Terminal) error) (*live.Terminal, error) {
	return m.next().UpdateTerminal(ctx, id, fn)
}
func (m *alternating) DeleteTerminal(ctx context.Context, id string) (bool, error) {
	return m.next().DeleteTerminal(ctx, id)
}
func (m *alternating) RunnerTerminals(ctx context.Context, runnerID string) ([]*live.Terminal, error) {
	return m.next().RunnerTerminals(ctx, runnerID)
}
func (m *alternating) BufferOutput(ctx context.Context, id string, o live.Output, max int) error {
	return m.next().BufferOutput(ctx, id, o, max)
}
func (m *alternating) TakeOutput(ctx context.Context, id string) ([]live.Output, error) {
	return m.next().TakeOutput(ctx, id)
}
func (m *alternating) SetLink(ctx context.Context, sessionID, runnerID string, ttl time.Duration) error {
	return m.next().SetLink(ctx, sessionID, runnerID, ttl)
}
func (m *alternating) TakeLink(ctx context.Context, sessionID string) (string, bool, error) {
	return m.next().TakeLink(ctx, sessionID)
}

// TestKeys checks the key layout the package documentation describes, and that every key has a
// TTL.
func TestKeys(t *testing.T) {
	ctx := t.Context()
	rdb := client(t, redistest.Start(t))
	st := New(rdb, Options{HistorySize: 3})
	exp := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.CreateSession(ctx, &live.Session{ID: "s1", UserID: "u1", IsEphemeral: true}))
	for i := 1; i <= 5; i++ {
		_, err := st.Append(ctx, "s1", int64(i), "message_update", []byte(`{"type":"message_update"}`), &exp)
		must(err)
	}
	must(st.SetHeartbeat(ctx, "s1", []byte(`{"type":"heartbeat"}`)))
	must(st.SetState(ctx, "s1", []byte(`{"type":"session_active"}`)))
	must(st.PutRunner(ctx, &live.Runner{ID: "r1", UserID: "u1", Conn: "c1"}))
	must(st.PutTerminal(ctx, &live.Terminal{ID: "t1", RunnerID: "r1", UserID: "u1"}))
	must(st.BufferOutput(ctx, "t1", live.Output{Event: "terminal_data", Payload: []byte("hi")}, 5))
	must(st.SetLink(ctx, "s2", "r1", time.Minute))

	keys, err := rdb.Keys(ctx, "*").Result()
	must(err)
	slices.Sort(keys)
	want := []string{
		"pizzapi:history:s1", "pizzapi:link:s2", "pizzapi:runner-terminals:r1", "pizzapi:runner:r1",
		"pizzapi:session:s1", "pizzapi:sessions", "pizzapi:terminal-output:t1", "pizzapi:terminal:t1",
		"pizzapi:user-runners:u1", "pizzapi:user-sessions:u1",
	}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys:\n%v\nwant\n%v", keys, want)
	}
	for _, k := range keys {
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("%s has no TTL (%v)", k, ttl)
		}
	}
	if ttl := rdb.PTTL(ctx, "pizzapi:session:s1").Val(); ttl < 23*time.Hour {
		t.Errorf("session TTL %v", ttl)
	}
	if ttl := rdb.PTTL(ctx, "pizzapi:runner:r1").Val(); ttl > DefaultRunnerTTL || ttl < DefaultRunnerTTL-time.Minute {
		t.Errorf("runner TTL %v", ttl)
	}
	fields := rdb.HGetAll(ctx, "pizzapi:session:s1").Val()
	for _, f := range []string{"d", "v", "u", "seq", "cli", "exp", "hb", "st"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("session hash lacks %s: %v", f, fields)
		}
	}
	if len(fields) != 8 || fields["seq"] != "5" || fields["cli"] != "5" || fields["exp"] != "2026-01-02T03:04:05.000000006Z" || fields["u"] != "u1" {
		t.Errorf("session hash %v", fields)
	}
	// The counters live in their own fields only.
	if !strings.Contains(fields["d"], `"Seq":0,"CLISeq":0`) || !strings.Contains(fields["d"], `"ExpiresAt":null`) {
		t.Errorf("counters in the JSON: %s", fields["d"])
	}
	stream := rdb.XRange(ctx, "pizzapi:history:s1", "-", "+").Val()
	var ids []string
	for _, m := range stream {
		ids = append(ids, m.ID)
		if m.Values["t"] != "message_update" || m.Values["e"] != `{"type":"message_update"}` {
			t.Errorf("stream entry %v", m)
		}
	}
	if fmt.Sprint(ids) != "[3-0 4-0 5-0]" {
		t.Errorf("stream ids %v", ids)
	}
	if v := rdb.LRange(ctx, "pizzapi:terminal-output:t1", 0, -1).Val(); fmt.Sprint(v) != "[13:terminal_datahi]" {
		t.Errorf("output list %q", v)
	}
	runner := rdb.HGetAll(ctx, "pizzapi:runner:r1").Val()
	if len(runner) != 4 || runner["u"] != "u1" || runner["c"] != "c1" || runner["sk"] != "null" {
		t.Errorf("runner hash %v", runner)
	}
	term := rdb.HGetAll(ctx, "pizzapi:terminal:t1").Val()
	if len(term) != 3 || term["r"] != "r1" {
		t.Errorf("terminal hash %v", term)
	}
	// Deleting everything leaves only the pending link.
	_, _, err = st.DeleteSession(ctx, "s1")
	must(err)
	_, err = st.DeleteRunner(ctx, "r1", "c1")
	must(err)
	_, err = st.DeleteTerminal(ctx, "t1")
	must(err)
	keys = rdb.Keys(ctx, "*").Val()
	if !slices.Equal(keys, []string{"pizzapi:link:s2"}) {
		t.Fatalf("keys after deleting: %v", keys)
	}
}

// TestScriptCacheFlushed: the store keeps working after SCRIPT FLUSH (a Redis restart or
// failover empties the script cache).
func TestScriptCacheFlushed(t *testing.T) {
	ctx := t.Context()
	rdb := client(t, redistest.Start(t))
	st := New(rdb, Options{Prefix: prefix()})
	if err := st.CreateSession(ctx, &live.Session{ID: "s", UserID: "u"}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutRunner(ctx, &live.Runner{ID: "r", UserID: "u"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, "s", 1, "x", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TouchRunners(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if seq, err := st.Append(ctx, "s", 2, "x", nil, nil); err != nil || seq != 2 {
		t.Fatalf("append after flush: %d %v", seq, err)
	}
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if gone, err := st.TouchRunners(ctx, "r"); err != nil || len(gone) != 0 {
		t.Fatalf("touch after flush: %v %v", gone, err)
	}
	if err := st.TouchSession(ctx, "s"); err != nil {
		t.Fatalf("touch after flush: %v", err)
	}
}

// TestDocumentedKeys checks that the package documentation names every key pattern the code uses.
func TestDocumentedKeys(t *testing.T) {
	st := New(nil, Options{})
	doc := packageDoc(t)
	for _, k := range []string{
		st.sessionKey("<id>"), st.historyKey("<id>"), st.sessionsKey(), st.userSessionsKey("<user>"),
		st.runnerKey("<id>"), st.userRunnersKey("<user>"), st.terminalKey("<id>"), st.outputKey("<id>"),
		st.runnerTerminalsKey("<id>"), st.linkKey("<session id>"),
	} {
		k = strings.Replace(k, DefaultPrefix, "P ", 1)
		if !regexp.MustCompile(`(?m)^//\s+` + regexp.QuoteMeta(k) + `\s`).MatchString(doc) {
			t.Errorf("key %q is not documented", k)
		}
	}
}

func packageDoc(t *testing.T) string {
	b, err := os.ReadFile("redislive.go")
	if err != nil {
		t.Fatal(err)
	}
	doc, _, _ := strings.Cut(string(b), "\npackage ")
	return doc
}
