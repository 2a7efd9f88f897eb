package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pizzapi/pizzapi/internal/redistest"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/hub"
	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/runner"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/config"
	"github.com/pizzapi/pizzapi/server/core"
	"github.com/pizzapi/pizzapi/server/live/redislive"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestClusterSessionAcrossNodes: the CLI on node A, viewers and the hub on node B. Events, collab
// input, commands and their results, viewer counts and the end of the session all cross nodes.
func TestClusterSessionAcrossNodes(t *testing.T) {
	nodes := servertest.StartCluster(t, 2)
	a, b := nodes[0], nodes[1]
	u := a.NewUser(t) // accounts are shared through PostgreSQL
	h := b.Dial(t, "/hub", servertest.DialOptions{User: &u})
	h.Next(t, "sessions")

	c, reg := cli(t, a, u, "s-cluster")
	var added protocol.SessionInfo
	h.NextInto(t, "session_added", &added)
	if added.SessionID != "s-cluster" {
		t.Fatalf("hub on B: %s", added.AppendJSON(nil))
	}
	c.Emit(t, "event", agentEvent(reg, 1, `{"type":"session_active","state":{"messages":["m"]}}`))
	c.Next(t, "event_ack")

	v := b.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-cluster"}})
	var hello viewer.SessionConnected
	v.NextInto(t, "connected", &hello)
	if hello.LastSeq.Or(0) != 1 {
		t.Fatalf("connected on B: %s", hello.AppendJSON(nil))
	}
	viewerEvents(t, v.Take(t, "event", 1))
	for i := 2; i <= 100; i++ {
		c.Emit(t, "event", agentEvent(reg, i, fmt.Sprintf(`{"type":"message_update","i":%d}`, i)))
	}
	evs := viewerEvents(t, v.Take(t, "event", 99))
	for i, e := range evs {
		if e.Seq.Or(0) != int64(i+2) {
			t.Fatalf("event %d on B has seq %d", i, e.Seq.Or(0))
		}
	}
	// Viewer greeting and collab commands from B reach the CLI on A; results come back.
	v.Emit(t, "connected", map[string]any{})
	c.Next(t, "connected")
	if ack := v.Ack(t, "input", map[string]any{"text": "from B"}); string(ack) != `{"ok":true}` {
		t.Fatalf("input ack %s", ack)
	}
	c.Next(t, "input")
	v.Ack(t, "exec", map[string]any{"id": "x1", "command": "abort"})
	c.Next(t, "exec")
	c.Emit(t, "exec_result", map[string]any{"id": "x1", "ok": true, "command": "abort"})
	v.Next(t, "exec_result")
	// Viewer counts are cluster-wide: one viewer on B, counted on A.
	infos, err := a.Server.Core().Sessions(context.Background(), u.ID)
	if err != nil || len(infos) != 1 || infos[0].ViewerCount.Or(-1) != 1 {
		t.Fatalf("sessions on A: %v %v", infos, err)
	}
	c.Emit(t, "session_end", map[string]any{"sessionId": "s-cluster", "token": reg.Token})
	var d viewer.Disconnected
	v.NextInto(t, "disconnected", &d)
	if d.Reason != "Session ended" || d.Code.Or("") != viewer.DisconnectCodeSessionEnded {
		t.Fatalf("disconnected %s", d.AppendJSON(nil))
	}
	var removed hub.SessionRemoved
	h.NextInto(t, "session_removed", &removed)
}

// TestClusterSessionMessages: inter-session messages between CLIs on different nodes.
func TestClusterSessionMessages(t *testing.T) {
	nodes := servertest.StartCluster(t, 2)
	u := nodes[0].NewUser(t)
	ca, regA := cli(t, nodes[0], u, "s-msg-a")
	cb, _ := cli(t, nodes[1], u, "s-msg-b")
	if ack := ca.Ack(t, "session_message", map[string]any{"token": regA.Token, "targetSessionId": "s-msg-b", "message": "hi from A"}); string(ack) != `{"ok":true}` {
		t.Fatalf("ack %s", ack)
	}
	var m relay.SessionMessage
	cb.NextInto(t, "session_message", &m)
	if m.FromSessionID != "s-msg-a" || m.Message != "hi from A" {
		t.Fatalf("message %s", m.AppendJSON(nil))
	}
}

