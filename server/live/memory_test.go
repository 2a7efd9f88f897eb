package live

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestHistoryKeepsTheNewestEvents(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(5)
	if err := m.CreateSession(ctx, &Session{ID: "s"}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 12; i++ {
		seq, err := m.Append(ctx, "s", int64(i), "x", []byte(fmt.Sprint(i)), nil)
		if err != nil || seq != int64(i) {
			t.Fatalf("append %d: seq %d, %v", i, seq, err)
		}
	}
	cases := []struct {
		after    int64
		want     string
		complete bool
	}{
		{12, "[]", true},
		{10, "[11 12]", true},
		{7, "[8 9 10 11 12]", true},
		{6, "[8 9 10 11 12]", false},
		{0, "[8 9 10 11 12]", false},
	}
	for _, tc := range cases {
		entries, complete, err := m.History(ctx, "s", tc.after)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, e := range entries {
			seqs = append(seqs, e.Seq)
			if string(e.Event) != fmt.Sprint(e.Seq) {
				t.Fatalf("entry %d holds %s", e.Seq, e.Event)
			}
		}
		if got := fmt.Sprint(seqs); (got != tc.want && !(got == "[]" && tc.want == "[]")) || complete != tc.complete {
			t.Errorf("after %d: %v complete=%v, want %s %v", tc.after, seqs, complete, tc.want, tc.complete)
		}
	}
}

func TestAppendDropsDuplicates(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(10)
	_ = m.CreateSession(ctx, &Session{ID: "s"})
	for _, cli := range []int64{1, 2, 3} {
		if _, err := m.Append(ctx, "s", cli, "x", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, cli := range []int64{2, 3} {
		if _, err := m.Append(ctx, "s", cli, "x", nil, nil); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("cli seq %d: %v", cli, err)
		}
	}
	// Unnumbered events are never duplicates.
	seq, err := m.Append(ctx, "s", 0, "x", nil, nil)
	if err != nil || seq != 4 {
		t.Fatalf("unnumbered: %d %v", seq, err)
	}
	s, _ := m.Session(ctx, "s")
	if s.CLISeq != 3 || s.Seq != 4 {
		t.Fatalf("session %+v", s)
	}
	if _, _, err := m.History(ctx, "nope", 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
}

func TestDeleteSessionOnce(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(10)
	_ = m.CreateSession(ctx, &Session{ID: "s"})
	results := make(chan bool, 8)
	for i := 0; i < 8; i++ {
		go func() {
			_, deleted, _ := m.DeleteSession(ctx, "s")
			results <- deleted
		}()
	}
	n := 0
	for i := 0; i < 8; i++ {
		if <-results {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d callers deleted the session", n)
	}
}

func TestLinksAndRunners(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(10)
	now := time.Unix(1000, 0)
	m.now = func() time.Time { return now }
	_ = m.SetLink(ctx, "s", "r", time.Minute)
	now = now.Add(2 * time.Minute)
	if _, ok, _ := m.TakeLink(ctx, "s"); ok {
		t.Fatal("expired link taken")
	}
	_ = m.SetLink(ctx, "s", "r", time.Minute)
	if id, ok, _ := m.TakeLink(ctx, "s"); !ok || id != "r" {
		t.Fatal("link lost")
	}
	_ = m.PutRunner(ctx, &Runner{ID: "r", Conn: "c2"})
	if deleted, _ := m.DeleteRunner(ctx, "r", "c1"); deleted {
		t.Fatal("a stale connection removed the runner")
	}
	if deleted, _ := m.DeleteRunner(ctx, "r", "c2"); !deleted {
		t.Fatal("the runner's connection could not remove it")
	}
}
