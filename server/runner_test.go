package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/runner"
	"github.com/pizzapi/pizzapi/server/core"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// fakeRunner connects a runner daemon imitation and registers it.
func fakeRunner(t *testing.T, n *servertest.Node, u servertest.User, id, secret string) *servertest.Conn {
	t.Helper()
	r := n.Dial(t, "/runner", servertest.DialOptions{User: &u, Auth: map[string]any{"runnerId": id, "runnerSecret": secret}})
	r.Emit(t, "register_runner", map[string]any{"runnerId": id, "runnerSecret": secret, "name": "box", "roots": []string{"/srv/work/"}, "skills": []any{map[string]any{"name": "s1", "description": "d", "filePath": "/x"}}})
	var reg runner.RunnerRegistered
	r.NextInto(t, "runner_registered", &reg)
	if reg.RunnerID != id {
		t.Fatalf("registered as %q", reg.RunnerID)
	}
	return r
}

// TestRunnerSpawnAndTerminal drives a runner through a spawn and a terminal session.
func TestRunnerSpawnAndTerminal(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	r := fakeRunner(t, n, u, "r-1", "secret-1")
	h := n.Dial(t, "/hub", servertest.DialOptions{User: &u})
	h.Next(t, "sessions")
	ctx := context.Background()
	c := n.Server.Core()

	infos, err := c.Runners(ctx, u.ID)
	if err != nil || len(infos) != 1 || infos[0].Roots[0] != "/srv/work" || len(infos[0].Skills) != 1 {
		t.Fatalf("runners %+v %v", infos, err)
	}

	// Spawn: the runner gets new_session, answers session_ready; the worker then registers.
	type result struct {
		res *core.SpawnResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := c.Spawn(ctx, u.ID, core.SpawnRequest{RunnerID: "r-1", Cwd: "/srv/work/app", Prompt: "fix it", Model: &protocol.ModelInfo{Provider: "p", ID: "m"}})
		done <- result{res, err}
	}()
	var ns runner.NewSession
	r.NextInto(t, "new_session", &ns)
	if ns.Cwd.Or("") != "/srv/work/app" || ns.Prompt.Or("") != "fix it" {
		t.Fatalf("new_session %s", ns.AppendJSON(nil))
	}
	r.Emit(t, "session_ready", map[string]any{"sessionId": ns.SessionID})
	got := <-done
	if got.err != nil || got.res.Pending || got.res.SessionID != ns.SessionID {
		t.Fatalf("spawn %+v %v", got.res, got.err)
	}
	cli(t, n, u, ns.SessionID)
	var added protocol.SessionInfo
	h.NextInto(t, "session_added", &added)
	if added.RunnerID == nil || *added.RunnerID != "r-1" || *added.RunnerName != "box" {
		t.Fatalf("session_added %s", added.AppendJSON(nil))
	}
	folders, _ := c.RecentFolders(ctx, u.ID, "r-1")
	if len(folders) != 1 || folders[0] != "/srv/work/app" {
		t.Fatalf("recent folders %v", folders)
	}
	// Outside the roots: refused before the runner is asked.
	if _, err := c.Spawn(ctx, u.ID, core.SpawnRequest{RunnerID: "r-1", Cwd: "/etc"}); err == nil {
		t.Fatal("spawn outside the roots accepted")
	}

	// Terminal: deferred spawn on the first resize, then data both ways, then exit.
	termID, err := c.CreateTerminal(ctx, u.ID, core.TerminalRequest{RunnerID: "r-1", Cwd: "/srv/work"})
	if err != nil {
		t.Fatal(err)
	}
	term := n.Dial(t, "/terminal", servertest.DialOptions{User: &u, Cookie: true, Auth: map[string]any{"terminalId": termID}})
	term.Next(t, "terminal_connected")
	r.None(t, "new_terminal", 50*time.Millisecond)
	term.Emit(t, "terminal_resize", map[string]any{"terminalId": termID, "cols": 120, "rows": 40})
	var nt runner.NewTerminal
	r.NextInto(t, "new_terminal", &nt)
	if nt.TerminalID != termID || nt.Cols.Or(0) != 120 || nt.Cwd.Or("") != "/srv/work" {
		t.Fatalf("new_terminal %s", nt.AppendJSON(nil))
	}
	r.Emit(t, "terminal_ready", map[string]any{"terminalId": termID})
	term.Next(t, "terminal_ready")
	term.Emit(t, "terminal_input", map[string]any{"data": base64.StdEncoding.EncodeToString([]byte("echo hello\r"))})
	var in runner.TerminalInput
	r.NextInto(t, "terminal_input", &in)
	if in.TerminalID != termID {
		t.Fatalf("input %s", in.AppendJSON(nil))
	}
	r.Emit(t, "terminal_data", map[string]any{"terminalId": termID, "data": base64.StdEncoding.EncodeToString([]byte("hello\r\n"))})
	var data protocol.TerminalData
	term.NextInto(t, "terminal_data", &data)
	if b, _ := base64.StdEncoding.DecodeString(data.Data); string(b) != "hello\r\n" {
		t.Fatalf("data %q", b)
	}
	term.Emit(t, "terminal_resize", map[string]any{"cols": 100, "rows": 30})
	var rs runner.TerminalResize
	r.NextInto(t, "terminal_resize", &rs)
	if rs.Cols != 100 {
		t.Fatalf("resize %s", rs.AppendJSON(nil))
	}
	term.Emit(t, "kill_terminal", map[string]any{})
	r.Next(t, "kill_terminal")
	r.Emit(t, "terminal_exit", map[string]any{"terminalId": termID, "exitCode": -1})
	var exit protocol.TerminalExit
	term.NextInto(t, "terminal_exit", &exit)
	if exit.ExitCode != -1 {
		t.Fatalf("exit %s", exit.AppendJSON(nil))
	}
}

