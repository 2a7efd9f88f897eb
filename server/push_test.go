package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/server"
	"github.com/pizzapi/pizzapi/server/config"
	"github.com/pizzapi/pizzapi/server/core"
	"github.com/pizzapi/pizzapi/server/push"
	"github.com/pizzapi/pizzapi/server/push/pushtest"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// pushWait bounds the wait for a push message (a hang guard only).
const pushWait = 10 * time.Second

// localPush lets a node send to the tests' local push services.
func localPush(c *config.Config) { c.PushAllowEndpoints = []string{"http://127.0.0.1:"} }

// call makes a REST request as u (with the session cookie, as the browser does; u nil: no
// credentials) and decodes the JSON answer into out when it is not nil.
func call(t *testing.T, n *servertest.Node, u *servertest.User, method, path string, body any, out any) (int, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, n.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if u != nil {
		req.AddCookie(u.Cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %s: %v", method, path, data, err)
		}
	}
	return resp.StatusCode, string(data)
}

// startPush returns the local push service for node n, signed with n's advertised key.
func startPush(t *testing.T, n *servertest.Node) *pushtest.Service {
	t.Helper()
	var key rest.PushPublicKeyResponse
	if code, body := call(t, n, nil, "GET", "/api/push/vapid-public-key", nil, &key); code != 200 {
		t.Fatalf("vapid-public-key: %d %s", code, body)
	}
	return pushtest.Start(t, key.PublicKey)
}

func subscribe(t *testing.T, n *servertest.Node, u servertest.User, b *pushtest.Browser, events string) string {
	t.Helper()
	var res rest.PushSubscribeResponse
	if code, body := call(t, n, &u, "POST", "/api/push/subscribe", b.Subscription(events), &res); code != 200 || !res.OK || res.ID == "" {
		t.Fatalf("subscribe %s: %d %s", b.Name, code, body)
	}
	return res.ID
}

