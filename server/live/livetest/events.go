package livetest

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/live"
)

// RunEvents runs the suite of EventStore (on the sessions of the SessionStore it belongs to), as
// RunSessions does.
func RunEvents(t *testing.T, open func(t *testing.T) Sessions) {
	suite(t, open, []testCase[Sessions]{
		{"AppendSequence", testAppendSequence},
		{"AppendDuplicates", testAppendDuplicates},
		{"AppendDuplicatesConcurrent", testAppendDuplicatesConcurrent},
		{"AppendConcurrent", testAppendConcurrent},
		{"AppendExpiry", testAppendExpiry},
		{"History", testHistory},
		{"HistoryEdges", testHistoryEdges},
		{"Snapshot", testSnapshot},
		{"SnapshotConsistent", testSnapshotConsistent},
	})
}

func seqsOf(entries []live.Entry) string {
	seqs := []int64{}
	for _, e := range entries {
		seqs = append(seqs, e.Seq)
	}
	return fmt.Sprint(seqs)
}

func testAppendSequence(t *testing.T, st Sessions) {
	ctx := t.Context()
	if _, err := st.Append(ctx, "nope", 1, "x", nil, nil); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
	must(t, st.CreateSession(ctx, &live.Session{ID: "s", UserID: "u"}))
	must(t, st.CreateSession(ctx, &live.Session{ID: "t", UserID: "u"}))
	for i := 1; i <= 5; i++ {
		seq, err := st.Append(ctx, "s", int64(i), "x", []byte(fmt.Sprint(i)), nil)
		if err != nil || seq != int64(i) {
			t.Fatalf("append %d: seq %d, %v", i, seq, err)
		}
	}
	// Sessions are numbered independently.
	if seq, err := st.Append(ctx, "t", 1, "x", nil, nil); err != nil || seq != 1 {
		t.Fatalf("first event of another session: %d %v", seq, err)
	}
	s, _ := st.Session(ctx, "s")
	if s.Seq != 5 || s.CLISeq != 5 {
		t.Fatalf("seq %d cliSeq %d", s.Seq, s.CLISeq)
	}
	// Events of any type and content are kept as given.
	odd := []byte("{\"a\":\"\\u0000 ü \\n\",\"b\":[1,2]}\n")
	seq, err := st.Append(ctx, "s", 0, "message_update", odd, nil)
	must(t, err)
	entries, _, err := st.History(ctx, "s", seq-1)
	must(t, err)
	same(t, "entry", entries, []live.Entry{{Seq: seq, Type: "message_update", Event: odd}})
}

