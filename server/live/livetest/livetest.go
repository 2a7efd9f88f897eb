// Package livetest is the conformance suite of the live state's stores: every method and the
// semantics written in the live package's doc comments, including the concurrent ones (atomic
// updates, gap-free sequence numbers, a single winner of DeleteSession). It is split as the
// interfaces are: RunSessions, RunEvents, RunRunners, RunTerminals and RunLinks test one concern's
// store each, and Run tests a whole live.Store with all of them.
//
// An implementation's test calls them with a function that opens an empty store (keeping
// HistorySize events per session):
//
//	func TestStore(t *testing.T) {
//		livetest.Run(t, func(t *testing.T) live.Store { return live.NewMemory(livetest.HistorySize) })
//	}
package livetest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pizzapi/pizzapi/server/live"
)

// HistorySize is the number of events per session the stores given to the suites must keep.
const HistorySize = 8

// Run runs the suites of every concern on a whole live.Store: open returns a new, empty store
// for one subtest (a store of its own, or one that shares nothing with the stores of the other
// subtests).
func Run(t *testing.T, open func(t *testing.T) live.Store) {
	RunSessions(t, func(t *testing.T) Sessions { return open(t) })
	RunEvents(t, func(t *testing.T) Sessions { return open(t) })
	RunRunners(t, func(t *testing.T) live.RunnerStore { return open(t) })
	RunTerminals(t, func(t *testing.T) live.TerminalStore { return open(t) })
	RunLinks(t, func(t *testing.T) live.LinkStore { return open(t) })
}

// Sessions is what the session and event suites test: a SessionStore with the EventStore of its
// sessions (one value).
type Sessions interface {
	live.SessionStore
	live.EventStore
}

// testCase is one subtest of a suite on stores of type S.
type testCase[S any] struct {
	name string
	fn   func(t *testing.T, st S)
}

// suite runs tests, each on a store of its own.
func suite[S any](t *testing.T, open func(t *testing.T) S, tests []testCase[S]) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// exportAll lets cmp look into the unexported fields of protocol.Optional.
var exportAll = cmp.Exporter(func(reflect.Type) bool { return true })

// same fails the test when got differs from want (times are compared with Equal).
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := cmp.Diff(want, got, exportAll); d != "" {
		t.Fatalf("%s differs (-want +got):\n%s", what, d)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// t0 is a time with a zone other than UTC and nanoseconds, to see that times survive storage.
var t0 = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("X", 3600))

// checkAllFieldsSet guards the round-trip tests against fields added to the live types later:
// every exported field of v must be non-zero, except the named ones.
func checkAllFieldsSet(t *testing.T, v any, except ...string) {
	t.Helper()
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		if f.IsExported() && rv.Field(i).IsZero() && !slices.Contains(except, f.Name) {
			t.Fatalf("the suite does not set %s.%s: extend its round-trip value", rv.Type().Name(), f.Name)
		}
	}
}
