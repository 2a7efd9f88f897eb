// Package api is the relay's REST API under /api/: accounts (the CLI's register and the browser's
// sign-up, sign-in and session cookie, the user's API keys), the session list, attachments, the
// runner commands (spawn, restart, terminals, skills, files, git) and Web Push subscriptions.
// Request and response bodies are the generated types of protocol/rest, so every body is validated
// against schema/rest.json and every failure is a JSON rest.ErrorResponse with the HTTP status
// saying what kind.
package api

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pizzapi/pizzapi/server/accounts"
	"github.com/pizzapi/pizzapi/server/auth"
	"github.com/pizzapi/pizzapi/server/core"
	"github.com/pizzapi/pizzapi/server/push"
	"github.com/pizzapi/pizzapi/server/ratelimit"
	"github.com/pizzapi/pizzapi/server/store"
)

// Deps is what the API needs. Core, Accounts, Store and AttachmentDir are required; the other
// fields have defaults.
type Deps struct {
	// Core is the relay the session and runner endpoints act on.
	Core *core.Core
	// Accounts signs users up and in and identifies API keys and session cookies.
	Accounts *accounts.Accounts
	// Store keeps the attachment records.
	Store store.Store
	// Push keeps Web Push subscriptions (nil: the push endpoints answer 503).
	Push *push.Service
	// Limiter limits failed logins (default: auth.DefaultLoginLimits in memory).
	Limiter *auth.Limiter
	// SignupLimiter limits sign-ups per client address (default: 10 an hour in memory).
	SignupLimiter *auth.SignupLimiter
	// SecureCookies sets the Secure attribute on the session cookie (for a relay served over https).
	SecureCookies bool
	// TrustedProxies is how many reverse proxies stand in front of the relay: the client address
	// is the X-Forwarded-For hop written by the outermost of them (0: the connection's address).
	TrustedProxies int
	// Origins are the browser origins (scheme://host[:port]) whose pages may make state-changing
	// requests with the session cookie, besides pages of the host the request was sent to.
	Origins []string
	// MaxPublicRequests bounds the requests to the endpoints that need no credentials (register,
	// sign-up, sign-in) in progress at once; more are answered 503 (default 64).
	MaxPublicRequests int
	// BodyTimeout is how long a request body may take to arrive (default 10 s); an upload gets
	// it plus the time its size takes at 64 KiB/s.
	BodyTimeout time.Duration
	// MaxBodyBytes bounds a JSON request body (default 1 MiB).
	MaxBodyBytes int64
	// AttachmentMaxBytes bounds one uploaded file (default 20 MiB).
	AttachmentMaxBytes int64
	// AttachmentRequestMaxBytes bounds the files of one upload together (default 50 MiB).
	AttachmentRequestMaxBytes int64
	// AttachmentQuotaBytes bounds what one user keeps stored in attachments that have not expired
	// (default 200 MiB; negative: no limit).
	AttachmentQuotaBytes int64
	// DownloadKey signs the short-lived attachment download tokens; nodes that share a store must
	// share it (default: a random key, valid on this process only).
	DownloadKey []byte
	// AttachmentTTL is how long an uploaded file is kept (default 15 minutes).
	AttachmentTTL time.Duration
	// AttachmentDir holds the uploaded files; it is created with mode 0700 when missing.
	AttachmentDir string
	// Logger receives server-side errors (default: discarded).
	Logger *slog.Logger
	// Now is the clock of attachment expiry (default time.Now).
	Now func() time.Time
}

// api serves the endpoints.
type api struct {
	Deps
	mux    *http.ServeMux
	public chan struct{} // a token per request to a public endpoint in progress
}

// DefaultSignupsPerHour is how many sign-ups one client address may make in an hour by default.
const DefaultSignupsPerHour = 10

// methods are those the API routes; a path known for one of them answers 405 for the others.
var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete}

