package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/pizzapi/pizzapi/internal/syncbuf"
	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestRestartKeepsNumberingAndWaitingViewers is item 8 with a real `pizzapi serve` (SQLite, live
// state in memory) killed with SIGKILL and started again:
//   - the session's numbers do not start again from 1: a viewer that saw up to n and reconnects
//     with lastSeq n gets the events that follow at once (it used to wait, told
//     connected {lastSeq: n}, until the new numbers passed n);
//   - a viewer that reconnects before the CLI is back is not given a replay and disconnected: it
//     stays connected and follows the session when the CLI registers it again.
func TestRestartKeepsNumberingAndWaitingViewers(t *testing.T) {
	bin := binary(t)
	port := freePort(t)
	p := &relayProcess{name: "A", url: "http://127.0.0.1:" + strconv.Itoa(port), log: &syncbuf.Buffer{},
		args: []string{bin, "serve", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--data-dir", t.TempDir(),
			"--reconnect-grace-ms", "120000"}}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("node log:\n%s", p.log)
		}
	})
	p.start(t)
	p.waitReady(t)
	u := remoteUser(t, p.url, "restarter")
	const id = "s-restart"

	cli, reg := rawCLI(t, p, u, id)
	v := nodeAt(p).Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": id}})
	v.Next(t, "connected")
	const before = 40
	for i := 1; i <= before; i++ {
		cli.Emit(t, "event", json.RawMessage(fmt.Sprintf(`{"sessionId":%q,"token":%q,"seq":%d,"event":{"type":"message_update","n":%d}}`, id, reg.Token, i, i)))
	}
	var lastSeen int64
	for range before {
		var e viewer.ViewerEvent
		v.NextInto(t, "event", &e)
		lastSeen = e.Seq.Or(0)
	}
	if lastSeen != before {
		t.Fatalf("the viewer saw up to %d, want %d", lastSeen, before)
	}

	p.kill()
	p.start(t)
	p.waitReady(t)

	// The viewer comes back first: it is told the session is inactive and stays connected.
	waiting := nodeAt(p).Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": id, "lastSeq": lastSeen}})
	var hello viewer.SessionConnected
	waiting.NextInto(t, "connected", &hello)
	if hello.ReplayOnly.Or(false) || hello.IsActive.Or(true) {
		t.Fatalf("a viewer of a session expected back got %s", hello.AppendJSON(nil))
	}

	// The CLI resumes; the node lost the session, so it is registered anew.
	cli2 := nodeAt(p).Dial(t, "/relay", servertest.DialOptions{User: &u})
	var reg2 relay.Registered
	if err := reg2.UnmarshalJSON(cli2.Ack(t, "register", map[string]any{"sessionId": id, "cwd": "/tmp", "resume": true})); err != nil {
		t.Fatal(err)
	}
	var back viewer.SessionConnected
	waiting.NextInto(t, "connected", &back)
	if back.LastSeq.Or(0) < lastSeen {
		t.Errorf("after the restart the session's numbers start at %d, below the %d its viewers saw", back.LastSeq.Or(0), lastSeen)
	}
	cli2.Emit(t, "event", json.RawMessage(fmt.Sprintf(`{"sessionId":%q,"token":%q,"seq":1,"event":{"type":"message_update","n":"after"}}`, id, reg2.Token)))
	var after viewer.ViewerEvent
	waiting.NextInto(t, "event", &after)
	if after.Seq.Or(0) <= lastSeen {
		t.Errorf("the first event after the restart is numbered %d, not after the %d viewers saw", after.Seq.Or(0), lastSeen)
	}

	// A viewer reconnecting now with its old lastSeq is brought up to date and gets what follows.
	late := nodeAt(p).Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": id, "lastSeq": lastSeen}})
	var lateHello viewer.SessionConnected
	late.NextInto(t, "connected", &lateHello)
	if lateHello.LastSeq.Or(0) < after.Seq.Or(0)-1 {
		t.Errorf("a viewer reconnecting with lastSeq %d was told connected %s", lastSeen, lateHello.AppendJSON(nil))
	}
	cli2.Emit(t, "event", json.RawMessage(fmt.Sprintf(`{"sessionId":%q,"token":%q,"seq":2,"event":{"type":"message_update","n":"later"}}`, id, reg2.Token)))
	for _, c := range []*servertest.Conn{waiting, late} {
		var e viewer.ViewerEvent
		for e.Seq.Or(0) <= after.Seq.Or(0) {
			c.NextInto(t, "event", &e)
		}
		if e.Seq.Or(0) != after.Seq.Or(0)+1 {
			t.Errorf("next event numbered %d, want %d", e.Seq.Or(0), after.Seq.Or(0)+1)
		}
	}
}
