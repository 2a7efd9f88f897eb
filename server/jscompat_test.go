package server_test

// Wire compatibility with PizzaPi's JavaScript clients: the Node scripts in test/js connect the
// socket.io-client version PizzaPi ships (4.8.4) to a real relay node the way PizzaPi's CLI,
// runner daemon and browser do, drive a scenario, and print what they received as one JSON line;
// these tests check it. The scripts' dependencies are installed with `npm ci` on first use.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/hub"
	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/runner"
	"github.com/pizzapi/pizzapi/protocol/terminal"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/core"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// socketIOClientVersion is the socket.io-client PizzaPi's clients use (pinned in test/js).
const socketIOClientVersion = "4.8.4"

// Bounds of one script: a single wait, and the whole script (the Go side allows a little more).
const (
	jsWait     = 5 * time.Second
	jsDeadline = 20 * time.Second
)

var jsSetup struct {
	once sync.Once
	node string
	dir  string
	err  error
}

// jsScripts returns the node binary and the test/js directory, installing the scripts'
// dependencies with `npm ci` (once per test binary) when they are missing.
func jsScripts(t *testing.T) (node, dir string) {
	t.Helper()
	jsSetup.once.Do(func() {
		jsSetup.dir, jsSetup.err = filepath.Abs(filepath.Join("..", "test", "js"))
		if jsSetup.err != nil {
			return
		}
		if jsSetup.node, jsSetup.err = exec.LookPath("node"); jsSetup.err != nil {
			jsSetup.err = fmt.Errorf("node not found in PATH (%v): the JS compatibility tests need Node.js 20 and npm", jsSetup.err)
			return
		}
		if jsInstalled(jsSetup.dir) {
			return
		}
		npm, err := exec.LookPath("npm")
		if err != nil {
			jsSetup.err = fmt.Errorf("npm not found in PATH (%v): the JS compatibility tests need Node.js 20 and npm to install %s (npm ci --prefix test/js)", err, filepath.Join(jsSetup.dir, "node_modules"))
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--prefix", jsSetup.dir, "--no-audit", "--no-fund")
		if out, err := cmd.CombinedOutput(); err != nil {
			jsSetup.err = fmt.Errorf("npm ci --prefix %s: %v\n%s", jsSetup.dir, err, out)
			return
		}
		if !jsInstalled(jsSetup.dir) {
			jsSetup.err = fmt.Errorf("npm ci --prefix %s did not install socket.io-client %s", jsSetup.dir, socketIOClientVersion)
		}
	})
	if jsSetup.err != nil {
		t.Fatal(jsSetup.err)
	}
	return jsSetup.node, jsSetup.dir
}

// jsInstalled reports whether test/js/node_modules holds the pinned socket.io-client.
func jsInstalled(dir string) bool {
	raw, err := os.ReadFile(filepath.Join(dir, "node_modules", "socket.io-client", "package.json"))
	if err != nil {
		return false
	}
	var pkg struct{ Version string }
	return json.Unmarshal(raw, &pkg) == nil && pkg.Version == socketIOClientVersion
}

// jsProc is a running script.
type jsProc struct {
	name           string
	cmd            *exec.Cmd
	cancel         context.CancelFunc
	stdin          io.WriteCloser
	stdout, stderr bytes.Buffer
	started        time.Time
}

// startJS starts a script of test/js with the node's URL and env (NAME=value pairs).
func startJS(t *testing.T, n *servertest.Node, script string, env ...string) *jsProc {
	t.Helper()
	node, dir := jsScripts(t)
	ctx, cancel := context.WithTimeout(context.Background(), jsDeadline+10*time.Second)
	p := &jsProc{name: script, cancel: cancel, started: time.Now()}
	p.cmd = exec.CommandContext(ctx, node, filepath.Join(dir, script))
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(),
		"PIZZAPI_URL="+n.URL,
		fmt.Sprintf("PIZZAPI_JS_WAIT_MS=%d", jsWait.Milliseconds()),
		fmt.Sprintf("PIZZAPI_JS_DEADLINE_MS=%d", jsDeadline.Milliseconds()),
	)
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.cmd.WaitDelay = 2 * time.Second
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", script, err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
		cancel()
	})
	return p
}

// finish closes the script's stdin, waits for it to exit and decodes its result line into out.
func (p *jsProc) finish(t *testing.T, out any) {
	t.Helper()
	_ = p.stdin.Close()
	err := p.cmd.Wait()
	p.cancel()
	if os.Getenv("PIZZAPI_JS_DEBUG") != "" || err != nil {
		t.Logf("%s stderr:\n%s", p.name, p.stderr.String())
	}
	if err != nil {
		t.Fatalf("%s failed after %v: %v", p.name, time.Since(p.started).Round(time.Millisecond), err)
	}
	line := bytes.TrimSpace(p.stdout.Bytes())
	if i := bytes.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	if err := json.Unmarshal(line, out); err != nil {
		t.Fatalf("%s: result is not JSON (%v): %q", p.name, err, p.stdout.String())
	}
	var meta struct{ ElapsedMs int }
	_ = json.Unmarshal(line, &meta)
	t.Logf("%s: %d ms in node, %v in total", p.name, meta.ElapsedMs, time.Since(p.started).Round(time.Millisecond))
}

