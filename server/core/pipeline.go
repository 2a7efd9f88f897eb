package core

import (
	"bytes"
	"context"
	"errors"
	"hash/fnv"
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
		raw = th.annotate(raw)
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
	c.reserveSeq(ctx, id, seq)
	m := bus.NewMessageOf(viewer.Namespace, viewer.EventEvent, seq, len(raw)+32, func(dst []byte) []byte {
		return appendViewerEvent(dst, raw, seq, false)
	})
	if _, err := c.bus.Publish(ctx, bus.SessionViewers+id, m); err != nil {
		c.log.Warn("publishing an event", "session", id, "seq", seq, "error", err)
	}
	if c.fanout != nil {
		c.fanout.ObserveFanout(time.Since(start))
	}
	c.maybeNotify(id, seq, ev.Type, raw)
	return nil
}

// viewerEventPayload encodes the /viewer "event" payload around a raw agent event.
func viewerEventPayload(raw []byte, seq int64, replay bool) []byte {
	return appendViewerEvent(make([]byte, 0, len(raw)+32), raw, seq, replay)
}

// appendViewerEvent appends the /viewer "event" payload around a raw agent event to dst.
func appendViewerEvent(dst, raw []byte, seq int64, replay bool) []byte {
	v := viewer.ViewerEvent{Event: protocol.AgentEvent{Raw: raw}}
	if seq > 0 {
		v.Seq = protocol.Some(seq)
	}
	if replay {
		v.Replay = protocol.Some(true)
	}
	return v.AppendJSON(dst)
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
//
// The CLI's later session_active snapshots do not know those durations, so the stamped ones are
// remembered by the block's text and added to snapshots too: a viewer that reloads still sees how
// long each thought took.
type thinking struct {
	started   map[int64]time.Time
	durations map[int64]int64
	known     map[uint64]int64 // hash of a stamped block's thinking text → seconds
}

// maxKnownThoughts bounds the remembered durations of one session.
const maxKnownThoughts = 4096

// reset forgets everything, for a new session on the socket.
func (t *thinking) reset() { *t = thinking{} }

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
// that do not have one, remembers them, and forgets the timers.
func (t *thinking) stamp(raw []byte) []byte {
	if len(t.durations) == 0 {
		return raw
	}
	durations := t.durations
	t.started, t.durations = nil, nil
	ms, me, ok := memberSpan(raw, "message")
	if !ok {
		return raw
	}
	ins := durationInserts(raw, ms, me, nil, func(i int, text []byte) (int64, bool) {
		sec, ok := durations[int64(i)]
		if ok {
			t.remember(text, sec)
		}
		return sec, ok
	})
	return applyInserts(raw, ins)
}

// annotate adds remembered durations to the thinking blocks of a session_active snapshot.
func (t *thinking) annotate(raw []byte) []byte {
	if len(t.known) == 0 {
		return raw
	}
	ss, se, ok := memberSpan(raw, "state")
	if !ok {
		return raw
	}
	ms, me, ok := memberSpan(raw[ss:se], "messages")
	if !ok {
		return raw
	}
	ms, me = ss+ms, ss+me
	var d wire.Decoder
	d.Reset(raw[ms:me], true)
	if !d.ArrayStart() {
		return raw
	}
	var ins []insert
	for i := 0; d.NextElem(i); i++ {
		start := ms + d.Mark()
		d.Skip()
		end := ms + d.Pos()
		d.Pop()
		ins = durationInserts(raw, start, end, ins, func(_ int, text []byte) (int64, bool) {
			sec, ok := t.known[thoughtKey(text)]
			return sec, ok
		})
	}
	if d.Failed() {
		return raw
	}
	return applyInserts(raw, ins)
}

func (t *thinking) remember(text []byte, sec int64) {
	if text == nil {
		return
	}
	if t.known == nil || len(t.known) >= maxKnownThoughts {
		t.known = map[uint64]int64{}
	}
	t.known[thoughtKey(text)] = sec
}

// thoughtKey identifies a thinking block by its raw text.
func thoughtKey(text []byte) uint64 {
	h := fnv.New64a()
	h.Write(text)
	return h.Sum64()
}

// insert is a durationSeconds member to add before the closing brace at offset at.
type insert struct {
	at  int
	sec int64
}

// durationInserts finds, in the message raw[ms:me], the thinking blocks of its content that have
// no durationSeconds and for which duration(index, raw thinking text) knows one.
func durationInserts(raw []byte, ms, me int, ins []insert, duration func(int, []byte) (int64, bool)) []insert {
	cs, ce, ok := memberSpan(raw[ms:me], "content")
	if !ok {
		return ins
	}
	cs, ce = ms+cs, ms+ce
	content := raw[cs:ce]
	var d wire.Decoder
	d.Reset(content, true)
	if !d.ArrayStart() {
		return ins
	}
	n := len(ins)
	for i := 0; d.NextElem(i); i++ {
		start := d.Mark()
		d.Skip()
		block := content[start:d.Pos()]
		d.Pop()
		if string(member(block, "type")) != `"thinking"` || member(block, "durationSeconds") != nil {
			continue
		}
		if sec, ok := duration(i, member(block, "thinking")); ok {
			ins = append(ins, insert{at: cs + d.Pos() - 1, sec: sec})
		}
	}
	if d.Failed() {
		return ins[:n]
	}
	return ins
}

// applyInserts returns raw with the durationSeconds members added, or raw itself if there are none.
func applyInserts(raw []byte, ins []insert) []byte {
	if len(ins) == 0 {
		return raw
	}
	out := make([]byte, 0, len(raw)+len(ins)*24)
	prev := 0
	for _, in := range ins {
		out = append(out, raw[prev:in.at]...)
		out = append(out, `,"durationSeconds":`...)
		out = strconv.AppendInt(out, in.sec, 10)
		prev = in.at
	}
	return append(out, raw[prev:]...)
}
