package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/clients/share"
	"github.com/pizzapi/pizzapi/internal/sioclient"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/commands"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// tickSource is an agent that publishes {"type":"test_tick","n":1}, 2, 3, ... at a steady rate
// while it is not halted.
type tickSource struct {
	commands.UnimplementedHandler
	every  time.Duration
	n      atomic.Int64
	halted atomic.Bool
}

func (s *tickSource) Run(ctx context.Context, sink share.Sink) error {
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if !s.halted.Load() {
				sink.Event(fmt.Appendf(nil, `{"type":"test_tick","n":%d}`, s.n.Add(1)))
			}
		}
	}
}

func (s *tickSource) Input(context.Context, share.Input) error { return nil }

// publisher runs share.Run with a tickSource until the test ends; log timestamps its messages.
type publisher struct {
	src  *tickSource
	log  *lineTimes
	done chan error
	stop context.CancelFunc
}

func startPublisher(t *testing.T, url string, u servertest.User, sessionID string, every time.Duration) *publisher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &publisher{src: &tickSource{every: every}, log: &lineTimes{}, done: make(chan error, 1), stop: cancel}
	p.src.halted.Store(true) // until the viewers are there
	out := &lineTimes{}
	go func() {
		p.done <- share.Run(ctx, share.Options{
			RelayURL: url, APIKey: u.APIKey, SessionID: sessionID, Source: p.src,
			Out: out, Log: p.log, HeartbeatInterval: time.Hour,
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
		if t.Failed() {
			t.Logf("publisher log:\n%s", p.log)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if _, ok := out.first("Sharing session", time.Time{}); ok {
			return p
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the session was not shared; log:\n%s", p.log)
	return nil
}

// seqViewer is a viewer that keeps exactly what the protocol promises: events numbered by seq,
// each accepted once and in order. It reconnects by itself, naming the last seq it has, and
// counts what would break the promise: a repeated or out-of-order seq, a gap.
type seqViewer struct {
	c    *sioclient.Client
	auth viewer.Auth // the next handshake's

	mu           sync.Mutex
	last         int64
	snapshot     int64 // the seq the snapshot of this connection is stamped with, -1 for none
	started      bool
	askedFrom    int64 // the last seq when the disconnection was reported
	againNext    int64 // after a reconnection answered below our last seq, the events from
	againTo      int64 // againNext to againTo come once more, in order
	ticks        []int64
	dups, gaps   int
	connects     []time.Time
	disconnects  []time.Time
	failures     []time.Time // failed connection attempts
	disconnected []string    // reasons of "disconnected" events (the session ended)
	notes        []string    // what went wrong
}

func dialSeqViewer(t *testing.T, url string, u servertest.User, sessionID string) *seqViewer {
	t.Helper()
	v := &seqViewer{snapshot: -1, auth: viewer.Auth{SessionID: protocol.Some(sessionID)}}
	c, err := sioclient.New(sioclient.Options{
		URL: url, Namespace: viewer.Namespace, Reconnect: true,
		Header: u.CookieHeader(),
		Auth:   v.auth.AppendJSON(nil),
	}, sioclient.Handler{
		OnConnect: func() {
			v.mu.Lock()
			v.connects = append(v.connects, time.Now())
			v.mu.Unlock()
		},
		OnConnectError: func(error) {
			v.mu.Lock()
			v.failures = append(v.failures, time.Now())
			v.mu.Unlock()
		},
		OnDisconnect: func(string) {
			v.mu.Lock()
			v.disconnects = append(v.disconnects, time.Now())
			v.askedFrom = v.last
			v.mu.Unlock()
		},
		OnEvent: v.onEvent,
	})
	if err != nil {
		t.Fatal(err)
	}
	v.c = c
	t.Cleanup(c.Close)
	c.Connect()
	return v
}

func (v *seqViewer) onEvent(name string, payload []byte) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch name {
	case viewer.EventConnected:
		var hello viewer.SessionConnected
		if hello.UnmarshalJSON(payload) != nil {
			return
		}
		// The first connection starts from the relay's current seq, with a snapshot stamped with
		// it; a reconnection is answered from the seq the handshake asked from. That may be below
		// our last one when the client library handed over events it had read before the
		// disconnection after the new handshake had gone out: those come again and are skipped
		// by seq, as every viewer does. Above our last one, events were skipped.
		seq := hello.LastSeq.Or(0)
		switch {
		case !v.started:
			v.started = true
		case seq > v.last:
			v.gaps++
			v.notes = append(v.notes, fmt.Sprintf("reconnected at seq %d after %d (asked from %v, recovered %v, connection %d)", seq, v.last, v.askedFrom, v.c.Recovered(), len(v.connects)))
		default:
			v.snapshot = -1
			v.againNext, v.againTo = seq+1, v.last
			return
		}
		v.last, v.snapshot = seq, seq
	case viewer.EventEvent:
		var ev viewer.ViewerEvent
		if ev.UnmarshalJSON(payload) != nil {
			return
		}
		seq, ok := ev.Seq.Get()
		if !ok || seq == v.snapshot {
			return // part of the snapshot
		}
		if v.againNext <= v.againTo && seq == v.againNext {
			v.againNext++ // a repetition announced by the reconnection, in order, once
			return
		}
		switch {
		case seq <= v.last:
			v.dups++
			v.notes = append(v.notes, fmt.Sprintf("seq %d repeated after %d (connection %d, replay %v)", seq, v.last, len(v.connects), ev.Replay.Or(false)))
			return
		case seq > v.last+1:
			v.gaps++
			v.notes = append(v.notes, fmt.Sprintf("seq %d after %d (connection %d)", seq, v.last, len(v.connects)))
		}
		v.last = seq
		// The next handshake asks from here. (Set now rather than when the disconnection is
		// reported: the client library may still hand over events it read before it.)
		v.auth.LastSeq = protocol.Some(seq)
		v.c.SetAuth(v.auth.AppendJSON(nil))
		var tick struct {
			Type string `json:"type"`
			N    int64  `json:"n"`
		}
		if json.Unmarshal(ev.Event.Raw, &tick) == nil && tick.Type == "test_tick" {
			v.ticks = append(v.ticks, tick.N)
		}
	case viewer.EventDisconnected:
		var d viewer.Disconnected
		_ = d.UnmarshalJSON(payload)
		v.disconnected = append(v.disconnected, d.Reason)
	}
}

// ready reports whether the viewer is connected and has had its first snapshot.
func (v *seqViewer) ready() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.started && v.c.Connected()
}

// count returns how many ticks the viewer has.
func (v *seqViewer) count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.ticks)
}

