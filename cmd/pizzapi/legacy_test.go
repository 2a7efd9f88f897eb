package main

// PizzaPi's old raw-WebSocket clients against a real `pizzapi serve` process, per role, each
// speaking the legacy protocol as pizzapi-legacy-ws.md describes it, mixed with Socket.IO clients
// on the same sessions, runners and terminals.

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
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pizzapi/pizzapi/internal/syncbuf"
	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// startRelay runs one `pizzapi serve` process (SQLite, no Redis) with extra flags and env.
func startRelay(t testing.TB, args []string, env ...string) *relayProcess {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p := &relayProcess{
		name: "single",
		url:  "http://127.0.0.1:" + strconv.Itoa(port),
		log:  &syncbuf.Buffer{},
		args: append([]string{binary(t), "serve", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--data-dir", t.TempDir()}, args...),
	}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("relay log:\n%s", p.log)
		}
		if strings.Contains(p.log.String(), "DATA RACE") || strings.Contains(p.log.String(), "panic:") {
			t.Errorf("relay: data race or panic")
		}
	})
	p.startEnv(t, env)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the relay did not become ready; log:\n%s", p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startEnv starts the process with extra environment variables.
func (p *relayProcess) startEnv(t testing.TB, env []string) {
	t.Helper()
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Env = append(append(os.Environ(), "HOME="+t.TempDir(), "PIZZAPI_LOG_LEVEL=info"), env...)
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

// metric returns the value of a metric line of the process (-1 when absent).
func (p *relayProcess) metric(t *testing.T, line string) int {
	t.Helper()
	resp, err := http.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(line) + ` (\d+)`).FindSubmatch(body)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// waitLogLine waits until the process logged a line containing every part.
func waitLogLine(t *testing.T, p *relayProcess, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(legacyWait)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(p.log.String(), "\n") {
			all := true
			for _, s := range parts {
				all = all && strings.Contains(line, s)
			}
			if all {
				return line
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line with %q", parts)
	return ""
}

// runJS runs a script of test/js against the relay and decodes its one-line JSON result.
func runJS(t *testing.T, p *relayProcess, script string, out any, env ...string) <-chan error {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "test", "js"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "socket.io-client")); err != nil {
		if out, err := exec.Command("npm", "ci", "--prefix", dir, "--no-audit", "--no-fund").CombinedOutput(); err != nil {
			t.Fatalf("npm ci --prefix %s: %v\n%s", dir, err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, script))
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "PIZZAPI_URL="+p.url, "PIZZAPI_JS_WAIT_MS=20000", "PIZZAPI_JS_DEADLINE_MS=60000"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		defer cancel()
		err := cmd.Wait()
		if err == nil {
			err = json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), out)
		}
		if err != nil {
			err = fmt.Errorf("%s: %v\nstdout: %s\nstderr: %s", script, err, stdout.String(), stderr.String())
		}
		done <- err
	}()
	return done
}

