package server

import (
	"context"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/hub"
	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/runner"
	"github.com/pizzapi/pizzapi/protocol/terminal"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/core"
	"github.com/pizzapi/pizzapi/server/sio"
)

// mountNamespaces registers the five namespaces of the relay core on m (the Socket.IO server, and
// the legacy WebSocket paths). Each namespace's generated Mount checks the handshake auth against
// the contract and finds its credential: /relay and /runner require an API key; /viewer, /hub
// and /terminal take the browser session cookie or an API key.
func (s *Server) mountNamespaces(m protocol.Mounter[core.Client]) {
	relay.Mount(m, func(_ context.Context, c core.Client, _ *relay.Auth) (relay.ServerSocket, error) {
		return s.core.ConnectCLI(c.Conn, c.User), nil
	})
	runner.Mount(m, func(_ context.Context, c core.Client, _ *runner.Auth) (runner.ServerSocket, error) {
		return s.core.ConnectRunner(c.Conn, c.User), nil
	})
	viewer.Mount(m, func(ctx context.Context, c core.Client, a *viewer.Auth) (viewer.ServerSocket, error) {
		if id := c.Query.Get("sessionId"); !a.SessionID.IsSet() && id != "" {
			a.SessionID = protocol.Some(id)
		}
		if h := s.core.ConnectViewer(ctx, c.Conn, c.User, a); h != nil {
			return h, nil
		}
		return nil, nil
	})
	terminal.Mount(m, func(ctx context.Context, c core.Client, a *terminal.Auth) (terminal.ServerSocket, error) {
		if id := c.Query.Get("terminalId"); !a.TerminalID.IsSet() && id != "" {
			a.TerminalID = protocol.Some(id)
		}
		if h := s.core.ConnectTerminal(ctx, c.Conn, c.User, a); h != nil {
			return h, nil
		}
		return nil, nil
	})
	hub.Mount(m, func(ctx context.Context, c core.Client, _ *hub.Auth) (hub.ServerSocket, error) {
		h, err := s.core.ConnectHub(ctx, c.Conn, c.User)
		if err != nil {
			return nil, err
		}
		return h, nil
	})
}

// socketOptions configures the Socket.IO namespaces. A connection may send large messages only
// once a socket of it is authenticated on /relay (a session's snapshot) or /runner (files and
// diffs): up to a transport limit above the application's, so that an oversized event gets a
// clear error event rather than a dropped connection; viewers, terminals and the hub send small
// messages.
func (s *Server) socketOptions() sio.Options {
	large := int64(s.cfg.MaxMessageBytes) + 1<<20
	small := min(int64(s.cfg.MaxMessageBytes), 1<<20) + 64<<10
	return sio.Options{
		Accounts: s.accounts,
		MessageBytes: func(nsp string) int64 {
			if nsp == relay.Namespace || nsp == runner.Namespace {
				return large
			}
			return small
		},
		MaxMessageBytes: s.cfg.MaxMessageBytes,
		MaxPendingBytes: s.cfg.MaxBacklogBytes,
		Limits:          s.limits,
		Logger:          s.log,
		Metrics:         s.metrics,
	}
}

// knownEvent reports whether any namespace of the contract defines an event (for metric labels).
func knownEvent(name string) bool {
	for _, list := range [][]string{relay.ClientToServerEvents, viewer.ClientToServerEvents, runner.ClientToServerEvents, terminal.ClientToServerEvents, hub.ClientToServerEvents} {
		for _, e := range list {
			if e == name {
				return true
			}
		}
	}
	return false
}