// runJS runs a script to completion and decodes its result into out.
func runJS(t *testing.T, n *servertest.Node, script string, out any, env ...string) {
	t.Helper()
	startJS(t, n, script, env...).finish(t, out)
}

// jsEntry is one thing a JS socket received: a server event, or "$connect", "$connect_error",
// "$disconnect", "$upgrade".
type jsEntry struct {
	Name    string          `json:"name"`
	Payload json.RawMessage `json:"payload"`
	Args    *int            `json:"args"`
}

// jsSocket is the report of one JS socket.
type jsSocket struct {
	Log              []jsEntry `json:"log"`
	InitialTransport string    `json:"initialTransport"`
	Transport        string    `json:"transport"`
}

// events returns the payloads of the server events named name, in arrival order.
func (s jsSocket) events(name string) []json.RawMessage {
	var out []json.RawMessage
	for _, e := range s.Log {
		if e.Name == name {
			out = append(out, e.Payload)
		}
	}
	return out
}

func (s jsSocket) has(name string) bool { return len(s.events(name)) > 0 }

// order returns the names in the log without transport upgrades, whose timing relative to the
// namespace's events depends on the network.
func (s jsSocket) order() []string {
	var out []string
	for _, e := range s.Log {
		if e.Name != "$upgrade" {
			out = append(out, e.Name)
		}
	}
	return out
}

type dispatchFunc func(ctx context.Context, event string, payload []byte) error

// checkContract decodes every server event the socket received with the namespace's generated
// client decoder: each must be an event of the contract with a payload that matches it, and
// carry exactly one argument (plus, on the first event of a connection, the recovery offset).
func (s jsSocket) checkContract(t *testing.T, who string, dispatch dispatchFunc) {
	t.Helper()
	for i, e := range s.Log {
		if strings.HasPrefix(e.Name, "$") {
			continue
		}
		if e.Args != nil {
			t.Errorf("%s: event %d %q carried %d arguments, PizzaPi clients expect exactly one", who, i, e.Name, *e.Args)
		}
		err := dispatch(context.Background(), e.Name, e.Payload)
		if err != nil && !errors.Is(err, protocol.ErrUnimplemented) {
			t.Errorf("%s: event %d %q %s does not match the contract: %v", who, i, e.Name, e.Payload, err)
		}
	}
}

// checkBrowserTransport checks that a browser-style socket started with long-polling and was
// upgraded to WebSocket.
func (s jsSocket) checkBrowserTransport(t *testing.T, who string) {
	t.Helper()
	if s.InitialTransport != "polling" || s.Transport != "websocket" || !s.has("$upgrade") {
		t.Errorf("%s: transports %q -> %q (upgrade seen: %v), want polling -> websocket", who, s.InitialTransport, s.Transport, s.has("$upgrade"))
	}
}

func relayContract(ctx context.Context, ev string, p []byte) error {
	_, err := relay.DispatchClient(ctx, relay.UnimplementedClientHandler{}, ev, p)
	return err
}

func viewerContract(ctx context.Context, ev string, p []byte) error {
	_, err := viewer.DispatchClient(ctx, viewer.UnimplementedClientHandler{}, ev, p)
	return err
}

func hubContract(ctx context.Context, ev string, p []byte) error {
	_, err := hub.DispatchClient(ctx, hub.UnimplementedClientHandler{}, ev, p)
	return err
}

func runnerContract(ctx context.Context, ev string, p []byte) error {
	_, err := runner.DispatchClient(ctx, runner.UnimplementedClientHandler{}, ev, p)
	return err
}

func terminalContract(ctx context.Context, ev string, p []byte) error {
	_, err := terminal.DispatchClient(ctx, terminal.UnimplementedClientHandler{}, ev, p)
	return err
}

