package server

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/hub"
	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/runner"
	"github.com/pizzapi/pizzapi/protocol/terminal"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/accounts"
	"github.com/pizzapi/pizzapi/server/core"
	"github.com/pizzapi/pizzapi/server/sio"
)

// mountNamespaces registers the five namespaces with their authentication: /relay and /runner
// take an API key; /viewer, /hub and /terminal take the browser session cookie or an API key.
//
// A connection may send large messages only once a socket of it is authenticated on /relay (a
// session's snapshot) or /runner (files and diffs): up to a transport limit above the
// application's, so that an oversized event gets a clear error event rather than a dropped
// connection; viewers, terminals and the hub send small messages.
func (s *Server) mountNamespaces() {
	opts := sio.Options{
		MaxMessageBytes: s.cfg.MaxMessageBytes,
		MaxPendingBytes: s.cfg.MaxBacklogBytes,
		Limits:          s.limits,
		Logger:          s.log,
		Metrics:         s.metrics,
	}
	large := int64(s.cfg.MaxMessageBytes) + 1<<20
	small := min(int64(s.cfg.MaxMessageBytes), 1<<20) + 64<<10
	sio.Mount(s.io, sio.Namespace{
		Path:         relay.Namespace,
		Authenticate: s.authenticate(func() json.Unmarshaler { return &relay.Auth{} }, false),
		Connect: func(ctx context.Context, p *sio.Peer, id sio.Identity, _ sio.Handshake) (sio.Handler, error) {
			return s.core.ConnectCLI(p, user(id)), nil
		},
		MessageBytes: large,
	}, opts)
	sio.Mount(s.io, sio.Namespace{
		Path:         runner.Namespace,
		Authenticate: s.authenticate(func() json.Unmarshaler { return &runner.Auth{} }, false),
		Connect: func(ctx context.Context, p *sio.Peer, id sio.Identity, _ sio.Handshake) (sio.Handler, error) {
			return s.core.ConnectRunner(p, user(id)), nil
		},
		MessageBytes: large,
	}, opts)
	sio.Mount(s.io, sio.Namespace{
		Path:         viewer.Namespace,
		Authenticate: s.authenticate(func() json.Unmarshaler { return &viewer.Auth{} }, true),
		Connect: func(ctx context.Context, p *sio.Peer, id sio.Identity, hs sio.Handshake) (sio.Handler, error) {
			var a viewer.Auth
			if err := decodeAuth(hs, &a); err != nil {
				return nil, err
			}
			if _, ok := a.SessionID.Get(); !ok && hs.Query.Get("sessionId") != "" {
				a.SessionID = protocol.Some(hs.Query.Get("sessionId"))
			}
			if h := s.core.ConnectViewer(ctx, p, user(id), &a); h != nil {
				return h, nil
			}
			return nil, nil
		},
		MessageBytes: small,
	}, opts)
	sio.Mount(s.io, sio.Namespace{
		Path:         terminal.Namespace,
		Authenticate: s.authenticate(func() json.Unmarshaler { return &terminal.Auth{} }, true),
		Connect: func(ctx context.Context, p *sio.Peer, id sio.Identity, hs sio.Handshake) (sio.Handler, error) {
			var a terminal.Auth
			if err := decodeAuth(hs, &a); err != nil {
				return nil, err
			}
			if _, ok := a.TerminalID.Get(); !ok && hs.Query.Get("terminalId") != "" {
				a.TerminalID = protocol.Some(hs.Query.Get("terminalId"))
			}
			if h := s.core.ConnectTerminal(ctx, p, user(id), &a); h != nil {
				return h, nil
			}
			return nil, nil
		},
		MessageBytes: small,
	}, opts)
	sio.Mount(s.io, sio.Namespace{
		Path:         hub.Namespace,
		Authenticate: s.authenticate(func() json.Unmarshaler { return &hub.Auth{} }, true),
		Connect: func(ctx context.Context, p *sio.Peer, id sio.Identity, _ sio.Handshake) (sio.Handler, error) {
			return s.core.ConnectHub(ctx, p, user(id))
		},
		MessageBytes: small,
	}, opts)
}

func user(id sio.Identity) core.User { return core.User{ID: id.UserID, Name: id.UserName} }

// authenticate returns a namespace's handshake check: the auth object must match the contract,
// and identify a user by its API key or (when cookies are allowed) the browser session.
func (s *Server) authenticate(shape func() json.Unmarshaler, cookie bool) func(context.Context, sio.Handshake) (sio.Identity, error) {
	return func(ctx context.Context, hs sio.Handshake) (sio.Identity, error) {
		key, _ := hs.Auth["apiKey"].(string)
		if key == "" && !cookie {
			return sio.Identity{}, accounts.ErrUnauthorized
		}
		if err := decodeAuth(hs, shape()); err != nil {
			return sio.Identity{}, err
		}
		var acc accounts.Account
		var err error
		if key != "" {
			acc, err = s.accounts.ByAPIKey(ctx, key)
		} else {
			acc, err = s.accounts.BySession(ctx, hs.Request)
		}
		if err != nil {
			return sio.Identity{}, err
		}
		return sio.Identity{UserID: acc.ID, UserName: acc.Name}, nil
	}
}

// decodeAuth checks the handshake auth object against the namespace's Auth type.
func decodeAuth(hs sio.Handshake, into json.Unmarshaler) error {
	auth := hs.Auth
	if auth == nil {
		auth = map[string]any{}
	}
	raw, err := json.Marshal(auth)
	if err != nil {
		return protocol.NewError(protocol.ErrorCodeInvalid, "invalid handshake auth")
	}
	if err := into.UnmarshalJSON(raw); err != nil {
		var ve *protocol.ValidationError
		if errors.As(err, &ve) {
			return protocol.Errorf(protocol.ErrorCodeInvalid, "invalid handshake auth at %s: %s", ve.Pointer, ve.Message)
		}
		return protocol.NewError(protocol.ErrorCodeInvalid, "invalid handshake auth")
	}
	return nil
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
