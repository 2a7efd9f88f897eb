package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	vproto "github.com/pizzapi/pizzapi/protocol/viewer"
)

// Event names and payload keys the benchmark uses.
var (
	evRegistered   = []byte("registered")
	evEventAck     = []byte("event_ack")
	evError        = []byte("error")
	evEvent        = []byte("event")
	evConnected    = []byte("connected")
	evDisconnected = []byte("disconnected")

	keySeq     = []byte(`"seq":`)
	keyTS      = []byte(`"ts":`)
	keyLastSeq = []byte(`"lastSeq":`)
	keyToken   = []byte(`"token":`)
	// benchPrefix starts every benchmark event; relays pass inner events through unchanged
	// (or, like Node, re-serialize them with their keys in the same order).
	benchPrefix = []byte(`{"type":"bench","m":`)
	benchTS     = []byte(`,"ts":`)
)

// minPayload is the size of the benchmark's inner event with an empty pad and a long timestamp.
const minPayload = len(`{"type":"bench","m":1,"ts":1000000000000000,"pad":""}`)

// session is one published session: its /relay connection and the viewers watching it.
type session struct {
	r     *run
	index int
	id    string

	conn  *Conn
	token string
	// child is the publisher process (Config.PublisherCommand), which has the connection instead.
	child *publisherChild

	acked     atomic.Int64 // highest cumulative event_ack
	errors    atomic.Int64 // error events received
	lastError atomic.Pointer[string]

	// Written by the publishing goroutine, read after it has returned.
	planned, sent, sentMeasured int64
	sendErr                     error
	// maxBlock is the longest one event's write waited for room in the socket's send buffer:
	// how long the relay held the publisher back. maxEmit is the longest an Emit took, which
	// also counts the time the publishing goroutine waited for a processor, and maxLate the
	// longest an event went out after its scheduled time.
	maxBlock, maxEmit, maxLate time.Duration

	mu      sync.Mutex
	viewers []*viewer
}

// onEvent handles the /relay events of an established publisher connection.
func (s *session) onEvent(name, payload []byte) {
	switch {
	case bytes.Equal(name, evEventAck):
		if seq, ok := intField(payload, keySeq); ok {
			for {
				cur := s.acked.Load()
				if seq <= cur || s.acked.CompareAndSwap(cur, seq) {
					break
				}
			}
		}
	case bytes.Equal(name, evError):
		s.errors.Add(1)
		msg := string(payload)
		s.lastError.Store(&msg)
	}
}

// registered reports whether the session was registered, here or by its publisher process.
func (s *session) registered() bool { return s.conn != nil || s.child != nil }

// connect opens the session's /relay connection and registers the session, or has its publisher
// process do it (Config.PublisherCommand).
func (s *session) connect(ctx context.Context) error {
	if len(s.r.cfg.PublisherCommand) > 0 {
		return s.connectChild(ctx)
	}
	reg := make(chan string, 1)
	c, err := Dial(ctx, DialOptions{
		URL:              s.r.cfg.URL,
		Namespace:        "/relay",
		Auth:             s.r.relayAuth,
		HandshakeTimeout: s.r.cfg.AttemptTimeout,
		WriteBufferSize:  4096,
		MeasureRoomWait:  true,
		OnEvent: func(name, payload []byte) {
			if bytes.Equal(name, evRegistered) {
				tok, _ := stringField(payload, keyToken)
				select {
				case reg <- tok:
				default:
				}
				return
			}
			s.onEvent(name, payload)
		},
	})
	if err != nil {
		return err
	}
	body := fmt.Appendf(nil, `{"sessionId":%q,"cwd":"/tmp/pizzapi-bench","ephemeral":true,"collabMode":false}`, s.id)
	if err := c.Emit("register", body); err != nil {
		c.Close()
		return err
	}
	t := time.NewTimer(s.r.cfg.AttemptTimeout)
	defer t.Stop()
	select {
	case tok := <-reg:
		if tok == "" {
			c.Close()
			return errors.New("registered without a token")
		}
		s.conn, s.token = c, tok
		return nil
	case <-c.Done():
		return fmt.Errorf("waiting for registered: %w", c.Err())
	case <-t.C:
		c.Close()
		return errors.New("no registered event in time")
	case <-ctx.Done():
		c.Close()
		return ctx.Err()
	}
}

