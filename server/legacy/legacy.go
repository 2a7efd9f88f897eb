// Package legacy serves PizzaPi's raw-WebSocket protocol, which clients built before its move to
// Socket.IO speak, on the relay's port: /ws/sessions (CLI), /ws/sessions/<id> (viewer),
// /ws/runner, /ws/terminal/<id> and /ws/hub. Each connection is an adapter onto the same relay
// core as the Socket.IO namespaces: a frame {type, ...fields} is the namespace event `type` with
// the other fields as payload, checked by the same generated decoders and handled by the same
// handlers, and the core's events go back out as frames. Sessions, runners and terminals are
// therefore shared between old and new clients, on every node of a cluster. Every connection
// logs one deprecation warning and is counted per role, and the whole path can be switched off,
// after which any /ws/ request gets HTTP 410.
package legacy

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/hub"
	"github.com/pizzapi/pizzapi/protocol/legacy"
	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/runner"
	"github.com/pizzapi/pizzapi/protocol/terminal"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/accounts"
	"github.com/pizzapi/pizzapi/server/core"
	"github.com/pizzapi/pizzapi/server/sio"
)

// GoneMessage is the body of the 410 every /ws/ request gets when the legacy path is off
// (PizzaPi's text).
const GoneMessage = "Legacy WebSocket endpoint is deprecated. Please upgrade to Socket.IO client."

// MinFrameBytes is the smallest frame limit: PizzaPi's server took frames up to 16 MiB (a
// session_active snapshot with a long transcript).
const MinFrameBytes = 16 << 20

// Metrics receives what legacy connections do: the same namespace metrics as Socket.IO, and the
// legacy connections per role.
type Metrics interface {
	sio.Metrics
	// LegacyConnections adds delta to the open legacy connections of a role; a positive delta
	// also counts new connections.
	LegacyConnections(role string, delta int)
}

// Accounts identifies the user of a request.
type Accounts interface {
	ByAPIKey(ctx context.Context, key string) (accounts.Account, error)
	BySession(ctx context.Context, r *http.Request) (accounts.Account, error)
}

// Options configures the legacy endpoints.
type Options struct {
	// Enabled serves the legacy paths; otherwise every /ws/ request gets 410.
	Enabled bool
	// MaxFrameBytes bounds one frame (at least MinFrameBytes); a larger one closes the
	// connection with 1009.
	MaxFrameBytes int64
	// MaxPendingBytes is how far a client may fall behind before it is dropped.
	MaxPendingBytes int64
	// Origins are the browser origins allowed besides the relay's own host, for cookie
	// authentication.
	Origins []string
	Logger  *slog.Logger
	Metrics Metrics
}

