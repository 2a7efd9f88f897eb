package livetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/live"
)

// RunTerminals runs the suite of TerminalStore, as RunSessions does.
func RunTerminals(t *testing.T, open func(t *testing.T) live.TerminalStore) {
	suite(t, open, []testCase[live.TerminalStore]{
		{"Terminals", testTerminals},
		{"UpdateTerminalConcurrent", testUpdateTerminalConcurrent},
		{"RunnerTerminals", testRunnerTerminals},
		{"Output", testOutput},
	})
}

func terminalIDs(list []*live.Terminal) string {
	var out []string
	for _, t := range list {
		out = append(out, t.ID)
	}
	slices.Sort(out)
	return fmt.Sprint(out)
}

func testTerminals(t *testing.T, st live.TerminalStore) {
	ctx := t.Context()
	if _, err := st.Terminal(ctx, "nope"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("unknown terminal: %v", err)
	}
	if _, err := st.UpdateTerminal(ctx, "nope", func(*live.Terminal) error { return nil }); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("UpdateTerminal on an unknown terminal: %v", err)
	}
	if existed, err := st.DeleteTerminal(ctx, "nope"); err != nil || existed {
		t.Fatalf("deleting an unknown terminal: %v %v", existed, err)
	}
	term := &live.Terminal{ID: "t", RunnerID: "r", UserID: "u", Cwd: "/w", Cols: 80, Rows: 24, Spawned: true, Exited: true, CreatedAt: t0}
	checkAllFieldsSet(t, term)
	term.Spawned, term.Exited = false, false
	must(t, st.PutTerminal(ctx, term))
	term.Cols = 1 // the store keeps its own copy
	got, err := st.Terminal(ctx, "t")
	must(t, err)
	want := &live.Terminal{ID: "t", RunnerID: "r", UserID: "u", Cwd: "/w", Cols: 80, Rows: 24, CreatedAt: t0}
	same(t, "terminal", got, want)
	got.Rows = 2
	if again, _ := st.Terminal(ctx, "t"); again.Rows != 24 {
		t.Fatal("Terminal returned the stored value")
	}

	up, err := st.UpdateTerminal(ctx, "t", func(t *live.Terminal) error {
		t.Spawned = true
		t.Cols, t.Rows = 120, 40
		return nil
	})
	must(t, err)
	want.Spawned, want.Cols, want.Rows = true, 120, 40
	same(t, "UpdateTerminal result", up, want)
	up.Cols = 1
	got, _ = st.Terminal(ctx, "t")
	same(t, "updated terminal", got, want)

	boom := errors.New("boom")
	if _, err := st.UpdateTerminal(ctx, "t", func(t *live.Terminal) error { t.Exited = true; return boom }); !errors.Is(err, boom) {
		t.Fatalf("fn's error: %v", err)
	}
	got, _ = st.Terminal(ctx, "t")
	same(t, "terminal after a failed update", got, want)

	must(t, st.BufferOutput(ctx, "t", live.Output{Event: "terminal_data", Payload: []byte("held")}, 10))
	if existed, err := st.DeleteTerminal(ctx, "t"); err != nil || !existed {
		t.Fatalf("delete: %v %v", existed, err)
	}
	if _, err := st.Terminal(ctx, "t"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("terminal after delete: %v", err)
	}
	if out, err := st.TakeOutput(ctx, "t"); err != nil || len(out) != 0 {
		t.Fatalf("buffered output survived the terminal: %v %v", out, err)
	}
	if existed, _ := st.DeleteTerminal(ctx, "t"); existed {
		t.Fatal("deleted twice")
	}
	if list, _ := st.RunnerTerminals(ctx, "r"); len(list) != 0 {
		t.Fatalf("deleted terminal still listed: %v", list)
	}
}

func testUpdateTerminalConcurrent(t *testing.T, st live.TerminalStore) {
	ctx := t.Context()
	must(t, st.PutTerminal(ctx, &live.Terminal{ID: "t", RunnerID: "r"}))
	const workers, each = 10, 10
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := st.UpdateTerminal(ctx, "t", func(t *live.Terminal) error { t.Cols++; return nil }); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, _ := st.Terminal(ctx, "t")
	if got.Cols != workers*each {
		t.Fatalf("lost updates: %d, want %d", got.Cols, workers*each)
	}
}

