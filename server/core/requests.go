package core

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/pizzapi/pizzapi/protocol/runner"
	"github.com/pizzapi/pizzapi/server/bus"
)

// requests are the runner commands this node waits on, by request id. A request id starts with
// the id of the node that made it, so the node where the runner answers can route the reply back.
type requests struct {
	mu      sync.Mutex
	pending map[string]chan []byte
}

// replyEvent is the bus event that carries a runner's reply to the node that asked.
const replyEvent = "reply"

// request sends a command to a runner and waits for the reply with the same request id. build
// encodes the command around the request id.
func (c *Core) request(ctx context.Context, runnerID, event string, build func(requestID string) []byte, timeout time.Duration) ([]byte, error) {
	id := c.opts.NodeID + "." + strings.ReplaceAll(uuid.NewString(), "-", "")
	ch := make(chan []byte, 1)
	c.requests.mu.Lock()
	c.requests.pending[id] = ch
	c.requests.mu.Unlock()
	defer func() {
		c.requests.mu.Lock()
		delete(c.requests.pending, id)
		c.requests.mu.Unlock()
	}()
	n, err := c.bus.Publish(ctx, bus.Runner+runnerID, bus.NewMessage(runner.Namespace, event, build(id), 0))
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errRunnerGone
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case reply := <-ch:
		return reply, nil
	case <-t.C:
		return nil, errRunnerTimeout
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// reply routes a runner's answer to the node that asked (this one or another).
func (c *Core) reply(ctx context.Context, requestID string, payload []byte) {
	node, _, ok := strings.Cut(requestID, ".")
	if !ok {
		return
	}
	if _, err := c.bus.Publish(ctx, bus.Node+node, &bus.Message{Event: replyEvent, Payload: payload}); err != nil {
		c.log.Warn("routing a runner reply", "node", node, "error", err)
	}
}

// onNodeMessage receives the messages addressed to this node.
func (c *Core) onNodeMessage(m *bus.Message) {
	if m.Event != replyEvent {
		return
	}
	var id string
	if raw := member(m.Payload, "requestId"); len(raw) > 2 {
		id = string(raw[1 : len(raw)-1])
	}
	c.requests.mu.Lock()
	ch := c.requests.pending[id]
	c.requests.mu.Unlock()
	if ch != nil {
		select {
		case ch <- m.Payload:
		default:
		}
	}
}
