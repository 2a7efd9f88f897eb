package accounts

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/store/sqlstore"
)

// TestPasswordHashingIsBounded is item 3: at most the configured number of argon2id hashes run at
// once, and a request that cannot get a slot within HashWait is refused with ErrBusy instead of
// piling up memory.
func TestPasswordHashingIsBounded(t *testing.T) {
	db, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	a := NewWithSlots(db, false, 2)

	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			release, err := a.hashSlot(t.Context())
			if err != nil {
				t.Error(err)
				return
			}
			n := running.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(5 * time.Millisecond) // the hash
			running.Add(-1)
			release()
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 2 {
		t.Errorf("%d hashes ran at once, want at most 2", p)
	}

	// Every slot taken: a sign-up waits HashWait, then gets ErrBusy.
	a.hashing <- struct{}{}
	a.hashing <- struct{}{}
	if _, err := a.SignUp(t.Context(), "", "ada@example.com", "correct horse battery"); !errors.Is(err, ErrBusy) {
		t.Errorf("sign-up with no free slot: %v, want ErrBusy", err)
	}
	if _, err := a.SignIn(t.Context(), "ada@example.com", "correct horse battery"); !errors.Is(err, ErrBusy) {
		t.Errorf("sign-in with no free slot: %v, want ErrBusy", err)
	}
}
