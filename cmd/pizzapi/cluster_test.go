package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/clients/login"
	"github.com/pizzapi/pizzapi/internal/pgtest"
	"github.com/pizzapi/pizzapi/internal/redistest"
	"github.com/pizzapi/pizzapi/internal/syncbuf"
	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/server/accounts"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// relayProcess is one `pizzapi serve` process of a test cluster. It listens on a fixed port, so
// that it can be stopped and started again behind the same load balancer.
type relayProcess struct {
	name string
	url  string
	args []string
	log  *syncbuf.Buffer

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// processCluster is a set of relay processes sharing one Redis and one PostgreSQL database, with
// nginx in front of them when lb is set.
type processCluster struct {
	nodes []*relayProcess
	lb    string
}

// startProcessCluster starts count `pizzapi serve` processes and waits until all are ready. With
// loadBalancer set, nginx balances them round robin (every test client has the same address).
func startProcessCluster(t *testing.T, count int, loadBalancer bool) *processCluster {
	t.Helper()
	if loadBalancer {
		servertest.NginxBinary(t) // skip (or fail) before starting anything
	}
	bin := binary(t)
	redisURL := "redis://" + redistest.Start(t)
	dbURL := pgtest.Database(t)
	pc := &processCluster{}
	for i := range count {
		port := freePort(t)
		p := &relayProcess{
			name: string(rune('A' + i)),
			url:  "http://127.0.0.1:" + strconv.Itoa(port),
			log:  &syncbuf.Buffer{},
			args: []string{bin, "serve", "--host", "127.0.0.1", "--port", strconv.Itoa(port),
				"--redis-url", redisURL, "--database-url", dbURL, "--data-dir", t.TempDir()},
		}
		pc.nodes = append(pc.nodes, p)
		t.Cleanup(func() {
			p.kill()
			if t.Failed() || testing.Verbose() {
				t.Logf("node %s log:\n%s", p.name, p.log)
			}
			if strings.Contains(p.log.String(), "DATA RACE") {
				t.Errorf("node %s: data race", p.name)
			}
		})
	}
	for _, p := range pc.nodes {
		p.start(t)
	}
	for _, p := range pc.nodes {
		p.waitReady(t)
	}
	if loadBalancer {
		urls := make([]string, count)
		for i, p := range pc.nodes {
			urls[i] = p.url
		}
		pc.lb = servertest.StartNginx(t, urls, false)
	}
	return pc
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs the process (again).
func (p *relayProcess) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "PIZZAPI_LOG_LEVEL=info")
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
}

// waitReady waits until the node reports ready on /health.
func (p *relayProcess) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(p.url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("node %s did not become ready; log:\n%s", p.name, p.log)
}

// kill stops the process with SIGKILL and waits for it.
func (p *relayProcess) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// terminate stops the process with SIGTERM and checks that it exits cleanly within 10 s.
func (p *relayProcess) terminate(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("node %s exited with code %d after SIGTERM", p.name, code)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("node %s did not stop within 10 s of SIGTERM", p.name)
	}
}

