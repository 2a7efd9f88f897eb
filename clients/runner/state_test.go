package runner

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestStateAndLock: the state file is created 0600 in a 0700 directory, a second daemon on it
// is refused with the holder's pid, and a restarted daemon keeps its runner id.
func TestStateAndLock(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{RelayURL: "http://127.0.0.1:1", APIKey: "k", StatePath: filepath.Join(dir, "home", "runner.json"), Roots: []string{dir}, WorkerCommand: func(string) []string { return nil }}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(cfg.StatePath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}
	if fi, err := os.Stat(filepath.Dir(cfg.StatePath)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state directory: %v %v", fi, err)
	}
	var s State
	data, _ := os.ReadFile(cfg.StatePath)
	if err := json.Unmarshal(data, &s); err != nil || s.RunnerID != d.ID() || len(s.RunnerSecret) != 64 {
		t.Fatalf("state %s: %v", data, err)
	}

	_, err = New(cfg)
	var locked *LockedError
	if !errors.As(err, &locked) || locked.PID != os.Getpid() || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second daemon: %v", err)
	}
	d.Close()

	d2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if d2.ID() != s.RunnerID || d2.state.RunnerSecret != s.RunnerSecret {
		t.Fatalf("identity changed: %s, was %s", d2.ID(), s.RunnerID)
	}

	// A damaged state file is not silently replaced.
	bad := cfg
	bad.StatePath = filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad.StatePath, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(bad); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Fatalf("damaged state file: %v", err)
	}
}

// TestRoots: roots are normalised and must exist; paths resolve inside them only.
func TestRoots(t *testing.T) {
	dir := t.TempDir()
	if _, err := newRoots(nil); err == nil {
		t.Fatal("no roots accepted")
	}
	if _, err := newRoots([]string{filepath.Join(dir, "missing")}); err == nil {
		t.Fatal("missing root accepted")
	}
	r, err := newRoots([]string{" " + dir + "/ ", dir, dir + `\`})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.list) != 1 || r.list[0] != dir {
		t.Fatalf("roots %v", r.list)
	}
	for p, ok := range map[string]bool{
		"a/b":                   true,
		"new/file.txt":          true,
		dir:                     true,
		dir + "/../x":           false,
		"..":                    false,
		dir + "x":               false, // a sibling sharing the prefix
		"/":                     false,
		filepath.Dir(dir) + "/": false,
	} {
		if _, _, err := r.resolve(p, ""); (err == nil) != ok {
			t.Errorf("resolve %q: %v", p, err)
		}
	}
}

// TestAuthFailures: an unknown API key and a runner id registered with another secret end Run
// with a clear error instead of reconnecting forever.
func TestAuthFailures(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	dir := t.TempDir()
	base := Config{RelayURL: n.URL, Roots: []string{dir}, StatePath: filepath.Join(dir, "runner.json"), WorkerCommand: func(string) []string { return nil }, ReconnectDelay: 50 * time.Millisecond, ConnectTimeout: 2 * time.Second}
	run := func(cfg Config) error {
		t.Helper()
		d, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return d.Run(ctx)
	}

	cfg := base
	cfg.APIKey = "not-a-key"
	if err := run(cfg); err == nil || !strings.Contains(err.Error(), "unauthorized") {
		t.Fatalf("bad key: %v", err)
	}

	// The id is taken by a runner that registered with another secret.
	state, err := loadState(base.StatePath)
	if err != nil {
		t.Fatal(err)
	}
	other := n.Dial(t, "/runner", servertest.DialOptions{User: &u})
	other.Emit(t, "register_runner", map[string]any{"runnerId": state.RunnerID, "runnerSecret": strings.Repeat("0", 64)})
	other.Next(t, "runner_registered")
	cfg = base
	cfg.APIKey = u.APIKey
	if err := run(cfg); err == nil || !strings.Contains(err.Error(), "Runner authentication failed: secret mismatch") {
		t.Fatalf("secret mismatch: %v", err)
	}
}