// TestLegacyCLIToNewViewer: an old CLI publishes a session that a new browser viewer
// (socket.io-client 4.8 in Node) watches; the viewer's input and command reach the old CLI as
// legacy frames, its exec_result reaches the viewer, and the session's end reaches the viewer.
// The connection logs its deprecation warning once, with user, role and session, and is counted
// per role and in the namespace metrics.
func TestLegacyCLIToNewViewer(t *testing.T) {
	p := startRelay(t, nil)
	u := remoteUser(t, p.url, "oldcli")
	sid := "legacy-cli-1"
	cli := registerOldCLI(t, p.url, u, sid)
	first := cli.event(sessionActive("old"))
	owner := userID(t, p, u)

	var res struct {
		Hello    map[string]any    `json:"hello"`
		InputAck map[string]any    `json:"inputAck"`
		ExecAck  map[string]any    `json:"execAck"`
		Result   map[string]any    `json:"result"`
		Ended    map[string]string `json:"ended"`
		Events   []struct {
			Event map[string]any `json:"event"`
			Seq   int64          `json:"seq"`
		} `json:"events"`
	}
	done := runJS(t, p, "legacy-viewer.mjs", &res, "PIZZAPI_COOKIE="+accountsCookie(u), "PIZZAPI_SESSION_ID="+sid)

	cli.next("connected", nil) // the viewer's greeting
	cli.event(textDelta("from the old CLI"))
	in := cli.next("input", nil)
	if str(in["text"]) != "from the new viewer" || string(in["attachments"]) != "[]" || str(in["client"]) != "web" {
		t.Errorf("input frame: %v", in)
	}
	exec := cli.next("exec", nil)
	if str(exec["id"]) != "x-1" || str(exec["command"]) != "abort" {
		t.Errorf("exec frame: %v", exec)
	}
	cli.send(map[string]any{"type": "exec_result", "id": "x-1", "ok": true, "command": "abort", "result": map[string]any{"aborted": true}})
	// The relay handles a connection's frames in order: the result reaches the viewer before the end.
	cli.end()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if res.InputAck["ok"] != true || res.ExecAck["ok"] != true {
		t.Errorf("acks: input %v exec %v", res.InputAck, res.ExecAck)
	}
	if res.Result["ok"] != true || res.Result["command"] != "abort" {
		t.Errorf("exec_result: %v", res.Result)
	}
	if res.Ended["reason"] != "Session ended" {
		t.Errorf("disconnected: %v", res.Ended)
	}
	// Gap-free: the snapshot carries the connected lastSeq, live events follow one by one.
	last := int64(-1)
	for _, e := range res.Events {
		if last >= 0 && e.Seq != last && e.Seq != last+1 {
			t.Errorf("gap in the viewer's numbers: %d after %d", e.Seq, last)
		}
		last = e.Seq
	}
	if n := len(res.Events); n < 2 || res.Events[n-1].Event["type"] != "message_update" || res.Events[n-1].Seq < int64(first)+1 {
		t.Errorf("viewer events: %+v", res.Events)
	}

	line := waitLogLine(t, p, "legacy raw WebSocket connection", "role=tui")
	if !strings.Contains(line, "user="+owner) || !strings.Contains(line, "session="+sid) {
		t.Errorf("deprecation warning: %s", line)
	}
	if n := strings.Count(p.log.String(), "legacy raw WebSocket connection"); n != 1 {
		t.Errorf("%d deprecation warnings for one connection", n)
	}
	if n := p.metric(t, `pizzapi_legacy_connections_total{role="tui"}`); n != 1 {
		t.Errorf("pizzapi_legacy_connections_total{role=tui} = %d", n)
	}
	if n := p.metric(t, `pizzapi_events_received_total{event="event",namespace="/relay"}`); n < 2 {
		t.Errorf("legacy events not counted in the /relay metrics: %d", n)
	}
}

// accountsCookie is the Cookie header value of the user's browser session.
func accountsCookie(u servertest.User) string {
	return legacyHeaders(u, true).Get("Cookie")
}

// userID looks the user's id up through REST.
func userID(t *testing.T, p *relayProcess, u servertest.User) string {
	t.Helper()
	var sessions rest.SessionsResponse
	restCall(t, http.MethodGet, p.url+"/api/sessions", u, nil, &sessions)
	for _, s := range sessions.Sessions {
		if id, ok := s.UserID.Get(); ok && id != "" {
			return id
		}
	}
	t.Fatal("no session of the user to read the user id from")
	return ""
}

