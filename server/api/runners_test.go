package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/protocol/runner"
	"github.com/pizzapi/pizzapi/server/bus"
)

func TestRunnersListsOwnRunners(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.newUser(t, "Ada"), e.newUser(t, "Bob")
	rn := e.connectRunner(t, ada, []string{"/srv/work"}, nil)

	r := e.do(t, call{method: "GET", path: "/api/runners", cookie: ada.cookie})
	wantStatus(t, r, http.StatusOK)
	got := decode[rest.RunnersResponse](t, r).Runners
	if len(got) != 1 || got[0].RunnerID != rn.id || len(got[0].Roots) != 1 || got[0].Roots[0] != "/srv/work" {
		t.Fatalf("runners %+v", got)
	}
	if got := decode[rest.RunnersResponse](t, e.do(t, bob.as(call{method: "GET", path: "/api/runners"}))).Runners; len(got) != 0 {
		t.Fatalf("bob sees %+v", got)
	}
}

func TestSpawn(t *testing.T) {
	e := newEnv(t)
	ada := e.newUser(t, "Ada")
	rn := e.connectRunner(t, ada, []string{"/srv/work"}, nil)

	body := `{"runnerId":"` + rn.id + `","cwd":"/srv/work/api","prompt":"Fix it","model":{"provider":" anthropic ","id":"claude-sonnet-4-5"}}`
	r := e.do(t, ada.as(call{method: "POST", path: "/api/runners/spawn", body: body}))
	wantStatus(t, r, http.StatusOK)
	got := decode[rest.SpawnResponse](t, r)
	if !got.OK || got.RunnerID != rn.id || got.SessionID == "" || got.Pending {
		t.Fatalf("spawn %+v", got)
	}
	var sent runner.NewSession
	if err := sent.UnmarshalJSON(rn.last(t, runner.EventNewSession)); err != nil {
		t.Fatal(err)
	}
	m, _ := sent.Model.Get()
	if sent.SessionID != got.SessionID || sent.Cwd.Or("") != "/srv/work/api" || sent.Prompt.Or("") != "Fix it" ||
		m.Provider != "anthropic" || m.ID != "claude-sonnet-4-5" {
		t.Errorf("new_session %+v", sent)
	}

	// The cwd is now a recent folder of the runner (cookie auth works too).
	r = e.do(t, call{method: "GET", path: "/api/runners/" + rn.id + "/recent-folders", cookie: ada.cookie})
	wantStatus(t, r, http.StatusOK)
	if f := decode[rest.RecentFoldersResponse](t, r).Folders; len(f) != 1 || f[0] != "/srv/work/api" {
		t.Errorf("recent folders %v", f)
	}

	// A cwd outside the roots is refused by the relay.
	wantError(t, e.do(t, ada.as(call{method: "POST", path: "/api/runners/spawn", body: `{"runnerId":"` + rn.id + `","cwd":"/etc"}`})),
		http.StatusBadRequest, "Runner cannot access cwd: /etc")
}

func TestSpawnRunnerRefuses(t *testing.T) {
	e := newEnv(t)
	ada := e.newUser(t, "Ada")
	rn := e.connectRunner(t, ada, nil, nil)
	rn.answering(func(event string, _ []byte) answer {
		return answer{event: runner.EventSessionError, payload: map[string]any{"message": "Runner is missing PIZZAPI_API_KEY"}}
	})
	wantError(t, e.do(t, ada.as(call{method: "POST", path: "/api/runners/spawn", body: `{"runnerId":"` + rn.id + `"}`})),
		http.StatusBadRequest, "Runner is missing PIZZAPI_API_KEY")
}

func TestSpawnRunnerSilentIsPending(t *testing.T) {
	e := newEnv(t, func(o *options) { o.core.SpawnWait = 200 * time.Millisecond })
	ada := e.newUser(t, "Ada")
	rn := e.connectRunner(t, ada, nil, nil)
	rn.answering(func(string, []byte) answer { return answer{} })
	r := e.do(t, ada.as(call{method: "POST", path: "/api/runners/spawn", body: `{"runnerId":"` + rn.id + `"}`}))
	wantStatus(t, r, http.StatusOK)
	if got := decode[rest.SpawnResponse](t, r); !got.Pending || got.SessionID == "" {
		t.Fatalf("spawn %+v", got)
	}
}

