package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pizzapi/pizzapi/server/accounts"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// legacyWait bounds one wait of a legacy client (the machine running the tests is loaded).
const legacyWait = 20 * time.Second

// legacyClient speaks PizzaPi's raw-WebSocket protocol as its old clients did: one JSON object
// {type, ...} per text frame. It records every frame it receives and how the server closed it.
type legacyClient struct {
	t  testing.TB
	ws *websocket.Conn

	mu        sync.Mutex
	frames    []map[string]json.RawMessage
	cursor    map[string]int
	changed   chan struct{}
	closed    bool
	closeCode int
	closeText string
}

// legacyHeaders returns the credentials an old client sends: the API key (CLI, runner) or the
// browser session cookie (viewer, terminal, hub).
func legacyHeaders(u servertest.User, cookie bool) http.Header {
	if cookie {
		return http.Header{"Cookie": {accounts.CookieName + "=" + u.Cookie.Value}}
	}
	return http.Header{"x-api-key": {u.APIKey}}
}

// dialLegacy opens a legacy connection to path on the relay at base (http://...).
func dialLegacy(t testing.TB, base, path string, h http.Header) *legacyClient {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+path, h)
	if err != nil {
		status := ""
		if resp != nil {
			body, _ := io.ReadAll(resp.Body)
			status = resp.Status + " " + string(body)
		}
		t.Fatalf("dial %s: %v %s", path, err, status)
	}
	c := &legacyClient{t: t, ws: ws, cursor: map[string]int{}, changed: make(chan struct{})}
	go c.read()
	t.Cleanup(func() { _ = ws.Close() })
	return c
}

// refusedLegacy tries a legacy upgrade that the relay must refuse and returns its status and body.
func refusedLegacy(t testing.TB, base, path string, h http.Header) (int, string) {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+path, h)
	if err == nil {
		ws.Close()
		t.Fatalf("dial %s: the relay accepted the connection", path)
	}
	if resp == nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (c *legacyClient) read() {
	for {
		_, data, err := c.ws.ReadMessage()
		c.mu.Lock()
		if err != nil {
			c.closed = true
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				c.closeCode, c.closeText = ce.Code, ce.Text
			}
		} else {
			var f map[string]json.RawMessage
			if json.Unmarshal(data, &f) != nil {
				f = map[string]json.RawMessage{"type": json.RawMessage(`"(unparseable)"`), "raw": data}
			}
			c.frames = append(c.frames, f)
		}
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// send writes one frame.
func (c *legacyClient) send(frame map[string]any) {
	c.t.Helper()
	raw, err := json.Marshal(frame)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(string(raw))
}

// sendRaw writes one text frame as it is.
func (c *legacyClient) sendRaw(s string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("send %.200s: %v", s, err)
	}
}

// next returns the next frame of type typ (after those already taken) for which ok holds (nil:
// any), waiting for it.
func (c *legacyClient) next(typ string, ok func(map[string]json.RawMessage) bool) map[string]json.RawMessage {
	c.t.Helper()
	deadline := time.After(legacyWait)
	for {
		c.mu.Lock()
		for i := c.cursor[typ]; i < len(c.frames); i++ {
			f := c.frames[i]
			if str(f["type"]) == typ && (ok == nil || ok(f)) {
				c.cursor[typ] = i + 1
				c.mu.Unlock()
				return f
			}
		}
		changed, closed := c.changed, c.closed
		c.mu.Unlock()
		if closed {
			c.t.Fatalf("no %q frame before the connection closed; got %s", typ, c.types())
		}
		select {
		case <-changed:
		case <-deadline:
			c.t.Fatalf("no %q frame within %s; got %s", typ, legacyWait, c.types())
		}
	}
}

// types lists the types of the frames received, for failure messages.
func (c *legacyClient) types() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, f := range c.frames {
		out = append(out, str(f["type"]))
	}
	return "[" + strings.Join(out, " ") + "]"
}

