package runner

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pizzapi/pizzapi/internal/sioclient"
	"github.com/pizzapi/pizzapi/protocol"
	rproto "github.com/pizzapi/pizzapi/protocol/runner"
)

// errOffline is what sending returns while the runner is not connected: replies and terminal
// output have nobody to go to then (the relay has already ended the runner's terminals).
var errOffline = errors.New("not connected to the relay")

// conn is one connection to the relay; Run replaces it after it ends.
type conn struct {
	client     *rproto.Client
	end        chan error // one value: nil to reconnect, an error to stop
	registered atomic.Bool
	closed     atomic.Bool
}

// finish reports how the connection ended; only the first report counts.
func (c *conn) finish(err error) {
	select {
	case c.end <- err:
	default:
	}
}

func (c *conn) close() {
	c.closed.Store(true)
	c.client.Close()
}

// dial starts a connection to /runner. Reconnection is Run's job, so that every way a connection
// can end (a dropped transport, a refused handshake, a disconnect by the relay) goes through the
// same backoff.
func (d *Daemon) dial(ctx context.Context) (*conn, error) {
	c := &conn{end: make(chan error, 1)}
	h := &handler{d: d, c: c}
	auth := &rproto.Auth{APIKey: d.cfg.APIKey, RunnerID: protocol.Some(d.state.RunnerID), RunnerSecret: protocol.Some(d.state.RunnerSecret)}
	dialer := sioclient.Dialer{URL: d.cfg.RelayURL, ConnectTimeout: d.cfg.ConnectTimeout}
	client, err := rproto.Dial(ctx, dialer, auth, h, protocol.Hooks{
		Connected: func() { d.connected(c) },
		ConnectFailed: func(err error) {
			if errors.Is(err, protocol.ErrUnauthorized) {
				c.finish(errors.New("the relay refused the API key (unauthorized): run `pizzapi login` again or set PIZZAPI_RUNNER_API_KEY"))
				return
			}
			d.log.Warn("cannot connect to the relay", "url", d.cfg.RelayURL, "error", err)
			c.finish(nil)
		},
		Disconnected: func(reason string, _ bool) {
			d.out.detach(c.client)
			if c.closed.Load() {
				return
			}
			d.log.Warn("disconnected from the relay", "reason", reason)
			// The relay ends the terminals of a runner that goes away; so does the runner.
			d.async(d.terms.stopAll)
			c.finish(nil)
		},
		EventFailed: func(event string, err error) {
			d.log.Warn("cannot handle an event from the relay", "event", event, "error", err)
		},
	})
	if err != nil {
		return nil, err
	}
	c.client = client
	client.Connect()
	return c, nil
}

// connected registers the runner on a new connection.
func (d *Daemon) connected(c *conn) {
	skills, err := d.skills.list()
	if err != nil {
		d.log.Warn("cannot read the skills", "dir", d.cfg.SkillsDir, "error", err)
	}
	reg := rproto.RegisterRunner{
		Name:         protocol.Some(d.cfg.Name),
		Roots:        protocol.Some(d.roots.list),
		RunnerID:     protocol.Some(d.state.RunnerID),
		RunnerSecret: protocol.Some(d.state.RunnerSecret),
		Skills:       protocol.Some(skills),
	}
	if err := d.out.attach(c.client, &reg); err != nil {
		d.log.Warn("cannot register", "error", err)
	}
}

// sender sends on the current connection, and nothing while there is none.
type sender struct {
	mu sync.Mutex
	c  *rproto.Client
}

// Send implements protocol.Sender.
func (s *sender) Send(event string, payload []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return errOffline
	}
	return s.c.S.Send(event, payload)
}

// attach makes c the current connection, sending reg on it before anything else.
func (s *sender) attach(c *rproto.Client, reg *rproto.RegisterRunner) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c = c
	return c.RegisterRunner(reg)
}

// detach forgets c when it is the current connection.
func (s *sender) detach(c *rproto.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == c {
		s.c = nil
	}
}

// handler receives what the relay sends on one connection. Its methods run on the connection's
// event goroutine: anything slow runs in Daemon.async.
type handler struct {
	rproto.UnimplementedClientHandler
	d *Daemon
	c *conn
}

// RunnerRegistered implements rproto.ClientHandler.
func (h *handler) RunnerRegistered(_ context.Context, p *rproto.RunnerRegistered) error {
	h.c.registered.Store(true)
	if p.RunnerID != h.d.state.RunnerID {
		h.d.log.Warn("the relay registered the runner under another id", "runner", p.RunnerID, "want", h.d.state.RunnerID)
	}
	h.d.log.Info("registered with the relay", "runner", p.RunnerID, "name", h.d.cfg.Name, "roots", strings.Join(h.d.roots.list, ","))
	return nil
}

// Error implements rproto.ClientHandler. A refused registration ends the daemon: the relay has
// another secret for this runner id, and trying again cannot help.
func (h *handler) Error(_ context.Context, p *protocol.ErrorMessage) error {
	if p.Code == protocol.ErrorCodeRunnerSecretMismatch {
		h.c.finish(errors.New(p.Message + " (the relay knows this runner id with another secret, or as another user's; remove the state file " + h.d.cfg.StatePath + " to register as a new runner)"))
		return nil
	}
	h.d.log.Warn("the relay refused an event", "message", p.Message, "event", p.Event.Or(""), "pointer", p.Pointer.Or(""))
	return nil
}

// Restart implements rproto.ClientHandler: Run returns ErrRestart shortly after.
func (h *handler) Restart(context.Context, *rproto.Restart) error {
	h.d.log.Info("the relay asked for a restart")
	time.AfterFunc(h.d.cfg.RestartDelay, func() {
		select {
		case h.d.restart <- struct{}{}:
		default:
		}
	})
	return nil
}

// Ping implements rproto.ClientHandler.
func (h *handler) Ping(_ context.Context, p *rproto.Ping) error {
	h.d.failed(rproto.EventPong, h.d.emit.Pong(&rproto.Pong{Now: float64(time.Now().UnixMilli()), RequestID: p.RequestID}))
	return nil
}