// TestLegacyViewerOfNewCLI: an old browser viewer watches a session a Socket.IO CLI publishes:
// the connected frame and snapshot, live events numbered without gaps, its greeting, input
// (with the old UI's attachment fields), command and the exec_result as a top-level frame, and
// the close with 1000 at the end; then the snapshot replay of the ended session and the refusal
// of one that never existed.
func TestLegacyViewerOfNewCLI(t *testing.T) {
	p := startRelay(t, nil)
	u := remoteUser(t, p.url, "oldviewer")
	cli, reg := rawCLI(t, p, u, "legacy-viewer-1")
	emit := func(seq int, ev map[string]any) {
		cli.Emit(t, "event", map[string]any{"sessionId": reg.SessionID, "token": reg.Token, "seq": seq, "event": ev})
		nextMatching(t, cli, "event_ack", `"seq":`+strconv.Itoa(seq))
	}
	emit(1, sessionActive("new"))

	v := dialLegacy(t, p.url, "/ws/sessions/"+reg.SessionID, legacyHeaders(u, true))
	hello := v.next("connected", nil)
	if str(hello["sessionId"]) != reg.SessionID || num(hello["lastSeq"]) < 1 {
		t.Fatalf("connected frame: %v", hello)
	}
	snap := v.next("event", nil)
	if !strings.Contains(string(snap["event"]), "session_active") || num(snap["seq"]) != num(hello["lastSeq"]) {
		t.Errorf("snapshot frame: %v", snap)
	}
	v.send(map[string]any{"type": "connected"})
	cli.Next(t, "connected")
	for i := 2; i <= 6; i++ {
		emit(i, textDelta("d"+strconv.Itoa(i)))
	}
	last := num(snap["seq"])
	for i := 2; i <= 6; i++ {
		f := v.next("event", nil)
		if num(f["seq"]) != last+1 || !strings.Contains(string(f["event"]), `"d`+strconv.Itoa(i)+`"`) {
			t.Fatalf("event frame %d: %v after seq %d", i, f, last)
		}
		last = num(f["seq"])
	}

	// The old UI asks for a snapshot when it sees a gap: stamped with the current number.
	v.send(map[string]any{"type": "resync"})
	if f := v.next("event", nil); num(f["seq"]) != last || !strings.Contains(string(f["event"]), "session_active") {
		t.Errorf("resync snapshot: %s, want seq %d", show(f), last)
	}
	v.send(map[string]any{"type": "input", "text": "hello from the old UI", "client": "web",
		"attachments": []any{map[string]any{"attachmentId": "a1", "filename": "x.png", "mediaType": "image/png", "size": 3, "expiresAt": "2026-02-22T20:01:00.000Z"}}})
	in := nextMatching(t, cli, "input", "hello from the old UI")
	if strings.Contains(string(in), "size") || strings.Contains(string(in), "expiresAt") || !strings.Contains(string(in), `"attachmentId":"a1"`) {
		t.Errorf("input the CLI got: %s", in)
	}
	v.send(map[string]any{"type": "exec", "id": "1764-ab", "command": "compact", "customInstructions": "short"})
	ex := nextMatching(t, cli, "exec", "1764-ab")
	if strings.Contains(string(ex), `"type"`) || !strings.Contains(string(ex), "customInstructions") {
		t.Errorf("exec the CLI got: %s", ex)
	}
	cli.Emit(t, "exec_result", map[string]any{"id": "1764-ab", "ok": true, "command": "compact", "result": map[string]any{"done": true}})
	res := v.next("exec_result", nil)
	if str(res["id"]) != "1764-ab" || string(res["ok"]) != "true" || str(res["command"]) != "compact" {
		t.Errorf("exec_result frame: %v", res)
	}

	cli.Emit(t, "session_end", map[string]any{"sessionId": reg.SessionID, "token": reg.Token})
	if d := v.next("disconnected", nil); str(d["reason"]) != "Session ended" {
		t.Errorf("disconnected frame: %v", d)
	}
	if code, text := v.waitClosed(); code != 1000 || text != "Session ended" {
		t.Errorf("close: %d %q, want 1000 Session ended", code, text)
	}

	replay := dialLegacy(t, p.url, "/ws/sessions/"+reg.SessionID, legacyHeaders(u, true))
	if h := replay.next("connected", nil); string(h["replayOnly"]) != "true" {
		t.Errorf("replay connected frame: %v", h)
	}
	replay.next("event", nil)
	replay.next("disconnected", nil)
	if code, text := replay.waitClosed(); code != 1000 || text != "Snapshot replay complete" {
		t.Errorf("replay close: %d %q", code, text)
	}

	missing := dialLegacy(t, p.url, "/ws/sessions/no-such-session", legacyHeaders(u, true))
	if e := missing.next("error", nil); str(e["message"]) != "Session not found" {
		t.Errorf("error frame: %v", e)
	}
	if code, text := missing.waitClosed(); code != 1008 || text != "Session not found" {
		t.Errorf("missing session close: %d %q", code, text)
	}
	waitLogLine(t, p, "legacy raw WebSocket connection", "role=viewer", "session="+reg.SessionID)
}