// TestClusterRunnerAcrossNodes: a runner on A, spawned, commanded and its terminal used from B.
func TestClusterRunnerAcrossNodes(t *testing.T) {
	nodes := servertest.StartCluster(t, 2)
	a, b := nodes[0], nodes[1]
	u := a.NewUser(t)
	r := fakeRunner(t, a, u, "r-cluster", "secret")
	ctx := context.Background()
	cb := b.Server.Core()
	if list, err := cb.Runners(ctx, u.ID); err != nil || len(list) != 1 {
		t.Fatalf("runners on B: %v %v", list, err)
	}
	done := make(chan error, 1)
	go func() {
		res, err := cb.Spawn(ctx, u.ID, core.SpawnRequest{RunnerID: "r-cluster", Cwd: "/srv/work"})
		if err == nil && res.Pending {
			err = fmt.Errorf("spawn pending")
		}
		done <- err
	}()
	var ns runner.NewSession
	r.NextInto(t, "new_session", &ns)
	r.Emit(t, "session_ready", map[string]any{"sessionId": ns.SessionID})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A request/response command from B answered by the runner on A.
	go func() {
		var lf runner.ListFiles
		if lf.UnmarshalJSON(r.Next(t, "list_files")) == nil {
			r.Emit(t, "file_result", map[string]any{"requestId": lf.RequestID.Or(""), "ok": true, "files": []any{}})
		}
	}()
	reply, err := cb.RunnerCommand(ctx, u.ID, "r-cluster", runner.EventListFiles, func(id string) []byte {
		return (&runner.ListFiles{RequestID: protocol.Some(id), Path: "/srv/work"}).AppendJSON(nil)
	}, 5*time.Second)
	if err != nil || string(reply) == "" {
		t.Fatalf("command across nodes: %s %v", reply, err)
	}
	// A terminal created and used through B.
	termID, err := cb.CreateTerminal(ctx, u.ID, core.TerminalRequest{RunnerID: "r-cluster"})
	if err != nil {
		t.Fatal(err)
	}
	term := b.Dial(t, "/terminal", servertest.DialOptions{User: &u, Auth: map[string]any{"terminalId": termID}})
	term.Next(t, "terminal_connected")
	term.Emit(t, "terminal_resize", map[string]any{"cols": 90, "rows": 20})
	r.Next(t, "new_terminal")
	term.Emit(t, "terminal_input", map[string]any{"data": base64.StdEncoding.EncodeToString([]byte("ls\r"))})
	r.Next(t, "terminal_input")
	r.Emit(t, "terminal_data", map[string]any{"terminalId": termID, "data": base64.StdEncoding.EncodeToString([]byte("file\r\n"))})
	term.Next(t, "terminal_data")
	term.Emit(t, "kill_terminal", map[string]any{})
	r.Next(t, "kill_terminal")
	r.Emit(t, "terminal_exit", map[string]any{"terminalId": termID, "exitCode": 0})
	term.Next(t, "terminal_exit")
	// The runner's secret is checked on every node.
	bad := b.Dial(t, "/runner", servertest.DialOptions{User: &u})
	bad.Emit(t, "register_runner", map[string]any{"runnerId": "r-cluster", "runnerSecret": "wrong"})
	var e protocol.ErrorMessage
	bad.NextInto(t, "error", &e)
	if e.Message != "Runner authentication failed: secret mismatch for runner r-cluster" {
		t.Fatalf("error %q", e.Message)
	}
}

// TestClusterExpirySweepOnce: every node sweeps; an expired session is ended once.
func TestClusterExpirySweepOnce(t *testing.T) {
	nodes := servertest.StartCluster(t, 3, func(c *config.Config) {
		c.EphemeralTTL = 400 * time.Millisecond
		c.SweepInterval = 50 * time.Millisecond
	})
	u := nodes[0].NewUser(t)
	h := nodes[2].Dial(t, "/hub", servertest.DialOptions{User: &u})
	h.Next(t, "sessions")
	c, _ := cli(t, nodes[0], u, "s-sweep")
	h.Next(t, "session_added")
	var exp struct{ SessionID string }
	_ = json.Unmarshal(c.Next(t, "session_expired"), &exp)
	h.Next(t, "session_removed")
	h.None(t, "session_removed", 300*time.Millisecond)
	c.None(t, "session_expired", 10*time.Millisecond)
}

