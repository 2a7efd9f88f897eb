package auth_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/auth"
	"github.com/pizzapi/pizzapi/server/ratelimit"
)

var limits = auth.LoginLimits{PerPair: 3, PerAddress: 10, Window: time.Minute}

func reserve(t *testing.T, l *auth.Limiter, account, addr string) (*auth.Attempt, error) {
	t.Helper()
	return l.Reserve(t.Context(), account, addr)
}

// TestLoginSuccessDoesNotResetOtherFailures is item 5(a): logging in to one's own account does
// not forget the failures on another account from the same address.
func TestLoginSuccessDoesNotResetOtherFailures(t *testing.T) {
	l := auth.NewLimiter(ratelimit.NewMemory(), limits)
	for i := range 10 {
		a, err := reserve(t, l, "victim@example.com", "1.2.3.4")
		if i < 3 {
			if err != nil {
				t.Fatalf("guess %d refused: %v", i, err)
			}
			a.Failed(t.Context())
		} else if !errors.Is(err, auth.ErrLimited) {
			t.Fatalf("guess %d: %v, want limited", i, err)
		}
		own, err := reserve(t, l, "attacker@example.com", "1.2.3.4")
		if err != nil {
			t.Fatalf("own login %d: %v", i, err)
		}
		own.Succeeded(t.Context())
	}
}

// TestLoginReservedBeforeCheck is item 5(b): attempts sent at once cannot all pass.
func TestLoginReservedBeforeCheck(t *testing.T) {
	l := auth.NewLimiter(ratelimit.NewMemory(), limits)
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for range 30 {
		wg.Go(func() {
			a, err := l.Reserve(t.Context(), "victim@example.com", "1.2.3.4")
			if err == nil {
				mu.Lock()
				passed++
				mu.Unlock()
				time.Sleep(10 * time.Millisecond) // the password check
				a.Failed(t.Context())
			}
		})
	}
	wg.Wait()
	if passed != 3 {
		t.Errorf("%d of 30 concurrent attempts reached the password check, want 3", passed)
	}
}

// TestLoginOthersFailuresDoNotLockOut is item 5(d): failures of one account from an address do
// not stop the right password of another account from that address, nor of the same account
// from another address; the per-address ceiling is looser.
func TestLoginOthersFailuresDoNotLockOut(t *testing.T) {
	l := auth.NewLimiter(ratelimit.NewMemory(), limits)
	for range 3 {
		a, err := reserve(t, l, "victim@example.com", "1.2.3.4")
		if err != nil {
			t.Fatal(err)
		}
		a.Failed(t.Context())
	}
	if _, err := reserve(t, l, "victim@example.com", "1.2.3.4"); !errors.Is(err, auth.ErrLimited) {
		t.Fatalf("the pair is not limited: %v", err)
	}
	if _, err := reserve(t, l, "victim@example.com", "5.6.7.8"); err != nil {
		t.Errorf("the owner from another address is locked out: %v", err)
	}
	if _, err := reserve(t, l, "colleague@example.com", "1.2.3.4"); err != nil {
		t.Errorf("another account behind the same address is locked out: %v", err)
	}
	// Seven more failures on other accounts reach the address ceiling of 10.
	for i := range 6 {
		a, err := reserve(t, l, "other"+string(rune('a'+i))+"@example.com", "1.2.3.4")
		if err != nil {
			t.Fatal(i, err)
		}
		a.Failed(t.Context())
	}
	var le *auth.LimitedError
	if _, err := reserve(t, l, "new@example.com", "1.2.3.4"); !errors.As(err, &le) || le.RetryAfter <= 0 {
		t.Errorf("the address ceiling did not apply: %v", err)
	}
}

func TestSignupLimiter(t *testing.T) {
	l := auth.NewSignupLimiter(ratelimit.NewMemory(), 3, time.Hour)
	for i := range 3 {
		if err := l.Reserve(t.Context(), "1.2.3.4"); err != nil {
			t.Fatal(i, err)
		}
	}
	if err := l.Reserve(t.Context(), "1.2.3.4"); !errors.Is(err, auth.ErrLimited) {
		t.Errorf("fourth sign-up: %v", err)
	}
	if err := l.Reserve(t.Context(), "5.6.7.8"); err != nil {
		t.Errorf("another address: %v", err)
	}
}