// legacyRunner is the old runner daemon: it registers on /ws/runner and sends runnerId in every
// frame.
type legacyRunner struct {
	*legacyClient
	id string
}

func registerOldRunner(t *testing.T, base, path string, h http.Header, id, secret string, roots []string) *legacyRunner {
	t.Helper()
	r := &legacyRunner{legacyClient: dialLegacy(t, base, path, h), id: id}
	r.send(map[string]any{"type": "register_runner", "runnerId": id, "runnerSecret": secret, "name": "old-daemon", "roots": roots,
		"skills": []any{map[string]any{"name": "deploy", "description": "Deploys", "filePath": "/skills/deploy.md"}}})
	if got := str(r.next("runner_registered", nil)["runnerId"]); got != id {
		t.Fatalf("runner_registered %q, want %q", got, id)
	}
	return r
}

func (r *legacyRunner) frame(typ string, fields map[string]any) {
	fields["type"], fields["runnerId"] = typ, r.id
	r.send(fields)
}

// TestLegacyRunnerSpawnAndTerminal: an old runner daemon registers (also through the doubled
// /ws/sessions/ws/runner URL the old daemon builds), a session is spawned on it through REST and
// its worker registers as an old CLI, linked to the runner; a terminal created through REST is
// used from an old browser terminal, the PTY spawned on the first resize, bytes both ways, kill
// and exit. A wrong secret, an unknown terminal and another user's terminal are refused with
// 1008.
func TestLegacyRunnerSpawnAndTerminal(t *testing.T) {
	p := startRelay(t, nil)
	u := remoteUser(t, p.url, "oldrunner")
	other := remoteUser(t, p.url, "someoneelse")
	root := t.TempDir()
	const runnerID, secret = "3b0e3c1e-2d7f-4a57-9a0c-0e4d3f1b2a10", "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
	r := registerOldRunner(t, p.url, "/ws/runner", legacyHeaders(u, false), runnerID, secret, []string{root})

	var runners rest.RunnersResponse
	restCall(t, http.MethodGet, p.url+"/api/runners", u, nil, &runners)
	if len(runners.Runners) != 1 || runners.Runners[0].RunnerID != runnerID || len(runners.Runners[0].Skills) != 1 {
		t.Fatalf("runners: %+v", runners)
	}

	// Spawn through REST: the runner gets new_session and answers session_ready.
	spawned := make(chan rest.SpawnResponse, 1)
	go func() {
		var res rest.SpawnResponse
		restCall(t, http.MethodPost, p.url+"/api/runners/spawn", u, map[string]any{"runnerId": runnerID, "cwd": root, "prompt": "hi"}, &res)
		spawned <- res
	}()
	ns := r.next("new_session", nil)
	sid := str(ns["sessionId"])
	if sid == "" || str(ns["cwd"]) != root || str(ns["prompt"]) != "hi" {
		t.Fatalf("new_session frame: %v", ns)
	}
	r.frame("session_ready", map[string]any{"sessionId": sid})
	if res := <-spawned; !res.OK || res.SessionID != sid {
		t.Fatalf("spawn: %+v", res)
	}
	worker := registerOldCLI(t, p.url, u, sid)
	worker.event(sessionActive("spawned"))
	var sessions rest.SessionsResponse
	restCall(t, http.MethodGet, p.url+"/api/sessions", u, nil, &sessions)
	if len(sessions.Sessions) != 1 || sessions.Sessions[0].RunnerID == nil || *sessions.Sessions[0].RunnerID != runnerID {
		t.Errorf("the spawned session is not linked to the runner: %+v", sessions.Sessions)
	}

	// A terminal from REST, used from the old browser terminal.
	var term rest.TerminalResponse
	if code := restCall(t, http.MethodPost, p.url+"/api/runners/terminal", u, map[string]any{"runnerId": runnerID, "cwd": root}, &term); code != http.StatusOK {
		t.Fatalf("terminal: %d", code)
	}
	tc := dialLegacy(t, p.url, "/ws/terminal/"+term.TerminalID, legacyHeaders(u, true))
	tc.next("terminal_connected", nil)
	tc.send(map[string]any{"type": "terminal_resize", "cols": 100, "rows": 30})
	nt := r.next("new_terminal", nil)
	if str(nt["terminalId"]) != term.TerminalID || num(nt["cols"]) != 100 || num(nt["rows"]) != 30 || str(nt["cwd"]) != root {
		t.Fatalf("new_terminal frame: %v", nt)
	}
	r.frame("terminal_ready", map[string]any{"terminalId": term.TerminalID})
	r.frame("terminal_data", map[string]any{"terminalId": term.TerminalID, "data": base64.StdEncoding.EncodeToString([]byte("$ "))})
	tc.next("terminal_ready", nil)
	if d := tc.next("terminal_data", nil); str(d["data"]) != base64.StdEncoding.EncodeToString([]byte("$ ")) || str(d["terminalId"]) != term.TerminalID {
		t.Errorf("terminal_data frame: %v", d)
	}
	tc.send(map[string]any{"type": "terminal_input", "data": base64.StdEncoding.EncodeToString([]byte("ls\r"))})
	if in := r.next("terminal_input", nil); str(in["terminalId"]) != term.TerminalID || str(in["data"]) != base64.StdEncoding.EncodeToString([]byte("ls\r")) {
		t.Errorf("terminal_input frame: %v", in)
	}
	tc.send(map[string]any{"type": "terminal_resize", "cols": 120, "rows": 40})
	if rs := r.next("terminal_resize", nil); num(rs["cols"]) != 120 {
		t.Errorf("terminal_resize frame: %v", rs)
	}
	tc.send(map[string]any{"type": "kill_terminal"})
	r.next("kill_terminal", nil)
	r.frame("terminal_exit", map[string]any{"terminalId": term.TerminalID, "exitCode": -1})
	if e := tc.next("terminal_exit", nil); num(e["exitCode"]) != -1 {
		t.Errorf("terminal_exit frame: %v", e)
	}

	// Refusals with their close codes.
	unknown := dialLegacy(t, p.url, "/ws/terminal/no-such-terminal", legacyHeaders(u, true))
	if e := unknown.next("terminal_error", nil); str(e["message"]) != "Terminal not found" {
		t.Errorf("terminal_error: %v", e)
	}
	if code, text := unknown.waitClosed(); code != 1008 || text != "Terminal not found" {
		t.Errorf("unknown terminal close: %d %q", code, text)
	}
	restCall(t, http.MethodPost, p.url+"/api/runners/terminal", u, map[string]any{"runnerId": runnerID}, &term)
	foreign := dialLegacy(t, p.url, "/ws/terminal/"+term.TerminalID, legacyHeaders(other, true))
	foreign.next("terminal_error", nil)
	if code, text := foreign.waitClosed(); code != 1008 || text != "Forbidden" {
		t.Errorf("other user's terminal close: %d %q", code, text)
	}
	impostor := dialLegacy(t, p.url, "/ws/runner", legacyHeaders(u, false))
	impostor.send(map[string]any{"type": "register_runner", "runnerId": runnerID, "runnerSecret": strings.Repeat("0", 64), "name": "x", "roots": []any{}, "skills": []any{}})
	if e := impostor.next("error", nil); !strings.Contains(str(e["message"]), "secret mismatch") {
		t.Errorf("error frame: %v", e)
	}
	if code, text := impostor.waitClosed(); code != 1008 || !strings.Contains(text, "secret mismatch") {
		t.Errorf("secret mismatch close: %d %q", code, text)
	}
	if !r.isOpen() {
		t.Error("the registered runner was disconnected by the impostor")
	}

	// The old daemon appends /ws/runner to a relay URL that already ends in /ws/sessions.
	r.close()
	doubled := registerOldRunner(t, p.url, "/ws/sessions/ws/runner", http.Header{"Authorization": {"Bearer " + u.APIKey}}, runnerID, secret, []string{root})
	doubled.close()
	waitLogLine(t, p, "doubled /ws/ path served as /ws/runner")
	waitLogLine(t, p, "legacy raw WebSocket connection", "role=runner", "runner="+runnerID)
	waitLogLine(t, p, "legacy raw WebSocket connection", "role=terminal", "terminal=")
}