func testAppendDuplicates(t *testing.T, st Sessions) {
	ctx := t.Context()
	must(t, st.CreateSession(ctx, &live.Session{ID: "s"}))
	for _, cli := range []int64{1, 2, 3} {
		if _, err := st.Append(ctx, "s", cli, "x", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, cli := range []int64{2, 3, 1} {
		if _, err := st.Append(ctx, "s", cli, "x", nil, nil); !errors.Is(err, live.ErrDuplicate) {
			t.Fatalf("cli seq %d: %v", cli, err)
		}
	}
	// Unnumbered events are never duplicates.
	for want := int64(4); want <= 6; want++ {
		seq, err := st.Append(ctx, "s", 0, "x", nil, nil)
		if err != nil || seq != want {
			t.Fatalf("unnumbered: %d %v", seq, err)
		}
	}
	// A jump forward is accepted and becomes the new CLI number.
	if seq, err := st.Append(ctx, "s", 10, "x", nil, nil); err != nil || seq != 7 {
		t.Fatalf("cli seq 10: %d %v", seq, err)
	}
	if _, err := st.Append(ctx, "s", 9, "x", nil, nil); !errors.Is(err, live.ErrDuplicate) {
		t.Fatalf("cli seq 9 after 10: %v", err)
	}
	s, _ := st.Session(ctx, "s")
	if s.CLISeq != 10 || s.Seq != 7 {
		t.Fatalf("session %+v", s)
	}
	// Duplicates add nothing to the history.
	entries, complete, _ := st.History(ctx, "s", 0)
	if len(entries) != 7 || !complete {
		t.Fatalf("history holds %d events (complete %v), want 7", len(entries), complete)
	}
	if _, _, err := st.History(ctx, "nope", 0); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
}

// testAppendDuplicatesConcurrent sends the same CLI event from several goroutines (a CLI that
// resent it to another node): exactly one is published.
func testAppendDuplicatesConcurrent(t *testing.T, st Sessions) {
	ctx := t.Context()
	must(t, st.CreateSession(ctx, &live.Session{ID: "s"}))
	for cli := int64(1); cli <= 5; cli++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		published, dups := 0, 0
		for range 6 {
			wg.Go(func() {
				_, err := st.Append(ctx, "s", cli, "x", nil, nil)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					published++
				case errors.Is(err, live.ErrDuplicate):
					dups++
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if published != 1 || dups != 5 {
			t.Fatalf("cli seq %d: published %d times, %d duplicates", cli, published, dups)
		}
	}
	s, _ := st.Session(ctx, "s")
	if s.Seq != 5 || s.CLISeq != 5 {
		t.Fatalf("seq %d cliSeq %d", s.Seq, s.CLISeq)
	}
}

func testAppendConcurrent(t *testing.T, st Sessions) {
	ctx := t.Context()
	must(t, st.CreateSession(ctx, &live.Session{ID: "s"}))
	const workers, each = 20, 10
	const n = workers * each
	var wg sync.WaitGroup
	seqs := make(chan int64, n)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				seq, err := st.Append(ctx, "s", 0, "x", fmt.Appendf(nil, `{"w":%d,"i":%d}`, w, i), nil)
				if err != nil {
					t.Error(err)
					return
				}
				seqs <- seq
			}
		})
	}
	wg.Wait()
	close(seqs)
	seen := make([]int, n+1)
	for seq := range seqs {
		if seq < 1 || seq > n {
			t.Fatalf("seq %d out of 1..%d", seq, n)
		}
		seen[seq]++
	}
	for seq := 1; seq <= n; seq++ {
		if seen[seq] != 1 {
			t.Fatalf("seq %d given %d times", seq, seen[seq])
		}
	}
	s, _ := st.Session(ctx, "s")
	if s.Seq != n {
		t.Fatalf("session seq %d, want %d", s.Seq, n)
	}
	entries, complete, err := st.History(ctx, "s", 0)
	must(t, err)
	if complete || len(entries) != HistorySize {
		t.Fatalf("history: %d entries, complete %v", len(entries), complete)
	}
	for i, e := range entries {
		if e.Seq != n-HistorySize+1+int64(i) {
			t.Fatalf("history entry %d has seq %d", i, e.Seq)
		}
	}
}

