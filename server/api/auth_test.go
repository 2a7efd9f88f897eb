package api_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/server/auth"
	"github.com/pizzapi/pizzapi/server/ratelimit"
)

const password = "correct horse battery"

func registerBody(email, pw string) string {
	req := rest.RegisterRequest{Email: email, Password: pw}
	return string(req.AppendJSON(nil))
}

func TestRegisterCreatesAccountAndKey(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, call{method: "POST", path: "/api/register", body: `{"name":"Ada","email":"ada@example.com","password":"` + password + `"}`})
	wantStatus(t, r, http.StatusOK)
	got := decode[rest.RegisterResponse](t, r)
	if !got.OK || got.Key == "" {
		t.Fatalf("register: %+v", got)
	}
	wantStatus(t, e.do(t, call{method: "GET", path: "/api/sessions", key: got.Key}), http.StatusOK)
}

func TestRegisterExistingUserReplacesCLIKey(t *testing.T) {
	e := newEnv(t)
	first := decode[rest.RegisterResponse](t, e.do(t, call{method: "POST", path: "/api/register", body: registerBody("ada@example.com", password)}))
	r := e.do(t, call{method: "POST", path: "/api/register", body: registerBody("ADA@example.com", password)})
	wantStatus(t, r, http.StatusOK)
	second := decode[rest.RegisterResponse](t, r)
	if second.Key == first.Key {
		t.Fatal("register issued the same key twice")
	}
	wantStatus(t, e.do(t, call{method: "GET", path: "/api/sessions", key: second.Key}), http.StatusOK)
	wantError(t, e.do(t, call{method: "GET", path: "/api/sessions", key: first.Key}), http.StatusUnauthorized, "Unauthorized")
}

func TestRegisterWrongPassword(t *testing.T) {
	e := newEnv(t)
	wantStatus(t, e.do(t, call{method: "POST", path: "/api/register", body: registerBody("ada@example.com", password)}), http.StatusOK)
	wantError(t, e.do(t, call{method: "POST", path: "/api/register", body: registerBody("ada@example.com", "wrong password")}),
		http.StatusUnauthorized, "Invalid email or password")
}

func TestRegisterInvalidInput(t *testing.T) {
	e := newEnv(t)
	wantStatus(t, e.do(t, call{method: "POST", path: "/api/register", body: registerBody("not-an-email", password)}), http.StatusBadRequest)
	wantStatus(t, e.do(t, call{method: "POST", path: "/api/register", body: registerBody("ada@example.com", "short")}), http.StatusBadRequest)
	er := wantError(t, e.do(t, call{method: "POST", path: "/api/register", body: `{"email":"ada@example.com"}`}), http.StatusBadRequest, "")
	if er.Pointer.Or("") != "/password" {
		t.Errorf("pointer %q, want /password", er.Pointer.Or(""))
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, func(o *options) {
		o.deps.Limiter = auth.NewLimiter(ratelimit.NewMemory(), auth.LoginLimits{PerPair: 3, PerAddress: 10, Window: time.Minute})
		o.deps.TrustedProxies = 1
	})
	wantStatus(t, e.do(t, call{method: "POST", path: "/api/register", body: registerBody("ada@example.com", password)}), http.StatusOK)
	from := map[string]string{"X-Forwarded-For": "10.0.0.1, 203.0.113.7"}
	for i := 0; i < 3; i++ {
		wantError(t, e.do(t, call{method: "POST", path: "/api/register", body: registerBody("ada@example.com", "wrong password"), header: from}),
			http.StatusUnauthorized, "")
	}
	// This account from this address is locked out, even with the right password, on both login
	// endpoints.
	r := e.do(t, call{method: "POST", path: "/api/register", body: registerBody("ada@example.com", password), header: from})
	wantError(t, r, http.StatusTooManyRequests, "")
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	signIn := `{"email":"ada@example.com","password":"` + password + `"}`
	wantError(t, e.do(t, call{method: "POST", path: "/api/auth/sign-in/email", body: signIn, header: from}), http.StatusTooManyRequests, "")
	// The same account from another client address is not affected.
	other := map[string]string{"X-Forwarded-For": "198.51.100.1"}
	wantStatus(t, e.do(t, call{method: "POST", path: "/api/auth/sign-in/email", body: signIn, header: other}), http.StatusOK)
}