// TestLegacyHub: an old browser session list gets the user's sessions, then additions, status
// and removals as sessions of old and new CLIs come and go; other users' sessions stay out.
func TestLegacyHub(t *testing.T) {
	p := startRelay(t, nil)
	u := remoteUser(t, p.url, "oldhub")
	other := remoteUser(t, p.url, "otherhub")
	old := registerOldCLI(t, p.url, u, "hub-old-cli")
	h := dialLegacy(t, p.url, "/ws/hub", legacyHeaders(u, true))
	list := h.next("sessions", nil)
	if !strings.Contains(string(list["sessions"]), "hub-old-cli") {
		t.Errorf("sessions frame: %v", list)
	}
	registerOldCLI(t, p.url, other, "hub-other-user")
	cli, reg := rawCLI(t, p, u, "hub-new-cli")
	if a := h.next("session_added", nil); str(a["sessionId"]) != "hub-new-cli" {
		t.Errorf("session_added frame: %v", a)
	}
	old.event(sessionActive("renamed"))
	h.next("session_status", func(f map[string]json.RawMessage) bool { return str(f["sessionId"]) == "hub-old-cli" })
	cli.Emit(t, "session_end", map[string]any{"sessionId": reg.SessionID, "token": reg.Token})
	if r := h.next("session_removed", nil); str(r["sessionId"]) != "hub-new-cli" {
		t.Errorf("session_removed frame: %v", r)
	}
	old.end()
	h.next("session_removed", func(f map[string]json.RawMessage) bool { return str(f["sessionId"]) == "hub-old-cli" })
	for _, f := range append(h.all("session_added"), h.all("session_status")...) {
		if str(f["sessionId"]) == "hub-other-user" {
			t.Errorf("another user's session reached the hub: %v", f)
		}
	}
	waitLogLine(t, p, "legacy raw WebSocket connection", "role=hub")
}

