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
	"github.com/pizzapi/pizzapi/server/auth"
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

// clientAddr is the address logins and sign-ups are counted against: the connection's host or,
// behind TrustedProxies proxies, the X-Forwarded-For hop the nearest untrusted party wrote. Each
// proxy appends the address it received the request from, so the right-most entries are the
// trusted proxies' own and the one before them is the client; what the client wrote itself stands
// further left and is ignored.
func (a *api) clientAddr(r *http.Request) string {
	if n := a.TrustedProxies; n > 0 {
		var hops []string
		for _, h := range r.Header.Values("X-Forwarded-For") {
			for hop := range strings.SplitSeq(h, ",") {
				hops = append(hops, strings.TrimSpace(hop))
			}
		}
		// The connection itself comes from the nearest proxy, which wrote the last hop.
		if i := len(hops) - n; i >= 0 && i < len(hops) && hops[i] != "" {
			return hops[i]
		}
		if len(hops) > 0 && hops[0] != "" {
			return hops[0]
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// login runs check within the login limits of the account (email) and client address: the
// attempt is reserved first, so that concurrent guesses cannot all be checked; over a limit it is
// a 429 with Retry-After. A wrong email or password stays counted, a success forgets the failures
// of this account from this address only.
func (a *api) login(w http.ResponseWriter, r *http.Request, email string, check func(ctx context.Context) error) error {
	ctx := r.Context()
	attempt, err := a.Limiter.Reserve(ctx, accounts.NormalizeEmail(email), a.clientAddr(r))
	if err != nil {
		return a.limited(w, err)
	}
	err = check(ctx)
	switch {
	case errors.Is(err, accounts.ErrBadCredentials):
		attempt.Failed(ctx)
	case err == nil:
		attempt.Succeeded(ctx)
	default:
		attempt.Cancel(context.WithoutCancel(ctx))
	}
	return err
}

// limited turns a limiter's refusal into a 429 with Retry-After; a limiter that cannot count
// (Redis is down) is a 503.
func (a *api) limited(w http.ResponseWriter, err error) error {
	var le *auth.LimitedError
	if errors.As(err, &le) {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(le.RetryAfter.Seconds()))))
		if le.What == "failed login attempts" {
			return errorf(http.StatusTooManyRequests, "Too many failed login attempts; try again later")
		}
		return errorf(http.StatusTooManyRequests, "Too many "+le.What+"; try again later")
	}
	a.Logger.Error("rate limiter", "error", err)
	w.Header().Set("Retry-After", "5")
	return errorf(http.StatusServiceUnavailable, "The relay cannot check its limits right now; try again later")
}

// signupAllowed takes a sign-up from the request's client address, or refuses it (429).
func (a *api) signupAllowed(w http.ResponseWriter, r *http.Request) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := a.SignupLimiter.Reserve(ctx, a.clientAddr(r)); err != nil {
			return a.limited(w, err)
		}
		return nil
	}
}

// register is POST /api/register: sign up or check the password, then issue a new "cli" API key.
func (a *api) register(w http.ResponseWriter, r *http.Request) error {
	var req rest.RegisterRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	var key string
	err := a.login(w, r, req.Email, func(ctx context.Context) error {
		var err error
		key, _, _, err = a.Accounts.Register(ctx, req.Name.Or(""), req.Email, req.Password, a.signupAllowed(w, r))
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
	if !a.Accounts.SignupDisabled() {
		if err := a.signupAllowed(w, r)(r.Context()); err != nil {
			return err
		}
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
	err := a.login(w, r, req.Email, func(ctx context.Context) error {
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
