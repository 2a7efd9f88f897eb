package server_test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/servertest"
)

// connectionGauges reads pizzapi_connections of every namespace from /metrics.
func connectionGauges(t *testing.T, n *servertest.Node) map[string]float64 {
	t.Helper()
	resp, err := http.Get(n.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, m := range regexp.MustCompile(`(?m)^pizzapi_connections\{namespace="([^"]+)"\} (\S+)$`).FindAllSubmatch(body, -1) {
		v, err := strconv.ParseFloat(string(m[2]), 64)
		if err != nil {
			t.Fatalf("gauge %s: %v", m[0], err)
		}
		out[string(m[1])] = v
	}
	return out
}

// TestConnectionGaugeCountsEachSocketOnce: many connect/close cycles of every kind (a client that
// leaves, a socket the relay closes while its client leaves too, a refused handshake, a client
// that gives up before the connection is set up) leave pizzapi_connections at 0 for every
// namespace, and it is never negative on the way (it drifted to -8 after ~160 cycles).
func TestConnectionGaugeCountsEachSocketOnce(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	bad := servertest.User{APIKey: "pzp_wrong"}
	check := func(when string) {
		for nsp, v := range connectionGauges(t, n) {
			if v < 0 {
				t.Fatalf("%s: pizzapi_connections{namespace=%q} = %v", when, nsp, v)
			}
		}
	}
	const cycles = 160
	for i := range cycles {
		switch i % 5 {
		case 0: // a CLI that registers and leaves
			c, _ := cli(t, n, u, "s-gauge")
			c.Close()
		case 1: // a viewer of a session that does not exist: the relay closes it as it leaves
			v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-none"}, NoWait: true})
			v.Close()
		case 2: // a refused handshake
			_ = n.Refused(t, "/hub", servertest.DialOptions{User: &bad})
		case 3: // a client that gives up at once
			h := n.Dial(t, "/hub", servertest.DialOptions{User: &u, NoWait: true})
			h.Close()
		case 4: // a transport that drops under a connected socket
			h := n.Dial(t, "/hub", servertest.DialOptions{User: &u})
			h.DropTransport()
			h.Close()
		}
		if i%20 == 19 {
			check("after cycle " + strconv.Itoa(i+1))
		}
	}
	deadline := time.Now().Add(servertest.Timeout)
	for {
		check("at the end")
		open := 0.0
		for _, v := range connectionGauges(t, n) {
			open += v
		}
		if open == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d cycles the gauges are %v, want 0", cycles, connectionGauges(t, n))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
