package share

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/clients/share/internal/sharetest"
	"github.com/pizzapi/pizzapi/internal/syncbuf"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// fakeAgent builds the fake RPC agent (internal/fakeagent).
func fakeAgent(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fakeagent")
	if out, err := exec.Command("go", "build", "-o", path, "./internal/fakeagent").CombinedOutput(); err != nil {
		t.Fatalf("building the fake agent: %v\n%s", err, out)
	}
	return path
}

// agentLog reads the commands the fake agent received, without their ids.
func agentLog(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "EOF" {
			out = append(out, map[string]any{"EOF": true})
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("the agent received %q: %v", line, err)
		}
		if id, _ := m["id"].(string); !strings.HasPrefix(id, "pizzapi-") {
			t.Fatalf("command without a pizzapi id: %s", line)
		}
		delete(m, "id")
		out = append(out, m)
	}
	return out
}

// TestRPCAgent runs `share -- fakeagent` and checks what the agent receives for each viewer
// command, and what the viewer gets back.
func TestRPCAgent(t *testing.T) {
	bin := fakeAgent(t)
	log := filepath.Join(t.TempDir(), "stdin.log")
	n := servertest.Start(t)
	u := n.NewUser(t)
	agentErr := &syncbuf.Buffer{}
	s := share(t, n, u, Options{SessionID: "s-rpc", Source: &RPC{Argv: []string{bin, "--log", log}, Log: agentErr}})

	// The agent's state is read at start and published as a snapshot.
	s.trace.wait(t, `"fake-model-1"`)
	v := watch(t, n, u, "s-rpc", s.trace)
	snap := v.UntilType("session_active")
	state := snap[len(snap)-1].Event.Raw
	if sharetest.Field[string](t, state, "state", "model", "id") != "fake-model-1" || len(sharetest.Field[[]any](t, state, "state", "messages")) != 1 ||
		sharetest.Field[string](t, state, "state", "thinkingLevel") != "low" || len(sharetest.Field[[]any](t, state, "state", "availableModels")) != 2 {
		t.Fatalf("snapshot: %s", state)
	}
	if !strings.Contains(agentErr.String(), "not an event: fakeagent starting") {
		t.Errorf("the agent's stray output was not reported: %q", agentErr.String())
	}

	// Input: every event the agent prints is relayed.
	reply := func() string {
		text := ""
		for _, e := range v.UntilType("agent_end") {
			text += sharetest.AssistantText(e.Event.Raw)
		}
		return text
	}
	v.Command("input", map[string]any{"text": "hi", "attachments": []any{}, "client": "web"})
	if got := reply(); got != "echo: hi" {
		t.Fatalf("reply %q", got)
	}
	v.Command("input", map[string]any{"text": "turn left", "attachments": []any{}, "deliverAs": "steer"})
	reply()
	v.Command("input", map[string]any{"text": "then right", "attachments": []any{}, "deliverAs": "followUp"})
	reply()
	v.Command("input", map[string]any{"text": "look", "attachments": []any{map[string]any{
		"url": "data:image/png;base64,iVBORw0KGgo=", "mediaType": "image/png", "filename": "a.png"}}})
	reply()
	// Uploaded attachments are fetched from the relay: images go to the agent as images, other
	// files are described in the text.
	img := upload(t, n, u, "s-rpc", "shot.png", "image/png", []byte("\x89PNG fake"))
	txt := upload(t, n, u, "s-rpc", "notes.txt", "text/plain", []byte("hello"))
	v.Command("input", map[string]any{"text": "see files", "attachments": []any{
		map[string]any{"attachmentId": img, "filename": "shot.png", "mediaType": "image/png"},
		map[string]any{"attachmentId": txt, "filename": "notes.txt", "mediaType": "text/plain"},
	}})
	reply()

	exec := func(id string, payload map[string]any) map[string]any {
		payload["id"] = id
		v.Command("exec", payload)
		return v.ExecResult(id)
	}
	if r := exec("c-1", map[string]any{"command": "abort"}); r["ok"] != true {
		t.Fatalf("abort: %v", r)
	}
	if r := exec("c-2", map[string]any{"command": "set_model", "provider": "fake", "modelId": "fake-model-2"}); r["ok"] != true {
		t.Fatalf("set_model: %v", r)
	}
	evs := v.UntilType("model_set_result")
	if r := evs[len(evs)-1].Event.Raw; !sharetest.Field[bool](t, r, "ok") || sharetest.Field[string](t, r, "modelId") != "fake-model-2" {
		t.Fatalf("model_set_result: %s", r)
	}
	if hb := evs[len(evs)-2].Event.Raw; sharetest.Field[string](t, hb, "type") != "heartbeat" || sharetest.Field[string](t, hb, "model", "id") != "fake-model-2" {
		t.Fatalf("heartbeat after set_model: %s", hb)
	}
	if r := exec("c-3", map[string]any{"command": "set_model", "provider": "nope", "modelId": "x"}); r["ok"] != false || r["error"] != "Model not found: nope/x" {
		t.Fatalf("set_model: %v", r)
	}
	if evs := v.UntilType("model_set_result"); sharetest.Field[bool](t, evs[len(evs)-1].Event.Raw, "ok") ||
		sharetest.Field[string](t, evs[len(evs)-1].Event.Raw, "message") != "Model not found: nope/x" {
		t.Fatalf("model_set_result: %s", evs[len(evs)-1].Event.Raw)
	}
	if r := exec("c-4", map[string]any{"command": "x"}); r["ok"] != false || r["error"] != "Unknown exec command: x" {
		t.Fatalf("x: %v", r)
	}
	// The agent clamps the level to what the model (fake-model-2 does not think) supports.
	if r := exec("c-5", map[string]any{"command": "set_thinking_level", "level": "high"}); r["ok"] != true ||
		!reflect.DeepEqual(r["result"], map[string]any{"thinkingLevel": "off"}) {
		t.Fatalf("set_thinking_level: %v", r)
	}
	if r := exec("c-6", map[string]any{"command": "get_commands"}); r["ok"] != true ||
		!reflect.DeepEqual(r["result"], map[string]any{"commands": []any{map[string]any{"name": "fake-cmd", "description": "does nothing"}}}) {
		t.Fatalf("get_commands: %v", r)
	}
	// model_set (the viewer's model picker) is set_model without an exec_result.
	v.Command("model_set", map[string]any{"provider": "fake", "modelId": "fake-model-1"})
	v.UntilType("model_set_result")

	if err := s.end(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := agentLog(t, log)
	want := []map[string]any{
		{"type": "get_state"},
		{"type": "get_available_models"},
		{"type": "get_commands"},
		{"type": "get_messages"},
		{"type": "prompt", "message": "hi"},
		{"type": "prompt", "message": "turn left", "streamingBehavior": "steer"},
		{"type": "prompt", "message": "then right", "streamingBehavior": "followUp"},
		{"type": "prompt", "message": "look", "images": []any{map[string]any{"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"}}},
		{"type": "prompt", "message": "see files\n\n[Attached file: notes.txt (text/plain, 5 bytes)]",
			"images": []any{map[string]any{"type": "image", "data": base64.StdEncoding.EncodeToString([]byte("\x89PNG fake")), "mimeType": "image/png"}}},
		{"type": "abort"},
		{"type": "set_model", "provider": "fake", "modelId": "fake-model-2"},
		{"type": "set_model", "provider": "nope", "modelId": "x"},
		{"type": "set_thinking_level", "level": "high"},
		{"type": "get_commands"},
		{"type": "set_model", "provider": "fake", "modelId": "fake-model-1"},
		{"EOF": true}, // stopping closes the agent's input
	}
	if !reflect.DeepEqual(got, want) {
		gotJSON, _ := json.MarshalIndent(got, "", "  ")
		t.Fatalf("the agent received:\n%s", gotJSON)
	}
}

// TestRPCAgentExit: when the agent exits by itself, the session ends and Run reports how the
// agent ended.
func TestRPCAgentExit(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	exit := filepath.Join(t.TempDir(), "exit")
	script := `echo '{"type":"agent_start"}'; while [ ! -e "$1" ]; do sleep 0.02; done; exit 3`
	s := share(t, n, u, Options{SessionID: "s-exit", Source: &RPC{Argv: []string{"sh", "-c", script, "sh", exit}}})
	v := watch(t, n, u, "s-exit", s.trace)
	if err := os.WriteFile(exit, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		s.done <- err
		if err == nil || !strings.Contains(err.Error(), "exit status 3") {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(servertest.Timeout):
		t.Fatal("Run did not return")
	}
	var d struct{ Reason string }
	if err := json.Unmarshal(v.C.Next(t, "disconnected"), &d); err != nil || d.Reason != "Session ended" {
		t.Fatalf("disconnected: %+v %v", d, err)
	}
}

// upload stores an attachment for the session through the REST API and returns its id.
func upload(t *testing.T, n *servertest.Node, u servertest.User, sessionID, name, ctype string, data []byte) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files"; filename=%q`, name))
	h.Set("Content-Type", ctype)
	part, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, n.URL+"/api/sessions/"+sessionID+"/attachments", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("x-api-key", u.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Attachments []struct {
			AttachmentID string `json:"attachmentId"`
		} `json:"attachments"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || len(out.Attachments) != 1 {
		t.Fatalf("upload: %s %v %+v", resp.Status, err, out)
	}
	return out.Attachments[0].AttachmentID
}

// TestRPCStateLoadKeepsLiveMessages: messages the agent ends right after answering get_messages
// are added to the transcript it returned, not overwritten by it (issue 14, divergence 5).
func TestRPCStateLoadKeepsLiveMessages(t *testing.T) {
	bin := fakeAgent(t)
	n := servertest.Start(t)
	u := n.NewUser(t)
	const burst = 50
	// The first message after the answer holds the publisher for a moment, so that anything
	// waiting to change the state gets in before the next message.
	var once sync.Once
	hold := func(_ int64, raw []byte) {
		if strings.Contains(string(raw), `"burst 0"`) {
			once.Do(func() { time.Sleep(200 * time.Millisecond) })
		}
	}
	s := share(t, n, u, Options{SessionID: "s-burst", published: hold,
		Source: &RPC{Argv: []string{bin, "--log", filepath.Join(t.TempDir(), "log"), "--burst", fmt.Sprint(burst)}}})
	s.trace.wait(t, fmt.Sprintf(`"burst %d"`, burst-1))
	s.trace.wait(t, `"fake-model-1"`)
	// The first live session_active must be the one answering this viewer, not one still on its
	// way through a relay the machine's load has held back.
	s.settled(t)
	v := watch(t, n, u, "s-burst", s.trace)
	snap := v.UntilType("session_active")
	if got := len(sharetest.Field[[]any](t, snap[len(snap)-1].Event.Raw, "state", "messages")); got != 1+burst {
		t.Fatalf("the snapshot has %d messages, want %d", got, 1+burst)
	}
}

// TestRPCRestartWorker: in a session a runner started, restart ends Run with ErrRestart (the
// worker exits with 43 and the runner starts it again) and leaves the session open on the relay.
func TestRPCRestartWorker(t *testing.T) {
	t.Setenv(RunnerIDEnv, "0b6f5a4e-2f7c-4f7e-8d0e-1c2b3a4d5e6f")
	bin := fakeAgent(t)
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := share(t, n, u, Options{SessionID: "s-restart", Source: &RPC{Argv: []string{bin, "--log", filepath.Join(t.TempDir(), "log")}}})
	s.trace.wait(t, `"fake-model-1"`)
	v := watch(t, n, u, "s-restart", s.trace)
	v.Command("exec", map[string]any{"id": "x-1", "command": "restart"})
	if r := v.ExecResult("x-1"); r["ok"] != true {
		t.Fatalf("restart: %v", r)
	}
	select {
	case err := <-s.done:
		s.done <- err
		if !errors.Is(err, ErrRestart) {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(servertest.Timeout):
		t.Fatal("Run did not return")
	}
	// The relay keeps the session for the worker's next start: the viewer is not told it ended.
	if names := v.C.Names(); slices.Contains(names, "disconnected") {
		t.Fatalf("the viewer was told the session ended: %v", names)
	}
}

// TestRPCKeepsGivenName: the name share was given stays when the agent has none.
func TestRPCKeepsGivenName(t *testing.T) {
	bin := fakeAgent(t)
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := share(t, n, u, Options{SessionID: "s-named", SessionName: "given name", Source: &RPC{Argv: []string{bin, "--log", filepath.Join(t.TempDir(), "log"), "--name", ""}}})
	s.trace.wait(t, `"fake-model-1"`)
	v := watch(t, n, u, "s-named", s.trace)
	snap := v.UntilType("session_active")
	if got := sharetest.Field[string](t, snap[len(snap)-1].Event.Raw, "state", "sessionName"); got != "given name" {
		t.Fatalf("the snapshot names the session %q", got)
	}
}