// appendEvent appends the /relay event payload for CLI sequence number seq: the inner event is
// {"type":"bench","m":0|1,"ts":<ns since the run's epoch>,"pad":"xx..."}, padded to size bytes.
func (s *session) appendEvent(dst []byte, seq int64, measured bool, ts int64, size int) []byte {
	dst = append(dst, `{"sessionId":"`...)
	dst = append(dst, s.id...)
	dst = append(dst, `","token":"`...)
	dst = append(dst, s.token...)
	dst = append(dst, `","seq":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, `,"event":`...)
	start := len(dst)
	dst = append(dst, `{"type":"bench","m":`...)
	if measured {
		dst = append(dst, '1')
	} else {
		dst = append(dst, '0')
	}
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, `,"pad":"`...)
	for pad := size - (len(dst) - start) - 2; pad > 0; pad-- {
		dst = append(dst, 'x')
	}
	return append(dst, `"}}`...)
}

// publish emits the session's events on schedule: event k at start + offset + k/rate, marked as
// measured from start+warmup on, until start+warmup+duration. It returns when all were sent,
// the connection failed, ctx ended or it is still behind its schedule a drain time after the
// end (a relay that does not read fast enough slows the publisher down through TCP).
func (s *session) publish(ctx context.Context, start time.Time, offset time.Duration) {
	if s.child != nil {
		s.publishChild(ctx, start, offset)
		return
	}
	cfg := s.r.cfg
	period := time.Duration(float64(time.Second) / cfg.Rate)
	end := cfg.Warmup + cfg.Duration
	at := func(k int64) time.Duration { return offset + time.Duration(k)*period }
	for at(s.planned) < end {
		s.planned++
	}
	var buf []byte
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for k := int64(0); k < s.planned; {
		now := time.Since(start)
		if now > end+cfg.Drain {
			// The relay holds the publisher back (TCP back-pressure): give up on the rest.
			s.sendErr = fmt.Errorf("publisher fell %v behind its schedule", now-at(k))
			return
		}
		for k < s.planned && at(k) <= now {
			measured := at(k) >= cfg.Warmup
			ts := int64(time.Since(s.r.epoch))
			buf = s.appendEvent(buf[:0], k+1, measured, ts, cfg.Payload)
			waited, _ := s.conn.RoomWait()
			before := time.Now()
			s.maxLate = max(s.maxLate, before.Sub(start)-at(k))
			if err := s.conn.Emit("event", buf); err != nil {
				s.sendErr = err
				return
			}
			took := time.Since(before)
			s.maxEmit = max(s.maxEmit, took)
			if w, ok := s.conn.RoomWait(); ok {
				took = w - waited
			}
			s.maxBlock = max(s.maxBlock, took)
			s.sent++
			if measured {
				s.sentMeasured++
			}
			k++
		}
		if k >= s.planned {
			break
		}
		timer.Reset(at(k) - time.Since(start))
		select {
		case <-timer.C:
		case <-ctx.Done():
			s.sendErr = ctx.Err()
			return
		case <-s.conn.Done():
			s.sendErr = s.conn.Err()
			return
		}
	}
	s.r.noteSendEnd(time.Since(s.r.epoch))
}

// viewer is one /viewer connection watching a session.
type viewer struct {
	r       *run
	conn    *Conn
	session int // index of the session watched

	ready     chan int64 // the connected event's lastSeq, once
	connected bool

	// Updated only on the connection's reader goroutine; read after Close.
	lastSeq    int64
	duplicates int64
	outOfOrder int64
	gaps       int64
	malformed  int64
	errors     int64
	endedEarly bool
}

// onEvent handles a /viewer event: benchmark events are checked against the relay's sequence
// numbers and their latency recorded; everything else is ignored.
func (v *viewer) onEvent(name, payload []byte) {
	if !bytes.Equal(name, evEvent) {
		switch {
		case bytes.Equal(name, evConnected):
			if !v.connected {
				v.connected = true
				last, _ := intField(payload, keyLastSeq)
				v.lastSeq = last
				v.ready <- last
			}
		case bytes.Equal(name, evError), bytes.Equal(name, evDisconnected):
			v.errors++
		}
		return
	}
	i := bytes.Index(payload, benchPrefix)
	if i < 0 {
		return
	}
	now := int64(time.Since(v.r.epoch))
	inner := payload[i+len(benchPrefix):]
	m, ok1 := intField(inner, nil)
	ts, ok2 := intField(inner[min(len(inner), 1):], benchTS)
	// The relay's seq follows the inner event in both relays; search from the end.
	seq, ok3 := lastIntField(payload, keySeq)
	if !ok1 || !ok2 || !ok3 {
		v.malformed++
		return
	}
	if seq <= v.lastSeq {
		if seq == v.lastSeq {
			v.duplicates++
		} else {
			v.outOfOrder++
		}
		return
	}
	if seq > v.lastSeq+1 {
		v.gaps += seq - v.lastSeq - 1
	}
	v.lastSeq = seq
	if m == 1 {
		v.r.hist.Record(time.Duration(now - ts))
		v.r.slow.note(time.Duration(now), time.Duration(now-ts), v.session)
		v.r.received.Add(1)
	} else {
		v.r.warmupReceived.Add(1)
	}
	v.r.noteRecv(now)
}

// connect opens a /viewer connection to the session and waits for its connected event.
func (v *viewer) connect(ctx context.Context, s *session) error {
	v.ready = make(chan int64, 1)
	auth, _ := vproto.Auth{APIKey: protocol.Some(v.r.cfg.APIKey), SessionID: protocol.Some(s.id)}.MarshalJSON()
	c, err := Dial(ctx, DialOptions{
		URL:              v.r.cfg.ViewerURL,
		Namespace:        "/viewer",
		Auth:             auth,
		HandshakeTimeout: v.r.cfg.AttemptTimeout,
		WriteBufferSize:  512,
		OnEvent:          v.onEvent,
		Polling:          v.r.cfg.ViewerPolling,
	})
	if err != nil {
		return err
	}
	t := time.NewTimer(v.r.cfg.AttemptTimeout)
	defer t.Stop()
	select {
	case <-v.ready:
		v.conn = c
		return nil
	case <-c.Done():
		return fmt.Errorf("waiting for connected: %w", c.Err())
	case <-t.C:
		c.Close()
		return errors.New("no connected event in time")
	case <-ctx.Done():
		c.Close()
		return ctx.Err()
	}
}
