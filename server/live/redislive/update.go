package redislive

import (
	"context"
	"math/rand/v2"
	"time"
)

// maxAttempts bounds the compare-and-set retries of one update.
const maxAttempts = 200

// backoff waits a little before a retry of a conflicting update, longer after many conflicts.
func backoff(ctx context.Context, attempt int) error {
	if attempt < 2 {
		return ctx.Err()
	}
	d := time.Duration(rand.Int64N(int64(min(attempt, 50))*int64(50*time.Microsecond)) + 1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
