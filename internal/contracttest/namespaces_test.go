package contracttest

import (
	"context"

	"github.com/pizzapi/pizzapi/gen"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/hub"
	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/runner"
	"github.com/pizzapi/pizzapi/protocol/terminal"
	"github.com/pizzapi/pizzapi/protocol/viewer"
)

type dispatchFunc func(ctx context.Context, event string, payload []byte) ([]byte, error)

// generated ties a namespace path to the functions generated for it.
type generated struct {
	newPayload [3]func(string) protocol.Message
	newAck     func(string) protocol.Message
	dispatch   [2]dispatchFunc // by direction: the server's and the client's dispatcher
}

var namespaces = map[string]generated{
	"/relay": {
		newPayload: [3]func(string) protocol.Message{relay.NewClientToServerPayload, relay.NewServerToClientPayload, relay.NewInterServerPayload},
		newAck:     relay.NewAck,
		dispatch: [2]dispatchFunc{
			func(ctx context.Context, ev string, p []byte) ([]byte, error) {
				return relay.DispatchServer(ctx, relay.UnimplementedServerHandler{}, ev, p)
			},
			func(ctx context.Context, ev string, p []byte) ([]byte, error) {
				return relay.DispatchClient(ctx, relay.UnimplementedClientHandler{}, ev, p)
			},
		},
	},
	"/viewer": {
		newPayload: [3]func(string) protocol.Message{viewer.NewClientToServerPayload, viewer.NewServerToClientPayload, viewer.NewInterServerPayload},
		newAck:     viewer.NewAck,
		dispatch: [2]dispatchFunc{
			func(ctx context.Context, ev string, p []byte) ([]byte, error) {
				return viewer.DispatchServer(ctx, viewer.UnimplementedServerHandler{}, ev, p)
			},
			func(ctx context.Context, ev string, p []byte) ([]byte, error) {
				return viewer.DispatchClient(ctx, viewer.UnimplementedClientHandler{}, ev, p)
			},
		},
	},
	"/runner": {
		newPayload: [3]func(string) protocol.Message{runner.NewClientToServerPayload, runner.NewServerToClientPayload, runner.NewInterServerPayload},
		newAck:     runner.NewAck,
		dispatch: [2]dispatchFunc{
			func(ctx context.Context, ev string, p []byte) ([]byte, error) {
				return runner.DispatchServer(ctx, runner.UnimplementedServerHandler{}, ev, p)
			},
			func(ctx context.Context, ev string, p []byte) ([]byte, error) {
				return runner.DispatchClient(ctx, runner.UnimplementedClientHandler{}, ev, p)
			},
		},
	},
	"/terminal": {
		newPayload: [3]func(string) protocol.Message{terminal.NewClientToServerPayload, terminal.NewServerToClientPayload, terminal.NewInterServerPayload},
		newAck:     terminal.NewAck,
		dispatch: [2]dispatchFunc{
			func(ctx context.Context, ev string, p []byte) ([]byte, error) {
				return terminal.DispatchServer(ctx, terminal.UnimplementedServerHandler{}, ev, p)
			},
			func(ctx context.Context, ev string, p []byte) ([]byte, error) {
				return terminal.DispatchClient(ctx, terminal.UnimplementedClientHandler{}, ev, p)
			},
		},
	},
	"/hub": {
		newPayload: [3]func(string) protocol.Message{hub.NewClientToServerPayload, hub.NewServerToClientPayload, hub.NewInterServerPayload},
		newAck:     hub.NewAck,
		dispatch: [2]dispatchFunc{
			func(ctx context.Context, ev string, p []byte) ([]byte, error) {
				return hub.DispatchServer(ctx, hub.UnimplementedServerHandler{}, ev, p)
			},
			func(ctx context.Context, ev string, p []byte) ([]byte, error) {
				return hub.DispatchClient(ctx, hub.UnimplementedClientHandler{}, ev, p)
			},
		},
	},
}

// loadContract loads the real schema once per test binary.
func loadContract() (*gen.Contract, error) {
	return gen.Load("../../schema")
}