// check reports how the viewer's ticks differ from exactly 1..n, once each, in order.
func (v *seqViewer) check(n int64) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.dups > 0 || v.gaps > 0 {
		return fmt.Errorf("%d repeated and %d skipped seqs: %s", v.dups, v.gaps, strings.Join(v.notes, "; "))
	}
	if len(v.disconnected) > 0 {
		return fmt.Errorf("the relay ended the session: %v", v.disconnected)
	}
	if int64(len(v.ticks)) != n {
		return fmt.Errorf("%d ticks, want %d", len(v.ticks), n)
	}
	for i, k := range v.ticks {
		if k != int64(i+1) {
			return fmt.Errorf("tick %d is %d", i+1, k)
		}
	}
	return nil
}

// backAfter returns how long after t the viewer, disconnected after t, connected again; ok is
// false when it was not disconnected after t.
func backAfter(connects, disconnects []time.Time, t time.Time) (time.Duration, bool) {
	i := slices.IndexFunc(disconnects, func(d time.Time) bool { return d.After(t) })
	if i < 0 {
		return 0, false
	}
	j := slices.IndexFunc(connects, func(c time.Time) bool { return c.After(disconnects[i]) })
	if j < 0 {
		return -1, true
	}
	return connects[j].Sub(t), true
}

// attemptsToReconnect returns the most connection attempts any reconnection took: 1 when every
// disconnection was followed by a connection at the first attempt (0 without disconnections).
func attemptsToReconnect(connects, disconnects, failures []time.Time) int {
	worst := 0
	for _, d := range disconnects {
		j := slices.IndexFunc(connects, func(c time.Time) bool { return c.After(d) })
		if j < 0 {
			continue // not back (yet): the callers check that separately
		}
		failed := 0
		for _, f := range failures {
			if f.After(d) && f.Before(connects[j]) {
				failed++
			}
		}
		worst = max(worst, failed+1)
	}
	return worst
}

