package legacy

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol/legacy"
)

func TestRoute(t *testing.T) {
	for _, tc := range []struct {
		path string
		role *legacy.Role
		id   string
	}{
		{"/ws/sessions", legacy.Tui, ""},
		{"/ws/sessions/", legacy.Viewer, ""},
		{"/ws/sessions/5f0c", legacy.Viewer, "5f0c"},
		{"/ws/sessions/a%2Fb/c", legacy.Viewer, "a%2Fb/c"}, // raw, not decoded, may hold "/"
		{"/ws/runner", legacy.Runner, ""},
		{"/ws/sessions/ws/runner", legacy.Runner, ""}, // the old daemon's doubled URL
		{"/ws/runner/ws/runner", legacy.Runner, ""},
		{"/ws/terminal/t-1", legacy.Terminal, "t-1"},
		{"/ws/hub", legacy.Hub, ""},
		{"/ws/hubs", nil, ""},
		{"/ws/", nil, ""},
	} {
		role, id, ok := route(tc.path)
		if ok != (tc.role != nil) || role != tc.role || id != tc.id {
			t.Errorf("%s: got %v %q %v", tc.path, role, id, ok)
		}
	}
}

func TestRefusalThrottle(t *testing.T) {
	var th throttle
	now := time.Now()
	if !th.first("10.0.0.1:5000", http.StatusUnauthorized, now) {
		t.Fatal("first refusal not logged")
	}
	if th.first("10.0.0.1:5001", http.StatusUnauthorized, now.Add(30*time.Second)) {
		t.Error("a retry from another port of the same address logged again")
	}
	if !th.first("10.0.0.1:5001", http.StatusGone, now) {
		t.Error("another status not logged")
	}
	if !th.first("10.0.0.2:5000", http.StatusUnauthorized, now) {
		t.Error("another address not logged")
	}
	if !th.first("10.0.0.1:5000", http.StatusUnauthorized, now.Add(refusalLogEvery)) {
		t.Error("not logged again after the interval")
	}
	for i := range 5000 {
		th.first("10.1."+strconv.Itoa(i/250)+"."+strconv.Itoa(i%250)+":1", http.StatusUnauthorized, now)
	}
	if len(th.seen) > 4096 {
		t.Errorf("throttle holds %d addresses", len(th.seen))
	}
}

func TestOriginAllowed(t *testing.T) {
	h := New(nil, Options{Origins: []string{"https://app.example"}})
	for _, tc := range []struct {
		origin, host string
		ok           bool
	}{
		{"", "relay:3000", true},
		{"http://relay:3000", "relay:3000", true},
		{"https://app.example", "relay:3000", true},
		{"https://evil.example", "relay:3000", false},
		{"::bad", "relay:3000", false},
	} {
		r := &http.Request{Host: tc.host, Header: http.Header{}}
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if got := h.originAllowed(r); got != tc.ok {
			t.Errorf("origin %q on %s: %v", tc.origin, tc.host, got)
		}
	}
}

// TestViewerClosesByCode: the legacy viewer's close codes follow the error and disconnect codes
// of the contract, whatever the text for people says.
func TestViewerClosesByCode(t *testing.T) {
	for _, tc := range []struct {
		event, payload string
		immediate      bool
		code           int
		reason         string
	}{
		{"disconnected", `{"reason":"Session is no longer live (snapshot replay).","code":"replay_only"}`, true, 1000, "Snapshot replay complete"},
		{"disconnected", `{"reason":"Session is no longer live (snapshot replay).","code":"session_ended"}`, true, 1000, "Session is no longer live (snapshot replay)."},
		{"disconnected", `{"reason":"Session ended","code":"session_ended"}`, true, 1000, "Session ended"},
		{"error", `{"message":"Failed to load session snapshot","code":"unavailable"}`, false, 1011, "Failed to load session snapshot"},
		{"error", `{"message":"the store is down","code":"unavailable"}`, false, 1011, "the store is down"},
		{"error", `{"message":"Failed to load session snapshot","code":"session_not_found"}`, false, 1008, "Failed to load session snapshot"},
	} {
		code, reason, ok := legacy.Viewer.Close(tc.event, []byte(tc.payload), tc.immediate)
		if !ok || code != tc.code || reason != tc.reason {
			t.Errorf("%s %s: got %d %q %v, want %d %q", tc.event, tc.payload, code, reason, ok, tc.code, tc.reason)
		}
	}
}