// all returns the frames of a type received so far.
func (c *legacyClient) all(typ string) []map[string]json.RawMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []map[string]json.RawMessage
	for _, f := range c.frames {
		if str(f["type"]) == typ {
			out = append(out, f)
		}
	}
	return out
}

// waitClosed waits until the server closed the connection and returns the close code and reason.
func (c *legacyClient) waitClosed() (int, string) {
	c.t.Helper()
	deadline := time.After(legacyWait)
	for {
		c.mu.Lock()
		changed, closed, code, text := c.changed, c.closed, c.closeCode, c.closeText
		c.mu.Unlock()
		if closed {
			return code, text
		}
		select {
		case <-changed:
		case <-deadline:
			c.t.Fatalf("the server did not close the connection within %s; got %s", legacyWait, c.types())
		}
	}
}

// isOpen reports whether the connection is still open.
func (c *legacyClient) isOpen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.closed
}

// close closes the connection the way old clients do (close() without a code).
func (c *legacyClient) close() {
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNoStatusReceived, ""), time.Now().Add(time.Second))
	_ = c.ws.Close()
}

// show formats a frame for failure messages.
func show(f map[string]json.RawMessage) string {
	raw, _ := json.Marshal(f)
	return string(raw)
}

// str decodes a JSON string ("" for anything else).
func str(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// num decodes a JSON number (-1 for anything else).
func num(raw json.RawMessage) int64 {
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// oldCLI is PizzaPi's CLI before Socket.IO: it registers a session on /ws/sessions and numbers its
// events 1, 2, 3... per registration.
type oldCLI struct {
	*legacyClient
	sessionID, token string
	seq              int
}

// registerOldCLI connects an old CLI and registers sessionID as the old CLI did.
func registerOldCLI(t testing.TB, base string, u servertest.User, sessionID string) *oldCLI {
	t.Helper()
	c := &oldCLI{legacyClient: dialLegacy(t, base, "/ws/sessions", legacyHeaders(u, false))}
	c.register(sessionID)
	return c
}

func (c *oldCLI) register(sessionID string) {
	c.t.Helper()
	c.send(map[string]any{"type": "register", "sessionId": sessionID, "cwd": "/home/me/app", "collabMode": true, "sessionName": nil})
	reg := c.next("registered", func(f map[string]json.RawMessage) bool { return str(f["sessionId"]) == sessionID })
	c.sessionID, c.token, c.seq = sessionID, str(reg["token"]), 0
}

// event publishes one agent event with the next number and waits for its event_ack.
func (c *oldCLI) event(ev map[string]any) int {
	c.t.Helper()
	c.seq++
	seq := c.seq
	c.send(map[string]any{"type": "event", "sessionId": c.sessionID, "token": c.token, "event": ev, "seq": seq})
	c.next("event_ack", func(f map[string]json.RawMessage) bool { return num(f["seq"]) >= int64(seq) })
	return seq
}

// end sends session_end and closes, as the old CLI does when it quits.
func (c *oldCLI) end() {
	c.send(map[string]any{"type": "session_end", "sessionId": c.sessionID, "token": c.token})
	c.close()
}

// sessionActive is the snapshot event an old CLI sends first.
func sessionActive(name string) map[string]any {
	return map[string]any{"type": "session_active", "state": map[string]any{
		"messages": []any{}, "model": map[string]any{"provider": "anthropic", "id": "claude-sonnet-4-5"},
		"thinkingLevel": "off", "sessionName": name, "cwd": "/home/me/app", "todoList": []any{},
	}}
}

// textDelta is an assistant message_update carrying text.
func textDelta(text string) map[string]any {
	return map[string]any{"type": "message_update", "message": map[string]any{"role": "assistant", "content": []any{}},
		"assistantMessageEvent": map[string]any{"type": "text_delta", "contentIndex": 0, "delta": text}}
}