// TestRunnerRequests: skills and file commands are answered by request id.
func TestRunnerRequests(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	r := fakeRunner(t, n, u, "r-req", "s")
	c := n.Server.Core()
	go func() {
		var lf runner.ListFiles
		raw := r.Next(t, "list_files")
		if err := lf.UnmarshalJSON(raw); err != nil {
			return
		}
		r.Emit(t, "file_result", map[string]any{"requestId": lf.RequestID.Or(""), "ok": true, "files": []any{map[string]any{"name": "a.go", "path": "/srv/work/a.go", "isDirectory": false, "isSymlink": false}}})
	}()
	reply, err := c.RunnerCommand(context.Background(), u.ID, "r-req", runner.EventListFiles, func(id string) []byte {
		return (&runner.ListFiles{RequestID: protocol.Some(id), Path: "/srv/work"}).AppendJSON(nil)
	}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		OK    bool
		Files []struct{ Name string }
	}
	if json.Unmarshal(reply, &res) != nil || !res.OK || len(res.Files) != 1 || res.Files[0].Name != "a.go" {
		t.Fatalf("reply %s", reply)
	}
	// A runner that does not answer times out with a 504-style error.
	_, err = c.RunnerCommand(context.Background(), u.ID, "r-req", runner.EventGetSkill, func(id string) []byte {
		return (&runner.GetSkill{RequestID: protocol.Some(id), Name: "s1"}).AppendJSON(nil)
	}, 200*time.Millisecond)
	if !errors.Is(err, protocol.ErrTimeout) {
		t.Fatalf("timeout error %v", err)
	}
}

// TestRunnerIsolationAndSecrets: runners belong to their user; a runner id is guarded by its
// secret across reconnections.
func TestRunnerIsolationAndSecrets(t *testing.T) {
	n := servertest.Start(t)
	a, b := n.NewUser(t), n.NewUser(t)
	r := fakeRunner(t, n, a, "r-a", "right")
	c := n.Server.Core()
	ctx := context.Background()
	if _, err := c.Spawn(ctx, b.ID, core.SpawnRequest{RunnerID: "r-a"}); !errors.Is(err, protocol.ErrForbidden) {
		t.Fatalf("spawn on another user's runner: %v", err)
	}
	if _, err := c.CreateTerminal(ctx, b.ID, core.TerminalRequest{RunnerID: "r-a"}); !errors.Is(err, protocol.ErrForbidden) {
		t.Fatalf("terminal on another user's runner: %v", err)
	}
	if list, _ := c.Runners(ctx, b.ID); len(list) != 0 {
		t.Fatalf("b lists %v", list)
	}
	termID, _ := c.CreateTerminal(ctx, a.ID, core.TerminalRequest{RunnerID: "r-a"})
	bt := n.Dial(t, "/terminal", servertest.DialOptions{User: &b, Auth: map[string]any{"terminalId": termID}})
	var te protocol.TerminalError
	bt.NextInto(t, "terminal_error", &te)
	if te.Message != "Forbidden" {
		t.Fatalf("terminal error %q", te.Message)
	}
	r.None(t, "new_terminal", 50*time.Millisecond)

	// Same id, wrong secret (same user): refused and disconnected.
	bad := n.Dial(t, "/runner", servertest.DialOptions{User: &a})
	bad.Emit(t, "register_runner", map[string]any{"runnerId": "r-a", "runnerSecret": "wrong"})
	var e protocol.ErrorMessage
	bad.NextInto(t, "error", &e)
	if e.Message != "Runner authentication failed: secret mismatch for runner r-a" {
		t.Fatalf("error %q", e.Message)
	}
	if reason := bad.WaitDisconnect(t); reason != "io server disconnect" {
		t.Fatalf("disconnect %q", reason)
	}
	// Another user cannot take the id even with the secret.
	stolen := n.Dial(t, "/runner", servertest.DialOptions{User: &b})
	stolen.Emit(t, "register_runner", map[string]any{"runnerId": "r-a", "runnerSecret": "right"})
	stolen.NextInto(t, "error", &e)
	// The right secret after a restart works, and the old connection is let go.
	again := n.Dial(t, "/runner", servertest.DialOptions{User: &a})
	again.Emit(t, "register_runner", map[string]any{"runnerId": "r-a", "runnerSecret": "right"})
	again.Next(t, "runner_registered")
	r.WaitDisconnect(t)
	if list, _ := c.Runners(ctx, a.ID); len(list) != 1 {
		t.Fatalf("runners after re-registration %v", list)
	}
}

// TestRunnerDisconnectEndsTerminals: terminals of a runner that goes away exit with -1.
func TestRunnerDisconnectEndsTerminals(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	r := fakeRunner(t, n, u, "r-gone", "s")
	termID, err := n.Server.Core().CreateTerminal(context.Background(), u.ID, core.TerminalRequest{RunnerID: "r-gone"})
	if err != nil {
		t.Fatal(err)
	}
	term := n.Dial(t, "/terminal", servertest.DialOptions{User: &u, Auth: map[string]any{"terminalId": termID}})
	term.Next(t, "terminal_connected")
	r.Close()
	var exit protocol.TerminalExit
	term.NextInto(t, "terminal_exit", &exit)
	if exit.ExitCode != -1 {
		t.Fatalf("exit %d", exit.ExitCode)
	}
	if list, _ := n.Server.Core().Runners(context.Background(), u.ID); len(list) != 0 {
		t.Fatalf("runner still listed: %v", list)
	}
}
