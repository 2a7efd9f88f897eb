package sioclient_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestReconnectThroughBadGateway: a load balancer that answers 502 for a while (nginx when it
// has marked every node as failed during a rolling restart) delays a reconnection but does not
// stop it: once the node answers again, the client connects.
func TestReconnectThroughBadGateway(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	target, _ := url.Parse(n.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var failing atomic.Bool
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "no live upstreams", http.StatusBadGateway)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(lb.Close)

	c, ev := dialHub(t, lb.URL, u.APIKey, true)
	select {
	case <-ev.connects:
	case <-time.After(servertest.Timeout):
		t.Fatal("no first connection")
	}
	for round := range 3 {
		failing.Store(true)
		c.DropTransport()
		time.Sleep(1500 * time.Millisecond)
		failing.Store(false)
		select {
		case <-ev.connects:
		case <-time.After(15 * time.Second):
			t.Fatalf("round %d: no reconnection within 15 s after the gateway recovered (connected %v)", round+1, c.Connected())
		}
	}
}