func testRunnerTerminals(t *testing.T, st live.TerminalStore) {
	ctx := t.Context()
	if list, err := st.RunnerTerminals(ctx, "r1"); err != nil || len(list) != 0 {
		t.Fatalf("empty store: %v %v", list, err)
	}
	for i, r := range []string{"r1", "r2", "r1"} {
		must(t, st.PutTerminal(ctx, &live.Terminal{ID: fmt.Sprint("t", i), RunnerID: r, UserID: "u", CreatedAt: t0.Add(time.Duration(i) * time.Second)}))
	}
	list, err := st.RunnerTerminals(ctx, "r1")
	must(t, err)
	if got := terminalIDs(list); got != "[t0 t2]" {
		t.Fatalf("RunnerTerminals(r1): %s", got)
	}
	for _, term := range list {
		same(t, "listed terminal", term, &live.Terminal{ID: term.ID, RunnerID: "r1", UserID: "u", CreatedAt: term.CreatedAt})
	}
	list[0].Cols = 7
	if again, _ := st.Terminal(ctx, list[0].ID); again.Cols != 0 {
		t.Fatal("RunnerTerminals returned the stored value")
	}
	// Moving a terminal to another runner.
	_, err = st.UpdateTerminal(ctx, "t2", func(t *live.Terminal) error { t.RunnerID = "r2"; return nil })
	must(t, err)
	l1, _ := st.RunnerTerminals(ctx, "r1")
	l2, _ := st.RunnerTerminals(ctx, "r2")
	if terminalIDs(l1) != "[t0]" || terminalIDs(l2) != "[t1 t2]" {
		t.Fatalf("after moving t2: r1 %s, r2 %s", terminalIDs(l1), terminalIDs(l2))
	}
	// Putting it again under another runner too.
	must(t, st.PutTerminal(ctx, &live.Terminal{ID: "t0", RunnerID: "r2"}))
	l1, _ = st.RunnerTerminals(ctx, "r1")
	l2, _ = st.RunnerTerminals(ctx, "r2")
	if terminalIDs(l1) != "[]" || terminalIDs(l2) != "[t0 t1 t2]" {
		t.Fatalf("after putting t0 on r2: r1 %s, r2 %s", terminalIDs(l1), terminalIDs(l2))
	}
}

func testOutput(t *testing.T, st live.TerminalStore) {
	ctx := t.Context()
	if out, err := st.TakeOutput(ctx, "none"); err != nil || len(out) != 0 {
		t.Fatalf("nothing buffered: %v %v", out, err)
	}
	must(t, st.PutTerminal(ctx, &live.Terminal{ID: "t", RunnerID: "r"}))
	must(t, st.PutTerminal(ctx, &live.Terminal{ID: "u", RunnerID: "r"}))
	binary := []byte{0, 1, 2, 0xff, '\n', 0}
	var want []live.Output
	for i := range 5 {
		o := live.Output{Event: fmt.Sprint("ev", i), Payload: append(fmt.Appendf(nil, "%d:", i), binary...)}
		want = append(want, o)
		must(t, st.BufferOutput(ctx, "t", o, 3))
	}
	must(t, st.BufferOutput(ctx, "u", live.Output{Event: "terminal_exit", Payload: []byte(`{"code":0}`)}, 3))
	out, err := st.TakeOutput(ctx, "t")
	must(t, err)
	same(t, "buffered output", out, want[2:])
	if out, err := st.TakeOutput(ctx, "t"); err != nil || len(out) != 0 {
		t.Fatalf("output not cleared: %v %v", out, err)
	}
	out, _ = st.TakeOutput(ctx, "u")
	same(t, "other terminal's output", out, []live.Output{{Event: "terminal_exit", Payload: []byte(`{"code":0}`)}})
	// Buffering starts again after a take; an empty payload stays empty.
	must(t, st.BufferOutput(ctx, "t", live.Output{Event: "x"}, 3))
	out, _ = st.TakeOutput(ctx, "t")
	if len(out) != 1 || out[0].Event != "x" || len(out[0].Payload) != 0 {
		t.Fatalf("after a take: %+v", out)
	}
	// A limit of one keeps the newest.
	for i := range 4 {
		must(t, st.BufferOutput(ctx, "t", live.Output{Event: fmt.Sprint(i)}, 1))
	}
	out, _ = st.TakeOutput(ctx, "t")
	if len(out) != 1 || out[0].Event != "3" {
		t.Fatalf("limit 1: %+v", out)
	}
}
