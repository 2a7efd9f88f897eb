// Package storetest is a conformance suite for store.Store implementations: Run exercises every
// method and its documented semantics.
//
// Conventions the suite checks and relies on:
//   - Implementations keep times with millisecond precision, in UTC. The suite truncates times to
//     milliseconds and compares them with time.Time.Equal.
//   - Expiry is exclusive: a record whose expiry is at or before now has expired.
//   - Times are never read from the clock: the suite's times lie in the past, and a store must
//     only compare them with the now it is given.
package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pizzapi/pizzapi/server/store"
)

// Run runs the suite. open must return a new, empty store for each subtest; Run closes it when the
// subtest ends, before the cleanups open registered.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"Users", testUsers},
		{"APIKeys", testAPIKeys},
		{"ListAPIKeys", testListAPIKeys},
		{"BrowserSessions", testBrowserSessions},
		{"RelaySessions", testRelaySessions},
		{"ListRelaySessions", testListRelaySessions},
		{"SessionState", testSessionState},
		{"PruneRelaySessions", testPruneRelaySessions},
		{"Runners", testRunners},
		{"RecentFolders", testRecentFolders},
		{"Attachments", testAttachments},
		{"PushSubscriptions", testPushSubscriptions},
		{"VAPIDKeys", testVAPIDKeys},
		{"AttachmentQuota", testAttachmentQuota},
		{"SeqReserved", testSeqReserved},
		{"Concurrency", testConcurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.test(t, s)
		})
	}
}

// t0 is the suite's reference time. Its nanoseconds check that stores truncate to milliseconds.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)

// at returns t0 + d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// ptr returns a pointer to t.
func ptr(t time.Time) *time.Time { return &t }

// millis truncates every time (also behind pointers) to milliseconds before comparing.
var millis = cmp.Transformer("millis", func(t time.Time) time.Time { return t.Truncate(time.Millisecond) })

// check reports a difference between want and got.
func check(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got, millis); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// must stops the test on an unexpected error.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantErr reports an error that does not match target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}
