package redislive

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/pizzapi/pizzapi/server/live"
)

// record is how update reads and writes one kind of record.
type record[T any] struct {
	what string // names the record in errors, e.g. "session s1"
	id   string // the record's id, for its owner's index set
	key  string // the record's hash
	// fields are the hash fields update reads: "d" (the record; absent when there is none) and "v"
	// (its version) first, then what decode and encode need.
	fields []string
	// checkSeq makes the write also fail when the third field, the session's sequence number
	// (which every Append moves), changed since the read.
	checkSeq bool
	ttl      int64 // refreshed on the record's keys and index set (ms)
	// decode builds the value fn changes from the fields read.
	decode func(read []any) (T, error)
	// encode returns what casScript writes for the value fn changed: the keys after the hash (the
	// owner's index set first, then the record's other keys, whose TTLs are refreshed) and the
	// field/value pairs besides the new version.
	encode func(val T, read []any) (keys []string, fields []any, err error)
}

// maxAttempts bounds the compare-and-set retries of one update.
const maxAttempts = 200

// update applies fn to a record with optimistic concurrency: it reads the record's fields,
// decodes them, applies fn and writes the result with casScript, which refuses the write when the
// record was written since the read. Then it starts again with the new values, after a short
// backoff, at most maxAttempts times: fn may run more than once, on a fresh value each time. An
// error from fn ends the update and changes nothing; a record that does not exist (or stops
// existing) is live.ErrNotFound.
func update[T any](ctx context.Context, s base, r record[T], fn func(T) error) (T, error) {
	var zero T
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err := backoff(ctx, attempt); err != nil {
			return zero, err
		}
		read, err := s.rdb.HMGet(ctx, r.key, r.fields...).Result()
		if err != nil {
			return zero, err
		}
		if read[0] == nil {
			return zero, live.ErrNotFound
		}
		val, err := r.decode(read)
		if err != nil {
			return zero, err
		}
		if err := fn(val); err != nil {
			return zero, err
		}
		keys, fields, err := r.encode(val, read)
		if err != nil {
			return zero, err
		}
		seq := ""
		if r.checkSeq {
			seq = str(read[2])
		}
		args := append([]any{str(read[1]), seq, r.ttl, r.id}, fields...)
		args = append(args, "v", newVersion())
		n, err := casScript.Run(ctx, s.rdb, append([]string{r.key}, keys...), args...).Int64()
		if err != nil {
			return zero, err
		}
		switch n {
		case 1:
			return val, nil
		case -1:
			return zero, live.ErrNotFound
		}
	}
	return zero, fmt.Errorf("redislive: %s: gave up after %d conflicting updates", r.what, maxAttempts)
}

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
