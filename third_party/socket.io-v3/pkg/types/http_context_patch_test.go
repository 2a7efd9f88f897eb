package types

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync"
	"testing"
	"time"
	"weak"
)

// serveContexts starts a server whose handler wraps each request in an HttpContext, calls before
// (if set), hands the context to the test and answers "ok". The context gets a ResponseWriter
// that lets go of net/http's when the handler returns (net/http's holds the request), as the
// relay's handler does: Release does not drop a context's ResponseWriter.
func serveContexts(t *testing.T, before func(*HttpContext, *http.Request)) (string, <-chan *HttpContext) {
	t.Helper()
	ch := make(chan *HttpContext, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dw := &droppingWriter{w: w}
		defer dw.drop()
		c := NewHttpContext(dw, r)
		if before != nil {
			before(c, r)
		}
		ch <- c
		_, _ = c.Write([]byte("ok"))
		<-c.Done()
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

// droppingWriter is an http.ResponseWriter that forgets the one it wraps when dropped.
type droppingWriter struct {
	mu sync.Mutex
	w  http.ResponseWriter
}

func (d *droppingWriter) drop() {
	d.mu.Lock()
	d.w = nil
	d.mu.Unlock()
}

func (d *droppingWriter) Header() http.Header {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.w == nil {
		return http.Header{}
	}
	return d.w.Header()
}

func (d *droppingWriter) Write(b []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.w == nil {
		return 0, http.ErrHandlerTimeout
	}
	return d.w.Write(b)
}

func (d *droppingWriter) WriteHeader(code int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.w != nil {
		d.w.WriteHeader(code)
	}
}

// get requests u on a connection of its own, with a cookie and a user agent.
func get(t *testing.T, u string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Close = true
	req.Header.Set("Cookie", "session=abc")
	req.Header.Set("User-Agent", "patch-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

// compact is a released request: a smaller one than get's, with another query.
func compact() *http.Request {
	return &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/x", RawQuery: "a=2"}, Header: http.Header{"Cookie": {"session=abc"}}}
}

// TestReleaseFinished: a finished context released keeps the new request, a canceled context,
// and derives its accessors' values from the new request again; the original request is no
// longer reachable through it.
func TestReleaseFinished(t *testing.T) {
	u, ch := serveContexts(t, nil)
	get(t, u+"/x?a=1&b=long-value")
	c := <-ch
	<-c.Done()
	if got := c.Query().Peek("a"); got != "1" {
		t.Fatalf("query a before release = %q", got)
	}
	if got := c.UserAgent(); got != "patch-test" {
		t.Fatalf("user agent before release = %q", got)
	}
	original := weak.Make(c.Request())
	r := compact()
	c.Release(r)
	if c.Request() != r {
		t.Fatal("Request is not the released request")
	}
	if c.Context().Err() == nil {
		t.Fatal("Context of a released context is not canceled")
	}
	if got := c.Query().Peek("a"); got != "2" {
		t.Fatalf("query a after release = %q, want the released request's 2", got)
	}
	if c.Query().Has("b") || c.UserAgent() != "" || c.Headers().Peek("Cookie") != "session=abc" {
		t.Fatalf("accessors after release: query %v, user agent %q, headers %v", c.Query().All(), c.UserAgent(), c.Headers().All())
	}
	if c.Path() != "x" || c.Method() != http.MethodGet || c.Secure() {
		t.Fatalf("path %q, method %q, secure %v", c.Path(), c.Method(), c.Secure())
	}
	for i := 0; original.Value() != nil; i++ {
		if i == 100 {
			t.Fatal("the original request is still reachable after the context was released")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // the server's connection goroutine lets go of it
	}
	runtime.KeepAlive(c)
}

// TestReleaseBeforeFinish: a context released while its request is served keeps serving it with
// the original request and context, and holds the released request once it is finished (before
// Done is closed).
func TestReleaseBeforeFinish(t *testing.T) {
	r := compact()
	var (
		mu       sync.Mutex
		inFlight bool
	)
	u, ch := serveContexts(t, func(c *HttpContext, orig *http.Request) {
		c.Release(r)
		mu.Lock()
		inFlight = c.Request() == orig && c.Context() == orig.Context() && c.Query().Peek("a") == "1"
		mu.Unlock()
	})
	get(t, u+"/x?a=1")
	c := <-ch
	<-c.Done()
	mu.Lock()
	defer mu.Unlock()
	if !inFlight {
		t.Fatal("released before it finished: the request in flight was replaced")
	}
	if c.Request() != r || c.Context().Err() == nil || c.Query().Peek("a") != "2" {
		t.Fatalf("after finishing: request %p (want %p), context error %v, query a %q", c.Request(), r, c.Context().Err(), c.Query().Peek("a"))
	}
}

// TestReleaseConcurrentAccessors: Release may run while other goroutines use the accessors (run
// with -race).
func TestReleaseConcurrentAccessors(t *testing.T) {
	u, ch := serveContexts(t, nil)
	get(t, u+"/x?a=1")
	c := <-ch
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				a := c.Query().Peek("a")
				if a != "1" && a != "2" {
					t.Errorf("query a = %q", a)
					return
				}
				_ = c.Headers().Peek("Cookie")
				_ = c.Context().Err()
				_ = c.Request().URL
				_ = c.Path()
			}
		})
	}
	for range 50 {
		c.Release(compact())
	}
	wg.Wait()
}
