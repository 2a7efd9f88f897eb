package core

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/pizzapi/pizzapi/internal/wire"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/bus"
	"github.com/pizzapi/pizzapi/server/live"
)

// publishEvent runs one agent event through the pipeline, strictly in the order the CLI sent
// them (the socket's events are handled one at a time): status updates first, so that a viewer
// taking a snapshot never sees a sequence number newer than its state, then the thinking timers,
// then the sequence number and history, then the broadcast, then the push decision.
//
// ackedSeq is the highest CLI number this connection knows to be processed: a repeated event is
// recognised before it touches any state (the store's Append checks again, atomically).
func (c *Core) publishEvent(ctx context.Context, id string, cliSeq, ackedSeq int64, ev *protocol.AgentEvent, ephemeral bool, th *thinking) error {
	if cliSeq > 0 && cliSeq <= ackedSeq {
		return live.ErrDuplicate
	}
	raw := ev.Raw
	switch ev.Type {
	case protocol.AgentEventHeartbeat:
		if err := c.applyHeartbeat(ctx, id, raw); err != nil {
			return err
		}
	case protocol.AgentEventSessionActive:
		if err := c.applyState(ctx, id, raw); err != nil {
			return err
		}
	case protocol.AgentEventMessageUpdate:
		th.observe(raw, c.now())
	case protocol.AgentEventMessageEnd, protocol.AgentEventTurnEnd:
		raw = th.stamp(raw)
	}
	start := time.Now()
	seq, err := c.live.Append(ctx, id, cliSeq, ev.Type, raw, c.expiry(ephemeral))
	if err != nil {
		return err
	}
	m := bus.NewMessage(viewer.Namespace, viewer.EventEvent, viewerEventPayload(raw, seq, false), seq)
	if _, err := c.bus.Publish(ctx, bus.SessionViewers+id, m); err != nil {
		c.log.Warn("publishing an event", "session", id, "seq", seq, "error", err)
	}
	if c.fanout != nil {
		c.fanout.ObserveFanout(time.Since(start))
	}
	c.maybeNotify(id, ev.Type, raw)
	return nil
}

// viewerEventPayload encodes the /viewer "event" payload around a raw agent event.
func viewerEventPayload(raw []byte, seq int64, replay bool) []byte {
	v := viewer.ViewerEvent{Event: protocol.AgentEvent{Raw: raw}}
	if seq > 0 {
		v.Seq = protocol.Some(seq)
	}
	if replay {
		v.Replay = protocol.Some(true)
	}
	return v.AppendJSON(make([]byte, 0, len(raw)+32))
}