func testAppendExpiry(t *testing.T, st Sessions) {
	ctx := t.Context()
	exp1 := t0.Add(time.Hour)
	must(t, st.CreateSession(ctx, &live.Session{ID: "s", IsEphemeral: true, ExpiresAt: &exp1}))
	// No expiry given: the session keeps its own.
	_, err := st.Append(ctx, "s", 1, "x", nil, nil)
	must(t, err)
	s, _ := st.Session(ctx, "s")
	if s.ExpiresAt == nil || !s.ExpiresAt.Equal(exp1) {
		t.Fatalf("expiry changed by an append without one: %v", s.ExpiresAt)
	}
	exp2 := t0.Add(2 * time.Hour)
	_, err = st.Append(ctx, "s", 0, "x", nil, &exp2)
	must(t, err)
	s, _ = st.Session(ctx, "s")
	if s.ExpiresAt == nil || !s.ExpiresAt.Equal(exp2) {
		t.Fatalf("expiry not refreshed: %v", s.ExpiresAt)
	}
	// A duplicate does not refresh it.
	exp3 := t0.Add(3 * time.Hour)
	if _, err := st.Append(ctx, "s", 1, "x", nil, &exp3); !errors.Is(err, live.ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	s, _ = st.Session(ctx, "s")
	if !s.ExpiresAt.Equal(exp2) {
		t.Fatalf("a duplicate refreshed the expiry: %v", s.ExpiresAt)
	}
	// A session without expiry gets one.
	must(t, st.CreateSession(ctx, &live.Session{ID: "t"}))
	_, err = st.Append(ctx, "t", 0, "x", nil, &exp3)
	must(t, err)
	s, _ = st.Session(ctx, "t")
	if s.ExpiresAt == nil || !s.ExpiresAt.Equal(exp3) {
		t.Fatalf("expiry not set: %v", s.ExpiresAt)
	}
	// And the expiry is read by UpdateSession and listed.
	_, err = st.UpdateSession(ctx, "t", func(s *live.Session) error {
		if s.ExpiresAt == nil || !s.ExpiresAt.Equal(exp3) {
			return fmt.Errorf("fn sees expiry %v", s.ExpiresAt)
		}
		return nil
	})
	must(t, err)
	list, _ := st.Sessions(ctx)
	for _, s := range list {
		if s.ID == "t" && (s.ExpiresAt == nil || !s.ExpiresAt.Equal(exp3)) {
			t.Fatalf("listed expiry %v", s.ExpiresAt)
		}
	}
}

func testHistory(t *testing.T, st Sessions) {
	ctx := t.Context()
	must(t, st.CreateSession(ctx, &live.Session{ID: "s"}))
	const total = HistorySize + 7
	for i := 1; i <= total; i++ {
		seq, err := st.Append(ctx, "s", int64(i), fmt.Sprint("type", i), []byte(fmt.Sprint(i)), nil)
		if err != nil || seq != int64(i) {
			t.Fatalf("append %d: seq %d, %v", i, seq, err)
		}
		// While nothing was dropped the history is complete from 0.
		entries, complete, err := st.History(ctx, "s", 0)
		must(t, err)
		if want := i <= HistorySize; complete != want || len(entries) != min(i, HistorySize) {
			t.Fatalf("after %d appends: %d entries, complete %v", i, len(entries), complete)
		}
	}
	oldest := int64(total - HistorySize + 1)
	seqRange := func(from, to int64) string {
		seqs := []int64{}
		for s := from; s <= to; s++ {
			seqs = append(seqs, s)
		}
		return fmt.Sprint(seqs)
	}
	cases := []struct {
		after    int64
		want     string
		complete bool
	}{
		{total, "[]", true},
		{total + 5, "[]", true},
		{total - 2, seqRange(total-1, total), true},
		{oldest - 1, seqRange(oldest, total), true},
		{oldest, seqRange(oldest+1, total), true},
		{oldest - 2, seqRange(oldest, total), false},
		{0, seqRange(oldest, total), false},
		{-1, seqRange(oldest, total), false},
	}
	for _, tc := range cases {
		entries, complete, err := st.History(ctx, "s", tc.after)
		must(t, err)
		if got := seqsOf(entries); got != tc.want || complete != tc.complete {
			t.Errorf("after %d: %s complete=%v, want %s %v", tc.after, got, complete, tc.want, tc.complete)
		}
		for _, e := range entries {
			if string(e.Event) != fmt.Sprint(e.Seq) || e.Type != fmt.Sprint("type", e.Seq) {
				t.Fatalf("entry %d holds %s %s", e.Seq, e.Type, e.Event)
			}
		}
	}
}

func testHistoryEdges(t *testing.T, st Sessions) {
	ctx := t.Context()
	// No events yet.
	must(t, st.CreateSession(ctx, &live.Session{ID: "s"}))
	entries, complete, err := st.History(ctx, "s", 0)
	if err != nil || len(entries) != 0 || !complete {
		t.Fatalf("fresh session: %v %v %v", entries, complete, err)
	}
	// A session created with a sequence number has none of the events up to it.
	must(t, st.CreateSession(ctx, &live.Session{ID: "t", Seq: 5}))
	entries, complete, _ = st.History(ctx, "t", 0)
	if len(entries) != 0 || complete {
		t.Fatalf("session created at seq 5, after 0: %v complete=%v", seqsOf(entries), complete)
	}
	entries, complete, _ = st.History(ctx, "t", 5)
	if len(entries) != 0 || !complete {
		t.Fatalf("session created at seq 5, after 5: %v complete=%v", seqsOf(entries), complete)
	}
	_, err = st.Append(ctx, "t", 0, "x", nil, nil)
	must(t, err)
	entries, complete, _ = st.History(ctx, "t", 5)
	if seqsOf(entries) != "[6]" || !complete {
		t.Fatalf("after 5: %v complete=%v", seqsOf(entries), complete)
	}
	entries, complete, _ = st.History(ctx, "t", 4)
	if seqsOf(entries) != "[6]" || complete {
		t.Fatalf("after 4: %v complete=%v", seqsOf(entries), complete)
	}
	// Exactly HistorySize events: all kept.
	must(t, st.CreateSession(ctx, &live.Session{ID: "u"}))
	for range HistorySize {
		_, err := st.Append(ctx, "u", 0, "x", nil, nil)
		must(t, err)
	}
	entries, complete, _ = st.History(ctx, "u", 0)
	if len(entries) != HistorySize || !complete {
		t.Fatalf("full history: %d entries complete=%v", len(entries), complete)
	}
}

func testSnapshot(t *testing.T, st Sessions) {
	ctx := t.Context()
	if _, _, _, err := st.Snapshot(ctx, "nope"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
	if err := st.SetHeartbeat(ctx, "nope", []byte("{}")); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("SetHeartbeat on an unknown session: %v", err)
	}
	if err := st.SetState(ctx, "nope", []byte("{}")); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("SetState on an unknown session: %v", err)
	}
	must(t, st.CreateSession(ctx, &live.Session{ID: "s"}))
	hb, state, seq, err := st.Snapshot(ctx, "s")
	if err != nil || hb != nil || state != nil || seq != 0 {
		t.Fatalf("fresh session: %s %s %d %v", hb, state, seq, err)
	}
	must(t, st.SetHeartbeat(ctx, "s", []byte(`{"type":"heartbeat","n":1}`)))
	hb, state, seq, _ = st.Snapshot(ctx, "s")
	if string(hb) != `{"type":"heartbeat","n":1}` || state != nil || seq != 0 {
		t.Fatalf("after a heartbeat: %s %s %d", hb, state, seq)
	}
	_, err = st.Append(ctx, "s", 1, "heartbeat", []byte(`{}`), nil)
	must(t, err)
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = 'a' + byte(i%26)
	}
	must(t, st.SetState(ctx, "s", big))
	must(t, st.SetHeartbeat(ctx, "s", []byte(`{"type":"heartbeat","n":2}`)))
	_, err = st.Append(ctx, "s", 2, "session_active", []byte(`{}`), nil)
	must(t, err)
	hb, state, seq, _ = st.Snapshot(ctx, "s")
	if string(hb) != `{"type":"heartbeat","n":2}` || string(state) != string(big) || seq != 2 {
		t.Fatalf("snapshot: %s (%d bytes of state) %d", hb, len(state), seq)
	}
	// Setting them does not touch the session record or its history.
	s, _ := st.Session(ctx, "s")
	if s.Seq != 2 || s.CLISeq != 2 {
		t.Fatalf("session %+v", s)
	}
	if entries, complete, _ := st.History(ctx, "s", 0); len(entries) != 2 || !complete {
		t.Fatalf("history: %v %v", seqsOf(entries), complete)
	}
}

