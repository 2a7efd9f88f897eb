package livetest

import (
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/live"
)

// RunLinks runs the suite of LinkStore, as RunSessions does.
func RunLinks(t *testing.T, open func(t *testing.T) live.LinkStore) {
	suite(t, open, []testCase[live.LinkStore]{
		{"Links", testLinks},
	})
}

func testLinks(t *testing.T, st live.LinkStore) {
	ctx := t.Context()
	if _, ok, err := st.TakeLink(ctx, "s"); err != nil || ok {
		t.Fatalf("no link: %v %v", ok, err)
	}
	must(t, st.SetLink(ctx, "s", "r", time.Minute))
	must(t, st.SetLink(ctx, "s2", "r2", time.Minute))
	if id, ok, err := st.TakeLink(ctx, "s"); err != nil || !ok || id != "r" {
		t.Fatalf("link: %q %v %v", id, ok, err)
	}
	if _, ok, _ := st.TakeLink(ctx, "s"); ok {
		t.Fatal("link taken twice")
	}
	// Setting it again replaces it.
	must(t, st.SetLink(ctx, "s2", "r3", time.Minute))
	if id, ok, _ := st.TakeLink(ctx, "s2"); !ok || id != "r3" {
		t.Fatalf("replaced link: %q %v", id, ok)
	}
	// An expired link is not taken.
	must(t, st.SetLink(ctx, "s", "r", 30*time.Millisecond))
	time.Sleep(80 * time.Millisecond)
	if _, ok, _ := st.TakeLink(ctx, "s"); ok {
		t.Fatal("expired link taken")
	}
	// A concurrent take gets the link once.
	must(t, st.SetLink(ctx, "s", "r", time.Minute))
	var wg sync.WaitGroup
	taken := make(chan bool, 8)
	for range 8 {
		wg.Go(func() {
			_, ok, err := st.TakeLink(ctx, "s")
			if err != nil {
				t.Error(err)
			}
			taken <- ok
		})
	}
	wg.Wait()
	close(taken)
	n := 0
	for ok := range taken {
		if ok {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("link taken %d times", n)
	}
}