func TestSpawnUnreachableRunner(t *testing.T) {
	e := newEnv(t)
	ada := e.newUser(t, "Ada")
	rn := e.connectRunner(t, ada, nil, nil)
	body := `{"runnerId":"` + rn.id + `"}`

	// Registered, but no socket on the bus any more (its node is gone).
	e.bus.Leave(bus.Runner+rn.id, rn.conn)
	wantError(t, e.do(t, ada.as(call{method: "POST", path: "/api/runners/spawn", body: body})), http.StatusBadGateway, "")
	wantError(t, e.do(t, ada.as(call{method: "POST", path: "/api/runners/restart", body: body})), http.StatusBadGateway, "")

	// Disconnected: the runner is gone.
	rn.h.Disconnected("transport close", false)
	wantError(t, e.do(t, ada.as(call{method: "POST", path: "/api/runners/spawn", body: body})), http.StatusNotFound, "Runner not found")
}

func TestRestart(t *testing.T) {
	e := newEnv(t)
	ada := e.newUser(t, "Ada")
	rn := e.connectRunner(t, ada, nil, nil)
	r := e.do(t, call{method: "POST", path: "/api/runners/restart", body: `{"runnerId":"` + rn.id + `"}`, cookie: ada.cookie})
	wantStatus(t, r, http.StatusOK)
	if !decode[rest.OkResponse](t, r).OK {
		t.Fatal("restart not ok")
	}
	waitFor(t, func() bool { return rn.has(runner.EventRestart) })
}

func TestTerminal(t *testing.T) {
	e := newEnv(t)
	ada := e.newUser(t, "Ada")
	rn := e.connectRunner(t, ada, []string{"/srv/work"}, nil)
	r := e.do(t, call{method: "POST", path: "/api/runners/terminal", body: `{"runnerId":"` + rn.id + `","cwd":"/srv/work","cols":120,"rows":40}`, cookie: ada.cookie})
	wantStatus(t, r, http.StatusOK)
	got := decode[rest.TerminalResponse](t, r)
	if !got.OK || got.TerminalID == "" || got.RunnerID != rn.id {
		t.Fatalf("terminal %+v", got)
	}
	wantError(t, e.do(t, ada.as(call{method: "POST", path: "/api/runners/terminal", body: `{"runnerId":"` + rn.id + `","cwd":"/root"}`})),
		http.StatusBadRequest, "Runner cannot access cwd: /root")
}

func TestOtherUsersRunnerIsForbidden(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.newUser(t, "Ada"), e.newUser(t, "Bob")
	rn := e.connectRunner(t, ada, nil, []protocol.RunnerSkill{{Name: "notes", Description: "d", FilePath: "/s/notes/SKILL.md"}})
	id := rn.id
	calls := []call{
		{method: "POST", path: "/api/runners/spawn", body: `{"runnerId":"` + id + `"}`},
		{method: "POST", path: "/api/runners/restart", body: `{"runnerId":"` + id + `"}`},
		{method: "POST", path: "/api/runners/terminal", body: `{"runnerId":"` + id + `"}`},
		{method: "GET", path: "/api/runners/" + id + "/recent-folders"},
		{method: "GET", path: "/api/runners/" + id + "/skills"},
		{method: "GET", path: "/api/runners/" + id + "/skills/notes"},
		{method: "POST", path: "/api/runners/" + id + "/skills", body: `{"name":"x","content":""}`},
		{method: "PUT", path: "/api/runners/" + id + "/skills/notes", body: `{"content":""}`},
		{method: "DELETE", path: "/api/runners/" + id + "/skills/notes"},
		{method: "POST", path: "/api/runners/" + id + "/files", body: `{"path":"/"}`},
		{method: "POST", path: "/api/runners/" + id + "/read-file", body: `{"path":"/etc/passwd"}`},
		{method: "POST", path: "/api/runners/" + id + "/git-status", body: `{"cwd":"/"}`},
		{method: "POST", path: "/api/runners/" + id + "/git-diff", body: `{"cwd":"/","path":"x"}`},
	}
	for _, c := range calls {
		wantError(t, e.do(t, bob.as(c)), http.StatusForbidden, "Forbidden")
	}
	// Unknown runners are 404.
	for _, c := range []call{
		{method: "POST", path: "/api/runners/spawn", body: `{"runnerId":"nope"}`},
		{method: "GET", path: "/api/runners/nope/skills"},
		{method: "POST", path: "/api/runners/nope/files", body: `{"path":"/"}`},
		{method: "GET", path: "/api/runners/nope/recent-folders"},
	} {
		wantError(t, e.do(t, bob.as(c)), http.StatusNotFound, "Runner not found")
	}
	rn.mu.Lock()
	defer rn.mu.Unlock()
	for _, m := range rn.received {
		t.Errorf("the runner received %s from another user", m.Event)
	}
}

// has reports whether the runner received a command.
func (r *fakeRunner) has(event string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.received {
		if m.Event == event {
			return true
		}
	}
	return false
}

// waitFor polls cond for up to two seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
