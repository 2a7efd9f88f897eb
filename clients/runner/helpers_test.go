package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	rproto "github.com/pizzapi/pizzapi/protocol/runner"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// workerBin is the test worker (testdata/worker), built once for all tests.
var workerBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "runner-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	workerBin = filepath.Join(dir, "worker")
	if out, err := exec.Command("go", "build", "-o", workerBin, "./testdata/worker").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the test worker: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// logs collects the daemon's log messages.
type logs struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logs) Enabled(context.Context, slog.Level) bool { return true }
func (l *logs) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	if os.Getenv("PIZZAPI_TEST_LOG") != "" {
		attrs := ""
		r.Attrs(func(a slog.Attr) bool { attrs += " " + a.String(); return true })
		fmt.Fprintln(os.Stderr, time.Now().Format("15:04:05.000"), "runner:", r.Message+attrs)
	}
	return nil
}
func (l *logs) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logs) WithGroup(string) slog.Handler      { return l }

func (l *logs) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if m == msg {
			n++
		}
	}
	return n
}

// fixture is a relay node, a user, and a runner daemon of that user with one workspace root.
type fixture struct {
	n    *servertest.Node
	u    servertest.User
	d    *Daemon
	dir  string // holds the root, the state file, skills and logs
	root string // the workspace root
	logs *logs
	stop func() error // stops the daemon and returns what Run returned
}

// newFixture starts a node and a daemon on it; mod adjusts the configuration.
func newFixture(t *testing.T, mod func(*Config)) *fixture {
	t.Helper()
	n := servertest.Start(t)
	f := &fixture{n: n, u: n.NewUser(t), dir: t.TempDir(), logs: &logs{}}
	f.root = filepath.Join(f.dir, "work")
	if err := os.Mkdir(f.root, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := f.config()
	if mod != nil {
		mod(&cfg)
	}
	f.d, f.stop = f.start(t, cfg)
	f.waitRegistered(t, 1)
	return f
}

// config is the fixture's daemon configuration.
func (f *fixture) config() Config {
	return Config{
		RelayURL:       f.n.URL,
		APIKey:         f.u.APIKey,
		StatePath:      filepath.Join(f.dir, "state", "runner.json"),
		Name:           "test-box",
		Roots:          []string{f.root},
		SkillsDir:      filepath.Join(f.dir, "skills"),
		LogDir:         filepath.Join(f.dir, "logs"),
		WorkerCommand:  func(string) []string { return []string{workerBin} },
		Shell:          "/bin/sh",
		KillGrace:      2 * time.Second,
		RestartDelay:   100 * time.Millisecond,
		ReconnectDelay: 100 * time.Millisecond,
		ConnectTimeout: 2 * time.Second,
		Logger:         slog.New(f.logs),
	}
}

// start runs a daemon; the returned function stops it and returns Run's result.
func (f *fixture) start(t *testing.T, cfg Config) (*Daemon, func() error) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(f.logs)
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	var result error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case result = <-done:
			case <-time.After(15 * time.Second):
				t.Error("the daemon did not stop")
			}
			d.Close()
		})
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return d, stop
}

// waitRegistered waits until the daemon has registered n times in all.
func (f *fixture) waitRegistered(t *testing.T, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("registration %d", n), func() bool {
		if f.logs.count("registered with the relay") < n {
			return false
		}
		runners, _ := f.n.Server.Core().Runners(context.Background(), f.u.ID)
		return slices.ContainsFunc(runners, func(r protocol.RunnerInfo) bool { return r.RunnerID == f.d.ID() })
	})
}

// eventually polls cond until it holds, failing the test after 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// command sends a request/response command to the runner through the relay and decodes the
// reply into v.
func (f *fixture) command(t *testing.T, event string, payload map[string]any, v any) {
	t.Helper()
	raw, err := f.n.Server.Core().RunnerCommand(context.Background(), f.u.ID, f.d.ID(), event, func(id string) []byte {
		p := map[string]any{"requestId": id}
		for k, v := range payload {
			p[k] = v
		}
		b, _ := json.Marshal(p)
		return b
	}, 10*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s reply %s: %v", event, raw, err)
	}
}

// fileReply is a file_result as the tests read it.
type fileReply struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
	Files   []struct {
		Name        string `json:"name"`
		Path        string `json:"path"`
		IsDirectory bool   `json:"isDirectory"`
		IsSymlink   bool   `json:"isSymlink"`
		Size        *int64 `json:"size"`
	} `json:"files"`
	Content    string      `json:"content"`
	Encoding   string      `json:"encoding"`
	Size       int64       `json:"size"`
	Truncated  bool        `json:"truncated"`
	Branch     string      `json:"branch"`
	Changes    []gitChange `json:"changes"`
	Ahead      int         `json:"ahead"`
	Behind     int         `json:"behind"`
	Diff       string      `json:"diff"`
	DiffStaged string      `json:"diffStaged"`
}

// file sends a file or git command and returns the runner's answer.
func (f *fixture) file(t *testing.T, event string, payload map[string]any) fileReply {
	t.Helper()
	var r fileReply
	f.command(t, event, payload, &r)
	return r
}

// rest calls the relay's REST API with the user's API key and decodes the answer into v.
func (f *fixture) rest(t *testing.T, method, path string, body any, v any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, f.n.URL+path, bytes.NewReader(b))
	req.Header.Set("x-api-key", f.u.APIKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if v != nil && len(data) > 0 {
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, res.StatusCode, data, err)
		}
	}
	return res.StatusCode
}

// sessionLog returns a session's worker log.
func (f *fixture) sessionLog(id string) string {
	data, _ := os.ReadFile(filepath.Join(f.dir, "logs", "session-"+id+".log"))
	return string(data)
}

// sessionIDs asks the runner which sessions it runs.
func (f *fixture) sessionIDs(t *testing.T) []string {
	t.Helper()
	var list rproto.SessionsList
	f.command(t, rproto.EventListSessions, nil, &list)
	return list.Sessions
}

// write creates a file (and its directories) below dir.
func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
