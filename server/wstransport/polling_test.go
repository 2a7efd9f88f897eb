package wstransport_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/wstransport"
)

// pollingSession is a raw Engine.IO session on long-polling.
type pollingSession struct {
	t   *testing.T
	url string // the session's polling URL
}

// openPolling starts a polling session; connect connects /big on it (raising its limit).
func openPolling(t *testing.T, s *testServer, connect bool) *pollingSession {
	t.Helper()
	base := s.url + "/socket.io/?EIO=4&transport=polling"
	resp, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	open, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	const key = `"sid":"`
	i := strings.Index(string(open), key)
	if i < 0 {
		t.Fatalf("open packet %q", open)
	}
	sid := string(open[i+len(key):])
	p := &pollingSession{t: t, url: base + "&sid=" + sid[:strings.IndexByte(sid, '"')]}
	if connect {
		if status, body := p.post("40/big,"); status != http.StatusOK {
			t.Fatalf("connect: %d %s", status, body)
		}
		got := p.get()
		if !strings.HasPrefix(got, "40/big,{") {
			t.Fatalf("connect answer: %q", got)
		}
		if !strings.HasSuffix(got, "\x1e"+`42/big,["ready"]`) { // see connectBig
			if got := p.get(); got != `42/big,["ready"]` {
				t.Fatalf("ready: %q", got)
			}
		}
	}
	return p
}

// post sends body (with its length declared) and returns the status and the answer.
func (p *pollingSession) post(body string) (int, string) {
	return p.do(strings.NewReader(body))
}

