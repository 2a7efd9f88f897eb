package wstransport_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pizzapi/pizzapi/server/wstransport"
)

// TestReleasedResponseForgetsHeaders: a handler's ResponseWriter, kept past the request as the
// engine keeps a session's first one, no longer holds the response's header map once the
// handler has returned: Header is then an empty map that is never sent.
func TestReleasedResponseForgetsHeaders(t *testing.T) {
	kept := make(chan http.ResponseWriter, 1)
	srv := httptest.NewServer(wstransport.ReleaseResponses(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "https://app.example")
		w.WriteHeader(http.StatusNoContent)
		kept <- w
	})))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example" {
		t.Fatalf("response header %q, want it sent while the handler ran", got)
	}
	w := <-kept
	// The handler has returned once the client has the whole (empty) response and the server
	// closed the connection.
	srv.CloseClientConnections()
	srv.Close()
	if h := w.Header(); len(h) != 0 {
		t.Fatalf("header after the handler returned: %v, want none", h)
	}
	h := w.Header()
	h.Set("X-Late", "1")
	if w.Header().Get("X-Late") != "" {
		t.Fatal("a header set after the handler returned was kept")
	}
	if _, err := w.Write([]byte("late")); err == nil {
		t.Fatal("a write after the handler returned succeeded")
	}
}
