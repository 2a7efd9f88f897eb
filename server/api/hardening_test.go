package api_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/server/auth"
	"github.com/pizzapi/pizzapi/server/ratelimit"
)

// trickle opens a connection that sends the headers of a sign-in with a 100000-byte body, then
// one byte every interval until the server answers or closes. It returns the status line (""
// when the server closed without one).
func trickle(t *testing.T, e *env, interval time.Duration) (status chan string, stop func()) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /api/auth/sign-in/email HTTP/1.1\r\nHost: relay.test\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
	done := make(chan struct{})
	var once sync.Once
	stop = func() { once.Do(func() { close(done); conn.Close() }) }
	t.Cleanup(stop)
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(interval):
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	status = make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(conn).ReadString('\n')
		status <- strings.TrimSpace(line)
	}()
	return status, stop
}

// TestSlowBodyIsCutOff is item 2: a body sent a byte at a time no longer holds its connection.
func TestSlowBodyIsCutOff(t *testing.T) {
	e := newEnv(t, func(o *options) { o.deps.BodyTimeout = 300 * time.Millisecond })
	status, _ := trickle(t, e, 50*time.Millisecond)
	select {
	case line := <-status:
		if line != "" && !strings.Contains(line, "408") {
			t.Errorf("a trickled body got %q, want 408 or a closed connection", line)
		}
	case <-time.After(20 * time.Second): // a hang guard, far above the 300 ms deadline
		t.Fatal("a body trickled one byte at a time still holds its connection")
	}
}

// TestPublicRequestsAreCapped is item 2: requests that need no credentials are bounded in number;
// past the bound they are answered 503 with Retry-After at once, and the bound frees up.
func TestPublicRequestsAreCapped(t *testing.T) {
	e := newEnv(t, func(o *options) {
		o.deps.MaxPublicRequests = 2
		o.deps.BodyTimeout = time.Minute
	})
	// Slow bodies hold the two slots. A sign-in that is answered held a slot while it ran, and a
	// slow body that reached the bound meanwhile was refused (without a word before its whole body
	// arrives: the server reads the rest of it before answering), so another one is sent.
	var stops []func()
	hold := func() {
		_, stop := trickle(t, e, 100*time.Millisecond)
		stops = append(stops, stop)
	}
	hold()
	hold()
	signIn := call{method: "POST", path: "/api/auth/sign-in/email", body: `{"email":"ada@example.com","password":"whatever1"}`}
	var r result
	deadline := time.Now().Add(20 * time.Second)
	for r = e.do(t, signIn); r.status != http.StatusServiceUnavailable && time.Now().Before(deadline); r = e.do(t, signIn) {
		hold()
		time.Sleep(20 * time.Millisecond)
	}
	wantError(t, r, http.StatusServiceUnavailable, "")
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	// Authenticated endpoints are not affected.
	ada := e.newUser(t, "Ada")
	wantStatus(t, e.do(t, ada.as(call{method: "GET", path: "/api/sessions"})), http.StatusOK)
	for _, stop := range stops {
		stop()
	}
	deadline = time.Now().Add(20 * time.Second)
	for r = e.do(t, signIn); r.status == http.StatusServiceUnavailable && time.Now().Before(deadline); r = e.do(t, signIn) {
		time.Sleep(20 * time.Millisecond)
	}
	wantStatus(t, r, http.StatusUnauthorized)
}