// TestLegacyBadFrames: PizzaPi's "Invalid JSON" error frame for a frame that is not JSON, and an
// error frame naming the problem for a frame of no or unknown type, one that does not match the
// contract and one with a wrong token; the connection stays open and keeps working. A frame over
// the limit closes with 1009. Bad credentials, missing ids and other /ws/ paths are refused
// before the upgrade, as PizzaPi did.
func TestLegacyBadFrames(t *testing.T) {
	p := startRelay(t, []string{"--max-message-bytes", strconv.Itoa(16 << 20)})
	u := remoteUser(t, p.url, "badframes")
	c := dialLegacy(t, p.url, "/ws/sessions", legacyHeaders(u, false))
	expect := func(frame, message string) {
		t.Helper()
		c.sendRaw(frame)
		if e := c.next("error", nil); !strings.Contains(str(e["message"]), message) {
			t.Errorf("%s: error %s, want %q", frame, show(e), message)
		}
	}
	expect(`{"type":"register",`, "Invalid JSON")
	expect(`not json at all`, "Invalid JSON")
	expect(`[1,2,3]`, "JSON object")
	expect(`{"cwd":"/x"}`, `no "type"`)
	expect(`{"type":"ping"}`, `unknown frame type "ping"`)
	expect(`{"type":"register","cwd":5}`, "/cwd")
	expect(`{"type":"event","sessionId":"s","token":"wrong","event":{"type":"agent_start"},"seq":1}`, "Invalid token")
	cli := &oldCLI{legacyClient: c}
	cli.register("bad-frames-session")
	cli.event(sessionActive("still works"))
	if !c.isOpen() {
		t.Fatal("a bad frame closed the connection")
	}
	if n := p.metric(t, `pizzapi_events_invalid_total{event="register",namespace="/relay"}`); n < 1 {
		t.Errorf("invalid register not counted: %d", n)
	}

	big := dialLegacy(t, p.url, "/ws/sessions", legacyHeaders(u, false))
	_ = big.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"register","cwd":"`+strings.Repeat("x", 17<<20)+`"}`))
	if code, _ := big.waitClosed(); code != 1009 {
		t.Errorf("oversized frame close code %d, want 1009", code)
	}

	for _, tc := range []struct {
		path   string
		header http.Header
		status int
		body   string
	}{
		{"/ws/sessions", nil, 401, "Missing API key (x-api-key header)"},
		{"/ws/sessions", http.Header{"x-api-key": {"pzp_wrong"}}, 401, "Invalid or expired API key"},
		{"/ws/runner", nil, 401, "Unauthorized"},
		{"/ws/hub", nil, 401, "Unauthorized"},
		{"/ws/sessions/x", http.Header{"Cookie": {"pizzapi_session=forged"}}, 401, "Unauthorized"},
		{"/ws/sessions/", legacyHeaders(u, true), 400, "Missing session ID"},
		{"/ws/terminal/", legacyHeaders(u, true), 400, "Missing terminal ID"},
		{"/ws/elsewhere", legacyHeaders(u, true), 404, `{"error":"Not found"}`},
		{"/ws/hub", http.Header{"Cookie": legacyHeaders(u, true)["Cookie"], "Origin": {"https://evil.example"}}, 403, "Origin not allowed"},
	} {
		status, body := refusedLegacy(t, p.url, tc.path, tc.header)
		if status != tc.status || body != tc.body {
			t.Errorf("%s: %d %q, want %d %q", tc.path, status, body, tc.status, tc.body)
		}
	}
	// Old clients retry a refusal forever: the refusal is logged once per address.
	for range 3 {
		refusedLegacy(t, p.url, "/ws/sessions", nil)
	}
	if n := strings.Count(p.log.String(), "Missing API key"); n != 1 {
		t.Errorf("refusal logged %d times, want once", n)
	}
}

// TestLegacySwitchedOff: with PIZZAPI_LEGACY_WS=false (and with --legacy-ws=false) every /ws/ path
// answers 410 with PizzaPi's message, before authentication, while Socket.IO keeps working.
func TestLegacySwitchedOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  []string
	}{
		{"env", nil, []string{"PIZZAPI_LEGACY_WS=false"}},
		{"flag", []string{"--legacy-ws=false"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startRelay(t, tc.args, tc.env...)
			u := remoteUser(t, p.url, "switch"+tc.name)
			for _, path := range []string{"/ws/sessions", "/ws/sessions/abc", "/ws/runner", "/ws/terminal/t", "/ws/hub", "/ws/anything"} {
				status, body := refusedLegacy(t, p.url, path, legacyHeaders(u, false))
				if status != http.StatusGone || body != "Legacy WebSocket endpoint is deprecated. Please upgrade to Socket.IO client." {
					t.Errorf("%s: %d %q", path, status, body)
				}
			}
			resp, err := http.Get(p.url + "/ws/sessions")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusGone || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
				t.Errorf("plain GET: %s %s", resp.Status, resp.Header.Get("Content-Type"))
			}
			rawCLI(t, p, u, "socketio-still-works")
		})
	}
}

// TestLegacyStaleSocket: an old CLI that reconnects and registers its session again while its
// first socket is still half open (PizzaPi's /remote reconnect does this) keeps the new session
// when the stale socket closes later (PizzaPi's server ended it), and the stale socket's token no
// longer publishes into it. Viewers keep receiving.
func TestLegacyStaleSocket(t *testing.T) {
	p := startRelay(t, nil)
	u := remoteUser(t, p.url, "stale")
	first := registerOldCLI(t, p.url, u, "stale-1")
	first.event(sessionActive("one"))
	second := registerOldCLI(t, p.url, u, "stale-1")
	second.event(sessionActive("two"))
	v := nodeAt(p).Dial(t, "/viewer", servertest.DialOptions{User: &u, Cookie: true, Auth: map[string]any{"sessionId": "stale-1"}})
	v.Next(t, "connected")
	// The stale socket's token no longer publishes into the session registered again.
	first.send(map[string]any{"type": "event", "sessionId": "stale-1", "token": first.token, "seq": 9, "event": textDelta("stale")})
	if e := first.next("error", nil); str(e["message"]) != "Invalid token" {
		t.Errorf("stale socket's event: %s", show(e))
	}
	first.close()
	waitLogLine(t, p, "legacy raw WebSocket connection", "role=tui", "session=stale-1")
	second.event(textDelta("after the stale close"))
	nextMatching(t, v, "event", "after the stale close")
	var sessions rest.SessionsResponse
	restCall(t, http.MethodGet, p.url+"/api/sessions", u, nil, &sessions)
	if len(sessions.Sessions) != 1 || sessions.Sessions[0].SessionID != "stale-1" {
		t.Errorf("sessions after the stale socket closed: %+v", sessions.Sessions)
	}
}

// TestLegacyAcrossNodes: an old CLI on node A and a new viewer (Socket.IO) on node B share one
// session through Redis: live events numbered without gaps, the viewer's input back to the old
// CLI, an old viewer on B as well, and the end reaching both.
func TestLegacyAcrossNodes(t *testing.T) {
	pc := startProcessCluster(t, 2, false)
	a, b := pc.nodes[0], pc.nodes[1]
	u := remoteUser(t, a.url, "crossnode")
	cli := registerOldCLI(t, a.url, u, "cross-1")
	cli.event(sessionActive("cross"))

	v := nodeAt(b).Dial(t, "/viewer", servertest.DialOptions{User: &u, Cookie: true, Auth: map[string]any{"sessionId": "cross-1"}})
	v.Next(t, "connected")
	old := dialLegacy(t, b.url, "/ws/sessions/cross-1", legacyHeaders(u, true))
	old.next("connected", nil)
	var mu sync.Mutex
	var seqs []int64
	for i := range 10 {
		cli.event(textDelta("n" + strconv.Itoa(i)))
	}
	for i := range 10 {
		raw := nextMatching(t, v, "event", `"n`+strconv.Itoa(i)+`"`)
		var e struct{ Seq int64 }
		_ = json.Unmarshal(raw, &e)
		mu.Lock()
		seqs = append(seqs, e.Seq)
		mu.Unlock()
		f := old.next("event", func(f map[string]json.RawMessage) bool {
			return strings.Contains(string(f["event"]), `"n`+strconv.Itoa(i)+`"`)
		})
		if num(f["seq"]) != e.Seq {
			t.Errorf("old viewer seq %d, new viewer seq %d", num(f["seq"]), e.Seq)
		}
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Errorf("gap across nodes: %v", seqs)
		}
	}
	if ack := v.Ack(t, "input", map[string]any{"text": "from node B", "attachments": []any{}, "client": "web"}); !strings.Contains(string(ack), `"ok":true`) {
		t.Errorf("input ack: %s", ack)
	}
	if in := cli.next("input", nil); str(in["text"]) != "from node B" {
		t.Errorf("input frame on node A: %v", in)
	}
	cli.end()
	nextMatching(t, v, "disconnected", "Session ended")
	if code, _ := old.waitClosed(); code != 1000 {
		t.Errorf("old viewer on node B closed with %d", code)
	}
}

// TestLegacyExpiryAndShutdown: an old CLI whose ephemeral session expires gets session_expired and
// the close 1001 "Session expired" (it then registers again, and the session comes back); at
// SIGTERM the node closes its legacy connections with 1001 and exits cleanly.
func TestLegacyExpiryAndShutdown(t *testing.T) {
	p := startRelay(t, []string{"--ephemeral-ttl-ms", "1500", "--sweep-interval-ms", "200"})
	u := remoteUser(t, p.url, "expiry")
	cli := registerOldCLI(t, p.url, u, "expiring")
	if e := cli.next("session_expired", nil); str(e["sessionId"]) != "expiring" {
		t.Errorf("session_expired frame: %s", show(e))
	}
	if code, text := cli.waitClosed(); code != 1001 || text != "Session expired" {
		t.Errorf("expiry close: %d %q", code, text)
	}
	again := registerOldCLI(t, p.url, u, "expiring")
	again.event(sessionActive("back"))
	h := dialLegacy(t, p.url, "/ws/hub", legacyHeaders(u, true))
	h.next("sessions", nil)
	p.terminate(t)
	for _, c := range []*legacyClient{again.legacyClient, h} {
		if code, _ := c.waitClosed(); code != 1001 {
			t.Errorf("close at shutdown: %d, want 1001", code)
		}
	}
}