// applyHeartbeat records a heartbeat and tells the hub when it changed what the hub shows.
func (c *Core) applyHeartbeat(ctx context.Context, id string, raw []byte) error {
	var hb protocol.HeartbeatEvent
	if err := hb.UnmarshalJSON(raw); err != nil {
		return err
	}
	now := c.now()
	changed := false
	s, err := c.live.UpdateSession(ctx, id, func(s *live.Session) error {
		var model *protocol.ModelInfo
		if m, ok := hb.Model.Get(); ok && m != nil {
			model = &protocol.ModelInfo{Provider: m.Provider, ID: m.ID}
			if name, ok := m.Name.Get(); ok {
				model.Name = protocol.Some(name)
			}
		} else if !ok {
			model = s.Model
		}
		changed = s.IsActive != hb.Active || modelKey(s.Model) != modelKey(model)
		s.IsActive = hb.Active
		s.Model = model
		s.LastHeartbeatAt = &now
		if name, ok := hb.SessionName.Get(); ok {
			changed = changed || !sameName(s.SessionName, name)
			s.SessionName = name
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := c.live.SetHeartbeat(ctx, id, raw); err != nil {
		return err
	}
	if changed {
		c.sessionStatus(ctx, s, false)
	}
	return nil
}

func modelKey(m *protocol.ModelInfo) string {
	if m == nil {
		return ""
	}
	return m.Provider + "/" + m.ID
}

func sameName(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// applyState stores a session_active snapshot (live and durable) and updates the session name.
func (c *Core) applyState(ctx context.Context, id string, raw []byte) error {
	state := member(raw, "state")
	var st protocol.SessionActiveState
	d := wire.Decoder{}
	d.Reset(state, true)
	d.SetKeepExtra(false)
	st.ReadJSON(&d)
	if name, ok := st.SessionName.Get(); ok {
		s, err := c.live.UpdateSession(ctx, id, func(s *live.Session) error {
			if sameName(s.SessionName, name) {
				return errUnchanged
			}
			s.SessionName = name
			return nil
		})
		if err == nil {
			c.sessionStatus(ctx, s, false)
		}
	}
	if err := c.live.SetState(ctx, id, raw); err != nil {
		return err
	}
	if err := c.db.SaveSessionState(ctx, id, bytes.Clone(state), c.now()); err != nil {
		c.log.Error("persisting a snapshot", "session", id, "error", err)
	}
	return nil
}

// errUnchanged skips an update that would change nothing.
var errUnchanged = errors.New("unchanged")

// member returns the raw value of a top-level member of a JSON object, or nil.
func member(obj []byte, key string) []byte {
	start, end, ok := memberSpan(obj, key)
	if !ok {
		return nil
	}
	return obj[start:end]
}

// memberSpan returns where the value of a top-level member of a JSON object starts and ends.
func memberSpan(obj []byte, key string) (int, int, bool) {
	var d wire.Decoder
	d.Reset(obj, true)
	if !d.ObjectStart() {
		return 0, 0, false
	}
	for i := 0; ; i++ {
		k, ok := d.NextField(i)
		if !ok {
			return 0, 0, false
		}
		if string(k) == key {
			start := d.Mark()
			d.Skip()
			if d.Failed() {
				return 0, 0, false
			}
			return start, d.Pos(), true
		}
		d.Skip()
		d.Pop()
	}
}

// thinking times the thinking blocks of the message being streamed (reference section 4.6):
// thinking_start and thinking_end mark a content block, and message_end or turn_end get the
// durations added to their thinking blocks.
type thinking struct {
	started   map[int64]time.Time
	durations map[int64]int64
}

func (t *thinking) reset() { t.started, t.durations = nil, nil }

// observe records thinking_start and thinking_end sub-events.
func (t *thinking) observe(raw []byte, now time.Time) {
	sub := member(raw, "assistantMessageEvent")
	if sub == nil {
		return
	}
	var ev protocol.AssistantMessageEvent
	var d wire.Decoder
	d.Reset(sub, true)
	d.SetKeepExtra(false)
	ev.ReadJSON(&d)
	idx, ok := ev.ContentIndex.Get()
	if !ok {
		return
	}
	switch ev.Type {
	case "thinking_start":
		if t.started == nil {
			t.started = map[int64]time.Time{}
		}
		t.started[idx] = now
	case "thinking_end":
		if start, ok := t.started[idx]; ok {
			if t.durations == nil {
				t.durations = map[int64]int64{}
			}
			t.durations[idx] = int64(math.Ceil(now.Sub(start).Seconds()))
			delete(t.started, idx)
		}
	}
}

// stamp adds durationSeconds to the timed thinking blocks of a message_end or turn_end event
// that do not have one, and forgets the timings.
func (t *thinking) stamp(raw []byte) []byte {
	if len(t.durations) == 0 {
		return raw
	}
	defer t.reset()
	ms, me, ok := memberSpan(raw, "message")
	if !ok {
		return raw
	}
	cs, ce, ok := memberSpan(raw[ms:me], "content")
	if !ok {
		return raw
	}
	cs, ce = ms+cs, ms+ce
	content := raw[cs:ce]
	// Find the closing brace of each thinking block that needs a duration.
	var d wire.Decoder
	d.Reset(content, true)
	if !d.ArrayStart() {
		return raw
	}
	var at []int     // offsets in content of closing braces
	var secs []int64 // the durations to insert there
	for i := 0; d.NextElem(i); i++ {
		start := d.Mark()
		d.Skip()
		block := content[start:d.Pos()]
		d.Pop()
		if sec, ok := t.durations[int64(i)]; ok && string(member(block, "type")) == `"thinking"` && member(block, "durationSeconds") == nil {
			at = append(at, d.Pos()-1)
			secs = append(secs, sec)
		}
	}
	if d.Failed() || len(at) == 0 {
		return raw
	}
	out := make([]byte, 0, len(raw)+len(at)*24)
	out = append(out, raw[:cs]...)
	prev := 0
	for i, off := range at {
		out = append(out, content[prev:off]...)
		out = append(out, `,"durationSeconds":`...)
		out = strconv.AppendInt(out, secs[i], 10)
		prev = off
	}
	out = append(out, content[prev:]...)
	return append(out, raw[ce:]...)
}