// jsonEqual reports whether two JSON texts hold the same value.
func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// wantJSON fails unless got holds the same JSON value as want.
func wantJSON(t *testing.T, what string, got json.RawMessage, want string) {
	t.Helper()
	if !jsonEqual(got, json.RawMessage(want)) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func decode[T any](t *testing.T, what string, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v in %s", what, err, raw)
	}
	return v
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// jsRegistered is a /relay registered payload (or its acknowledgement).
type jsRegistered struct {
	SessionID   string `json:"sessionId"`
	Token       string `json:"token"`
	ShareURL    string `json:"shareUrl"`
	IsEphemeral bool   `json:"isEphemeral"`
	CollabMode  bool   `json:"collabMode"`
	Resumed     *bool  `json:"resumed"`
	AckedSeq    *int64 `json:"ackedSeq"`
}

func checkRegistered(t *testing.T, what string, raw json.RawMessage, sessionID string) jsRegistered {
	t.Helper()
	r := decode[jsRegistered](t, what, raw)
	if r.SessionID != sessionID || !hex64.MatchString(r.Token) || !strings.HasSuffix(r.ShareURL, "/session/"+sessionID) || !r.IsEphemeral || !r.CollabMode {
		t.Errorf("%s: %s", what, raw)
	}
	if (r.Resumed != nil && *r.Resumed) || (r.AckedSeq != nil && *r.AckedSeq != 0) {
		t.Errorf("%s: a fresh registration reports resumed/ackedSeq: %s", what, raw)
	}
	return r
}

// jsViewerEvent is a /viewer event payload with the parts the tests look at.
type jsViewerEvent struct {
	Event struct {
		Type                  string `json:"type"`
		AssistantMessageEvent struct {
			Delta string `json:"delta"`
		} `json:"assistantMessageEvent"`
	} `json:"event"`
	Seq    *int64          `json:"seq"`
	Replay *bool           `json:"replay"`
	Raw    json.RawMessage `json:"-"`
}

// label names an event for comparisons: the delta of a text_delta, the type otherwise.
func (e jsViewerEvent) label() string {
	if d := e.Event.AssistantMessageEvent.Delta; d != "" {
		return d
	}
	return e.Event.Type
}

func viewerStream(t *testing.T, s jsSocket) []jsViewerEvent {
	t.Helper()
	var out []jsViewerEvent
	for _, raw := range s.events("event") {
		e := decode[jsViewerEvent](t, "viewer event", raw)
		e.Raw = raw
		out = append(out, e)
	}
	return out
}

// seqs returns "label@seq" for each event.
func seqs(evs []jsViewerEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		seq := "none"
		if e.Seq != nil {
			seq = fmt.Sprint(*e.Seq)
		}
		out[i] = e.label() + "@" + seq
	}
	return out
}