// New returns the handler of everything under /api/ (mount it at "/api/").
func New(d Deps) http.Handler {
	if d.Limiter == nil {
		d.Limiter = auth.NewLimiter(ratelimit.NewMemory(), auth.DefaultLoginLimits)
	}
	if d.SignupLimiter == nil {
		d.SignupLimiter = auth.NewSignupLimiter(ratelimit.NewMemory(), DefaultSignupsPerHour, time.Hour)
	}
	if d.BodyTimeout <= 0 {
		d.BodyTimeout = 10 * time.Second
	}
	if d.MaxPublicRequests <= 0 {
		d.MaxPublicRequests = 64
	}
	if d.AttachmentQuotaBytes == 0 {
		d.AttachmentQuotaBytes = 200 << 20
	}
	if len(d.DownloadKey) == 0 {
		d.DownloadKey = []byte(auth.NewToken(32))
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	if d.AttachmentMaxBytes <= 0 {
		d.AttachmentMaxBytes = 20 << 20
	}
	if d.AttachmentRequestMaxBytes <= 0 {
		d.AttachmentRequestMaxBytes = min(50<<20, maxUploadFiles*d.AttachmentMaxBytes)
	}
	if d.AttachmentTTL <= 0 {
		d.AttachmentTTL = 15 * time.Minute
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	a := &api{Deps: d, mux: http.NewServeMux(), public: make(chan struct{}, d.MaxPublicRequests)}

	a.handle("POST /api/register", a.publicOnly(a.register))
	a.handle("POST /api/auth/sign-up/email", a.publicOnly(a.signUp))
	a.handle("POST /api/auth/sign-in/email", a.publicOnly(a.signIn))
	a.handle("POST /api/auth/sign-out", a.signOut)
	a.handle("GET /api/auth/get-session", a.getSession)
	a.handle("GET /api/auth/api-key/list", a.browser(a.listAPIKeys))
	a.handle("POST /api/auth/api-key/create", a.browser(a.createAPIKey))
	a.handle("POST /api/auth/api-key/delete", a.browser(a.deleteAPIKey))

	a.handle("GET /api/sessions", a.authed(a.sessions))
	a.handle("POST /api/sessions/{id}/attachments", a.authed(a.uploadAttachments))
	a.handle("GET /api/attachments/{id}", a.downloadAttachment)
	a.handle("POST /api/attachments/{id}/token", a.authed(a.downloadToken))

	a.handle("GET /api/runners", a.authed(a.runners))
	a.handle("POST /api/runners/spawn", a.authed(a.spawn))
	a.handle("POST /api/runners/restart", a.authed(a.restart))
	a.handle("POST /api/runners/terminal", a.authed(a.terminal))
	a.handle("GET /api/runners/{id}/recent-folders", a.authed(a.recentFolders))

	a.handle("GET /api/runners/{id}/skills", a.authed(a.listSkills))
	a.handle("POST /api/runners/{id}/skills", a.authed(a.createSkill))
	a.handle("GET /api/runners/{id}/skills/{name}", a.authed(a.getSkill))
	a.handle("PUT /api/runners/{id}/skills/{name}", a.authed(a.updateSkill))
	a.handle("DELETE /api/runners/{id}/skills/{name}", a.authed(a.deleteSkill))

	a.handle("POST /api/runners/{id}/files", a.authed(a.listFiles))
	a.handle("POST /api/runners/{id}/read-file", a.authed(a.readFile))
	a.handle("POST /api/runners/{id}/git-status", a.authed(a.gitStatus))
	a.handle("POST /api/runners/{id}/git-diff", a.authed(a.gitDiff))

	a.handle("GET /api/push/vapid-public-key", a.vapidPublicKey)
	a.handle("POST /api/push/subscribe", a.authed(a.pushSubscribe))
	a.handle("POST /api/push/unsubscribe", a.authed(a.pushUnsubscribe))
	a.handle("GET /api/push/subscriptions", a.authed(a.pushSubscriptions))
	a.handle("PUT /api/push/events", a.authed(a.pushEvents))
	return a
}

// handlerFunc is an endpoint; a returned error becomes the JSON error response.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers an endpoint. Every request gets read and write deadlines (see timeouts.go),
// and a state-changing request that a browser may have sent with the session cookie must come
// from an allowed origin (see csrf.go).
func (a *api) handle(pattern string, h handlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		defer a.deadlines(w, r)()
		err := a.sameOrigin(r)
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			a.fail(w, r, err)
		}
	})
}

// publicOnly bounds how many requests to an endpoint that needs no credentials are in progress at
// once: such a request costs a password hash and can come from anyone, so past the bound it is
// answered 503 at once rather than queued.
func (a *api) publicOnly(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		select {
		case a.public <- struct{}{}:
			defer func() { <-a.public }()
			return h(w, r)
		default:
			w.Header().Set("Retry-After", "1")
			return errorf(http.StatusServiceUnavailable, "The relay is busy; try again shortly")
		}
	}
}

// ServeHTTP routes a request, answering unknown paths with 404 and known paths with the wrong
// method with 405, both as JSON.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := a.mux.Handler(r); pattern != "" {
		a.mux.ServeHTTP(w, r)
		return
	}
	if allow := a.allowed(r); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		a.fail(w, r, errorf(http.StatusMethodNotAllowed, "Method not allowed"))
		return
	}
	a.fail(w, r, errorf(http.StatusNotFound, "Not found"))
}

// allowed lists the methods the request's path is served for.
func (a *api) allowed(r *http.Request) []string {
	var out []string
	for _, m := range methods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := a.mux.Handler(probe); pattern != "" {
			out = append(out, m)
		}
	}
	return out
}