// connections returns the node's connected sockets of a namespace, from its /metrics.
func (p *relayProcess) connections(t *testing.T, nsp string) int {
	t.Helper()
	resp, err := http.Get(p.url + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^pizzapi_connections\{namespace="` + regexp.QuoteMeta(nsp) + `"\} (\d+)`).FindSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// remoteUser creates an account through a relay's REST API: an API key from /api/register and a
// browser session from /api/auth/sign-in/email.
func remoteUser(t *testing.T, url, name string) servertest.User {
	t.Helper()
	u := servertest.User{Name: name, Email: name + "@example.com", Password: "correct horse battery"}
	key, err := login.Register(context.Background(), url, u.Name, u.Email, u.Password)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	u.APIKey = key
	body, _ := json.Marshal(map[string]string{"email": u.Email, "password": u.Password})
	resp, err := http.Post(url+"/api/auth/sign-in/email", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == accounts.CookieName {
			u.Cookie = c
		}
	}
	if resp.StatusCode != http.StatusOK || u.Cookie == nil {
		t.Fatalf("sign-in: %s", resp.Status)
	}
	return u
}

// restCall sends a REST request with the user's API key and decodes the JSON answer into out.
func restCall(t *testing.T, method, url string, u servertest.User, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-api-key", u.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, raw)
		}
	}
	return resp.StatusCode
}

// lineTimes timestamps the lines written to it, for logs whose moments matter.
type lineTimes struct {
	mu    sync.Mutex
	buf   []byte
	lines []timedLine
}

type timedLine struct {
	at   time.Time
	text string
}

func (l *lineTimes) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, timedLine{time.Now(), string(l.buf[:i])})
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

// first returns the moment of the first line after since that contains s.
func (l *lineTimes) first(s string, since time.Time) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if line.at.After(since) && strings.Contains(line.text, s) {
			return line.at, true
		}
	}
	return time.Time{}, false
}

func (l *lineTimes) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, line := range l.lines {
		fmt.Fprintf(&b, "%s %s\n", line.at.Format("15:04:05.000"), line.text)
	}
	return b.String()
}

// nodeAt is a servertest.Node for a process's URL, to dial it with servertest.Conn.
func nodeAt(p *relayProcess) *servertest.Node { return &servertest.Node{URL: p.url} }

// nextMatching returns the next event of that name whose payload contains s, skipping others.
func nextMatching(t *testing.T, c *servertest.Conn, name, s string) json.RawMessage {
	t.Helper()
	deadline := time.Now().Add(servertest.Timeout)
	for time.Now().Before(deadline) {
		if p, ok := c.TryNext(name, time.Until(deadline)); ok && strings.Contains(string(p), s) {
			return p
		}
	}
	t.Fatalf("no %q event containing %q", name, s)
	return nil
}

// TestNodesEveryFeature runs every feature across three relay processes: a runner daemon
// (`pizzapi runner`) on node A, its sessions spawned and its commands sent through node B's REST
// API, the session (a `pizzapi share --demo` worker the runner starts, on A) watched from node C
// with collab input and commands, the hub on C, a terminal created through B and used from C, and
// messages between sessions on A and C.
func TestNodesEveryFeature(t *testing.T) {
	pc := startProcessCluster(t, 3, false)
	a, b, c := pc.nodes[0], pc.nodes[1], pc.nodes[2]
	u := remoteUser(t, a.url, "features")
	hub := nodeAt(c).Dial(t, "/hub", servertest.DialOptions{User: &u, Cookie: true})
	hub.Next(t, "sessions")

	root := t.TempDir()
	if err := os.WriteFile(root+"/hello.txt", []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startRunner(t, binary(t), t.TempDir(), a.url, u.APIKey, "PIZZAPI_WORKSPACE_ROOTS="+root, "PIZZAPI_RUNNER_NAME=node-a-runner")
	var runners rest.RunnersResponse
	waitFor(t, 15*time.Second, "the runner to show on node B", func() bool {
		restCall(t, "GET", b.url+"/api/runners", u, nil, &runners)
		return len(runners.Runners) == 1
	})
	runnerID := runners.Runners[0].RunnerID

	// A session spawned through B starts on the runner on A; the hub on C sees it.
	var spawned rest.SpawnResponse
	if code := restCall(t, "POST", b.url+"/api/runners/spawn", u, map[string]any{
		"runnerId": runnerID, "cwd": root, "prompt": "start with the flaky test", "model": map[string]any{"provider": "openai", "id": "gpt-5"},
	}, &spawned); code != 200 || spawned.SessionID == "" {
		t.Fatalf("spawn through B: %d %+v; runner log:\n%s", code, spawned, d.stderr)
	}
	nextMatching(t, hub, "session_added", spawned.SessionID)

	// Watched from C: collab input reaches the agent on A, a command's result comes back, and the
	// hub on C follows the rename and counts the viewer.
	v := nodeAt(c).Dial(t, "/viewer", servertest.DialOptions{User: &u, Cookie: true, Auth: map[string]any{"sessionId": spawned.SessionID}})
	v.Next(t, "connected")
	// The worker got the spawn request's prompt and model.
	nextMatching(t, v, "event", "start with the flaky test")
	nextMatching(t, v, "event", `"model":{"provider":"openai","id":"gpt-5"`)
	v.Ack(t, "exec", map[string]any{"id": "abort-1", "command": "abort"}) // the demo's answer
	nextMatching(t, v, "exec_result", "abort-1")
	if ack := v.Ack(t, "input", map[string]any{"text": "hello from node C"}); string(ack) != `{"ok":true}` {
		t.Fatalf("input ack %s", ack)
	}
	nextMatching(t, v, "event", "hello from node C")
	v.Ack(t, "exec", map[string]any{"id": "rename-1", "command": "set_session_name", "name": "across nodes"})
	if res := nextMatching(t, v, "exec_result", "rename-1"); !strings.Contains(string(res), `"ok":true`) {
		t.Fatalf("exec_result %s", res)
	}
	nextMatching(t, hub, "session_status", `"across nodes"`)
	var sessions rest.SessionsResponse
	restCall(t, "GET", b.url+"/api/sessions", u, nil, &sessions)
	if len(sessions.Sessions) != 1 || sessions.Sessions[0].ViewerCount.Or(0) != 1 {
		t.Fatalf("sessions on B: %+v", sessions.Sessions)
	}

	// File commands through B, answered by the runner on A, confined to its roots.
	var files rest.FilesResponse
	if code := restCall(t, "POST", b.url+"/api/runners/"+runnerID+"/files", u, map[string]any{"path": root}, &files); code != 200 || len(files.Files) != 1 {
		t.Fatalf("files through B: %d %+v", code, files)
	}
	var refused map[string]any
	if code := restCall(t, "POST", b.url+"/api/runners/"+runnerID+"/read-file", u, map[string]any{"path": "/etc/passwd"}, &refused); code == 200 {
		t.Fatalf("a file outside the roots was read: %v", refused)
	}

	// A terminal created through B and used from C: a real shell in a PTY on the runner's machine.
	var term rest.TerminalResponse
	if code := restCall(t, "POST", b.url+"/api/runners/terminal", u, map[string]any{"runnerId": runnerID, "cwd": root}, &term); code != 200 {
		t.Fatalf("terminal through B: %d", code)
	}
	tc := nodeAt(c).Dial(t, "/terminal", servertest.DialOptions{User: &u, Cookie: true, Auth: map[string]any{"terminalId": term.TerminalID}})
	tc.Next(t, "terminal_connected")
	tc.Emit(t, "terminal_resize", map[string]any{"cols": 100, "rows": 30})
	tc.Emit(t, "terminal_input", map[string]any{"data": base64.StdEncoding.EncodeToString([]byte("echo pizza-$((6*7))\n"))})
	var screen strings.Builder
	deadline := time.Now().Add(servertest.Timeout)
	for !strings.Contains(screen.String(), "pizza-42") {
		p, ok := tc.TryNext("terminal_data", time.Until(deadline))
		if !ok {
			t.Fatalf("no echo from the shell; screen:\n%s", screen.String())
		}
		var data struct{ Data string }
		_ = json.Unmarshal(p, &data)
		out, _ := base64.StdEncoding.DecodeString(data.Data)
		screen.Write(out)
	}
	tc.Emit(t, "kill_terminal", map[string]any{})
	tc.Next(t, "terminal_exit")

	// Messages between sessions on A and C.
	ca, regA := rawCLI(t, a, u, "msg-from-a")
	cc, _ := rawCLI(t, c, u, "msg-to-c")
	if ack := ca.Ack(t, "session_message", map[string]any{"token": regA.Token, "targetSessionId": "msg-to-c", "message": "from A"}); string(ack) != `{"ok":true}` {
		t.Fatalf("session_message ack %s", ack)
	}
	nextMatching(t, cc, "session_message", "from A")

	// A restart requested through B reaches the runner on A, which exits for its supervisor.
	if code := restCall(t, "POST", b.url+"/api/runners/restart", u, map[string]any{"runnerId": runnerID}, nil); code != 200 {
		t.Fatalf("restart through B: %d", code)
	}
	if code := d.wait(t); code != restartExitCode {
		t.Fatalf("runner exit code %d", code)
	}
}

// rawCLI registers a session on a node with a bare /relay connection.
func rawCLI(t *testing.T, p *relayProcess, u servertest.User, id string) (*servertest.Conn, relay.Registered) {
	t.Helper()
	c := nodeAt(p).Dial(t, "/relay", servertest.DialOptions{User: &u})
	var reg relay.Registered
	if err := reg.UnmarshalJSON(c.Ack(t, "register", map[string]any{"sessionId": id, "cwd": "/tmp"})); err != nil {
		t.Fatal(err)
	}
	return c, reg
}