func TestJSRelayAndViewer(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	const sid = "js-relay-viewer"

	var out struct {
		CLITransport     string          `json:"cliTransport"`
		RegisteredPlain  json.RawMessage `json:"registeredPlain"`
		RegisterAck      json.RawMessage `json:"registerAck"`
		Registered       json.RawMessage `json:"registered"`
		V1Connected      json.RawMessage `json:"v1Connected"`
		CLIGreeting      json.RawMessage `json:"cliGreeting"`
		InputAck         json.RawMessage `json:"inputAck"`
		CLIInput         json.RawMessage `json:"cliInput"`
		CLIInputPlain    json.RawMessage `json:"cliInputPlain"`
		ModelSetAck      json.RawMessage `json:"modelSetAck"`
		CLIModelSet      json.RawMessage `json:"cliModelSet"`
		ExecAck          json.RawMessage `json:"execAck"`
		CLIExec          json.RawMessage `json:"cliExec"`
		V1ExecResult     json.RawMessage `json:"v1ExecResult"`
		V1InvalidError   json.RawMessage `json:"v1InvalidError"`
		V1UnknownError   json.RawMessage `json:"v1UnknownError"`
		CLIInvalidError  json.RawMessage `json:"cliInvalidError"`
		CLIUnknownError  json.RawMessage `json:"cliUnknownError"`
		ExecAck2         json.RawMessage `json:"execAck2"`
		CLIExec2         json.RawMessage `json:"cliExec2"`
		V1LastSeq        int64           `json:"v1LastSeq"`
		V2Connected      json.RawMessage `json:"v2Connected"`
		ResyncFrom       int64           `json:"resyncFrom"`
		V2Disconnected   json.RawMessage `json:"v2Disconnected"`
		InputAfterEndAck json.RawMessage `json:"inputAfterEndAck"`
		V2StillConnected bool            `json:"v2StillConnected"`
		CLIAfterEndError json.RawMessage `json:"cliAfterEndError"`
		V1, V2, CLI      jsSocket
	}
	runJS(t, n, "relay-viewer.mjs", &out,
		"PIZZAPI_API_KEY="+u.APIKey,
		"PIZZAPI_COOKIE="+u.CookieHeader().Get("Cookie"),
		"PIZZAPI_SESSION_ID="+sid,
	)

	out.CLI.checkContract(t, "cli", relayContract)
	out.V1.checkContract(t, "viewer1", viewerContract)
	out.V2.checkContract(t, "viewer2", viewerContract)
	if out.CLITransport != "websocket" || out.CLI.InitialTransport != "websocket" {
		t.Errorf("cli transport %q, want websocket only", out.CLITransport)
	}
	out.V1.checkBrowserTransport(t, "viewer1")
	out.V2.checkBrowserTransport(t, "viewer2")

	t.Run("register", func(t *testing.T) {
		plain := checkRegistered(t, "registered (no ack)", out.RegisteredPlain, sid+"-warmup")
		reg := checkRegistered(t, "registered", out.Registered, sid)
		if !jsonEqual(out.RegisterAck, out.Registered) {
			t.Errorf("register ack %s differs from the registered event %s", out.RegisterAck, out.Registered)
		}
		if plain.Token == reg.Token {
			t.Errorf("both registrations got token %s", reg.Token)
		}
	})

	t.Run("event_ack", func(t *testing.T) {
		// Every numbered event of the session is acknowledged, cumulatively and in order: the
		// acks read 1, 2, 3, ... (the invalid event and the one after session_end get none).
		acks := out.CLI.events("event_ack")
		if len(acks) < 30 {
			t.Fatalf("only %d event_acks", len(acks))
		}
		for i, raw := range acks {
			a := decode[struct {
				SessionID string `json:"sessionId"`
				Seq       int64  `json:"seq"`
			}](t, "event_ack", raw)
			if a.SessionID != sid || a.Seq != int64(i+1) {
				t.Fatalf("event_ack %d = %s, want seq %d", i, raw, i+1)
			}
		}
	})

	t.Run("viewer stream", func(t *testing.T) {
		hello := decode[struct {
			SessionID       string  `json:"sessionId"`
			LastSeq         *int64  `json:"lastSeq"`
			IsActive        bool    `json:"isActive"`
			LastHeartbeatAt *string `json:"lastHeartbeatAt"`
			SessionName     *string `json:"sessionName"`
			ReplayOnly      *bool   `json:"replayOnly"`
		}](t, "connected", out.V1Connected)
		if hello.SessionID != sid || hello.LastSeq == nil || *hello.LastSeq != 2 || !hello.IsActive ||
			hello.LastHeartbeatAt == nil || hello.SessionName == nil || *hello.SessionName != "js demo" || hello.ReplayOnly != nil {
			t.Fatalf("viewer connected: %s", out.V1Connected)
		}
		if _, err := time.Parse(time.RFC3339, *hello.LastHeartbeatAt); err != nil {
			t.Errorf("lastHeartbeatAt %q: %v", *hello.LastHeartbeatAt, err)
		}
		if order := out.V1.order(); len(order) < 2 || order[0] != "$connect" || order[1] != "connected" {
			t.Errorf("viewer1 log starts %v, want $connect, connected", order[:min(len(order), 3)])
		}
		wantJSON(t, "greeting at the CLI", out.CLIGreeting, `{}`)

		// Snapshot (heartbeat + session_active stamped lastSeq), then the greeting's answer and
		// the live events, numbered without gaps from lastSeq+1.
		evs := viewerStream(t, out.V1)
		want := []string{"heartbeat@2", "session_active@2", "capabilities@3", "session_active@4"}
		for i := 1; i <= 20; i++ {
			want = append(want, fmt.Sprintf("live-%d@%d", i, i+4))
		}
		want = append(want, "after-errors@25")
		if got := seqs(evs); !reflect.DeepEqual(got, want) {
			t.Fatalf("viewer1 events:\n got %v\nwant %v", got, want)
		}
		for _, e := range evs {
			if e.Replay != nil {
				t.Errorf("live event with replay flag: %s", e.Raw)
			}
		}
		// Inner events pass through untouched.
		wantJSON(t, "snapshot state", evs[1].Raw, fmt.Sprintf(`{"seq":2,"event":%s}`, mustJSON(t, map[string]any{"type": "session_active", "state": jsState})))
		wantJSON(t, "live event", evs[4].Raw, `{"seq":5,"event":{"type":"message_update","assistantMessageEvent":{"type":"text_delta","contentIndex":0,"delta":"live-1"}}}`)
		if out.V1LastSeq != 25 {
			t.Errorf("viewer1 last seq %d", out.V1LastSeq)
		}
	})

	t.Run("collab", func(t *testing.T) {
		for name, ack := range map[string]json.RawMessage{"input": out.InputAck, "model_set": out.ModelSetAck, "exec": out.ExecAck, "exec after errors": out.ExecAck2} {
			wantJSON(t, name+" ack", ack, `{"ok":true}`)
		}
		wantJSON(t, "input at the CLI", out.CLIInput, `{"text":"Please also add tests","attachments":[
			{"attachmentId":"att-1","mediaType":"image/png","filename":"screen.png"},
			{"url":"data:text/plain;base64,aGk=","filename":"hi.txt"}],"client":"web","deliverAs":"followUp"}`)
		wantJSON(t, "ack-less input at the CLI", out.CLIInputPlain, `{"text":"sent like PizzaPi's UI","attachments":[]}`)
		wantJSON(t, "model_set at the CLI", out.CLIModelSet, `{"provider":"anthropic","modelId":"claude-opus-4-1"}`)
		wantJSON(t, "exec at the CLI", out.CLIExec, `{"id":"c-1","command":"set_thinking_level","level":"high"}`)
		wantJSON(t, "second exec at the CLI", out.CLIExec2, `{"id":"c-2","command":"abort"}`)
		wantJSON(t, "exec_result at the viewer", out.V1ExecResult, `{"id":"c-1","ok":true,"command":"set_thinking_level","result":{"thinkingLevel":"high"}}`)
		if got := len(out.CLI.events("input")); got != 2 {
			t.Errorf("the CLI got %d inputs, want 2", got)
		}
	})

	t.Run("errors", func(t *testing.T) {
		type errMsg struct {
			Message string  `json:"message"`
			Event   *string `json:"event"`
			Pointer *string `json:"pointer"`
		}
		check := func(what string, raw json.RawMessage, event, pointer string) {
			t.Helper()
			e := decode[errMsg](t, what, raw)
			if e.Message == "" || e.Event == nil || *e.Event != event {
				t.Errorf("%s: %s, want an error naming event %q", what, raw, event)
			}
			if pointer != "" && (e.Pointer == nil || *e.Pointer != pointer) {
				t.Errorf("%s: %s, want pointer %q", what, raw, pointer)
			}
		}
		check("invalid viewer input", out.V1InvalidError, "input", "/text")
		check("unknown viewer event", out.V1UnknownError, "definitely_not_an_event", "")
		check("invalid CLI event", out.CLIInvalidError, "event", "/seq")
		check("unknown CLI event", out.CLIUnknownError, "no_such_relay_event", "")
		if !strings.Contains(string(out.V1UnknownError), "definitely_not_an_event") {
			t.Errorf("unknown event error does not name it: %s", out.V1UnknownError)
		}
		for _, d := range append(out.V1.events("$disconnect"), out.CLI.events("$disconnect")...) {
			t.Errorf("a socket was disconnected after the errors: %s", d)
		}
	})

	t.Run("reconnect with lastSeq and resync", func(t *testing.T) {
		hello := decode[struct {
			LastSeq *int64 `json:"lastSeq"`
		}](t, "connected", out.V2Connected)
		if hello.LastSeq == nil || *hello.LastSeq != out.V1LastSeq {
			t.Errorf("viewer2 connected %s, want lastSeq %d", out.V2Connected, out.V1LastSeq)
		}
		l := out.V1LastSeq
		want := []string{}
		for i := int64(1); i <= 5; i++ { // exactly the missed events, no snapshot
			want = append(want, fmt.Sprintf("missed-%d@%d", i, l+i))
		}
		want = append(want, fmt.Sprintf("live-after-reconnect@%d", l+6))
		for s := out.ResyncFrom + 1; s <= l+5; s++ { // resync {lastSeq} replays what followed it
			want = append(want, fmt.Sprintf("missed-%d@%d", s-l, s))
		}
		want = append(want, fmt.Sprintf("live-after-reconnect@%d", l+6))
		want = append(want, fmt.Sprintf("heartbeat@%d", l+6), fmt.Sprintf("session_active@%d", l+6)) // resync {}
		want = append(want, fmt.Sprintf("after-resync@%d", l+7))
		if got := seqs(viewerStream(t, out.V2)); !reflect.DeepEqual(got, want) {
			t.Errorf("viewer2 events:\n got %v\nwant %v", got, want)
		}
	})

	t.Run("session_end", func(t *testing.T) {
		wantJSON(t, "disconnected", out.V2Disconnected, `{"reason":"Session ended","code":"session_ended"}`)
		ack := decode[struct {
			OK    bool    `json:"ok"`
			Error *string `json:"error"`
		}](t, "input ack after the end", out.InputAfterEndAck)
		if ack.OK || ack.Error == nil || *ack.Error == "" {
			t.Errorf("input after the session ended: ack %s", out.InputAfterEndAck)
		}
		if !out.V2StillConnected || out.V2.has("$disconnect") {
			t.Errorf("viewer2 was disconnected when the session ended")
		}
		e := decode[struct{ Message string }](t, "error", out.CLIAfterEndError)
		if e.Message != "Invalid token" {
			t.Errorf("event after session_end: %s, want Invalid token", out.CLIAfterEndError)
		}
		if out.CLI.has("$disconnect") {
			t.Errorf("the CLI was disconnected")
		}
	})
}

