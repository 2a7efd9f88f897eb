package runner

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/hub"
	rproto "github.com/pizzapi/pizzapi/protocol/runner"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// waitLinked waits on a /hub connection until the session shows up linked to the runner.
func waitLinked(t *testing.T, h *servertest.Conn, sessionID, runnerID string) protocol.SessionInfo {
	t.Helper()
	deadline := time.Now().Add(servertest.Timeout)
	for time.Now().Before(deadline) {
		for _, name := range h.Names() {
			raw := h.Next(t, name)
			switch name {
			case hub.EventSessionAdded:
				var s protocol.SessionInfo
				if err := s.UnmarshalJSON(raw); err != nil {
					t.Fatal(err)
				}
				if s.SessionID == sessionID && s.RunnerID != nil && *s.RunnerID == runnerID {
					return s
				}
			case hub.EventSessionStatus:
				var s hub.SessionStatus
				if err := s.UnmarshalJSON(raw); err != nil {
					t.Fatal(err)
				}
				if id, _ := s.RunnerID.Get(); s.SessionID == sessionID && id != nil && *id == runnerID {
					name, _ := s.RunnerName.Get()
					return protocol.SessionInfo{SessionID: sessionID, RunnerID: id, RunnerName: name}
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("session %s never appeared in the hub linked to runner %s", sessionID, runnerID)
	return protocol.SessionInfo{}
}

// TestSpawnThroughREST: POST /api/runners/spawn starts a worker that registers the session on
// /relay; the hub lists it with the runner's id and name; the worker got the request's cwd,
// prompt and model; kill_session stops it.
func TestSpawnThroughREST(t *testing.T) {
	f := newFixture(t, nil)
	h := f.n.Dial(t, "/hub", servertest.DialOptions{User: &f.u})
	h.Next(t, hub.EventSessions)
	sub := filepath.Join(f.root, "app")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}

	var res struct {
		OK        bool   `json:"ok"`
		SessionID string `json:"sessionId"`
		RunnerID  string `json:"runnerId"`
		Pending   bool   `json:"pending"`
	}
	body := map[string]any{"runnerId": f.d.ID(), "cwd": sub, "prompt": "fix the tests", "model": map[string]any{"provider": "anthropic", "id": "claude"}}
	if code := f.rest(t, "POST", "/api/runners/spawn", body, &res); code != 200 || !res.OK || res.Pending || res.SessionID == "" {
		t.Fatalf("spawn: %d %+v", code, res)
	}
	s := waitLinked(t, h, res.SessionID, f.d.ID())
	if s.RunnerName == nil || *s.RunnerName != "test-box" {
		t.Fatalf("runner name %v", s.RunnerName)
	}
	eventually(t, "the worker log", func() bool {
		return strings.Contains(f.sessionLog(res.SessionID), "registered ")
	})
	log := f.sessionLog(res.SessionID)
	want := "worker session=" + res.SessionID + " cwd=" + sub + " wd=" + sub + ` prompt="fix the tests" model=anthropic/claude`
	if !strings.Contains(log, want) {
		t.Fatalf("worker log:\n%s\nwant %q", log, want)
	}
	if fi, err := os.Stat(filepath.Join(f.dir, "logs", "session-"+res.SessionID+".log")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("log file: %v %v", fi, err)
	}
	if ids := f.sessionIDs(t); !slices.Equal(ids, []string{res.SessionID}) {
		t.Fatalf("sessions_list %v", ids)
	}

	// kill_session has no reply the relay routes back; the session list shows its effect.
	_, _ = f.n.Server.Core().RunnerCommand(context.Background(), f.u.ID, f.d.ID(), rproto.EventKillSession, func(string) []byte {
		return (&rproto.KillSession{SessionID: res.SessionID}).AppendJSON(nil)
	}, 50*time.Millisecond)
	eventually(t, "the worker to stop", func() bool { return len(f.sessionIDs(t)) == 0 })
	if log := f.sessionLog(res.SessionID); !strings.Contains(log, "worker stopping") {
		t.Fatalf("the worker was not stopped with SIGTERM:\n%s", log)
	}
}

// TestSpawnRefusals: a cwd outside the roots (via a symlink, which the relay cannot see), a
// missing directory, a file, and a worker that cannot start get session_error, and the spawn
// fails with its message.
func TestSpawnRefusals(t *testing.T) {
	f := newFixture(t, nil)
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(f.root, "escape")); err != nil {
		t.Fatal(err)
	}
	write(t, f.root, "file.txt", "x")
	for cwd, want := range map[string]string{
		filepath.Join(f.root, "escape"):   "outside the runner's workspace roots",
		filepath.Join(f.root, "missing"):  "does not exist",
		filepath.Join(f.root, "file.txt"): "is not a directory",
	} {
		var res struct {
			Error string `json:"error"`
		}
		code := f.rest(t, "POST", "/api/runners/spawn", map[string]any{"runnerId": f.d.ID(), "cwd": cwd}, &res)
		if code != 400 || !strings.Contains(res.Error, want) {
			t.Errorf("spawn in %s: %d %q, want 400 %q", cwd, code, res.Error, want)
		}
	}
	if ids := f.sessionIDs(t); len(ids) != 0 {
		t.Fatalf("sessions %v", ids)
	}

	// A worker that cannot start.
	f = newFixture(t, func(c *Config) { c.WorkerCommand = func(string) []string { return []string{"/nonexistent/worker"} } })
	var res struct {
		Error string `json:"error"`
	}
	if code := f.rest(t, "POST", "/api/runners/spawn", map[string]any{"runnerId": f.d.ID()}, &res); code != 400 || !strings.Contains(res.Error, "cannot start the worker") {
		t.Fatalf("spawn with a missing worker: %d %q", code, res.Error)
	}
}

// TestWorkerRestart: a worker exiting with code 43 is started again without its prompt, and the
// relay links the session again.
func TestWorkerRestart(t *testing.T) {
	f := newFixture(t, nil)
	h := f.n.Dial(t, "/hub", servertest.DialOptions{User: &f.u})
	h.Next(t, hub.EventSessions)
	var res struct {
		SessionID string `json:"sessionId"`
	}
	if code := f.rest(t, "POST", "/api/runners/spawn", map[string]any{"runnerId": f.d.ID(), "prompt": "exit 43"}, &res); code != 200 {
		t.Fatalf("spawn: %d", code)
	}
	waitLinked(t, h, res.SessionID, f.d.ID())
	log := f.sessionLog(res.SessionID)
	first := strings.Index(log, `prompt="exit 43"`)
	second := strings.Index(log, `prompt="" model=/`)
	if first < 0 || second < first || f.logs.count("session worker restarted") != 1 {
		t.Fatalf("worker log:\n%s", log)
	}
	if f.workerCwd(res.SessionID) != f.root {
		t.Fatalf("default cwd: %q", f.workerCwd(res.SessionID))
	}
}

// workerCwd returns the cwd the worker of a session was given.
func (f *fixture) workerCwd(id string) string {
	for _, line := range strings.Split(f.sessionLog(id), "\n") {
		if _, rest, ok := strings.Cut(line, " cwd="); ok {
			cwd, _, _ := strings.Cut(rest, " ")
			return cwd
		}
	}
	return ""
}

// TestRestartCommand: the relay's restart stops the workers and makes Run return ErrRestart.
func TestRestartCommand(t *testing.T) {
	f := newFixture(t, nil)
	var res struct {
		SessionID string `json:"sessionId"`
	}
	if code := f.rest(t, "POST", "/api/runners/spawn", map[string]any{"runnerId": f.d.ID()}, &res); code != 200 {
		t.Fatalf("spawn: %d", code)
	}
	eventually(t, "the worker", func() bool { return strings.Contains(f.sessionLog(res.SessionID), "registered ") })
	var ok struct {
		OK bool `json:"ok"`
	}
	if code := f.rest(t, "POST", "/api/runners/restart", map[string]any{"runnerId": f.d.ID()}, &ok); code != 200 || !ok.OK {
		t.Fatalf("restart: %d", code)
	}
	start := time.Now()
	eventually(t, "the daemon to exit", func() bool { return f.logs.count("session worker ended") == 1 })
	if err := f.stop(); err != ErrRestart {
		t.Fatalf("Run returned %v, want ErrRestart", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("restart took %v", d)
	}
	if log := f.sessionLog(res.SessionID); !strings.Contains(log, "worker stopping") {
		t.Fatalf("worker log:\n%s", log)
	}
}

// TestPingAndLists: ping, list_sessions and list_terminals are answered with their request id.
func TestPingAndLists(t *testing.T) {
	f := newFixture(t, nil)
	var pong rproto.Pong
	f.command(t, rproto.EventPing, nil, &pong)
	if d := time.Since(time.UnixMilli(int64(pong.Now))); d < -time.Minute || d > time.Minute || !pong.RequestID.IsSet() {
		t.Fatalf("pong %s", pong.AppendJSON(nil))
	}
	var terms rproto.TerminalsList
	f.command(t, rproto.EventListTerminals, nil, &terms)
	if terms.Terminals == nil || len(terms.Terminals) != 0 {
		raw, _ := json.Marshal(terms)
		t.Fatalf("terminals_list %s", raw)
	}
	if ids := f.sessionIDs(t); ids == nil || len(ids) != 0 {
		t.Fatalf("sessions_list %v", ids)
	}
}
