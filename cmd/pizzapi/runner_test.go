package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/internal/syncbuf"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// daemon is a `pizzapi runner` process.
type daemon struct {
	cmd    *exec.Cmd
	stderr *syncbuf.Buffer
	done   chan struct{}
	code   int
}

// startRunner starts `pizzapi runner` with HOME set to home and the relay's URL and key.
func startRunner(t *testing.T, bin, home, url, key string, extra ...string) *daemon {
	t.Helper()
	d := &daemon{cmd: exec.Command(bin, "runner"), stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PIZZAPI_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	d.cmd.Env = append(env, append([]string{"HOME=" + home, "PIZZAPI_RELAY_URL=" + url, "PIZZAPI_RUNNER_API_KEY=" + key}, extra...)...)
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = d.cmd.Wait()
		d.code = d.cmd.ProcessState.ExitCode()
		close(d.done)
	}()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.done
	})
	return d
}

// wait waits for the process to exit and returns its exit code.
func (d *daemon) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-d.done:
		return d.code
	case <-time.After(15 * time.Second):
		t.Fatalf("the runner did not exit; stderr:\n%s", d.stderr)
		return 0
	}
}

// waitRunner waits until the user has a connected runner and returns it.
func waitRunner(t *testing.T, n *servertest.Node, u servertest.User, d *daemon) protocol.RunnerInfo {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if runners, _ := n.Server.Core().Runners(context.Background(), u.ID); len(runners) == 1 {
			return runners[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the runner did not register; stderr:\n%s", d.stderr)
	return protocol.RunnerInfo{}
}

// TestRunnerCommand runs the real binary: it registers under a persistent id kept in a 0600
// state file, a second daemon on the same state file exits 1 naming the first one's pid, SIGTERM
// stops it cleanly, and the relay's restart makes it exit with code 42.
func TestRunnerCommand(t *testing.T) {
	bin := binary(t)
	n := servertest.Start(t)
	u := n.NewUser(t)
	home := t.TempDir()
	root := filepath.Join(home, "work")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PIZZAPI_WORKSPACE_ROOTS=" + root + "/", "PIZZAPI_RUNNER_NAME=cmd-box"}

	first := startRunner(t, bin, home, n.URL, u.APIKey, env...)
	info := waitRunner(t, n, u, first)
	if info.Name == nil || *info.Name != "cmd-box" || !reflect.DeepEqual(info.Roots, []string{root}) {
		t.Fatalf("runner %s", info.AppendJSON(nil))
	}
	statePath := filepath.Join(home, ".pizzapi", "runner.json")
	fi, err := os.Stat(statePath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}
	var state struct{ RunnerID, RunnerSecret string }
	data, _ := os.ReadFile(statePath)
	if err := json.Unmarshal(data, &state); err != nil || state.RunnerID != info.RunnerID || len(state.RunnerSecret) != 64 {
		t.Fatalf("state %s: %v", data, err)
	}

	second := startRunner(t, bin, home, n.URL, u.APIKey, env...)
	if code := second.wait(t); code != 1 {
		t.Fatalf("second daemon exit code %d; stderr:\n%s", code, second.stderr)
	}
	if msg := second.stderr.String(); !strings.Contains(msg, "already running") || !strings.Contains(msg, "pid "+strconv.Itoa(first.cmd.Process.Pid)) {
		t.Fatalf("second daemon stderr:\n%s", msg)
	}

	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := first.wait(t); code != 0 {
		t.Fatalf("exit code after SIGTERM %d; stderr:\n%s", code, first.stderr)
	}

	third := startRunner(t, bin, home, n.URL, u.APIKey, env...)
	if info := waitRunner(t, n, u, third); info.RunnerID != state.RunnerID {
		t.Fatalf("runner id changed across restarts: %s, was %s", info.RunnerID, state.RunnerID)
	}
	req, _ := http.NewRequest("POST", n.URL+"/api/runners/restart", strings.NewReader(`{"runnerId":"`+state.RunnerID+`"}`))
	req.Header.Set("x-api-key", u.APIKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("restart: %d", res.StatusCode)
	}
	if code := third.wait(t); code != restartExitCode {
		t.Fatalf("exit code after restart %d; stderr:\n%s", code, third.stderr)
	}
}

// TestRunnerCommandRefusals: a key the relay refuses and a missing workspace root end the
// daemon with exit code 1 and a message saying why.
func TestRunnerCommandRefusals(t *testing.T) {
	bin := binary(t)
	n := servertest.Start(t)
	home := t.TempDir()
	d := startRunner(t, bin, home, n.URL, "not-a-key", "PIZZAPI_WORKSPACE_ROOTS="+home)
	if code := d.wait(t); code != 1 || !strings.Contains(d.stderr.String(), "refused the API key (unauthorized)") {
		t.Fatalf("bad key: exit %d, stderr:\n%s", code, d.stderr)
	}
	d = startRunner(t, bin, home, n.URL, "k", "PIZZAPI_WORKSPACE_ROOTS="+filepath.Join(home, "missing"))
	if code := d.wait(t); code != 1 || !strings.Contains(d.stderr.String(), "missing") {
		t.Fatalf("missing root: exit %d, stderr:\n%s", code, d.stderr)
	}
}

// TestSplitCommand covers the quoting --agent understands.
func TestSplitCommand(t *testing.T) {
	for in, want := range map[string][]string{
		"pi --mode rpc":             {"pi", "--mode", "rpc"},
		"  a\t b  ":                 {"a", "b"},
		`agent --say 'hello world'`: {"agent", "--say", "hello world"},
		`a "b \"c\" \n" d\ e`:       {"a", `b "c" \n`, "d e"},
		`x''y ""`:                   {"xy", ""},
		"":                          nil,
	} {
		got, err := splitCommand(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`a 'b`, `a "b`, `a\`} {
		if _, err := splitCommand(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
