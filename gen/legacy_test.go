package gen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLegacyRoles(t *testing.T) {
	c, err := Load("../schema")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"tui": "/relay", "viewer": "/viewer", "runner": "/runner", "terminal": "/terminal", "hub": "/hub"}
	if len(c.Legacy) != len(want) {
		t.Fatalf("%d legacy roles, want %d", len(c.Legacy), len(want))
	}
	for _, r := range c.Legacy {
		if want[r.Name] != r.Namespace.Path {
			t.Errorf("role %s served by %s", r.Name, r.Namespace.Path)
		}
	}
}

// TestBrokenLegacyTable: the generator refuses a legacy table that does not match the namespaces.
func TestBrokenLegacyTable(t *testing.T) {
	for _, tc := range []struct{ from, to, want string }{
		{`"session_end": []`, `"session_ended": []`, `frame "session_ended" is not a client-to-server event of /relay`},
		{`"session_message": ["sessionId"]`, `"session_message": ["token"]`, `"token" is a field of the event`},
		{`"serverToClient": ["sessions"`, `"serverToClient": ["sessionz"`, `frame "sessionz" is not a server-to-client event of /hub`},
		{`{"after": "session_expired", "code": 1001`, `{"after": "session_expired", "code": 999`, `close rule 1: code must be a WebSocket close code`},
		{`{"after": "terminal_error"`, `{"after": "terminal_input"`, `close rule 1 follows "terminal_input", which the role does not send`},
		{`"whenField": "code", "whenValue": "unavailable"`, `"whenField": "message", "whenValue": "Failed to load session snapshot"`, `close rule 3: whenField "message" of "error" is not an enumeration`},
		{`"whenField": "code", "whenValue": "replay_only"`, `"whenField": "code", "whenValue": "replay"`, `close rule 1: whenValue "replay" is not a value of "code"`},
		{`"whenField": "code", "whenValue": "replay_only"`, `"whenField": "kind", "whenValue": "replay_only"`, `close rule 1: whenField "kind" is not a field of "disconnected"`},
		{`"namespace": "/hub"`, `"namespace": "/hubs"`, `namespace "/hubs" is not declared`},
		{`"path": "/ws/hub"`, `"path": "/ws/hub/"`, `a prefix path ends in /`},
	} {
		dir := t.TempDir()
		files, _ := filepath.Glob("../schema/*.json")
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(f) == "legacy.json" {
				if !strings.Contains(string(raw), tc.from) {
					t.Fatalf("legacy.json has no %s", tc.from)
				}
				raw = []byte(strings.Replace(string(raw), tc.from, tc.to, 1))
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), raw, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "legacy.json") {
			t.Errorf("%s -> %s: got %v, want %q", tc.from, tc.to, err, tc.want)
		}
	}
}