// hubWatcher is a /hub socket that records when it connects, fails to, and disconnects.
type hubWatcher struct {
	c           *sioclient.Client
	mu          sync.Mutex
	connects    []time.Time
	disconnects []time.Time
	failures    []time.Time
	errs        []string // the failed attempts' errors
	removed     []string
}

func dialHub(t *testing.T, url string, u servertest.User) *hubWatcher {
	t.Helper()
	h := &hubWatcher{}
	c, err := sioclient.Dial(sioclient.Options{URL: url, Namespace: "/hub", Reconnect: true, Header: u.CookieHeader()}, sioclient.Handler{
		OnConnect: func() {
			h.mu.Lock()
			h.connects = append(h.connects, time.Now())
			h.mu.Unlock()
		},
		OnConnectError: func(err error) {
			h.mu.Lock()
			h.failures = append(h.failures, time.Now())
			h.errs = append(h.errs, err.Error())
			h.mu.Unlock()
		},
		OnDisconnect: func(string) {
			h.mu.Lock()
			h.disconnects = append(h.disconnects, time.Now())
			h.mu.Unlock()
		},
		OnEvent: func(name string, payload []byte) {
			if name != "session_removed" {
				return
			}
			h.mu.Lock()
			h.removed = append(h.removed, string(payload))
			h.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	t.Cleanup(c.Close)
	return h
}

// load is a shared session with viewers and hubs, all through the load balancer.
type load struct {
	id      string
	pub     *publisher
	viewers []*seqViewer
	hubs    []*hubWatcher
}

// startLoad shares a session through url publishing a tick every `every`, with the given numbers
// of viewers and hubs, and waits until all are connected.
func startLoad(t *testing.T, url string, u servertest.User, viewers, hubs int, every time.Duration) *load {
	t.Helper()
	l := &load{}
	for range hubs {
		l.hubs = append(l.hubs, dialHub(t, url, u))
	}
	id := fmt.Sprintf("load-%s-%d", t.Name(), time.Now().UnixNano())
	l.id = id
	l.pub = startPublisher(t, url, u, id, every)
	for range viewers {
		l.viewers = append(l.viewers, dialSeqViewer(t, url, u, id))
	}
	waitFor(t, 20*time.Second, "viewers and hubs to connect", func() bool {
		for _, v := range l.viewers {
			if !v.ready() {
				return false
			}
		}
		for _, h := range l.hubs {
			if !h.c.Connected() {
				return false
			}
		}
		return true
	})
	l.pub.src.halted.Store(false)
	return l
}

// finish halts the publisher and checks that every viewer got every tick exactly once, in order,
// and that no hub saw the session removed.
func (l *load) finish(t *testing.T) int64 {
	t.Helper()
	l.pub.src.halted.Store(true)
	n := l.pub.src.n.Load()
	deadline := time.Now().Add(30 * time.Second)
	for {
		behind := 0
		for _, v := range l.viewers {
			if int64(v.count()) < n {
				behind++
			}
		}
		if behind == 0 {
			break
		}
		if time.Now().After(deadline) {
			for i, v := range l.viewers {
				if err := v.check(n); err != nil {
					v.mu.Lock()
					t.Logf("viewer %d: %v; last seq %d, connected %v, %d connects, %d disconnects", i, err, v.last, v.c.Connected(), len(v.connects), len(v.disconnects))
					v.mu.Unlock()
				}
			}
			t.Fatalf("%d of %d viewers do not have all %d ticks after 30 s", behind, len(l.viewers), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // anything repeated late would show now
	for i, v := range l.viewers {
		if err := v.check(n); err != nil {
			t.Errorf("viewer %d: %v", i, err)
		}
	}
	for i, h := range l.hubs {
		h.mu.Lock()
		if len(h.removed) > 0 {
			t.Errorf("hub %d saw the session removed: %v", i, h.removed)
		}
		h.mu.Unlock()
	}
	l.checkAttempts(t)
	return n
}

// checkAttempts checks that every viewer and hub that lost its node was connected again by its
// first or second attempt: the load balancer sends an attempt to a live node, and a failed one
// (a 502 while a node restarts) does not hold up the next.
func (l *load) checkAttempts(t *testing.T) {
	t.Helper()
	worst := 0
	for i, v := range l.viewers {
		v.mu.Lock()
		if n := attemptsToReconnect(v.connects, v.disconnects, v.failures); n > 2 {
			t.Errorf("viewer %d took %d attempts to reconnect", i, n)
		} else {
			worst = max(worst, n)
		}
		v.mu.Unlock()
	}
	for i, h := range l.hubs {
		h.mu.Lock()
		if n := attemptsToReconnect(h.connects, h.disconnects, h.failures); n > 2 {
			t.Errorf("hub %d took %d attempts to reconnect: %v", i, n, h.errs)
		} else {
			worst = max(worst, n)
		}
		h.mu.Unlock()
	}
	t.Logf("every reconnection took at most %d attempts", worst)
}

// waitFor polls ok until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNodeKilledUnderLoad: three relay processes behind nginx; the node holding the CLI is killed
// with SIGKILL while it publishes 200 events/s to 30 viewers spread over the nodes. Every client
// of the dead node is back on a surviving node by its first or second attempt, the CLI resumes
// its session and resends what was not acknowledged, and every viewer ends with every event
// exactly once, in order.
func TestNodeKilledUnderLoad(t *testing.T) {
	pc := startProcessCluster(t, 3, true)
	u := remoteUser(t, pc.lb, "failover")
	l := startLoad(t, pc.lb, u, 30, 6, 5*time.Millisecond)
	time.Sleep(time.Second)

	var victim *relayProcess
	for _, p := range pc.nodes {
		if p.connections(t, "/relay") > 0 {
			victim = p
		}
	}
	if victim == nil {
		t.Fatal("no node holds the CLI")
	}
	killed := time.Now()
	victim.kill()
	t.Logf("killed node %s holding the CLI at tick %d", victim.name, l.pub.src.n.Load())
	time.Sleep(3 * time.Second)
	n := l.finish(t)

	var worst time.Duration
	moved := 0
	report := func(who string, connects, disconnects []time.Time) {
		d, ok := backAfter(connects, disconnects, killed)
		if !ok {
			return
		}
		moved++
		if d < 0 {
			t.Errorf("%s did not reconnect", who)
			return
		}
		t.Logf("%s back after %v", who, d.Round(time.Millisecond))
		worst = max(worst, d)
	}
	for i, v := range l.viewers {
		v.mu.Lock()
		report(fmt.Sprintf("viewer %d", i), v.connects, v.disconnects)
		v.mu.Unlock()
	}
	for i, h := range l.hubs {
		h.mu.Lock()
		report(fmt.Sprintf("hub %d", i), h.connects, h.disconnects)
		h.mu.Unlock()
	}
	resumed, ok := l.pub.log.first("reconnected", killed)
	if !ok {
		t.Fatalf("the CLI did not resume its session; log:\n%s", l.pub.log)
	}
	cli := resumed.Sub(killed)
	t.Logf("%d ticks; %d viewers and hubs moved, the last back after %v; the CLI resumed after %v",
		n, moved, worst.Round(time.Millisecond), cli.Round(time.Millisecond))
	if moved == 0 {
		t.Error("no viewer or hub was on the killed node")
	}
	// The times are logged (0.3-0.5 s on a quiet machine) rather than held to a bound that a
	// loaded one can miss: viewers and hubs were back by their first or second attempt (finish
	// checks that), and the CLI did not sit out a backoff grown through failed attempts.
	if cli > 10*time.Second {
		t.Errorf("the CLI took %v to resume its session", cli)
	}
}

// TestRollingRestart: each of three relay processes is stopped with SIGTERM and started again in
// turn while a CLI publishes to 30 viewers through nginx. Nothing is lost or repeated, no viewer
// sees the session end, every client that lost its node is back by its first or second attempt,
// and every node exits cleanly.
func TestRollingRestart(t *testing.T) {
	pc := startProcessCluster(t, 3, true)
	u := remoteUser(t, pc.lb, "rolling")
	l := startLoad(t, pc.lb, u, 30, 6, 10*time.Millisecond)
	for _, p := range pc.nodes {
		time.Sleep(700 * time.Millisecond)
		p.terminate(t)
		p.start(t)
		p.waitReady(t)
	}
	time.Sleep(time.Second)
	n := l.finish(t)
	t.Logf("%d ticks through a rolling restart of %d nodes", n, len(pc.nodes))
}