// TestConnectionStateRecovery: a client that loses its connection and comes back within the
// recovery window keeps its Socket.IO session, on the same node and on another node of a cluster.
func TestConnectionStateRecovery(t *testing.T) {
	t.Run("single node", func(t *testing.T) {
		n := servertest.Start(t)
		u := n.NewUser(t)
		cli(t, n, u, "s-csr")
		v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Reconnect: true, Auth: map[string]any{"sessionId": "s-csr"}})
		v.Next(t, "connected")
		id := v.ID()
		v.DropTransport()
		v.WaitConnects(t, 2)
		if !v.Recovered() || v.ID() != id {
			t.Fatalf("recovered %v, id %q then %q", v.Recovered(), id, v.ID())
		}
		v.Next(t, "connected") // the relay brings the viewer up to date again
	})
	t.Run("across nodes", func(t *testing.T) {
		nodes := servertest.StartCluster(t, 2)
		a, b := nodes[0], nodes[1]
		u := a.NewUser(t)
		c, reg := cli(t, a, u, "s-csr-2")
		proxy := servertest.NewProxy(t, a)
		v := a.Dial(t, "/viewer", servertest.DialOptions{URL: proxy.URL, User: &u, Reconnect: true, Auth: map[string]any{"sessionId": "s-csr-2"}})
		v.Next(t, "connected")
		id := v.ID()
		proxy.Switch(b) // node A goes away for this client; it reconnects to B
		v.WaitConnects(t, 2)
		if !v.Recovered() || v.ID() != id {
			t.Fatalf("recovered %v, id %q then %q", v.Recovered(), id, v.ID())
		}
		var hello viewer.SessionConnected
		v.NextInto(t, "connected", &hello)
		c.Emit(t, "event", agentEvent(reg, 1, `{"type":"x"}`))
		if evs := viewerEvents(t, v.Take(t, "event", 1)); evs[0].Seq.Or(0) != 1 {
			t.Fatalf("event after recovery: %v", seqsOf(evs))
		}
	})
}

// TestClusterResumeRepublishesStoredEvent: a node that dies after storing an event but before
// publishing it leaves viewers on other nodes one event short; when the CLI resumes elsewhere the
// newest event is published again, so those viewers see no gap (and viewers that have it skip it).
func TestClusterResumeRepublishesStoredEvent(t *testing.T) {
	rds := redistest.StartServer(t)
	nodes := servertest.StartClusterOn(t, rds, 2)
	a, b := nodes[0], nodes[1]
	u := a.NewUser(t)
	c, reg := cli(t, a, u, "s-republish")
	v := b.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-republish"}})
	v.Next(t, "connected")
	c.Emit(t, "event", agentEvent(reg, 1, `{"type":"x","n":1}`))
	if evs := viewerEvents(t, v.Take(t, "event", 1)); evs[0].Seq.Or(0) != 1 {
		t.Fatalf("first event: %v", seqsOf(evs))
	}
	// What the dying node did: event 2 stored, never published.
	rdb := redis.NewClient(&redis.Options{Addr: rds.Addr})
	defer rdb.Close()
	store := redislive.New(rdb, redislive.Options{Prefix: "pizzapi:", HistorySize: 100})
	if _, err := store.Append(context.Background(), "s-republish", 2, "x", []byte(`{"type":"x","n":2}`), nil); err != nil {
		t.Fatal(err)
	}
	v.None(t, "event", 200*time.Millisecond)
	c.DropTransport() // the CLI's connection breaks as its node dies
	c2 := b.Dial(t, "/relay", servertest.DialOptions{User: &u})
	var reg2 relay.Registered
	if err := reg2.UnmarshalJSON(c2.Ack(t, "register", map[string]any{"sessionId": "s-republish", "cwd": "/tmp", "resume": true})); err != nil {
		t.Fatal(err)
	}
	if !reg2.Resumed.Or(false) || reg2.AckedSeq.Or(0) != 2 {
		t.Fatalf("registered %s", reg2.AppendJSON(nil))
	}
	c2.Emit(t, "event", agentEvent(reg2, 3, `{"type":"x","n":3}`))
	evs := viewerEvents(t, v.Take(t, "event", 2))
	if got := seqsOf(evs); len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Fatalf("viewer on B got seqs %v, want [2 3]", got)
	}
	v.None(t, "event", 200*time.Millisecond)
}
