package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/protocol/runner"
	"github.com/pizzapi/pizzapi/server/accounts"
	"github.com/pizzapi/pizzapi/server/api"
	"github.com/pizzapi/pizzapi/server/auth"
	"github.com/pizzapi/pizzapi/server/bus"
	"github.com/pizzapi/pizzapi/server/core"
	"github.com/pizzapi/pizzapi/server/live"
	"github.com/pizzapi/pizzapi/server/ratelimit"
	"github.com/pizzapi/pizzapi/server/store/sqlstore"
)

// env is a relay node's REST API on a real core, store and bus.
type env struct {
	core     *core.Core
	bus      *bus.Local
	store    *sqlstore.Store
	accounts *accounts.Accounts
	srv      *httptest.Server
	dir      string // attachment directory
	clock    *clock // the API's clock
	limiter  *auth.Limiter
}

// options change an env before it starts.
type options struct {
	core          core.Options
	deps          api.Deps
	disableSignup bool
}

// newEnv starts an env; opts adjust the defaults.
func newEnv(t *testing.T, opts ...func(*options)) *env {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := options{
		core: core.Options{BaseURL: "http://relay.test", EphemeralTTL: time.Minute, ReconnectGrace: time.Minute,
			SpawnWait: 2 * time.Second, RequestTimeout: 2 * time.Second, TerminalBuffer: 100, Logger: log},
	}
	for _, f := range opts {
		f(&o)
	}
	db, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	b := bus.NewLocal()
	c := core.New(o.core, live.NewMemory(1000), db, b, nil, nil)
	e := &env{core: c, bus: b, store: db, accounts: accounts.New(db, o.disableSignup),
		dir: filepath.Join(t.TempDir(), "attachments"), clock: &clock{}}
	e.clock.set(time.Now())
	d := o.deps
	d.Core, d.Accounts, d.Store, d.AttachmentDir, d.Logger, d.Now = c, e.accounts, db, e.dir, log, e.clock.now
	if d.Limiter == nil {
		d.Limiter = auth.NewLimiter(ratelimit.NewMemory(), auth.LoginLimits{PerPair: 100, PerAddress: 100, Window: time.Minute})
	}
	e.limiter = d.Limiter
	mux := http.NewServeMux()
	mux.Handle("/api/", api.New(d))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		e.srv.Close()
		c.Close()
		_ = b.Close()
		_ = db.Close()
	})
	return e
}

// clock is an adjustable clock.
type clock struct{ ns atomic.Int64 }

