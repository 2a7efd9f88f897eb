package watch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/internal/syncbuf"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/servertest"
)

func waitFor(t *testing.T, out *syncbuf.Buffer, want string) {
	t.Helper()
	deadline := time.Now().Add(servertest.Timeout)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRenderer(t *testing.T) {
	var b bytes.Buffer
	r := NewRenderer(&b, false)
	for _, ev := range []string{
		`{"type":"session_active","state":{"messages":[{"role":"user","content":"fix the test"},{"role":"assistant","content":[{"type":"text","text":"On it."}]}]}}`,
		`{"type":"heartbeat","active":true,"model":{"provider":"anthropic","id":"opus"}}`,
		`{"type":"message_update","assistantMessageEvent":{"type":"thinking_delta","delta":"hmm"}}`,
		`{"type":"message_update","assistantMessageEvent":{"type":"text_delta","delta":"Hel"}}`,
		`{"type":"message_update","assistantMessageEvent":{"type":"text_delta","delta":"lo"}}`,
		`{"type":"message_end","message":{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","durationSeconds":2}]}}`,
		`{"type":"tool_execution_start","toolName":"bash","args":{"command":"go test"}}`,
		`{"type":"tool_execution_end","toolName":"bash","result":{"content":[{"type":"text","text":"ok"}]},"isError":false}`,
		`{"type":"todo_update","todos":[{"content":"write code","status":"completed"},{"content":"test","status":"pending"}]}`,
		`{"type":"agent_end","messages":[]}`,
	} {
		r.Event([]byte(ev))
	}
	want := "user: fix the test\nassistant: On it.\nmodel: anthropic/opus\nthinking: hmm\nassistant: Hello\n(thought for 2s)\n" +
		"▶ bash {\"command\":\"go test\"}\n✓ bash ok\ntodo:\n  [x] write code\n  [ ] test\n— agent finished —\n"
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestFollowAndList: watch follows a live session (snapshot, then streamed events), sends typed
// input to the agent, and lists sessions from the hub.
func TestFollowAndList(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	c := n.Dial(t, "/relay", servertest.DialOptions{User: &u})
	var reg relay.Registered
	_ = reg.UnmarshalJSON(c.Ack(t, "register", map[string]any{"sessionId": "s-watch", "cwd": "/w", "sessionName": "demo"}))
	send := func(seq int, inner string) {
		c.Emit(t, "event", fmt.Sprintf(`{"sessionId":"s-watch","token":%q,"seq":%d,"event":%s}`, reg.Token, seq, inner))
	}
	send(1, `{"type":"session_active","state":{"messages":[{"role":"user","content":"hello agent"}]}}`)
	c.Next(t, "event_ack")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncbuf.Buffer
	inR, inW := newPipe()
	done := make(chan error, 1)
	go func() { done <- Follow(ctx, Options{URL: n.URL, APIKey: u.APIKey, Out: &out, Input: inR}, "s-watch") }()
	waitFor(t, &out, "user: hello agent")
	send(2, `{"type":"message_update","assistantMessageEvent":{"type":"text_delta","delta":"Hi there"}}`)
	waitFor(t, &out, "assistant: Hi there")
	fmt.Fprintln(inW, "please continue")
	if in := c.Next(t, "input"); !strings.Contains(string(in), `"text":"please continue"`) {
		t.Fatalf("input %s", in)
	}
	// Slash commands run through the generated exec commands; their results are decoded and
	// shown.
	fmt.Fprintln(inW, "/name renamed session")
	var e protocol.Exec
	c.NextInto(t, "exec", &e)
	if e.Command != "set_session_name" || string(e.Extra["name"]) != `"renamed session"` {
		t.Fatalf("exec %s", e.AppendJSON(nil))
	}
	c.Emit(t, "exec_result", map[string]any{"id": e.ID, "ok": true, "command": e.Command, "result": map[string]any{"sessionName": "renamed session"}})
	waitFor(t, &out, "renamed the session to renamed session")
	fmt.Fprintln(inW, "/thinking")
	c.NextInto(t, "exec", &e)
	c.Emit(t, "exec_result", map[string]any{"id": e.ID, "ok": false, "command": e.Command, "error": "thinking is off for this model"})
	waitFor(t, &out, "/thinking failed: thinking is off for this model")
	fmt.Fprintln(inW, "/thinking max")
	waitFor(t, &out, "usage: /thinking")
	fmt.Fprintln(inW, "/stop")
	c.NextInto(t, "exec", &e)
	c.Emit(t, "exec_result", map[string]any{"id": e.ID, "ok": true, "command": "abort"})
	waitFor(t, &out, "stopped the agent")
	fmt.Fprintln(inW, "//etc/hosts is odd")
	if in := c.Next(t, "input"); !strings.Contains(string(in), `"text":"/etc/hosts is odd"`) {
		t.Fatalf("input %s", in)
	}

	var list syncbuf.Buffer
	go func() { _ = List(ctx, Options{URL: n.URL, APIKey: u.APIKey, Out: &list}) }()
	waitFor(t, &list, "s-watch")
	waitFor(t, &list, "demo")
	c.Emit(t, "session_end", map[string]any{"sessionId": "s-watch", "token": reg.Token})
	waitFor(t, &list, "- s-watch ended")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(servertest.Timeout):
		t.Fatal("watch did not end with the session")
	}
	if !strings.Contains(out.String(), "Session ended") {
		t.Fatalf("output:\n%s", out.String())
	}
	// A wrong key is an error, not a retry loop.
	if err := Follow(context.Background(), Options{URL: n.URL, APIKey: "pzp_bad", Out: &out}, "s-watch"); err != ErrUnauthorized {
		t.Fatalf("bad key: %v", err)
	}
	// A session that never existed is an error with its code, not a silent end.
	if err := Follow(context.Background(), Options{URL: n.URL, APIKey: u.APIKey, Out: &out}, "s-never"); !errors.Is(err, protocol.ErrSessionNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
}

// TestFollowReregisteredSession: when the agent registers the session again without resuming it
// (disconnected with code session_reconnected), watch follows the new registration from its first
// event instead of ending.
func TestFollowReregisteredSession(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	register := func() (*servertest.Conn, relay.Registered) {
		c := n.Dial(t, "/relay", servertest.DialOptions{User: &u})
		var reg relay.Registered
		if err := reg.UnmarshalJSON(c.Ack(t, "register", map[string]any{"sessionId": "s-again", "cwd": "/w"})); err != nil {
			t.Fatal(err)
		}
		return c, reg
	}
	send := func(c *servertest.Conn, reg relay.Registered, seq int, text string) {
		c.Emit(t, "event", fmt.Sprintf(`{"sessionId":"s-again","token":%q,"seq":%d,"event":{"type":"message_update","assistantMessageEvent":{"type":"text_delta","delta":%q}}}`, reg.Token, seq, text))
		c.Next(t, "event_ack")
	}
	c1, reg1 := register()
	send(c1, reg1, 1, "first run")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncbuf.Buffer
	done := make(chan error, 1)
	go func() { done <- Follow(ctx, Options{URL: n.URL, APIKey: u.APIKey, Out: &out}, "s-again") }()
	waitFor(t, &out, "watching session s-again")
	send(c1, reg1, 2, "still first")
	waitFor(t, &out, "still first")

	c2, reg2 := register()
	waitFor(t, &out, "the agent registered the session again")
	waitFor(t, &out, "reconnected")
	send(c2, reg2, 1, "second run")
	waitFor(t, &out, "second run")
	if strings.Contains(out.String(), "Session reconnected") || strings.Contains(out.String(), "connection lost") {
		t.Fatalf("output:\n%s", out.String())
	}
	c2.Emit(t, "session_end", map[string]any{"sessionId": "s-again", "token": reg2.Token})
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(servertest.Timeout):
		t.Fatalf("watch did not end with the session:\n%s", out.String())
	}
	waitFor(t, &out, "Session ended")
}

// TestDisconnectedDecidesOnCode: a disconnected event ends the watch by its code, whatever its
// reason says.
func TestDisconnectedDecidesOnCode(t *testing.T) {
	var out bytes.Buffer
	f := &follower{r: NewRenderer(&out, false), done: make(chan error, 1)}
	d := viewer.Disconnected{Reason: "Session reconnected", Code: protocol.Some(viewer.DisconnectCodeSessionEnded)}
	if err := f.Disconnected(context.Background(), &d); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-f.done:
		if err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatal("the watch goes on after its session ended")
	}
}