// do sends a body as it is given: a *strings.Reader has a known length, any other reader is
// sent chunked.
func (p *pollingSession) do(body io.Reader) (int, string) {
	p.t.Helper()
	resp, err := http.Post(p.url, "text/plain;charset=UTF-8", body)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// get polls once.
func (p *pollingSession) get() string {
	p.t.Helper()
	resp, err := http.Get(p.url)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// slowPost declares a body of n bytes and sends only its first part; the returned function
// sends the rest and returns the status of the answer.
func (p *pollingSession) slowPost(n int, first string) (rest func(string) int) {
	p.t.Helper()
	u := strings.TrimPrefix(p.url, "http://")
	host, path := u[:strings.IndexByte(u, '/')], u[strings.IndexByte(u, '/'):]
	c, err := net.Dial("tcp", host)
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { _ = c.Close() })
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", path, host, n, first)
	return func(s string) int {
		if _, err := io.WriteString(c, s); err != nil {
			p.t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			p.t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
}

// checkRefusal checks a refusal's JSON body.
func checkRefusal(t *testing.T, what, body, code string) {
	t.Helper()
	var e struct{ Code, Error string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code != code || e.Error == "" {
		t.Fatalf("%s: body %q, want a JSON error with code %s", what, body, code)
	}
}

// TestPollingBodies: a polling session is held to the limits of a websocket one. Before
// authentication a body over the small limit gets 413 with a JSON error, logged with the
// address; after it, a body up to the raised limit passes and one over it gets 413 before any
// of it is read; a body of undeclared length passes when small and gets 411 past the small
// limit; a body that stops arriving gets 408 and its session goes on; the raised limit is
// forgotten when the session closes.
func TestPollingBodies(t *testing.T) {
	s := startServer(t, 8<<20, time.Second)

	anon := openPolling(t, s, false)
	status, body := anon.post("4" + strings.Repeat("x", small))
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("unauthenticated large body: %d %s", status, body)
	}
	checkRefusal(t, "unauthenticated large body", body, "too_large")
	if l := waitLog(t, s, "polling message refused"); !strings.Contains(l, "address=127.0.0.1:") || !strings.Contains(l, "level=WARN") {
		t.Fatalf("refusal not logged at warn with the address:\n%s", l)
	}

	p := openPolling(t, s, true)
	payload := strings.Repeat("y", 2<<20)
	if status, body := p.post(`42/big,["msg","` + payload + `"]`); status != http.StatusOK {
		t.Fatalf("authenticated large body: %d %s", status, body)
	}
	if got := p.get(); got != `42/big,["len",2097152]` {
		t.Fatalf("large message: %q", got)
	}
	if status := p.slowPost(raised+1, "4")(""); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("body over the raised limit: status %d, want 413", status)
	}

	status, body = p.do(io.MultiReader(strings.NewReader(`42/big,["msg","`), strings.NewReader(`abc"]`)))
	if status != http.StatusOK {
		t.Fatalf("small chunked body: %d %s", status, body)
	}
	if got := p.get(); got != `42/big,["len",3]` {
		t.Fatalf("small chunked message: %q", got)
	}
	status, body = p.do(io.MultiReader(strings.NewReader(`42/big,["msg","`), strings.NewReader(payload+`"]`)))
	if status != http.StatusLengthRequired {
		t.Fatalf("large chunked body: %d %s", status, body)
	}
	checkRefusal(t, "large chunked body", body, "invalid")

	if status := p.slowPost(100, `42/big,["msg","`)(""); status != http.StatusRequestTimeout {
		t.Fatalf("a body that stopped arriving: status %d, want 408", status)
	}
	waitLog(t, s, "polling message refused: The request body did not arrive in time")
	if status, body := p.post(`42/big,["msg","abcd"]`); status != http.StatusOK {
		t.Fatalf("after a body that did not arrive: %d %s", status, body)
	}
	if got := p.get(); got != `42/big,["len",4]` {
		t.Fatalf("after a body that did not arrive: %q", got)
	}

	if n := wstransport.PollingSessions(s.limits); n != 1 {
		t.Fatalf("%d polling sessions with a raised limit, want 1", n)
	}
	if status, _ := p.post("1"); status != http.StatusOK { // the client closes its session
		t.Fatalf("close: %d", status)
	}
	deadline := time.Now().Add(30 * time.Second)
	for wstransport.PollingSessions(s.limits) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a closed session's raised limit is still recorded")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPollingBudget: a large polling body is read within the budget shared with websocket
// frames: while one session's body holds most of it, another's waits and gets 503 with
// Retry-After when no room frees up in time; the first completes and gives its share back.
func TestPollingBudget(t *testing.T) {
	s := startServer(t, 3<<20, 300*time.Millisecond)
	a, b := openPolling(t, s, true), openPolling(t, s, true)
	msg := `42/big,["msg","` + strings.Repeat("z", 2<<20) + `"]`
	finish := a.slowPost(len(msg), msg[:10])
	waitInFlight(t, s, int64(len(msg)))

	resp, err := http.Post(b.url, "text/plain", strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second large body: %d (Retry-After %q) %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	checkRefusal(t, "second large body", string(body), "unavailable")
	waitLog(t, s, "polling message refused: the budget for large messages is spent")

	if status := finish(msg[10:]); status != http.StatusOK {
		t.Fatalf("held body: status %d", status)
	}
	if got := a.get(); got != `42/big,["len",2097152]` {
		t.Fatalf("held message: %q", got)
	}
	waitInFlight(t, s, 0)
}

// TestPollAnswerHasDeadline: a poll whose client stops reading its answer does not hold the
// handler writing: the write fails once the response timeout has passed.
func TestPollAnswerHasDeadline(t *testing.T) {
	done := make(chan error, 1)
	h := wstransport.GuardPolling(wstransport.PollingOptions{
		Limits: wstransport.NewLimits(small, 1<<20, time.Second), Logger: slog.New(slog.DiscardHandler),
		ResponseTimeout: 300 * time.Millisecond,
	}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 1<<20)
		for range 1 << 10 { // 1 GiB, far more than the socket buffers hold
			if _, err := w.Write(chunk); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\n\r\n") // and never read
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the handler wrote 1 GiB to a client that reads nothing")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the handler is still writing to a client that reads nothing")
	}
}

// TestPollingBodyDeadlineEndsWithTheBody: once a body is in, its deadline no longer applies: an
// engine that takes longer than the body timeout to handle it still has its request (net/http
// clears the read deadline when it starts watching the connection after the body).
func TestPollingBodyDeadlineEndsWithTheBody(t *testing.T) {
	const timeout = 200 * time.Millisecond
	h := wstransport.GuardPolling(wstransport.PollingOptions{
		Limits: wstransport.NewLimits(small, 1<<20, time.Second), Logger: slog.New(slog.DiscardHandler),
		BodyTimeout: timeout, ResponseTimeout: time.Minute,
	}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(3 * timeout)
		if err := r.Context().Err(); err != nil {
			http.Error(w, "request ended: "+err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	p := &pollingSession{t: t, url: srv.URL + "/socket.io/?EIO=4&transport=polling&sid=x"}
	for _, body := range []io.Reader{strings.NewReader("4hello"), io.MultiReader(strings.NewReader("4hel"), strings.NewReader("lo"))} {
		if status, answer := p.do(body); status != http.StatusOK || answer != "ok" {
			t.Fatalf("%T body: %d %q", body, status, answer)
		}
	}
}
