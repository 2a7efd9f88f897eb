package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pizzapi/pizzapi/server/ratelimit"
)

// LimitedError refuses an attempt over a limit; RetryAfter says when the next one may succeed.
type LimitedError struct {
	What       string
	RetryAfter time.Duration
}

// Error says what was limited.
func (e *LimitedError) Error() string { return "too many " + e.What }

// ErrLimited matches every *LimitedError with errors.Is.
var ErrLimited = errors.New("rate limited")

// Is makes errors.Is(err, ErrLimited) true for a *LimitedError.
func (e *LimitedError) Is(target error) bool { return target == ErrLimited }

// LoginLimits are the failed-login limits.
type LoginLimits struct {
	// PerPair bounds the failures of one account from one client address: the back-off that
	// stops guessing a password without locking the owner out from elsewhere.
	PerPair int64
	// PerAddress bounds the failures from one client address over all accounts: the looser
	// ceiling against an address trying many accounts.
	PerAddress int64
	// Window is how long failures are remembered.
	Window time.Duration
}

// DefaultLoginLimits are 5 failures per account and address and 50 per address in 15 minutes.
var DefaultLoginLimits = LoginLimits{PerPair: 5, PerAddress: 50, Window: 15 * time.Minute}

// Limiter limits failed logins. Each attempt is reserved before the password is checked, so that
// concurrent attempts cannot all pass the check before any failure is counted; a success resets
// only its own account and address pair and gives back its reservation on the address, so that
// logging in to one's own account does not reset the count of failures on others. The counts live
// in a ratelimit.Counter: in Redis when the node has it, so that every node of a cluster sees them.
type Limiter struct {
	c      ratelimit.Counter
	limits LoginLimits
}

// NewLimiter limits logins with the counts in c.
func NewLimiter(c ratelimit.Counter, limits LoginLimits) *Limiter {
	return &Limiter{c: c, limits: limits}
}

// Attempt is a reserved login attempt; exactly one of Succeeded, Failed or Cancel ends it.
type Attempt struct {
	l          *Limiter
	pair, addr string
}

// Reserve takes a login attempt on account (the normalised email) from addr. Over a limit it
// gives the attempt back and returns a *LimitedError.
func (l *Limiter) Reserve(ctx context.Context, account, addr string) (*Attempt, error) {
	a := &Attempt{l: l, pair: "login:pair:" + addr + "|" + account, addr: "login:addr:" + addr}
	np, leftPair, err := l.c.Add(ctx, a.pair, 1, l.limits.Window)
	if err != nil {
		return nil, fmt.Errorf("login limiter: %w", err)
	}
	na, leftAddr, err := l.c.Add(ctx, a.addr, 1, l.limits.Window)
	if err != nil {
		_, _, _ = l.c.Add(ctx, a.pair, -1, l.limits.Window)
		return nil, fmt.Errorf("login limiter: %w", err)
	}
	if np > l.limits.PerPair || na > l.limits.PerAddress {
		a.Cancel(ctx)
		wait := time.Duration(0)
		if np > l.limits.PerPair {
			wait = leftPair
		}
		if na > l.limits.PerAddress {
			wait = max(wait, leftAddr)
		}
		return nil, &LimitedError{What: "failed login attempts", RetryAfter: max(wait, time.Second)}
	}
	return a, nil
}

// Succeeded ends an attempt whose password was right: the pair's failures are forgotten and the
// address gets its reservation back.
func (a *Attempt) Succeeded(ctx context.Context) {
	_ = a.l.c.Reset(ctx, a.pair)
	_, _, _ = a.l.c.Add(ctx, a.addr, -1, a.l.limits.Window)
}

// Failed ends an attempt whose email or password was wrong: it stays counted.
func (a *Attempt) Failed(context.Context) {}

// Cancel ends an attempt that checked nothing (bad input, a server error): it is given back.
func (a *Attempt) Cancel(ctx context.Context) {
	_, _, _ = a.l.c.Add(ctx, a.pair, -1, a.l.limits.Window)
	_, _, _ = a.l.c.Add(ctx, a.addr, -1, a.l.limits.Window)
}

// SignupLimiter limits the accounts created from one client address.
type SignupLimiter struct {
	c      ratelimit.Counter
	max    int64
	window time.Duration
}

// NewSignupLimiter allows max sign-ups per client address within window.
func NewSignupLimiter(c ratelimit.Counter, max int64, window time.Duration) *SignupLimiter {
	return &SignupLimiter{c: c, max: max, window: window}
}

// Reserve takes a sign-up from addr, or returns a *LimitedError when the address has had its
// share. A reservation is not given back: attempts count whether or not they create an account.
func (l *SignupLimiter) Reserve(ctx context.Context, addr string) error {
	if l.max <= 0 {
		return nil
	}
	n, left, err := l.c.Add(ctx, "signup:addr:"+addr, 1, l.window)
	if err != nil {
		return fmt.Errorf("sign-up limiter: %w", err)
	}
	if n > l.max {
		return &LimitedError{What: "sign-ups from this address", RetryAfter: max(left, time.Second)}
	}
	return nil
}