// TestPushEndToEnd: a user who turned notifications on gets one "Agent finished" when their
// agent ends its turn with nobody watching, and the other kinds as PizzaPi words them; nothing
// while a viewer watches; other users get nothing.
func TestPushEndToEnd(t *testing.T) {
	n := servertest.Start(t, localPush)
	ps := startPush(t, n)
	u, other := n.NewUser(t), n.NewUser(t)
	subscribe(t, n, u, ps.NewBrowser(t, "phone"), "")
	subscribe(t, n, other, ps.NewBrowser(t, "other"), "*")

	c, reg := cli(t, n, u, "s-push-0123")
	next := func(kind string) pushtest.Message {
		t.Helper()
		m := ps.Next(t, pushWait)
		if m.Browser != "phone" || string(m.Payload.Type) != kind || m.Payload.SessionID != "s-push-0123" ||
			m.Payload.URL != n.URL+"/session/s-push-0123" {
			t.Fatalf("want %s for phone, got %s for %s", kind, m.Raw, m.Browser)
		}
		// The relay's base URL is http: PizzaPi's fallback subject, sent exactly as written.
		if m.Subject != push.FallbackSubject {
			t.Fatalf("JWT sub %q, want %q", m.Subject, push.FallbackSubject)
		}
		return m
	}
	next("session_started")
	c.Emit(t, "event", agentEvent(reg, 1, `{"type":"message_update","assistantMessageEvent":{"type":"text_delta","delta":"hi"}}`))
	c.Emit(t, "event", agentEvent(reg, 2, `{"type":"agent_end","messages":[]}`))
	if m := next("agent_finished"); m.Payload.Title != "Agent finished" || m.Payload.Body != `Your agent in "s-push-0" has finished its task.` {
		t.Fatalf("agent_finished: %s", m.Raw)
	}
	ps.Quiet(t, 200*time.Millisecond) // one notification, for the owner only

	q := strings.Repeat("é", 200)
	c.Emit(t, "event", agentEvent(reg, 3, `{"type":"tool_execution_start","toolCallId":"t1","toolName":"AskUserQuestion","args":{"question":"`+q+`"}}`))
	if m := next("agent_needs_input"); m.Payload.Title != "Input needed" || m.Payload.Body != `Agent in "s-push-0" asks: `+strings.Repeat("é", 120) {
		t.Fatalf("agent_needs_input: %s", m.Raw)
	}

	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-push-0123"}})
	v.Next(t, "connected")
	c.Emit(t, "event", agentEvent(reg, 4, `{"type":"agent_end","messages":[]}`))
	v.Next(t, "event")
	c.Emit(t, "event", agentEvent(reg, 5, `{"type":"cli_error","message":"boom"}`))
	v.Next(t, "event")
	ps.Quiet(t, 300*time.Millisecond)
	v.Close()

	deadline := time.Now().Add(pushWait)
	for seq := 6; ; seq++ { // the viewer's departure reaches the count soon after it disconnects
		c.Emit(t, "event", agentEvent(reg, seq, `{"type":"cli_error","message":"boom"}`))
		c.Next(t, "event_ack")
		if m, ok := ps.TryNext(300 * time.Millisecond); ok {
			if m.Err != nil || m.Payload.Type != "agent_error" || m.Payload.Title != "Agent error" || m.Payload.Body != `Error in "s-push-0": boom` {
				t.Fatalf("agent_error: %s", m.Raw)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no notification after the viewer left")
		}
	}
	c.Emit(t, "session_end", map[string]any{"sessionId": "s-push-0123", "token": reg.Token})
	next("session_ended")
}

// TestPushREST: PizzaPi's five endpoints with their bodies; a user sees and changes only their
// own subscriptions; bad input gets a 400 naming what is wrong.
func TestPushREST(t *testing.T) {
	n := servertest.Start(t, localPush)
	ps := startPush(t, n)
	u, other := n.NewUser(t), n.NewUser(t)
	b := ps.NewBrowser(t, "laptop")

	if code, _ := call(t, n, nil, "POST", "/api/push/subscribe", b.Subscription(""), nil); code != 401 {
		t.Errorf("subscribe without credentials: %d", code)
	}
	if code, _ := call(t, n, nil, "GET", "/api/push/subscriptions", nil, nil); code != 401 {
		t.Errorf("list without credentials: %d", code)
	}
	for name, c := range map[string]struct {
		body any
		want string
	}{
		"no keys":         {map[string]any{"endpoint": b.Endpoint}, `"pointer":"/keys"`},
		"empty endpoint":  {map[string]any{"endpoint": "", "keys": map[string]any{"p256dh": b.P256DH(), "auth": b.Auth()}}, "/endpoint"},
		"bad point":       {map[string]any{"endpoint": b.Endpoint, "keys": map[string]any{"p256dh": "BAAA", "auth": b.Auth()}}, "keys.p256dh"},
		"unknown kind":    {b.Subscription("agent_finished,everything"), `unknown notification kind \"everything\"`},
		"loopback https":  {map[string]any{"endpoint": "https://127.0.0.1/push", "keys": map[string]any{"p256dh": b.P256DH(), "auth": b.Auth()}}, "Invalid push endpoint"},
		"plain http":      {map[string]any{"endpoint": "http://push.example.com/x", "keys": map[string]any{"p256dh": b.P256DH(), "auth": b.Auth()}}, "must be an https:// URL"},
		"metadata server": {map[string]any{"endpoint": "https://169.254.169.254/x", "keys": map[string]any{"p256dh": b.P256DH(), "auth": b.Auth()}}, "Invalid push endpoint"},
	} {
		if code, body := call(t, n, &u, "POST", "/api/push/subscribe", c.body, nil); code != 400 || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s, want 400 mentioning %s", name, code, body, c.want)
		}
	}

	first := subscribe(t, n, u, b, "")
	second := subscribe(t, n, u, b, "agent_finished, agent_error") // the same browser again: replaced
	if first == second {
		t.Error("subscribing again kept the id")
	}
	subscribe(t, n, other, ps.NewBrowser(t, "theirs"), "")
	var list rest.PushSubscriptionsResponse
	if code, body := call(t, n, &u, "GET", "/api/push/subscriptions", nil, &list); code != 200 || strings.Contains(body, "p256dh") || strings.Contains(body, "auth") {
		t.Fatalf("list: %d %s", code, body)
	}
	if len(list.Subscriptions) != 1 || list.Subscriptions[0].ID != second || list.Subscriptions[0].Endpoint != b.Endpoint ||
		list.Subscriptions[0].EnabledEvents != "agent_finished,agent_error" || !strings.HasSuffix(list.Subscriptions[0].CreatedAt, "Z") {
		t.Fatalf("list: %+v", list)
	}

	if code, body := call(t, n, &u, "PUT", "/api/push/events", map[string]any{"endpoint": b.Endpoint, "enabledEvents": "bogus"}, nil); code != 400 {
		t.Errorf("events with an unknown kind: %d %s", code, body)
	}
	if code, body := call(t, n, &u, "PUT", "/api/push/events", map[string]any{"endpoint": b.Endpoint, "enabledEvents": "*"}, nil); code != 200 || body != `{"ok":true}` {
		t.Errorf("events: %d %s", code, body)
	}
	if code, _ := call(t, n, &u, "PUT", "/api/push/events", map[string]any{"endpoint": "https://push.example/unknown", "enabledEvents": "*"}, nil); code != 200 {
		t.Errorf("events of an unknown endpoint: %d, want PizzaPi's {ok:true}", code)
	}
	// Another user cannot unsubscribe or change this browser's subscription of u.
	call(t, n, &other, "POST", "/api/push/unsubscribe", map[string]any{"endpoint": b.Endpoint}, nil)
	call(t, n, &other, "PUT", "/api/push/events", map[string]any{"endpoint": b.Endpoint, "enabledEvents": "session_ended"}, nil)
	call(t, n, &u, "GET", "/api/push/subscriptions", nil, &list)
	if len(list.Subscriptions) != 1 || list.Subscriptions[0].EnabledEvents != "*" {
		t.Fatalf("after another user's requests: %+v", list)
	}

	if code, body := call(t, n, &u, "POST", "/api/push/unsubscribe", map[string]any{"endpoint": b.Endpoint}, nil); code != 200 || body != `{"ok":true}` {
		t.Errorf("unsubscribe: %d %s", code, body)
	}
	if code, _ := call(t, n, &u, "POST", "/api/push/unsubscribe", map[string]any{"endpoint": b.Endpoint}, nil); code != 200 {
		t.Errorf("unsubscribe again: %d", code)
	}
	call(t, n, &u, "GET", "/api/push/subscriptions", nil, &list)
	if len(list.Subscriptions) != 0 {
		t.Fatalf("after unsubscribe: %+v", list)
	}
}

