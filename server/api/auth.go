package api

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/server/accounts"
)

// authedFunc is an endpoint that needs a signed-in caller.
type authedFunc func(w http.ResponseWriter, r *http.Request, u accounts.Account) error

// authed wraps an endpoint that takes an API key (x-api-key header) or the session cookie.
func (a *api) authed(h authedFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, err := a.caller(r, r.Header.Get("x-api-key"))
		if err != nil {
			return err
		}
		return h(w, r, u)
	}
}

// caller identifies the user behind key, or behind the session cookie when key is empty.
func (a *api) caller(r *http.Request, key string) (accounts.Account, error) {
	var (
		u   accounts.Account
		err error
	)
	if key != "" {
		u, err = a.Accounts.ByAPIKey(r.Context(), key)
	} else {
		u, err = a.Accounts.BySession(r.Context(), r)
	}
	if errors.Is(err, accounts.ErrUnauthorized) {
		return accounts.Account{}, errUnauthorized
	}
	return u, err
}

// clientAddr is the address failed logins are counted against: the connection's host, or the
// first X-Forwarded-For hop behind a trusted proxy.
func (a *api) clientAddr(r *http.Request) string {
	if a.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			if first = strings.TrimSpace(first); first != "" {
				return first
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// login runs check for a client address that has not failed too often: 429 with Retry-After
// when it has; a wrong email or password counts as a failure, a success forgets them.
func (a *api) login(w http.ResponseWriter, r *http.Request, check func(ctx context.Context) error) error {
	addr := a.clientAddr(r)
	if ok, wait := a.Limiter.Allow(addr); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return errorf(http.StatusTooManyRequests, "Too many failed login attempts; try again later")
	}
	err := check(r.Context())
	switch {
	case errors.Is(err, accounts.ErrBadCredentials):
		a.Limiter.Fail(addr)
	case err == nil:
		a.Limiter.Succeed(addr)
	}
	return err
}

// register is POST /api/register: sign up or check the password, then issue a new "cli" API key.
func (a *api) register(w http.ResponseWriter, r *http.Request) error {
	var req rest.RegisterRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	var key string
	err := a.login(w, r, func(ctx context.Context) error {
		var err error
		key, _, _, err = a.Accounts.Register(ctx, req.Name.Or(""), req.Email, req.Password)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, &rest.RegisterResponse{OK: true, Key: key})
	return nil
}

// signUp is POST /api/auth/sign-up/email: create an account and sign the browser in.
func (a *api) signUp(w http.ResponseWriter, r *http.Request) error {
	var req rest.SignUpRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	u, err := a.Accounts.SignUp(r.Context(), req.Name.Or(""), req.Email, req.Password)
	if err != nil {
		return err
	}
	return a.startSession(w, r, u)
}

// signIn is POST /api/auth/sign-in/email: check the password and sign the browser in.
func (a *api) signIn(w http.ResponseWriter, r *http.Request) error {
	var req rest.SignInRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	var u accounts.Account
	err := a.login(w, r, func(ctx context.Context) error {
		var err error
		u, err = a.Accounts.SignIn(ctx, req.Email, req.Password)
		return err
	})
	if err != nil {
		return err
	}
	return a.startSession(w, r, u)
}

// startSession sets a new session cookie for u and answers with the user.
func (a *api) startSession(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	c, err := a.Accounts.NewSession(r.Context(), u.ID, a.SecureCookies)
	if err != nil {
		return err
	}
	http.SetCookie(w, c)
	writeJSON(w, http.StatusOK, &rest.AuthUserResponse{User: restUser(u)})
	return nil
}

// signOut is POST /api/auth/sign-out: end the browser session and clear its cookie.
func (a *api) signOut(w http.ResponseWriter, r *http.Request) error {
	c, err := a.Accounts.EndSession(r.Context(), r, a.SecureCookies)
	if err != nil {
		return err
	}
	http.SetCookie(w, c)
	writeJSON(w, http.StatusOK, &rest.OkResponse{OK: true})
	return nil
}

// getSession is GET /api/auth/get-session: the signed-in user, or JSON null.
func (a *api) getSession(w http.ResponseWriter, r *http.Request) error {
	u, err := a.Accounts.BySession(r.Context(), r)
	if errors.Is(err, accounts.ErrUnauthorized) {
		writeRaw(w, http.StatusOK, []byte("null"))
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, &rest.AuthSessionResponse{User: restUser(u), Session: rest.BrowserSession{UserID: u.ID}})
	return nil
}

func restUser(u accounts.Account) rest.User {
	return rest.User{ID: u.ID, Email: u.Email, Name: u.Name}
}
