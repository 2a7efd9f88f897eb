package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pizzapi/pizzapi/server/config"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestClusterLoginLimitShared: guesses sent to the nodes of a cluster in turn are counted
// together (in Redis): round-robining the nodes does not reset the limit.
func TestClusterLoginLimitShared(t *testing.T) {
	nodes := servertest.StartCluster(t, 2)
	u := nodes[0].NewUser(t)
	limited := 0
	for i := range 12 {
		n := nodes[i%2]
		resp, err := http.Post(n.URL+"/api/auth/sign-in/email", "application/json",
			strings.NewReader(`{"email":"`+u.Email+`","password":"wrong password"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 12-5 {
		t.Errorf("%d of 12 guesses alternating between two nodes were refused, want 7", limited)
	}
}

// TestLoginLimitBehindNginx is item 5(c) with the README's nginx configuration in front of a node
// run with --trust-proxy: a guess that writes a new address into X-Forwarded-For itself is still
// counted against the address nginx saw (it appends it), so forging the header gains nothing.
func TestLoginLimitBehindNginx(t *testing.T) {
	n := servertest.Start(t, func(c *config.Config) { c.TrustProxy = true })
	lb := servertest.StartNginx(t, []string{n.URL}, false)
	u := n.NewUser(t)
	limited := 0
	for i := range 12 {
		req, _ := http.NewRequest(http.MethodPost, lb+"/api/auth/sign-in/email",
			strings.NewReader(`{"email":"`+u.Email+`","password":"wrong password"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 12-5 {
		t.Errorf("%d of 12 guesses with forged X-Forwarded-For through nginx were refused, want 7", limited)
	}
}