// TestPushKeysKeptAcrossRestarts: the generated VAPID pair is stored, so browsers that subscribed
// before a restart keep receiving; configured keys are used as given.
func TestPushKeysKeptAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	key := func(mods ...func(*config.Config)) string {
		n := servertest.Start(t, append([]func(*config.Config){func(c *config.Config) { c.DataDir = dir }}, mods...)...)
		defer n.Stop(t)
		var k rest.PushPublicKeyResponse
		if code, body := call(t, n, nil, "GET", "/api/push/vapid-public-key", nil, &k); code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		return k.PublicKey
	}
	first := key()
	if again := key(); again != first {
		t.Errorf("the key changed across a restart: %s, then %s", first, again)
	}
	configured, err := push.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	if got := key(func(c *config.Config) { c.VAPIDPublicKey, c.VAPIDPrivateKey = configured.Public, configured.Private }); got != configured.Public {
		t.Errorf("configured key %s, served %s", configured.Public, got)
	}
}

// TestPushStartupRefusals: a subject push services would refuse, or a broken key pair, stops
// the relay at start-up with a clear error; disabled push answers 503.
func TestPushStartupRefusals(t *testing.T) {
	k1, _ := push.GenerateKeys()
	k2, _ := push.GenerateKeys()
	for name, c := range map[string]struct {
		mod  func(*config.Config)
		want string
	}{
		"mailto twice":      {func(c *config.Config) { c.VAPIDSubject = "mailto:mailto:ops@example.com" }, "VAPID subject"},
		"bare address":      {func(c *config.Config) { c.VAPIDSubject = "ops@example.com" }, "VAPID subject"},
		"http subject":      {func(c *config.Config) { c.VAPIDSubject = "http://relay.example.com" }, "VAPID subject"},
		"mismatched keys":   {func(c *config.Config) { c.VAPIDPublicKey, c.VAPIDPrivateKey = k1.Public, k2.Private }, "does not belong"},
		"one key only":      {func(c *config.Config) { c.VAPIDPublicKey = k1.Public }, "together"},
		"bad allow prefix":  {func(c *config.Config) { c.PushAllowEndpoints = []string{"127.0.0.1"} }, "prefix"},
		"malformed private": {func(c *config.Config) { c.VAPIDPublicKey, c.VAPIDPrivateKey = k1.Public, "!!" }, "private key"},
	} {
		cfg := config.Default()
		cfg.DataDir = t.TempDir()
		c.mod(&cfg)
		srv, err := server.New(t.Context(), cfg, servertest.Logger())
		if err == nil {
			srv.Shutdown(context.Background())
			t.Errorf("%s: the relay started", name)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want it to mention %q", name, err, c.want)
		}
	}
	n := servertest.Start(t, func(c *config.Config) { c.DisablePush = true })
	if code, body := call(t, n, nil, "GET", "/api/push/vapid-public-key", nil, nil); code != 503 || !strings.Contains(body, "disabled") {
		t.Errorf("disabled push: %d %s", code, body)
	}
}