// jsState is the session_active state relay-viewer.mjs sends.
var jsState = map[string]any{
	"messages":        []any{map[string]any{"role": "user", "content": "fix the flaky test", "timestamp": 1764234900000}},
	"model":           map[string]any{"provider": "anthropic", "id": "claude-sonnet-4-5", "name": "Claude Sonnet 4.5", "reasoning": true},
	"thinkingLevel":   "medium",
	"sessionName":     "js demo",
	"cwd":             "/home/ada/project",
	"availableModels": []any{map[string]any{"provider": "anthropic", "id": "claude-sonnet-4-5", "name": "Claude Sonnet 4.5", "reasoning": true, "contextWindow": 200000}},
	"todoList":        []any{},
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestJSHub(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	other := n.NewUser(t)

	const sid = "js-hub"
	var out struct {
		Sessions      json.RawMessage
		Registered    json.RawMessage
		Added         json.RawMessage
		StatusActive  json.RawMessage
		StatusIdle    json.RawMessage
		StatusRenamed json.RawMessage
		Removed       json.RawMessage
		Added2        json.RawMessage
		Removed2      json.RawMessage
		Hub           jsSocket
	}
	runJS(t, n, "hub.mjs", &out,
		"PIZZAPI_API_KEY="+u.APIKey,
		"PIZZAPI_OTHER_API_KEY="+other.APIKey,
		"PIZZAPI_COOKIE="+u.CookieHeader().Get("Cookie"),
		"PIZZAPI_SESSION_ID="+sid,
	)
	out.Hub.checkContract(t, "hub", hubContract)
	out.Hub.checkBrowserTransport(t, "hub")

	if order := out.Hub.order(); len(order) < 2 || order[0] != "$connect" || order[1] != "sessions" {
		t.Errorf("hub log starts %v, want $connect, sessions", order[:min(len(order), 3)])
	}
	list := decode[struct {
		Sessions []struct {
			SessionID string `json:"sessionId"`
			UserID    string `json:"userId"`
			Cwd       string `json:"cwd"`
		} `json:"sessions"`
	}](t, "sessions", out.Sessions)
	if len(list.Sessions) != 1 || list.Sessions[0].SessionID != sid+"-existing" || list.Sessions[0].UserID != u.ID || list.Sessions[0].Cwd != "/home/ada/project" {
		t.Errorf("initial sessions: %s, want only %s-existing", out.Sessions, sid)
	}

	type info struct {
		SessionID       string          `json:"sessionId"`
		ShareURL        string          `json:"shareUrl"`
		Cwd             string          `json:"cwd"`
		StartedAt       string          `json:"startedAt"`
		UserID          string          `json:"userId"`
		UserName        string          `json:"userName"`
		SessionName     *string         `json:"sessionName"`
		IsEphemeral     bool            `json:"isEphemeral"`
		IsActive        bool            `json:"isActive"`
		LastHeartbeatAt *string         `json:"lastHeartbeatAt"`
		Model           json.RawMessage `json:"model"`
		RunnerID        *string         `json:"runnerId"`
		RunnerName      *string         `json:"runnerName"`
	}
	added := decode[info](t, "session_added", out.Added)
	if added.SessionID != sid || added.Cwd != "/home/ada/hub" || added.UserID != u.ID || added.UserName != u.Name || added.SessionName != nil ||
		!added.IsEphemeral || added.IsActive || added.LastHeartbeatAt != nil || string(added.Model) != "null" || added.RunnerID != nil || added.RunnerName != nil ||
		!strings.HasSuffix(added.ShareURL, "/session/"+sid) {
		t.Errorf("session_added: %s", out.Added)
	}
	if _, err := time.Parse(time.RFC3339, added.StartedAt); err != nil {
		t.Errorf("startedAt: %v", err)
	}
	for _, raw := range []json.RawMessage{out.Added} {
		for _, key := range []string{"sessionName", "lastHeartbeatAt", "model", "runnerId", "runnerName"} {
			if !bytes.Contains(raw, []byte(`"`+key+`":null`)) {
				t.Errorf("session_added lacks %s:null (PizzaPi sends it): %s", key, raw)
			}
		}
	}

	type status struct {
		SessionID       string          `json:"sessionId"`
		IsActive        bool            `json:"isActive"`
		LastHeartbeatAt *string         `json:"lastHeartbeatAt"`
		SessionName     *string         `json:"sessionName"`
		Model           json.RawMessage `json:"model"`
	}
	active := decode[status](t, "session_status", out.StatusActive)
	if !active.IsActive || active.LastHeartbeatAt == nil || active.SessionName == nil || *active.SessionName != "hub demo" {
		t.Errorf("session_status (active): %s", out.StatusActive)
	}
	wantJSON(t, "session_status model", active.Model, `{"provider":"anthropic","id":"claude-sonnet-4-5","name":"Claude Sonnet 4.5"}`)
	if idle := decode[status](t, "session_status", out.StatusIdle); idle.IsActive || idle.LastHeartbeatAt == nil {
		t.Errorf("session_status (idle): %s", out.StatusIdle)
	}
	if renamed := decode[status](t, "session_status", out.StatusRenamed); renamed.SessionName == nil || *renamed.SessionName != "renamed" {
		t.Errorf("session_status (renamed): %s", out.StatusRenamed)
	}
	wantJSON(t, "session_removed", out.Removed, `{"sessionId":"`+sid+`"}`)
	if a := decode[info](t, "session_added", out.Added2); a.SessionID != sid+"-closed" || a.SessionName == nil || *a.SessionName != "short-lived" {
		t.Errorf("second session_added: %s", out.Added2)
	}

	// Nothing about the other user's sessions reaches this hub.
	for _, e := range out.Hub.Log {
		if bytes.Contains(e.Payload, []byte(sid+"-other-user")) {
			t.Errorf("the hub saw another user's session: %s %s", e.Name, e.Payload)
		}
	}

	// A CLI that closes its socket ends its session at once.
	wantJSON(t, "session_removed (socket closed)", out.Removed2, `{"sessionId":"`+sid+`-closed"}`)
}

// TestJSCloseAfterSending checks that what a client sent right before closing its socket is still
// processed: PizzaPi's CLI emits its last events (and session_end) and disconnects without waiting.
func TestJSCloseAfterSending(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	var out struct {
		Rounds []struct {
			SessionID    string
			Sent         int
			Received     int
			Disconnected *string
			Removed      bool
		}
	}
	runJS(t, n, "close.mjs", &out,
		"PIZZAPI_API_KEY="+u.APIKey,
		"PIZZAPI_COOKIE="+u.CookieHeader().Get("Cookie"),
		"PIZZAPI_SESSION_ID=js-close",
	)
	if len(out.Rounds) == 0 {
		t.Fatal("no rounds")
	}
	lost := 0
	for _, r := range out.Rounds {
		if r.Received > r.Sent {
			t.Errorf("%s: viewer got %d events, %d were sent", r.SessionID, r.Received, r.Sent)
		}
		if r.Received == r.Sent && r.Disconnected != nil && *r.Disconnected == "Session ended" && r.Removed {
			continue
		}
		lost++
		reason := "none"
		if r.Disconnected != nil {
			reason = *r.Disconnected
		}
		t.Logf("%s: viewer got %d of %d events, disconnected reason %s, hub session_removed %v", r.SessionID, r.Received, r.Sent, reason, r.Removed)
	}
	if lost > 0 {
		t.Errorf("in %d of %d sessions events or session_end sent just before socket.disconnect() were lost", lost, len(out.Rounds))
	}
}

func TestJSRunnerAndTerminal(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	const runnerID = "0b6f5a4e-2f7c-4f7e-8d0e-1c2b3a4d5e6f"
	const root = "/home/ada/project"
	secret := strings.Repeat("5e", 32)

	rp := startJS(t, n, "runner.mjs",
		"PIZZAPI_API_KEY="+u.APIKey,
		"PIZZAPI_RUNNER_ID="+runnerID,
		"PIZZAPI_RUNNER_SECRET="+secret,
		"PIZZAPI_RUNNER_ROOT="+root,
	)
	c := n.Server.Core()
	ctx, cancel := context.WithTimeout(context.Background(), jsDeadline)
	defer cancel()

	// Wait for the JS runner to register.
	for {
		runners, err := c.Runners(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(runners) == 1 && runners[0].RunnerID == runnerID {
			info := runners[0]
			if info.Name == nil || *info.Name != "js-runner" || !reflect.DeepEqual(info.Roots, []string{root}) || len(info.Skills) != 1 || info.Skills[0].Name != "release-notes" {
				t.Errorf("runner info: %+v", info)
			}
			break
		}
		select {
		case <-ctx.Done():
			rp.finish(t, new(any))
			t.Fatalf("the JS runner did not register: %v", runners)
		case <-time.After(20 * time.Millisecond):
		}
	}

	// Spawn: new_session reaches the runner, whose session_ready completes the spawn.
	res, err := c.Spawn(ctx, u.ID, core.SpawnRequest{RunnerID: runnerID, Cwd: root + "/sub", Prompt: "fix the flaky test", Model: &protocol.ModelInfo{Provider: "anthropic", ID: "claude-sonnet-4-5"}})
	if err != nil {
		t.Fatalf("spawn: %v", err)
	}
	if res.Pending || res.RunnerID != runnerID || res.SessionID == "" {
		t.Errorf("spawn: %+v, want pending false", res)
	}

	// Terminal: a JS browser terminal attaches, and the runner serves the PTY.
	termID, err := c.CreateTerminal(ctx, u.ID, core.TerminalRequest{RunnerID: runnerID, Cwd: root, Cols: 80, Rows: 24})
	if err != nil {
		t.Fatal(err)
	}
	var term struct {
		Connected         json.RawMessage
		Ready             json.RawMessage
		Prompt            json.RawMessage
		Echo              json.RawMessage
		Exit              json.RawMessage
		Terminal          jsSocket
		MissingError      json.RawMessage
		MissingDisconnect json.RawMessage
	}
	runJS(t, n, "terminal.mjs", &term,
		"PIZZAPI_COOKIE="+u.CookieHeader().Get("Cookie"),
		"PIZZAPI_TERMINAL_ID="+termID,
	)

	var run struct {
		Transport          string
		Registered         json.RawMessage
		ImpostorError      json.RawMessage
		ImpostorDisconnect json.RawMessage
		Impostor           jsSocket
		StillConnected     bool
		Runner             jsSocket
	}
	rp.finish(t, &run)

	t.Run("runner", func(t *testing.T) {
		run.Runner.checkContract(t, "runner", runnerContract)
		run.Impostor.checkContract(t, "impostor", runnerContract)
		if run.Transport != "websocket" {
			t.Errorf("runner transport %q", run.Transport)
		}
		wantJSON(t, "runner_registered", run.Registered, `{"runnerId":"`+runnerID+`"}`)
		wantJSON(t, "new_session", firstOf(t, run.Runner, "new_session"), fmt.Sprintf(
			`{"sessionId":%q,"cwd":"/home/ada/project/sub","prompt":"fix the flaky test","model":{"provider":"anthropic","id":"claude-sonnet-4-5"}}`, res.SessionID))
		wantJSON(t, "impostor error", run.ImpostorError, `{"code":"runner_secret_mismatch","message":"Runner authentication failed: secret mismatch for runner `+runnerID+`"}`)
		wantJSON(t, "impostor disconnect", run.ImpostorDisconnect, `{"reason":"io server disconnect"}`)
		if !run.StillConnected || run.Runner.has("$disconnect") || run.Runner.has("error") {
			t.Errorf("the real runner was disturbed by the impostor: %+v", run.Runner.Log)
		}
	})

	t.Run("terminal", func(t *testing.T) {
		term.Terminal.checkContract(t, "terminal", terminalContract)
		term.Terminal.checkBrowserTransport(t, "terminal")
		id := `"terminalId":"` + termID + `"`
		wantJSON(t, "terminal_connected", term.Connected, `{`+id+`}`)
		wantJSON(t, "terminal_ready", term.Ready, `{`+id+`}`)
		wantJSON(t, "terminal_data", term.Prompt, `{`+id+`,"data":"`+b64("ada@box:~$ ")+`"}`)
		wantJSON(t, "echo", term.Echo, `{`+id+`,"data":"`+b64("echo:ls -la\r")+`"}`)
		wantJSON(t, "terminal_exit", term.Exit, `{`+id+`,"exitCode":0}`)

		// What the runner got: the deferred spawn with the first size, the input, the later
		// resize (the first one is not forwarded).
		wantJSON(t, "new_terminal", firstOf(t, run.Runner, "new_terminal"), `{`+id+`,"cwd":"/home/ada/project","cols":120,"rows":32}`)
		inputs := run.Runner.events("terminal_input")
		if len(inputs) != 2 {
			t.Fatalf("runner got %d terminal_inputs", len(inputs))
		}
		wantJSON(t, "terminal_input", inputs[0], `{`+id+`,"data":"`+b64("ls -la\r")+`"}`)
		wantJSON(t, "terminal_input", inputs[1], `{`+id+`,"data":"`+b64("exit\r")+`"}`)
		resizes := run.Runner.events("terminal_resize")
		if len(resizes) != 1 {
			t.Fatalf("runner got %d terminal_resizes, want 1", len(resizes))
		}
		wantJSON(t, "terminal_resize", resizes[0], `{`+id+`,"cols":100,"rows":30}`)

		wantJSON(t, "missing terminal", term.MissingError, `{"terminalId":"no-such-terminal","code":"terminal_not_found","message":"Terminal not found"}`)
		wantJSON(t, "missing terminal disconnect", term.MissingDisconnect, `{"reason":"io server disconnect"}`)
	})
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func firstOf(t *testing.T, s jsSocket, name string) json.RawMessage {
	t.Helper()
	evs := s.events(name)
	if len(evs) == 0 {
		t.Fatalf("no %q received", name)
	}
	if len(evs) > 1 {
		t.Errorf("%d %q received, want 1", len(evs), name)
	}
	return evs[0]
}

func TestJSAuth(t *testing.T) {
	n := servertest.Start(t)
	var out struct {
		Cases []struct {
			Namespace   string
			Credentials string
			Transport   string
			Outcome     struct {
				Connected bool
				Error     *struct {
					Message string
					Data    json.RawMessage
				}
			}
		}
	}
	runJS(t, n, "auth.mjs", &out)
	if len(out.Cases) != 26 {
		t.Fatalf("%d cases", len(out.Cases))
	}
	for _, c := range out.Cases {
		t.Run(strings.TrimPrefix(c.Namespace, "/")+"/"+c.Credentials+"/"+c.Transport, func(t *testing.T) {
			switch {
			case c.Outcome.Connected:
				t.Fatalf("%s accepted a client with credentials %q", c.Namespace, c.Credentials)
			case c.Outcome.Error == nil:
				t.Fatalf("%s: no connect_error", c.Namespace)
			case c.Outcome.Error.Message != "unauthorized":
				t.Fatalf("%s refused credentials %q with connect_error %q, want \"unauthorized\"", c.Namespace, c.Credentials, c.Outcome.Error.Message)
			}
		})
	}
}

// TestJSCookieOnEveryNamespace: a browser's sockets share one connection, and its session cookie
// authenticates each namespace's CONNECT, also after the first namespace has connected (the relay
// then keeps only the cookie of the handshake request's headers), on both transports.
func TestJSCookieOnEveryNamespace(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	const sid = "js-namespaces"
	cli(t, n, u, sid)
	var out struct {
		Cases []struct {
			Transport string
			Sessions  struct {
				Sessions []struct {
					SessionID string `json:"sessionId"`
				} `json:"sessions"`
			}
			Connected struct {
				SessionID string `json:"sessionId"`
			}
			Terminal struct {
				Connected bool
				Error     json.RawMessage
			}
			TerminalError  protocol.TerminalError
			SameConnection bool
			Upgraded       string
		}
	}
	runJS(t, n, "namespaces.mjs", &out,
		"PIZZAPI_COOKIE="+u.CookieHeader().Get("Cookie"),
		"PIZZAPI_SESSION_ID="+sid,
	)
	if len(out.Cases) != 2 {
		t.Fatalf("%d cases, want 2", len(out.Cases))
	}
	for _, c := range out.Cases {
		t.Run(c.Transport, func(t *testing.T) {
			if !c.SameConnection {
				t.Fatal("the namespaces did not share one connection")
			}
			if len(c.Sessions.Sessions) != 1 || c.Sessions.Sessions[0].SessionID != sid {
				t.Errorf("/hub sessions %+v, want %s", c.Sessions.Sessions, sid)
			}
			if c.Connected.SessionID != sid {
				t.Errorf("/viewer connected to %q, want %s", c.Connected.SessionID, sid)
			}
			if !c.Terminal.Connected {
				t.Fatalf("/terminal refused: %s", c.Terminal.Error)
			}
			if c.TerminalError.Code.Or("") != protocol.ErrorCodeTerminalNotFound {
				t.Errorf("/terminal error %s, want terminal_not_found", c.TerminalError.AppendJSON(nil))
			}
			if c.Upgraded != "websocket" {
				t.Errorf("transport %q at the end, want websocket", c.Upgraded)
			}
		})
	}
}