func (c *clock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// user is an account with an API key and a browser session cookie.
type user struct {
	accounts.Account
	key    string
	cookie *http.Cookie
}

// newUser signs up an account and gives it a key and a cookie.
func (e *env) newUser(t *testing.T, name string) user {
	t.Helper()
	ctx := context.Background()
	acc, err := e.accounts.SignUp(ctx, name, strings.ToLower(name)+"@example.com", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	key, err := e.accounts.NewAPIKey(ctx, acc.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	cookie, err := e.accounts.NewSession(ctx, acc.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	return user{Account: acc, key: key, cookie: cookie}
}

// call is one HTTP request to the API.
type call struct {
	method, path string
	body         string // JSON unless contentType says otherwise
	contentType  string
	key          string
	cookie       *http.Cookie
	header       map[string]string
}

// result is the response to a call.
type result struct {
	status int
	header http.Header
	body   []byte
	cookie *http.Cookie // the session cookie the response set, if any
}

func (e *env) do(t *testing.T, c call) result {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, e.srv.URL+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case c.contentType != "":
		req.Header.Set("Content-Type", c.contentType)
	case c.body != "":
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("x-api-key", c.key)
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := result{status: resp.StatusCode, header: resp.Header, body: data}
	for _, ck := range resp.Cookies() {
		if ck.Name == accounts.CookieName {
			r.cookie = ck
		}
	}
	return r
}

// as makes the call with the user's API key.
func (u user) as(c call) call {
	c.key = u.key
	return c
}

// decoded is a generated response type.
type decoded[T any] interface {
	*T
	UnmarshalJSON([]byte) error
}

// decode checks a response body against its schema type and returns it.
func decode[T any, P decoded[T]](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := P(&v).UnmarshalJSON(r.body); err != nil {
		t.Fatalf("status %d, body %s does not match %T: %v", r.status, r.body, v, err)
	}
	return v
}

// wantError checks that r is an ErrorResponse with the status (and message, when not empty).
func wantError(t *testing.T, r result, status int, message string) rest.ErrorResponse {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	e := decode[rest.ErrorResponse](t, r)
	if message != "" && e.Error != message {
		t.Errorf("error %q, want %q", e.Error, message)
	}
	return e
}

// wantStatus fails unless r has the status.
func wantStatus(t *testing.T, r result, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
}

// fakeConn is a socket as the core sees it.
type fakeConn struct {
	id        string
	delivered chan *bus.Message

	mu      sync.Mutex
	sent    []string
	control func(*bus.Message)
	closed  bool
}

func newConn() *fakeConn {
	return &fakeConn{id: uuid.NewString(), delivered: make(chan *bus.Message, 256)}
}

func (c *fakeConn) ID() string { return c.id }

// Greet records the event like Send.
func (c *fakeConn) Greet(event string, payload []byte) error { return c.Send(event, payload) }

func (c *fakeConn) Send(event string, _ []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, event)
	return nil
}

func (c *fakeConn) SendSeq(event string, payload []byte, _ int64) { _ = c.Send(event, payload) }
func (c *fakeConn) Pause()                                        {}
func (c *fakeConn) Resume(int64)                                  {}

func (c *fakeConn) OnControl(fn func(*bus.Message)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.control = fn
}

func (c *fakeConn) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
}

// Deliver queues bus messages for the fake client; it never blocks.
func (c *fakeConn) Deliver(m *bus.Message) {
	if m.Event != "" {
		select {
		case c.delivered <- m:
		default:
		}
	}
	c.mu.Lock()
	fn := c.control
	c.mu.Unlock()
	if m.Control != "" && fn != nil {
		fn(m)
	}
}

// answer is a reply the fake runner sends; an empty event sends nothing.
type answer struct {
	event   string
	payload map[string]any
}

// fakeRunner is a runner daemon connected to the core. It answers every command it receives
// with what respond returns, adding the command's requestId (and sessionId for new_session).
type fakeRunner struct {
	id   string
	conn *fakeConn
	h    runner.ServerSocket

	mu       sync.Mutex
	respond  func(event string, payload []byte) answer
	received []*bus.Message
}

// connectRunner registers a runner of u with the given roots and skills.
func (e *env) connectRunner(t *testing.T, u user, roots []string, skills []protocol.RunnerSkill) *fakeRunner {
	t.Helper()
	r := &fakeRunner{id: uuid.NewString(), conn: newConn(), respond: defaultAnswer}
	r.h = e.core.ConnectRunner(r.conn, core.User{ID: u.ID, Name: u.Name})
	reg := runner.RegisterRunner{RunnerID: protocol.Some(r.id), RunnerSecret: protocol.Some(auth.NewToken(32)),
		Name: protocol.Some("box-" + u.Name), Roots: protocol.Some(roots), Skills: protocol.Some(skills)}
	if _, err := runner.DispatchServer(context.Background(), r.h, runner.EventRegisterRunner, reg.AppendJSON(nil)); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go r.serve(done)
	t.Cleanup(func() { close(done) })
	return r
}

// serve answers the commands the runner receives, outside Deliver.
func (r *fakeRunner) serve(done chan struct{}) {
	for {
		select {
		case <-done:
			return
		case m := <-r.conn.delivered:
			r.mu.Lock()
			r.received = append(r.received, m)
			respond := r.respond
			r.mu.Unlock()
			a := respond(m.Event, m.Payload)
			if a.event == "" {
				continue
			}
			var ids struct {
				RequestID string `json:"requestId"`
				SessionID string `json:"sessionId"`
			}
			_ = json.Unmarshal(m.Payload, &ids)
			p := map[string]any{}
			for k, v := range a.payload {
				p[k] = v
			}
			if ids.RequestID != "" {
				p["requestId"] = ids.RequestID
			}
			if ids.SessionID != "" {
				p["sessionId"] = ids.SessionID
			}
			data, _ := json.Marshal(p)
			_, _ = runner.DispatchServer(context.Background(), r.h, a.event, data)
		}
	}
}

// answering sets how the runner answers commands.
func (r *fakeRunner) answering(fn func(event string, payload []byte) answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.respond = fn
}

// last returns the payload of the last command with this event the runner received.
func (r *fakeRunner) last(t *testing.T, event string) []byte {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.received) - 1; i >= 0; i-- {
		if r.received[i].Event == event {
			return r.received[i].Payload
		}
	}
	t.Fatalf("the runner received no %s", event)
	return nil
}

// defaultAnswer confirms spawns and answers nothing else.
func defaultAnswer(event string, _ []byte) answer {
	if event == runner.EventNewSession {
		return answer{event: runner.EventSessionReady}
	}
	return answer{}
}

// connectCLI registers a live session of u and returns its id.
func (e *env) connectCLI(t *testing.T, u user, cwd string) string {
	t.Helper()
	h := e.core.ConnectCLI(newConn(), core.User{ID: u.ID, Name: u.Name})
	reg := relay.Register{Cwd: cwd}
	ack, err := relay.DispatchServer(context.Background(), h, relay.EventRegister, reg.AppendJSON(nil))
	if err != nil {
		t.Fatal(err)
	}
	var r relay.Registered
	if err := r.UnmarshalJSON(ack); err != nil {
		t.Fatal(err)
	}
	return r.SessionID
}
