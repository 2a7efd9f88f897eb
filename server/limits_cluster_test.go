package server_test

import (
	"net/http"
	"strings"
	"testing"

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
