package legacy

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/legacy"
	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/runner"
)

// reader reads a connection's frames and hands each to the namespace handler, strictly in
// arrival order, like the Socket.IO namespaces.
type reader struct {
	h   *Handler
	c   *conn
	hd  protocol.Socket // nil when the namespace refused the connection (it is closing)
	dep *deprecation
}

// run reads until the connection ends: the client closed it, it was silent for idleTimeout, a
// frame was over the limit, or the relay closed it.
func (r *reader) run(ctx context.Context) {
	ws := r.c.ws
	extend := func() { _ = ws.SetReadDeadline(time.Now().Add(idleTimeout)) }
	extend()
	ws.SetPongHandler(func(string) error {
		extend()
		return nil
	})
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				r.h.opts.Logger.Warn("legacy frame over the size limit; connection closed with 1009",
					"role", r.c.role.Name, "user", r.dep.user, "limit", r.h.opts.MaxFrameBytes)
				r.h.opts.Metrics.Invalid(r.c.role.Namespace, "")
			}
			return
		}
		extend()
		r.frame(ctx, data)
	}
}

// frame handles one frame: PizzaPi's {"type":"error","message":"Invalid JSON"} for one that is
// not JSON, an error frame naming the problem for one that does not match the contract (old
// clients ignore error frames), and the namespace handler for the rest. Binary frames are read as
// JSON text too, as PizzaPi did.
func (r *reader) frame(ctx context.Context, data []byte) {
	nsp := r.c.role.Namespace
	m := r.h.opts.Metrics
	event, payload, err := r.c.role.Decode(data)
	m.EventIn(nsp, event)
	if err != nil {
		m.Invalid(nsp, event)
		_ = r.c.Send("error", errFrame("", err))
		return
	}
	if r.hd == nil {
		return
	}
	reply, err := r.hd.Dispatch(ctx, event, payload)
	if err != nil {
		var ee *protocol.EventError
		if errors.As(err, &ee) {
			m.Invalid(nsp, event)
		}
		_ = r.c.Send("error", errFrame(event, err))
		return
	}
	// The CLI's and the runner's deprecation warnings name what they registered.
	switch {
	case r.c.role == legacy.Tui && event == relay.EventRegister:
		var reg struct {
			SessionID string `json:"sessionId"`
		}
		_ = json.Unmarshal(reply, &reg)
		r.dep.warn(reg.SessionID)
	case r.c.role == legacy.Runner && event == runner.EventRegisterRunner:
		if sent, p := r.c.lastSent(); sent == runner.EventRunnerRegistered {
			var reg struct {
				RunnerID string `json:"runnerId"`
			}
			_ = json.Unmarshal(p, &reg)
			r.dep.warn(reg.RunnerID)
		}
	}
}
