package sioclient_test

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/internal/sioclient"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/hub"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// The library used to lose the engine's "open" event (emitted by the reader goroutine before
// Manager.Open subscribed to it) and the error of a failed dial (emitted before anyone listened):
// the attempt then hung until the connect timeout (5 s). See transport.go.

// stallBound is how long a connection to a healthy local node may take, even under -race.
const stallBound = 1500 * time.Millisecond

// events records what a client's handler saw.
type events struct {
	connects chan time.Time
	errors   chan time.Time
}

func dialHub(t *testing.T, url, apiKey string, reconnect bool) (*sioclient.Client, *events) {
	t.Helper()
	ev := &events{connects: make(chan time.Time, 16), errors: make(chan time.Time, 16)}
	c, err := sioclient.Dial(sioclient.Options{
		URL:       url,
		Namespace: "/hub",
		Auth:      (&hub.Auth{APIKey: protocol.Some(apiKey)}).AppendJSON(nil),
		Reconnect: reconnect,
	}, sioclient.Handler{
		OnConnect: func() {
			select {
			case ev.connects <- time.Now():
			default:
			}
		},
		OnConnectError: func(error) {
			select {
			case ev.errors <- time.Now():
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, ev
}

func waitConnect(ev *events, d time.Duration) bool {
	select {
	case <-ev.connects:
		return true
	case <-time.After(d):
		return false
	}
}

// TestConnectDoesNotStall opens 200 connections, one after the other and concurrently, with and
// without reconnection: every one must connect well within the connect timeout.
func TestConnectDoesNotStall(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	var mu sync.Mutex
	stalls := 0
	try := func(reconnect bool) {
		start := time.Now()
		c, ev := dialHub(t, n.URL, u.APIKey, reconnect)
		if !waitConnect(ev, stallBound) {
			mu.Lock()
			stalls++
			mu.Unlock()
			t.Errorf("a connection (reconnect %v) did not complete within %v", reconnect, time.Since(start))
		}
		c.Close()
	}
	for i := range 120 {
		try(i%2 == 0)
	}
	for batch := range 8 {
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() { try((batch+i)%2 == 0) })
		}
		wg.Wait()
	}
	if stalls > 0 {
		t.Errorf("%d of 200 connections stalled", stalls)
	}
}

// TestConnectErrorIsNotLost: a dial that fails at once is reported at once, and the next
// reconnection attempt follows after the reconnection delay, not after the connect timeout.
func TestConnectErrorIsNotLost(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	start := time.Now()
	_, ev := dialHub(t, url, "none", true)
	for i := 1; i <= 2; i++ {
		select {
		case at := <-ev.errors:
			t.Logf("connect error %d after %v", i, at.Sub(start))
		case <-time.After(stallBound):
			t.Fatalf("connect error %d not reported within %v of the start", i, stallBound)
		}
	}
}

// TestReconnectAfterNodeFailure: a connected client loses its node, reconnection attempts first
// reach no node at all (the balancer still points at the dead one), then a live node. The client
// must be back in well under the connect timeout.
func TestReconnectAfterNodeFailure(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := &servertest.Node{URL: "http://" + ln.Addr().String()}
	ln.Close()
	proxy := servertest.NewProxy(t, n)
	for round := range 3 {
		c, ev := dialHub(t, proxy.URL, u.APIKey, true)
		if !waitConnect(ev, stallBound) {
			t.Fatal("first connection stalled")
		}
		start := time.Now()
		proxy.Switch(dead) // cuts the connection; new ones are closed at once
		time.Sleep(400 * time.Millisecond)
		proxy.Switch(n)
		if !waitConnect(ev, 3*time.Second) {
			t.Fatalf("round %d: not reconnected %v after the node failure", round, time.Since(start))
		}
		t.Logf("round %d: reconnected after %v", round, time.Since(start))
		if !c.Connected() {
			t.Fatal("not connected after OnConnect")
		}
		c.Close()
	}
}

// TestReconnectAfterTransportDrop: a dropped transport is reconnected within a second.
func TestReconnectAfterTransportDrop(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	c, ev := dialHub(t, n.URL, u.APIKey, true)
	if !waitConnect(ev, stallBound) {
		t.Fatal("first connection stalled")
	}
	for round := range 10 {
		start := time.Now()
		c.DropTransport()
		if !waitConnect(ev, time.Second) {
			t.Fatalf("round %d: not reconnected %v after the drop", round, time.Since(start))
		}
	}
}

// TestSetAuthWhileReconnecting: SetAuth may be called at any time, also while the library sends
// a CONNECT on a reconnection, where it adds the recovery pid and offset to its auth map (the
// race detector caught the two writing the map at once in a failover test). That the auth set
// last is the one sent is shown by the failover tests, whose viewers resume from the lastSeq they
// set (a recovered connection skips the handshake auth, so a refusal cannot show it here).
func TestSetAuthWhileReconnecting(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	c, ev := dialHub(t, n.URL, u.APIKey, true)
	if !waitConnect(ev, 10*time.Second) {
		t.Fatal("first connection stalled")
	}
	auth := (&hub.Auth{APIKey: protocol.Some(u.APIKey)}).AppendJSON(nil)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				c.SetAuth(auth)
				time.Sleep(100 * time.Microsecond)
			}
		}
	}()
	for round := range 20 {
		c.DropTransport()
		if !waitConnect(ev, 10*time.Second) {
			t.Fatalf("round %d: not reconnected", round)
		}
	}
	close(stop)
	<-done
}
