package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/clients/share"
	"github.com/pizzapi/pizzapi/clients/share/internal/sharetest"
	"github.com/pizzapi/pizzapi/internal/syncbuf"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// shared is the demo agent published on a test relay.
type shared struct {
	out, log *syncbuf.Buffer
	done     chan error
	stop     context.CancelFunc
}

// publish runs share.Run with the demo agent d until the test ends, and waits for the
// registration.
func publish(t *testing.T, n *servertest.Node, u servertest.User, id string, d *Demo, o share.Options) *shared {
	t.Helper()
	s := &shared{out: &syncbuf.Buffer{}, log: &syncbuf.Buffer{}, done: make(chan error, 1)}
	o.RelayURL, o.APIKey, o.SessionID, o.Source = n.URL, u.APIKey, id, d
	o.Cwd, o.Out, o.Log = "/home/ada/project", s.out, s.log
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go func() { s.done <- share.Run(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return")
		}
		if t.Failed() {
			t.Logf("publisher log:\n%s", s.log.String())
		}
	})
	deadline := time.Now().Add(servertest.Timeout)
	for !strings.Contains(s.out.String(), "/session/"+id) {
		if time.Now().After(deadline) {
			t.Fatalf("not registered\n%s", s.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

// end stops the publisher as Ctrl-C does and returns Run's result.
func (s *shared) end(t *testing.T) error {
	t.Helper()
	s.stop()
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

// watch connects a viewer to the session that checks that its live events come numbered
// without a gap.
func watch(t *testing.T, n *servertest.Node, u servertest.User, sessionID string) *sharetest.Viewer {
	t.Helper()
	return sharetest.Watch(t, n, u, sessionID, nil)
}
