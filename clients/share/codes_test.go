package share

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestReactsToErrorCodes: the publisher decides on the code of the relay's error events, never
// on their text. session_expired (whatever its message) makes it register again under a new token;
// invalid_token (even with the text an expired session used to have) changes nothing; and a
// refused registration ends Run with an error carrying the relay's code.
func TestReactsToErrorCodes(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := share(t, n, u, Options{SessionID: "s-codes", Source: &recordingSource{}})
	token := func() string {
		s.p.mu.Lock()
		defer s.p.mu.Unlock()
		return s.p.token
	}
	waitRegistered := func(not string) string {
		t.Helper()
		deadline := time.Now().Add(servertest.Timeout)
		for {
			if tok := token(); s.p.isRegistered() && tok != not {
				return tok
			}
			if time.Now().After(deadline) {
				t.Fatal("the publisher did not register")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	first := waitRegistered("")
	h := relayHandler{p: s.p}
	ctx := context.Background()

	_ = h.Error(ctx, &protocol.ErrorMessage{Code: protocol.ErrorCodeInvalidToken, Message: "Session not found: it ended; register again"})
	time.Sleep(200 * time.Millisecond)
	if tok := token(); tok != first || !s.p.isRegistered() {
		t.Fatal("invalid_token made the publisher register again")
	}

	_ = h.Error(ctx, &protocol.ErrorMessage{Code: protocol.ErrorCodeSessionExpired, Message: "Sitzung beendet"})
	waitRegistered(first)

	select {
	case err := <-s.done:
		t.Fatalf("Run ended: %v", err)
	default:
	}

	// Another user's session id: the registration is refused with code forbidden.
	other := n.NewUser(t)
	o := Options{RelayURL: n.URL, APIKey: other.APIKey, SessionID: "s-codes", Source: &recordingSource{}, Cwd: "/tmp", Log: s.log, Out: s.out, ConnectTimeout: 2 * time.Second}
	if err := Run(ctx, o); !errors.Is(err, protocol.ErrForbidden) {
		t.Fatalf("Run with another user's session id: %v", err)
	}
}
