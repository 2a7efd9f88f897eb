package push

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestDialerRefusesPrivateAddresses: whatever name an endpoint has, the connection itself is
// refused when it goes to a non-public address, unless a prefix admits the endpoint; redirects
// are returned, not followed.
func TestDialerRefusesPrivateAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	strict := Policy{}.client(5 * time.Second)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/push", nil)
	if _, err := strict.Do(req); !errors.Is(err, errRefusedAddress) {
		t.Fatalf("a connection to loopback: %v, want refused", err)
	}
	p, err := NewPolicy([]string{srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	c := p.client(5 * time.Second)
	get := func(path string) int {
		req, _ := http.NewRequestWithContext(p.requestContext(t.Context(), srv.URL+path), http.MethodPost, srv.URL+path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get("/push"); got != http.StatusCreated {
		t.Errorf("an admitted endpoint answered %d", got)
	}
	if got := get("/redirect"); got != http.StatusFound {
		t.Errorf("a redirect gave %d: it was followed", got)
	}
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/push", nil)
	if _, err := c.Do(req); !errors.Is(err, errRefusedAddress) {
		t.Errorf("a request not marked as admitted reached loopback: %v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{"": 0, "7": 7 * time.Second, "-1": 0, "soon": 0,
		now.Add(30 * time.Second).Format(http.TimeFormat): 30 * time.Second} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}
