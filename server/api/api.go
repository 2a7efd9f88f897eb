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
	// Limiter counts failed logins per client address (default: 10 per 15 minutes).
	Limiter *auth.Limiter
	// SecureCookies sets the Secure attribute on the session cookie (for a relay served over https).
	SecureCookies bool
	// TrustProxy takes the client address from the first X-Forwarded-For hop.
	TrustProxy bool
	// MaxBodyBytes bounds a JSON request body (default 1 MiB).
	MaxBodyBytes int64
	// AttachmentMaxBytes bounds one uploaded file (default 20 MiB).
	AttachmentMaxBytes int64
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
	mux *http.ServeMux
}

// methods are those the API routes; a path known for one of them answers 405 for the others.
var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete}

// New returns the handler of everything under /api/ (mount it at "/api/").
func New(d Deps) http.Handler {
	if d.Limiter == nil {
		d.Limiter = auth.NewLimiter(10, 15*time.Minute)
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	if d.AttachmentMaxBytes <= 0 {
		d.AttachmentMaxBytes = 20 << 20
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
	a := &api{Deps: d, mux: http.NewServeMux()}

	a.handle("POST /api/register", a.register)
	a.handle("POST /api/auth/sign-up/email", a.signUp)
	a.handle("POST /api/auth/sign-in/email", a.signIn)
	a.handle("POST /api/auth/sign-out", a.signOut)
	a.handle("GET /api/auth/get-session", a.getSession)
	a.handle("GET /api/auth/api-key/list", a.browser(a.listAPIKeys))
	a.handle("POST /api/auth/api-key/create", a.browser(a.createAPIKey))
	a.handle("POST /api/auth/api-key/delete", a.browser(a.deleteAPIKey))

	a.handle("GET /api/sessions", a.authed(a.sessions))
	a.handle("POST /api/sessions/{id}/attachments", a.authed(a.uploadAttachments))
	a.handle("GET /api/attachments/{id}", a.downloadAttachment)

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

// handle registers an endpoint.
func (a *api) handle(pattern string, h handlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.fail(w, r, err)
		}
	})
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
