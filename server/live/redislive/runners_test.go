package redislive

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/internal/redistest"
	"github.com/pizzapi/pizzapi/server/live"
)

// TestRunnerTTL: a runner that its node touches survives past its TTL; one that nobody touches
// (its node died) disappears, from the index too.
func TestRunnerTTL(t *testing.T) {
	ctx := t.Context()
	rdb := client(t, redistest.Start(t))
	// Touched every 100 ms, well within the TTL, so that a slow machine does not miss one.
	ttl := 600 * time.Millisecond
	st := New(rdb, Options{Prefix: prefix(), RunnerTTL: ttl, TerminalTTL: ttl})
	if got := st.TouchInterval(); got != ttl/3 {
		t.Fatalf("touch interval %v", got)
	}
	for _, id := range []string{"alive", "dead"} {
		if err := st.PutRunner(ctx, &live.Runner{ID: id, UserID: "u", Conn: "c"}); err != nil {
			t.Fatal(err)
		}
		if err := st.PutTerminal(ctx, &live.Terminal{ID: "t-" + id, RunnerID: id}); err != nil {
			t.Fatal(err)
		}
		if err := st.BufferOutput(ctx, "t-"+id, live.Output{Event: "terminal_data", Payload: []byte("x")}, 10); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2*ttl + 100*time.Millisecond)
	for time.Now().Before(deadline) {
		gone, err := st.TouchRunners(ctx, "alive")
		if err != nil || len(gone) != 0 {
			t.Fatalf("touching the live runner: %v %v", gone, err)
		}
		if gone, err := st.TouchTerminals(ctx, "t-alive"); err != nil || len(gone) != 0 {
			t.Fatalf("touching the live terminal: %v %v", gone, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := st.Runner(ctx, "alive"); err != nil {
		t.Fatalf("touched runner: %v", err)
	}
	if _, err := st.Runner(ctx, "dead"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("untouched runner: %v", err)
	}
	list, err := st.UserRunners(ctx, "u")
	if err != nil || len(list) != 1 || list[0].ID != "alive" {
		t.Fatalf("listed runners: %v %v", list, err)
	}
	if members := rdb.SMembers(ctx, st.userRunnersKey("u")).Val(); !slices.Equal(members, []string{"alive"}) {
		t.Fatalf("stale index entries: %v", members)
	}
	if _, err := st.Terminal(ctx, "t-alive"); err != nil {
		t.Fatalf("touched terminal: %v", err)
	}
	if out, _ := st.TakeOutput(ctx, "t-alive"); len(out) != 1 {
		t.Fatalf("touched terminal's output: %v", out)
	}
	if _, err := st.Terminal(ctx, "t-dead"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("untouched terminal: %v", err)
	}
	if out, _ := st.TakeOutput(ctx, "t-dead"); len(out) != 0 {
		t.Fatalf("untouched terminal's output: %v", out)
	}
	if terms, _ := st.RunnerTerminals(ctx, "dead"); len(terms) != 0 {
		t.Fatalf("terminals of the dead runner: %v", terms)
	}
	if exists := rdb.Exists(ctx, st.runnerTerminalsKey("dead")).Val(); exists != 0 {
		t.Fatal("the dead runner's terminal index is still there")
	}
	if terms, _ := st.RunnerTerminals(ctx, "alive"); len(terms) != 1 {
		t.Fatalf("terminals of the live runner: %v", terms)
	}
	// Touch reports what is gone; the single forms say ErrNotFound.
	if gone, err := st.TouchRunners(ctx, "alive", "dead"); err != nil || !slices.Equal(gone, []string{"dead"}) {
		t.Fatalf("touch: %v %v", gone, err)
	}
	if err := st.TouchRunner(ctx, "dead"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("TouchRunner of a gone runner: %v", err)
	}
	if err := st.TouchTerminal(ctx, "t-dead"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("TouchTerminal of a gone terminal: %v", err)
	}
	if err := st.TouchRunner(ctx, "alive"); err != nil {
		t.Fatal(err)
	}
}
