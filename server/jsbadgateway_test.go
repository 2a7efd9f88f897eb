package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestJSReconnectThroughBadGateway: PizzaPi's JavaScript clients (a CLI-style websocket socket
// and a browser-style polling one) start while the load balancer answers 502 to every request,
// as nginx does while the relay nodes restart. They keep trying on their reconnection schedule,
// and once the balancer forwards again each is connected by its first or second attempt.
func TestJSReconnectThroughBadGateway(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	target, err := url.Parse(n.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	const refusals = 3 // attempts of each client answered 502 before the balancer recovers
	var (
		mu      sync.Mutex
		failing = true
		failed  = map[string]int{} // per client, the attempts answered 502
		later   = map[string]int{} // per client, the attempts after the balancer recovered
	)
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		attempt := strings.HasPrefix(r.URL.Path, "/socket.io/") && q.Get("sid") == "" // a new Engine.IO handshake
		mu.Lock()
		fail := failing
		if attempt {
			if fail {
				failed[q.Get("client")]++
				failing = failed["cli"] < refusals || failed["browser"] < refusals
			} else {
				later[q.Get("client")]++
			}
		}
		mu.Unlock()
		if fail {
			http.Error(w, "no live upstreams", http.StatusBadGateway)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(lb.Close)

	var out struct{ CLI, Browser jsSocket }
	runJS(t, &servertest.Node{URL: lb.URL}, "badgateway.mjs", &out,
		"PIZZAPI_API_KEY="+u.APIKey,
		"PIZZAPI_COOKIE="+u.CookieHeader().Get("Cookie"),
	)
	mu.Lock()
	defer mu.Unlock()
	for name, s := range map[string]jsSocket{"cli": out.CLI, "browser": out.Browser} {
		errs := len(s.events("$connect_error"))
		t.Logf("%s: %d attempts answered 502, %d connect errors, connected at attempt %d after the balancer recovered", name, failed[name], errs, later[name])
		if errs < refusals {
			t.Errorf("%s: %d connect errors for %d attempts answered 502", name, errs, failed[name])
		}
		if later[name] > 2 {
			t.Errorf("%s: %d attempts after the balancer recovered; want the first or second", name, later[name])
		}
	}
}