// TestSignupRateLimit is item 3: one address cannot create accounts without limit.
func TestSignupRateLimit(t *testing.T) {
	e := newEnv(t, func(o *options) { o.deps.SignupLimiter = auth.NewSignupLimiter(ratelimit.NewMemory(), 3, time.Hour) })
	signUp := func(i int) call {
		return call{method: "POST", path: "/api/auth/sign-up/email", body: `{"email":"u` + strconv.Itoa(i) + `@example.com","password":"` + password + `"}`,
			header: map[string]string{"X-Forwarded-For": "198.51.100." + strconv.Itoa(i)}}
	}
	for i := range 3 {
		wantStatus(t, e.do(t, signUp(i)), http.StatusOK)
	}
	r := e.do(t, signUp(3))
	wantError(t, r, http.StatusTooManyRequests, "")
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 3600 {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	// The CLI's register creates accounts too, under the same limit; signing in is not limited by it.
	wantError(t, e.do(t, call{method: "POST", path: "/api/register", body: registerBody("new@example.com", password)}), http.StatusTooManyRequests, "")
	wantStatus(t, e.do(t, call{method: "POST", path: "/api/register", body: registerBody("u0@example.com", password)}), http.StatusOK)
}

// loginEnv is an env with the default login limits.
func loginEnv(t *testing.T, proxies int) *env {
	return newEnv(t, func(o *options) {
		o.deps.Limiter = auth.NewLimiter(ratelimit.NewMemory(), auth.DefaultLoginLimits)
		o.deps.TrustedProxies = proxies
	})
}

func signInCall(email, pw string, from string) call {
	c := call{method: "POST", path: "/api/auth/sign-in/email", body: `{"email":"` + email + `","password":"` + pw + `"}`}
	if from != "" {
		c.header = map[string]string{"X-Forwarded-For": from}
	}
	return c
}

// TestLoginLimitSurvivesOwnSuccess is item 5(a): 27 wrong guesses interleaved with logins to the
// attacker's own account hit the limit.
func TestLoginLimitSurvivesOwnSuccess(t *testing.T) {
	e := loginEnv(t, 0)
	e.newUser(t, "Victim")
	e.newUser(t, "Mallory")
	limited := 0
	for range 27 {
		switch r := e.do(t, signInCall("victim@example.com", "wrong password", "")); r.status {
		case http.StatusTooManyRequests:
			limited++
		case http.StatusUnauthorized:
		default:
			t.Fatalf("guess: %d %s", r.status, r.body)
		}
		wantStatus(t, e.do(t, signInCall("mallory@example.com", password, "")), http.StatusOK)
	}
	if limited != 27-int(auth.DefaultLoginLimits.PerPair) {
		t.Errorf("%d of 27 guesses were refused, want %d", limited, 27-auth.DefaultLoginLimits.PerPair)
	}
}

// TestLoginConcurrentGuesses is item 5(b): guesses sent at once are limited like guesses in turn.
func TestLoginConcurrentGuesses(t *testing.T) {
	e := loginEnv(t, 0)
	e.newUser(t, "Victim")
	var wg sync.WaitGroup
	var mu sync.Mutex
	count := map[int]int{}
	for range 30 {
		wg.Go(func() {
			r := e.do(t, signInCall("victim@example.com", "wrong password", ""))
			mu.Lock()
			count[r.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	// A guess that passed the limiter is checked (401) or, on a machine too busy to hash it within
	// accounts.HashWait, refused as busy (503); every other one is refused as limited.
	checked := count[http.StatusUnauthorized] + count[http.StatusServiceUnavailable]
	if checked != int(auth.DefaultLoginLimits.PerPair) || count[http.StatusTooManyRequests] != 30-int(auth.DefaultLoginLimits.PerPair) {
		t.Errorf("30 concurrent guesses got %v, want %d past the limiter (401, or 503 when busy) and the rest 429", count, auth.DefaultLoginLimits.PerPair)
	}
}

// TestLoginForwardedForSpoofing is item 5(c): behind one proxy, the address a guess claims in
// X-Forwarded-For is ignored; the hop the proxy wrote counts.
func TestLoginForwardedForSpoofing(t *testing.T) {
	e := loginEnv(t, 1)
	e.newUser(t, "Victim")
	limited := 0
	for i := range 20 {
		// The client wrote the first hop; the proxy appended the address it saw.
		r := e.do(t, signInCall("victim@example.com", "wrong password", "192.0.2."+strconv.Itoa(i)+", 203.0.113.9"))
		if r.status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 20-int(auth.DefaultLoginLimits.PerPair) {
		t.Errorf("%d of 20 guesses with forged addresses were refused, want %d", limited, 20-auth.DefaultLoginLimits.PerPair)
	}
}

// TestLoginNoLockoutForOthersFailures is item 5(d): failures on one account from an address lock
// out neither other users behind that address nor the account's owner elsewhere.
func TestLoginNoLockoutForOthersFailures(t *testing.T) {
	e := loginEnv(t, 1)
	e.newUser(t, "Victim")
	e.newUser(t, "Colleague")
	for range 10 {
		e.do(t, signInCall("victim@example.com", "wrong password", "203.0.113.9"))
	}
	wantStatus(t, e.do(t, signInCall("victim@example.com", password, "203.0.113.9")), http.StatusTooManyRequests)
	wantStatus(t, e.do(t, signInCall("colleague@example.com", password, "203.0.113.9")), http.StatusOK)
	wantStatus(t, e.do(t, signInCall("victim@example.com", password, "198.51.100.4")), http.StatusOK)
}

// TestAttachmentRequestAndUserLimits is item 4: one upload's files together, and what a user
// keeps stored, are bounded, with clear 413s and nothing left on disk.
func TestAttachmentRequestAndUserLimits(t *testing.T) {
	e := newEnv(t, func(o *options) {
		o.deps.AttachmentMaxBytes = 100
		o.deps.AttachmentRequestMaxBytes = 150
		o.deps.AttachmentQuotaBytes = 250
	})
	ada, bob := e.newUser(t, "Ada"), e.newUser(t, "Bob")
	id := e.connectCLI(t, ada, "/home/ada")
	file := func(name string) upload { return upload{"files", name, "", strings.Repeat("x", 100)} }
	wantError(t, e.do(t, ada.as(multipartCall(t, id, file("a"), file("b")))), http.StatusRequestEntityTooLarge,
		"Upload too large: the files of one request may total at most 150 bytes")
	wantStatus(t, e.do(t, ada.as(multipartCall(t, id, file("c")))), http.StatusOK)
	wantStatus(t, e.do(t, ada.as(multipartCall(t, id, file("d")))), http.StatusOK)
	wantError(t, e.do(t, ada.as(multipartCall(t, id, file("e")))), http.StatusRequestEntityTooLarge,
		"Attachment quota exceeded: you may keep 250 bytes of attachments until they expire, and 200 are in use")
	if entries, _ := os.ReadDir(e.dir); len(entries) != 2 {
		t.Errorf("%d files on disk, want the 2 accepted", len(entries))
	}
	// Expired attachments no longer count.
	e.clock.advance(time.Hour)
	wantStatus(t, e.do(t, ada.as(multipartCall(t, id, file("f")))), http.StatusOK)
	_ = bob
}

// TestCrossSiteRequestsRefused is item 6: state-changing requests a page of another origin makes
// with the session cookie are refused; the relay's own pages, configured origins, API keys and
// clients that are not browsers are not.
func TestCrossSiteRequestsRefused(t *testing.T) {
	e := newEnv(t, func(o *options) { o.deps.Origins = []string{"https://app.example.com"} })
	ada := e.newUser(t, "Ada")
	id := e.connectCLI(t, ada, "/home/ada")
	self := e.srv.URL
	evil := "http://" + strings.Replace(strings.TrimPrefix(self, "http://"), ":", ":1", 1) // another port of the host
	withOrigin := func(c call, origin string) call {
		c.cookie = ada.cookie
		c.header = map[string]string{"Origin": origin}
		return c
	}
	upload := multipartCall(t, id, upload{"file", "a.txt", "", "x"})
	signOut := call{method: "POST", path: "/api/auth/sign-out"}
	for _, c := range []call{upload, signOut, {method: "POST", path: "/api/runners/spawn", body: `{"runnerId":"r"}`}} {
		wantError(t, e.do(t, withOrigin(c, evil)), http.StatusForbidden, "Cross-site request refused: origin "+evil+" is not allowed")
		wantError(t, e.do(t, withOrigin(c, "null")), http.StatusForbidden, "")
		fetchSite := c
		fetchSite.cookie, fetchSite.header = ada.cookie, map[string]string{"Sec-Fetch-Site": "same-site"}
		wantError(t, e.do(t, fetchSite), http.StatusForbidden, "Cross-site request refused")
	}
	wantStatus(t, e.do(t, withOrigin(upload, self)), http.StatusOK)
	wantStatus(t, e.do(t, withOrigin(upload, "https://app.example.com")), http.StatusOK)
	keyed := ada.as(upload)
	keyed.header = map[string]string{"Origin": evil}
	wantStatus(t, e.do(t, keyed), http.StatusOK)
	// Reading is not state-changing.
	wantStatus(t, e.do(t, withOrigin(call{method: "GET", path: "/api/sessions"}, evil)), http.StatusOK)
	// The session still works after the refused sign-out, and ends with an allowed one.
	wantStatus(t, e.do(t, call{method: "GET", path: "/api/sessions", cookie: ada.cookie}), http.StatusOK)
	wantStatus(t, e.do(t, withOrigin(signOut, self)), http.StatusOK)
	wantStatus(t, e.do(t, call{method: "GET", path: "/api/sessions", cookie: ada.cookie}), http.StatusUnauthorized)
}

// TestDownloadTokens is item 7: API keys are refused in URLs; a download token works for its
// attachment only, and not after it expires.
func TestDownloadTokens(t *testing.T) {
	e := newEnv(t)
	ada := e.newUser(t, "Ada")
	id := e.connectCLI(t, ada, "/home/ada")
	got := decode[rest.AttachmentsResponse](t, e.do(t, ada.as(multipartCall(t, id, upload{"file", "a.txt", "", "aaa"}, upload{"file", "b.txt", "", "bbb"})))).Attachments
	pathA, pathB := "/api/attachments/"+got[0].AttachmentID, "/api/attachments/"+got[1].AttachmentID
	wantError(t, e.do(t, call{method: "GET", path: pathA + "?apiKey=" + url.QueryEscape(ada.key)}), http.StatusBadRequest, "")
	tok := decode[rest.AttachmentTokenResponse](t, e.do(t, call{method: "POST", path: pathA + "/token", cookie: ada.cookie}))
	if exp, err := time.Parse(time.RFC3339, tok.ExpiresAt); err != nil || exp.Sub(e.clock.now()) > 5*time.Minute {
		t.Errorf("token expires at %q", tok.ExpiresAt)
	}
	q := "?token=" + url.QueryEscape(tok.Token)
	r := e.do(t, call{method: "GET", path: pathA + q})
	wantStatus(t, r, http.StatusOK)
	if string(r.body) != "aaa" || r.header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("download: %q %v", r.body, r.header)
	}
	wantError(t, e.do(t, call{method: "GET", path: pathB + q}), http.StatusUnauthorized, "Invalid or expired download token")
	wantError(t, e.do(t, call{method: "GET", path: pathA + q + "x"}), http.StatusUnauthorized, "")
	e.clock.advance(6 * time.Minute)
	wantError(t, e.do(t, call{method: "GET", path: pathA + q}), http.StatusUnauthorized, "Invalid or expired download token")
}