// TestPushDoesNotDelayThePipeline: while the push service hangs, the CLI's events keep being
// acknowledged and reach viewers; what cannot be queued is dropped and counted.
func TestPushDoesNotDelayThePipeline(t *testing.T) {
	n := servertest.Start(t, localPush)
	ps := startPush(t, n)
	u := n.NewUser(t)
	subscribe(t, n, u, ps.NewBrowser(t, "slow"), "agent_finished")
	release := make(chan struct{})
	defer close(release)
	hung := make(chan struct{}, 1000)
	ps.Respond(func(ctx context.Context, _ string, _ int) int {
		hung <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return http.StatusCreated
	})
	c, reg := cli(t, n, u, "s-push-slow")
	for i := 1; i <= 2000; i++ {
		c.Emit(t, "event", agentEvent(reg, i, `{"type":"agent_end","messages":[]}`))
	}
	for range 2000 {
		c.Next(t, "event_ack")
	}
	select {
	case <-hung:
	case <-time.After(pushWait):
		t.Fatal("the push service was never called")
	}
	code, body := call(t, n, nil, "GET", "/metrics", nil, nil)
	if code != 200 || !strings.Contains(body, `pizzapi_push_dropped_total{reason="queue_full"}`) {
		t.Errorf("no queue_full drops counted in the metrics")
	}
}

// TestClusterPushOnce: two nodes sharing Redis and PostgreSQL. A browser subscribed through one
// node gets exactly one notification per event of a session on the other; both nodes sign with
// the same key; the same notification handed to both nodes goes out once.
func TestClusterPushOnce(t *testing.T) {
	nodes := servertest.StartCluster(t, 2, localPush)
	a, b := nodes[0], nodes[1]
	ps := startPush(t, a)
	var ka, kb rest.PushPublicKeyResponse
	call(t, a, nil, "GET", "/api/push/vapid-public-key", nil, &ka)
	call(t, b, nil, "GET", "/api/push/vapid-public-key", nil, &kb)
	if ka.PublicKey != kb.PublicKey {
		t.Fatalf("the nodes sign with different keys: %s and %s", ka.PublicKey, kb.PublicKey)
	}
	u := a.NewUser(t)
	subscribe(t, a, u, ps.NewBrowser(t, "phone"), "agent_finished")

	c, reg := cli(t, b, u, "s-push-cluster")
	for i := 1; i <= 5; i++ {
		c.Emit(t, "event", agentEvent(reg, i, `{"type":"agent_end","messages":[]}`))
		c.Next(t, "event_ack")
		if m := ps.Next(t, pushWait); m.Payload.Type != "agent_finished" {
			t.Fatalf("got %s", m.Raw)
		}
	}
	ps.Quiet(t, 300*time.Millisecond)

	note := core.Notification{ID: "s-push-cluster:manual", Kind: core.NotifyAgentFinished, UserID: u.ID, SessionID: "s-push-cluster",
		Title: "Agent finished", Body: "done", URL: a.URL + "/session/s-push-cluster"}
	a.Server.Push().Notify(t.Context(), note)
	b.Server.Push().Notify(t.Context(), note)
	ps.Next(t, pushWait)
	ps.Quiet(t, 300*time.Millisecond)
}