func TestRateLimitIgnoresForwardedForWithoutTrustProxy(t *testing.T) {
	e := newEnv(t, func(o *options) {
		o.deps.Limiter = auth.NewLimiter(ratelimit.NewMemory(), auth.LoginLimits{PerPair: 2, PerAddress: 10, Window: time.Minute})
	})
	wantStatus(t, e.do(t, call{method: "POST", path: "/api/register", body: registerBody("ada@example.com", password)}), http.StatusOK)
	for i := 0; i < 2; i++ {
		hdr := map[string]string{"X-Forwarded-For": "203.0.113." + strconv.Itoa(i)}
		wantStatus(t, e.do(t, call{method: "POST", path: "/api/register", body: registerBody("ada@example.com", "wrong password"), header: hdr}), http.StatusUnauthorized)
	}
	hdr := map[string]string{"X-Forwarded-For": "203.0.113.99"}
	wantStatus(t, e.do(t, call{method: "POST", path: "/api/register", body: registerBody("ada@example.com", password), header: hdr}), http.StatusTooManyRequests)
}

func TestBrowserSessionLifecycle(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, call{method: "POST", path: "/api/auth/sign-up/email", body: `{"name":"Ada","email":"ada@example.com","password":"` + password + `","callbackURL":"/"}`})
	wantStatus(t, r, http.StatusOK)
	signedUp := decode[rest.AuthUserResponse](t, r)
	if signedUp.User.Email != "ada@example.com" || signedUp.User.Name != "Ada" || signedUp.User.ID == "" {
		t.Fatalf("sign-up user %+v", signedUp.User)
	}
	c := r.cookie
	if c == nil || c.Value == "" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Fatalf("session cookie %+v", c)
	}

	r = e.do(t, call{method: "GET", path: "/api/auth/get-session", cookie: c})
	wantStatus(t, r, http.StatusOK)
	sess := decode[rest.AuthSessionResponse](t, r)
	if sess.User != signedUp.User || sess.Session.UserID != signedUp.User.ID {
		t.Fatalf("get-session %+v", sess)
	}
	wantStatus(t, e.do(t, call{method: "GET", path: "/api/sessions", cookie: c}), http.StatusOK)

	r = e.do(t, call{method: "POST", path: "/api/auth/sign-out", cookie: c})
	wantStatus(t, r, http.StatusOK)
	if ok := decode[rest.OkResponse](t, r); !ok.OK {
		t.Fatal("sign-out not ok")
	}
	if r.cookie == nil || r.cookie.Value != "" || r.cookie.MaxAge >= 0 {
		t.Fatalf("sign-out did not clear the cookie: %+v", r.cookie)
	}
	if r := e.do(t, call{method: "GET", path: "/api/auth/get-session", cookie: c}); string(r.body) != "null" {
		t.Fatalf("get-session after sign-out: %d %s", r.status, r.body)
	}
	wantError(t, e.do(t, call{method: "GET", path: "/api/sessions", cookie: c}), http.StatusUnauthorized, "Unauthorized")

	wantError(t, e.do(t, call{method: "POST", path: "/api/auth/sign-in/email", body: `{"email":"ada@example.com","password":"nope nope nope"}`}),
		http.StatusUnauthorized, "Invalid email or password")
	r = e.do(t, call{method: "POST", path: "/api/auth/sign-in/email", body: `{"email":"ada@example.com","password":"` + password + `","rememberMe":true}`})
	wantStatus(t, r, http.StatusOK)
	if decode[rest.AuthUserResponse](t, r).User != signedUp.User || r.cookie == nil {
		t.Fatal("sign-in did not return the user and a cookie")
	}
	wantStatus(t, e.do(t, call{method: "GET", path: "/api/sessions", cookie: r.cookie}), http.StatusOK)
}

func TestGetSessionWithoutCookieIsNull(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, call{method: "GET", path: "/api/auth/get-session"})
	wantStatus(t, r, http.StatusOK)
	if string(r.body) != "null" {
		t.Fatalf("body %s, want null", r.body)
	}
	r = e.do(t, call{method: "GET", path: "/api/auth/get-session", cookie: &http.Cookie{Name: "pizzapi_session", Value: "forged"}})
	if string(r.body) != "null" {
		t.Fatalf("forged cookie: body %s, want null", r.body)
	}
}

func TestSignUpExistingEmail(t *testing.T) {
	e := newEnv(t)
	e.newUser(t, "Ada")
	wantError(t, e.do(t, call{method: "POST", path: "/api/auth/sign-up/email", body: `{"email":"ada@example.com","password":"` + password + `"}`}),
		http.StatusBadRequest, "")
}

func TestSignUpDisabled(t *testing.T) {
	e := newEnv(t, func(o *options) { o.disableSignup = true })
	wantError(t, e.do(t, call{method: "POST", path: "/api/auth/sign-up/email", body: `{"email":"ada@example.com","password":"` + password + `"}`}),
		http.StatusForbidden, "")
	wantError(t, e.do(t, call{method: "POST", path: "/api/register", body: registerBody("ada@example.com", password)}), http.StatusForbidden, "")
}