// Handler serves the legacy paths (mount it on /ws/). It implements protocol.Mounter: the
// namespaces' generated Mount functions register the same connect functions on it as on
// Socket.IO, and a legacy connection is connected to its role's namespace with the handshake auth
// it stands for (the credential of its headers, the session or terminal of its path).
type Handler struct {
	namespaces map[string]protocol.Namespace[core.Client]
	accounts   Accounts
	opts       Options
	upgrader   websocket.Upgrader
	refused    throttle

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// New returns the handler of the legacy paths; mount the namespaces on it before serving.
func New(acc Accounts, opts Options) *Handler {
	opts.MaxFrameBytes = max(opts.MaxFrameBytes, MinFrameBytes)
	h := &Handler{namespaces: map[string]protocol.Namespace[core.Client]{}, accounts: acc, opts: opts, conns: map[*conn]struct{}{}}
	h.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		// The credential is checked before the upgrade; the origin check is for cookies.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return h
}

// MountNamespace implements protocol.Mounter. Call it before serving.
func (h *Handler) MountNamespace(ns protocol.Namespace[core.Client]) {
	h.namespaces[ns.Path] = ns
}

// ServeHTTP authenticates an upgrade request as its role requires and serves the connection.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.opts.Enabled {
		h.refuse(w, r, http.StatusGone, GoneMessage)
		return
	}
	role, id, ok := route(r.URL.EscapedPath())
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"Not found"}`))
		return
	}
	if role.Prefix && id == "" {
		what := "session"
		if role == legacy.Terminal {
			what = "terminal"
		}
		h.refuse(w, r, http.StatusBadRequest, "Missing "+what+" ID")
		return
	}
	acc, key, msg := h.authenticate(r, role)
	cookie := key == "" && msg == ""
	if msg != "" {
		h.refuse(w, r, http.StatusUnauthorized, msg)
		return
	}
	if cookie && !h.originAllowed(r) {
		h.refuse(w, r, http.StatusForbidden, "Origin not allowed")
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		http.Error(w, "WebSocket upgrade failed", http.StatusBadRequest)
		return
	}
	if r.URL.EscapedPath() != role.Path+id && !role.Prefix {
		h.opts.Logger.Info("legacy runner URL with a doubled /ws/ path served as /ws/runner", "path", r.URL.Path, "user", acc.ID)
	}
	h.mu.Lock()
	closed := h.closed
	if !closed {
		h.wg.Add(1)
	}
	h.mu.Unlock()
	if closed {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	defer h.wg.Done()
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered
	}
	h.serve(ws, role, id, handshakeAuth(role, key, id), core.User{ID: acc.ID, Name: acc.Name})
}

// Close closes every legacy connection with 1001 (going away: old clients connect again, to
// another node behind a load balancer) and waits until they are gone or ctx ends.
func (h *Handler) Close(ctx context.Context) {
	h.mu.Lock()
	h.closed = true
	for c := range h.conns {
		c.closeWith(websocket.CloseGoingAway, "Server shutting down")
	}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		h.mu.Lock()
		for c := range h.conns {
			c.finish()
		}
		h.mu.Unlock()
	}
}

// route finds the role of a path: exact paths, then prefixes followed by an id (kept raw, as
// PizzaPi did). A runner URL that got /ws/runner appended to a /ws/ path (the old daemon appends
// it to any relay URL, also one ending in /ws/sessions) is the runner.
func route(path string) (*legacy.Role, string, bool) {
	for _, r := range legacy.Roles {
		if !r.Prefix && path == r.Path {
			return r, "", true
		}
	}
	if strings.HasSuffix(path, legacy.Runner.Path) {
		return legacy.Runner, "", true
	}
	for _, r := range legacy.Roles {
		if r.Prefix && strings.HasPrefix(path, r.Path) {
			return r, strings.TrimPrefix(path, r.Path), true
		}
	}
	return nil, "", false
}

// authenticate identifies the user as the role's legacy client sends its credential: the CLI
// and the runner an API key in x-api-key (the runner's Authorization: Bearer is taken as an API
// key too), the browser roles their session cookie or an API key. It returns the API key the user
// was identified by ("" for the cookie) or the failure text PizzaPi answered with.
func (h *Handler) authenticate(r *http.Request, role *legacy.Role) (acc accounts.Account, key, msg string) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	key = r.Header.Get("x-api-key")
	if key == "" && role == legacy.Runner {
		if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			key = strings.TrimSpace(t)
		}
	}
	if key != "" {
		acc, err := h.accounts.ByAPIKey(ctx, key)
		if err != nil {
			if role == legacy.Runner && r.Header.Get("x-api-key") == "" {
				return acc, "", "Unauthorized"
			}
			return acc, "", "Invalid or expired API key"
		}
		return acc, key, ""
	}
	switch role {
	case legacy.Tui:
		return acc, "", "Missing API key (x-api-key header)"
	case legacy.Runner:
		return acc, "", "Unauthorized"
	}
	acc, err := h.accounts.BySession(ctx, r)
	if err != nil {
		return acc, "", "Unauthorized"
	}
	return acc, "", ""
}

// handshakeAuth is the handshake auth object a legacy connection stands for on its role's
// namespace: the API key it was authenticated with and the session or terminal of its path.
func handshakeAuth(role *legacy.Role, key, id string) []byte {
	optional := func(v string) protocol.Optional[string] {
		if v == "" {
			return protocol.Optional[string]{}
		}
		return protocol.Some(v)
	}
	switch role {
	case legacy.Tui:
		return (&relay.Auth{APIKey: key}).AppendJSON(nil)
	case legacy.Runner:
		return (&runner.Auth{APIKey: key}).AppendJSON(nil)
	case legacy.Viewer:
		return (&viewer.Auth{APIKey: optional(key), SessionID: optional(id)}).AppendJSON(nil)
	case legacy.Terminal:
		return (&terminal.Auth{APIKey: optional(key), TerminalID: optional(id)}).AppendJSON(nil)
	}
	return (&hub.Auth{APIKey: optional(key)}).AppendJSON(nil)
}

// originAllowed reports whether a cookie-authenticated upgrade comes from the relay's own pages
// (or an allowed origin), so that another site cannot use a visitor's cookie. Requests without an
// Origin are not from a browser page.
func (h *Handler) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range h.opts.Origins {
		if strings.EqualFold(strings.TrimRight(o, "/"), origin) {
			return true
		}
	}
	return false
}

// refuse answers a request that is not served, in plain text as PizzaPi did. Old clients retry a
// refused connection forever (the CLI every 30 s, the runner every 60 s), so each address is
// logged once per refusalLogEvery, not on every attempt.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if h.refused.first(r.RemoteAddr, status, time.Now()) {
		h.opts.Logger.Warn("legacy WebSocket request refused; old clients retry it forever, so this address is logged once per "+refusalLogEvery.String(),
			"status", status, "reason", msg, "path", r.URL.Path, "address", r.RemoteAddr)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}

// serve runs one legacy connection: it connects it to its role's namespace with auth (id is
// the session or terminal of its path), then reads frames one at a time, in order, until the
// connection ends.
func (h *Handler) serve(ws *websocket.Conn, role *legacy.Role, id string, auth []byte, u core.User) {
	log := h.opts.Logger
	m := h.opts.Metrics
	ws.SetReadLimit(h.opts.MaxFrameBytes)
	c := newConn(ws, role, "legacy-"+uuid.NewString(), log, m, max(h.opts.MaxPendingBytes, 2*h.opts.MaxFrameBytes))
	go c.writeLoop()
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
	}()
	m.LegacyConnections(role.Name, 1)
	defer m.LegacyConnections(role.Name, -1)
	dep := deprecation{log: log, role: role.Name, user: u.ID}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	switch role {
	case legacy.Viewer, legacy.Terminal, legacy.Hub:
		dep.warn(id)
	}
	hd, err := h.namespaces[role.Namespace].Connect(ctx, core.Client{Conn: c, User: u}, auth)
	if err != nil {
		log.Warn("legacy connection refused", "role", role.Name, "user", u.ID, "error", err)
		c.closeWith(websocket.CloseInternalServerErr, connectFailure(role, err))
	}
	if hd != nil {
		m.Connections(role.Namespace, 1)
		defer m.Connections(role.Namespace, -1)
	}
	r := reader{h: h, c: c, hd: hd, dep: &dep}
	r.run(ctx)
	c.finish()
	if hd != nil {
		hd.Disconnected("transport close", false)
	}
	dep.warn("") // a CLI or runner that never registered
}

// connectFailure is the close reason of a connection its namespace refused: PizzaPi's text for
// the hub, which fails only when the session list cannot be loaded, what went wrong otherwise.
func connectFailure(role *legacy.Role, err error) string {
	if role == legacy.Hub {
		return "Failed to load sessions"
	}
	return sio.ErrorMessage(err).Message
}

// deprecation logs the one deprecation warning of a connection. The CLI's and the runner's are
// logged when they register, which is when their session or runner id is known.
type deprecation struct {
	log    *slog.Logger
	role   string
	user   string
	logged bool
}

func (d *deprecation) warn(id string) {
	if d.logged {
		return
	}
	d.logged = true
	what := "session"
	switch d.role {
	case legacy.Terminal.Name:
		what = "terminal"
	case legacy.Runner.Name:
		what = "runner"
	}
	if id == "" {
		id = "n/a"
	}
	d.log.Warn("legacy raw WebSocket connection: upgrade this client to Socket.IO; the legacy path goes away once no client uses it (PIZZAPI_LEGACY_WS=false turns it off)",
		"role", d.role, "user", d.user, what, id)
}

// refusalLogEvery is how often a refused address is logged again.
const refusalLogEvery = 10 * time.Minute

// throttle remembers when refusals were logged, per address and status, in bounded memory.
type throttle struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// first reports whether a refusal should be logged now.
func (t *throttle) first(addr string, status int, now time.Time) bool {
	host := addr
	if i := strings.LastIndexByte(addr, ':'); i > 0 {
		host = addr[:i]
	}
	key := host + " " + http.StatusText(status)
	t.mu.Lock()
	defer t.mu.Unlock()
	if last, ok := t.seen[key]; ok && now.Sub(last) < refusalLogEvery {
		return false
	}
	if t.seen == nil || len(t.seen) >= 4096 {
		t.seen = map[string]time.Time{}
	}
	t.seen[key] = now
	return true
}

// errFrame is the error frame for a problem with an incoming frame: a frame that is not one of
// the role's is invalid, anything else is answered as on Socket.IO (sio.ErrorMessage).
func errFrame(event string, err error) []byte {
	e := sio.ErrorMessage(err)
	var fe *legacy.FrameError
	if errors.As(err, &fe) {
		e = protocol.ErrorMessage{Code: protocol.ErrorCodeInvalid, Message: fe.Message}
	}
	if event != "" {
		e.Event = protocol.Some(event)
	}
	return e.AppendJSON(nil)
}
