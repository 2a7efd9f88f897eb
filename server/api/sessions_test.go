package api_test

import (
	"net/http"
	"testing"

	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/server/bus"
)

// viewer is a bus member standing in for a viewer socket.
type viewer struct{}

func (viewer) Deliver(*bus.Message) {}

func TestSessionsListsOwnLiveAndPersistedSessions(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.newUser(t, "Ada"), e.newUser(t, "Bob")
	id := e.connectCLI(t, ada, "/home/ada/project")
	e.bus.Join(bus.SessionViewers+id, viewer{})

	r := e.do(t, ada.as(call{method: "GET", path: "/api/sessions"}))
	wantStatus(t, r, http.StatusOK)
	got := decode[rest.SessionsResponse](t, r)
	if len(got.Sessions) != 1 || got.Sessions[0].SessionID != id || got.Sessions[0].Cwd != "/home/ada/project" {
		t.Fatalf("sessions %+v", got.Sessions)
	}
	if n := got.Sessions[0].ViewerCount.Or(-1); n != 1 {
		t.Errorf("viewerCount %d, want 1", n)
	}
	if len(got.PersistedSessions) != 1 {
		t.Fatalf("persistedSessions %+v", got.PersistedSessions)
	}
	p := got.PersistedSessions[0]
	if p.SessionID != id || p.EndedAt != nil || !p.IsEphemeral || p.ExpiresAt == nil || p.ShareURL != "http://relay.test/session/"+id {
		t.Errorf("persisted session %+v", p)
	}

	// Bob sees none of it, with his key or his cookie.
	for _, c := range []call{bob.as(call{method: "GET", path: "/api/sessions"}), {method: "GET", path: "/api/sessions", cookie: bob.cookie}} {
		got := decode[rest.SessionsResponse](t, e.do(t, c))
		if len(got.Sessions) != 0 || len(got.PersistedSessions) != 0 {
			t.Fatalf("bob sees %+v", got)
		}
	}
}
