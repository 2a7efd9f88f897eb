package runner

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/server/core"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// terminalConn is a /terminal viewer of one terminal, collecting its output.
type terminalConn struct {
	*servertest.Conn
	id  string
	out strings.Builder
}

// openTerminal creates a terminal on the fixture's runner and attaches a viewer, which sends its
// size (the deferred spawn) and waits for terminal_ready.
func (f *fixture) openTerminal(t *testing.T, cwd string, cols, rows int) *terminalConn {
	t.Helper()
	id, err := f.n.Server.Core().CreateTerminal(context.Background(), f.u.ID, core.TerminalRequest{RunnerID: f.d.ID(), Cwd: cwd})
	if err != nil {
		t.Fatal(err)
	}
	c := &terminalConn{Conn: f.n.Dial(t, "/terminal", servertest.DialOptions{User: &f.u, Auth: map[string]any{"terminalId": id}}), id: id}
	c.Next(t, "terminal_connected")
	c.Emit(t, "terminal_resize", map[string]any{"terminalId": id, "cols": cols, "rows": rows})
	return c
}

// input types into the terminal.
func (c *terminalConn) input(t *testing.T, s string) {
	t.Helper()
	c.Emit(t, "terminal_input", map[string]any{"terminalId": c.id, "data": base64.StdEncoding.EncodeToString([]byte(s))})
}

// waitOutput reads terminal_data until the output so far contains want.
func (c *terminalConn) waitOutput(t *testing.T, want string) {
	t.Helper()
	for !strings.Contains(c.out.String(), want) {
		var d protocol.TerminalData
		c.NextInto(t, "terminal_data", &d)
		b, err := base64.StdEncoding.DecodeString(d.Data)
		if err != nil {
			t.Fatal(err)
		}
		c.out.Write(b)
	}
}

// exit waits for terminal_exit and returns the exit code.
func (c *terminalConn) exit(t *testing.T) int64 {
	t.Helper()
	var e protocol.TerminalExit
	c.NextInto(t, "terminal_exit", &e)
	return e.ExitCode
}

// TestTerminal runs a shell in a real PTY through the relay: output comes back, resizes reach
// the PTY, the exit code is the shell's, and kill_terminal ends it with -1.
func TestTerminal(t *testing.T) {
	f := newFixture(t, nil)
	sub := filepath.Join(f.root, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	c := f.openTerminal(t, sub, 100, 30)
	c.Next(t, "terminal_ready")
	c.input(t, "echo hel''lo; pwd; stty size\r")
	c.waitOutput(t, "hello")
	c.waitOutput(t, sub)
	c.waitOutput(t, "30 100")
	c.Emit(t, "terminal_resize", map[string]any{"terminalId": c.id, "cols": 111, "rows": 33})
	c.input(t, "stty size\r")
	c.waitOutput(t, "33 111")
	c.input(t, "exit 3\r")
	if code := c.exit(t); code != 3 {
		t.Fatalf("exit code %d, want 3", code)
	}

	// kill_terminal ends a running shell, and its background jobs, with exit code -1.
	k := f.openTerminal(t, "", 80, 24)
	k.Next(t, "terminal_ready")
	k.input(t, "sleep 300 & echo job=$!\r")
	k.waitOutput(t, "job=")
	k.waitOutput(t, "\n")
	_, rest, _ := strings.Cut(k.out.String(), "job=")
	pid := strings.TrimSpace(strings.SplitN(rest, "\n", 2)[0])
	k.Emit(t, "kill_terminal", map[string]any{"terminalId": k.id})
	if code := k.exit(t); code != -1 {
		t.Fatalf("killed terminal exit code %d", code)
	}
	if _, err := os.Stat("/proc/" + pid); err == nil {
		eventually(t, "the background job to end", func() bool {
			_, err := os.Stat("/proc/" + pid)
			return err != nil
		})
	}
	var terms struct{ Terminals []string }
	f.command(t, "list_terminals", nil, &terms)
	if len(terms.Terminals) != 0 {
		t.Fatalf("terminals still open: %v", terms.Terminals)
	}
}

// TestTerminalRefusals: a cwd that escapes the roots through a symlink gets terminal_error; a
// terminal that has exited cannot be killed.
func TestTerminalRefusals(t *testing.T) {
	f := newFixture(t, nil)
	if err := os.Symlink(t.TempDir(), filepath.Join(f.root, "escape")); err != nil {
		t.Fatal(err)
	}
	c := f.openTerminal(t, filepath.Join(f.root, "escape"), 80, 24)
	var e protocol.TerminalError
	c.NextInto(t, "terminal_error", &e)
	if !strings.Contains(e.Message, "outside the runner's workspace roots") {
		t.Fatalf("terminal_error %q", e.Message)
	}
	k := f.openTerminal(t, "", 80, 24)
	k.Next(t, "terminal_ready")
	k.input(t, "exit\r")
	if code := k.exit(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	k.Emit(t, "kill_terminal", map[string]any{"terminalId": k.id})
	k.NextInto(t, "terminal_error", &e)
	if e.Message != "Terminal not found" {
		t.Fatalf("terminal_error %q", e.Message)
	}
}

// TestTerminalsEndWithTheDaemon: stopping the daemon ends its shells.
func TestTerminalsEndWithTheDaemon(t *testing.T) {
	f := newFixture(t, nil)
	c := f.openTerminal(t, "", 80, 24)
	c.Next(t, "terminal_ready")
	c.input(t, "echo pid=$$\r")
	c.waitOutput(t, "pid=")
	c.waitOutput(t, "\n")
	_, rest, _ := strings.Cut(c.out.String(), "pid=")
	pid := strings.TrimSpace(strings.SplitN(rest, "\n", 2)[0])
	if err := f.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/proc/" + pid); err == nil {
		t.Fatalf("shell %s still running after the daemon stopped", pid)
	}
}
