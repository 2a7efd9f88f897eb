package redislive

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pizzapi/pizzapi/internal/redistest"
	"github.com/pizzapi/pizzapi/server/live"
)

// TestTwoNodesAppend has two clients (two relay nodes) append to one session at the same time:
// the sequence numbers are gap-free and the history holds the newest events in order.
func TestTwoNodesAppend(t *testing.T) {
	ctx := t.Context()
	addr := redistest.Start(t)
	p := prefix()
	opts := Options{Prefix: p, HistorySize: 50}
	nodes := []*Store{New(client(t, addr), opts), New(client(t, addr), opts)}
	if err := nodes[0].CreateSession(ctx, &live.Session{ID: "s", UserID: "u"}); err != nil {
		t.Fatal(err)
	}
	const perWorker, workersPerNode = 100, 4
	const total = perWorker * workersPerNode * 2
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int64]string{}
	for ni, node := range nodes {
		for w := range workersPerNode {
			wg.Go(func() {
				for i := range perWorker {
					ev := fmt.Sprintf(`{"node":%d,"w":%d,"i":%d}`, ni, w, i)
					seq, err := node.Append(ctx, "s", 0, "x", []byte(ev), nil)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if prev, dup := seen[seq]; dup {
						t.Errorf("seq %d given to %s and %s", seq, prev, ev)
					}
					seen[seq] = ev
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for seq := int64(1); seq <= total; seq++ {
		if _, ok := seen[seq]; !ok {
			t.Fatalf("seq %d was not given (gap)", seq)
		}
	}
	if len(seen) != total {
		t.Fatalf("%d seqs given, want %d", len(seen), total)
	}
	entries, complete, err := nodes[1].History(ctx, "s", total-50)
	if err != nil || !complete || len(entries) != 50 {
		t.Fatalf("history: %d entries complete=%v %v", len(entries), complete, err)
	}
	for i, e := range entries {
		if e.Seq != total-49+int64(i) || string(e.Event) != seen[e.Seq] {
			t.Fatalf("history entry %d: seq %d %s, want %s", i, e.Seq, e.Event, seen[e.Seq])
		}
	}
	// A viewer's last seq far in the future: nothing missed.
	if entries, complete, err := nodes[0].History(ctx, "s", math.MaxInt64); err != nil || len(entries) != 0 || !complete {
		t.Fatalf("history after MaxInt64: %d entries complete=%v %v", len(entries), complete, err)
	}
	// The stream is trimmed exactly.
	if n := nodes[0].rdb.XLen(ctx, p+"history:s").Val(); n != 50 {
		t.Fatalf("stream holds %d entries", n)
	}
	// Both nodes race to delete: one wins.
	results := make(chan bool, 2)
	for _, node := range nodes {
		wg.Go(func() {
			_, deleted, err := node.DeleteSession(ctx, "s")
			if err != nil {
				t.Error(err)
			}
			results <- deleted
		})
	}
	wg.Wait()
	if a, b := <-results, <-results; a == b {
		t.Fatalf("deleted by both or neither: %v %v", a, b)
	}
}

// countHook counts the commands sent to Redis and the round trips.
type countHook struct {
	commands, roundTrips atomic.Int64
	names                sync.Map
}

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.commands.Add(1)
		h.roundTrips.Add(1)
		h.names.Store(cmd.Name(), true)
		return next(ctx, cmd)
	}
}
func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.commands.Add(int64(len(cmds)))
		h.roundTrips.Add(1)
		return next(ctx, cmds)
	}
}

// TestAppendRoundTrips: Append is one EVALSHA once the script is cached.
func TestAppendRoundTrips(t *testing.T) {
	ctx := t.Context()
	rdb := client(t, redistest.Start(t))
	st := New(rdb, Options{Prefix: prefix()})
	if err := st.CreateSession(ctx, &live.Session{ID: "s"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, "s", 1, "x", nil, nil); err != nil { // loads the script
		t.Fatal(err)
	}
	h := &countHook{}
	rdb.AddHook(h)
	exp := time.Now()
	for i := int64(2); i <= 101; i++ {
		if _, err := st.Append(ctx, "s", i, "message_update", []byte(`{"type":"message_update"}`), &exp); err != nil {
			t.Fatal(err)
		}
	}
	if c, r := h.commands.Load(), h.roundTrips.Load(); c != 100 || r != 100 {
		t.Fatalf("100 appends took %d commands in %d round trips", c, r)
	}
	var names []string
	h.names.Range(func(k, _ any) bool { names = append(names, k.(string)); return true })
	if fmt.Sprint(names) != "[evalsha]" {
		t.Fatalf("commands used: %v", names)
	}
}