// testSnapshotConsistent checks that a snapshot never pairs a state with a sequence number it
// could not have been taken at. The writer follows the relay's order: state, then Append.
func testSnapshotConsistent(t *testing.T, st Sessions) {
	ctx := t.Context()
	must(t, st.CreateSession(ctx, &live.Session{ID: "s"}))
	const n = 150
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for i := 1; i <= n; i++ {
			v := []byte(strconv.Itoa(i))
			if err := st.SetState(ctx, "s", v); err != nil {
				t.Error(err)
				return
			}
			if err := st.SetHeartbeat(ctx, "s", v); err != nil {
				t.Error(err)
				return
			}
			if _, err := st.Append(ctx, "s", int64(i), "x", v, nil); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				hb, state, seq, err := st.Snapshot(ctx, "s")
				if err != nil {
					t.Error(err)
					return
				}
				if state == nil {
					if seq != 0 {
						t.Errorf("no state at seq %d", seq)
					}
					continue
				}
				sv, _ := strconv.ParseInt(string(state), 10, 64)
				hv, _ := strconv.ParseInt(string(hb), 10, 64)
				// State i is set before event i is appended and after event i-1 was.
				if sv != seq && sv != seq+1 {
					t.Errorf("state %d with seq %d", sv, seq)
					return
				}
				if hb != nil && hv != seq && hv != seq+1 {
					t.Errorf("heartbeat %d with seq %d", hv, seq)
					return
				}
			}
		})
	}
	wg.Wait()
}
