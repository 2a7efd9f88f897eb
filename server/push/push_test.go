package push_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/core"
	"github.com/pizzapi/pizzapi/server/push"
	"github.com/pizzapi/pizzapi/server/push/pushtest"
	"github.com/pizzapi/pizzapi/server/store"
	"github.com/pizzapi/pizzapi/server/store/sqlstore"
)

// wait bounds how long a test waits for something that should happen (a hang guard only).
const wait = 10 * time.Second

// counter is a push.Observer that counts.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) PushDelivery(outcome string) { c.add(outcome) }
func (c *counter) PushDropped(reason string)   { c.add("dropped:" + reason) }
func (c *counter) add(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[k]++
}
func (c *counter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

// await waits until k was counted n times, failing after wait (a hang guard).
func (c *counter) await(t *testing.T, k string, n int) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for c.get(k) != n {
		if time.Now().After(deadline) {
			c.mu.Lock()
			defer c.mu.Unlock()
			t.Fatalf("%s counted %d times, want %d (all: %v)", k, c.n[k], n, c.n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type fixture struct {
	db   *sqlstore.Store
	svc  *push.Service
	ps   *pushtest.Service
	keys push.Keys
	obs  *counter
}

// newFixture runs a push service on a fresh SQLite store with users u1 and u2, sending to a local
// push service that the policy admits.
func newFixture(t *testing.T, mods ...func(*push.Options)) *fixture {
	t.Helper()
	db, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, id := range []string{"u1", "u2"} {
		if err := db.CreateUser(t.Context(), store.User{ID: id, Email: id + "@example.com", Name: id, PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := push.LoadKeys(t.Context(), db, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, keys: keys, ps: pushtest.Start(t, keys.Public), obs: &counter{}}
	policy, err := push.NewPolicy([]string{f.ps.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	o := push.Options{Store: db, Keys: keys, Subject: "mailto:ops@example.com", Policy: policy, Observer: f.obs,
		RetryDelay: time.Millisecond, MaxRetryDelay: 20 * time.Millisecond, RequestTimeout: 2 * time.Second}
	for _, m := range mods {
		m(&o)
	}
	if f.svc, err = push.New(o); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.svc.Close)
	return f
}

func (f *fixture) subscribe(t *testing.T, user string, b *pushtest.Browser, events string) store.PushSubscription {
	t.Helper()
	sub, err := f.svc.Subscribe(t.Context(), user, push.Subscription{Endpoint: b.Endpoint, P256DH: b.P256DH(), Auth: b.Auth(), EnabledEvents: events})
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

var seq int

func note(kind, user string) core.Notification {
	seq++
	return core.Notification{ID: "s1:" + strconv.Itoa(seq), Kind: kind, UserID: user, SessionID: "s1", SessionName: "fix tests",
		Title: "Agent finished", Body: `Your agent in "fix tests" has finished its task.`, URL: "https://relay.example/session/s1"}
}

// TestDelivery: what a push service receives is signed with the advertised key for its origin,
// carries the configured subject exactly (not "mailto:mailto:..."), decrypts to PizzaPi's payload
// plus the session URL, and has TTL, Urgency and Topic set per kind.
func TestDelivery(t *testing.T) {
	f := newFixture(t)
	b := f.ps.NewBrowser(t, "b1")
	f.subscribe(t, "u1", b, "")
	f.svc.Notify(t.Context(), note(core.NotifyAgentFinished, "u1"))
	m := f.ps.Next(t, wait)
	if m.Subject != "mailto:ops@example.com" {
		t.Errorf("JWT sub %q", m.Subject)
	}
	p := m.Payload
	if p.Type != "agent_finished" || p.Title != "Agent finished" || p.Body != `Your agent in "fix tests" has finished its task.` ||
		p.SessionID != "s1" || p.URL != "https://relay.example/session/s1" || p.SessionName.Or("") != "fix tests" {
		t.Errorf("payload %s", m.Raw)
	}
	if m.Header.Get("TTL") != "86400" || m.Header.Get("Urgency") != "normal" || len(m.Header.Get("Topic")) != 32 {
		t.Errorf("headers TTL=%q Urgency=%q Topic=%q", m.Header.Get("TTL"), m.Header.Get("Urgency"), m.Header.Get("Topic"))
	}
	f.svc.Notify(t.Context(), note(core.NotifyAgentNeedsInput, "u1"))
	if m := f.ps.Next(t, wait); m.Payload.Type != "agent_needs_input" || m.Header.Get("Urgency") != "high" {
		t.Errorf("needs input: %s urgency %q", m.Raw, m.Header.Get("Urgency"))
	}
	f.svc.Notify(t.Context(), note(core.NotifySessionStarted, "u1"))
	if m := f.ps.Next(t, wait); m.Payload.Type != "session_started" || m.Header.Get("TTL") != "3600" || m.Header.Get("Urgency") != "low" {
		t.Errorf("session started: %s TTL %q urgency %q", m.Raw, m.Header.Get("TTL"), m.Header.Get("Urgency"))
	}
	f.obs.await(t, "sent", 3)
}

// TestHTTPSSubject: an https subject is sent as it is.
func TestHTTPSSubject(t *testing.T) {
	f := newFixture(t, func(o *push.Options) { o.Subject = "https://relay.example.com" })
	f.subscribe(t, "u1", f.ps.NewBrowser(t, "b1"), "")
	f.svc.Notify(t.Context(), note(core.NotifyAgentFinished, "u1"))
	if m := f.ps.Next(t, wait); m.Subject != "https://relay.example.com" {
		t.Errorf("JWT sub %q", m.Subject)
	}
}

// TestEnabledEvents: each subscription gets the kinds it enabled; other users get nothing.
func TestEnabledEvents(t *testing.T) {
	f := newFixture(t)
	all, errs, both := f.ps.NewBrowser(t, "all"), f.ps.NewBrowser(t, "errors"), f.ps.NewBrowser(t, "both")
	f.subscribe(t, "u1", all, "*")
	f.subscribe(t, "u1", errs, "agent_error")
	f.subscribe(t, "u1", both, " agent_error , agent_finished")
	f.subscribe(t, "u2", f.ps.NewBrowser(t, "other-user"), "*")
	got := func(n int) []string {
		var names []string
		for range n {
			m := f.ps.Next(t, wait)
			names = append(names, m.Browser+":"+string(m.Payload.Type))
		}
		slices.Sort(names)
		f.ps.Quiet(t, 100*time.Millisecond)
		return names
	}
	f.svc.Notify(t.Context(), note(core.NotifyAgentFinished, "u1"))
	if g := got(2); !slices.Equal(g, []string{"all:agent_finished", "both:agent_finished"}) {
		t.Errorf("agent_finished reached %v", g)
	}
	f.svc.Notify(t.Context(), note(core.NotifyAgentError, "u1"))
	if g := got(3); !slices.Equal(g, []string{"all:agent_error", "both:agent_error", "errors:agent_error"}) {
		t.Errorf("agent_error reached %v", g)
	}
	if ok, err := f.svc.SetEvents(t.Context(), "u1", all.Endpoint, "session_ended"); err != nil || !ok {
		t.Fatalf("SetEvents: %v %v", ok, err)
	}
	f.svc.Notify(t.Context(), note(core.NotifyAgentNeedsInput, "u1"))
	f.ps.Quiet(t, 200*time.Millisecond)
}

// TestGoneSubscriptions: 404 and 410 delete the subscription; 401 and 400 keep it.
func TestGoneSubscriptions(t *testing.T) {
	f := newFixture(t)
	statuses := map[string]int{"gone": http.StatusGone, "missing": http.StatusNotFound, "unauthorized": http.StatusUnauthorized, "bad": http.StatusBadRequest}
	for name := range statuses {
		f.subscribe(t, "u1", f.ps.NewBrowser(t, name), "")
	}
	f.ps.Respond(func(_ context.Context, browser string, _ int) int { return statuses[browser] })
	f.svc.Notify(t.Context(), note(core.NotifyAgentFinished, "u1"))
	for range statuses {
		f.ps.Next(t, wait)
	}
	deadline := time.Now().Add(wait)
	for {
		subs, err := f.svc.Subscriptions(t.Context(), "u1")
		if err != nil {
			t.Fatal(err)
		}
		var left []string
		for _, s := range subs {
			left = append(left, s.Endpoint[len(f.ps.URL+"/push/"):])
		}
		slices.Sort(left)
		if slices.Equal(left, []string{"bad", "unauthorized"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscriptions left: %v", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.ps.Quiet(t, 100*time.Millisecond) // no retries for 4xx
}

// TestRetries: 429 and 503 are retried until the push service accepts; a delivery that keeps
// failing is given up after the configured attempts.
func TestRetries(t *testing.T) {
	f := newFixture(t, func(o *push.Options) { o.Attempts = 3 })
	f.subscribe(t, "u1", f.ps.NewBrowser(t, "flaky"), "")
	f.subscribe(t, "u1", f.ps.NewBrowser(t, "down"), "")
	f.ps.Respond(func(_ context.Context, browser string, n int) int {
		if browser == "down" {
			return http.StatusServiceUnavailable
		}
		return []int{http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusCreated}[min(n, 3)-1]
	})
	f.svc.Notify(t.Context(), note(core.NotifyAgentFinished, "u1"))
	var flaky, down []int
	for range 6 {
		m := f.ps.Next(t, wait)
		if m.Browser == "flaky" {
			flaky = append(flaky, m.Status)
		} else {
			down = append(down, m.Status)
		}
		if m.Payload.Type != "agent_finished" {
			t.Errorf("retry carries %s", m.Raw)
		}
	}
	f.ps.Quiet(t, 200*time.Millisecond)
	if !slices.Equal(flaky, []int{429, 503, 201}) || !slices.Equal(down, []int{503, 503, 503}) {
		t.Errorf("flaky answered %v, down %v", flaky, down)
	}
	f.obs.await(t, "sent", 1)
	f.obs.await(t, "gave_up", 1)
	f.obs.await(t, "retried", 4)
	if subs, _ := f.svc.Subscriptions(t.Context(), "u1"); len(subs) != 2 {
		t.Errorf("%d subscriptions left, want both kept", len(subs))
	}
}

// TestHangingPushService: a push service that never answers does not hold up Notify; the queue
// stays bounded (drops are counted) and other notifications go out once a worker is free.
func TestHangingPushService(t *testing.T) {
	f := newFixture(t, func(o *push.Options) {
		o.Workers, o.QueueSize, o.Attempts = 1, 2, 1
		o.RequestTimeout = time.Hour // only Close ends the hang
	})
	f.subscribe(t, "u1", f.ps.NewBrowser(t, "hangs"), "")
	arrived := make(chan struct{}, 100)
	f.ps.Respond(func(ctx context.Context, _ string, _ int) int {
		arrived <- struct{}{}
		<-ctx.Done()
		return http.StatusCreated
	})
	f.svc.Notify(t.Context(), note(core.NotifyAgentFinished, "u1"))
	select {
	case <-arrived:
	case <-time.After(wait):
		t.Fatal("the request never reached the push service")
	}
	done := make(chan struct{})
	go func() {
		for range 100 {
			f.svc.Notify(context.Background(), note(core.NotifyAgentFinished, "u1"))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("Notify blocked behind a hanging push service")
	}
	if f.obs.get("dropped:queue_full") < 98 {
		t.Errorf("%d dropped, want at least 98 of 100 with a queue of 2", f.obs.get("dropped:queue_full"))
	}
	f.svc.Close() // cancels the hanging request
}

// TestClaims: two services sharing claims send a notification once.
func TestClaims(t *testing.T) {
	claims := push.NewMemoryClaims()
	f := newFixture(t, func(o *push.Options) { o.Claims = claims })
	f.subscribe(t, "u1", f.ps.NewBrowser(t, "b1"), "")
	policy, _ := push.NewPolicy([]string{f.ps.URL + "/"})
	other, err := push.New(push.Options{Store: f.db, Keys: f.keys, Subject: "mailto:ops@example.com", Policy: policy, Claims: claims})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	n := note(core.NotifyAgentFinished, "u1")
	f.svc.Notify(t.Context(), n)
	other.Notify(t.Context(), n)
	f.ps.Next(t, wait)
	f.ps.Quiet(t, 200*time.Millisecond)
}

func TestSubscribeValidation(t *testing.T) {
	f := newFixture(t)
	b := f.ps.NewBrowser(t, "b1")
	cases := []struct {
		name string
		sub  push.Subscription
	}{
		{"public key not on the curve", push.Subscription{Endpoint: b.Endpoint, P256DH: "BAAA", Auth: b.Auth()}},
		{"auth of 8 bytes", push.Subscription{Endpoint: b.Endpoint, P256DH: b.P256DH(), Auth: "AAAAAAAAAAA"}},
		{"unknown kind", push.Subscription{Endpoint: b.Endpoint, P256DH: b.P256DH(), Auth: b.Auth(), EnabledEvents: "agent_finished,AGENT_ERROR"}},
		{"loopback https", push.Subscription{Endpoint: "https://127.0.0.1/push", P256DH: b.P256DH(), Auth: b.Auth()}},
	}
	for _, c := range cases {
		var ie *push.InputError
		if _, err := f.svc.Subscribe(t.Context(), "u1", c.sub); !errors.As(err, &ie) {
			t.Errorf("%s: error %v, want an InputError", c.name, err)
		}
	}
	sub := f.subscribe(t, "u1", b, "agent_error, agent_finished,agent_error")
	if sub.EnabledEvents != "agent_error,agent_finished" {
		t.Errorf("enabled events stored as %q", sub.EnabledEvents)
	}
}

func TestPolicy(t *testing.T) {
	p, err := push.NewPolicy([]string{"http://127.0.0.1:9999/", "https://push.corp.internal/"})
	if err != nil {
		t.Fatal(err)
	}
	ok := []string{
		"https://fcm.googleapis.com/fcm/send/abc",
		"https://updates.push.services.mozilla.com/wpush/v2/x",
		"https://web.push.apple.com/QGx",
		"https://8.8.8.8/x",
		"http://127.0.0.1:9999/push/b1",
		"https://push.corp.internal/v1/x",
	}
	refused := []string{
		"http://fcm.googleapis.com/fcm/send/abc",
		"ftp://push.example.com/x",
		"https://localhost/x",
		"https://foo.localhost/x",
		"https://127.0.0.1/x",
		"https://[::1]/x",
		"https://10.0.0.1/x",
		"https://172.16.3.4/x",
		"https://192.168.1.1/x",
		"https://169.254.169.254/latest/meta-data",
		"https://100.64.0.1/x",
		"https://0.0.0.0/x",
		"https://[fd00::1]/x",
		"https://[fe80::1]/x",
		"https://[::ffff:127.0.0.1]/x",
		"https://metadata/x",
		"http://127.0.0.1:9998/push/b1",
		"https://user:pw@push.example.com/x",
		"not a url",
	}
	for _, e := range ok {
		if err := p.Check(e); err != nil {
			t.Errorf("Check(%q) = %v, want accepted", e, err)
		}
	}
	for _, e := range refused {
		if err := p.Check(e); err == nil {
			t.Errorf("Check(%q) accepted, want refused", e)
		}
	}
	if _, err := push.NewPolicy([]string{"127.0.0.1"}); err == nil {
		t.Error("a prefix that is not a URL was accepted")
	}
}

// TestEndpointCheckedOnSend: a stored endpoint the policy no longer admits (the relay was
// restarted without its --push-allow-endpoint) is not sent to.
func TestEndpointCheckedOnSend(t *testing.T) {
	f := newFixture(t, func(o *push.Options) { o.Policy = push.Policy{}; o.Attempts = 1 })
	if err := f.db.SavePushSubscription(t.Context(), store.PushSubscription{ID: "x", UserID: "u1", Endpoint: f.ps.URL + "/push/b1",
		P256DH: "x", Auth: "x", EnabledEvents: "*", CreatedAt: time.Now()}, 20); err != nil {
		t.Fatal(err)
	}
	f.svc.Notify(t.Context(), note(core.NotifyAgentFinished, "u1"))
	f.obs.await(t, "dropped:refused_endpoint", 1)
	f.ps.Quiet(t, 100*time.Millisecond)
}

// TestUnusableKeysDeleted: a stored subscription whose keys cannot be encrypted for is deleted
// (as PizzaPi deletes rows whose keys do not parse), without retries.
func TestUnusableKeysDeleted(t *testing.T) {
	f := newFixture(t)
	b := f.ps.NewBrowser(t, "b1")
	if err := f.db.SavePushSubscription(t.Context(), store.PushSubscription{ID: "x", UserID: "u1", Endpoint: b.Endpoint,
		P256DH: "BAAA", Auth: b.Auth(), EnabledEvents: "*", CreatedAt: time.Now()}, 20); err != nil {
		t.Fatal(err)
	}
	f.svc.Notify(t.Context(), note(core.NotifyAgentFinished, "u1"))
	f.obs.await(t, "failed", 1)
	if subs, _ := f.svc.Subscriptions(t.Context(), "u1"); len(subs) != 0 {
		t.Errorf("the unusable subscription is kept: %+v", subs)
	}
	f.ps.Quiet(t, 100*time.Millisecond)
	if f.obs.get("retried") != 0 {
		t.Error("an encryption failure was retried")
	}
}

func TestSubject(t *testing.T) {
	for _, c := range []struct {
		configured, base, want string
		fallback, bad          bool
	}{
		{"", "https://relay.example.com", "https://relay.example.com", false, false},
		{"", "http://localhost:3000", push.FallbackSubject, true, false},
		{"mailto:ops@example.com", "http://localhost:3000", "mailto:ops@example.com", false, false},
		{"https://example.com/contact", "", "https://example.com/contact", false, false},
		{"ops@example.com", "", "", false, true},
		{"mailto:mailto:ops@example.com", "", "", false, true},
		{"mailto:Ops <ops@example.com>", "", "", false, true},
		{"http://example.com", "", "", false, true},
		{"https://", "", "", false, true},
		{"mailto:", "", "", false, true},
	} {
		got, fallback, err := push.Subject(c.configured, c.base)
		if (err != nil) != c.bad || got != c.want || fallback != c.fallback {
			t.Errorf("Subject(%q, %q) = %q, %v, %v", c.configured, c.base, got, fallback, err)
		}
	}
}

func TestKeys(t *testing.T) {
	k, err := push.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := push.ParseKeys(k.Public+"=", k.Private); err != nil || got != k {
		t.Errorf("ParseKeys of a generated pair: %v %v", got, err)
	}
	other, _ := push.GenerateKeys()
	for _, c := range [][2]string{{k.Public, other.Private}, {k.Public[:40], k.Private}, {k.Public, "short"}, {"", ""}} {
		if _, err := push.ParseKeys(c[0], c[1]); err == nil {
			t.Errorf("ParseKeys(%q, %q) accepted", c[0], c[1])
		}
	}
}

func TestNormalizeEvents(t *testing.T) {
	for in, want := range map[string]string{"*": "*", " * ": "*", "agent_finished": "agent_finished",
		" agent_error , agent_finished ": "agent_error,agent_finished", "session_started,*": "*"} {
		if got, err := push.NormalizeEvents(in); err != nil || got != want {
			t.Errorf("NormalizeEvents(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", " , ", "AGENT_ERROR", "agent_finished,bogus"} {
		if _, err := push.NormalizeEvents(in); err == nil {
			t.Errorf("NormalizeEvents(%q) accepted", in)
		}
	}
}
